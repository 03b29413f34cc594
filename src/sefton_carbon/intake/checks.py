"""What the intake says about an upload: whether it is a CSV file or an Excel workbook at all, and
then `validate`'s verdict on it, row by row.

The verdict is `validate_returns`'s, with the same pricing inputs and the same messages, and two
rules that keep the returns folder collectable: a department's link sends returns for that
department only, so a row naming another department is an error; and a workbook's Scoping sheet
must read as `collect` reads it (`read_scoping`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path, PureWindowsPath

import pandas as pd

from sefton_carbon.errors import DataError
from sefton_carbon.returns.activity import read_activity
from sefton_carbon.returns.collection import PROBLEM_COLUMNS, PricingInputs, Validation, validate_returns
from sefton_carbon.returns.template import read_scoping
from sefton_carbon.years import ReportingYear

#: The first bytes of an Office Open XML workbook (a zip archive) and of a legacy .xls (OLE2).
ZIP_SIGNATURE = b"PK\x03\x04"
OLE_SIGNATURE = bytes.fromhex("d0cf11e0a1b11ae1")
#: The kinds of return accepted, by the ending of the name they were sent as, and the signature
#: their bytes must start with (None: text, with no NUL byte unless it starts with a UTF-16 mark).
RETURN_SIGNATURES = {".csv": None, ".xlsx": ZIP_SIGNATURE, ".xlsm": ZIP_SIGNATURE, ".xls": OLE_SIGNATURE}
UTF16_MARKS = (b"\xff\xfe", b"\xfe\xff")
#: Characters of a sent file name kept for display.
SHOWN_NAME_LENGTH = 120


def shown_name(sent_as: str | None) -> str:
    """The name a file was sent as, for display only: its last part (after ``/`` or ``\\``),
    shortened; never used as a path."""
    name = PureWindowsPath(sent_as or "").name.strip()
    return name[:SHOWN_NAME_LENGTH] or "upload"


def return_suffix(sent_as: str | None) -> str | None:
    """The kind of return a file was sent as (``.csv``, ``.xlsx``, ``.xlsm``, ``.xls``), or None."""
    suffix = Path(shown_name(sent_as)).suffix.lower()
    return suffix if suffix in RETURN_SIGNATURES else None


def looks_like(suffix: str, head: bytes) -> bool:
    """Whether a file's first bytes fit the kind it was sent as: a workbook's signature, or text
    for CSV (a workbook or other binary file renamed .csv is not)."""
    signature = RETURN_SIGNATURES[suffix]
    if signature is not None:
        return head.startswith(signature)
    return head.startswith(UTF16_MARKS) or b"\x00" not in head


@dataclass
class ReturnCheck(Validation):
    """`validate`'s verdict on one return: its `Validation` (file shown as sent), with the rows that
    have an error. Accepted when there is no error; warnings stay."""

    rows_rejected: int

    @property
    def accepted(self) -> bool:
        return self.errors.empty

    @property
    def rows_accounted(self) -> int:
        """The rows that count: read, less those with an error."""
        return self.rows_read - self.rows_rejected

    def records(self) -> list[dict]:
        """Every problem as plain data: severity, file, sheet, row (None for the whole file),
        column, value and message."""
        frame = self.problems.rename(columns={"source_file": "file", "source_sheet": "sheet", "source_row": "row"})
        return json.loads(frame.to_json(orient="records"))


def _other_departments(path: str | Path, department: str) -> pd.DataFrame:
    """An error on each row that names a department other than the link's."""
    rows = read_activity([path]).rows
    others = rows[(rows["department"].astype(str) != department).to_numpy()]
    return pd.DataFrame({
        "severity": "error", "source_file": str(path), "source_sheet": others["source_sheet"].astype(str),
        "source_row": others["source_row"], "column": "department", "value": others["department"].astype(str),
        "message": f"this link sends returns for '{department}' only: write '{department}' here, or send "
                   "the rows of another department through that department's own link"}, columns=PROBLEM_COLUMNS)


def _scoping_problem(path: str | Path) -> pd.DataFrame:
    """The error that would stop `collect` reading a workbook's Scoping sheet, if any."""
    try:
        read_scoping(path)
    except DataError as error:
        return pd.DataFrame([{"severity": "error", "source_file": str(path), "source_sheet": error.sheet or "",
                              "source_row": error.row, "column": error.column or "", "value": "",
                              "message": error.reason}], columns=PROBLEM_COLUMNS)
    return pd.DataFrame(columns=PROBLEM_COLUMNS)


def check_return(path: str | Path, department: str, year: str | ReportingYear, pricing: PricingInputs,
                 shown_as: str) -> ReturnCheck:
    """Check one return sent through ``department``'s link as `validate` would (``year`` and the
    pricing inputs as the server was started with), plus the intake's own rules (see the module
    docstring). The file is named ``shown_as`` in the problems and their messages."""
    validation = validate_returns([path], year, **pricing.arguments())
    found = [frame for frame in (validation.problems, _other_departments(path, department), _scoping_problem(path))
             if len(frame)]
    problems = (pd.concat(found, ignore_index=True) if found else validation.problems).astype({"source_row": "Int64"})
    problems = problems.sort_values(["source_sheet", "source_row", "severity"], kind="stable",
                                    na_position="last").reset_index(drop=True)
    problems["source_file"] = shown_as
    problems["message"] = problems["message"].astype(str).str.replace(str(path), shown_as, regex=False)
    errors = problems[problems["severity"] == "error"]
    rejected = errors[errors["source_row"].notna()][["source_sheet", "source_row"]].drop_duplicates()
    return ReturnCheck(problems=problems, rows_read=validation.rows_read, rows_rejected=len(rejected))
