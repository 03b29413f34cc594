"""Build the messy returns example (examples/messy-returns/2023-24/): returns as they really arrive.

Invented figures for illustration. Each file shows cases the reader must handle or refuse:

* ``adult-social-care.xlsx``: a workbook with title rows, header synonyms (Dept, Building, Usage,
  Units, From, To), real Excel dates, a number typed as text with a thousands separator, a unit
  typed in the quantity cell, a row left blank, and a Scoping sheet.
* ``communities.csv``: Windows-1252 with smart quotes in the notes, day-first dates, a comment row,
  a blank row and a "Total" row.
* ``highways.csv``: UTF-8 with a byte-order mark, ISO dates, and a bill from 15 March to 14 April
  that straddles the start of the year (apportioned by days).
* ``corporate-resources.csv``: an exact copy of a row sent in another return (counted once) and two
  overlapping bills for one meter (both refused, each naming the other).
* ``operational-services.csv``: a misspelt activity, bare "gallons", a negative quantity, a date
  that does not exist, a period that ends before it starts, and a site missing from the register.

Run from the repository root: ``python examples/make_messy_returns.py``.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import xlsxwriter

FOLDER = Path(__file__).parent / "messy-returns"
YEAR = FOLDER / "2023-24"
HEADER = ["department", "site", "meter", "activity", "quantity", "unit", "period_start", "period_end",
          "data_quality", "notes"]


def write(path: Path, rows: list[list[object]], encoding: str = "utf-8") -> None:
    with open(path, "w", newline="", encoding=encoding) as stream:
        csv.writer(stream, lineterminator="\r\n").writerows(rows)


def adult_social_care() -> None:
    workbook = xlsxwriter.Workbook(str(YEAR / "adult-social-care.xlsx"))
    sheet = workbook.add_worksheet("Energy 2023-24")
    date = workbook.add_format({"num_format": "dd/mm/yyyy"})
    sheet.write(0, 0, "Adult Social Care: energy and travel 2023/24")
    sheet.write(1, 0, "Prepared by the service's business support team")
    for column, name in enumerate(["Dept", "Building", "Activity", "Usage", "Units", "From", "To", "Notes"]):
        sheet.write(3, column, name)
    rows = [
        ["Adult Social Care", "Beechwood Care Home", "natural_gas", 52000, "kWh", dt.date(2023, 4, 1), dt.date(2023, 4, 30), ""],
        ["Adult Social Care", "Beechwood Care Home", "natural_gas", "48,500.5", "kWh", dt.date(2023, 5, 1), dt.date(2023, 5, 31), "typed as text"],
        ["Adult Social Care", "Beechwood Care Home", "electricity", "21000 kWh", "", dt.date(2023, 4, 1), dt.date(2023, 4, 30), "unit in the number cell"],
        [None] * 8,
        ["Adult Social Care", "", "business mileage", 9800, "miles", dt.date(2023, 4, 1), dt.date(2023, 6, 30), "claims"],
    ]
    for offset, row in enumerate(rows, start=4):
        for column, value in enumerate(row):
            if isinstance(value, dt.date):
                sheet.write_datetime(offset, column, dt.datetime.combine(value, dt.time()), date)
            elif value is not None:
                sheet.write(offset, column, value)
    scoping = workbook.add_worksheet("Scoping")
    scoping.write(0, 0, "Scoping: which emission sources does Adult Social Care control or influence?")
    scoping_rows = [
        ["source_type", "description", "data_exists", "data_holder", "measurement", "suggested_actions"],
        ["buildings", "three care homes", "yes", "Facilities team", "meter", "LED lighting, boiler controls"],
        ["refrigerant_equipment", "kitchen fridges and freezers", "no", "Catering contractor", "none",
         "log refrigerant top-ups"],
        ["contracts_and_outsourced_services", "home care contracts", "partly", "Commissioning", "estimate",
         "carbon clauses in the next tender"],
        ["staff_travel", "home visits by car", "yes", "Payroll", "invoice", "pool e-bikes for short visits"],
    ]
    for row, values in enumerate(scoping_rows, start=1):
        for column, value in enumerate(values):
            scoping.write_string(row, column, value)
    workbook.close()


def communities() -> None:
    write(YEAR / "communities.csv", [
        ["Communities return 2023/24"],
        ["Dept", "Site", "Activity", "Amount", "UOM", "Start", "End", "Data quality", "Comments"],
        ["Communities", "Central Library", "natural_gas", "12500", "kWh", "01/04/2023", "30/04/2023", "actual",
         "Supplier\u2019s \u201cestimated\u201d read corrected"],
        ["# rows below are from the leisure contract portal", "", "", "", "", "", "", "", ""],
        ["Communities", "Dunes Leisure Centre", "natural_gas", "180000", "kWh", "01/04/2023", "30/04/2023",
         "estimated", "portal estimate"],
        ["", "", "", "", "", "", "", "", ""],
        ["Total", "", "natural_gas", "192500", "kWh", "01/04/2023", "30/04/2023", "", ""],
    ], encoding="cp1252")


def highways() -> None:
    rows = [HEADER,
            ["Highways and Public Protection", "Street lighting (unmetered)", "", "electricity", "310000", "kWh",
             "2023-03-15", "2023-04-14", "estimated", "straddles 1 April: 14 of its 31 days (1 to 14 April) are in 2023/24"],
            ["Highways and Public Protection", "Street lighting (unmetered)", "", "electricity", "300000", "kWh",
             "2023-04-15", "2023-05-14", "estimated", ""]]
    with open(YEAR / "highways.csv", "w", newline="", encoding="utf-8-sig") as stream:
        csv.writer(stream, lineterminator="\n").writerows(rows)


def corporate_resources() -> None:
    write(YEAR / "corporate-resources.csv", [
        HEADER,
        ["Corporate Resources", "North Town Hall", "MPAN 1012345678901", "electricity", "40000", "kWh",
         "2023-04-01", "2023-04-30", "actual", ""],
        ["Corporate Resources", "North Town Hall", "MPAN 1012345678901", "electricity", "41000", "kWh",
         "2023-04-20", "2023-05-19", "actual", "overlaps the April bill"],
        ["Highways and Public Protection", "Street lighting (unmetered)", "", "electricity", "300000", "kWh",
         "2023-04-15", "2023-05-14", "estimated", "copy of the row Highways sent"],
        ["Corporate Resources", "", "", "national_rail", "1200", "passenger km", "2023-04-01", "2023-06-30",
         "actual", ""],
    ])


def operational_services() -> None:
    write(YEAR / "operational-services.csv", [
        HEADER,
        ["Operational In-House Services", "Hawthorn Road Depot", "", "diesel", "65000", "litres", "2023-04-01",
         "2023-04-30", "actual", "fuel cards"],
        ["Operational In-House Services", "Hawthorn Road Depot", "", "natral gas", "30000", "kWh", "2023-04-01",
         "2023-04-30", "actual", ""],
        ["Operational In-House Services", "Hawthorn Road Depot", "", "gas_oil", "900", "gallons", "2023-05-01",
         "2023-05-31", "actual", ""],
        ["Operational In-House Services", "Hawthorn Road Depot", "", "diesel", "-300", "litres", "2023-06-01",
         "2023-06-30", "actual", "refund"],
        ["Operational In-House Services", "Southside Depot", "", "natural_gas", "21000", "kWh", "31/02/2024",
         "2024-03-31", "actual", ""],
        ["Operational In-House Services", "Southside Depot", "", "electricity", "15000", "kWh", "2023-09-30",
         "2023-09-01", "actual", ""],
        ["Operational In-House Services", "Salt Barn", "", "electricity", "800", "kWh", "2023-10-01", "2023-10-31",
         "actual", "new site"],
    ])


def sites() -> None:
    write(FOLDER / "sites.csv", [
        ["site", "department", "tags", "operational_control", "floor_area_m2"],
        ["Beechwood Care Home", "Adult Social Care", "", "yes", "2500"],
        ["Central Library", "Communities", "", "yes", "900"],
        ["Dunes Leisure Centre", "Communities", "", "yes", "6000"],
        ["Street lighting (unmetered)", "Highways and Public Protection", "street_lighting", "yes", ""],
        ["North Town Hall", "Corporate Resources", "", "yes", "4000"],
        ["Hawthorn Road Depot", "Operational In-House Services", "fleet", "yes", "3000"],
        ["Southside Depot", "Operational In-House Services", "", "yes", "3000"],
    ])


if __name__ == "__main__":
    YEAR.mkdir(parents=True, exist_ok=True)
    for build in (adult_social_care, communities, highways, corporate_resources, operational_services, sites):
        build()
