"""Build the illustrative example council (examples/example-council/).

The figures are invented, shaped like a metropolitan borough council's own operations (about
12,000 t CO2e in 2019/20 under the default boundary): gas and electricity per building per month,
unmetered street lighting, fleet diesel and gas oil per month, business mileage per quarter, water,
waste and refrigerant top-ups per year, homeworking from 2022/23, and the spend of the main
procurement categories. Three maintained schools, an outsourced leisure centre and a leased-out hall
give the boundary options something to differ on. They are not any real council's data.

It writes ``returns/<year>/*.csv`` (one file per department and year), ``sites.csv`` (the sites
register), ``contracts.csv`` (electricity contracts, some backed by REGO certificates) and
``spend-factors.csv`` (illustrative kg CO2e per GBP, not published figures).

Run from the repository root: ``python examples/make_example_council.py``. The output is
deterministic (fixed random seed), so re-running it reproduces the committed files.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from pathlib import Path

OUTPUT = Path(__file__).parent / "example-council" / "returns"
TITLE = "ILLUSTRATIVE EXAMPLE DATA - invented figures for the example council, not a real council's"
HEADER = ["department", "site", "activity", "quantity", "unit", "period_start", "period_end",
          "data_quality", "notes"]
START_YEARS = range(2019, 2025)

# Month weights from April to March.
GAS_PROFILE = [0.08, 0.05, 0.03, 0.03, 0.03, 0.05, 0.09, 0.12, 0.14, 0.14, 0.12, 0.12]
ELECTRICITY_PROFILE = [0.08, 0.08, 0.075, 0.075, 0.075, 0.08, 0.085, 0.09, 0.095, 0.09, 0.085, 0.09]
LIGHTING_PROFILE = [0.06, 0.045, 0.04, 0.045, 0.06, 0.08, 0.1, 0.115, 0.125, 0.12, 0.1, 0.11]

# (department, site, annual gas kWh, annual electricity kWh, kind) in 2019/20.
BUILDINGS = [
    ("Corporate Resources", "North Town Hall", 1_400_000, 650_000, "office"),
    ("Corporate Resources", "South Town Hall", 1_200_000, 520_000, "office"),
    ("Corporate Resources", "Civic Offices", 900_000, 1_100_000, "office"),
    ("Corporate Resources", "Riverside House", 600_000, 800_000, "office"),
    ("Communities", "Central Library", 260_000, 140_000, "library"),
    ("Communities", "Northway Library", 170_000, 85_000, "library"),
    ("Communities", "Seafront Library", 150_000, 80_000, "library"),
    ("Communities", "Parkside Library", 160_000, 82_000, "library"),
    ("Communities", "Marsh Lane Library", 140_000, 75_000, "library"),
    ("Communities", "Old Village Library", 120_000, 70_000, "library"),
    ("Communities", "Central Leisure Centre (50 m pool)", 3_800_000, 1_600_000, "leisure"),
    ("Communities", "Dunes Leisure Centre", 2_600_000, 1_100_000, "leisure"),
    ("Communities", "Meadows Leisure Centre", 1_500_000, 700_000, "leisure"),
    ("Communities", "Northfield Activity Centre", 1_200_000, 600_000, "leisure"),
    ("Adult Social Care", "Beechwood Care Home", 650_000, 250_000, "care"),
    ("Adult Social Care", "Oakfield Care Home", 620_000, 240_000, "care"),
    ("Adult Social Care", "Willow Court Care Home", 680_000, 260_000, "care"),
    ("Operational In-House Services", "Hawthorn Road Depot", 450_000, 300_000, "depot"),
    ("Operational In-House Services", "Southside Depot", 420_000, 280_000, "depot"),
    ("Education", "Hillside Primary School", 450_000, 120_000, "school"),
    ("Education", "Northway High School", 1_100_000, 380_000, "school"),
    ("Education", "Seaview Primary School", 380_000, 100_000, "school"),
    ("Corporate Resources", "Old Market Hall", 200_000, 60_000, "office"),
]
#: Sites register: tags and operational control of the sites that are not plainly the council's. A
#: maintained school is run by its governing body, an outsourced leisure centre by its contractor, a
#: leased-out hall by its tenant: the council has no operational control of any of them (GHG
#: Protocol Corporate Standard, chapter 3), though it funds the first two (financial control).
SITE_TAGS = {"Meadows Leisure Centre": ("outsourced", False), "Old Market Hall": ("leased_out", False),
             "Hillside Primary School": ("maintained_school", False),
             "Northway High School": ("maintained_school", False),
             "Seaview Primary School": ("maintained_school", False),
             "Street lighting (unmetered)": ("street_lighting", True)}
FLOOR_AREA_M2 = {"office": 4_000, "library": 900, "leisure": 6_000, "care": 2_500, "depot": 3_000,
                 "school": 5_000}
SPEND_FACTORS = [  # procurement category, Scope 3 category, kg CO2e per GBP (invented)
    ("construction", 2, 0.30), ("computer_equipment", 2, 0.25), ("professional_services", 1, 0.10),
    ("food_and_catering", 1, 0.45), ("vehicles", 2, 0.35)]
SPEND_GBP = {"construction": 18_000_000, "computer_equipment": 2_500_000,
             "professional_services": 6_000_000, "food_and_catering": 1_200_000, "vehicles": 1_500_000}
SPEND_TREND = [1, 0.8, 0.95, 1.05, 1.1, 1.1]

# Use in each year relative to 2019/20, by kind of building (closures in 2020/21, then efficiency).
GAS_TREND = {"office": [1, 0.82, 0.9, 0.86, 0.84, 0.81], "library": [1, 0.7, 0.92, 0.9, 0.88, 0.86],
             "leisure": [1, 0.55, 0.88, 0.9, 0.89, 0.87], "care": [1, 1.02, 1.0, 0.97, 0.96, 0.95],
             "depot": [1, 0.95, 0.97, 0.93, 0.9, 0.88], "school": [1, 0.85, 0.97, 0.94, 0.92, 0.9]}
ELECTRICITY_TREND = {"office": [1, 0.78, 0.86, 0.85, 0.83, 0.8],
                     "library": [1, 0.72, 0.93, 0.9, 0.87, 0.85],
                     "leisure": [1, 0.6, 0.9, 0.92, 0.9, 0.88], "care": [1, 1.01, 1.0, 0.98, 0.97, 0.96],
                     "depot": [1, 0.96, 0.98, 0.95, 0.92, 0.9],
                     "school": [1, 0.8, 0.95, 0.93, 0.9, 0.88]}
STREET_LIGHTING_KWH = [9_500_000, 8_700_000, 6_650_000, 4_950_000, 4_560_000, 4_470_000]
FLEET_DIESEL_LITRES = [850_000, 815_000, 840_000, 825_000, 805_000, 790_000]
GAS_OIL_LITRES = [40_000, 36_000, 38_000, 35_000, 33_000, 31_000]
# Business mileage per department in 2019/20 [miles], and its trend (pandemic, then hybrid working).
MILEAGE = {"Corporate Resources": 160_000, "Adult Social Care": 420_000, "Communities": 90_000,
           "Operational In-House Services": 30_000}
MILEAGE_TREND = [1, 0.35, 0.6, 0.75, 0.78, 0.8]
HOMEWORKING_FTE_HOURS = {2022: 700_000, 2023: 650_000, 2024: 600_000}
RAIL_PASSENGER_KM = [60_000, 6_000, 20_000, 35_000, 38_000, 40_000]
WATER_M3 = {"North Town Hall": 9_000, "South Town Hall": 7_500, "Civic Offices": 6_000,
            "Central Leisure Centre (50 m pool)": 21_000, "Dunes Leisure Centre": 15_000,
            "Meadows Leisure Centre": 8_000, "Beechwood Care Home": 4_500, "Oakfield Care Home": 4_200,
            "Willow Court Care Home": 4_800}
WASTE_TONNES = {"waste_landfill": [310, 260, 240, 190, 150, 120],
                "waste_combustion": [420, 380, 420, 450, 470, 480]}
REFRIGERANT_KG = {"refrigerant_r410a": [12, 6, 9, 14, 7, 8], "refrigerant_r134a": [5, 4, 5, 6, 4, 5],
                  "refrigerant_r404a": [8, 0, 6, 4, 5, 0], "refrigerant_r32": [0, 0, 0, 2, 3, 3]}


def month_periods(start_year: int) -> list[tuple[dt.date, dt.date]]:
    """The twelve calendar months of a financial year, April to March."""
    periods = []
    for offset in range(12):
        year, month = start_year + (3 + offset) // 12, (3 + offset) % 12 + 1
        first = dt.date(year, month, 1)
        following = dt.date(year + month // 12, month % 12 + 1, 1)
        periods.append((first, following - dt.timedelta(days=1)))
    return periods


def quarter_periods(start_year: int) -> list[tuple[dt.date, dt.date]]:
    months = month_periods(start_year)
    return [(months[q * 3][0], months[q * 3 + 2][1]) for q in range(4)]


def year_period(start_year: int) -> tuple[dt.date, dt.date]:
    return dt.date(start_year, 4, 1), dt.date(start_year + 1, 3, 31)


def build_year(start_year: int, rng: random.Random) -> dict[str, list[list[object]]]:
    index = start_year - START_YEARS[0]
    months = month_periods(start_year)
    returns: dict[str, list[list[object]]] = {}

    def add(department, site, activity, quantity, unit, period, quality="actual", notes=""):
        returns.setdefault(department, []).append(
            [department, site, activity, quantity, unit, period[0].isoformat(), period[1].isoformat(),
             quality, notes])

    for department, site, gas, electricity, kind in BUILDINGS:
        for month, period in enumerate(months):
            noise = 1 + rng.gauss(0, 0.04)
            add(department, site, "natural_gas",
                round(gas * GAS_TREND[kind][index] * GAS_PROFILE[month] * noise), "kWh", period)
            estimated = kind == "library" and month == 11
            add(department, site, "electricity",
                round(electricity * ELECTRICITY_TREND[kind][index] * ELECTRICITY_PROFILE[month]
                      * (1 + rng.gauss(0, 0.03))), "kWh", period,
                "estimated" if estimated else "actual", "meter not read: supplier estimate" if estimated else "")
    lighting_total = sum(LIGHTING_PROFILE)
    for month, period in enumerate(months):
        add("Highways and Public Protection", "Street lighting (unmetered)", "electricity",
            round(STREET_LIGHTING_KWH[index] * LIGHTING_PROFILE[month] / lighting_total), "kWh", period,
            "estimated", "unmetered supply: deemed consumption from the inventory")
        add("Operational In-House Services", "Hawthorn Road Depot", "diesel",
            round(FLEET_DIESEL_LITRES[index] / 12 * (1 + rng.gauss(0, 0.05))), "litres", period,
            notes="fuel card and bunkered diesel, refuse and highways fleet")
        add("Operational In-House Services", "Southside Depot", "gas_oil",
            round(GAS_OIL_LITRES[index] / 12 * (1 + rng.gauss(0, 0.1))), "litres", period,
            notes="plant and generators")
    for department, miles in MILEAGE.items():
        for period in quarter_periods(start_year):
            add(department, "", "business_travel_car",
                round(miles * MILEAGE_TREND[index] / 4 * (1 + rng.gauss(0, 0.05))), "miles", period,
                notes="mileage claims")
    for period in quarter_periods(start_year):
        add("Corporate Resources", "", "national_rail", round(RAIL_PASSENGER_KM[index] / 4),
            "passenger.km", period, notes="rail warrants from the travel booking system")
    whole_year = year_period(start_year)
    if start_year in HOMEWORKING_FTE_HOURS:
        add("Corporate Resources", "", "homeworking", HOMEWORKING_FTE_HOURS[start_year], "FTE hours",
            whole_year, "estimated", "HR estimate: contracted hours x share of days at home")
    for site, cubic_metres in WATER_M3.items():
        department = next(b[0] for b in BUILDINGS if b[1] == site)
        volume = round(cubic_metres * (0.7 if index == 1 else 1.0) * (1 + rng.gauss(0, 0.05)))
        add(department, site, "water_supply", volume, "m3", whole_year)
        add(department, site, "water_treatment", round(volume * 0.95), "m3", whole_year,
            notes="95% of supply returned to sewer")
    for activity, tonnes in WASTE_TONNES.items():
        add("Operational In-House Services", "Hawthorn Road Depot", activity, tonnes[index], "tonnes",
            whole_year, notes="council buildings' commercial waste, contractor's weighbridge tickets")
    for category, spend in SPEND_GBP.items():
        add("Corporate Resources", "", f"spend:{category}", round(spend * SPEND_TREND[index]), "GBP",
            whole_year, "estimated", "ledger spend by procurement category, ex VAT")
    for activity, kilograms in REFRIGERANT_KG.items():
        if kilograms[index]:
            add("Operational In-House Services", "Hawthorn Road Depot", activity, kilograms[index], "kg",
                whole_year, notes="top-ups from the air-conditioning maintenance log")
    return returns


def slug(text: str) -> str:
    return "-".join(text.lower().replace("&", "and").split())


def write_csv(path: Path, header: list[str], rows: list[list[object]], title: str | None = None) -> None:
    with open(path, "w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream, lineterminator="\n")
        if title:
            writer.writerow([title])
        writer.writerow(header)
        writer.writerows(rows)


def write_registers(folder: Path) -> None:
    sites = [[site, department, SITE_TAGS.get(site, ("", True))[0],
              "yes" if SITE_TAGS.get(site, ("", True))[1] else "no", FLOOR_AREA_M2[kind]]
             for department, site, _, _, kind in BUILDINGS]
    sites.append(["Street lighting (unmetered)", "Highways and Public Protection", "street_lighting", "yes", ""])
    write_csv(folder / "sites.csv", ["site", "department", "tags", "operational_control", "floor_area_m2"], sites)
    renewable = ["Supplier A (illustrative)", "100% renewable, REGO-backed", "2022-04-01", "2025-03-31", 0,
                 "REGO certificates cancelled for each contract year (illustrative)"]
    write_csv(folder / "contracts.csv", ["site", "supplier", "tariff", "period_start", "period_end",
                                         "kgco2e_per_kwh", "evidence"],
              [[site, *renewable] for site in ("North Town Hall", "Civic Offices", "Central Library")]
              + [["South Town Hall", "Supplier B (illustrative)", "green tariff", "2022-04-01", "2025-03-31",
                  0, ""]])
    write_csv(folder / "spend-factors.csv", ["procurement_category", "scope_3_category", "kgco2e_per_gbp",
                                             "source", "price_base_year"],
              [[category, scope_3, factor, "Illustrative values for the example council (invented, not "
                "published factors)", 2019] for category, scope_3, factor in SPEND_FACTORS])


def main() -> None:
    rng = random.Random(2030)
    write_registers(OUTPUT.parent)
    for start_year in START_YEARS:
        folder = OUTPUT / f"{start_year}-{(start_year + 1) % 100:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        for department, rows in build_year(start_year, rng).items():
            write_csv(folder / f"{slug(department)}.csv", HEADER, rows, TITLE)


if __name__ == "__main__":
    main()
