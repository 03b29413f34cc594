"""The checked activity rows that pricing takes, and the shape of a rejected row."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

#: Columns of every rejected-row table: where the row came from, which cell, and why.
REJECTED_COLUMNS = ["source_file", "source_sheet", "source_row", "column", "value", "reason"]
#: Columns of an inventory's table of input files (`Inventory.files`, files.csv): per file, rows
#: read (not blank), blank rows, sheets refused as a whole, the digest of the bytes read, whether
#: the file was refused as a whole, rows accounted and rejected, and t CO2e.
FILES_COLUMNS = ["source_file", "rows_read", "blank_rows", "sheets_refused", "sha256", "unreadable",
                 "rows_accounted", "rows_rejected", "tco2e"]
#: The column of accepted rows holding the possible-double-count warning of the same-supply rule
#: (`sefton_carbon.returns.same_supply`), or "" for none: the row counts either way.
SUPPLY_WARNING = "supply_warning"
#: The column of accepted rows holding the warning on a department or site name whose look-alike
#: letters were read as Latin (`sefton_carbon.io.names`), or "" for none.
NAME_WARNING = "name_warning"


@dataclass
class ActivityData:
    """Activity rows read from one or more files.

    ``rows``: parsed rows [quantity in ``unit``; dates as datetime64], one per accepted input row.
    ``rejected``: one row per rejected input row (or unreadable file), with ``REJECTED_COLUMNS``.
    ``files``: per file, ``rows_read`` (non-blank rows), ``blank_rows``, ``sheets_refused`` (sheets
    of a workbook refused as a whole: each is one entry among the rejected, naming its header row,
    and none of its rows is counted as read), ``unreadable`` and ``sha256``, the digest of the bytes read (the same before and after reading, or the file is
    refused as changed while it was read).
    """

    rows: pd.DataFrame
    rejected: pd.DataFrame
    files: pd.DataFrame
    #: The files and sheets refused as a whole (`REJECTED_COLUMNS`), each also an entry of ``rejected``.
    refused_whole: pd.DataFrame | None = None


def refused_whole_records(refused: pd.DataFrame | None) -> list[dict]:
    """The files and sheets refused as a whole, as an inventory's summary lists them
    (``refused_whole``): their rows are not counted as read, so the ``rows`` object cannot show them."""
    if refused is None:
        return []
    return [{"source_file": str(entry.source_file), "source_sheet": str(entry.source_sheet or ""),
             "source_row": None if pd.isna(entry.source_row) else int(entry.source_row),
             "column": str(entry.column or ""), "reason": str(entry.reason)}
            for entry in refused.itertuples(index=False)]
