"""Reports: the inventory as a readable table, CSV and JSON, and the files an auditor checks.

Figures are rounded here and only here, when presented; the ledger keeps full precision. JSON
documents carry figures to `SIGNIFICANT_DIGITS` (no binary noise such as 11.868106000000001) and
never NaN or Infinity (null instead). Every text cell written to CSV is defused against formula
injection (see `defuse_text`).
"""

from __future__ import annotations

import json
import math
import numbers
import re
import textwrap
from pathlib import Path

import pandas as pd

from sefton_carbon.accounting.ghg_protocol import SCOPE_3_CATEGORIES
from sefton_carbon.accounting.inventory import BASELINE_SHIFT_THRESHOLD, Inventory
from sefton_carbon.io.files import defuse_frame
from sefton_carbon.years import ReportingYear

SCOPE_NAMES = {"scope_1": "Scope 1 (direct)", "scope_3": "Scope 3 (other indirect)"}


#: Significant digits of a figure in a JSON document: 9,353.18 t to the gram, and a float's last
#: digits (its binary noise) never printed.
SIGNIFICANT_DIGITS = 12


def _plain(value: object) -> object:
    """``value`` ready for JSON: figures to `SIGNIFICANT_DIGITS`, NaN and infinities as None,
    NumPy numbers as Python ones, through dicts and lists."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(f"{float(value):.{SIGNIFICANT_DIGITS}g}") if math.isfinite(value) else None
    return value


def document_json(document: object) -> str:
    """A JSON document of figures as every command prints it (see the module docstring)."""
    return json.dumps(_plain(document), indent=2, default=str, allow_nan=False)


def _records(frame: pd.DataFrame) -> list[dict]:
    """A table's rows as dicts, missing and non-finite values as None."""
    finite = frame.replace([float("inf"), float("-inf")], None)
    return finite.astype(object).where(finite.notna(), None).to_dict(orient="records")


def frame_json(frame: pd.DataFrame) -> str:
    """A table of data (factor values, problems found) as a JSON list of records: numbers at full
    precision, missing and non-finite values as null."""
    return json.dumps(_records(frame), indent=2, default=str, allow_nan=False)


def frame_csv(frame: pd.DataFrame) -> str:
    """A table as CSV text (the ``--format csv`` output), every text cell defused (`defuse_frame`)."""
    return defuse_frame(frame).to_csv(index=False, lineterminator="\n")


#: Columns a table printed on a terminal may take: it fits a standard window with room to spare.
TABLE_WIDTH = 100


#: Spaces a wrapped line is never broken at: between a word and a number ("Scope 3", "Jul 2023"),
#: a figure and its unit ("924 kt", "9,093 t CO2e") and inside "t CO2e".
_UNBROKEN_SPACE = re.compile(r"(?<=[A-Za-z]) (?=\d)|(?<=\d) (?=k?t\b)|(?<=\bt) (?=CO2)")
#: Stands for an unbroken space while a line is wrapped (a private-use character, never in data).
_HELD_SPACE = "\ue000"


def _wrap_line(line: str, width: int = TABLE_WIDTH, hanging: int = 2) -> list[str]:
    """A line wrapped to ``width`` at its spaces (not the `_UNBROKEN_SPACE` ones): the lines that
    continue it indented ``hanging`` more than it is. A word longer than ``width`` (a long path)
    is kept whole."""
    indent = line[:len(line) - len(line.lstrip(" "))]
    held = _UNBROKEN_SPACE.sub(_HELD_SPACE, line.lstrip(" "))
    return [part.replace(_HELD_SPACE, " ") for part in textwrap.wrap(
        held, width, initial_indent=indent, subsequent_indent=indent + " " * hanging, break_long_words=False,
        break_on_hyphens=False)]


def fit_lines(lines: list[str], width: int = TABLE_WIDTH) -> str:
    """Lines of text as printed: each longer than ``width`` wrapped (`_wrap_line`), the lines
    that continue it indented two more than it is."""
    fitted = []
    for line in "\n".join(lines).split("\n"):
        fitted += [line] if len(line) <= width else _wrap_line(line, width)
    return "\n".join(fitted)


def _wrapped(text: str, width: int) -> list[str]:
    """A name in lines of at most ``width`` characters (a name without spaces split where it must)."""
    return textwrap.wrap(text, width, break_on_hyphens=False) or [""]


def frame_text(frame: pd.DataFrame, width: int = TABLE_WIDTH) -> str:
    """A table as aligned plain text within ``width`` columns: as it is when it fits; else with
    its widest text columns wrapped; else, when it has too many columns for that, one block of
    ``column: value`` lines per row."""
    if frame.empty:
        return "(none)"
    cells = frame.astype(object).where(frame.notna(), "").astype(str)
    natural = {column: max(len(str(column)), int(cells[column].str.len().max())) for column in frame.columns}
    gaps = 2 * (len(frame.columns) - 1)
    widths = dict(natural)
    numeric = {column: pd.api.types.is_numeric_dtype(frame[column]) for column in frame.columns}
    while sum(widths.values()) + gaps > width:
        text = [column for column in frame.columns if not numeric[column] and widths[column] > max(12, len(column))]
        if not text:
            return _records_text(cells, width)
        widest = max(text, key=widths.get)
        widths[widest] -= 1
    lines = ["  ".join(str(column).rjust(widths[column]) if numeric[column] else str(column).ljust(widths[column])
                       for column in frame.columns).rstrip()]
    for _, row in cells.iterrows():
        wrapped = {column: textwrap.wrap(row[column], widths[column], break_on_hyphens=False) or [""]
                   for column in frame.columns}
        for line in range(max(len(parts) for parts in wrapped.values())):
            lines.append("  ".join(
                (parts[line] if line < len(parts) else "").rjust(widths[column]) if numeric[column]
                else (parts[line] if line < len(parts) else "").ljust(widths[column])
                for column, parts in wrapped.items()).rstrip())
    return "\n".join(lines)


def _records_text(cells: pd.DataFrame, width: int) -> str:
    """Each row of a table as a block of ``column: value`` lines, values wrapped to ``width``."""
    label = max(len(str(column)) for column in cells.columns) + 2
    blocks = []
    for _, row in cells.iterrows():
        blocks.append("\n".join(
            textwrap.fill(value, width, initial_indent=f"{column}:".ljust(label), subsequent_indent=" " * label,
                          break_on_hyphens=False) if value else f"{column}:"
            for column, value in row.items()))
    return "\n\n".join(blocks)


def format_boundary_options(options) -> str:
    """The boundary options of a `BoundaryOptions`, one a line with its label (wrapped), the
    default marked ``*``."""
    names = max(len(name) for name in options.options) + 2
    lines = []
    for option in options.options.values():
        marker = "*" if option.name == options.default else " "
        lines += textwrap.wrap(option.label, TABLE_WIDTH, initial_indent=f"{marker} {option.name:<{names}}",
                               subsequent_indent=" " * (names + 2), break_on_hyphens=False)
    return "\n".join(lines)


def summary_json(inventory: Inventory) -> str:
    """The inventory summary as JSON text."""
    return document_json(inventory.summary())


def summary_rows(summary: dict) -> pd.DataFrame:
    """A summary (`Inventory.summary`, or a large-input engine's) as a long table: group, name,
    t CO2e to `SIGNIFICANT_DIGITS` (the ``--format csv`` output)."""
    records = [("total", "total", summary["total_tco2e"])]
    records += [("scope", name, value) for name, value in summary["by_scope"].items()]
    if "outside_boundary" in summary:
        records += [("outside_boundary", "total", summary["outside_boundary"]["tco2e"])]
    records += [("scope_3_category", name, value) for name, value in summary["by_scope_3_category"].items()]
    records += [("department", name, value) for name, value in summary["by_department"].items()]
    records += [("activity", name, value) for name, value in summary.get("by_activity", {}).items()]
    return pd.DataFrame([(group, name, _plain(value)) for group, name, value in records],
                        columns=["group", "name", "tco2e"])


def comparison_json(table: pd.DataFrame) -> str:
    """The boundary options compared (`compare_inventories`) as JSON: the reporting year, the
    option the baselines are measured against, and one record per option."""
    return document_json({"reporting_year": table.attrs.get("reporting_year"),
                          "reference_option": table.attrs.get("reference_option"), "options": _records(table)})


def _figure(value: float) -> str:
    return f"{value:,.2f}"


def _change(value: float | None) -> str:
    """A relative change as ``+1.5%``; ``-`` where there is none (nothing to compare with)."""
    return "-" if value is None or value != value else f"{value:+.1%}"


def _section(title: str, items: list[tuple[str, float]], total: float, width: int,
             not_shares: frozenset[str] = frozenset()) -> list[str]:
    """A titled list of figures with each one's share of ``total``; the items named in
    ``not_shares`` (not part of the total) show no share."""
    lines = [f"{title:<{width}} {'t CO2e':>14} {'share':>7}"]
    for name, value in items:
        share = f"{value / total:.1%}" if total and name not in not_shares else "-"
        lines.append(f"  {name:<{width - 2}} {_figure(value):>14} {share:>7}")
    return lines + [""]


#: How the gases of `Inventory.by_gas` are named in the table.
GAS_NAMES = {"tco2e_co2": "CO2", "tco2e_ch4": "CH4 (methane)", "tco2e_n2o": "N2O (nitrous oxide)",
             "tco2e_hfcs": "HFCs", "tco2e_pfcs": "PFCs", "tco2e_sf6": "SF6", "tco2e_nf3": "NF3",
             "tco2e_unattributed": "not split by gas in the factors"}


def format_table(summary: dict) -> str:
    """A readable summary (`Inventory.summary`, or a large-input engine's: the same table from
    either): the boundary, by scope (both Scope 2 methods, Scope 3 categories), gas, department
    and activity, and the reconciliation of rows."""
    total = summary["total_tco2e"]
    width = 52
    year = ReportingYear.parse(summary["reporting_year"])
    method = summary["scope_2_method"]
    rows = summary["rows"]
    lines = [
        f"Greenhouse gas inventory {year.label} (1 April {year.start_year} to 31 March {year.start_year + 1})",
        f"Factors: {summary['factor_set']}; GWP basis: {summary['gwp_basis']}",
    ]
    if summary["scope_option"] is not None:
        lines.append(f"Boundary: {summary['scope_option']} ({summary['scope_option_label']}); "
                     f"Scope 2 counted {method}-based")
    lines += [f"Rows: {rows['read']:,} read = {rows['accounted']:,} accounted + {rows['rejected']:,} rejected"
              + (f"; {rows['outside_boundary']:,} of the accounted rows lie outside the boundary"
                 if rows["outside_boundary"] else ""), ""]
    scopes = summary["by_scope"]
    scope_items = [(SCOPE_NAMES["scope_1"], scopes["scope_1"])]
    not_counted = frozenset({f"Scope 2 (electricity, {kind}-based), not counted"
                             for kind in ("location", "market") if kind != method})
    for kind in ("location", "market"):
        counted = " (counted)" if kind == method else ", not counted"
        scope_items.append((f"Scope 2 (electricity, {kind}-based){counted}", scopes[f"scope_2_{kind}"]))
    scope_items.append((SCOPE_NAMES["scope_3"], scopes["scope_3"]))
    scope_items += [(f"  cat {number} {SCOPE_3_CATEGORIES[int(number)]}", category_total)
                    for number, category_total in summary["by_scope_3_category"].items()]
    lines += _section("By scope", scope_items, total, width, not_counted)
    biogenic = summary["biogenic_co2_tonnes"]
    if biogenic:
        lines += [f"{'Biogenic CO2, outside the scopes (not counted)':<{width}} {_figure(biogenic):>14} "
                  f"{'t CO2':>7}", ""]
    gases = [(GAS_NAMES[key], value) for key, value in summary["by_gas"].items() if value]
    lines += _section("Scope 1 and 2 (location-based) by gas", gases, scopes["scope_1"] + scopes["scope_2_location"],
                      width)
    lines += _section("By department", list(summary["by_department"].items()), total, width)
    lines += _section("By activity", list(summary["by_activity"].items()), total, width)
    lines.append(f"{'Total inside the boundary':<{width}} {_figure(total):>14}")
    if summary["outside_boundary"]["tco2e"]:
        lines.append(f"{'Outside the boundary (not counted)':<{width}} {_figure(summary['outside_boundary']['tco2e']):>14}")
    for note in summary["notes"]:
        lines.append(f"Note: {note}")
    return fit_lines(lines)


#: The widest option name a comparison shows on one line; longer names take more lines.
OPTION_NAME_WIDTH = 41


def format_comparison(table: pd.DataFrame) -> str:
    """The boundary options side by side [t CO2e], as a committee would read them: * marks the
    Scope 2 figure each option counts in its total. With a baseline, each option's baseline and
    the change since. (Each option's label and the t CO2e it adds to the option before are in
    ``--format csv`` and ``json``.)"""
    names = int(min(max(len("Option"), table["name"].str.len().max()), OPTION_NAME_WIDTH)) + 2

    def scope_2(value: float, method: str, row) -> str:
        return f"{value:,.0f}" + ("*" if row.scope_2_method == method else " ")

    lines = [f"Boundary options compared, {table.attrs.get('reporting_year', '')} (t CO2e; * the Scope 2 "
             "figure each option counts in its total)",
             f"{'':<{names}}{'Scope 1':>8}{'Scope 2':>9} {'Scope 2':>9} {'Scope 3':>9}{'Total':>9}{'Estimated':>11}",
             f"{'Option':<{names}}{'':>8}{'location':>9} {'market':>9} {'':>9}{'':>9}{'share':>11}"]
    for row in table.itertuples(index=False):
        name, *more = _wrapped(row.name, names - 2)
        lines.append(f"{name:<{names}}{row.scope_1:>8,.0f}{scope_2(row.scope_2_location, 'location', row):>10}"
                     f"{scope_2(row.scope_2_market, 'market', row):>10}{row.scope_3:>9,.0f}"
                     f"{row.total_tco2e:>9,.0f}{row.estimated_share:>11.0%}")
        lines += more
    if "baseline_tco2e" in table:
        flag = f"  <- over {BASELINE_SHIFT_THRESHOLD:.0%}"
        lines += ["", f"Baseline {table['baseline_year'].iloc[0]} under each option, on the same factor policy "
                      "(t CO2e):",
                  f"{'':<{names}}{'Baseline':>10}{'Change since':>14}{'Baseline against':>18}",
                  f"{'Option':<{names}}{'':>10}{'baseline':>14}{'default option':>18}"]
        for row in table.itertuples(index=False):
            name, *more = _wrapped(row.name, names - 2)
            lines.append(f"{name:<{names}}{row.baseline_tco2e:>10,.0f}{_change(row.change_since_baseline):>14}"
                         f"{_change(row.baseline_shift):>18}" + (flag if row.baseline_shift_flagged else ""))
            lines += more
        if table["baseline_shift_flagged"].any():
            lines.append(f"{flag.strip()}: the option moves the baseline by more than "
                         f"{BASELINE_SHIFT_THRESHOLD:.0%} against the default option")
    return fit_lines(lines)


def trajectory_json(trajectory) -> str:
    """The trajectory as JSON text (null for years without actuals)."""
    return document_json(trajectory.summary())


def format_trajectory(trajectory) -> str:
    """The trajectory table, what it takes from the latest year, and what the council and the grid
    each did."""
    latest = trajectory.latest
    heading = (f"Trajectory to net zero in {trajectory.target_year.label}" if latest["reaches_net_zero"] else
               f"Trajectory to {trajectory.target_year.label} (this pathway does not reach net zero)")
    lines = [f"{heading} (baseline {trajectory.baseline_year.label}; "
             f"pathway {trajectory.pathway.name}: {trajectory.pathway.description})",
             f"{'Year':<9}{'Actual':>11}{'Pathway':>11}{'Gap':>10}  {'On track':<9}{'Cumulative':>12}{'Budget so far':>15}"]
    for row in trajectory.years.itertuples(index=False):
        actual = "" if row.actual_tco2e != row.actual_tco2e else f"{row.actual_tco2e:,.0f}"
        gap = "" if row.gap_tco2e != row.gap_tco2e else f"{row.gap_tco2e:+,.0f}"
        track = "" if row.on_track is None else ("yes" if row.on_track else "no")
        cumulative = ("" if row.cumulative_actual_tco2e != row.cumulative_actual_tco2e
                      else f"{row.cumulative_actual_tco2e:,.0f}")
        lines.append(f"{row.year:<9}{actual:>11}{row.pathway_tco2e:>11,.0f}{gap:>10}  {track:<9}"
                     f"{cumulative:>12}{row.cumulative_pathway_tco2e:>15,.0f}")
    lines += ["(t CO2e, gross; net = gross - removals - offsets)", "",
              f"Carbon budget {trajectory.budget_tco2e:,.0f} t CO2e: {latest['budget_used_tco2e']:,.0f} used to "
              f"{latest['latest_year']}, {latest['budget_remaining_tco2e']:,.0f} remaining",
              f"From {latest['latest_year']} ({latest['latest_tco2e']:,.0f} t CO2e): a cut of "
              f"{latest['required_annual_cut_tco2e']:,.0f} t CO2e a year ({latest['required_annual_reduction_pct']:.1f}% "
              f"of {latest['latest_year']} each year) reaches {latest['goal_tco2e']:,.0f} t CO2e in "
              f"{trajectory.target_year.label}, " + ("net zero with the residual allowed" if latest["reaches_net_zero"]
                                                     else "where the pathway ends")]
    if latest.get("trend_annual_change_pct") is not None:
        lines.append(f"Recent trend ({latest['trend']}): {latest['trend_annual_change_pct']:+.1f}% a year; on it, "
                     f"{trajectory.target_year.label} emissions would be {latest['expected_target_year_tco2e']:,.0f} "
                     f"t CO2e, needing {latest['offsets_or_removals_needed_tco2e']:,.0f} t CO2e of offsets or "
                     "removals for net zero")
        reached = latest["net_zero_year_on_trend"]
        lines.append("On that trend emissions are not falling" if reached is None else
                     f"On that trend emissions fall to the residual (or 5% of today's) in {reached}")
    split = trajectory.split
    if split is not None and len(split):
        lines += ["", "What the council did and what the factors did (t CO2e change, year on year):",
                  f"{'Years':<20}{'Change':>10}{'Activity':>10}{'Factors':>10}  largest factor effect"]
        for (before, after), group in split.groupby(["from_year", "to_year"], sort=True):
            biggest = group.loc[group["factor_effect_tco2e"].abs().idxmax()]
            lines.append(f"{before + ' to ' + after:<20}{group['change_tco2e'].sum():>+10,.0f}"
                         f"{group['activity_effect_tco2e'].sum():>+10,.0f}{group['factor_effect_tco2e'].sum():>+10,.0f}"
                         f"  {biggest['activity']} {biggest['factor_effect_tco2e']:+,.0f}")
    lines += [f"Note: {note}" for note in trajectory.notes]
    return fit_lines(lines)


def format_problems(validation) -> str:
    """Every problem as a block: its severity, file, sheet, row and column on one line, then,
    indented, the value found and what is wrong (wrapped to `TABLE_WIDTH`); then the counts."""
    lines = []
    for record in validation.problems.itertuples(index=False):
        place = ", ".join(part for part in (
            record.source_file, f"sheet '{record.source_sheet}'" if record.source_sheet else "",
            f"row {record.source_row}" if pd.notna(record.source_row) else "",
            f"column '{record.column}'" if record.column else "") if part)
        value = f"'{record.value}': " if record.value not in ("", None) and pd.notna(record.value) else ""
        lines += [f"{record.severity}: {place}", *_wrap_line(f"  {value}{record.message}", hanging=0)]
    lines.append(f"{validation.rows_read:,} rows read: {validation.rows_with_errors:,} with errors "
                 f"({len(validation.errors):,} errors), {len(validation.warnings):,} warnings")
    return fit_lines(lines)


def format_collection(collection) -> str:
    """The collected year: the inventory table, the per-file reconciliation and the gaps."""
    files = collection.inventory.files
    lines = [format_table(collection.inventory.summary()), "", "Returns (rows read = accounted + rejected):"]
    for record in files.itertuples(index=False):
        lines.append(f"  {Path(record.source_file).name:<44}{record.rows_read:>7,} = {record.rows_accounted:>7,}"
                     f" + {record.rows_rejected:>5,}" + ("  (unreadable)" if record.unreadable else ""))
    gaps = collection.coverage[~collection.coverage["complete"]]
    lines += ["", f"Coverage: {len(collection.coverage) - len(gaps)} of {len(collection.coverage)} site "
              "activities have all 12 months"]
    for record in gaps.head(20).itertuples(index=False):
        lines.append(f"  {record.department} / {record.site or '(no site)'} / {record.activity}: "
                     f"{record.months_covered} of 12 months; missing {record.months_missing}")
    if len(gaps) > 20:
        lines.append(f"  ... and {len(gaps) - 20} more in coverage.csv")
    warnings = collection.validation.warnings
    if len(warnings):
        lines.append(f"Warnings: {len(warnings)} (see warnings.csv)")
    return fit_lines(lines)


def collection_json(collection) -> str:
    """A collected year as JSON: the inventory summary, with the coverage table and the number of
    warnings added."""
    return document_json({**collection.inventory.summary(), "coverage": _records(collection.coverage),
                          "warnings": len(collection.validation.warnings)})


def validation_json(validation) -> str:
    """Every problem found by `validate_returns`, with the counts, as JSON."""
    return document_json(validation.summary())


def scenarios_json(results) -> str:
    """Every scenario as JSON: ``{"scenarios": [...]}`` with the figures of `ScenarioResult.summary`."""
    return document_json({"scenarios": [result.summary() for result in results]})


def money(value) -> str:
    """An amount in pounds as finance writes it: ``£1,234``, ``-£1,234``; ``-`` when there is none."""
    if value is None or value != value:
        return "-"
    return f"{'-' if round(value) < 0 else ''}£{abs(value):,.0f}"


def format_scenarios(results, compare: bool) -> str:
    """Scenarios for finance: the target year's emissions side by side, then their costs, then
    (unless comparing only) each measure. (Every figure is also in ``--format json``.)"""
    target = results[0].target_year.label if results else ""
    names = max([len("Scenario"), *(len(result.name) for result in results)]) + 2
    emissions = [f"Scenarios to {target}: t CO2e in the target year",
                 f"{'Scenario':<{names}}{'BAU':>9}{'Scenario':>10}{'Removals':>10}{'Offsets':>9}"
                 f"{'To offset':>11}  Net zero?"]
    costs = [f"Costs of the scenarios to {target} (GBP; offsets to buy at the low and high price)",
             f"{'Scenario':<{names}}{'Offset cost':>22}{'Capex':>14}{'NPV':>14}"]
    for result in results:
        summary = result.summary()
        cost = summary["offset_cost_gbp"]
        cost_text = (f"{money(cost[0])}-{money(cost[1])}" if isinstance(cost, list) else money(cost))
        emissions.append(f"{result.name:<{names}}{summary['bau_tco2e']:>9,.0f}{summary['scenario_tco2e']:>10,.0f}"
                         f"{summary['removals_tco2e']:>10,.0f}{summary['offsets_bought_tco2e']:>9,.0f}"
                         f"{summary['offsets_needed_tco2e']:>11,.0f}  {'yes' if summary['reaches_net_zero'] else 'no'}")
        costs.append(f"{result.name:<{names}}{cost_text:>22}{money(summary['total_capex_gbp']):>14}"
                     f"{money(summary['npv_gbp']):>14}")
    lines = emissions + [""] + costs
    if not compare:
        for result in results:
            lines += ["", f"{result.name}: {result.description}",
                      f"  {'Measure':<44}{'Start':>9}{'t/yr':>9}{'£/t':>9}{'Capex':>13}{'NPV':>13}"]
            for record in result.measures.itertuples(index=False):
                per_tonne = "-" if record.cost_per_tco2e_gbp is None or record.cost_per_tco2e_gbp != record.cost_per_tco2e_gbp \
                    else f"{record.cost_per_tco2e_gbp:,.0f}"
                lines.append(f"  {record.name[:43]:<44}{record.start:>9}{record.tco2e_saved_annual:>9,.0f}{per_tonne:>9}"
                             f"{money(record.capex_gbp):>13}{money(record.npv_gbp):>13}")
            lines += [f"  Note: {note}" for note in result.notes]
    return fit_lines(lines)


def area_json(profile) -> str:
    """An authority's profile (`AreaProfile.summary`) as JSON."""
    return document_json(profile.summary())


def format_area(profile) -> str:
    """An authority's emissions by sector, its trend, breaks, comparators and pathway."""
    summary = profile.summary()
    years = profile.years
    sectors = [column for column in years.columns if column not in ("total_kt", "per_person_t", "per_km2_kt")]
    for step in (5, 10, 25, 50):  # years between the columns shown: every 5th, or fewer when those do not fit
        shown = sorted({years.index.min(), *[year for year in years.index if year % step == 0], years.index.max()})
        if 22 + 10 * (len(shown) + 1) <= TABLE_WIDTH:
            break
    lines = [f"{profile.name} ({profile.code}): {profile.basis}", f"Source: {profile.source}", "",
             f"{'Sector (kt)':<22}" + "".join(f"{year:>10}" for year in shown) + f"{'change':>10}"]
    for sector in sectors + ["total_kt"]:
        label = "Total" if sector == "total_kt" else sector
        values = years.loc[shown, sector]
        change = f"{values.iloc[-1] / values.iloc[0] - 1:>+10.0%}" if values.iloc[0] else f"{'-':>10}"
        lines.append(f"{label:<22}" + "".join(f"{value:>10,.1f}" for value in values) + change)
    lines.append(f"{'Per person (t)':<22}" + "".join(f"{value:>10,.2f}" for value in years.loc[shown, "per_person_t"]))
    lines.append(f"{'Per km2 (kt)':<22}" + "".join(f"{value:>10,.2f}" for value in years.loc[shown, "per_km2_kt"]))
    lines += ["", f"Since {summary['first_year']}: {summary['change_since_first_year']:+.1%}; recent trend "
              f"({summary['trend']}): {summary['trend_annual_change_pct']:+.1f}% a year"]
    if summary["series_breaks"]:
        lines.append("Likely series breaks (a sub-sector more than doubling or halving in a year is more often a "
                     "re-allocation in the statistics than a real change):")
        lines += [f"  {item['year']} {item['subsector']}: x{item['ratio']:.2f}" for item in summary["series_breaks"]]
    lines += ["", "Most similar authorities (per-person emissions and sector mix, "
              f"{int(profile.similar['year'].iloc[0]) if len(profile.similar) else ''}):"]
    lines += [f"  {row.la_name:<48}{row.per_person_t:>6.2f} t/person{row.total_kt:>10,.0f} kt"
              for row in profile.similar.itertuples(index=False)]
    share = summary["council_share"]
    if share:
        lines += ["", f"The council's own footprint ({share['council_tco2e']:,.0f} t CO2e) is "
                  f"{share['share_of_total']:.1%} of the borough's total and "
                  + (f"{share['share_of_public_sector']:.1%} of its public sector" if share["share_of_public_sector"]
                     else "-") + f" ({share['note']})"]
    pathway = summary["pathway"]
    if pathway:
        latest = pathway["latest"]
        lines += ["", f"Area pathway: {pathway['pathway']} from {pathway['baseline_year']} to {pathway['target_year']}; "
                  f"budget {pathway['budget_tco2e'] / 1000:,.0f} kt, {latest['budget_used_tco2e'] / 1000:,.0f} kt used "
                  f"to {latest['latest_year']}, {latest['budget_remaining_tco2e'] / 1000:,.0f} kt remaining"]
        row = next(record for record in pathway["years"] if record["year"] == latest["latest_year"])
        lines.append(f"{latest['latest_year']}: {row['actual_tco2e'] / 1000:,.1f} kt against the pathway's "
                     f"{row['pathway_tco2e'] / 1000:,.1f} kt ({'on track' if row['on_track'] else 'above it'})")
    return fit_lines(lines)
