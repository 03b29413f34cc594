"""The annual report: one self-contained HTML file for committees and an Excel workbook for auditors.

`build_report` gathers the figures once: the reporting year's inventory under the chosen boundary,
the baseline recomputed under the same boundary and factor policy, every year between for the
trajectory and the activity/factor split, and the scenarios when a file is given. `write_html`
renders them with Jinja2 (autoescaped) into one file with its charts embedded as SVG: no external
scripts, fonts or images, so it opens offline. `write_workbook` writes the same content as sheets,
numbers stored as numbers with units in the headers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from sefton_carbon.accounting.factors import load_factors
from sefton_carbon.accounting.ghg_protocol import SCOPE_3_CATEGORIES
from sefton_carbon.accounting.inventory import Inventory
from sefton_carbon.accounting.sites import read_sites
from sefton_carbon.engines.pipeline import compute_inventories
from sefton_carbon.errors import UsageError
from sefton_carbon.outputs.charts import _pyplot, _save, macc_chart, trajectory_chart
from sefton_carbon.planning.scenarios import load_scenarios, run_scenarios
from sefton_carbon.planning.trajectory import Trajectory, restated_trajectory
from sefton_carbon.returns.collection import coverage
from sefton_carbon.years import ReportingYear

TOP_SITES = 10
SECTIONS = ["headline", "boundary", "scopes", "departments", "year-on-year", "trajectory", "scenarios",
            "data-quality", "methodology"]


@dataclass
class ReportData:
    """Everything the report shows, computed once."""

    inventory: Inventory
    baseline: Inventory
    inventories: dict[ReportingYear, Inventory]
    trajectory: Trajectory
    scenarios: list = field(default_factory=list)
    reading_rejected: pd.DataFrame = field(default_factory=pd.DataFrame)
    coverage: pd.DataFrame | None = None
    street_lighting_sites: set[str] = field(default_factory=set)
    title: str = "Climate emergency: the council's greenhouse gas emissions"

    @property
    def year(self) -> ReportingYear:
        return self.inventory.reporting_year

    def scope_table(self) -> pd.DataFrame:
        """Scope 1, Scope 2 both ways, Scope 3 by category [t CO2e], this year and the baseline."""
        rows = []
        for label, key in (("Scope 1: fuels burnt and refrigerant lost", "scope_1"),
                           ("Scope 2: electricity, location-based", "scope_2_location"),
                           ("Scope 2: electricity, market-based", "scope_2_market")):
            rows.append((label, self.inventory.by_scope()[key], self.baseline.by_scope()[key]))
        now, then = self.inventory.by_scope_3_category(), self.baseline.by_scope_3_category()
        for category in sorted(set(now) | set(then)):
            rows.append((f"Scope 3 category {category}: {SCOPE_3_CATEGORIES[category]}", now.get(category, 0.0),
                         then.get(category, 0.0)))
        rows.append(("Total (Scope 2 " + self.inventory.scope_2_method + "-based)", self.inventory.total_tco2e,
                     self.baseline.total_tco2e))
        return pd.DataFrame(rows, columns=["line", "tco2e", "baseline_tco2e"])

    def departments(self) -> pd.DataFrame:
        return pd.DataFrame(list(self.inventory.by("department").items()), columns=["department", "tco2e"])

    def top_sites(self) -> pd.DataFrame:
        sites = self.inventory.by("site")
        return pd.DataFrame([(site or "(no site: travel, spend)", value) for site, value in sites.items()][:TOP_SITES],
                            columns=["site", "tco2e"])

    def split_by_year(self) -> pd.DataFrame:
        split = self.trajectory.split
        if split is None or split.empty:
            return pd.DataFrame(columns=["years", "change_tco2e", "activity_effect_tco2e", "factor_effect_tco2e"])
        grouped = split.groupby(["from_year", "to_year"], as_index=False)[
            ["change_tco2e", "activity_effect_tco2e", "factor_effect_tco2e"]].sum()
        grouped.insert(0, "years", grouped["from_year"] + " to " + grouped["to_year"])
        return grouped.drop(columns=["from_year", "to_year"])

    def reconciliation(self) -> pd.DataFrame:
        files = self.inventory.files
        return pd.DataFrame({"file": files["source_file"].map(lambda path: Path(path).name),
                             "rows_read": files["rows_read"], "rows_accounted": files["rows_accounted"],
                             "rows_rejected": files["rows_rejected"], "blank_rows": files["blank_rows"]})

    def rejected(self) -> pd.DataFrame:
        return pd.concat([self.reading_rejected, self.inventory.rejected], ignore_index=True).drop_duplicates()


def build_report(paths, year: str | ReportingYear, baseline: str | ReportingYear | None = None, *,
                 scope_option: str | None = None, scopes_file=None, sites=None, contracts=None,
                 spend_factors=None, factors_dir=None, factor_year: int | None = None, scenarios=None,
                 pathway: str = "linear") -> ReportData:
    """Compute everything the report needs from returns covering the baseline to the year, every
    year priced with the same `PricingInputs` (the keyword arguments up to ``factor_year``)."""
    year = ReportingYear.parse(year)
    inventories, reading_rejected = compute_inventories(
        paths, factors_dir=factors_dir, factor_year=factor_year, scope_option=scope_option,
        scopes_file=scopes_file, sites=sites, contracts=contracts, spend_factors=spend_factors)
    inventories = {key: value for key, value in inventories.items() if key <= year}
    if year not in inventories:
        raise UsageError(f"no returns for {year.label} in {', '.join(map(str, paths))}")
    baseline = ReportingYear.parse(baseline) if baseline else min(inventories)
    if baseline not in inventories:
        raise UsageError(f"no returns for the baseline {baseline.label}")
    inventories = {key: value for key, value in sorted(inventories.items()) if key >= baseline}
    trajectory = restated_trajectory(inventories, baseline, pathway=pathway, factors_dir=factors_dir,
                                     factor_year=factor_year, scope_option=scope_option, scopes_file=scopes_file,
                                     sites=sites, contracts=contracts, spend_factors=spend_factors)
    register = read_sites(sites) if sites else None
    results = []
    if scenarios:
        results = run_scenarios(inventories[year], load_scenarios(scenarios),
                                register.site_tags() if register else None, load_factors(factors_dir))
    return ReportData(inventory=inventories[year], baseline=inventories[baseline], inventories=inventories,
                      trajectory=trajectory, scenarios=results, reading_rejected=reading_rejected,
                      coverage=coverage(inventories[year].rows, year, register),
                      street_lighting_sites=register.sites_tagged("street_lighting") if register else set())


def _svg(draw) -> str:
    """A chart drawn by ``draw(path)`` (one of `sefton_carbon.charts`), as SVG markup to embed."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "chart.svg"
        draw(path)
        text = path.read_text(encoding="utf-8")
    return text[text.index("<svg"):]


def _scope_chart(data: ReportData, path: Path) -> Path:

    pyplot = _pyplot()
    table = data.scope_table().iloc[:-1]
    figure, axes = pyplot.subplots(figsize=(9, 0.45 * len(table) + 1.5))
    positions = range(len(table))
    axes.barh([p + 0.2 for p in positions], table["baseline_tco2e"], height=0.4, color="#bababa",
              label=f"Baseline {data.baseline.reporting_year.label}")
    axes.barh([p - 0.2 for p in positions], table["tco2e"], height=0.4, color="#2166ac", label=data.year.label)
    axes.set_yticks(list(positions), [label.split(":")[0] + ":" + label.split(":")[1][:38] for label in table["line"]])
    axes.invert_yaxis()
    axes.set_xlabel("Emissions (tonnes CO2e)")
    axes.set_title(f"Emissions by scope and category, {data.year.label} against the baseline")
    axes.xaxis.set_major_formatter(pyplot.FuncFormatter(lambda value, _: f"{value:,.0f}"))
    axes.legend(loc="lower right")
    axes.grid(axis="x", alpha=0.3)
    saved = _save(figure, path)
    pyplot.close(figure)
    return saved


def render_html(data: ReportData) -> str:
    """The report as one HTML document (see the module docstring)."""
    import jinja2


    environment = jinja2.Environment(loader=jinja2.PackageLoader("sefton_carbon.outputs", "templates"),
                                     autoescape=jinja2.select_autoescape(["html", "j2"]))
    environment.filters["t"] = lambda value: "-" if value is None or value != value else f"{value:,.0f}"
    environment.filters["t1"] = lambda value: "-" if value is None or value != value else f"{value:,.1f}"
    environment.filters["pct"] = lambda value: "-" if value is None or value != value else f"{value:+.1%}"
    environment.filters["share"] = lambda value: "-" if value is None or value != value else f"{value:.1%}"
    environment.filters["gbp"] = lambda value: "-" if value is None or value != value else f"£{value:,.0f}"
    charts = {"scopes": _svg(lambda path: _scope_chart(data, path)),
              "trajectory": _svg(lambda path: trajectory_chart(data.trajectory, path)),
              "macc": {result.name: _svg(lambda path, result=result: macc_chart(
                  result.measures, path, f"{result.name}: cost of each measure")) for result in data.scenarios}}
    summary = data.inventory.summary()
    change = data.inventory.total_tco2e / data.baseline.total_tco2e - 1 if data.baseline.total_tco2e else None
    return environment.get_template("report.html.j2").render(
        data=data, summary=summary, charts=charts, change=change, sections=SECTIONS,
        scenario_summaries=[result.summary() for result in data.scenarios])


def write_html(data: ReportData, output: str | Path) -> Path:
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(render_html(data), encoding="utf-8")
    return output
