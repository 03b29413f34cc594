"""Workbooks are sized up before they are loaded, and hidden sheets are known as hidden."""

import re
import zipfile

import openpyxl
import pytest

from sefton_carbon.errors import DataError
from sefton_carbon.io.spreadsheets import read_sheet_rows, sheet_extent, sheets


def workbook(path, far_cell="XFD1048576"):
    book = openpyxl.Workbook()
    entry = book.active
    entry.title = "Entry"
    entry["A1"] = "department"
    entry[far_cell] = "x"
    stale = book.create_sheet("Last year")
    stale["A1"] = 1
    stale.sheet_state = "hidden"
    book.save(path)
    return path


def without_dimension(path):
    """The same workbook with the <dimension> element removed from every sheet."""
    stripped = path.with_name("stripped.xlsx")
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(stripped, "w", zipfile.ZIP_DEFLATED) as target:
        for member in source.infolist():
            data = source.read(member)
            if member.filename.startswith("xl/worksheets/"):
                data = re.sub(rb"<dimension[^>]*/>", b"", data)
            target.writestr(member, data)
    return stripped


def test_visible_and_hidden_sheets(tmp_path):
    assert sheets(workbook(tmp_path / "book.xlsx")) == [("Entry", True), ("Last year", False)]


@pytest.mark.parametrize("strip", [False, True])
def test_extent_is_read_from_the_xml(tmp_path, strip):
    path = workbook(tmp_path / "book.xlsx", far_cell="C70000")
    path = without_dimension(path) if strip else path
    assert sheet_extent(path, "Entry") == (70000, 3)
    assert sheet_extent(path, "Last year") == (1, 1)


@pytest.mark.parametrize("strip", [False, True])
def test_a_sheet_formatted_to_the_last_cell_is_refused_before_loading(tmp_path, strip):
    path = workbook(tmp_path / "book.xlsx")
    path = without_dimension(path) if strip else path
    with pytest.raises(DataError, match=r"sheet 'Entry': has 1,048,576 rows x 16,384 columns, over the limit"):
        read_sheet_rows(path, "Entry")
    assert read_sheet_rows(path, "Last year") == [[1.0]]
