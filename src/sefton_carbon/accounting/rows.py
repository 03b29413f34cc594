"""The checked activity rows that pricing takes, and the shape of a rejected row."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

#: Columns of every rejected-row table: where the row came from, which cell, and why.
REJECTED_COLUMNS = ["source_file", "source_sheet", "source_row", "column", "value", "reason"]
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
