"""An inventory's and a collection's output files, written side by side in one folder."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from sefton_carbon.accounting.inventory import LEDGER_PARQUET_TYPES, Inventory
from sefton_carbon.accounting.rows import FILES_COLUMNS
from sefton_carbon.engines.large import LargeInventory
from sefton_carbon.engines.pipeline import compute_inventory_on_engine
from sefton_carbon.errors import UsageError
from sefton_carbon.io.columnar import write_ledger_batches
from sefton_carbon.io.files import write_csv, write_text, writing
from sefton_carbon.outputs.text import document_json, summary_json
from sefton_carbon.returns.collection import Collection

#: The engines that write an output folder as they compute (`write_large_inventory_outputs`).
LARGE_ENGINES = ("duckdb", "dask")


def write_ledger(ledger: pd.DataFrame, path: str | Path) -> Path:
    """Write an inventory's ledger as CSV (`write_csv`), or as Parquet for a ``.parquet`` name,
    typed as the DuckDB and Dask engines type theirs (`columnar.write_ledger_batches`)."""
    if Path(path).suffix.lower() != ".parquet":
        return write_csv(ledger, path)
    import pyarrow

    table = pyarrow.Table.from_pandas(ledger, preserve_index=False)
    with writing(path) as path:
        write_ledger_batches(table.to_batches(), LEDGER_PARQUET_TYPES, path)
    return path


def write_inventory_outputs(inventory: Inventory, output_dir: str | Path) -> dict[str, Path]:
    """Write ledger.csv, rejected.csv, files.csv and summary.json into a folder."""
    folder = Path(output_dir)
    written = {
        "ledger": write_csv(inventory.ledger, folder / "ledger.csv"),
        "rejected": write_csv(inventory.rejected, folder / "rejected.csv"),
        "files": write_csv(inventory.files, folder / "files.csv"),
    }
    written["summary"] = write_text(summary_json(inventory) + "\n", folder / "summary.json")
    return written


def write_large_inventory_outputs(paths: list[str | Path], reporting_year: str, output_dir: str | Path, *,
                                  engine: str = "duckdb", scheduler: str | None = None,
                                  **pricing) -> tuple[LargeInventory, dict[str, Path]]:
    """Compute one year on a large-input engine (``engine``: ``duckdb``, or ``dask`` on the cluster
    at ``scheduler`` or a local pool; `compute_inventory_on_engine`, with the `PricingInputs`
    ``pricing``) into a folder: ledger.csv and rejected.csv, written as it computes, files.csv
    (`large.files_table`) and summary.json; returns the result and the files written. Both engines
    write the same bytes but for summary.json's ``engine``."""
    if engine not in LARGE_ENGINES:
        raise UsageError(f"an output folder computed as it is written is for the {' or '.join(LARGE_ENGINES)} "
                         f"engine, not '{engine}'")
    folder = Path(output_dir)
    folder.mkdir(parents=True, exist_ok=True)
    written = {"ledger": folder / "ledger.csv", "rejected": folder / "rejected.csv"}
    result = compute_inventory_on_engine(paths, reporting_year, engine=engine, scheduler=scheduler,
                                         ledger=written["ledger"], rejected=written["rejected"], **pricing)
    written["files"] = write_csv(pd.DataFrame(result.summary["files"], columns=FILES_COLUMNS), folder / "files.csv")
    written["summary"] = write_text(document_json(result.summary) + "\n", folder / "summary.json")
    return result, written


def write_collection(collection: Collection, output_dir: str | Path) -> dict[str, Path]:
    """Write ledger.csv, rejected.csv, files.csv, summary.json, coverage.csv, scoping_register.csv
    and warnings.csv into a folder."""
    written = write_inventory_outputs(collection.inventory, output_dir)
    folder = Path(output_dir)
    written["coverage"] = write_csv(collection.coverage, folder / "coverage.csv")
    written["scoping_register"] = write_csv(collection.scoping, folder / "scoping_register.csv")
    written["warnings"] = write_csv(collection.validation.warnings, folder / "warnings.csv")
    return written
