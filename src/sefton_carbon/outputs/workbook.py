"""The report's workbook: the same content as the HTML report, as sheets ready to pivot.

Numbers are stored as numbers (units in the column headers); every text cell is written as text with
XlsxWriter's ``write_string``, so a value such as ``=cmd|...`` from a return is shown, never run.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from sefton_carbon.accounting.catalogue import OUTSIDE_OF_SCOPES_NUMBER
from sefton_carbon.accounting.ghg_protocol import lga_area
from sefton_carbon.outputs.html_report import ReportData

#: Excel's row limit; a larger ledger is cut with a note pointing at ledger.csv.
EXCEL_MAX_ROWS = 1_048_576


def _sheet(workbook, name: str, frame: pd.DataFrame, formats: dict, note: str | None = None) -> None:
    sheet = workbook.add_worksheet(name)
    first = 0
    if note:
        sheet.write_string(0, 0, note, formats["note"])
        first = 2
    for column, title in enumerate(frame.columns):
        sheet.write_string(first, column, str(title), formats["header"])
        sheet.set_column(column, column, max(12, min(48, len(str(title)) + 2)))
    for row_number, row in enumerate(frame.itertuples(index=False), start=first + 1):
        for column, value in enumerate(row):
            if value is None or (isinstance(value, float) and value != value):
                continue
            if isinstance(value, bool):
                sheet.write_boolean(row_number, column, value)
            elif isinstance(value, (int, float)) and not isinstance(value, bool):
                sheet.write_number(row_number, column, float(value))
            elif isinstance(value, pd.Timestamp):
                sheet.write_datetime(row_number, column, value.to_pydatetime(), formats["date"])
            else:
                sheet.write_string(row_number, column, str(value))
    sheet.freeze_panes(first + 1, 0)
    if len(frame):
        sheet.autofilter(first, 0, first + len(frame), len(frame.columns) - 1)


def write_workbook(data: ReportData, output: str | Path, street_lighting_sites: set[str] | None = None) -> Path:
    """Write the report's workbook (see the module docstring)."""
    import xlsxwriter

    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    inventory = data.inventory
    summary = inventory.summary()
    workbook = xlsxwriter.Workbook(str(output), {"strings_to_formulas": False, "strings_to_urls": False,
                                                 "nan_inf_to_errors": True})
    # A fixed creation date (the end of the reporting year) keeps the file byte-identical between runs.
    workbook.set_properties({"title": data.title, "created": dt.datetime.combine(data.year.last_day, dt.time())})
    formats = {"header": workbook.add_format({"bold": True, "bg_color": "#DDEBF7", "text_wrap": True}),
               "note": workbook.add_format({"italic": True}),
               "date": workbook.add_format({"num_format": "yyyy-mm-dd"})}
    headline = pd.DataFrame([
        ("Reporting year", data.year.label, None), ("Baseline year", data.baseline.reporting_year.label, None),
        ("Total emissions", None, inventory.total_tco2e), ("Baseline total", None, data.baseline.total_tco2e),
        ("Scope 1", None, summary["by_scope"]["scope_1"]),
        ("Scope 2 location-based", None, summary["by_scope"]["scope_2_location"]),
        ("Scope 2 market-based", None, summary["by_scope"]["scope_2_market"]),
        ("Scope 3", None, summary["by_scope"]["scope_3"]),
        ("Biogenic CO2, outside of scopes (t CO2, in no total)", None, summary["biogenic_co2_tonnes"]),
        ("Estimated share", None, summary["estimated_share"]),
        ("Rows read", None, summary["rows"]["read"]), ("Rows accounted", None, summary["rows"]["accounted"]),
        ("Rows rejected", None, summary["rows"]["rejected"])], columns=["item", "text", "value (t CO2e or count)"])
    _sheet(workbook, "Summary", headline, formats, f"{data.title}, {data.year.label}")
    scopes = data.scope_table().rename(columns={"tco2e": f"{data.year.label} (t CO2e)",
                                                "baseline_tco2e": f"baseline {data.baseline.reporting_year.label} (t CO2e)"})
    _sheet(workbook, "By scope and category", scopes, formats)
    gases = inventory.gas_table()[["label", "tco2e"]].rename(
        columns={"label": "gas", "tco2e": f"{data.year.label} (t CO2e)"})
    _sheet(workbook, "By gas", gases, formats, "Scope 1 and Scope 2 (location-based) inside the boundary, by gas")
    _sheet(workbook, "By department", data.departments().rename(columns={"tco2e": "emissions (t CO2e)"}), formats)
    sites = pd.DataFrame(list(inventory.by("site").items()), columns=["site", "emissions (t CO2e)"])
    _sheet(workbook, "By site", sites, formats)
    ledger = inventory.ledger
    lighting = street_lighting_sites or set()
    ledger = ledger.assign(lga_area=lga_area(ledger, lighting))
    note = None
    if len(ledger) >= EXCEL_MAX_ROWS - 3:
        note = f"The ledger has {len(ledger):,} lines, more than a sheet holds: the first are shown; see ledger.csv"
        ledger = ledger.head(EXCEL_MAX_ROWS - 4)
    _sheet(workbook, "Ledger", ledger.astype({column: str for column in ledger.select_dtypes("category")}), formats, note)
    _sheet(workbook, "Rejected rows", data.rejected().astype({"source_row": object}), formats)
    boundary = pd.DataFrame({"statement": summary["boundary"]})
    _sheet(workbook, "Boundary", boundary, formats)
    methodology = pd.DataFrame({"item": ["Factor set", "GWP basis", "Reporting year rule", "Scope 2", "Source"],
                                "value": [summary["factor_set"], summary["gwp_basis"],
                                          "UK financial year; factors of the calendar year it starts",
                                          f"both methods reported; {inventory.scope_2_method}-based counts",
                                          "UK Government GHG Conversion Factors for Company Reporting, OGL v3.0"]})
    _sheet(workbook, "Methodology", methodology, formats)
    inside = ledger[ledger["in_boundary"] & (ledger["scope"] != OUTSIDE_OF_SCOPES_NUMBER)]
    mapping = inside.groupby(["lga_area", "scope"], as_index=False, observed=True)["tco2e"].sum()
    _sheet(workbook, "LGA tool mapping", mapping.rename(columns={"tco2e": "emissions (t CO2e)"}), formats,
           "Ledger lines grouped by the reporting areas of the LGA Greenhouse Gas Accounting Tool, to cross-check")
    workbook.close()
    return output
