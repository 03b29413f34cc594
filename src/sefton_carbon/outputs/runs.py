"""The inventory command as a library function: one year computed on its engine, and written where
asked (the ledger, the rejected rows, an output folder with its manifest)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pandas as pd

from sefton_carbon.accounting.inventory import Inventory
from sefton_carbon.engines.large import LargeInventory
from sefton_carbon.engines.pipeline import choose_engine, compute_inventory_on_engine
from sefton_carbon.errors import UsageError
from sefton_carbon.io.files import write_csv
from sefton_carbon.outputs.files import LARGE_ENGINES, write_ledger
from sefton_carbon.outputs.manifest import publish_inventory, publish_large_inventory


def run_inventory(paths: list[str | Path], reporting_year: str, *, engine: str = "auto",
                  scheduler: str | None = None, ledger: str | Path | None = None,
                  rejected: str | Path | None = None, output: str | Path | None = None,
                  list_rejected: int = 0, **pricing) -> Inventory | LargeInventory:
    """The inventory of one year on the engine `choose_engine` picks, with the `PricingInputs`
    ``pricing``; ``ledger`` and ``rejected`` are written as CSV (a ``.parquet`` ledger as Parquet,
    the same on every engine), and ``output`` is a folder of outputs with a manifest that
    `verify` recomputes on the same engine. The DuckDB and Dask engines write their ledger and
    rejected rows as they compute (into ``output`` when given), and, with ``list_rejected``, give
    that many of the first rejected entries as `LargeInventory.rejected` (`_first_rejected`)."""
    chosen = choose_engine(paths, engine)
    parameters = {"reporting_year": reporting_year, **pricing}
    if output is not None and ledger is not None and Path(ledger).suffix.lower() == ".parquet":
        raise UsageError("--ledger: with --output the ledger is written as CSV into the folder; "
                         "give --ledger FILE.csv for a copy, or leave it out")
    if output is not None and chosen in LARGE_ENGINES:
        if scheduler and chosen != "dask":
            raise UsageError("--scheduler is for --engine dask")
        result = publish_large_inventory(paths, reporting_year, output, parameters, engine=chosen, scheduler=scheduler)
        for asked, name in ((ledger, "ledger.csv"), (rejected, "rejected.csv")):
            if asked is not None:  # the same file, also where it was asked for
                Path(asked).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(Path(output) / name, asked)
        return _first_rejected(result, Path(output) / "rejected.csv", list_rejected)
    result = compute_inventory_on_engine(paths, reporting_year, engine=chosen, scheduler=scheduler, ledger=ledger,
                                         rejected=rejected, **pricing)
    if isinstance(result, LargeInventory) and list_rejected and result.rejected_count:
        if rejected is not None:
            return _first_rejected(result, rejected, list_rejected)
        with tempfile.TemporaryDirectory() as folder:  # the rows were not numbered: a second run lists them
            listed = Path(folder) / "rejected.csv"
            compute_inventory_on_engine(paths, reporting_year, engine=chosen, scheduler=scheduler,
                                        rejected=listed, **pricing)
            return _first_rejected(result, listed, list_rejected)
    if isinstance(result, Inventory):
        if output is not None:
            publish_inventory(result, output, "inventory", paths, parameters)
        if ledger is not None:
            write_ledger(result.ledger, ledger)
        if rejected is not None:
            write_csv(result.rejected, rejected)
    return result


def _first_rejected(result: LargeInventory, rejected: Path, count: int) -> LargeInventory:
    """``result`` with the first ``count`` entries of the rejected rows it wrote to ``rejected``
    (`LargeInventory.rejected`), in the order of that file (by file, sheet and row, as the
    in-memory path orders its own), their row numbers as integers."""
    if count:
        first = pd.read_csv(rejected, nrows=count, dtype=str, keep_default_na=False)
        result.rejected = first.assign(source_row=pd.to_numeric(first["source_row"], errors="coerce").astype("Int64"))
    return result
