"""Reading the rows of CSV and Excel files as they arrive, without evaluating anything.

Excel files (.xlsx, .xlsm, .xls, .ods) are read with python-calamine, which returns the values Excel
last stored in each cell: formulas are never evaluated. CSV text is decoded as UTF-8 (with or without
a byte-order mark), UTF-16 when it starts with a UTF-16 byte-order mark, and otherwise Windows-1252,
the encoding Excel on Windows uses for "CSV" exports. A cell over `cells.MAX_CELL_CHARACTERS` is a
`DataError` naming its file, sheet, row and column (`read_csv_rows`, `read_sheet_rows`,
`refuse_long_cells`).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import os
import re
import zipfile
from pathlib import Path
from xml.etree.ElementTree import ParseError as ElementTreeError

import pandas as pd

from sefton_carbon.errors import DataError, UsageError
from sefton_carbon.io.cells import MAX_CELL_CHARACTERS, long_cell_reason

SPREADSHEET_SUFFIXES = frozenset({".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"})
CSV_SUFFIXES = frozenset({".csv", ".txt"})
ZIP_SUFFIXES = frozenset({".xlsx", ".xlsm", ".ods"})
#: Defaults of the limits below, each overridden by an environment variable of the same name.
LIMITS = {
    # Largest input file read [MB]: a year of a large council's returns is a few hundred MB.
    "SEFTON_CARBON_MAX_FILE_MB": 4096,
    # Largest total a workbook may unzip to [MB]; more is a zip bomb or a sheet formatted to the end.
    "SEFTON_CARBON_MAX_UNZIPPED_MB": 1024,
    # Largest sheet read [cells]: rows x columns.
    "SEFTON_CARBON_MAX_SHEET_CELLS": 50_000_000,
}
#: A workbook member that unzips to more than this many times its compressed size is refused.
MAX_COMPRESSION_RATIO = 200
#: The field limit of Python's csv module [characters] from the import of this module on, for the
#: whole process: the largest every platform accepts. The module's own limit (131,072) stops a read
#: with an error that names no place; with this one every reader reads a cell of any length (the
#: file size limit bounds it) and judges it against `cells.MAX_CELL_CHARACTERS` itself.
CSV_FIELD_LIMIT = 2**31 - 1
csv.field_size_limit(CSV_FIELD_LIMIT)


def limit(name: str) -> int:
    """A size limit: the environment variable ``name`` when set, else its default in `LIMITS`."""
    value = os.environ.get(name)
    try:
        return int(value) if value else LIMITS[name]
    except ValueError:
        raise UsageError(f"{name}={value!r} must be a whole number") from None


def check_limits(path: Path) -> None:
    """Refuse a file too large to be a return, or a workbook that would unzip to an absurd size."""
    size = Path(path).stat().st_size
    if size > limit("SEFTON_CARBON_MAX_FILE_MB") * 1_000_000:
        raise DataError(f"is {size / 1e6:,.0f} MB, over the limit of {limit('SEFTON_CARBON_MAX_FILE_MB'):,} MB "
                        "(set SEFTON_CARBON_MAX_FILE_MB to raise it)", file=str(path))
    if Path(path).suffix.lower() not in ZIP_SUFFIXES or not zipfile.is_zipfile(path):
        return
    with zipfile.ZipFile(path) as archive:
        members = archive.infolist()
    unzipped = sum(member.file_size for member in members)
    if unzipped > limit("SEFTON_CARBON_MAX_UNZIPPED_MB") * 1_000_000:
        raise DataError(f"would unzip to {unzipped / 1e6:,.0f} MB, over the limit of "
                        f"{limit('SEFTON_CARBON_MAX_UNZIPPED_MB'):,} MB: save the data alone in a new workbook",
                        file=str(path))
    for member in members:
        if member.file_size > 10_000_000 and member.file_size > MAX_COMPRESSION_RATIO * max(member.compress_size, 1):
            raise DataError(f"part {member.filename} unzips {member.file_size / max(member.compress_size, 1):,.0f} "
                            "times larger than it is stored: refused as a possible zip bomb", file=str(path))


def decode_text(path: Path) -> str:
    """The text of a CSV file, decoded as described in the module docstring."""
    raw = Path(path).read_bytes()
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16")
    if b"\x00" in raw[:4096]:
        raise DataError("is not a text file (it contains NUL bytes): save it as CSV or .xlsx",
                        file=str(path))
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def column_letters(number: int) -> str:
    """A column's name in a spreadsheet: 1 -> ``A``, 27 -> ``AA``, 16384 -> ``XFD``."""
    letters = ""
    while number > 0:
        number, remainder = divmod(number - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def _refuse_long_cell(row: list, path: Path, sheet: str | None, number: int) -> None:
    """A DataError for the first text cell of ``row`` (file row ``number``) over MAX_CELL_CHARACTERS."""
    position, length = next((position, len(value)) for position, value in enumerate(row, start=1)
                            if isinstance(value, str) and len(value) > MAX_CELL_CHARACTERS)
    raise DataError(long_cell_reason(length), file=str(path), sheet=sheet, row=number,
                    column=column_letters(position))


def read_csv_rows(path: Path) -> list[list[str]]:
    """All rows of a CSV file as lists of strings; a cell over `cells.MAX_CELL_CHARACTERS` is a
    DataError naming the file, row and column (as a spreadsheet letters it)."""
    rows = list(csv.reader(io.StringIO(decode_text(path), newline="")))
    for number, row in enumerate(rows, start=1):
        if row and max(map(len, row)) > MAX_CELL_CHARACTERS:
            _refuse_long_cell(row, Path(path), None, number)
    return rows


def refuse_long_cells(frame: pd.DataFrame, path: str | Path, sheet: str | None = None, first_row: int = 2) -> None:
    """A DataError naming the first cell over `cells.MAX_CELL_CHARACTERS` in a table read from a
    file: its file, sheet, row (the table's first row is file row ``first_row``) and column. Text
    columns are judged by their distinct values, so that a categorical column costs one length per
    category; other columns hold no text."""
    for column in frame.columns:
        series = frame[column]
        if isinstance(series.dtype, pd.CategoricalDtype):
            categories = series.cat.categories
            if categories.dtype != object and not pd.api.types.is_string_dtype(categories.dtype):
                continue
            long = categories.astype(str).str.len().to_numpy() > MAX_CELL_CHARACTERS
            if not long.any():
                continue
            positions = series.cat.codes.isin(long.nonzero()[0]).to_numpy().nonzero()[0]
        elif series.dtype == object or pd.api.types.is_string_dtype(series.dtype):
            positions = (series.astype(str).str.len().to_numpy() > MAX_CELL_CHARACTERS).nonzero()[0]
        else:
            continue
        if len(positions):
            raise DataError(long_cell_reason(len(str(series.iloc[positions[0]]))), file=str(path), sheet=sheet,
                            row=first_row + int(positions[0]), column=str(column))


def read_register(path: str | Path, required: list[str], what: str,
                  optional: str = "") -> list[tuple[int, dict[str, str]]]:
    """The non-blank rows of a small CSV register (sites, contracts, spend factors, totals), each as
    (file row number, {column: stripped text}), after checking the header has ``required``.

    Header names are folded to lower case with spaces as underscores. Problems raise `DataError`
    naming the file and row.
    """
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"{path}: no such {what}")
    rows = read_csv_rows(path)
    header = [cell.strip().lower().replace(" ", "_") for cell in rows[0]] if rows else []
    missing = [column for column in required if column not in header]
    if missing:
        raise DataError(f"missing column(s) {', '.join(missing)}; expected {', '.join(required)}"
                        + (f" (and optionally {optional})" if optional else ""), file=str(path), row=1)
    return [(number, dict(zip(header, (cell.strip() for cell in cells))))
            for number, cells in enumerate(rows[1:], start=2) if any(cell.strip() for cell in cells)]


def sheet_names(path: Path) -> list[str]:
    """The names of the sheets of a workbook."""
    return [name for name, _ in sheets(path)]


def sheets(path: Path) -> list[tuple[str, bool]]:
    """Each sheet of a workbook, in order, with whether it is visible (False for a hidden or
    very hidden sheet)."""
    import python_calamine

    try:
        metadata = python_calamine.CalamineWorkbook.from_path(str(path)).sheets_metadata
    except Exception as error:  # calamine raises several types for files that are not workbooks
        raise DataError(f"cannot be read as a workbook ({error})", file=str(path)) from None
    return [(sheet.name, sheet.visible == python_calamine.SheetVisibleEnum.Visible) for sheet in metadata]


#: The extent of a sheet as Office Open XML states it, ``<dimension ref="A1:XFD1048576"/>``, and
#: the reference of each cell, ``<c r="B7"``: letters for the column, digits for the row.
_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="(?:[A-Z]+\d+:)?([A-Z]+)(\d+)"')
_CELL_REFERENCE = re.compile(rb'<(?:\w+:)?c\s[^>]*?\br="([A-Z]+)(\d+)"')


def _column_number(letters: bytes) -> int:
    """``A`` -> 1, ``Z`` -> 26, ``AA`` -> 27, ``XFD`` -> 16384."""
    number = 0
    for letter in letters:
        number = number * 26 + letter - ord("A") + 1
    return number


def _zip_sheet_members(archive: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> the zip member holding it, from an Office Open XML workbook's index."""
    from xml.etree import ElementTree

    relations = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
    targets = {relation.get("Id"): relation.get("Target", "")
               for relation in ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))}
    members = {}
    for element in ElementTree.fromstring(archive.read("xl/workbook.xml")).iter():
        if element.tag.endswith("}sheet") and element.get(relations) in targets:
            target = targets[element.get(relations)].lstrip("/")
            members[element.get("name")] = target if target.startswith("xl/") else f"xl/{target}"
    return members


def sheet_extent(path: Path, sheet: str) -> tuple[int, int] | None:
    """(rows, columns) a sheet of an .xlsx/.xlsm workbook reaches, read from its XML without
    loading it: the stated dimension, or else the furthest cell reference. None for other formats."""
    if Path(path).suffix.lower() not in {".xlsx", ".xlsm"} or not zipfile.is_zipfile(path):
        return None
    try:
        with zipfile.ZipFile(path) as archive:
            member = _zip_sheet_members(archive).get(sheet)
            if member is None:
                return None
            with archive.open(member) as stream:
                start = stream.read(1 << 16)
                if match := _DIMENSION.search(start):
                    return int(match.group(2)), _column_number(match.group(1))
                rows = columns = 0
                block, overlap = start, b""
                while block:  # a reference cut between two blocks is found whole in the overlap
                    chunk = overlap + block
                    for column, row in _CELL_REFERENCE.findall(chunk):
                        rows, columns = max(rows, int(row)), max(columns, _column_number(column))
                    overlap, block = chunk[-256:], stream.read(1 << 20)
                return rows, columns
    except (KeyError, zipfile.BadZipFile, ElementTreeError) as error:
        raise DataError(f"cannot be read as a workbook ({error})", file=str(path)) from None


def read_sheet_rows(path: Path, sheet: str) -> list[list[object]]:
    """All rows of one sheet, as the stored cell values (str, float, int, bool, date, datetime);
    a cell over `cells.MAX_CELL_CHARACTERS` is a DataError naming its sheet, row and column.

    A sheet larger than SEFTON_CARBON_MAX_SHEET_CELLS is refused before it is loaded, from the
    extent its XML states (`sheet_extent`), so that a sheet formatted to XFD1048576 costs no memory.
    """
    import python_calamine

    extent = sheet_extent(path, sheet)
    if extent is not None:
        _check_sheet_size(path, sheet, *extent)
    try:
        workbook = python_calamine.CalamineWorkbook.from_path(str(path))
        worksheet = workbook.get_sheet_by_name(sheet)
        _check_sheet_size(path, sheet, worksheet.height, worksheet.width)
        rows = worksheet.to_python(skip_empty_area=False)
    except DataError:
        raise
    except Exception as error:  # calamine raises several types for files that are not workbooks
        raise DataError(f"cannot read sheet '{sheet}' ({error})", file=str(path)) from None
    for number, row in enumerate(rows, start=1):
        if any(isinstance(value, str) and len(value) > MAX_CELL_CHARACTERS for value in row):
            _refuse_long_cell(row, Path(path), sheet, number)
    return rows


def _check_sheet_size(path: Path, sheet: str, rows: int, columns: int) -> None:
    if rows * columns > limit("SEFTON_CARBON_MAX_SHEET_CELLS"):
        raise DataError(f"has {rows:,} rows x {columns:,} columns, over the limit of "
                        f"{limit('SEFTON_CARBON_MAX_SHEET_CELLS'):,} cells: delete the empty rows and columns",
                        file=str(path), sheet=sheet)


def cell_text(value: object) -> str:
    """A cell value as the text a person would read in it.

    Whole numbers lose their ``.0``; other floats keep their shortest exact representation; dates
    become ISO dates.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time(0) else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)
