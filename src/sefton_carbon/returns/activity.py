"""Activity data: reading and checking the tables departments send.

An activity table has one row per activity: ``department, site, activity, quantity, unit,
period_start, period_end``, optionally ``data_quality`` (actual | estimated) and ``notes``. It may be a
CSV file (UTF-8, UTF-8 with BOM, UTF-16 with BOM, or Windows-1252) or a workbook (.xlsx, .xls, .ods);
title rows above the header are skipped, and header names are matched in any case and spacing and
with common synonyms (`COLUMN_SYNONYMS`).

Every row read ends up in exactly one of two tables: `ActivityData.rows` (parsed, ready to price) or
`ActivityData.rejected` (with its file, sheet, row, column, value and reason). Rows with nothing in
activity, quantity, unit, period and meter (blank rows, comment rows, template rows with only the
department filled in) are not activity rows; they are counted per file as ``blank_rows``.

Dates are ISO (2023-04-01), UK day-first (01/04/2023, so 03/04/2023 is 3 April), or Excel serial
day numbers. Quantities may carry thousands separators (1,234.5).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sefton_carbon.accounting.catalogue import Catalogue, load_catalogue
from sefton_carbon.accounting.rows import REJECTED_COLUMNS, ActivityData
from sefton_carbon.accounting.units import UnitError, parse_unit
from sefton_carbon.errors import DataError, UsageError
from sefton_carbon.io.cells import parse_date, parse_quantity
from sefton_carbon.io.spreadsheets import (
    CSV_SUFFIXES,
    SPREADSHEET_SUFFIXES,
    cell_text,
    check_limits,
    decode_text,
    read_sheet_rows,
    sheet_names,
)

REQUIRED_COLUMNS = ["department", "site", "activity", "quantity", "unit", "period_start", "period_end"]
OPTIONAL_COLUMNS = ["meter", "data_quality", "notes"]

#: Column -> header names accepted for it (compared after `fold_header`).
COLUMN_SYNONYMS: dict[str, tuple[str, ...]] = {
    "department": ("department", "dept", "directorate", "service area"),
    "site": ("site", "site name", "building", "property", "premises"),
    "activity": ("activity", "activity type", "emission source"),
    "quantity": ("quantity", "qty", "amount", "usage", "consumption"),
    "unit": ("unit", "units", "uom", "unit of measure", "unit of measurement"),
    "period_start": ("period start", "start", "from", "start date", "from date", "period from"),
    "period_end": ("period end", "end", "to", "end date", "to date", "period to"),
    "meter": ("meter", "meter id", "meter number", "mpan", "mprn", "meter serial"),
    "data_quality": ("data quality", "quality", "actual or estimated"),
    "notes": ("notes", "note", "comments", "comment"),
}
_HEADER_LOOKUP = {name: column for column, names in COLUMN_SYNONYMS.items() for name in names}
HEADER_SEARCH_ROWS = 20
DATA_QUALITY_VALUES = {"": "actual", "actual": "actual", "estimated": "estimated", "correction": "correction",
                       "estimate": "estimated"}
CATEGORY_COLUMNS = ["source_file", "source_sheet", "department", "site", "meter", "activity",
                    "activity_as_written", "unit", "unit_as_written", "data_quality"]
#: Columns that carry a measurement: a row with all of them empty is not an activity row.
MEASURED_COLUMNS = ["activity", "quantity", "unit", "period_start", "period_end", "meter"]
#: Cell texts that mark a total or subtotal row, which would count its rows twice.
TOTAL_LABELS = frozenset({"total", "totals", "grand total", "sub-total", "subtotal", "sub total", "sum"})
#: Columns that identify a row's content: two rows equal on all of them are duplicates.
CONTENT_COLUMNS = ["department", "site", "meter", "activity", "quantity", "unit", "period_start",
                   "period_end"]


def fold_header(text: object) -> str:
    """A header cell folded for matching: lower case, ``_`` and ``-`` as spaces, spaces collapsed."""
    return " ".join(re.sub(r"[_\-]+", " ", str(text)).lower().split())


def column_for_header(text: object) -> str | None:
    """The activity-table column a header cell names (``Dept`` -> ``department``), or None."""
    return _HEADER_LOOKUP.get(fold_header(text))


def _each_value(column: pd.Series, function) -> pd.Series:
    """Apply ``function`` once per distinct value of a categorical column; the result is categorical.

    ``None`` results become missing values.
    """
    results = pd.Series([function(value) for value in column.cat.categories], dtype=object)
    per_category, uniques = pd.factorize(results, use_na_sentinel=True)
    per_category = np.append(per_category.astype(np.int32), np.int32(-1))  # code -1 stays missing
    codes = per_category[column.cat.codes.to_numpy()]
    return pd.Series(pd.Categorical.from_codes(codes, categories=pd.Index(uniques, dtype=object),
                                               validate=False), index=column.index)


def _each_flag(column: pd.Series, predicate) -> np.ndarray:
    """A boolean per row, computing ``predicate`` once per distinct value of a categorical column."""
    flags = np.array([bool(predicate(value)) for value in column.cat.categories] + [False])
    return flags[column.cat.codes.to_numpy()]


def _each_date(column: pd.Series) -> pd.Series:
    """Dates [datetime64] parsed once per distinct value; NaT where a value is not a date."""
    parsed = [parse_date(value) for value in column.cat.categories] + [None]
    values = np.array([np.datetime64(day, "ns") if day else np.datetime64("NaT", "ns") for day in parsed])
    return pd.Series(values[column.cat.codes.to_numpy()], index=column.index)


_NUMBER_WITH_UNIT = re.compile(r"^([-+]?[\d,]*\.?\d+)\s*([^\d\s,.].*)$")


def split_number_unit(text: str) -> tuple[float, str] | None:
    """A quantity cell that also holds a known unit (``1234 kWh``, ``1,500 litres``): (number, unit)."""
    match = _NUMBER_WITH_UNIT.match(text.strip())
    if not match or unit_or_error(match.group(2))[0] is None:  # '12a' is not a number with a unit
        return None
    number = parse_quantity(match.group(1))
    return None if number is None else (number, match.group(2).strip())


def _is_blank(value: object) -> bool:
    return not str(value).strip()


def _as_text(series: pd.Series) -> pd.Series:
    """A text column as a categorical of Python strings with no missing values (missing cells
    become empty text)."""
    categorical = series if isinstance(series.dtype, pd.CategoricalDtype) else series.astype("category")
    codes = categorical.cat.codes.to_numpy()
    categories = list(categorical.cat.categories.astype(object))
    if (codes < 0).any():
        if "" not in categories:
            categories.append("")
        codes = np.where(codes < 0, categories.index(""), codes)
    return pd.Series(pd.Categorical.from_codes(codes, categories=pd.Index(categories, dtype=object),
                                               validate=False), index=series.index)


def _detect_encoding(path: Path) -> str:
    """The encoding of a CSV file, judged from its first 64 KiB (see the module docstring).

    A file whose start is valid UTF-8 is read as UTF-8; the reader checks the rest and the file is
    read again as Windows-1252 if a later byte is not UTF-8.
    """
    with open(path, "rb") as stream:
        start = stream.read(65536)
    if start.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    if b"\x00" in start:
        raise DataError("is not a text file (it contains NUL bytes): save it as CSV or .xlsx",
                        file=str(path))
    try:
        start.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.start < len(start) - 3:  # not merely a character cut at the 64 KiB boundary
            return "cp1252"
    return "utf-8-sig"


def _header_map(cells: list[str]) -> dict[str, int] | None:
    found: dict[str, int] = {}
    for position, cell in enumerate(cells):
        column = column_for_header(cell)
        if column is not None:
            found.setdefault(column, position)
    return found if all(column in found for column in REQUIRED_COLUMNS) else None


def _find_header(rows: list[list[str]], path: Path, sheet: str | None) -> tuple[int, dict[str, int]]:
    best, best_found = None, {}
    for index, cells in enumerate(rows[:HEADER_SEARCH_ROWS]):
        found = _header_map(cells)
        if found is None:
            partial = {column_for_header(cell) for cell in cells} - {None}
            if len(partial) > len(best_found):
                best, best_found = index, partial
            continue
        for column in found:
            duplicates = [cells[p] for p, cell in enumerate(cells)
                          if column_for_header(cell) == column]
            if len(duplicates) > 1:
                raise DataError(f"columns {', '.join(repr(d) for d in duplicates)} all mean "
                                f"'{column}': keep one", file=str(path), sheet=sheet, row=index + 1)
        return index, found
    if best is not None and len(best_found) >= 2:
        missing = [column for column in REQUIRED_COLUMNS if column not in best_found]
        raise DataError(f"the header row lacks {', '.join(missing)} (expected columns "
                        f"{', '.join(REQUIRED_COLUMNS)}; optional: {', '.join(OPTIONAL_COLUMNS)})",
                        file=str(path), sheet=sheet, row=best + 1)
    raise DataError(f"no header row in the first {HEADER_SEARCH_ROWS} rows: expected columns "
                    f"{', '.join(REQUIRED_COLUMNS)} (optional: {', '.join(OPTIONAL_COLUMNS)})",
                    file=str(path), sheet=sheet)


@dataclass
class _Table:
    """A table as read, before parsing: one categorical text column per canonical column.

    ``quantity`` is float64 when the fast reader parsed it as numbers (``quantity_empty`` then marks
    empty cells), categorical text otherwise. ``extra_fields`` marks rows with more cells than the
    header. ``first_row`` is the file row number of the first data row.
    """

    frame: pd.DataFrame
    first_row: int
    sheet: str | None
    quantity_empty: np.ndarray | None = None
    extra_fields: np.ndarray | None = None


def _from_rows(rows: list[list[str]], header_index: int, found: dict[str, int], sheet: str | None) -> _Table:
    """Build a table from rows of cell texts (workbooks, and CSV files the fast reader refuses)."""
    width = len(rows[header_index])
    body = rows[header_index + 1:]
    extra = np.array([any(cell.strip() for cell in row[width:]) for row in body], dtype=bool)
    frame = pd.DataFrame({column: pd.Categorical([row[position] if position < len(row) else ""
                                                  for row in body])
                          for column, position in found.items()})
    frame = frame.apply(_as_text)
    return _Table(frame, header_index + 2, sheet, extra_fields=extra)


#: Cell separators tried in turn: comma, then the semicolon of European-locale spreadsheets, then tab.
CSV_DELIMITERS = (",", ";", "\t")


def _find_csv_header(path: Path, encoding: str) -> tuple[int, dict[str, int], str, int]:
    """The header row of a CSV file, its columns, the delimiter that finds it (`CSV_DELIMITERS`, in
    turn) and the header's width; when none does, the error found with commas."""
    first_error = None
    for delimiter in CSV_DELIMITERS:
        with open(path, encoding=encoding, newline="", errors="replace") as stream:
            head = [row for _, row in zip(range(HEADER_SEARCH_ROWS), csv.reader(stream, delimiter=delimiter))]
        try:
            header_index, found = _find_header(head, path, None)
        except DataError as error:
            first_error = first_error or error
            continue
        return header_index, found, delimiter, len(head[header_index])
    raise first_error


def _read_csv(path: Path, encoding: str | None = None) -> _Table:
    import pyarrow
    import pyarrow.csv as arrow_csv

    encoding = encoding or _detect_encoding(path)
    header_index, found, delimiter, width = _find_csv_header(path, encoding)
    names = [f"column_{position}" for position in range(width)]
    text = pyarrow.dictionary(pyarrow.int32(), pyarrow.string())

    def read(quantity_type):
        types = {names[position]: (quantity_type if column == "quantity" else text)
                 for column, position in found.items()}
        return arrow_csv.read_csv(
            path, read_options=arrow_csv.ReadOptions(
                skip_rows=header_index + 1, column_names=names,
                encoding="utf8" if encoding == "utf-8-sig" else encoding),
            parse_options=arrow_csv.ParseOptions(delimiter=delimiter, ignore_empty_lines=False),
            convert_options=arrow_csv.ConvertOptions(
                column_types=types, include_columns=list(types), strings_can_be_null=False,
                null_values=[""], quoted_strings_can_be_null=False))

    try:
        try:
            table = read(pyarrow.float64())
            quantity_empty = table.column(names[found["quantity"]]).is_null().to_numpy(zero_copy_only=False)
        except pyarrow.ArrowInvalid as error:
            if "conversion error" not in str(error):
                raise
            table, quantity_empty = read(text), None
    except pyarrow.ArrowInvalid as error:
        if "utf8" in str(error).lower() and encoding != "cp1252":
            return _read_csv(path, "cp1252")
        # Rows with more or fewer cells than the header: read slowly, and reject rows one by one.
        text_content = decode_text(path)
        return _from_rows(list(csv.reader(io.StringIO(text_content, newline=""), delimiter=delimiter)),
                          header_index, found, None)
    frame = table.to_pandas()
    frame.columns = [column for column, _ in sorted(found.items(), key=lambda item: item[1])]
    frame = frame.apply(lambda column: column if column.name == "quantity" and quantity_empty is not None
                        else _as_text(column))
    return _Table(frame, header_index + 2, None, quantity_empty=quantity_empty)


def _read_workbook(path: Path) -> _Table:
    failures = []
    for sheet in sheet_names(path):
        rows = [[cell_text(value) for value in row] for row in read_sheet_rows(path, sheet)]
        try:
            header_index, found = _find_header(rows, path, sheet)
        except DataError as error:
            failures.append(error)
            continue
        return _from_rows(rows, header_index, found, sheet)
    if len(failures) == 1:
        raise failures[0]
    raise DataError(f"no sheet has a header row with columns {', '.join(REQUIRED_COLUMNS)}",
                    file=str(path))


def _read_table(path: Path) -> _Table:
    check_limits(path)
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        return _read_csv(path)
    if suffix in SPREADSHEET_SUFFIXES:
        return _read_workbook(path)
    raise DataError(f"unsupported file type '{suffix}': send .csv, .xlsx, .xls or .ods", file=str(path))


#: A failed check: which rows, the column named in the message, and the reason (text, or a
#: Series of reasons indexed like the rows, covering at least the failing rows).
Check = tuple[np.ndarray, str, "str | pd.Series"]


def _rejections(frame: pd.DataFrame, checks: list[Check]) -> pd.DataFrame:
    """One row per rejected input row: the first failing column and value, all reasons joined."""
    parts = []
    for mask, column, reason in checks:
        if mask.any():
            failing = frame.index[mask]
            reasons = reason if isinstance(reason, str) else reason.loc[failing].astype(object).to_numpy()
            values = frame.loc[failing, column] if column in frame else pd.Series("", index=failing)
            parts.append(pd.DataFrame({"position": np.flatnonzero(mask), "column": column,
                                       "value": values.astype(object).map(_value_text).to_numpy(),
                                       "reason": reasons}))
    if not parts:
        return pd.DataFrame({"position": pd.Series(dtype="int64"), "column": pd.Series(dtype=object),
                             "value": pd.Series(dtype=object), "reason": pd.Series(dtype=object)})
    found = pd.concat(parts, ignore_index=True).sort_values("position", kind="stable")
    return found.groupby("position", sort=True).agg(
        column=("column", "first"), value=("value", "first"), reason=("reason", "; ".join)
    ).reset_index()


def _value_text(value: object) -> str:
    if isinstance(value, float):
        return "" if np.isnan(value) else repr(value)
    return str(value).strip()


#: A quantity above this is refused as implausible for one row of a council return (a misplaced
#: decimal point or a wrong unit): 10^12 kWh is over three times the UK's annual electricity use.
MAX_QUANTITY = 1e12
_DECIMAL_COMMA = re.compile(r"^-?\d+,\d{1,2}$")
_SPACED_NUMBER = re.compile(r"^-?\d{1,3}([ \u00a0\u202f]\d{3})+(\.\d+)?$")
_DIGIT_SPACES = re.compile(r"[ \u00a0\u202f]")


def _not_a_number(text: str) -> str:
    """Why a quantity cell is not a number, with what would be accepted."""
    value = text.strip()
    if _DECIMAL_COMMA.match(value):
        return (f"quantity '{value}' uses a comma as the decimal separator: write "
                f"{value.replace(',', '.')} (a full stop before the decimals)")
    if _SPACED_NUMBER.match(value):
        joined = _DIGIT_SPACES.sub("", value)
        return f"quantity '{value}' has spaces between digits: write {joined}"
    if value.lower() in ("nan", "n/a", "na", "#n/a", "null", "none", "-"):
        return f"quantity '{value}' is not a number: leave the row out, or enter the figure"
    return f"quantity '{value}' is not a number: write digits only, such as 1234.5"


def _quantities(table: _Table, correction: np.ndarray) -> tuple[pd.Series, list[Check]]:
    """Quantities [in the row's unit] and the checks on them; ``correction`` marks rows whose
    data_quality says they correct an earlier figure (the only rows that may be negative)."""
    frame = table.frame
    if table.quantity_empty is not None:
        numbers = frame["quantity"]
        empty = table.quantity_empty
        not_number = numbers.isna().to_numpy() & ~empty  # text such as 'nan'
        not_number_reason: str | pd.Series = ("quantity is NaN, not a number: leave the row out, or enter "
                                              "the figure")
    else:
        column = frame["quantity"]

        def number(text: str) -> float | None:
            value = parse_quantity(text)
            if value is None and (split := split_number_unit(text)):
                return split[0]
            return value

        numbers = pd.Series(_each_value(column, number).to_numpy(dtype=float, na_value=np.nan),
                            index=frame.index)
        empty = _each_flag(column, _is_blank)
        not_number = numbers.isna().to_numpy() & ~empty
        not_number_reason = _each_value(column, _not_a_number)
    negative = (numbers < 0).to_numpy() & ~correction
    huge = (numbers.abs() > MAX_QUANTITY).to_numpy() & ~np.isinf(numbers.to_numpy())
    checks: list[Check] = [
        (empty, "quantity", "quantity is empty"),
        (not_number, "quantity", not_number_reason),
        (np.isinf(numbers.to_numpy()), "quantity", "quantity is not a finite number"),
        (negative, "quantity", numbers[negative].map(
            lambda value: f"quantity {value:g} is negative: a negative figure is accepted only when "
                          "data_quality is 'correction' (it corrects an earlier bill)")),
        (huge, "quantity", numbers[huge].map(
            lambda value: f"quantity {value:g} is implausibly large for one row: check the unit and the "
                          "decimal point")),
    ]
    return numbers.astype("float64"), checks


def _parse(table: _Table, catalogue: Catalogue) -> tuple[pd.DataFrame, list[Check]]:
    """Parse the text columns, once per distinct value; return the parsed rows and the checks."""
    frame = table.frame
    for column in OPTIONAL_COLUMNS:
        if column not in frame:
            frame[column] = pd.Categorical([""] * len(frame))
    parsed = pd.DataFrame(index=frame.index)
    parsed["department"] = _each_value(frame["department"], str.strip)
    parsed["site"] = _each_value(frame["site"], str.strip)
    parsed["meter"] = _each_value(frame["meter"], str.strip)
    parsed["activity_as_written"] = _each_value(frame["activity"], str.strip)
    parsed["activity"] = _each_value(frame["activity"], catalogue.canonical_name)
    correction = _each_flag(frame["data_quality"], lambda value: value.strip().lower() == "correction")
    parsed["quantity"], quantity_checks = _quantities(table, correction)
    unit_conflict = _unit_from_quantity_cell(table)
    parsed["unit_as_written"] = _each_value(frame["unit"], str.strip)
    parsed["unit"] = _each_value(frame["unit"], lambda value: unit_or_error(value)[0])
    parsed["period_start"] = _each_date(frame["period_start"])
    parsed["period_end"] = _each_date(frame["period_end"])
    parsed["data_quality"] = _each_value(frame["data_quality"],
                                         lambda value: DATA_QUALITY_VALUES.get(value.strip().lower()))
    parsed["notes"] = _each_value(frame["notes"], str.strip)

    def empty(column: str) -> np.ndarray:
        return _each_flag(frame[column], _is_blank)

    def message(column: str, template: str) -> pd.Series:
        return _each_value(frame[column], lambda value: template.format(value.strip()))

    start, end = parsed["period_start"], parsed["period_end"]
    def total_row(column: str) -> np.ndarray:
        return _each_flag(frame[column], lambda value: value.strip().lower().rstrip(":") in TOTAL_LABELS)

    checks: list[Check] = [
        (total_row("department") | total_row("site") | total_row("activity"), "department",
         "looks like a total row: send the individual rows only (totals are computed)"),
        (empty("department"), "department", "department is empty"),
        (empty("activity"), "activity", "activity is empty"),
        (parsed["activity"].isna().to_numpy() & ~empty("activity"), "activity",
         _each_value(frame["activity"], lambda value: catalogue.unknown_activity_message(value.strip()))),
        *quantity_checks,
        (unit_conflict.notna().to_numpy(), "unit", unit_conflict),
        (empty("unit"), "unit", "unit is empty"),
        (parsed["unit"].isna().to_numpy() & ~empty("unit"), "unit",
         _each_value(frame["unit"], lambda value: unit_or_error(value)[1])),
        (empty("period_start"), "period_start", "period_start is empty"),
        (start.isna().to_numpy() & ~empty("period_start"), "period_start",
         message("period_start", "period_start '{}' is not a date: write 2023-04-01 or 01/04/2023")),
        (empty("period_end"), "period_end", "period_end is empty"),
        (end.isna().to_numpy() & ~empty("period_end"), "period_end",
         message("period_end", "period_end '{}' is not a date: write 2024-03-31 or 31/03/2024")),
        ((end < start).to_numpy(), "period_end", "period ends before it starts"),
        (parsed["data_quality"].isna().to_numpy(), "data_quality",
         message("data_quality", "data_quality '{}' is not accepted: write actual, estimated or correction")),
    ]
    if table.extra_fields is not None:
        checks.append((table.extra_fields, "notes", "row has more cells than the header: check for "
                                                    "a stray comma or a shifted column"))
    return parsed, checks


def _unit_from_quantity_cell(table: _Table) -> pd.Series:
    """Move a unit written in the quantity cell (``1234 kWh``) to an empty unit cell; return, per
    row, the reason where the two disagree (missing elsewhere)."""
    frame = table.frame
    conflict = pd.Series(None, index=frame.index, dtype=object)
    if table.quantity_empty is not None:  # the fast reader parsed every quantity as a number
        return conflict
    in_cell = _each_value(frame["quantity"], lambda text: (split_number_unit(text) or (None, None))[1]).astype(object)
    if in_cell.isna().all():
        return conflict
    written = frame["unit"].astype(object).str.strip()
    fill = (written == "") & in_cell.notna()
    both = (written != "") & in_cell.notna()
    disagree = pd.Series(False, index=frame.index)
    if both.any():
        disagree[both] = [unit_or_error(mine)[0] != unit_or_error(theirs)[0]
                          for mine, theirs in zip(written[both], in_cell[both])]
    conflict[disagree] = ("the quantity cell says '" + in_cell[disagree] + "' but the unit column says '"
                          + written[disagree] + "'")
    frame["unit"] = pd.Categorical(written.where(~fill, in_cell))
    return conflict


def unit_or_error(text: str) -> tuple[str | None, str | None]:
    """A unit as written: (its canonical spelling, None), or (None, why it is not one); (None, None)
    when the cell is empty."""
    if not text.strip():
        return None, None
    try:
        return parse_unit(text), None
    except UnitError as error:
        return None, str(error)


def _constant(value: str, length: int) -> pd.Categorical:
    return pd.Categorical.from_codes(np.zeros(length, dtype=np.int8), categories=[value])


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Stack parsed tables, keeping categorical columns categorical across files."""
    if len(frames) == 1:
        return frames[0].reset_index(drop=True)
    stacked = {}
    for column in frames[0].columns:
        parts = [frame[column] for frame in frames]
        if isinstance(parts[0].dtype, pd.CategoricalDtype):
            stacked[column] = pd.api.types.union_categoricals(
                [part.cat.set_categories(part.cat.categories.astype(object)) for part in parts])
        else:
            stacked[column] = pd.concat(parts, ignore_index=True)
    return pd.DataFrame(stacked)


def _read_one(path: Path, catalogue: Catalogue) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    table = _read_table(path)
    frame = table.frame
    # A row with nothing in the measured columns is not an activity row: a blank or comment row,
    # or a template row with only the department filled in.
    blank = np.logical_and.reduce([
        table.quantity_empty if column == "quantity" and table.quantity_empty is not None
        else _each_flag(frame[column], _is_blank) for column in MEASURED_COLUMNS if column in frame])
    if table.extra_fields is not None:
        blank &= ~table.extra_fields
    source_rows = np.arange(len(frame)) + table.first_row
    if blank.any():
        keep_rows = ~blank
        frame = frame[keep_rows].reset_index(drop=True)
        table = _Table(frame, table.first_row, table.sheet,
                       None if table.quantity_empty is None else table.quantity_empty[keep_rows],
                       None if table.extra_fields is None else table.extra_fields[keep_rows])
        source_rows = source_rows[keep_rows]
    if len(frame) == 0:
        raise DataError("has a header row but no data rows", file=str(path), sheet=table.sheet,
                        row=table.first_row - 1)
    parsed, checks = _parse(table, catalogue)
    problems = _rejections(table.frame, checks)
    positions = problems["position"].to_numpy()
    rejected = pd.DataFrame({
        "source_file": str(path), "source_sheet": table.sheet or "", "source_row": source_rows[positions],
        "column": problems["column"].to_numpy(), "value": problems["value"].to_numpy(),
        "reason": problems["reason"].to_numpy()})
    keep = np.ones(len(parsed), dtype=bool)
    keep[positions] = False
    rows = parsed[keep] if len(positions) else parsed
    rows.insert(0, "source_row", source_rows[keep])
    rows.insert(0, "source_sheet", _constant(table.sheet or "", len(rows)))
    rows.insert(0, "source_file", _constant(str(path), len(rows)))
    counts = {"source_file": str(path), "rows_read": int(len(parsed)), "blank_rows": int(blank.sum())}
    return rows, rejected, counts


def _group_code(rows: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """One int64 per row identifying its combination of categorical ``columns``."""
    code = np.zeros(len(rows), dtype=np.int64)
    for column in columns:
        series = rows[column]
        code = code * (len(series.cat.categories) + 1) + series.cat.codes.to_numpy()
    return code


#: Days per group in the composite sort key (group x DAY_SPAN + day): more than any period's range.
DAY_SPAN = 1 << 20
NANOSECONDS_PER_DAY = 86_400 * 10**9


def _copies(content: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Positions of rows that repeat an earlier row of ``content`` exactly, and of those originals.

    One 64-bit hash per row finds the candidates quickly; only they are compared column by column.
    """
    mixed = np.zeros(len(content), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for number, column in enumerate(content.columns):
            values = content[column].to_numpy()
            bits = values.view(np.uint64) if values.dtype == np.float64 else values.astype(np.uint64)
            mixed = (mixed ^ bits) * np.uint64(0x9E3779B97F4A7C15 + 2 * number)
    candidates = np.flatnonzero(pd.Series(mixed).duplicated(keep=False).to_numpy())
    if not len(candidates):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    subset = content.iloc[candidates]
    repeated = subset.duplicated(keep="first").to_numpy()
    firsts = subset.reset_index().drop_duplicates(list(content.columns)).set_index(list(content.columns))
    copies = candidates[repeated]
    originals = firsts.loc[pd.MultiIndex.from_frame(subset[repeated]), "index"].to_numpy()
    return copies, originals


def _overlaps(group: np.ndarray, start: np.ndarray, end: np.ndarray, candidates: np.ndarray) -> list[tuple[int, int]]:
    """(later, earlier) positions of rows whose period overlaps an earlier-starting row of the same
    group: sorted by group then start, a row overlaps when it starts on or before the latest end so
    far, held by the earlier row. ``start`` and ``end`` are in days."""
    key_group, key_start = group[candidates], start[candidates]
    fast = (len(candidates) > 0 and int(key_group.max()) < (1 << 62) // DAY_SPAN
            and int(end.max()) - int(start.min()) < DAY_SPAN)
    if fast:  # one composite integer key: sort once, running maximum with a per-group offset
        order = candidates[np.argsort(key_group * DAY_SPAN + (key_start - int(start.min())), kind="stable")]
        offset = group[order] * DAY_SPAN
        running = np.maximum.accumulate(end[order] - int(start.min()) + offset) - offset + int(start.min())
    else:
        order = candidates[np.lexsort((candidates, key_start, key_group))]
        runs = np.cumsum(np.r_[True, group[order][1:] != group[order][:-1]])
        running = pd.Series(end[order]).groupby(runs).cummax().to_numpy()
    sorted_group, starts = group[order], start[order]
    same = np.r_[False, sorted_group[1:] == sorted_group[:-1]]
    overlapping = np.flatnonzero(same[1:] & (starts[1:] <= running[:-1])) + 1
    # The row holding the latest end so far: the last sorted position whose end equals the running
    # maximum (a group's first row always does), carried forward. One pass, so one long bill
    # overlapped by thousands of short ones costs O(n log n), not a walk back per row.
    positions = np.arange(len(order))
    holder = np.maximum.accumulate(np.where(end[order] == running, positions, 0))
    return list(zip(order[overlapping].tolist(), order[holder[overlapping - 1]].tolist()))


def _duplicates_and_overlaps(rows: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame]:
    """Rows to set aside: exact copies of an earlier row (counted once), and rows whose period
    overlaps another row's for the same department, site, meter and activity (both named)."""
    reasons: dict[int, list[str]] = {}
    if len(rows) > 1:
        files = rows["source_file"].astype(str).to_numpy()
        source_rows = rows["source_row"].to_numpy()

        def where(position: int) -> str:
            return f"{files[position]} row {source_rows[position]}"

        group = _group_code(rows, ["department", "site", "meter", "activity"])
        start = rows["period_start"].to_numpy().astype(np.int64) // NANOSECONDS_PER_DAY
        end = rows["period_end"].to_numpy().astype(np.int64) // NANOSECONDS_PER_DAY
        content = pd.DataFrame({"group": group, "start": start, "end": end,
                                "unit": rows["unit"].cat.codes.to_numpy().astype(np.int64),
                                "quantity": rows["quantity"].to_numpy()})
        copies, originals = _copies(content)
        for copy, original in zip(copies, originals):
            reasons.setdefault(copy, []).append(f"duplicate of {where(original)}: counted once")
        kept = np.ones(len(rows), dtype=bool)
        kept[copies] = False
        for later, earlier in _overlaps(group, start, end, np.flatnonzero(kept)):
            for mine, theirs in ((later, earlier), (earlier, later)):
                reasons.setdefault(mine, []).append(
                    f"period overlaps {where(theirs)} (same department, site, meter and activity)")
    set_aside = np.zeros(len(rows), dtype=bool)
    positions = np.array(sorted(reasons), dtype=np.int64)
    set_aside[positions] = True
    selected = rows.iloc[positions]
    return set_aside, pd.DataFrame({
        "source_file": selected["source_file"].astype(str).to_numpy(),
        "source_sheet": selected["source_sheet"].astype(str).to_numpy(),
        "source_row": selected["source_row"].to_numpy(), "column": "period_start",
        "value": (selected["period_start"].dt.strftime("%Y-%m-%d") + " to "
                  + selected["period_end"].dt.strftime("%Y-%m-%d")).to_numpy(),
        "reason": [_joined(reasons[position]) for position in positions]}, columns=REJECTED_COLUMNS)


#: A row that overlaps many others names this many of them and counts the rest, so that one long
#: bill overlapped by thousands of daily ones gets a reason a person can read.
REASONS_NAMED = 5


def _joined(reasons: list[str]) -> str:
    """One row's reasons, the first `REASONS_NAMED` in full and the rest counted."""
    if len(reasons) <= REASONS_NAMED:
        return "; ".join(reasons)
    return "; ".join(reasons[:REASONS_NAMED]) + f"; and {len(reasons) - REASONS_NAMED:,} more"




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
    rows = _concat(all_rows) if all_rows else _empty_rows()
    repeated, repeated_rejected = _duplicates_and_overlaps(rows)
    if repeated.any():
        rows = rows[~repeated].reset_index(drop=True)
        all_rejected.append(repeated_rejected)
    rows.insert(0, "input_row", np.arange(1, len(rows) + 1))
    rejected = pd.concat(all_rejected, ignore_index=True)[REJECTED_COLUMNS]
    rejected["source_row"] = rejected["source_row"].astype("Int64")
    files = pd.DataFrame(all_counts)
    files["unreadable"] = files.get("unreadable", pd.Series(False, index=files.index)).fillna(False)
    return ActivityData(rows=rows, rejected=rejected, files=files.astype({"unreadable": bool}))


def _empty_rows() -> pd.DataFrame:
    text = {column: pd.Categorical([]) for column in CATEGORY_COLUMNS + ["notes"]}
    return pd.DataFrame({
        **text, "source_row": pd.Series(dtype="int64"), "quantity": pd.Series(dtype="float64"),
        "period_start": pd.Series(dtype="datetime64[ns]"),
        "period_end": pd.Series(dtype="datetime64[ns]")})[
        ["source_file", "source_sheet", "source_row", "department", "site", "activity_as_written",
         "activity", "quantity", "unit_as_written", "unit", "period_start", "period_end",
         "data_quality", "notes"]]
