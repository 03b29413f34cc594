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
day numbers, from 1990 to 2100. Quantities may carry thousands separators (1,234.5).

Each rule is written once, here, and every engine runs it: each distinct cell value is read once by
a Python function into a lookup table (`cell_lookups`), and the row rules (`ROW_RULES`) are one
relational plan (`checked_sql`) that DuckDB runs over a file read here as over a folder of Parquet
(`engines.large`).
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sefton_carbon.accounting.catalogue import Catalogue, load_catalogue
from sefton_carbon.accounting.rows import NAME_WARNING, REJECTED_COLUMNS, SUPPLY_WARNING, ActivityData
from sefton_carbon.accounting.units import UnitError, parse_unit
from sefton_carbon.errors import DataError, UsageError
from sefton_carbon.io.cells import DATE_AND_TIME, DATE_WINDOW, in_date_window, parse_date, parse_quantity
from sefton_carbon.io.columnar import (
    fast_number_sql,
    hive_partitions,
    parquet_footer,
    parquet_table,
    partition_conflict,
    sql_identifier,
    sql_string,
)
from sefton_carbon.io.files import each_once, input_files, recorded_name, sha256, sha256_in_background
from sefton_carbon.io.names import normalised_name
from sefton_carbon.io.spreadsheets import (
    CSV_SUFFIXES,
    SPREADSHEET_SUFFIXES,
    cell_text,
    check_limits,
    decode_text,
    read_sheet_rows,
    refuse_long_cells,
    sheets,
)
from sefton_carbon.returns.same_supply import same_supply

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
#: A workbook sheet whose likeliest header row names a quantity column, or at least this many of the
#: seven required columns, is an activity sheet: when it lacks a column it is refused, naming what it
#: lacks, rather than passed over as instructions or drop-down lists (whose headers name fewer).
ACTIVITY_SHEET_MIN_COLUMNS = 5
DATA_QUALITY_VALUES = {"": "actual", "actual": "actual", "estimated": "estimated", "correction": "correction",
                       "estimate": "estimated"}
CATEGORY_COLUMNS = ["source_file", "source_sheet", "department", "site", "meter", "activity",
                    "activity_as_written", "unit", "unit_as_written", "data_quality"]
#: Columns that carry a measurement: a row with all of them empty is not an activity row.
MEASURED_COLUMNS = ["activity", "quantity", "unit", "period_start", "period_end", "meter"]
#: Cell texts that mark a total or subtotal row, which would count its rows twice.
TOTAL_LABELS = frozenset({"total", "totals", "grand total", "sub-total", "subtotal", "sub total", "sum"})


def fold_header(text: object) -> str:
    """A header cell folded for matching: lower case, ``_`` and ``-`` as spaces, spaces collapsed."""
    return " ".join(re.sub(r"[_\-]+", " ", str(text)).lower().split())


def column_for_header(text: object) -> str | None:
    """The activity-table column a header cell names (``Dept`` -> ``department``), or None."""
    return _HEADER_LOOKUP.get(fold_header(text))


_NUMBER_WITH_UNIT = re.compile(r"^([-+]?[\d,]*\.?\d+)\s*([^\d\s,.].*)$")


def split_number_unit(text: str) -> tuple[float, str] | None:
    """A quantity cell that also holds a known unit (``1234 kWh``, ``1,500 litres``): (number, unit)."""
    match = _NUMBER_WITH_UNIT.match(text.strip())
    if not match or unit_or_error(match.group(2))[0] is None:  # '12a' is not a number with a unit
        return None
    number = parse_quantity(match.group(1))
    return None if number is None else (number, match.group(2).strip())


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
        # not merely a character cut at the 64 KiB boundary, and no UTF-8 text beside the bad byte
        if error.start < len(start) - 3 and not _holds_utf8_text(start):
            return "cp1252"
    return "utf-8-sig"


#: A character of two to four bytes as UTF-8 writes it (a lead byte, then continuation bytes).
_UTF8_SEQUENCE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")


def _holds_utf8_text(raw: bytes) -> bool:
    """Whether bytes hold at least one non-ASCII character written as UTF-8: such a file is UTF-8,
    and a byte in it that is not UTF-8 is a fault of its row, not a sign of Windows-1252."""
    return _UTF8_SEQUENCE.search(raw) is not None


#: The reason given for a row holding bytes that are not UTF-8 text, in a file that is otherwise UTF-8.
NOT_UTF8_REASON = ("cell holds bytes that are not UTF-8 text (shown as \ufffd): correct the row, or save the "
                   "file again as CSV UTF-8")


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


def holds_activity_header(columns: list[str], path: Path) -> bool:
    """Whether a table whose columns are named ``columns`` (a Parquet file's, its hive partitions
    among them) has the header this module reads (`_find_header`): every required column, none
    given twice. A file without one is read here (`text_tables`), which refuses it, naming why."""
    try:
        _find_header([columns], path, None)
    except DataError:
        return False
    return True


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
    hidden: bool = False
    #: Per column, which rows hold bytes that are not UTF-8 text (a UTF-8 file with a bad byte).
    not_utf8: dict[str, np.ndarray] | None = None


def _holding(column: pd.Series, text: str) -> np.ndarray:
    """Per row of a categorical text column, whether its cell contains ``text`` (judged once per
    distinct value)."""
    holds = np.append(np.asarray(column.cat.categories.astype(str).str.contains(text, regex=False)), False)
    return holds[column.cat.codes.to_numpy()]


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
            raw = path.read_bytes()
            if not _holds_utf8_text(raw):
                return _read_csv(path, "cp1252")
            # UTF-8 with a bad byte somewhere: read the rest as UTF-8 and reject the rows holding one.
            rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig", errors="replace"), newline=""),
                                   delimiter=delimiter))
            table = _from_rows(rows, header_index, found, None)
            table.not_utf8 = {column: _holding(table.frame[column], "\ufffd") for column in table.frame.columns}
            return table
        # Rows with more or fewer cells than the header: read slowly, and reject rows one by one.
        text_content = decode_text(path)
        return _from_rows(list(csv.reader(io.StringIO(text_content, newline=""), delimiter=delimiter)),
                          header_index, found, None)
    table = table.unify_dictionaries()
    frame = pd.DataFrame({column: table.column(names[position]).to_numpy()
                          if column == "quantity" and quantity_empty is not None
                          else _text_categorical(table.column(names[position]))
                          for column, position in sorted(found.items(), key=lambda item: item[1])},
                         copy=False)  # each column made here
    refuse_long_cells(frame, path, None, header_index + 2)
    return _Table(frame, header_index + 2, None, quantity_empty=quantity_empty)


def _text_categorical(column) -> pd.Categorical:
    """A text column read by Arrow as a dictionary (one dictionary for all its chunks:
    ``Table.unify_dictionaries``) as `_as_text` gives it: a categorical of Python strings, in the
    dictionary's order, with missing cells as empty text."""
    import pyarrow

    dictionary = column.chunk(0).dictionary if column.num_chunks else pyarrow.array([], pyarrow.string())
    categories = dictionary.to_pylist()
    # the codes in the narrowest type that holds them (with -1 for a missing cell), as a categorical keeps them
    narrowest = next(kind for kind in (np.int8, np.int16, np.int32) if len(categories) + 1 < np.iinfo(kind).max)
    codes = (np.concatenate([(chunk.indices.fill_null(-1) if chunk.null_count else chunk.indices).to_numpy()
                             for chunk in column.chunks], dtype=narrowest)
             if column.num_chunks else np.zeros(0, dtype=np.int32))
    if (codes < 0).any():
        if "" not in categories:
            categories.append("")
        codes = np.where(codes < 0, categories.index(""), codes)
    return pd.Categorical.from_codes(codes, categories=pd.Index(categories, dtype=object), validate=False)


def _read_workbook(path: Path) -> tuple[list[_Table], list[DataError]]:
    """Every sheet of a workbook with an activity header, as a table (a hidden sheet marked
    ``hidden``), and the sheets whose header row, with a quantity column, lacks another (an error
    each). Other sheets (instructions, scoping, drop-down lists) hold no activity rows."""
    tables, incomplete, no_header = [], [], []
    for sheet, visible in sheets(path):
        rows = [[cell_text(value) for value in row] for row in read_sheet_rows(path, sheet)]
        try:
            header_index, found = _find_header(rows, path, sheet)
        except DataError as error:
            # A header row with a quantity column, or with most required columns, is an activity
            # sheet gone wrong; one without (a drop-down list of sites, activities and units) holds
            # no activity rows.
            named = {column_for_header(cell) for cell in rows[error.row - 1]} if error.row is not None else set()
            activity_like = "quantity" in named or len(named & set(REQUIRED_COLUMNS)) >= ACTIVITY_SHEET_MIN_COLUMNS
            (incomplete if activity_like else no_header).append(error)
            continue
        table = _from_rows(rows, header_index, found, sheet)
        table.hidden = not visible
        tables.append(table)
    if not tables:
        failures = incomplete or no_header
        if len(failures) == 1:
            raise failures[0]
        raise DataError(f"no sheet has a header row with columns {', '.join(REQUIRED_COLUMNS)}",
                        file=str(path))
    return tables, incomplete


def _read_tables(path: Path) -> tuple[list[_Table], list[DataError]]:
    """The activity tables of a file (one for a CSV file, one per sheet with an activity header for
    a workbook), and the sheets refused as a whole (see `_read_workbook`)."""
    check_limits(path)
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        return [_read_csv(path)], []
    if suffix in SPREADSHEET_SUFFIXES:
        return _read_workbook(path)
    if suffix == PARQUET_SUFFIX:
        return [_read_parquet(path)], []
    raise DataError(f"unsupported file type '{suffix}': send .csv, .xlsx, .xls, .ods or .parquet", file=str(path))


#: A Parquet file is read here as one table; a folder of them (hive partitions) by the DuckDB engine.
PARQUET_SUFFIX = ".parquet"


def _read_parquet(path: Path) -> _Table:
    """A Parquet file's activity columns (header names matched as in any return), every cell as
    text but a numeric quantity, which stays a number (``quantity_empty`` marking the empty ones).
    A typed cell (a date, a timestamp, a number) reads as DuckDB's cast of it to text, as the
    large-input engines read it (`checked_sql`): a midnight timestamp is ``2023-04-01 00:00:00``.
    The hive partitions its folders name (``department=Housing/``) are columns of every row, as
    DuckDB reads them, unless the file holds the column too (`partition_conflict`: refused)."""
    import pyarrow

    columns, partitions = parquet_footer(path).schema.to_arrow_schema().names, hive_partitions(path)
    conflict = partition_conflict(path, columns, column_for_header)
    if conflict:
        raise conflict
    position, found = _find_header([[*columns, *partitions]], path, None)  # before reading any row
    table = parquet_table(path)
    for key, value in partitions.items():
        table = table.append_column(key, pyarrow.array([value] * table.num_rows, pyarrow.string()))
    # the activity columns alone, each once, in order (another column may share its name with a third)
    kept = sorted(found.values())
    table = table.select(kept)
    found = {column: kept.index(index) for column, index in found.items()}
    numeric = {column for column, index in found.items() if column == "quantity" and (
        pyarrow.types.is_floating(table.column(index).type) or pyarrow.types.is_integer(table.column(index).type))}
    connection = _connection()
    connection.register("parquet_table", table)
    texts = connection.sql("SELECT " + ", ".join(
        f"CAST({sql_identifier(table.column_names[index])} AS VARCHAR) AS {sql_identifier(column)}"
        for column, index in found.items() if column not in numeric) + " FROM parquet_table").to_arrow_table()
    connection.close()
    columns, quantity_empty = {}, None
    for column, index in found.items():
        if column in numeric:
            values = table.column(index)
            quantity_empty = values.is_null().to_numpy(zero_copy_only=False)
            # as DuckDB casts a BIGINT past 2^53: to the nearest double, not an error
            columns[column] = pd.Series(values.cast(pyarrow.float64(), safe=False).fill_null(0).to_numpy())
        else:
            columns[column] = _as_text(pd.Series(texts.column(column).to_pandas(), dtype=object))
    return _Table(pd.DataFrame(columns), position + 2, None, quantity_empty=quantity_empty)


# --- Cell interpretations -------------------------------------------------------------------------
# Every cell is read by one of the functions below, once per distinct value as written, into a
# lookup table that the row rules join (`checked_sql`). Both engines build the same tables with
# `register_lookups`, so a cell means the same whatever reads the file.

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
    if value.lower() in ("n/a", "na", "#n/a", "null", "none", "-"):
        return f"quantity '{value}' is not a number: leave the row out, or enter the figure"
    return f"quantity '{value}' is not a number: write digits only, such as 1234.5"


def unit_or_error(text: str) -> tuple[str | None, str | None]:
    """A unit as written: (its canonical spelling, None), or (None, why it is not one); (None, None)
    when the cell is empty."""
    if not text.strip():
        return None, None
    try:
        return parse_unit(text), None
    except UnitError as error:
        return None, str(error)


def _is_total(text: str) -> bool:
    return text.strip().lower().rstrip(":") in TOTAL_LABELS


def _text_cells(values: list[str]) -> pd.DataFrame:
    """department, site, meter and notes cells: the text as `names.normalised_name` reads it, the
    warning when it read look-alike letters as Latin, whether it is empty, whether it labels a
    total row."""
    read = [normalised_name(value) for value in values]
    return pd.DataFrame({"text": pd.Series([text for text, _ in read], dtype=object),
                         "warning": pd.Series([warning for _, warning in read], dtype=object),
                         "empty": pd.Series([not text for text, _ in read], dtype=bool),
                         "total": pd.Series([_is_total(text) for text, _ in read], dtype=bool)})


def _activity_cells(values: list[str], catalogue: Catalogue) -> pd.DataFrame:
    """activity cells: the catalogue name, the text as written (trimmed), empty, total, and why an
    activity is not in the catalogue."""
    canonical = [catalogue.canonical_name(value) if value.strip() else None for value in values]
    return pd.DataFrame({
        "activity": pd.Series(canonical, dtype=object),
        "as_written": pd.Series([value.strip() for value in values], dtype=object),
        "empty": pd.Series([not value.strip() for value in values], dtype=bool),
        "total": pd.Series([_is_total(value) for value in values], dtype=bool),
        "error": pd.Series([catalogue.unknown_activity_message(value.strip()) if value.strip() and name is None
                            else None for value, name in zip(values, canonical)], dtype=object)})


def read_quantity_cell(text: str) -> tuple[float | None, str | None]:
    """A quantity cell: (its number, the unit written with it in the cell, if any), or (None, None)
    when it is not a number (`parse_quantity`, then `split_number_unit`)."""
    number = parse_quantity(text)
    if number is not None:
        return number, None
    return split_number_unit(text) or (None, None)


def _quantity_cells(values: list[str], unit_key) -> pd.DataFrame:
    """quantity cells that are text: the number, the unit written in the cell (and the key of its
    ``unit_cells`` row, by ``unit_key``), empty, and why a cell is not a number."""
    read = [read_quantity_cell(value) for value in values]
    return pd.DataFrame({
        "as_written": pd.Series([value.strip() for value in values], dtype=object),
        "number": pd.Series([number for number, _ in read], dtype="float64"),
        "cell_unit": pd.Series([unit for _, unit in read], dtype=object),
        "cell_unit_key": pd.Series([None if unit is None else unit_key(unit) for _, unit in read], dtype=object),
        "empty": pd.Series([not value.strip() for value in values], dtype=bool),
        "error": pd.Series([_not_a_number(value) if number is None and value.strip() else None
                            for value, (number, _) in zip(values, read)], dtype=object)})


def _unit_cells(values: list[str]) -> pd.DataFrame:
    """unit cells: the canonical unit, the text as written (trimmed), empty, and why a unit is not one."""
    read = [unit_or_error(value) for value in values]
    return pd.DataFrame({"unit": pd.Series([unit for unit, _ in read], dtype=object),
                         "as_written": pd.Series([value.strip() for value in values], dtype=object),
                         "empty": pd.Series([not value.strip() for value in values], dtype=bool),
                         "error": pd.Series([error for _, error in read], dtype=object)})


#: What each period column's message suggests writing.
_DATE_EXAMPLES = {"period_start": "2023-04-01 or 01/04/2023", "period_end": "2024-03-31 or 31/03/2024"}


def read_date_cell(text: str, column: str) -> tuple[dt.date | None, str | None]:
    """A period cell: (its date, None), or (None, why it is not a date a return may hold);
    (None, None) when the cell is empty."""
    value = text.strip()
    if not value:
        return None, None
    day = parse_date(value)
    if day is None and DATE_AND_TIME.match(value):
        return None, (f"{column} '{value}' holds a time of day: a period is whole days, so give the date alone, "
                      f"as {_DATE_EXAMPLES[column]}")
    if day is None:
        return None, f"{column} '{value}' is not a date: write {_DATE_EXAMPLES[column]}"
    if not in_date_window(day):
        first, last = DATE_WINDOW
        return None, (f"{column} '{value}' is outside the dates a return may hold ({first.isoformat()} to "
                      f"{last.isoformat()}): check the year")
    return day, None


def _date_cells(values: list[str], column: str) -> pd.DataFrame:
    """period cells of ``column``: the day [datetime64], empty, and why a cell is not a date."""
    read = [read_date_cell(value, column) for value in values]
    return pd.DataFrame({
        "day": pd.Series([np.datetime64(day, "ns") if day else np.datetime64("NaT", "ns") for day, _ in read],
                         dtype="datetime64[ns]"),
        "empty": pd.Series([not value.strip() for value in values], dtype=bool),
        "as_written": pd.Series([value.strip() for value in values], dtype=object),
        "error": pd.Series([error for _, error in read], dtype=object)})


def _quality_cells(values: list[str]) -> pd.DataFrame:
    """data_quality cells: the quality (empty is actual), whether it is a correction, and why a value
    is not accepted."""
    quality = [DATA_QUALITY_VALUES.get(value.strip().lower()) for value in values]
    return pd.DataFrame({
        "as_written": pd.Series([value.strip() for value in values], dtype=object),
        "quality": pd.Series(quality, dtype=object),
        "correction": pd.Series([value == "correction" for value in quality], dtype=bool),
        "error": pd.Series([None if value is not None else
                            f"data_quality '{text.strip()}' is not accepted: write actual, estimated or correction"
                            for text, value in zip(values, quality)], dtype=object)})


#: Row columns read as plain text (`_text_cells`).
TEXT_CELL_COLUMNS = ["department", "site", "meter", "notes"]
#: The columns that have a lookup table, ``<column>_cells``, in `checked_sql`.
LOOKUP_COLUMNS = [*TEXT_CELL_COLUMNS, "activity", "unit", "period_start", "period_end", "data_quality", "quantity"]


def cell_lookups(values: dict[str, list[str]], catalogue: Catalogue,
                 keys: dict[str, list] | None = None) -> dict[str, pd.DataFrame]:
    """The lookup tables of `checked_sql`, ``<column>_cells`` for each of `LOOKUP_COLUMNS`: each
    distinct text of ``values[column]`` read once by the functions above, under the key the rows
    carry for it (``keys[column]``: the text itself by default, or a code), with an ``id`` (the
    table's row number). ``values["quantity"]`` holds the quantity cells DuckDB does not read as
    numbers (`columnar.fast_number_sql`); units written in them join the unit table."""
    keys = keys or {}
    values = {column: list(values.get(column, [])) + ([""] if column not in keys and "" not in values.get(column, [])
                                                       else []) for column in LOOKUP_COLUMNS}

    def keyed(column: str, table: pd.DataFrame) -> pd.DataFrame:
        return table.assign(written=pd.Series(keys.get(column, values[column]), dtype=object),
                            id=np.arange(len(table), dtype=np.int32))

    quantities = values["quantity"]
    units, unit_keys = list(values["unit"]), list(keys.get("unit", values["unit"]))
    for unit in sorted({unit for text in quantities if (unit := read_quantity_cell(text)[1])} - set(units)):
        unit_keys.append(len(unit_keys) if "unit" in keys else unit)
        units.append(unit)
    unit_key = dict(zip(units, unit_keys)).__getitem__
    tables = {f"{column}_cells": keyed(column, _text_cells(values[column])) for column in TEXT_CELL_COLUMNS}
    tables["activity_cells"] = keyed("activity", _activity_cells(values["activity"], catalogue))
    tables["unit_cells"] = _unit_cells(units).assign(written=pd.Series(unit_keys, dtype=object),
                                                     id=np.arange(len(units), dtype=np.int32))
    for column in ("period_start", "period_end"):
        tables[f"{column}_cells"] = keyed(column, _date_cells(values[column], column))
    tables["data_quality_cells"] = keyed("data_quality", _quality_cells(values["data_quality"]))
    tables["quantity_cells"] = keyed("quantity", _quantity_cells(quantities, unit_key))
    return tables


#: The columns whose cells `register_lookups` reads as combinations: a few thousand in a year of
#: readings or bills (a period, its activity, unit and data quality), each joined to the rows as
#: one lookup row (``combined_cells``) rather than five (`checked_sql`'s ``combined``).
COMBINED_COLUMNS = ("activity", "unit", "period_start", "period_end", "data_quality")
#: Past this many combinations, each of `COMBINED_COLUMNS` is joined on its own: a lookup row per
#: combination would cost more than it saves.
COMBINED_LIMIT = 100_000


def register_lookups(connection, source: str, columns: dict[str, str], catalogue: Catalogue,
                     combine: bool = True) -> tuple[dict[str, pd.DataFrame], dict[str, bool]]:
    """The lookup tables of `cell_lookups` for the distinct cell values of ``source`` (a DuckDB
    relation with the activity-table columns of ``columns``, name -> type), keyed by the text as
    written, registered on ``connection``; and the keyword arguments of `checked_sql` that suit
    them: ``quantity_lookup``, whether any quantity cell needs ``quantity_cells``, and
    ``combined``, whether the combinations of `COMBINED_COLUMNS`, at most `COMBINED_LIMIT`, are
    registered as ``combined_cells`` (never without ``combine``)."""
    # One scan; the quantity cells only where DuckDB does not read them as numbers. A missing cell
    # (null in a list) is read here as the empty text, which every list gets: that spares a
    # coalesce per cell, 0.25 s or more of a scan of 10,001,000 rows.
    def cells(column: str) -> str:
        return f"CAST({sql_identifier(column)} AS VARCHAR)" if column in columns else "''"

    together = COMBINED_COLUMNS if combine else ()
    alone = [column for column in LOOKUP_COLUMNS if column not in together and column != "quantity"]
    found = connection.execute(
        "SELECT " + ", ".join(f"list(DISTINCT {cells(column)})" for column in alone)
        + (f", list(DISTINCT row({', '.join(cells(column) for column in together)}))" if together else "")
        + f", list(DISTINCT {cells('quantity')}) FILTER "
          f"(WHERE {fast_number_sql('quantity', columns['quantity'])} IS NULL) FROM {source}").fetchall()[0]
    combinations = sorted({tuple(value or "" for value in combination)
                           for combination in (found[len(alone)] if together else None) or []})
    values = {column: found[position] or [] for position, column in enumerate(alone)}
    values |= {column: [combination[position] for combination in combinations]
               for position, column in enumerate(together)}
    values["quantity"] = found[-1] or []
    lookups = register(connection, cell_lookups(
        {column: sorted({value for value in texts if value is not None} | {""}) for column, texts in values.items()},
        catalogue))
    combined = combine and len(combinations) <= COMBINED_LIMIT
    if combined:
        register(connection, {"combined_written": pd.DataFrame(
            combinations or [("",) * len(COMBINED_COLUMNS)],
            columns=[f"{column}_written" for column in COMBINED_COLUMNS], dtype=object)})
        # each combination with its row of each column's lookup, as a struct named after the column
        connection.execute(
            "CREATE OR REPLACE TEMP TABLE combined_cells AS SELECT w.*, "
            + ", ".join(f"row_{column} AS {column}" for column in COMBINED_COLUMNS) + " FROM combined_written w "
            + " ".join(f"LEFT JOIN {column}_cells row_{column} ON row_{column}.written = w.{column}_written"
                       for column in COMBINED_COLUMNS))
    return lookups, {"quantity_lookup": bool(found[-1]), "combined": combined}


def register(connection, tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Register each table on a DuckDB connection under its name, through Arrow so that a NaN
    number stays NaN (DuckDB reads NaN in a pandas column as missing); returns them."""
    import pyarrow

    for name, table in tables.items():
        connection.register(name, pyarrow.table({
            column: pyarrow.array(values.to_numpy(), from_pandas=values.dtype.kind != "f")
            for column, values in table.items()}))
    return tables


def _written(column: str, columns: dict[str, str], table: str = "", coded: frozenset = frozenset()) -> str:
    """SQL for a cell as written [text], or its code when the rows carry ``coded`` columns as codes;
    empty text where the cell, or the column, is missing."""
    if column not in columns:
        return "''"
    if column in coded:
        return f"{table}{sql_identifier(column)}"
    return f"coalesce(CAST({table}{sql_identifier(column)} AS VARCHAR), '')"


# --- Row rules ------------------------------------------------------------------------------------

#: The row rules, in the order their reasons are joined: (column named, SQL condition over the
#: cells as `checked_sql` reads them, SQL for the reason). Each reason is written here once (or by
#: the cell readers above) and both engines run these rules.
ROW_RULES: list[tuple[str, str, str]] = [
    ("department", "total_row",
     sql_string("looks like a total row: send the individual rows only (totals are computed)")),
    ("department", "department_empty", sql_string("department is empty")),
    ("activity", "activity_empty", sql_string("activity is empty")),
    ("activity", "activity_error IS NOT NULL", "activity_error"),
    ("quantity", "quantity_empty", sql_string("quantity is empty")),
    ("quantity", "quantity_error IS NOT NULL", "quantity_error"),
    # a NaN the cell reads as, not the missing number of an empty cell or one that is not a number
    ("quantity", "isnan(quantity) AND NOT quantity_empty AND quantity_error IS NULL",
     sql_string("quantity is NaN, not a number: leave the row out, or enter the figure")),
    ("quantity", "isinf(quantity)", sql_string("quantity is not a finite number")),
    ("quantity", "quantity < 0 AND NOT correction",
     "printf(" + sql_string("quantity %g is negative: a negative figure is accepted only when data_quality "
                           "is 'correction' (it corrects an earlier bill)") + ", quantity)"),
    ("quantity", f"isfinite(quantity) AND abs(quantity) > {MAX_QUANTITY:.0f}",
     "printf(" + sql_string("quantity %g is implausibly large for one row: check the unit and the decimal point")
     + ", quantity)"),
    ("unit", "unit_conflict IS NOT NULL", "unit_conflict"),
    ("unit", "unit_empty", sql_string("unit is empty")),
    ("unit", "unit_error IS NOT NULL", "unit_error"),
    ("period_start", "start_empty", sql_string("period_start is empty")),
    ("period_start", "start_error IS NOT NULL", "start_error"),
    ("period_end", "end_empty", sql_string("period_end is empty")),
    ("period_end", "end_error IS NOT NULL", "end_error"),
    ("period_end", "period_end < period_start", sql_string("period ends before it starts")),
    ("data_quality", "quality_error IS NOT NULL", "quality_error"),
    ("notes", "extra_fields",
     sql_string("row has more cells than the header: check for a stray comma or a shifted column")),
]
#: SQL for a quantity read as a number, as the ``value`` of a rejected row gives it: a whole number
#: without a decimal point (-4695), any other as DuckDB writes a DOUBLE (0.5, 1e+20, nan). The same
#: text whether the cell was text (CSV, a workbook) or a number (Parquet, or parsed by the reader).
QUANTITY_VALUE_SQL = ("CASE WHEN quantity = trunc(quantity) AND abs(quantity) < 1e15 "
                      "THEN CAST(CAST(quantity AS BIGINT) AS VARCHAR) ELSE CAST(quantity AS VARCHAR) END")
#: The text of each column as `checked_sql` names it, for the ``value`` of a rejected row: the
#: quantity as a number where it reads as one, else as written.
_VALUE_OF = {"department": "department", "activity": "activity_as_written",
             "quantity": f"coalesce(CASE WHEN quantity_error IS NULL AND NOT quantity_empty THEN {QUANTITY_VALUE_SQL} END, "
                         "quantity_as_written, trim(CAST(quantity_cell AS VARCHAR)))",
             "unit": "unit_as_written", "period_start": "start_as_written", "period_end": "end_as_written",
             "data_quality": "quality_as_written", "notes": "notes"}
#: Each parsed column's lookup: the id column of `checked_sql`, the lookup table and its columns.
ID_LOOKUPS = {"department_id": ("department_cells", {"department": "text"}),
          "site_id": ("site_cells", {"site": "text"}), "meter_id": ("meter_cells", {"meter": "text"}),
          "notes_id": ("notes_cells", {"notes": "text"}),
          "activity_id": ("activity_cells", {"activity_as_written": "as_written", "activity": "activity"}),
          "unit_id": ("unit_cells", {"unit_as_written": "as_written", "unit": "unit"}),
          "start_id": ("period_start_cells", {"period_start": "day"}),
          "end_id": ("period_end_cells", {"period_end": "day"}),
          "quality_id": ("data_quality_cells", {"data_quality": "quality"})}
#: Whether each of `MEASURED_COLUMNS` is empty, as `checked_sql` names it (the unit cell as written).
_EMPTY_OF = {"activity": "activity_empty", "quantity": "quantity_empty", "unit": "unit_written_empty",
             "period_start": "start_empty", "period_end": "end_empty", "meter": "meter_empty"}
#: The columns of `checked_sql` that an activity row keeps.
PARSED_COLUMNS = ["department", "site", "meter", "activity_as_written", "activity", "quantity", "unit_as_written",
                  "unit", "period_start", "period_end", "data_quality", "notes"]


#: The fields of a row's unit (`_unit_cells`, with its ``id``) -> the names `checked_sql` gives them: the
#: unit cell's, or the quantity cell's where it names a unit and the unit cell is empty.
UNIT_FIELDS = {"id": "unit_id", "unit": "unit", "as_written": "unit_as_written", "empty": "unit_empty",
               "error": "unit_error"}
#: The SQL types of the fields of ``unit_cells`` (`_unit_cells`) and ``quantity_cells``
#: (`_quantity_cells`) that `checked_sql` reads.
UNIT_CELL_FIELDS = {"id": "INTEGER", "unit": "VARCHAR", "as_written": "VARCHAR", "empty": "BOOLEAN", "error": "VARCHAR"}
QUANTITY_CELL_FIELDS = {"number": "DOUBLE", "as_written": "VARCHAR", "empty": "BOOLEAN", "error": "VARCHAR",
                        "cell_unit": "VARCHAR", "cell_unit_key": "VARCHAR"}


def checked_sql(source: str, columns: dict[str, str], coded: frozenset = frozenset(),
                quantity_lookup: bool = True, combined: bool = False) -> str:
    """SQL reading every row of ``source`` through the lookup tables of `cell_lookups` and the
    `ROW_RULES`. ``source`` has the activity-table columns of ``columns`` (name -> DuckDB type; the
    ``coded`` ones carry their lookup's key, the others their text), ``source_file``,
    ``source_row`` and, optionally, ``source_sheet``, ``extra_fields`` (the row has more cells
    than the header) and ``refused_column`` and ``refused_reason`` (the reader refuses the row
    whatever its cells: `refusals`). Each row gets `PARSED_COLUMNS`, their lookup ids, ``reason`` (the reasons of every rule it
    fails, joined), ``column`` and ``value`` (the first failing rule's), ``blank`` (nothing in the
    measured columns: not an activity row) and ``ok``. ``quantity_lookup``: false when every
    quantity cell of ``source`` reads as a number (`fast_number_sql`, none empty), so that no row
    needs ``quantity_cells`` nor the unit a quantity cell names, and neither is joined. With
    ``combined``, the cells of `COMBINED_COLUMNS` are looked up in one table, ``combined_cells``
    (`register_lookups`), where each column's lookup row is a struct named after the column, read
    as the row of its own lookup is."""
    def written(column: str) -> str:
        return _written(column, columns, "s.", coded)

    extra = "coalesce(s.extra_fields, false)" if "extra_fields" in columns else "false"
    sheet = "coalesce(s.source_sheet, '')" if "source_sheet" in columns else "''"
    refused = ("s.refused_column, s.refused_reason" if "refused_reason" in columns
               else "CAST(NULL AS VARCHAR) AS refused_column, CAST(NULL AS VARCHAR) AS refused_reason")
    fast = "NULL" if "quantity" in coded else fast_number_sql("quantity", columns["quantity"])
    reasons = ", ".join(f"CASE WHEN {condition} THEN {reason} END" for _, condition, reason in ROW_RULES)
    first_column = " ".join(f"WHEN {condition} THEN '{column}'" for column, condition, _ in ROW_RULES)
    first_value = " ".join(f"WHEN {condition} THEN {_VALUE_OF[column]}" for column, condition, _ in ROW_RULES)
    joins = [f"LEFT JOIN {column}_cells {column} ON {column}.written = c.{column}_written"
             for column in LOOKUP_COLUMNS if column != "quantity" and not (combined and column in COMBINED_COLUMNS)]
    if combined:
        joins.append("LEFT JOIN combined_cells k ON " + " AND ".join(
            f"k.{column}_written = c.{column}_written" for column in COMBINED_COLUMNS))
    joins = "\n            ".join(joins)
    # the quantity cell's lookup (x) and the unit it names (cu), or what they give a row when not joined
    x, cu = ({field: f"{table}.{field}" if quantity_lookup else f"CAST(NULL AS {kind})"
              for field, kind in fields.items()}
             for table, fields in (("x", QUANTITY_CELL_FIELDS), ("cu", UNIT_CELL_FIELDS)))
    return f"""
        WITH cells AS (
            SELECT s.source_file, {sheet} AS source_sheet, s.source_row, {extra} AS extra_fields, {refused},
                   {", ".join(f"{written(column)} AS {column}_written" for column in LOOKUP_COLUMNS
                              if column != "quantity")},
                   s.quantity AS quantity_cell, s.fast_number,
                   CASE WHEN s.fast_number IS NULL THEN {written("quantity")} END AS quantity_written
            FROM (SELECT *, {fast} AS fast_number FROM {source}) s),
        parsed AS (
            SELECT c.source_file, c.source_sheet, c.source_row, c.extra_fields, c.refused_column, c.refused_reason,
                   c.unit_written, c.quantity_cell,
                   department.id AS department_id, site.id AS site_id,
                   meter.id AS meter_id, notes.id AS notes_id,
                   activity.id AS activity_id, period_start.id AS start_id, period_end.id AS end_id,
                   data_quality.id AS quality_id,
                   department.text AS department, department.empty AS department_empty,
                   site.text AS site, meter.text AS meter,
                   meter.empty AS meter_empty, notes.text AS notes,
                   department.total OR site.total OR activity.total AS total_row,
                   activity.activity, activity.as_written AS activity_as_written,
                   activity.empty AS activity_empty, activity.error AS activity_error,
                   coalesce(c.fast_number, {x["number"]}) AS quantity, {x["as_written"]} AS quantity_as_written,
                   coalesce({x["empty"]}, false) AS quantity_empty, {x["error"]} AS quantity_error,
                   {x["cell_unit"]} AS cell_unit, {x["cell_unit_key"]} AS cell_unit_key,
                   unit.empty AS unit_written_empty, unit.as_written AS unit_written_as_written,
                   unit.id AS unit_written_id, unit.unit AS unit_written_unit, unit.error AS unit_written_error,
                   period_start.day AS period_start, period_start.empty AS start_empty,
                   period_start.error AS start_error, period_start.as_written AS start_as_written,
                   period_end.day AS period_end, period_end.empty AS end_empty,
                   period_end.error AS end_error, period_end.as_written AS end_as_written,
                   data_quality.quality AS data_quality, data_quality.correction,
                   data_quality.error AS quality_error, data_quality.as_written AS quality_as_written
            FROM cells c
            {joins}
            {"LEFT JOIN quantity_cells x ON x.written = c.quantity_written" if quantity_lookup else ""}),
        united AS (
            -- A unit written in the quantity cell (1234 kWh) fills an empty unit cell, or must agree with it.
            SELECT p.*, {", ".join(f"CASE WHEN from_cell THEN {cu[field]} ELSE p.unit_written_{field} END AS {name}"
                                   for field, name in UNIT_FIELDS.items())},
                   CASE WHEN p.cell_unit IS NOT NULL AND NOT p.unit_written_empty
                             AND p.unit_written_unit IS DISTINCT FROM {cu["unit"]}
                        THEN 'the quantity cell says ''' || p.cell_unit || ''' but the unit column says '''
                             || p.unit_written_as_written || '''' END AS unit_conflict
            FROM (SELECT *, cell_unit IS NOT NULL AND unit_written_empty AS from_cell FROM parsed) p
            {"LEFT JOIN unit_cells cu ON cu.written = p.cell_unit_key" if quantity_lookup else ""}),
        judged AS (
            SELECT *, coalesce({" OR ".join(f"({condition})" for _, condition, _ in ROW_RULES)}, false) AS failed,
                   {" AND ".join(_EMPTY_OF[column] for column in MEASURED_COLUMNS)} AND NOT extra_fields AS blank
            FROM united),
        refused AS (
            SELECT *, refused_reason IS NOT NULL AND NOT blank AS refused_whole FROM judged)
        SELECT source_file, source_sheet, source_row, {", ".join(PARSED_COLUMNS)}, {", ".join(ID_LOOKUPS)},
               CASE WHEN refused_whole THEN refused_reason
                    WHEN failed THEN concat_ws('; ', {reasons}) ELSE '' END AS reason,
               CASE WHEN refused_whole THEN refused_column WHEN failed THEN CASE {first_column} END END AS "column",
               CASE WHEN refused_whole THEN '' WHEN failed THEN CASE {first_value} END END AS value,
               blank, NOT failed AND NOT blank AND NOT refused_whole AS ok
        FROM refused"""


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


def _source_table(table: _Table, source_file: str, as_text: bool = False):
    """A table's rows as an Arrow table for `checked_sql`: each text column as its category codes
    (for lookups keyed by code), or as text with ``as_text`` (for the plan run over many files at
    once, `text_tables`); the quantity as numbers when the reader parsed them (null where the cell
    is empty); and ``source_file``, ``source_sheet``, ``source_row``, ``extra_fields`` and the
    `refusals`."""
    import pyarrow

    frame, length = table.frame, len(table.frame)
    arrays = {}
    for column in frame.columns:
        if column == "quantity" and table.quantity_empty is not None:
            arrays[column] = pyarrow.array(frame[column].to_numpy(dtype="float64"), mask=table.quantity_empty,
                                           from_pandas=False)
        elif as_text:
            arrays[column] = pyarrow.array(frame[column].astype(object).to_numpy(), type=pyarrow.string())
        else:
            arrays[column] = pyarrow.array(frame[column].cat.codes.to_numpy())  # as pandas keeps them: not copied
    for column, value in (("source_file", source_file), ("source_sheet", table.sheet or "")):
        arrays[column] = pyarrow.DictionaryArray.from_arrays(pyarrow.array(np.zeros(length, dtype=np.int8)),
                                                             pyarrow.array([value]))
    arrays["source_row"] = pyarrow.array(np.arange(table.first_row, table.first_row + length, dtype=np.int64))
    arrays["extra_fields"] = pyarrow.array(table.extra_fields if table.extra_fields is not None
                                           else np.zeros(length, dtype=bool))
    refused = refusals(table)
    for position, column in enumerate(("refused_column", "refused_reason")):
        arrays[column] = (pyarrow.nulls(length, pyarrow.string()) if refused is None
                          else pyarrow.array(refused[position], type=pyarrow.string()))
    return pyarrow.table(arrays)


def refusals(table: _Table) -> tuple[np.ndarray, np.ndarray] | None:
    """The rows a reader refuses whatever their cells, as (column, reason) per row (None where a
    row is not refused), or None when it refuses none: every row of a hidden sheet, and the rows
    of a UTF-8 file holding a byte that is not UTF-8 (naming the first column that holds one)."""
    rows = len(table.frame)
    if table.hidden:
        reason = (f"sheet '{table.sheet}' is hidden: unhide it to count this row, or delete the sheet if its "
                  "figures are not for this return")
        return np.full(rows, "", dtype=object), np.full(rows, reason, dtype=object)
    if table.not_utf8 is None:
        return None
    column_of_row = np.full(rows, None, dtype=object)
    for column in reversed(list(table.not_utf8)):  # the first column holding a bad byte wins
        column_of_row[table.not_utf8[column]] = column
    return column_of_row, np.where(pd.notna(column_of_row), NOT_UTF8_REASON, None)


def _looked_up(values: pd.Series, ids: np.ndarray) -> pd.Series | pd.Categorical:
    """A lookup table's column at the given row ids: dates as they are, text as a categorical
    computed once per lookup row."""
    if values.dtype.kind == "M":
        return pd.Series(values.to_numpy()[ids], copy=False)
    codes, uniques = pd.factorize(values.astype(object), use_na_sentinel=True)
    # codes in the narrowest type that holds them, as a categorical keeps them (no second copy)
    narrowest = next(kind for kind in (np.int8, np.int16, np.int32) if len(uniques) < np.iinfo(kind).max)
    return pd.Categorical.from_codes(codes.astype(narrowest)[ids], categories=pd.Index(uniques, dtype=object),
                                     validate=False)


@functools.cache
def _database(process: int):
    """An in-process DuckDB database for the rules, opened once per process (``process``: its id,
    so that a forked worker opens its own)."""
    import duckdb

    return duckdb.connect()


#: The settings of every DuckDB connection that reads returns: no progress bar, and the time zone
#: UTC, so that a Parquet timestamp with a time zone reads as the same text on any machine (DuckDB
#: writes one in its session's zone, by default the machine's: a UTC midnight in June is
#: ``2023-06-01 01:00:00+01`` in London).
SESSION_SETTINGS = ("SET enable_progress_bar = false", "SET TimeZone = 'UTC'")


def _connection():
    """A connection of its own to `_database`: the tables one reader registers are not another's."""
    connection = _database(os.getpid()).cursor()
    for setting in SESSION_SETTINGS:
        connection.execute(setting)
    return connection


def _check_table(table: _Table, path: Path, catalogue: Catalogue) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """One table through the cell lookups and row rules: its accepted rows, its rejected rows, and
    which of its rows are blank (the rows `refusals` names are rejected by `checked_sql`).

    The plan runs over every row for the verdicts and lookup ids, which are numbers; the reasons,
    which are text, are asked for only for the rows it refuses, in a second run over those rows
    alone (each row is judged on its own cells, so its verdict is the same in either run)."""
    import pyarrow

    frame = table.frame
    coded = frozenset(column for column in frame.columns
                      if isinstance(frame[column].dtype, pd.CategoricalDtype))
    values = {column: list(frame[column].cat.categories) for column in coded}
    lookups = cell_lookups(values, catalogue, {column: list(range(len(values[column]))) for column in coded})
    source = _source_table(table, str(path))
    connection = _connection()
    connection.register("source_rows", source)
    register(connection, lookups)
    columns = {name: kind for name, kind, *_ in connection.execute("DESCRIBE source_rows").fetchall()}
    # each id in the narrowest integer that holds its lookup's row numbers: less to copy
    ids = ", ".join(f"CAST({name} AS {_narrowest_integer(len(lookups[lookup]))}) AS {name}"
                    for name, (lookup, _) in ID_LOOKUPS.items())
    quantity_lookup = table.quantity_empty is None or bool(table.quantity_empty.any())  # else numbers only
    checked = _in_file_order(connection.sql(
        f"SELECT source_row, quantity, {ids}, blank, ok "
        f"FROM ({checked_sql('source_rows', columns, coded, quantity_lookup)})").to_arrow_table(), table.first_row)
    blank, ok = checked["blank"].astype(bool), checked["ok"].astype(bool)
    refused = ~(ok | blank)
    verdicts = {name: np.empty(0, dtype=object) for name in ("column", "value", "reason")}
    if refused.any():
        # _source_table numbers its rows from table.first_row, in file order, as `checked` is now.
        connection.register("refused_rows", source.take(pyarrow.array(np.flatnonzero(refused))))
        judged = checked_sql("refused_rows", columns, coded, quantity_lookup)
        found = connection.sql(
            f'SELECT source_row, "column", value, reason FROM ({judged}) '
            "ORDER BY source_row").to_arrow_table()
        verdicts = {name: found.column(name).to_numpy(zero_copy_only=False) for name in verdicts}
    connection.close()
    rows = rows_from_ids(checked, ok, lookups)
    rows[NAME_WARNING] = _name_warnings(lookups, checked, ok)
    rows.insert(0, "source_row", pd.Series(checked["source_row"] if ok.all() else checked["source_row"][ok],
                                           copy=False))  # an array of its own already
    rows.insert(0, "source_sheet", _constant(table.sheet or "", len(rows)))
    rows.insert(0, "source_file", _constant(str(path), len(rows)))
    rejected = pd.DataFrame({
        "source_file": str(path), "source_sheet": table.sheet or "",
        "source_row": checked["source_row"][refused], "column": verdicts["column"],
        "value": verdicts["value"], "reason": verdicts["reason"]}, columns=REJECTED_COLUMNS)
    return rows, rejected, blank


def _narrowest_integer(count: int) -> str:
    """The narrowest SQL integer type that holds 0 to ``count`` - 1."""
    return "TINYINT" if count <= 127 else "SMALLINT" if count <= 32767 else "INTEGER"


def _in_file_order(result, first_row: int) -> dict[str, np.ndarray]:
    """The columns of a `checked_sql` result over a table's rows as arrays by name, in file order.

    DuckDB returns the rows in batches, each made of runs of consecutive rows, the runs in any
    order (a few per thread): the runs are put in order and each column is joined from them
    straight out of Arrow's buffers, one copy (sorting rows only when they come scattered)."""
    batches = [batch for batch in result.to_batches() if batch.num_rows]
    runs = []  # (first row, batch, start, end)
    for number, batch in enumerate(batches):
        rows = batch.column("source_row").to_numpy()
        starts = np.r_[0, np.flatnonzero(rows[1:] != rows[:-1] + 1) + 1]
        ends = np.r_[starts[1:], len(rows)]
        runs += [(int(rows[start]), number, start, end) for start, end in zip(starts.tolist(), ends.tolist())]
    if not runs or len(runs) > 1000:  # none, or the rows scattered: sort them
        arrays = {name: result.column(name).to_numpy(zero_copy_only=False) for name in result.column_names}
        order = np.argsort(arrays["source_row"], kind="stable")
        return {name: values[order] for name, values in arrays.items()}
    runs.sort()

    def joined(name: str) -> np.ndarray:
        parts = [batch.column(name).to_numpy(zero_copy_only=False) for batch in batches]
        return np.concatenate([parts[number][start:end] for _, number, start, end in runs])

    return {name: joined(name) for name in result.column_names}


def rows_from_ids(checked: dict[str, np.ndarray], ok: np.ndarray, lookups: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The accepted rows (``ok``) of the output of `checked_sql`, as arrays by column name, in
    `PARSED_COLUMNS`: each text and date column looked up from its id in ``lookups``, once per
    distinct value (text columns categorical)."""
    every = bool(ok.all())

    def accepted(values: np.ndarray) -> np.ndarray:
        return values if every else values[ok]

    columns = {}
    for name, (lookup, fields) in ID_LOOKUPS.items():
        ids = accepted(checked[name])
        ids = ids if ids.dtype.kind in "iu" else ids.astype(np.int64)  # integers index as they are
        for column, field in fields.items():
            columns[column] = _looked_up(lookups[lookup][field], ids)
    columns["quantity"] = accepted(checked["quantity"]).astype("float64")
    return pd.DataFrame({column: columns[column] for column in PARSED_COLUMNS},
                        index=pd.RangeIndex(int(ok.sum())), copy=False)  # each column made here, not shared


def _name_warnings(lookups: dict[str, pd.DataFrame], checked: dict[str, np.ndarray], ok: np.ndarray) -> pd.Categorical:
    """Per accepted row, the warnings on its department and site names (`names.normalised_name`)."""
    if not any((lookups[f"{column}_cells"]["warning"] != "").any() for column in ("department", "site")):
        return _constant("", int(ok.sum()))
    parts = [_looked_up(lookups[f"{column}_cells"]["warning"], checked[f"{column}_id"][ok].astype(np.int64))
             for column in ("department", "site")]
    department, site = (np.asarray(part, dtype=object) for part in parts)
    joined = np.where((department != "") & (site != ""), department + "; " + site, department + site)
    return pd.Categorical(joined)


def _read_one(path: Path, catalogue: Catalogue) -> tuple[pd.DataFrame, pd.DataFrame, dict, pd.DataFrame]:
    """The accepted and rejected rows of one file, every activity sheet of a workbook included, its
    counts (rows read, blank rows, sheets refused as a whole, and ``sha256``, the digest of the
    bytes read), and the entries of its sheets refused as a whole (among the rejected too).

    The file is hashed before its tables are read and again after, while their rows are checked;
    a file whose digests differ changed while it was read and is refused (a DataError). The first
    digest is taken while the database of the rules opens (`_database`: the first file only)."""
    hashing = sha256_in_background(path)
    _database(os.getpid())
    digest = hashing.result()
    tables, incomplete = _read_tables(path)
    read_again = sha256_in_background(path)
    checked = [_check_table(table, path, catalogue) for table in tables]
    if all(blank.all() for _, _, blank in checked):
        raise _without_rows(path, tables)
    refused_sheets = _refused_sheets(path, incomplete)
    rows = _concat([rows for rows, _, _ in checked]) if len(checked) > 1 else checked[0][0]
    rejected = pd.concat([refused_sheets, *(rejected for _, rejected, _ in checked)], ignore_index=True)
    if read_again.result() != digest:
        raise DataError("changed while it was read, so its rows are not counted: run again once it is saved",
                        file=str(path))
    counts = {"source_file": str(path), "rows_read": sum(int((~blank).sum()) for _, _, blank in checked),
              "blank_rows": sum(int(blank.sum()) for _, _, blank in checked), "sheets_refused": len(incomplete),
              "sha256": digest}
    return rows, rejected, counts, refused_sheets


def _without_rows(path: Path, tables: list[_Table]) -> DataError:
    """The error of a file whose activity tables hold no data row (all blank, or none at all)."""
    return without_data_rows(path, tables[0].sheet, tables[0].first_row - 1)


def without_data_rows(path: Path, sheet: str | None = None, header_row: int = 1) -> DataError:
    """The error of a file whose activity tables hold no data row (all blank, or none at all),
    naming its first table's sheet and header row."""
    return DataError("has a header row but no data rows", file=str(path), sheet=sheet, row=header_row)


def _refused_sheets(path: Path, incomplete: list[DataError]) -> pd.DataFrame:
    """The rejected entries of a workbook's sheets refused as a whole (`_read_workbook`)."""
    return pd.DataFrame([{"source_file": str(path), "source_sheet": error.sheet or "", "source_row": error.row,
                          "column": error.column or "", "value": "",
                          "reason": f"{error.reason}: the sheet was not read"} for error in incomplete],
                        columns=REJECTED_COLUMNS)


def refused_file(path: Path, error: DataError) -> pd.DataFrame:
    """The rejected entry of a file that cannot be read at all: its rows are not counted as read."""
    return pd.DataFrame([{"source_file": str(path), "source_sheet": error.sheet or "", "source_row": error.row,
                          "column": error.column or "", "value": "", "reason": error.reason}],
                        columns=REJECTED_COLUMNS)


def reads_as_plain_csv(path: Path) -> bool:
    """Whether DuckDB reads a file as this module does: a CSV file in UTF-8 with its header on the
    first line, its lines ended by a line feed. Other files (workbooks, title rows above the header,
    UTF-16 or Windows-1252 text, lines ended by a carriage return alone, as on old Macs) are read
    here (`text_tables`) for the engines that otherwise read files themselves."""
    if path.suffix.lower() not in CSV_SUFFIXES:
        return False
    with open(path, "rb") as stream:
        if b"\r" in stream.readline(1 << 16).rstrip(b"\r\n"):
            return False
    try:
        encoding = _detect_encoding(path)
        return encoding == "utf-8-sig" and _find_csv_header(path, encoding)[0] == 0
    except DataError:
        return False  # read here, where the fault becomes the file's rejected entry


def text_tables(path: Path) -> tuple[list, pd.DataFrame, pd.DataFrame]:
    """A file read by this module's reader for `checked_sql` run over many files at once
    (`engines.large`): each of its activity tables as an Arrow table of the cells as text (the
    quantity as numbers where the reader parsed them), with ``source_file``, ``source_sheet``,
    ``source_row``, ``extra_fields`` and the `refusals`; the rejected entries of the file or of
    its sheets when refused as a whole (as `read_activity` lists them); and the entry refusing
    the file should every row it holds be blank (as `_read_one` refuses it)."""
    name = recorded_name(path)
    try:
        tables, incomplete = _read_tables(path)
    except DataError as error:
        refused = refused_file(path, error).assign(source_file=name)
        return [], refused, refused
    if_blank = refused_file(path, _without_rows(path, tables)).assign(source_file=name)
    if not any(len(table.frame) for table in tables):  # as `_read_one` refuses it (blank rows aside)
        return [], if_blank, if_blank
    read = [_source_table(table, name, as_text=True) for table in tables]
    return read, _refused_sheets(path, incomplete).assign(source_file=name), if_blank


def expand_paths(paths: list[str | Path]) -> list[Path]:
    """Files named, and the activity files inside folders named (sorted, recursively), each once
    however often it is named (twice, or as a file and inside a folder also named).

    Inside folders, published output folders are not read (`input_files`)."""
    files: list[Path] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            files.extend(input_files(path, CSV_SUFFIXES | SPREADSHEET_SUFFIXES | {PARQUET_SUFFIX}))
        elif path.is_file():
            files.append(path)
        else:
            raise UsageError(f"{path}: no such file or folder")
    if not files:
        raise UsageError(f"no activity files (.csv, .xlsx, .xls, .ods, .parquet) in {', '.join(map(str, paths))}")
    return each_once(files)


def read_activity(paths: list[str | Path] | str | Path, catalogue: Catalogue | None = None) -> ActivityData:
    """Read activity tables from files and folders; see `ActivityData`.

    A file that cannot be read at all (no header, not a table) is listed among the rejected with no
    row number; its rows are not counted as read.
    """
    catalogue = catalogue or load_catalogue()
    if isinstance(paths, (str, Path)):
        paths = [paths]
    all_rows, all_rejected, all_counts, all_refused = [], [], [], []
    for path in expand_paths(paths):
        try:
            rows, rejected, counts, refused = _read_one(path, catalogue)
        except DataError as error:
            rows = None
            rejected = refused = refused_file(path, error)
            counts = {"source_file": str(path), "rows_read": 0, "blank_rows": 0, "sheets_refused": 0,
                      "unreadable": True, "sha256": sha256(path)}
        name = recorded_name(path)
        if rows is not None:
            rows["source_file"] = _constant(name, len(rows))
            all_rows.append(rows)
        all_rejected.append(rejected.assign(source_file=name))
        all_refused.append(refused.assign(source_file=name))
        all_counts.append({**counts, "source_file": name})
    rows = _concat(all_rows) if all_rows else _empty_rows()
    supply = same_supply(rows, catalogue.metered)
    rows[SUPPLY_WARNING] = _text_column(supply.warnings)
    if supply.set_aside.any():
        rows = rows[~supply.set_aside].reset_index(drop=True)
        all_rejected.append(supply.rejected)
    rows.insert(0, "input_row", np.arange(1, len(rows) + 1))
    rejected = pd.concat(all_rejected, ignore_index=True)[REJECTED_COLUMNS]
    rejected["source_row"] = rejected["source_row"].astype("Int64")
    files = pd.DataFrame(all_counts)
    files["unreadable"] = files.get("unreadable", pd.Series(False, index=files.index)).fillna(False)
    return ActivityData(rows=rows, rejected=rejected, files=files.astype({"unreadable": bool}),
                        refused_whole=pd.concat(all_refused, ignore_index=True))


def _text_column(texts: np.ndarray) -> pd.Categorical:
    """Texts as a categorical column, as ``pd.Categorical`` makes it; without reading every text
    again when all are empty, as the same-supply warnings mostly are."""
    if len(texts) and not (texts != "").any():
        return _constant("", len(texts))
    return pd.Categorical(texts)


def _empty_rows() -> pd.DataFrame:
    text = {column: pd.Categorical([]) for column in CATEGORY_COLUMNS + ["notes", NAME_WARNING]}
    return pd.DataFrame({
        **text, "source_row": pd.Series(dtype="int64"), "quantity": pd.Series(dtype="float64"),
        "period_start": pd.Series(dtype="datetime64[ns]"),
        "period_end": pd.Series(dtype="datetime64[ns]")})[
        ["source_file", "source_sheet", "source_row", "department", "site", "meter", "activity_as_written",
         "activity", "quantity", "unit_as_written", "unit", "period_start", "period_end",
         "data_quality", "notes", NAME_WARNING]]
