"""The inventory: known answers on published factors, the audit trail, and properties."""

import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import gas_row, write_rows
from sefton_carbon import compute_inventory, load_factors
from sefton_carbon.errors import UsageError


def inventory_of(tmp_path, rows, year="2023/24", **options):
    return compute_inventory(write_rows(tmp_path / "activity.csv", rows), year, **options)


def direct_tco2e(inventory, activity):
    ledger = inventory.ledger
    return ledger.loc[(ledger["activity"] == activity) & (ledger["line"] == "direct"), "tco2e"].sum()


def test_10000_kwh_of_gas_in_2023_is_1_8293_tonnes(tmp_path):
    inventory = inventory_of(tmp_path, [gas_row(10000, "kWh")])
    assert direct_tco2e(inventory, "natural_gas") == pytest.approx(1.8293, abs=5e-5)
    assert inventory.by_scope()["scope_1"] == pytest.approx(1.8293, abs=5e-5)
    # Well-to-tank, Scope 3 category 3: 0.03021 kg CO2e/kWh in 2023.
    assert inventory.by_scope_3_category() == {3: pytest.approx(0.3021, abs=5e-6)}


@pytest.mark.parametrize("year, factor", [("2019/20", 0.25560), ("2022/23", 0.19338), ("2025/26", 0.17700)])
def test_grid_electricity_by_factor_year(tmp_path, year, factor):
    start = year[:4]
    row = gas_row(100000, "kWh", f"{start}-06-01", f"{start}-06-30", activity="electricity")
    inventory = inventory_of(tmp_path, [row], year=year)
    assert inventory.by_scope()["scope_2"] == pytest.approx(100000 * factor / 1000, abs=1e-6)
    assert inventory.factor_year == int(start)


@pytest.mark.parametrize("year, value", [("2022/23", 2088), ("2023/24", 1924)])
def test_r410a_gwp_changes_from_ar4_to_ar5(tmp_path, year, value):
    start = year[:4]
    row = gas_row(10, "kg", f"{start}-05-01", f"{start}-05-31", activity="refrigerant_r410a")
    inventory = inventory_of(tmp_path, [row], year=year)
    assert inventory.total_tco2e == pytest.approx(10 * value / 1000)


def test_electricity_produces_linked_t_and_d_and_wtt_lines(tmp_path):
    inventory = inventory_of(tmp_path, [gas_row(1000, "MWh", activity="electricity")])
    ledger = inventory.ledger.set_index("line")
    assert list(ledger.index) == ["direct", "transmission_distribution", "well_to_tank",
                                  "well_to_tank_transmission_distribution"]
    assert set(ledger["input_row"]) == {1}
    assert list(ledger["parent_line"]) == ["", "direct", "direct", "direct"]
    assert list(ledger["scope"]) == [2, 3, 3, 3]
    # 2023: 0.20707 + 0.01792 (T&D) + 0.04590 + 0.00397 (WTT) kg CO2e/kWh, on 1,000,000 kWh.
    assert ledger["tco2e"].to_dict() == pytest.approx({
        "direct": 207.07, "transmission_distribution": 17.92, "well_to_tank": 45.90,
        "well_to_tank_transmission_distribution": 3.97}, abs=0.01)
    assert (ledger["unit_conversion"] == 1000).all()
    assert ledger.loc["direct", "unit_conversion_note"] == "1 MWh = 1000 kWh"


def test_every_ledger_line_can_be_recomputed_by_hand(tmp_path):
    rows = [gas_row(123.4, "therms"), gas_row(5000, "kWh", activity="electricity"),
            gas_row(250, "miles", activity="business mileage"), gas_row(40, "UK gallons", activity="diesel"),
            gas_row(3, "kg", activity="R410A"), gas_row(12, "room nights", activity="hotel_uk")]
    inventory = inventory_of(tmp_path, rows)
    ledger = inventory.ledger
    recomputed = ledger["quantity"] * ledger["unit_conversion"] * ledger["kgco2e_per_unit"] / 1000
    assert (recomputed - ledger["tco2e"]).abs().max() < 1e-12
    factors = load_factors().table(2023).table.set_index("factor_key")
    published = factors.loc[ledger["factor_key"].astype(str), "kgco2e"].to_numpy()
    # The diesel's biogenic CO2 line carries its value as kg CO2 outside the scopes, and no CO2e.
    biogenic = (ledger["line"] == "outside_of_scopes").to_numpy()
    assert biogenic.sum() == 1 and (ledger["kgco2e_per_unit"].to_numpy()[biogenic] == 0).all()
    value = np.where(biogenic, ledger["kgco2_biogenic_per_unit"], ledger["kgco2e_per_unit"])
    assert (published == value).all()
    assert (factors.loc[ledger["factor_key"].astype(str), "source_row"].to_numpy()
            == ledger["factor_source_row"].to_numpy()).all()
    assert set(ledger["source_row"]) == {2, 3, 4, 5, 6, 7}
    assert ledger.loc[ledger["activity"] == "diesel", "unit_conversion"].iloc[0] == pytest.approx(4.54609)


def test_per_gas_parts_are_kept_where_the_factors_give_them(tmp_path):
    inventory = inventory_of(tmp_path, [gas_row(10000, "kWh")])
    direct = inventory.ledger[inventory.ledger["line"] == "direct"].iloc[0]
    parts = direct[["tco2e_co2", "tco2e_ch4", "tco2e_n2o"]]
    assert parts.sum() == pytest.approx(direct["tco2e"], rel=1e-6)
    assert direct["tco2e_co2"] == pytest.approx(10000 * 0.18256 / 1000, abs=1e-6)


def test_rows_outside_the_year_are_rejected_and_straddling_rows_apportioned_by_days(tmp_path):
    rows = [gas_row(), gas_row(start="2023-03-01", end="2023-03-31"),
            gas_row(3100, start="2024-03-15", end="2024-04-14")]
    inventory = inventory_of(tmp_path, rows)
    assert (inventory.rows_read, inventory.rows_accounted, inventory.rows_rejected) == (3, 2, 1)
    rejected = inventory.rejected.iloc[0]
    assert "outside the reporting year 2023/24 (2023-04-01 to 2024-03-31)" in rejected["reason"]
    assert rejected["source_row"] == 3
    # 15 to 31 March 2024 is 17 of the bill's 31 days.
    direct = inventory.ledger[(inventory.ledger["line"] == "direct") & (inventory.ledger["source_row"] == 4)].iloc[0]
    assert direct["share_in_year"] == pytest.approx(17 / 31)
    assert direct["quantity_reported"] == 3100 and direct["quantity"] == pytest.approx(1700)
    assert direct["tco2e"] == pytest.approx(1700 * 0.18292892617449666 / 1000)


def test_both_parts_of_a_straddling_bill_point_to_the_same_source_row(tmp_path):
    from sefton_carbon.engines.pipeline import compute_inventories

    path = write_rows(tmp_path / "bill.csv", [gas_row(3100, start="2024-03-15", end="2024-04-14")])
    inventories, rejected = compute_inventories(path)
    assert rejected.empty and [year.label for year in inventories] == ["2023/24", "2024/25"]
    parts = [inventory.ledger[inventory.ledger["line"] == "direct"].iloc[0] for inventory in inventories.values()]
    assert [part["source_row"] for part in parts] == [2, 2]
    assert sum(part["quantity"] for part in parts) == pytest.approx(3100)
    assert [part["quantity"] for part in parts] == pytest.approx([1700, 1400])


def test_homeworking_before_2022_has_no_factor(tmp_path):
    row = gas_row(1000, "FTE hours", "2021-04-01", "2022-03-31", activity="homeworking")
    inventory = inventory_of(tmp_path, [row], year="2021/22")
    assert inventory.rows_rejected == 1
    assert "no homeworking factor in fte_hour in the 2021 factors" in inventory.rejected.iloc[0]["reason"]


def test_incompatible_unit_is_rejected_with_the_accepted_units(tmp_path):
    inventory = inventory_of(tmp_path, [gas_row(10, "litres", activity="electricity")])
    rejected = inventory.rejected.iloc[0]
    assert rejected["column"] == "unit" and rejected["value"] == "electricity in litres"
    assert "accepted units are kWh, MWh, GWh" in rejected["reason"]


def test_factor_year_override(tmp_path):
    inventory = inventory_of(tmp_path, [gas_row(10000, "kWh")], factor_year=2022)
    assert inventory.factor_year == 2022
    assert direct_tco2e(inventory, "natural_gas") == pytest.approx(1.8254, abs=5e-5)
    assert "factor year 2022" in inventory.notes[0]


def test_year_without_factors_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="no factor table for 2030"):
        inventory_of(tmp_path, [gas_row(start="2030-04-01", end="2030-04-30")], year="2030/31")


def test_summary_shape(tmp_path):
    summary = inventory_of(tmp_path, [gas_row(), gas_row(department="Highways", activity="electricity"),
                                      gas_row(activity="bananas")]).summary()
    assert summary["reporting_year"] == "2023/24" and summary["factor_year"] == 2023
    scopes = summary["by_scope"]
    assert set(scopes) == {"scope_1", "scope_2", "scope_2_location", "scope_2_market", "scope_3"}
    assert summary["rows"] == {"read": 3, "accounted": 2, "rejected": 1, "outside_boundary": 0}
    assert summary["possible_double_counts"] == 0
    assert summary["total_tco2e"] == pytest.approx(scopes["scope_1"] + scopes["scope_2"] + scopes["scope_3"])
    assert summary["total_tco2e"] == pytest.approx(sum(summary["by_department"].values()))


# Property-based tests: generated activity tables.

ACTIVITIES = st.sampled_from([("natural_gas", "kWh"), ("electricity", "kWh"), ("diesel", "litres"),
                              ("business_travel_car", "miles"), ("water_supply", "m3"),
                              ("refrigerant_r32", "kg")])
QUANTITIES = st.floats(min_value=0, max_value=1e7, allow_nan=False, allow_infinity=False)
DAYS = st.integers(min_value=1, max_value=28)
ROWS = st.lists(st.tuples(ACTIVITIES, QUANTITIES, st.integers(4, 12), DAYS), min_size=1, max_size=25)
PROPERTY_SETTINGS = settings(max_examples=40, deadline=None,
                             suppress_health_check=[HealthCheck.too_slow])


def _rows(generated, scale=1.0):
    return [[f"Dept {month % 3}", "Site", activity, repr(quantity * scale), unit,
             f"2023-{month:02d}-{day:02d}", f"2023-{month:02d}-28", "", ""]
            for (activity, unit), quantity, month, day in generated]


def _inventory(rows):
    with tempfile.TemporaryDirectory() as folder:
        return compute_inventory(write_rows(Path(folder) / "generated.csv", rows), "2023/24")


@pytest.mark.slow
@PROPERTY_SETTINGS
@given(ROWS)
def test_total_equals_the_sum_of_the_ledger_and_every_row_is_accounted(generated):
    inventory = _inventory(_rows(generated))
    assert inventory.total_tco2e == pytest.approx(float(inventory.ledger["tco2e"].sum()), rel=1e-12)
    assert inventory.rows_read == len(generated) == inventory.rows_accounted + inventory.rows_rejected
    scopes = inventory.by_scope()
    assert scopes["scope_1"] + scopes["scope_2"] + scopes["scope_3"] == pytest.approx(
        inventory.total_tco2e, rel=1e-9, abs=1e-9)


@pytest.mark.slow
@PROPERTY_SETTINGS
@given(ROWS, st.floats(min_value=0.001, max_value=1000))
def test_emissions_are_linear_in_quantity(generated, scale):
    base = _inventory(_rows(generated)).total_tco2e
    scaled = _inventory(_rows(generated, scale)).total_tco2e
    assert scaled == pytest.approx(base * scale, rel=1e-9, abs=1e-9)


@pytest.mark.slow
@PROPERTY_SETTINGS
@given(ROWS, st.randoms(use_true_random=False))
def test_row_order_changes_nothing(generated, shuffler):
    shuffled = list(generated)
    shuffler.shuffle(shuffled)
    first, second = _inventory(_rows(generated)), _inventory(_rows(shuffled))
    assert second.total_tco2e == pytest.approx(first.total_tco2e, rel=1e-12, abs=1e-12)
    assert second.by("department") == pytest.approx(first.by("department"), rel=1e-12, abs=1e-12)


@pytest.mark.slow
@PROPERTY_SETTINGS
@given(st.floats(min_value=0, max_value=1e6, allow_nan=False))
def test_one_mwh_is_the_same_as_1000_kwh(megawatt_hours):
    in_mwh = _inventory([gas_row(repr(megawatt_hours), "MWh", activity="electricity")])
    in_kwh = _inventory([gas_row(repr(megawatt_hours * 1000), "kWh", activity="electricity")])
    assert in_mwh.total_tco2e == pytest.approx(in_kwh.total_tco2e, rel=1e-12, abs=1e-12)
