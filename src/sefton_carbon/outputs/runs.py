"""The inventory command as a library function: one year computed on its engine, and written where
asked (the ledger, the rejected rows, an output folder with its manifest)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

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
    rejected rows as they compute (into ``output`` when given) and give them as
    `LargeInventory.rejected`; with ``list_rejected`` and no file for them, an engine that found
    rejected rows reads the input again to give them (it numbers rows only when asked to list them)."""
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
            # the same file, also where it was asked for (unless that is the folder's own file)
            if asked is not None and Path(asked).resolve() != (Path(output) / name).resolve():
                Path(asked).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(Path(output) / name, asked)
        return result
    result = compute_inventory_on_engine(paths, reporting_year, engine=chosen, scheduler=scheduler, ledger=ledger,
                                         rejected=rejected, **pricing)
    if isinstance(result, LargeInventory) and list_rejected and result.rejected_count and rejected is None:
        with tempfile.TemporaryDirectory() as folder:  # the rows were not numbered: a second run lists them
            result.rejected = compute_inventory_on_engine(paths, reporting_year, engine=chosen, scheduler=scheduler,
                                                          rejected=Path(folder) / "rejected.csv", **pricing).rejected
    if isinstance(result, Inventory):
        if output is not None:
            publish_inventory(result, output, "inventory", paths, parameters)
        if ledger is not None:
            write_ledger(result.ledger, ledger)
        if rejected is not None:
            write_csv(result.rejected, rejected)
    return result
