"""The seven gases: Scope 1 and 2 split into CO2, CH4, N2O, HFCs, PFCs, SF6 and NF3 on published
DESNZ values, refrigerants classed by their composition."""

import math

import pytest

from conftest import REPO, gas_row, write_rows
from sefton_carbon import compute_inventory, load_factors
from sefton_carbon.accounting.gases import GASES, UNATTRIBUTED, gas_parts

EXAMPLE = REPO / "examples" / "example-council"
SEVEN = [f"tco2e_{gas}" for gas in GASES]


def refrigerant_row(year: int, name: str, column_text: str | None = "Emissions including only Kyoto products"):
    table = load_factors().table(year).table
    rows = table[(table["level_1"] == "Refrigerant & other") & (table["level_3"] == name)]
    if column_text is not None:
        rows = rows[rows["column_text"] == column_text]
    assert len(rows) == 1
    return rows.iloc[0], table


def test_the_seven_gases_in_the_corporate_standard_order():
    assert GASES == ("co2", "ch4", "n2o", "hfcs", "pfcs", "sf6", "nf3")


@pytest.mark.parametrize("name, gas, value", [
    ("HFC-32", "hfcs", 677.0), ("Perfluoroethane (PFC-116)", "pfcs", 11100.0),
    ("Sulphur hexafluoride (SF6)", "sf6", 23500.0), ("Nitrogen trifluoride", "nf3", 16100.0),
    ("R410A", "hfcs", 1924.0), ("R404A", "hfcs", 3943.0)])
def test_pure_gases_and_hfc_blends_on_the_2023_factors(name, gas, value):
    row, table = refrigerant_row(2023, name)
    assert gas_parts(row, table) == {gas: pytest.approx(value)}


def test_r508b_splits_into_hfc_23_and_pfc_116_by_mass_times_gwp():
    # 46% HFC-23 (GWP 12,400) and 54% PFC-116 (11,100): 5,704 + 5,994 = 11,698, the published value.
    row, table = refrigerant_row(2023, "R508B")
    assert gas_parts(row, table) == {"hfcs": pytest.approx(5704.0), "pfcs": pytest.approx(5994.0)}


def test_a_2019_blend_value_with_an_hcfc_keeps_the_hcfc_part_unattributed():
    # 2019 R403a (AR4): 3,124 kg CO2e/kg; its Kyoto part is 20% PFC-218 (GWP 8,830) = 1,766, the rest
    # is HCFC-22, which is not one of the seven gases.
    row, table = refrigerant_row(2019, "R403a", column_text=None)
    parts = gas_parts(row, table)
    assert parts == {"pfcs": pytest.approx(1766.0), UNATTRIBUTED: pytest.approx(3124.0 - 1766.0)}


def test_a_blend_total_with_non_kyoto_gases_splits_off_its_kyoto_row():
    # 2023 R403A: 3,100 in total = 1,780 Kyoto (20% PFC-218) + 1,320 of HCFC-22 and propane.
    row, table = refrigerant_row(2023, "R403A", column_text="Total emissions including non-Kyoto products")
    assert gas_parts(row, table) == {"pfcs": pytest.approx(1780.0), UNATTRIBUTED: pytest.approx(1320.0)}
    row, table = refrigerant_row(2023, "R410A", column_text="Total emissions including non-Kyoto products")
    assert gas_parts(row, table) == {"hfcs": pytest.approx(1924.0)}


def test_non_kyoto_refrigerants_are_not_attributed_to_a_gas():
    row, table = refrigerant_row(2023, "HCFC-22/R22 = chlorodifluoromethane",
                                 column_text="Total emissions including non-Kyoto products")
    assert gas_parts(row, table) == {UNATTRIBUTED: pytest.approx(float(row["kgco2e"]))}


def test_r410a_4_5_kg_in_2023_is_8_658_tonnes_of_hfcs(tmp_path):
    path = write_rows(tmp_path / "fgas.csv", [
        gas_row(4.5, "kg", activity="refrigerant_r410a"), gas_row(2, "kg", activity="sf6", site="Substation")])
    inventory = compute_inventory(path, "2023/24")
    by_gas = inventory.by_gas()
    assert by_gas["tco2e_hfcs"] == pytest.approx(8.658, abs=1e-9)   # 4.5 kg x 1,924 kg CO2e/kg
    assert by_gas["tco2e_sf6"] == pytest.approx(47.0, abs=1e-9)     # 2 kg x 23,500 kg CO2e/kg
    assert {key: value for key, value in by_gas.items() if key not in ("tco2e_hfcs", "tco2e_sf6")} == {
        key: 0.0 for key in [*SEVEN, f"tco2e_{UNATTRIBUTED}"] if key not in ("tco2e_hfcs", "tco2e_sf6")}
    ledger = inventory.ledger.set_index("activity")
    assert ledger.loc["refrigerant_r410a", "tco2e_hfcs"] == pytest.approx(8.658)
    assert ledger.loc["sf6", ["scope", "kgco2e_per_unit"]].tolist() == [1, 23500.0]


def test_gas_split_is_not_emptied_by_well_to_tank_lines(tmp_path):
    # Diesel, gas and grid electricity on the 2023 factors, with their well-to-tank lines inside the
    # default boundary: CO2, CH4 and N2O as published per unit, summed.
    path = write_rows(tmp_path / "energy.csv", [
        gas_row(100000, "litres", activity="diesel"), gas_row(10000, "kWh"),
        gas_row(10000, "kWh", activity="electricity")])
    inventory = compute_inventory(path, "2023/24")
    by_gas = inventory.by_gas()
    assert by_gas["tco2e_co2"] == pytest.approx((100000 * 2.47887 + 10000 * 0.18256 + 10000 * 0.20496) / 1000,
                                                rel=1e-4)
    assert by_gas["tco2e_ch4"] > 0 and by_gas["tco2e_n2o"] > 0
    scopes = inventory.by_scope()
    assert sum(by_gas[key] for key in SEVEN) == pytest.approx(scopes["scope_1"] + scopes["scope_2_location"],
                                                            rel=1e-3)
    assert inventory.by_scope_3_category()[3] > 0  # well-to-tank lines are in, and did not empty the split


def test_example_council_2024_25_gases_add_up_to_scope_1_and_2():
    inventory = compute_inventory(EXAMPLE / "returns" / "2024-25", "2024/25", sites=EXAMPLE / "sites.csv")
    summary = inventory.summary()
    by_gas = summary["by_gas"]
    assert list(by_gas) == [*SEVEN, f"tco2e_{UNATTRIBUTED}"]
    assert not any(math.isnan(value) for value in by_gas.values())
    scopes = summary["by_scope"]
    assert sum(by_gas[key] for key in SEVEN) == pytest.approx(scopes["scope_1"] + scopes["scope_2_location"],
                                                            rel=1e-3)
    assert by_gas[f"tco2e_{UNATTRIBUTED}"] == 0.0
    assert by_gas["tco2e_hfcs"] > 0
    # The whole ledger inside the boundary (Scope 3 included), as the independent recomputation found.
    inside = inventory.ledger[inventory.ledger["in_boundary"]]
    assert inside[["tco2e_co2", "tco2e_ch4", "tco2e_n2o"]].sum().round(1).tolist() == [7200.7, 15.5, 44.3]
    scope_1_2 = inside[inside["scope"].isin([1, 2])]
    assert by_gas["tco2e_co2"] == pytest.approx(scope_1_2["tco2e_co2"].sum())


def test_every_ledger_line_is_the_sum_of_its_gas_parts(tmp_path):
    path = write_rows(tmp_path / "mixed.csv", [
        gas_row(1000, "litres", activity="petrol"), gas_row(3, "kg", activity="refrigerant_r32"),
        gas_row(500, "miles", activity="business_travel_car"), gas_row(2, "tonnes", activity="wood_pellets")])
    ledger = compute_inventory(path, "2023/24").ledger
    parts = ledger[[f"tco2e_{gas}" for gas in (*GASES, UNATTRIBUTED)]].sum(axis=1)
    assert parts.to_numpy() == pytest.approx(ledger["tco2e"].to_numpy(), rel=1e-3, abs=1e-9)


@pytest.mark.parametrize("year", [2019, 2021, 2022, 2023, 2025])
def test_every_refrigerant_row_is_split_into_parts_that_make_its_value(year):
    table = load_factors().table(year).table
    refrigerants = table[table["level_1"] == "Refrigerant & other"]
    classed = 0
    for _, row in refrigerants.iterrows():
        parts = gas_parts(row, table)
        assert sum(parts.values()) == pytest.approx(row["kgco2e"], rel=1e-9), row["factor_key"]
        assert set(parts) <= {*GASES, UNATTRIBUTED}
        classed += UNATTRIBUTED not in parts
    assert classed >= 40  # the pure Kyoto gases and the Kyoto blends
