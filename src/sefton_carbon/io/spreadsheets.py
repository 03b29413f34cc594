"""Reading the rows of CSV and Excel files as they arrive, without evaluating anything.

Excel files (.xlsx, .xlsm, .xls, .ods) are read with python-calamine, which returns the values Excel
last stored in each cell: formulas are never evaluated. CSV text is decoded as UTF-8 (with or without
a byte-order mark), UTF-16 when it starts with a UTF-16 byte-order mark, and otherwise Windows-1252,
the encoding Excel on Windows uses for "CSV" exports.
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

from sefton_carbon.errors import DataError, UsageError

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


def read_csv_rows(path: Path) -> list[list[str]]:
    """All rows of a CSV file as lists of strings."""
    return list(csv.reader(io.StringIO(decode_text(path), newline="")))


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
    """All rows of one sheet, as the stored cell values (str, float, int, bool, date, datetime).

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
        return worksheet.to_python(skip_empty_area=False)
    except DataError:
        raise
    except Exception as error:  # calamine raises several types for files that are not workbooks
        raise DataError(f"cannot read sheet '{sheet}' ({error})", file=str(path)) from None


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
