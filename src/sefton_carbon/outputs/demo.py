"""The demonstration run: every year of the bundled example council, with its outputs written."""

from __future__ import annotations

import contextlib
import multiprocessing
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pandas as pd

from sefton_carbon import resources
from sefton_carbon.accounting.inventory import Inventory, compare_options
from sefton_carbon.outputs.charts import trajectory_chart
from sefton_carbon.outputs.html_report import build_report, write_html
from sefton_carbon.outputs.manifest import publish_inventory, publishing, write_manifest
from sefton_carbon.outputs.text import (
    fit_lines,
    format_comparison,
    format_table,
    format_trajectory,
    trajectory_json,
)
from sefton_carbon.outputs.workbook import write_workbook
from sefton_carbon.planning.trajectory import restated_trajectory
from sefton_carbon.returns.activity import read_activity
from sefton_carbon.returns.collection import Pricing, PricingInputs
from sefton_carbon.years import ReportingYear

EXAMPLE_COUNCIL = "example-council"


def example_council_dir() -> Path:
    """The example council's folder: returns/, sites.csv, contracts.csv, spend-factors.csv."""
    return resources.examples_dir() / EXAMPLE_COUNCIL


def example_returns() -> dict[ReportingYear, Path]:
    """The example council's returns folder per reporting year (folders named ``2023-24``)."""
    root = example_council_dir() / "returns"
    return {ReportingYear.parse(folder.name): folder
            for folder in sorted(root.iterdir()) if folder.is_dir()}


def example_registers() -> dict[str, Path]:
    """The example council's sites register, contracts and spend factors, as keyword arguments."""
    folder = example_council_dir()
    return {"sites": folder / "sites.csv", "contracts": folder / "contracts.csv",
            "spend_factors": folder / "spend-factors.csv"}


def example_pricing(scope_option: str | None = None) -> Pricing:
    """The factor library, boundary options and the example council's registers, read once."""
    return PricingInputs(scope_option=scope_option, **example_registers()).load()


def run_example_council(scope_option: str | None = None,
                        pricing: Pricing | None = None) -> dict[ReportingYear, Inventory]:
    """The example council's inventory for every year it has returns for, each year's folder read
    once (as `compute_inventory` reads it, so `verify` recomputes the same figures)."""
    pricing = pricing or example_pricing(scope_option)
    return {year: pricing.price(read_activity(folder), year) for year, folder in example_returns().items()}


def compare_with_baseline(inventories: dict[ReportingYear, Inventory], pricing: Pricing) -> pd.DataFrame:
    """`compare_inventories` for the latest year against the first, on the inventories already
    priced (the same table, without reading the two years' returns again)."""
    latest, baseline = inventories[max(inventories)], inventories[min(inventories)]
    table = compare_options(latest, pricing.boundary_options, pricing.sites, baseline)
    table.attrs["reporting_year"] = latest.reporting_year.label
    table.attrs["reference_option"] = pricing.boundary_options.default
    return table


def year_on_year_table(inventories: dict[ReportingYear, Inventory]) -> str:
    """Totals per year by scope [t CO2e], with the change against the first year."""
    first = next(iter(inventories.values())).total_tco2e
    lines = [f"{'Year':<9}{'Factors':>9}{'Scope 1':>11}{'Scope 2':>11}{'Scope 3':>11}{'Total':>11}"
             f"{'vs first':>10}"]
    for year, inventory in inventories.items():
        scopes = inventory.by_scope()
        lines.append(f"{year.label:<9}{inventory.factor_year:>9}{scopes['scope_1']:>11,.0f}"
                     f"{scopes['scope_2']:>11,.0f}{scopes['scope_3']:>11,.0f}"
                     f"{inventory.total_tco2e:>11,.0f}{inventory.total_tco2e / first - 1:>+10.1%}")
    return "\n".join(lines)


def write_example_report(output_dir: Path) -> tuple[Path, Path]:
    """The committee report (``report.html``) and the auditors' workbook (``report.xlsx``) of the
    example council's latest year against its first, with its scenarios, written into ``output_dir``
    from all its returns, as `verify` recomputes them."""
    years = example_returns()
    report = build_report([example_council_dir() / "returns"], max(years), min(years),
                          scenarios=example_council_dir() / "scenarios.yaml", **example_registers())
    return (write_html(report, output_dir / "report.html"),
            write_workbook(report, output_dir / "report.xlsx", {"Street lighting (unmetered)"}))


@contextlib.contextmanager
def _alongside(function: Callable, *args) -> Iterator[Callable]:
    """Start ``function(*args)`` in a second process forked now, where forking is safe (Linux), and
    yield what waits for its result; elsewhere, yield what runs it then. Exceptions reach the caller."""
    if sys.platform != "linux":
        yield lambda: function(*args)
        return
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork")) as pool:
        yield pool.submit(function, *args).result


def run_demo(output_dir: str | Path = "out") -> str:
    """Compute every year of the example council, write its outputs, and return what to print.

    The report reads and prices all the returns again, as `verify` does: on Linux it is written by
    a second process while this one does the years (the demo takes a third less time on two cores).
    """
    output_dir = Path(output_dir)
    with _alongside(write_example_report, output_dir) as report_written:
        pricing = example_pricing()
        inventories = run_example_council(pricing=pricing)
        for year, inventory in inventories.items():
            publish_inventory(inventory, output_dir / year.label.replace("/", "-"), "inventory",
                              [example_returns()[year]], {"reporting_year": year.label, **example_registers()})
        latest = max(inventories)
        trajectory = restated_trajectory(inventories, min(inventories), **example_registers())
        trajectory_chart(trajectory, output_dir / "trajectory.svg")
        (output_dir / "trajectory.json").write_text(trajectory_json(trajectory) + "\n", encoding="utf-8")
        html, book = report_written()
    with publishing(output_dir):  # the report, workbook and trajectory files, recorded for verify
        write_manifest(output_dir, "demo", [example_council_dir() / "returns"],
                       {"reporting_year": latest.label, **example_registers()}, inventories[latest])
    comparison = compare_with_baseline(inventories, pricing)
    return fit_lines([
        "Example council (illustrative data bundled with sefton-carbon)", "",
        format_table(inventories[latest].summary()), "",
        format_comparison(comparison), "",
        "Year on year, t CO2e (each year on the DESNZ factors published in the calendar year it starts)",
        year_on_year_table(inventories), "",
        format_trajectory(trajectory), "",
        f"Committee report: {html.resolve()}",
        f"Workbook for auditors and finance: {book.resolve()}",
        f"Also under {output_dir.resolve()}: ledger.csv, rejected.csv, files.csv and summary.json per year; "
        "trajectory.svg and trajectory.json",
    ])
