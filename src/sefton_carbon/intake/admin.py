"""The energy team's view of the year: what `collect` makes of the returns folder now (coverage by
department and month, the scoping register), and ``collect`` and ``report`` runs whose outputs
can be downloaded.

The returns folder is collected as ``sefton-carbon collect RETURNS_DIR`` would collect it, with
the pricing inputs the server was started with, and again only when its returns change.
"""

from __future__ import annotations

import datetime as dt
import threading

from sefton_carbon.errors import SeftonCarbonError, UsageError
from sefton_carbon.intake.store import Intake, Run
from sefton_carbon.outputs.files import write_collection
from sefton_carbon.outputs.html_report import build_report, write_html
from sefton_carbon.outputs.manifest import publish_inventory
from sefton_carbon.outputs.workbook import write_workbook
from sefton_carbon.returns.activity import expand_paths
from sefton_carbon.returns.collection import Collection, PricingInputs, collect

COVERAGE_FIELDS = ["site", "activity", "months_covered", "months_missing", "complete"]


def month_labels(intake: Intake) -> list[str]:
    """The twelve months of the reporting year as `coverage` names them (``Apr 2024`` ...)."""
    start = intake.year.start_year
    return [dt.date(start + (3 + offset) // 12, (3 + offset) % 12 + 1, 1).strftime("%b %Y") for offset in range(12)]


class YearView:
    """The returns folder collected (`collect`), kept until a return in it changes."""

    def __init__(self, intake: Intake, pricing: PricingInputs):
        self.intake, self.pricing = intake, pricing
        self._lock = threading.Lock()
        self._seen: tuple | None = None
        self._collection: Collection | None = None

    def collection(self) -> Collection | None:
        """The year as ``collect RETURNS_DIR`` computes it now; None before any return arrives."""
        with self._lock, self.intake.files_lock:
            try:
                files = expand_paths([self.intake.returns_dir])
            except UsageError:  # no return yet
                return None
            seen = tuple((str(path), path.stat().st_size, path.stat().st_mtime_ns) for path in files)
            if seen != self._seen:
                self._collection = collect(self.intake.returns_dir, self.intake.year, **self.pricing.arguments())
                self._seen = seen
            return self._collection

    def coverage(self) -> dict:
        """Coverage by department and month, every department listed (those with no return yet
        too, and any department named in a return that is not in the list), with the version
        each department sent last: ``{"year", "months", "departments": [{"department",
        "version", "received", "coverage": [{"site", "activity", "months_covered",
        "months_missing", "complete", "months": [12 booleans]}]}]}``."""
        collection = self.collection()
        months = month_labels(self.intake)
        latest = {}
        for receipt in self.intake.receipts():
            if receipt.version is not None:
                latest.setdefault(receipt.department, receipt)
        table = collection.coverage if collection is not None else None
        names = [department.name for department in self.intake.departments]
        if table is not None:
            names += [name for name in dict.fromkeys(table["department"]) if name not in names]
        departments = []
        for name in names:
            rows = [] if table is None else table[table["department"] == name][COVERAGE_FIELDS].to_dict(orient="records")
            for row in rows:
                missing = set(row["months_missing"].split(", "))
                row.update(months_covered=int(row["months_covered"]), complete=bool(row["complete"]),
                           months=[month not in missing for month in months])
            receipt = latest.get(name)
            departments.append({"department": name, "version": receipt.version if receipt else None,
                                "received": receipt.received if receipt else None, "coverage": rows})
        return {"year": self.intake.year.label, "months": months, "departments": departments}


def run_collect(intake: Intake, pricing: PricingInputs) -> Run:
    """Run ``collect`` on the returns folder into a run folder of its own, as the command writes
    it (ledger, rejected rows, coverage, scoping register, warnings, manifest)."""
    run = intake.start_run("collect")
    try:
        with intake.files_lock:
            result = collect(intake.returns_dir, intake.year, **pricing.arguments())
        parameters = dict(reporting_year=intake.year.label, strict=False, **pricing.arguments())
        publish_inventory(result.inventory, run.folder, "collect", [intake.returns_dir], parameters,
                          write=lambda held: write_collection(result, held))
        files = result.inventory.files
        outcome = (f"{int(files['rows_read'].sum()):,} rows read from {len(files)} return(s): "
                   f"{result.inventory.total_tco2e:,.1f} t CO2e; {len(result.inventory.rejected):,} row(s) or "
                   "file(s) rejected")
    except SeftonCarbonError as error:
        outcome = f"failed: {error}"
    intake.finish_run(run.id, outcome)
    return intake.run(run.id)


def run_report(intake: Intake, pricing: PricingInputs) -> Run:
    """Run ``report`` on the returns folder into a run folder of its own: the committee report
    (``report.html``) and the auditors' workbook (``report.xlsx``)."""
    run = intake.start_run("report")
    try:
        with intake.files_lock:
            data = build_report([intake.returns_dir], intake.year, **pricing.arguments())
        write_html(data, run.folder / "report.html")
        write_workbook(data, run.folder / "report.xlsx", data.street_lighting_sites)
        outcome = f"{data.inventory.total_tco2e:,.1f} t CO2e; {len(data.rejected()):,} row(s) or file(s) rejected"
    except SeftonCarbonError as error:
        outcome = f"failed: {error}"
    intake.finish_run(run.id, outcome)
    return intake.run(run.id)
