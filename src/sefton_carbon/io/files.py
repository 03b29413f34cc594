"""Files written and hashed: CSV that is safe to open in a spreadsheet, and SHA-256 digests."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def defuse_text(value: object) -> object:
    """Text that a spreadsheet would run as a formula, made inert with a leading apostrophe.

    Cells starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return are prefixed (OWASP CSV
    injection guidance). Numbers are left alone.
    """
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def defuse_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of a table with every text column defused; numeric columns untouched."""
    safe = frame.copy()
    for column in safe.columns:
        series = safe[column]
        if isinstance(series.dtype, pd.CategoricalDtype):
            safe[column] = series.cat.rename_categories(
                [defuse_text(str(c)) if isinstance(c, str) else c for c in series.cat.categories])
        elif series.dtype == object:
            safe[column] = series.map(defuse_text)
        elif pd.api.types.is_string_dtype(series.dtype):
            formula = series.str.startswith(FORMULA_PREFIXES, na=False)
            safe[column] = series.mask(formula, "'" + series)
    return safe


def write_csv(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write a table as UTF-8 CSV, safe to open in a spreadsheet, with full numeric precision."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    defuse_frame(frame).to_csv(path, index=False, lineterminator="\n", date_format="%Y-%m-%d")
    return path


def sha256(path: str | Path) -> str:
    """The file's SHA-256 digest [hex], read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
