"""An inventory's and a collection's output files, written side by side in one folder."""

from __future__ import annotations

from pathlib import Path

from sefton_carbon.accounting.inventory import Inventory
from sefton_carbon.engines.large import LargeInventory, compute_large_inventory
from sefton_carbon.io.files import write_csv, write_text
from sefton_carbon.outputs.text import document_json, summary_json
from sefton_carbon.returns.collection import Collection


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


def write_large_inventory_outputs(paths: list[str | Path], reporting_year: str, output_dir: str | Path,
                                  **pricing) -> tuple[LargeInventory, dict[str, Path]]:
    """Compute one year on the DuckDB engine (`compute_large_inventory`, with the `PricingInputs`
    ``pricing``) into a folder: ledger.csv and rejected.csv, streamed as it computes, and
    summary.json; returns the result and the files written. There is no files.csv: the engine
    counts rows by group, not by file."""
    folder = Path(output_dir)
    folder.mkdir(parents=True, exist_ok=True)
    written = {"ledger": folder / "ledger.csv", "rejected": folder / "rejected.csv"}
    result = compute_large_inventory(paths, reporting_year, ledger=written["ledger"],
                                     rejected=written["rejected"], **pricing)
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
