"""The activity catalogue: every activity maps to exactly one factor row per unit in every year."""

import pytest

from sefton_carbon.accounting.catalogue import ResolutionError, explain_activity, load_catalogue, resolve
from sefton_carbon.accounting.factors import load_factors

YEARS = range(2019, 2026)
REQUIRED_ACTIVITIES = [
    "natural_gas", "electricity", "diesel", "petrol", "gas_oil", "burning_oil", "lpg", "water_supply",
    "water_treatment", "business_travel_car", "van_diesel", "national_rail", "flight_domestic",
    "flight_short_haul", "hotel_uk", "homeworking", "waste_landfill", "waste_combustion",
    "refrigerant_r410a", "refrigerant_r32", "refrigerant_r134a", "refrigerant_r404a", "sf6", "wood_pellets",
    "wood_chips", "wood_logs", "biogas"]
#: DESNZ publishes homeworking factors from 2022 only.
FIRST_YEAR = {"homeworking": 2022}


def test_catalogue_has_the_required_activities_with_scope_and_category():
    catalogue = load_catalogue()
    assert set(REQUIRED_ACTIVITIES) <= set(catalogue.activities)
    for name, activity in catalogue.activities.items():
        assert activity.scope in (1, 2, 3)
        assert (activity.category is not None) == (activity.scope == 3), name


@pytest.mark.parametrize("year", YEARS)
def test_every_activity_resolves_in_every_year(year):
    catalogue, table = load_catalogue(), load_factors().table(year)
    for name, activity in catalogue.activities.items():
        for unit in activity.units:
            if year < FIRST_YEAR.get(name, 0):
                with pytest.raises(ResolutionError, match="no homeworking factor"):
                    resolve(catalogue, name, unit, table)
                continue
            lines = resolve(catalogue, name, unit, table)
            assert lines[0].line == "direct" and lines[0].kgco2e > 0, (name, unit, year)
            assert len({line.factor_key for line in lines}) == len(lines)


@pytest.mark.parametrize("year, gwp", [(2019, 22800.0), (2022, 22800.0), (2023, 23500.0), (2025, 23500.0)])
def test_sf6_switchgear_top_ups_are_scope_1_sf6_at_its_gwp(year, gwp):
    # DESNZ "Refrigerant & other", Kyoto protocol products, Sulphur hexafluoride (SF6): AR4 to 2022, AR5 after.
    [line] = resolve(load_catalogue(), "sf6", "kg", load_factors().table(year))
    assert (line.scope, line.kgco2e, line.gases) == (1, gwp, {"sf6": gwp})


@pytest.mark.parametrize("year", YEARS)
def test_biofuel_blends_and_biomass_have_an_outside_of_scopes_line(year):
    catalogue, table = load_catalogue(), load_factors().table(year)
    for name, unit in [("diesel", "litre"), ("petrol", "litre"), ("wood_pellets", "tonne"), ("biogas", "kWh")]:
        lines = {line.line: line for line in resolve(catalogue, name, unit, table)}
        outside = lines["outside_of_scopes"]
        assert (outside.scope, outside.category, outside.kgco2e, outside.gases) == (0, None, 0.0, {})
        assert outside.kgco2_biogenic > 0 and outside.factor_key.startswith("outside-of-scopes/"), (name, year)
    assert "outside_of_scopes" not in {line.line for line in resolve(catalogue, "natural_gas", "kWh", table)}


@pytest.mark.parametrize("year, direct, t_and_d, wtt_generation, wtt_t_and_d", [
    # Published in the flat files [kg CO2e/kWh]: UK electricity, T&D, WTT generation, WTT T&D.
    (2019, 0.25560, 0.02170, 0.03565, 0.00303),
    (2022, 0.19338, 0.01769, 0.04625, 0.00423),
    (2025, 0.17700, 0.01853, 0.04590, 0.00397),
])
def test_electricity_lines(year, direct, t_and_d, wtt_generation, wtt_t_and_d):
    lines = resolve(load_catalogue(), "electricity", "kWh", load_factors().table(year))
    values = {line.line: line.kgco2e for line in lines}
    assert values == pytest.approx({
        "direct": direct, "transmission_distribution": t_and_d, "well_to_tank": wtt_generation,
        "well_to_tank_transmission_distribution": wtt_t_and_d}, abs=5e-6)
    assert [(line.scope, line.category) for line in lines] == [(2, None), (3, 3), (3, 3), (3, 3)]


@pytest.mark.parametrize("activity, unit, year, value", [
    ("refrigerant_r410a", "kg", 2022, 2088), ("refrigerant_r410a", "kg", 2023, 1924),
    ("natural_gas", "m3", 2024, 2.04542), ("diesel", "litre", 2019, 2.59411),
    ("business_travel_car", "km", 2021, 0.17148), ("business_travel_car", "km", 2025, 0.16725),
])
def test_direct_factor_values(activity, unit, year, value):
    line = resolve(load_catalogue(), activity, unit, load_factors().table(year))[0]
    assert line.kgco2e == pytest.approx(value, abs=5e-6)


def test_unit_choice_prefers_the_row_in_the_reported_unit():
    table = load_factors().table(2023)
    miles = resolve(load_catalogue(), "business_travel_car", "mile", table)[0]
    assert miles.factor_uom == "miles" and miles.unit_conversion == 1.0
    therms = resolve(load_catalogue(), "natural_gas", "therm", table)[0]
    assert therms.factor_unit == "kWh"
    assert therms.unit_conversion == pytest.approx(29.3071, abs=1e-4)


def test_incompatible_unit_lists_accepted_units():
    with pytest.raises(ResolutionError, match="electricity cannot be measured in litre: accepted "
                                              "units are kWh, MWh, GWh"):
        resolve(load_catalogue(), "electricity", "litre", load_factors().table(2023))


def test_natural_gas_accepts_only_energy_and_cubic_metres():
    with pytest.raises(ResolutionError, match="accepted units are kWh, MWh, GWh, therm, m3$"):
        resolve(load_catalogue(), "natural_gas", "litre", load_factors().table(2023))


def test_desnz_rows_by_id():
    catalogue, table = load_catalogue(), load_factors().table(2023)
    assert catalogue.canonical_name("desnz:1_100_1004_6_1") == "desnz:1_100_1004_6_1"
    gas = resolve(catalogue, "desnz:1_100_1004_6_1", "kWh", table)
    assert len(gas) == 1 and gas[0].kgco2e == 0.18292892617449666 and gas[0].scope == 1
    hotel = resolve(catalogue, "desnz:29_600_4001_13", "room_night", table)[0]
    assert (hotel.scope, hotel.category, hotel.kgco2e) == (3, 6, 11.5)
    with pytest.raises(ResolutionError, match="no row with DESNZ ID"):
        resolve(catalogue, "desnz:1_100_1004_6", "kWh", load_factors().table(2022))


def test_aliases_and_spelling_variants():
    catalogue = load_catalogue()
    assert catalogue.canonical_name("Natural Gas") == "natural_gas"
    assert catalogue.canonical_name("business-mileage") == "business_travel_car"
    assert catalogue.canonical_name("Kerosene") == "burning_oil"
    assert catalogue.canonical_name("natral gas") is None
    assert "did you mean 'natural_gas'" in catalogue.unknown_activity_message("natral gas")


def test_explain_activity_shows_every_line():
    frame = explain_activity("electricity", 2024, load_factors())
    assert list(frame["line"]) == ["direct", "transmission_distribution", "well_to_tank",
                                   "well_to_tank_transmission_distribution"]
    assert frame.iloc[0]["kgco2e_per_unit"] == pytest.approx(0.20705)


@pytest.mark.parametrize("activity, year, value", [
    ("waste_recycling_paper", 2023, 21.28080723687633), ("waste_recycling_paper", 2025, 4.68568),
    ("waste_composting_garden", 2019, 10.2039), ("waste_anaerobic_digestion_food", 2024, 8.88386)])
def test_recycling_and_composting_routes(activity, year, value):
    from sefton_carbon.accounting.catalogue import explain_activity
    from sefton_carbon.accounting.factors import load_factors

    lines = explain_activity(activity, year, load_factors())
    assert list(lines["line"]) == ["direct"] and lines["scope"].iloc[0] == 3 and lines["category"].iloc[0] == 5
    assert lines["kgco2e_per_unit"].iloc[0] == value
