"""Activity data: reading and checking the tables departments send.

An activity table has one row per activity: ``department, site, activity, quantity, unit,
period_start, period_end``, optionally ``data_quality`` (actual | estimated) and ``notes``. It may be a
CSV file (UTF-8, UTF-8 with BOM, UTF-16 with BOM, or Windows-1252) or a workbook (.xlsx, .xls, .ods);
title rows above the header are skipped, and header names are matched in any case and spacing and
with common synonyms (`COLUMN_SYNONYMS`).

Every row read ends up in exactly one of two tables: `ActivityData.rows` (parsed, ready to price) or
`ActivityData.rejected` (with its file, sheet, row, column, value and reason). Blank rows are not
activity rows; they are counted per file in `ActivityData.files` and nowhere else.

Dates are ISO (2023-04-01), UK day-first (01/04/2023, so 03/04/2023 is 3 April), or Excel serial
day numbers. Quantities may carry thousands separators (1,234.5).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .catalogue import Catalogue, load_catalogue
from .errors import DataError, UsageError
from .spreadsheets import CSV_SUFFIXES, SPREADSHEET_SUFFIXES, cell_text, read_sheet_rows, \
    sheet_names
from .units import parse_unit_column

REQUIRED_COLUMNS = ["department", "site", "activity", "quantity", "unit", "period_start", "period_end"]
OPTIONAL_COLUMNS = ["data_quality", "notes"]

#: Column -> header names accepted for it (compared after `fold_header`).
COLUMN_SYNONYMS: dict[str, tuple[str, ...]] = {
    "department": ("department", "dept", "directorate", "service area"),
    "site": ("site", "site name", "building", "property", "premises"),
    "activity": ("activity", "activity type", "emission source"),
    "quantity": ("quantity", "qty", "amount", "usage", "consumption"),
    "unit": ("unit", "units", "uom", "unit of measure", "unit of measurement"),
    "period_start": ("period start", "start", "from", "start date", "from date", "period from"),
    "period_end": ("period end", "end", "to", "end date", "to date", "period to"),
    "data_quality": ("data quality", "quality", "actual or estimated"),
    "notes": ("notes", "note", "comments", "comment"),
}
_HEADER_LOOKUP = {name: column for column, names in COLUMN_SYNONYMS.items() for name in names}
HEADER_SEARCH_ROWS = 20
DATA_QUALITY_VALUES = {"": "actual", "actual": "actual", "estimated": "estimated",
                       "estimate": "estimated"}
REJECTED_COLUMNS = ["source_file", "source_sheet", "source_row", "column", "value", "reason"]
CATEGORY_COLUMNS = ["source_file", "source_sheet", "department", "site", "activity",
                    "activity_as_written", "unit", "unit_as_written", "data_quality"]
#: Excel's day zero for serial dates (1900 date system, after its 1900 leap-year quirk).
EXCEL_EPOCH = dt.date(1899, 12, 30)
_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})([ T]00:00(:00)?)?$")
_UK_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_SERIAL_DATE = re.compile(r"^\d{5}$")
_THOUSANDS = re.compile(r"^-?\d{1,3}(,\d{3})+(\.\d+)?$")


def fold_header(text: object) -> str:
    """A header cell folded for matching: lower case, ``_`` and ``-`` as spaces, spaces collapsed."""
    return " ".join(re.sub(r"[_\-]+", " ", str(text)).lower().split())


@dataclass
class ActivityData:
    """Activity rows read from one or more files.

    ``rows``: parsed rows [quantity in ``unit``; dates as datetime64], one per accepted input row.
    ``rejected``: one row per rejected input row (or unreadable file), with ``REJECTED_COLUMNS``.
    ``files``: per file, ``rows_read`` (non-blank rows) and ``blank_rows``.
    """

    rows: pd.DataFrame
    rejected: pd.DataFrame
    files: pd.DataFrame


def parse_date(text: str) -> dt.date | None:
    """A date as written in a return, or None when it is not a real date."""
    text = text.strip()
    try:
        if match := _ISO_DATE.match(text):
            return dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        if match := _UK_DATE.match(text):
            return dt.date(int(match.group(3)), int(match.group(2)), int(match.group(1)))
        if _SERIAL_DATE.match(text):
            return EXCEL_EPOCH + dt.timedelta(days=int(text))
    except ValueError:
        return None
    return None


def parse_date_column(values: pd.Series) -> pd.Series:
    """Parse a column of dates once per distinct value; NaT where a value is not a date."""
    distinct = {text: parse_date(text) for text in values.unique()}
    return pd.to_datetime(values.map(distinct), errors="coerce")


def parse_quantity_column(values: pd.Series) -> pd.Series:
    """Numbers from text cells; NaN where a cell is not a number. Thousands separators accepted."""
    numbers = pd.to_numeric(values, errors="coerce")
    retry = numbers.isna() & (values != "")
    if retry.any():
        cleaned = values[retry].str.strip()
        cleaned = cleaned.where(~cleaned.str.match(_THOUSANDS), cleaned.str.replace(",", ""))
        numbers[retry] = pd.to_numeric(cleaned, errors="coerce")
    return numbers.astype("float64")


def _detect_encoding(path: Path) -> str:
    raw = path.read_bytes()
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    if b"\x00" in raw[:4096]:
        raise DataError("is not a text file (it contains NUL bytes): save it as CSV or .xlsx",
                        file=str(path))
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8-sig"


def _header_map(cells: list[str]) -> dict[str, int] | None:
    found: dict[str, int] = {}
    for position, cell in enumerate(cells):
        column = _HEADER_LOOKUP.get(fold_header(cell))
        if column is not None:
            found.setdefault(column, position)
    return found if all(column in found for column in REQUIRED_COLUMNS) else None


def _find_header(rows: list[list[str]], path: Path, sheet: str | None) -> tuple[int, dict[str, int]]:
    for index, cells in enumerate(rows[:HEADER_SEARCH_ROWS]):
        found = _header_map(cells)
        if found is None:
            continue
        for column in found:
            duplicates = [cells[p] for p, cell in enumerate(cells)
                          if _HEADER_LOOKUP.get(fold_header(cell)) == column]
            if len(duplicates) > 1:
                raise DataError(f"columns {', '.join(repr(d) for d in duplicates)} all mean "
                                f"'{column}': keep one", file=str(path), sheet=sheet, row=index + 1)
        return index, found
    raise DataError(f"no header row in the first {HEADER_SEARCH_ROWS} rows: expected columns "
                    f"{', '.join(REQUIRED_COLUMNS)} (optional: {', '.join(OPTIONAL_COLUMNS)})",
                    file=str(path), sheet=sheet)


def _read_csv(path: Path) -> tuple[pd.DataFrame, int, str | None]:
    encoding = _detect_encoding(path)
    with open(path, encoding=encoding, newline="", errors="replace") as stream:
        head = [row for _, row in zip(range(HEADER_SEARCH_ROWS), csv.reader(stream))]
    header_index, found = _find_header(head, path, None)
    frame = pd.read_csv(path, encoding=encoding, encoding_errors="replace", header=None,
                        skiprows=header_index + 1, dtype=str, keep_default_na=False,
                        skip_blank_lines=False, usecols=sorted(found.values()),
                        on_bad_lines="error")
    frame = frame.rename(columns={position: column for column, position in found.items()})
    return frame, header_index + 1, None


def _read_workbook(path: Path) -> tuple[pd.DataFrame, int, str | None]:
    failures = []
    for sheet in sheet_names(path):
        rows = [[cell_text(value) for value in row] for row in read_sheet_rows(path, sheet)]
        try:
            header_index, found = _find_header(rows, path, sheet)
        except DataError as error:
            failures.append(error)
            continue
        width = max(found.values()) + 1
        body = [(row + [""] * width)[:width] for row in rows[header_index + 1:]]
        frame = pd.DataFrame(body, columns=range(width), dtype=object)
        frame = frame[[found[column] for column in found]]
        frame.columns = list(found)
        return frame.astype(str), header_index + 1, sheet
    if len(failures) == 1:
        raise failures[0]
    raise DataError(f"no sheet has a header row with columns {', '.join(REQUIRED_COLUMNS)}",
                    file=str(path))


def _read_table(path: Path) -> tuple[pd.DataFrame, int, str | None]:
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        return _read_csv(path)
    if suffix in SPREADSHEET_SUFFIXES:
        return _read_workbook(path)
    raise DataError(f"unsupported file type '{suffix}': send .csv, .xlsx, .xls or .ods", file=str(path))


def _rejections(frame: pd.DataFrame, checks: list[tuple[pd.Series, str, pd.Series]]) -> pd.DataFrame:
    """One row per rejected input row: the first failing column and value, all reasons joined."""
    parts = []
    for mask, column, reason in checks:
        if mask.any():
            parts.append(pd.DataFrame({"position": np.flatnonzero(mask.to_numpy()), "column": column,
                                       "value": frame.loc[mask, column].to_numpy(dtype=object),
                                       "reason": reason[mask].to_numpy(dtype=object)}))
    if not parts:
        return pd.DataFrame({"position": pd.Series(dtype="int64"), "column": pd.Series(dtype=object),
                             "value": pd.Series(dtype=object), "reason": pd.Series(dtype=object)})
    found = pd.concat(parts, ignore_index=True).sort_values("position", kind="stable")
    return found.groupby("position", sort=True).agg(
        column=("column", "first"), value=("value", "first"), reason=("reason", "; ".join)
    ).reset_index()


def _parse(frame: pd.DataFrame, catalogue: Catalogue) -> tuple[pd.DataFrame, list]:
    """Parse text columns; return the parsed frame and the checks that failed."""
    for column in OPTIONAL_COLUMNS:
        if column not in frame:
            frame[column] = ""
    text = {column: frame[column].str.strip() for column in REQUIRED_COLUMNS + OPTIONAL_COLUMNS}
    parsed = pd.DataFrame(index=frame.index)
    parsed["department"] = text["department"]
    parsed["site"] = text["site"]
    parsed["activity_as_written"] = text["activity"]
    distinct_activities = {name: catalogue.canonical_name(name) for name in text["activity"].unique()}
    parsed["activity"] = text["activity"].map(distinct_activities)
    parsed["quantity"] = parse_quantity_column(text["quantity"])
    parsed["unit_as_written"] = text["unit"]
    parsed["unit"], unit_errors = parse_unit_column(text["unit"].where(text["unit"] != ""))
    parsed["period_start"] = parse_date_column(text["period_start"])
    parsed["period_end"] = parse_date_column(text["period_end"])
    parsed["data_quality"] = text["data_quality"].str.lower().map(DATA_QUALITY_VALUES)
    parsed["notes"] = text["notes"]

    def constant(message: str) -> pd.Series:
        return pd.Series(message, index=frame.index)

    def quoted(column: str, template: str) -> pd.Series:
        return text[column].map({value: template.format(value) for value in text[column].unique()})

    unknown = parsed["activity"].isna() & (text["activity"] != "")
    quantity = parsed["quantity"]
    start, end = parsed["period_start"], parsed["period_end"]
    checks = [
        (text["department"] == "", "department", constant("department is empty")),
        (text["activity"] == "", "activity", constant("activity is empty")),
        (unknown, "activity", text["activity"].map(
            {name: catalogue.unknown_activity_message(name)
             for name, canonical in distinct_activities.items() if canonical is None})),
        (text["quantity"] == "", "quantity", constant("quantity is empty")),
        (quantity.isna() & (text["quantity"] != ""), "quantity",
         quoted("quantity", "quantity '{}' is not a number: write digits only, such as 1234.5")),
        (np.isinf(quantity), "quantity", constant("quantity is not a finite number")),
        (quantity < 0, "quantity",
         quoted("quantity", "quantity {} is negative: send corrections as a separate note to the "
                "energy team")),
        (text["unit"] == "", "unit", constant("unit is empty")),
        (unit_errors.notna(), "unit", unit_errors),
        (text["period_start"] == "", "period_start", constant("period_start is empty")),
        (start.isna() & (text["period_start"] != ""), "period_start",
         quoted("period_start", "period_start '{}' is not a date: write 2023-04-01 or 01/04/2023")),
        (text["period_end"] == "", "period_end", constant("period_end is empty")),
        (end.isna() & (text["period_end"] != ""), "period_end",
         quoted("period_end", "period_end '{}' is not a date: write 2024-03-31 or 31/03/2024")),
        (end < start, "period_end", constant("period ends before it starts")),
        (parsed["data_quality"].isna(), "data_quality",
         quoted("data_quality", "data_quality '{}' is not accepted: write actual or estimated")),
    ]
    return parsed, checks


def _read_one(path: Path, catalogue: Catalogue) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    frame, header_row, sheet = _read_table(path)
    frame = frame.fillna("")
    blank = (frame.apply(lambda column: column.str.strip()) == "").all(axis=1).to_numpy()
    source_rows = np.arange(len(frame)) + header_row + 1
    frame = frame[~blank].reset_index(drop=True)
    source_rows = source_rows[~blank]
    parsed, checks = _parse(frame, catalogue)
    problems = _rejections(frame, checks)
    positions = problems["position"].to_numpy()
    rejected = pd.DataFrame({
        "source_file": str(path), "source_sheet": sheet or "", "source_row": source_rows[positions],
        "column": problems["column"].to_numpy(), "value": problems["value"].to_numpy(),
        "reason": problems["reason"].to_numpy()})
    keep = np.ones(len(frame), dtype=bool)
    keep[positions] = False
    rows = parsed[keep].copy()
    rows.insert(0, "source_row", source_rows[keep])
    rows.insert(0, "source_sheet", sheet or "")
    rows.insert(0, "source_file", str(path))
    counts = {"source_file": str(path), "rows_read": int(len(frame)), "blank_rows": int(blank.sum())}
    return rows, rejected, counts


def expand_paths(paths: list[str | Path]) -> list[Path]:
    """Files named, and the activity files inside folders named (sorted, recursively)."""
    files: list[Path] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            files.extend(sorted(child for child in path.rglob("*") if child.is_file()
                                and child.suffix.lower() in CSV_SUFFIXES | SPREADSHEET_SUFFIXES
                                and not child.name.startswith(("~$", "."))))
        elif path.is_file():
            files.append(path)
        else:
            raise UsageError(f"{path}: no such file or folder")
    if not files:
        raise UsageError(f"no activity files (.csv, .xlsx, .xls, .ods) in {', '.join(map(str, paths))}")
    return files


def read_activity(paths: list[str | Path] | str | Path, catalogue: Catalogue | None = None) -> ActivityData:
    """Read activity tables from files and folders; see `ActivityData`.

    A file that cannot be read at all (no header, not a table) is listed among the rejected with no
    row number; its rows are not counted as read.
    """
    catalogue = catalogue or load_catalogue()
    if isinstance(paths, (str, Path)):
        paths = [paths]
    all_rows, all_rejected, all_counts = [], [], []
    for path in expand_paths(paths):
        try:
            rows, rejected, counts = _read_one(path, catalogue)
        except DataError as error:
            rows = None
            rejected = pd.DataFrame([{"source_file": str(path), "source_sheet": error.sheet or "",
                                      "source_row": error.row, "column": error.column or "",
                                      "value": "", "reason": error.reason}])
            counts = {"source_file": str(path), "rows_read": 0, "blank_rows": 0, "unreadable": True}
        if rows is not None:
            all_rows.append(rows)
        all_rejected.append(rejected)
        all_counts.append(counts)
    rows = pd.concat(all_rows, ignore_index=True) if all_rows else _empty_rows()
    rows.insert(0, "input_row", np.arange(1, len(rows) + 1))
    for column in CATEGORY_COLUMNS:
        rows[column] = rows[column].astype("category")
    rejected = pd.concat(all_rejected, ignore_index=True)[REJECTED_COLUMNS]
    rejected["source_row"] = rejected["source_row"].astype("Int64")
    files = pd.DataFrame(all_counts)
    files["unreadable"] = files.get("unreadable", pd.Series(False, index=files.index)).fillna(False)
    return ActivityData(rows=rows, rejected=rejected, files=files.astype({"unreadable": bool}))


def _empty_rows() -> pd.DataFrame:
    return pd.DataFrame({
        "source_file": pd.Series(dtype=str), "source_sheet": pd.Series(dtype=str),
        "source_row": pd.Series(dtype="int64"), "department": pd.Series(dtype=str),
        "site": pd.Series(dtype=str), "activity_as_written": pd.Series(dtype=str),
        "activity": pd.Series(dtype=str), "quantity": pd.Series(dtype="float64"),
        "unit_as_written": pd.Series(dtype=str), "unit": pd.Series(dtype=str),
        "period_start": pd.Series(dtype="datetime64[ns]"), "period_end": pd.Series(dtype="datetime64[ns]"),
        "data_quality": pd.Series(dtype=str), "notes": pd.Series(dtype=str)})
