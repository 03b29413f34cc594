"""Return templates: the workbook a department fills in and sends back.

The workbook (written with XlsxWriter) has four sheets:

* ``Instructions``: what to report, in which units, where the figures come from and who to ask.
* ``Scoping``: one row per kind of emission source (`SOURCE_TYPES`): does the department have it,
  does data exist, who holds it, how it is measured, and what could avoid or reduce it.
* ``Entry``: the activity table, with the department filled in, drop-down lists for site, activity,
  unit and data quality, number and date validation, and a frozen header.
* ``Lists``: the values behind the drop-downs (hidden).

`sefton_carbon.activity` reads the Entry sheet like any other return; `read_scoping` reads the
Scoping sheet back.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from pathlib import Path

import pandas as pd

from sefton_carbon.accounting.catalogue import load_catalogue
from sefton_carbon.accounting.ghg_protocol import SOURCE_TYPES
from sefton_carbon.accounting.sites import SitesRegister
from sefton_carbon.errors import DataError, UsageError
from sefton_carbon.io.files import defuse_text, recorded_name
from sefton_carbon.io.spreadsheets import cell_text, read_sheet_rows, sheet_names
from sefton_carbon.years import ReportingYear

ENTRY_COLUMNS = ["department", "site", "meter", "activity", "quantity", "unit", "period_start",
                 "period_end", "data_quality", "notes"]
SCOPING_COLUMNS = ["source_type", "description", "data_exists", "data_holder", "measurement",
                   "suggested_actions"]
DATA_EXISTS = ["yes", "partly", "no", "not applicable"]
MEASUREMENTS = ["meter", "invoice", "estimate", "none"]
UNITS_OFFERED = ["kWh", "MWh", "therms", "m3", "litres", "UK gallons", "tonnes", "kg", "km", "miles",
                 "passenger.km", "FTE hours", "room nights", "GBP"]
ENTRY_ROWS = 500
#: The creation time written into every template workbook: fixed, so the same template is the same
#: bytes on every run (a workbook otherwise records the moment it was written).
TEMPLATE_CREATED = dt.datetime(2020, 1, 1)
INSTRUCTIONS = [
    "How to fill in this return",
    "",
    "1. Scoping sheet: for each kind of emission source, say whether your department has it, whether "
    "data exists, who holds it and how it is measured (meter reading, invoice or estimate). Add the "
    "actions you suggest to avoid or reduce emissions.",
    "2. Entry sheet: one row per bill, meter reading or claim. Choose the site, activity and unit from "
    "the drop-down lists. Enter the quantity as a number only (no units, no commas needed).",
    "3. Periods: the first and last day the figure covers, as dates (for example 01/04/2023 to "
    "30/04/2023). Dates are read day first (UK order). A bill that crosses 1 April is fine: it is "
    "split by days.",
    "4. Data quality: 'actual' for a meter reading or invoice, 'estimated' for an estimate or a "
    "supplier's estimated bill.",
    "",
    "Where the figures come from",
    "- Gas and electricity: the supplier's invoices or half-hourly data (kWh), from the energy "
    "team or the budget holder for the building.",
    "- Fleet fuel: fuel card statements and bunkered fuel records (litres).",
    "- Business mileage: expense claims (miles), from payroll or the expenses system.",
    "- Rail, flights and hotels: the travel booking system.",
    "- Water: the water company's bills (cubic metres).",
    "- Waste: the contractor's weighbridge tickets (tonnes).",
    "- Refrigerant: the air-conditioning maintenance log (kg topped up).",
    "",
    "Units accepted: " + ", ".join(UNITS_OFFERED) + ". Write 'UK gallons', not 'gallons'.",
    "",
    "Questions: the energy and environmental management team.",
]


def _lists(sites: SitesRegister | None, department: str) -> dict[str, list[str]]:
    catalogue = load_catalogue()
    site_names = [] if sites is None else sorted(
        sites.table.loc[sites.table["department"].str.lower() == department.lower(), "site"])
    return {"activity": sorted(catalogue.activities), "unit": UNITS_OFFERED,
            "data_quality": ["actual", "estimated"], "site": site_names,
            "data_exists": DATA_EXISTS, "measurement": MEASUREMENTS}


def write_template(department: str, output: str | Path, year: str | ReportingYear | None = None,
                   sites: SitesRegister | None = None) -> Path:
    """Write a department's return workbook (.xlsx); see the module docstring."""
    import xlsxwriter

    if not department.strip():
        raise UsageError("--department must name the department")
    output = Path(output)
    if output.suffix.lower() != ".xlsx":
        raise UsageError(f"{output}: the template is an .xlsx workbook (or use --format csv)")
    year = ReportingYear.parse(year) if year else None
    lists = _lists(sites, department)
    heading = f"Greenhouse gas return: {department}" + (f", {year.label}" if year else "")
    output.parent.mkdir(parents=True, exist_ok=True)
    # Text is never written as a formula or a link (a department called "=1+1" stays text), and the
    # workbook's creation time is fixed, so the same template is the same bytes on every run.
    workbook = xlsxwriter.Workbook(str(output), {"strings_to_formulas": False, "strings_to_urls": False})
    workbook.set_properties({"title": heading, "created": TEMPLATE_CREATED})
    bold = workbook.add_format({"bold": True})
    title = workbook.add_format({"bold": True, "font_size": 14})
    header = workbook.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    date = workbook.add_format({"num_format": "dd/mm/yyyy"})
    wrap = workbook.add_format({"text_wrap": True, "valign": "top"})

    instructions = workbook.add_worksheet("Instructions")
    instructions.set_column(0, 0, 110, wrap)
    instructions.write(0, 0, heading, title)
    for row, text in enumerate(INSTRUCTIONS, start=2):
        instructions.write_string(row, 0, text, bold if text and not text[0].isdigit()
                                  and not text.startswith(("-", "Units", "Questions")) else wrap)

    list_sheet = workbook.add_worksheet("Lists")
    ranges = {}
    for column, (name, values) in enumerate(lists.items()):
        list_sheet.write(0, column, name, bold)
        for row, value in enumerate(values, start=1):
            list_sheet.write_string(row, column, value)
        letter = chr(ord("A") + column)
        ranges[name] = f"=Lists!${letter}$2:${letter}${max(len(values), 1) + 1}"
    list_sheet.hide()

    scoping = workbook.add_worksheet("Scoping")
    scoping.write(0, 0, f"Scoping: which emission sources does {department} control or influence?", title)
    for column, name in enumerate(SCOPING_COLUMNS):
        scoping.write(1, column, name, header)
    for row, (source_type, (description, _)) in enumerate(SOURCE_TYPES.items(), start=2):
        scoping.write_string(row, 0, source_type)
        scoping.write_string(row, 1, description)
    last = len(SOURCE_TYPES) + 1
    scoping.data_validation(2, 2, last, 2, {"validate": "list", "source": ranges["data_exists"]})
    scoping.data_validation(2, 4, last, 4, {"validate": "list", "source": ranges["measurement"]})
    scoping.set_column(0, 0, 34)
    scoping.set_column(1, 1, 60, wrap)
    scoping.set_column(2, 5, 24)
    scoping.freeze_panes(2, 0)

    entry = workbook.add_worksheet("Entry")
    entry.write(0, 0, heading + ": one row per bill, reading or claim", title)
    for column, name in enumerate(ENTRY_COLUMNS):
        entry.write(1, column, name, header)
    first, last = 2, ENTRY_ROWS + 1
    for row in range(first, last + 1):
        entry.write_string(row, 0, department)
    position = {name: ENTRY_COLUMNS.index(name) for name in ENTRY_COLUMNS}
    for name in ("activity", "unit", "data_quality") + (("site",) if lists["site"] else ()):
        entry.data_validation(first, position[name], last, position[name],
                              {"validate": "list", "source": ranges[name],
                               "error_message": f"Choose a {name.replace('_', ' ')} from the list."})
    entry.data_validation(first, position["quantity"], last, position["quantity"],
                          {"validate": "decimal", "criteria": ">=", "value": 0,
                           "error_message": "Enter a number of 0 or more, without units."})
    low = dt.datetime(year.start_year - 1, 4, 1) if year else dt.datetime(2000, 1, 1)
    high = dt.datetime(year.start_year + 2, 3, 31) if year else dt.datetime(2100, 12, 31)
    for name in ("period_start", "period_end"):
        entry.data_validation(first, position[name], last, position[name],
                              {"validate": "date", "criteria": "between", "minimum": low, "maximum": high,
                               "error_message": "Enter a date, for example 01/04/2023."})
        entry.set_column(position[name], position[name], 13, date)
    entry.set_column(0, 1, 28)
    entry.set_column(2, 2, 16)
    entry.set_column(3, 3, 24)
    entry.set_column(9, 9, 40)
    entry.freeze_panes(2, 0)
    entry.activate()
    workbook.close()
    return output


def template_file_name(department: str) -> Path:
    """The file a department's template is written to when no name is given: ``return-`` and the
    department's name in lower-case letters, digits and hyphens, so that no name can reach outside
    the folder (``x/../../escaped`` gives ``return-x-escaped.xlsx``)."""
    slug = re.sub(r"[^a-z0-9]+", "-", department.lower()).strip("-") or "department"
    return Path(f"return-{slug}.xlsx")


def template_csv(department: str) -> str:
    """The entry columns as a CSV template, with the department filled in on one example row
    (quoted as CSV, and made inert where a spreadsheet would read it as a formula)."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(ENTRY_COLUMNS)
    writer.writerow([defuse_text(department)] + [""] * (len(ENTRY_COLUMNS) - 1))
    return text.getvalue()


def read_scoping(path: str | Path) -> pd.DataFrame:
    """The Scoping sheet of a returned workbook, one row per source type declared; an empty table
    when the workbook has no Scoping sheet. Unknown source types and values raise `DataError`."""
    path = Path(path)
    if path.suffix.lower() not in (".xlsx", ".xlsm", ".xls", ".ods") or "Scoping" not in sheet_names(path):
        return pd.DataFrame(columns=["source_file", "source_row", *SCOPING_COLUMNS])
    rows = [[cell_text(value).strip() for value in row] for row in read_sheet_rows(path, "Scoping")]
    header_index = next((index for index, row in enumerate(rows[:10]) if row[:1] == ["source_type"]), None)
    if header_index is None:
        raise DataError("the Scoping sheet has no header row starting 'source_type'", file=str(path),
                        sheet="Scoping")
    records = []
    for number, cells in enumerate(rows[header_index + 1:], start=header_index + 2):
        record = dict(zip(SCOPING_COLUMNS, cells + [""] * len(SCOPING_COLUMNS)))
        if not any(record[column] for column in SCOPING_COLUMNS[2:]):
            continue  # a source type the department left blank
        if record["source_type"] not in SOURCE_TYPES:
            raise DataError(f"source_type '{record['source_type']}' is not one of {', '.join(SOURCE_TYPES)}",
                            file=str(path), sheet="Scoping", row=number, column="source_type")
        for column, allowed in (("data_exists", DATA_EXISTS), ("measurement", MEASUREMENTS)):
            if record[column] and record[column].lower() not in allowed:
                raise DataError(f"{column} '{record[column]}' is not one of {', '.join(allowed)}",
                                file=str(path), sheet="Scoping", row=number, column=column)
        records.append({"source_file": recorded_name(path), "source_row": number, **record})
    return pd.DataFrame(records, columns=["source_file", "source_row", *SCOPING_COLUMNS])
