"""Domain tables of GHG accounting that every output shares: the GHG Protocol's Scope 3
categories, the kinds of emission source a department declares, and the reporting areas of the
LGA Greenhouse Gas Accounting Tool."""

from __future__ import annotations

import pandas as pd

#: GHG Protocol Corporate Value Chain (Scope 3) Standard, Table 5.3: the fifteen categories.
SCOPE_3_CATEGORIES = {
    1: "Purchased goods and services",
    2: "Capital goods",
    3: "Fuel- and energy-related activities",
    4: "Upstream transportation and distribution",
    5: "Waste generated in operations",
    6: "Business travel",
    7: "Employee commuting (and homeworking)",
    8: "Upstream leased assets",
    9: "Downstream transportation and distribution",
    10: "Processing of sold products",
    11: "Use of sold products",
    12: "End-of-life treatment of sold products",
    13: "Downstream leased assets",
    14: "Franchises",
    15: "Investments",
}

#: Kinds of emission source a department declares, with what each covers and the activities it feeds.
SOURCE_TYPES = {
    "buildings": ("gas, oil and electricity at buildings the department occupies",
                  ["natural_gas", "electricity", "burning_oil", "gas_oil", "lpg", "wood_pellets", "wood_chips",
                   "wood_logs", "biogas", "water_supply", "water_treatment"]),
    "vehicles_and_plant": ("fleet vehicles, plant and generators (fuel or mileage)",
                           ["diesel", "petrol", "gas_oil", "van_diesel"]),
    "refrigerant_equipment": ("air conditioning, chillers, fridges and switchgear that hold refrigerant or SF6",
                              ["refrigerant_r410a", "refrigerant_r32", "refrigerant_r134a", "refrigerant_r404a", "sf6"]),
    "contracts_and_outsourced_services": ("services a contractor runs for the department", []),
    "procurement_categories": ("goods, services and works the department buys", ["spend:*"]),
    "staff_travel": ("business mileage, rail, flights and hotels",
                     ["business_travel_car", "national_rail", "flight_domestic", "flight_short_haul", "hotel_uk"]),
    "homeworking": ("staff working from home", ["homeworking"]),
    "waste": ("waste from the department's buildings", ["waste_landfill", "waste_combustion"]),
}

#: Ledger lines -> the reporting areas of the Local Partnerships / LGA Greenhouse Gas Accounting Tool,
#: as this project understands them (check the names against the version of the tool you use).
LGA_AREAS = {
    "natural_gas": "Buildings: gas and other fuels (Scope 1)", "burning_oil": "Buildings: gas and other fuels (Scope 1)",
    "lpg": "Buildings: gas and other fuels (Scope 1)", "gas_oil": "Fleet and plant fuel (Scope 1)",
    "wood_pellets": "Buildings: gas and other fuels (Scope 1)", "wood_chips": "Buildings: gas and other fuels (Scope 1)",
    "wood_logs": "Buildings: gas and other fuels (Scope 1)", "biogas": "Buildings: gas and other fuels (Scope 1)",
    "diesel": "Fleet and plant fuel (Scope 1)", "petrol": "Fleet and plant fuel (Scope 1)",
    "van_diesel": "Fleet and plant fuel (Scope 1)",
    "refrigerant_r410a": "Fugitive emissions: refrigerants (Scope 1)",
    "refrigerant_r32": "Fugitive emissions: refrigerants (Scope 1)",
    "refrigerant_r134a": "Fugitive emissions: refrigerants (Scope 1)",
    "refrigerant_r404a": "Fugitive emissions: refrigerants (Scope 1)",
    "sf6": "Fugitive emissions: refrigerants (Scope 1)",
    "electricity": "Buildings: electricity (Scope 2)",
    "business_travel_car": "Business travel (Scope 3)", "national_rail": "Business travel (Scope 3)",
    "flight_domestic": "Business travel (Scope 3)", "flight_short_haul": "Business travel (Scope 3)",
    "hotel_uk": "Business travel (Scope 3)", "homeworking": "Homeworking (Scope 3)",
    "water_supply": "Water supply and treatment (Scope 3)", "water_treatment": "Water supply and treatment (Scope 3)",
    "waste_landfill": "Waste (Scope 3)", "waste_combustion": "Waste (Scope 3)",
}

DERIVED_AREAS = {"transmission_distribution": "Electricity transmission and distribution losses (Scope 3)",
                 "well_to_tank": "Well-to-tank: fuel and electricity supply chain (Scope 3)",
                 "well_to_tank_transmission_distribution": "Well-to-tank: fuel and electricity supply chain (Scope 3)",
                 "outside_of_scopes": "Outside of scopes: biogenic CO2 (reported apart, in no total)"}


def lga_area(ledger: pd.DataFrame, street_lighting_sites: set[str]) -> pd.Series:
    """The LGA tool reporting area of each ledger line."""
    activity = ledger["activity"].astype(str)
    area = activity.map(LGA_AREAS).fillna("Other (map by hand)")
    area = area.where(~activity.str.startswith("spend:"), "Purchased goods and capital goods (Scope 3)")
    lighting = (activity == "electricity") & ledger["site"].astype(str).isin(street_lighting_sites)
    area = area.where(~lighting, "Street lighting (Scope 2)")
    line = ledger["line"].astype(str)
    return area.where(line == "direct", line.map(DERIVED_AREAS).fillna(area))
