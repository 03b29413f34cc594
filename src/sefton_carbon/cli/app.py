"""The ``sefton-carbon`` command line: each command parses options, calls one library function and
prints the result. Data goes to stdout, messages to stderr.

Exit codes: 0 success; 2 usage error; 3 data problems found (rows rejected or a file unreadable).
Heavy modules (pandas, pint) are imported inside commands so that ``--help`` stays fast.
"""

from __future__ import annotations

import atexit
import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from sefton_carbon.cli.options import (
    FactorsDirOption,
    FormatOption,
    OutputFormat,
    ScopesFileOption,
    SitesOption,
    YearOption,
    with_pricing_inputs,
)
from sefton_carbon.cli.serve import serve
from sefton_carbon.errors import SeftonCarbonError, UsageError

EXIT_OK, EXIT_USAGE, EXIT_DATA = 0, 2, 3
MAX_REJECTED_ON_SCREEN = 50

#: Help is plain text (rich_markup_mode=None): rendering it with rich costs more than the 0.3 s
#: that --help may take.
PLAIN_HELP = dict(no_args_is_help=True, rich_markup_mode=None)
app = typer.Typer(**PLAIN_HELP, add_completion=False, pretty_exceptions_enable=False,
                  help="Greenhouse-gas accounting for a UK council's own operations, on the UK "
                       "Government (DESNZ) conversion factors.")
factors_app = typer.Typer(**PLAIN_HELP, help="Import, list and show emission factors.")
app.add_typer(factors_app, name="factors")
scope_app = typer.Typer(**PLAIN_HELP, help="Boundary options: list, explain and compare them.")
app.add_typer(scope_app, name="scope")
scenario_app = typer.Typer(**PLAIN_HELP, help="Avoid, reduce, offset: scenarios and their costs.")
app.add_typer(scenario_app, name="scenario")


def _show_version(asked: bool) -> None:
    if asked:
        from sefton_carbon import __version__

        typer.echo(f"sefton-carbon {__version__}")
        raise typer.Exit(EXIT_OK)


@app.callback()
def _options(version: Annotated[bool, typer.Option(
        "--version", callback=_show_version, is_eager=True, help="Print the version and exit.")] = False) -> None:
    """Greenhouse-gas accounting for a UK council's own operations, on the UK Government (DESNZ)
    conversion factors."""


def _print(output_format: OutputFormat, text, frame, document) -> None:
    """Print a result as ``--format`` asks: ``text()``, the table ``frame()`` as CSV, or ``document()``."""
    from sefton_carbon.outputs.text import frame_csv

    if output_format is OutputFormat.json:
        typer.echo(document())
    elif output_format is OutputFormat.csv:
        typer.echo(frame_csv(frame()), nl=False)
    else:
        typer.echo(text())


def _print_frame(frame, output_format: OutputFormat) -> None:
    from sefton_carbon.outputs.text import frame_json, frame_text

    _print(output_format, lambda: frame_text(frame), lambda: frame, lambda: frame_json(frame))


def _say(message: str) -> None:
    typer.echo(message, err=True)


def _refuse_writing_over(inputs: list, files: dict, folders: dict | None = None, pricing=None) -> None:
    """Before anything is read, `io.files.refuse_writing_over_inputs` for a command's outputs:
    ``inputs`` (None left out) with the factors folder and register files of ``pricing``."""
    from sefton_carbon.io.files import refuse_writing_over_inputs

    read = [*inputs, *([pricing.factors_dir, pricing.scopes_file, pricing.sites, pricing.contracts,
                        pricing.spend_factors] if pricing is not None else [])]
    refuse_writing_over_inputs([path for path in read if path is not None], files, folders)


def _place(source_file, sheet, row, column) -> str:
    """Where a rejected row or a refused file or sheet is: file, sheet, row and column, those given."""
    return ", ".join(str(part) for part in (
        source_file, f"sheet '{sheet}'" if sheet else "",
        f"row {row}" if row is not None and str(row) != "<NA>" else "",
        f"column '{column}'" if column else "") if part)


def _report_rejected(rejected, rejected_file: Optional[Path], count: Optional[int] = None) -> None:
    """Tell the user about rejected rows on stderr, listing them unless they went to a file:
    ``rejected`` holds them, or the first of them when ``count`` says how many there are."""
    count = len(rejected) if count is None else count
    if not count:
        return
    _say(f"{count:,} input row(s) or file(s) rejected")
    if rejected_file is not None:
        _say(f"every rejected row is listed in {rejected_file}")
        return
    for record in rejected.head(MAX_REJECTED_ON_SCREEN).itertuples(index=False):
        _say(f"  {_place(record.source_file, record.source_sheet, record.source_row, record.column)}: {record.reason}")
    if count > MAX_REJECTED_ON_SCREEN:
        _say(f"  ... and {count - MAX_REJECTED_ON_SCREEN:,} more: use --rejected FILE to "
             "list them all")


@app.command()
@with_pricing_inputs
def inventory(
    paths: Annotated[list[Path], typer.Argument(help="Activity files (.csv, .xlsx, .xls, .ods, .parquet) or folders.")],
    year: YearOption,
    output_format: FormatOption = OutputFormat.table,
    ledger: Annotated[Optional[Path], typer.Option(
        help="Write the audited ledger here: CSV, or Parquet for a .parquet name.",
    )] = None,
    rejected: Annotated[Optional[Path], typer.Option(help="Write the rejected rows (CSV) here.")] = None,
    output: Annotated[Optional[Path], typer.Option(
        "--output", "-o", help="Write ledger, rejected rows, summary and a manifest (for verify) here.")] = None,
    engine: Annotated[str, typer.Option(
        help="auto (duckdb for Parquet or inputs over 200 MB, else pandas), pandas (in memory), duckdb (any "
             "size on one machine) or dask (a cluster); all give the same figures and rows.")] = "auto",
    scheduler: Annotated[Optional[str], typer.Option(help="Dask scheduler address, e.g. tcp://host:8786.")] = None,
    *, pricing,
) -> None:
    """Compute the inventory of one reporting year from activity files."""
    from sefton_carbon.engines.large import LargeInventory
    from sefton_carbon.outputs.runs import run_inventory

    _refuse_writing_over(paths, {"--ledger": ledger, "--rejected": rejected}, {"--output": output}, pricing)
    result = run_inventory(paths, year, engine=engine, scheduler=scheduler, ledger=ledger, rejected=rejected,
                           output=output, list_rejected=0 if rejected else MAX_REJECTED_ON_SCREEN,
                           **pricing.arguments())
    if output is not None:
        _say(f"outputs and manifest written to {output}")
    large = isinstance(result, LargeInventory)  # figures only: the engine wrote the ledger and rejected rows as it ran
    summary = result.summary if large else result.summary()
    if ledger is not None:
        _say(f"ledger: {summary['ledger_lines']:,} lines written to {ledger}")
    _print_summary(output_format, summary)
    count = result.rejected_count if large else len(result.rejected)
    _report_rejected(result.rejected, rejected, count)
    raise typer.Exit(EXIT_DATA if count else EXIT_OK)


def _print_summary(output_format: OutputFormat, summary: dict) -> None:
    """An inventory's summary (`Inventory.summary`, or a large-input engine's), as ``--format`` asks."""
    from sefton_carbon.outputs.text import document_json, format_table, summary_rows

    _print(output_format, lambda: format_table(summary), lambda: summary_rows(summary), lambda: document_json(summary))


@app.command()
@with_pricing_inputs
def trajectory(
    paths: Annotated[Optional[list[Path]], typer.Argument(
        help="Returns of several years: one folder per year, or files covering several years.")] = None,
    totals: Annotated[Optional[Path], typer.Option(
        help="Instead of returns, a CSV of annual totals: year,tco2e (optionally removals_tco2e, "
             "offsets_tco2e).")] = None,
    baseline: Annotated[str, typer.Option(help="Baseline year, e.g. 2019/20.")] = "2019/20",
    target: Annotated[str, typer.Option(help="Target year for net zero.")] = "2030/31",
    pathway: Annotated[str, typer.Option(help="linear, percent:R (e.g. percent:13) or sbti.")] = "linear",
    residual: Annotated[float, typer.Option(
        help="Residual emissions allowed in the target year [t CO2e].")] = 0.0,
    output_format: FormatOption = OutputFormat.table,
    chart: Annotated[Optional[Path], typer.Option(help="Write a chart here (.svg or .png).")] = None,
    *, pricing,
) -> None:
    """Compare each year's emissions with a pathway to net zero, and say what it would take."""
    from sefton_carbon.outputs.text import format_trajectory, trajectory_json
    from sefton_carbon.planning.trajectory import compute_trajectory, read_totals, trajectory_from_returns

    if (totals is None) == (not paths):
        raise UsageError("give either returns (PATH...) or --totals FILE")
    _refuse_writing_over([*(paths or []), totals], {"--chart": chart}, pricing=pricing)
    rejected = None
    if totals is not None:
        result = compute_trajectory(read_totals(totals), baseline, target, pathway, residual)
    else:
        result, rejected = trajectory_from_returns(paths, baseline, target, pathway, residual, **pricing.arguments())
    if chart is not None:
        from sefton_carbon.outputs.charts import trajectory_chart

        _say(f"chart written to {trajectory_chart(result, chart)}")
    _print(output_format, lambda: format_trajectory(result), lambda: result.years, lambda: trajectory_json(result))
    if rejected is not None:
        _report_rejected(rejected, None)
    raise typer.Exit(EXIT_DATA if rejected is not None and len(rejected) else EXIT_OK)


@app.command()
def template(
    department: Annotated[str, typer.Option(help="The department the return is for.")],
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Workbook to write (.xlsx).")] = None,
    year: Annotated[Optional[str], typer.Option(help="Reporting year, e.g. 2023/24.")] = None,
    sites: SitesOption = None,
    output_format: Annotated[str, typer.Option("--format", help="xlsx, or csv for a plain template.")] = "xlsx",
) -> None:
    """Write a return template a department can fill in without help."""
    from sefton_carbon.accounting.sites import read_sites
    from sefton_carbon.returns.template import template_csv, template_file_name, write_template

    if output_format == "csv":
        typer.echo(template_csv(department), nl=False)
        return
    if output_format != "xlsx":
        raise UsageError("--format is xlsx or csv")
    output = output or template_file_name(department)
    _refuse_writing_over([sites], {"--output": output})
    write_template(department, output, year, read_sites(sites) if sites else None)
    _say(f"template for {department} written to {output}")


@app.command()
@with_pricing_inputs
def validate(
    paths: Annotated[list[Path], typer.Argument(help="Returns (.csv, .xlsx, .xls) or folders.")],
    year: Annotated[Optional[str], typer.Option(
        help="Reporting year: rows outside it are errors (default: each row's own year).")] = None,
    previous: Annotated[Optional[list[Path]], typer.Option(
        help="Last year's returns, to flag a site using over 5 times or under a fifth as much.")] = None,
    strict: Annotated[bool, typer.Option(help="A site missing from the register is an error.")] = False,
    output_format: FormatOption = OutputFormat.table,
    *, pricing,
) -> None:
    """Check returns and report every problem: errors block a row, warnings do not."""
    from sefton_carbon.outputs.text import format_problems, validation_json
    from sefton_carbon.returns.collection import validate_returns

    result = validate_returns(paths, year, previous=previous, strict=strict, **pricing.arguments())
    _print(output_format, lambda: format_problems(result), lambda: result.problems, lambda: validation_json(result))
    raise typer.Exit(EXIT_DATA if len(result.errors) else EXIT_OK)


@app.command()
@with_pricing_inputs
def collect(
    folder: Annotated[Path, typer.Argument(help="Folder of returns for the year.")],
    year: YearOption,
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder for the outputs.")],
    previous: Annotated[Optional[list[Path]], typer.Option(
        help="Last year's returns, for the five-times check.")] = None,
    strict: Annotated[bool, typer.Option(help="Rows at sites missing from the register are rejected.")] = False,
    output_format: FormatOption = OutputFormat.table,
    *, pricing,
) -> None:
    """Validate a folder of returns and compute the year: ledger, rejected rows, coverage, scoping."""
    from sefton_carbon.outputs.files import write_collection
    from sefton_carbon.outputs.manifest import publish_inventory
    from sefton_carbon.outputs.text import collection_json, fit_lines, format_collection, summary_rows
    from sefton_carbon.returns.collection import collect as collect_year

    _refuse_writing_over([folder, *(previous or [])], {}, {"--output": output}, pricing)
    result = collect_year(folder, year, previous=previous, strict=strict, **pricing.arguments())
    written = publish_inventory(result.inventory, output, "collect", [folder],
                                dict(reporting_year=year, strict=strict, **pricing.arguments()),
                                write=lambda held: write_collection(result, held))
    _print(output_format, lambda: format_collection(result), lambda: summary_rows(result.inventory.summary()),
           lambda: collection_json(result))
    _say(fit_lines([f"outputs written to {output}: {', '.join(path.name for path in written.values())}"]))
    _report_rejected(result.inventory.rejected, written["rejected"])
    raise typer.Exit(EXIT_DATA if len(result.inventory.rejected) else EXIT_OK)


ScenarioFrom = Annotated[list[Path], typer.Option("--from", help="Returns of the latest actual year.")]


@scenario_app.command("run")
@with_pricing_inputs
def scenario_run(
    file: Annotated[Path, typer.Argument(help="Scenarios file (YAML).")],
    paths: ScenarioFrom,
    year: YearOption,
    output_format: FormatOption = OutputFormat.table,
    macc: Annotated[Optional[Path], typer.Option(
        help="Write the marginal abatement cost curves here (.svg/.png), one panel per scenario.")] = None,
    waterfall: Annotated[Optional[Path], typer.Option(
        help="Write the waterfalls from business as usual to the target year here (.svg/.png), one panel per "
             "scenario.")] = None,
    *, pricing,
) -> None:
    """Project every scenario of a file from the latest year: emissions, savings, costs."""
    from sefton_carbon.outputs.text import format_scenarios, scenarios_json
    from sefton_carbon.planning.scenarios import scenarios_from_returns

    _refuse_writing_over([file, *paths], {"--macc": macc, "--waterfall": waterfall}, pricing=pricing)
    run = scenarios_from_returns(file, paths, year, **pricing.arguments())
    if macc is not None or waterfall is not None:
        from sefton_carbon.outputs.charts import scenario_charts

        for written in scenario_charts(run.results, macc, waterfall):
            _say(f"chart written to {written} (one panel per scenario)")
    _print(output_format, lambda: format_scenarios(run.results, compare=False), run.measures,
           lambda: scenarios_json(run.results))
    _report_rejected(run.inventory.rejected, None)
    raise typer.Exit(EXIT_DATA if len(run.inventory.rejected) else EXIT_OK)


@scenario_app.command("compare")
@with_pricing_inputs
def scenario_compare(
    file: Annotated[Path, typer.Argument(help="Scenarios file (YAML).")],
    paths: ScenarioFrom,
    year: YearOption,
    output_format: FormatOption = OutputFormat.table,
    *, pricing,
) -> None:
    """The scenarios side by side: target-year emissions, offsets needed, capex and NPV."""
    from sefton_carbon.outputs.text import format_scenarios, scenarios_json
    from sefton_carbon.planning.scenarios import scenarios_from_returns

    run = scenarios_from_returns(file, paths, year, **pricing.arguments())
    _print(output_format, lambda: format_scenarios(run.results, compare=True), run.scenarios,
           lambda: scenarios_json(run.results))
    _report_rejected(run.inventory.rejected, None)
    raise typer.Exit(EXIT_DATA if len(run.inventory.rejected) else EXIT_OK)


@app.command()
def area(
    la: Annotated[str, typer.Option("--la", help="Local authority name (or part of it) or code.")],
    data: Annotated[Optional[Path], typer.Option(
        help="Local authority emissions: the DESNZ long CSV or mySociety's wide CSV (default: bundled "
             "Sefton and comparators).")] = None,
    output_format: FormatOption = OutputFormat.table,
    chart: Annotated[Optional[Path], typer.Option(help="Write a chart here (.svg or .png).")] = None,
    council_tco2e: Annotated[Optional[float], typer.Option(
        help="The council's own footprint [t CO2e], to show its share of the borough's.")] = None,
    council_year: Annotated[Optional[str], typer.Option(help="The year of that footprint.")] = None,
    annual_cut_pct: Annotated[Optional[float], typer.Option(help="Area pathway: a constant annual cut [%].")] = None,
    budget_kt: Annotated[Optional[float], typer.Option(
        help="Area pathway: a cumulative carbon budget [kt] from the baseline to the target year.")] = None,
    baseline: Annotated[Optional[int], typer.Option(help="Baseline calendar year of the area pathway.")] = None,
    target: Annotated[int, typer.Option(help="Target calendar year of the area pathway.")] = 2050,
    break_ratio: Annotated[float, typer.Option(help="Flag sub-sectors changing by more than this factor.")] = 2.0,
) -> None:
    """Borough-wide emissions from the national statistics, by sector, with comparators."""
    from sefton_carbon.outputs.text import area_json, format_area
    from sefton_carbon.planning.area import area_profile

    _refuse_writing_over([data], {"--chart": chart})
    profile = area_profile(la, data, council_tco2e=council_tco2e, council_year=council_year,
                           annual_cut_pct=annual_cut_pct, budget_kt=budget_kt, baseline=baseline, target=target,
                           break_ratio=break_ratio)
    if chart is not None:
        from sefton_carbon.outputs.charts import area_chart

        _say(f"chart written to {area_chart(profile, chart)}")
    _print(output_format, lambda: format_area(profile), lambda: profile.years.reset_index(),
           lambda: area_json(profile))


@app.command()
@with_pricing_inputs
def report(
    paths: Annotated[list[Path], typer.Argument(help="Returns from the baseline to the year (folders or files).")],
    year: YearOption,
    output: Annotated[Path, typer.Option("--output", "-o", help="The HTML report to write.")],
    baseline: Annotated[Optional[str], typer.Option(help="Baseline year (default: the earliest year given).")] = None,
    workbook: Annotated[Optional[Path], typer.Option(
        help="Also write the workbook here (default: the report's name with .xlsx).")] = None,
    scenarios: Annotated[Optional[Path], typer.Option(help="Scenarios file to include.")] = None,
    pathway: Annotated[str, typer.Option(help="linear, percent:R or sbti.")] = "linear",
    *, pricing,
) -> None:
    """Write the committee report (one offline HTML file) and the auditors' workbook."""
    from sefton_carbon.outputs.html_report import build_report, write_html
    from sefton_carbon.outputs.workbook import write_workbook

    workbook = workbook or output.with_suffix(".xlsx")
    _refuse_writing_over([*paths, scenarios], {"--output": output, "--workbook": workbook}, pricing=pricing)
    data = build_report(paths, year, baseline, scenarios=scenarios, pathway=pathway, **pricing.arguments())
    html = write_html(data, output)
    book = write_workbook(data, workbook, data.street_lighting_sites)
    typer.echo(f"report: {html}\nworkbook: {book}")
    _report_rejected(data.rejected(), None)
    raise typer.Exit(EXIT_DATA if len(data.rejected()) else EXIT_OK)


@app.command()
def verify(folder: Annotated[Path, typer.Argument(
        help="An output folder with a manifest.json, or a folder of them (the demo's out/, one per year).")]) -> None:
    """Recompute a published inventory from its recorded inputs and say, figure by figure and file by
    file, whether it still matches."""
    from sefton_carbon.outputs.manifest import verify_all

    results = verify_all(folder)
    for result in results:
        for changed in result.changed_inputs:
            _say(f"{result.folder}: input changed since publication: {changed}")
        for difference in result.differences:
            _say(f"{result.folder}: differs: {difference}")
        if result.ok:
            typer.echo(f"verified: {result.checked} figures and files in {result.folder} match their recorded inputs")
        else:
            typer.echo(f"NOT verified: {result.folder}: {len(result.differences)} of {result.checked} figures and "
                       f"files differ, {len(result.changed_inputs)} input(s) changed")
    raise typer.Exit(EXIT_OK if all(result.ok for result in results) else EXIT_DATA)


@app.command()
def meters(
    data: Annotated[list[Path], typer.Argument(help="Half-hourly readings: CSV or Parquet files or folders.")],
    register: Annotated[Path, typer.Option(help="Meters register (CSV): meter_id, site, department, activity.")],
    year: YearOption,
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder for activity.csv and the checks.")],
) -> None:
    """Aggregate half-hourly meter data to the year: monthly activity rows, gaps, duplicates, bad days."""
    from sefton_carbon.planning.meters import aggregate, read_meters_register, write_half_hourly

    _refuse_writing_over([*data, register], {}, {"--output": output})
    result = aggregate(data, read_meters_register(register), year)
    written = write_half_hourly(result, output)
    typer.echo(f"{result.readings_read:,} readings read = {result.readings:,} in {year} + "
               f"{result.readings_outside_year:,} outside it + {len(result.rejected):,} rejected\n"
               f"{len(result.activity):,} monthly rows for "
               f"{result.activity['meter'].nunique() if len(result.activity) else 0:,} meters written to "
               f"{written['activity']}\n{len(result.gaps):,} meter-months with missing half hours, "
               f"{len(result.duplicates):,} duplicated half hours, {len(result.implausible_days):,} implausible days")
    if result.meters_without_register:
        _say(f"meters not in the register (not counted): {', '.join(result.meters_without_register[:20])}")
    if len(result.rejected):
        first = result.rejected.iloc[0]
        _say(f"{len(result.rejected):,} readings rejected, listed in {written['rejected']}; the first: "
             f"{first['source_file']} row {first['source_row']}, column {first['column']}: {first['reason']}")
    problems = (len(result.gaps) + len(result.duplicates) + len(result.implausible_days)
                + len(result.meters_without_register) + len(result.rejected))
    raise typer.Exit(EXIT_DATA if problems else EXIT_OK)


@scope_app.command("list")
def scope_list(scopes_file: ScopesFileOption = None) -> None:
    """List the boundary options, the default first marked."""
    from sefton_carbon.accounting.boundary import load_boundary_options
    from sefton_carbon.outputs.text import format_boundary_options

    options = load_boundary_options(scopes_file)
    typer.echo(format_boundary_options(options))
    _say(f"* default; options from {options.source}")


@scope_app.command("explain")
def scope_explain(option: Annotated[str, typer.Argument(help="Option name.")],
                  scopes_file: ScopesFileOption = None) -> None:
    """Say in plain words what an option includes and what it leaves out."""
    from sefton_carbon.accounting.boundary import load_boundary_options
    from sefton_carbon.outputs.text import fit_lines

    typer.echo(fit_lines(load_boundary_options(scopes_file).get(option).statement()))


@scope_app.command("compare")
@with_pricing_inputs
def scope_compare(
    paths: Annotated[list[Path], typer.Argument(help="Activity files or folders of one year.")],
    year: YearOption,
    output_format: FormatOption = OutputFormat.table,
    baseline: Annotated[Optional[str], typer.Option(
        help="Baseline year, priced under each option too, e.g. 2019/20 (needs --baseline-from).")] = None,
    baseline_from: Annotated[Optional[list[Path]], typer.Option(
        help="Activity files or folders of the baseline year.")] = None,
    *, pricing,
) -> None:
    """Price every boundary option on the same returns, side by side (--scope-option: the option
    each baseline is measured against)."""
    from sefton_carbon.engines.pipeline import compare_inventories
    from sefton_carbon.outputs.text import comparison_json, format_comparison

    if (baseline is None) != (not baseline_from):
        raise UsageError("--baseline and --baseline-from go together")
    table, rejected = compare_inventories(paths, year, baseline_year=baseline, baseline_paths=baseline_from,
                                          **pricing.arguments())
    _print(output_format, lambda: format_comparison(table), lambda: table, lambda: comparison_json(table))
    _report_rejected(rejected, None)
    raise typer.Exit(EXIT_DATA if len(rejected) else EXIT_OK)


@factors_app.command("import")
def factors_import(
    file: Annotated[Path, typer.Argument(help="DESNZ flat file: .xlsx, .xls, or its CSV export.")],
    output: Annotated[Optional[Path], typer.Option(
        "--output", "-o", help="Folder to write the table into (default: the bundled tables).")] = None,
) -> None:
    """Import a DESNZ conversion factors flat file into a normalised table."""
    from sefton_carbon.accounting.factors import import_flat_file, resources

    table = import_flat_file(file, output)
    metadata = table.metadata
    skipped = ", ".join(f"{count} {reason.replace('_', ' ')}"
                        for reason, count in metadata["skipped"].items() if count)
    _say(f"{file.name}: {table.label}, {metadata['factors']:,} factors from "
         f"{metadata['rows_read']:,} rows (skipped: {skipped or 'none'})")
    typer.echo(str(Path(output or resources.factors_dir()) / str(table.year)))


@factors_app.command("list")
def factors_list(
    year: Annotated[Optional[int], typer.Option(help="Publication year.")] = None,
    search: Annotated[Optional[str], typer.Option(
        help="Show factor rows whose labels contain these words instead of the catalogue.")] = None,
    output_format: FormatOption = OutputFormat.table,
    factors_dir: FactorsDirOption = None,
) -> None:
    """List the activity catalogue, or search the factor rows of the tables."""
    from sefton_carbon.accounting.catalogue import load_catalogue, search_hint
    from sefton_carbon.accounting.factors import load_factors

    library = load_factors(factors_dir)
    if search is not None:
        frame = library.search(search, year)[
            ["factor_year", "desnz_id", "scope", "level_1", "level_2", "level_3", "level_4",
             "column_text", "uom", "kgco2e"]]
        if frame.empty:
            _say(f"no factor row contains every word of '{search}'"
                 + (f" in {year}" if year else "") + f": {search_hint(search, load_catalogue())}")
    else:
        frame = load_catalogue().table()
        _say(f"factor years available: {', '.join(map(str, library.years))}")
    _print_frame(frame, output_format)


@factors_app.command("show")
def factors_show(
    name: Annotated[str, typer.Argument(help="Catalogue activity (e.g. natural_gas) or desnz:<ID>.")],
    year: Annotated[int, typer.Option(help="Publication year.")],
    output_format: FormatOption = OutputFormat.table,
    factors_dir: FactorsDirOption = None,
) -> None:
    """Show the factor rows an activity uses in one year, with their values and sources."""
    from sefton_carbon.accounting.catalogue import explain_activity
    from sefton_carbon.accounting.factors import load_factors

    frame = explain_activity(name, year, load_factors(factors_dir))
    _print_frame(frame, output_format)


@app.command()
def demo(
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder for the outputs.")] = Path("out"),
) -> None:
    """Run the inventory of the bundled example council for every year and write its outputs."""
    from sefton_carbon.outputs.demo import run_demo

    typer.echo(run_demo(output))


app.command()(serve)


def main() -> None:
    """Entry point: run the app, turning expected errors into one line and an exit code.

    Typer itself reports usage errors (exit code 2) and ends the process; the errors that reach here
    are this package's own, or defects.
    """
    try:
        app()
        code = EXIT_OK
    except SeftonCarbonError as error:
        _say(f"error: {error}")
        code = error.exit_code
    except Exception as error:  # a defect, not bad input: one line unless debugging
        if os.environ.get("SEFTON_CARBON_DEBUG"):
            raise
        _say(f"internal error: {type(error).__name__}: {error} (set SEFTON_CARBON_DEBUG=1 for details)")
        code = 1
    sys.exit(code)


def command() -> None:
    """The ``sefton-carbon`` console script: `main`, then the process ends without tearing the
    interpreter down.

    Freeing every object at exit took 0.1 s of a 1.8 s inventory of 1,000,100 rows. Every command
    has finished its work and closed its files when `main` returns; exit handlers still run and
    output is flushed first (mypy ends the same way). In-process callers such as tests use `main`.
    """
    try:
        main()
        code = EXIT_OK
    except SystemExit as stop:
        code = stop.code
    if code is not None and not isinstance(code, int):  # sys.exit("message"): printed, exit code 1
        _say(str(code))
        code = 1
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (BrokenPipeError, ValueError):  # a reader that went away, or a stream already closed
            pass
    os._exit(code or EXIT_OK)
