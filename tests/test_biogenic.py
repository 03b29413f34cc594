"""Biogenic CO2: the DESNZ "Outside of scopes" rows, one ledger line per row that has one, reported
apart from every scope and total."""

import pytest

from conftest import gas_row, imported_flat_file, write_rows
from sefton_carbon import compute_inventory, load_factors

YEARS = range(2019, 2026)


def inventory_of(tmp_path, rows, year="2023/24", **options):
    return compute_inventory(write_rows(tmp_path / "activity.csv", rows), year, **options)


def test_100000_litres_of_diesel_in_2023_is_14_0_tonnes_of_biogenic_co2(tmp_path):
    inventory = inventory_of(tmp_path, [gas_row(100000, "litres", activity="diesel")])
    summary = inventory.summary()
    assert summary["biogenic_co2_tonnes"] == pytest.approx(14.0, abs=1e-9)  # 0.14 kg CO2/litre
    ledger = inventory.ledger.set_index("line")
    assert list(ledger.index) == ["direct", "well_to_tank", "outside_of_scopes"]
    outside = ledger.loc["outside_of_scopes"]
    assert (outside["scope"], outside["tco2e"], outside["tco2_biogenic"]) == (0, 0.0, pytest.approx(14.0))
    assert outside["desnz_id"] == "99_604_1011_8" and bool(outside["in_boundary"])
    # Never part of a scope or the total: 2.51206 + 0.61101 kg CO2e per litre of Scope 1 and WTT.
    assert summary["total_tco2e"] == pytest.approx(100000 * (2.5120638845637586 + 0.61101) / 1000)
    assert sum(summary["by_scope"][key] for key in ("scope_1", "scope_2", "scope_3")) == pytest.approx(
        summary["total_tco2e"])
    assert summary["by_activity"] == {"diesel": pytest.approx(summary["total_tco2e"])}


@pytest.mark.parametrize("activity, quantity, unit, biogenic", [
    ("petrol", 10000, "litres", 10000 * 0.12 / 1000),
    ("wood_pellets", 10, "tonnes", 10 * 1677.18 / 1000),
    ("biogas", 100000, "kWh", 100000 * 0.19902050994945655 / 1000),
    ("desnz:2_104_1044_5", 50000, "kWh", 50000 * 0.35 / 1000),   # wood chips named by DESNZ ID
])
def test_biogenic_co2_of_other_fuels_on_2023_factors(tmp_path, activity, quantity, unit, biogenic):
    inventory = inventory_of(tmp_path, [gas_row(quantity, unit, activity=activity)])
    assert inventory.biogenic_co2_tonnes == pytest.approx(biogenic, rel=1e-12)


def test_fuels_without_a_biogenic_share_have_no_outside_of_scopes_line(tmp_path):
    inventory = inventory_of(tmp_path, [gas_row(10000, "kWh"), gas_row(1000, "litres", activity="gas_oil"),
                                        gas_row(1000, "kWh", activity="electricity")])
    assert "outside_of_scopes" not in set(inventory.ledger["line"].astype(str))
    assert inventory.biogenic_co2_tonnes == 0.0


def test_biogenic_co2_of_a_site_outside_the_boundary_is_not_reported(tmp_path):
    sites = write_rows(tmp_path / "sites.csv", [["Depot", "Fleet", "", "yes", ""],
                                               ["School", "Education", "maintained_school", "no", ""]],
                       header=["site", "department", "tags", "operational_control", "floor_area_m2"])
    inventory = inventory_of(tmp_path, [gas_row(1000, "litres", activity="diesel", site="Depot"),
                                        gas_row(1000, "litres", activity="diesel", site="School")],
                             sites=sites)
    assert inventory.biogenic_co2_tonnes == pytest.approx(0.14)
    # Under Scope 1 and 2 only it is still reported: it comes from Scope 1 combustion.
    narrow = inventory_of(tmp_path, [gas_row(1000, "litres", activity="diesel", site="Depot")],
                          scope_option="scope_1_2")
    assert narrow.summary()["biogenic_co2_tonnes"] == pytest.approx(0.14)


@pytest.mark.parametrize("year, litres_value", [(2019, 0.0872), (2022, None), (2023, 0.14), (2025, 0.14)])
def test_committed_tables_keep_the_outside_of_scopes_rows(year, litres_value):
    table = load_factors().table(year).table
    outside = table[table["scope"] == "Outside of Scopes"]
    assert len(outside) == load_factors().table(year).metadata["outside_of_scopes_factors"] >= 32
    assert (outside["kgco2e"] == outside["kgco2e_co2"]).all()
    diesel = outside[(outside["level_3"] == "Diesel (average biofuel blend)") & (outside["uom"] == "litres")]
    assert len(diesel) == 1
    if litres_value is not None:
        assert diesel.iloc[0]["kgco2e"] == litres_value


@pytest.mark.parametrize("year", YEARS)
def test_importer_keeps_every_outside_of_scopes_row_with_a_value(year):
    imported = imported_flat_file(year)
    outside = imported.table[imported.table["scope"] == "Outside of Scopes"]
    assert len(outside) == imported.metadata["outside_of_scopes_factors"]
    assert imported.metadata["skipped"]["components_without_total"] <= 2
    assert outside["source_row"].is_unique and outside["kgco2e"].notna().all()
