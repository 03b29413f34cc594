"""The same supply is counted once (issue #15, point 3): the meter is the key of a metered supply
whichever department reports it; quantities bought or travelled add up; overlapping metered rows
with no meter id are counted and flagged as possible double counts."""

import json

import pandas as pd
import pytest

from conftest import HEADER, gas_row, write_rows
from sefton_carbon import compute_inventory
from sefton_carbon.outputs.html_report import build_report, render_html
from sefton_carbon.returns.activity import read_activity
from sefton_carbon.returns.collection import collect, validate_returns

METER_HEADER = [*HEADER, "meter"]
#: DESNZ 2023 flat file, row 1_101_1011_8 (Fuels, Diesel (average biofuel blend), litres) [kg CO2e per litre].
DIESEL_2023_KG_PER_LITRE = 2.5120638845637586


def returns_folder(tmp_path, files: dict[str, tuple[list[list[object]], list[str]]]):
    folder = tmp_path / "returns"
    folder.mkdir(parents=True)
    for name, (rows, header) in files.items():
        write_rows(folder / name, rows, header=header)
    return folder


def test_one_meter_sent_by_two_departments_is_counted_once_and_the_copy_names_the_original(tmp_path):
    bill = gas_row(12000, start="2023-05-01", end="2023-05-31")
    folder = returns_folder(tmp_path, {
        "corporate.csv": ([[*bill, "MPRN 7001"]], METER_HEADER),
        "schools.csv": ([[*gas_row(12000, start="2023-05-01", end="2023-05-31", department="Schools",
                                   site="Town Hall annexe"), "MPRN 7001"]], METER_HEADER)})
    data = read_activity(folder)
    assert len(data.rows) == 1 and data.rows["department"].iloc[0] == "Corporate"
    assert list(data.rejected["reason"]) == [f"duplicate of {folder / 'corporate.csv'} row 2: counted once"]
    assert data.rejected["source_file"].iloc[0] == str(folder / "schools.csv")
    single = compute_inventory(folder / "corporate.csv", "2023/24").total_tco2e
    assert compute_inventory(folder, "2023/24").total_tco2e == pytest.approx(single, rel=1e-12)


def test_overlapping_periods_on_one_meter_across_departments_are_refused_naming_each_other(tmp_path):
    folder = returns_folder(tmp_path, {
        "corporate.csv": ([[*gas_row(12000, start="2023-05-01", end="2023-05-31"), "MPRN 7001"]], METER_HEADER),
        "schools.csv": ([[*gas_row(9000, start="2023-05-15", end="2023-06-14", department="Schools"),
                          "MPRN 7001"]], METER_HEADER)})
    data = read_activity(folder)
    assert data.rows.empty
    reasons = dict(zip(data.rejected["source_file"], data.rejected["reason"]))
    assert reasons[str(folder / "corporate.csv")] == f"period overlaps {folder / 'schools.csv'} row 2 on the same meter"
    assert reasons[str(folder / "schools.csv")] == f"period overlaps {folder / 'corporate.csv'} row 2 on the same meter"


@pytest.mark.parametrize("engine", ["pandas", "duckdb", "dask"])
def test_a_correction_of_a_bill_on_its_meter_counts_with_it_and_is_no_overlap(tmp_path, run_cli, engine):
    # The bill and its credit note share the meter and the period: both count (12,000 - 500 kWh),
    # on every engine; a second, overlapping bill on the meter is still refused with the first, and
    # the correction goes with the bill it corrects.
    bill, credit = gas_row(12000, start="2023-05-01", end="2023-05-31"), gas_row(
        -500, start="2023-05-01", end="2023-05-31", quality="correction")
    folder = returns_folder(tmp_path, {"corporate.csv": ([[*bill, "MPRN 7001"], [*credit, "MPRN 7001"]],
                                                         METER_HEADER)})
    code, out, err = run_cli("inventory", folder, "--year", "2023/24", "--format", "json", "--engine", engine)
    assert code == 0, err
    expected = compute_inventory(write_rows(tmp_path / "net.csv", [gas_row(11500, start="2023-05-01",
                                                                            end="2023-05-31")]), "2023/24")
    assert json.loads(out)["total_tco2e"] == pytest.approx(expected.total_tco2e, rel=1e-9)  # printed rounded
    write_rows(folder / "schools.csv", [[*gas_row(9000, start="2023-05-15", end="2023-06-14"), "MPRN 7001"]],
               header=METER_HEADER)
    rejected = tmp_path / "rejected.csv"
    code, out, err = run_cli("inventory", folder, "--year", "2023/24", "--format", "json", "--engine", engine,
                             "--rejected", rejected)
    assert code == 3 and json.loads(out)["rows"] == {"read": 3, "accounted": 0, "rejected": 3, "outside_boundary": 0}
    reasons = pd.read_csv(rejected)["reason"].tolist()
    assert reasons[1] == (f"corrects a bill that is refused: period overlaps {folder / 'schools.csv'} row 2 "
                          "on the same meter")


def test_overlapping_metered_rows_without_a_meter_are_both_counted_and_flagged(tmp_path):
    folder = returns_folder(tmp_path, {
        "corporate.csv": ([gas_row(12000, start="2023-05-01", end="2023-05-31")], HEADER),
        "schools.csv": ([gas_row(9000, start="2023-05-01", end="2023-05-31", department="Schools")], HEADER)})
    inventory = compute_inventory(folder, "2023/24")
    assert inventory.rows_accounted == 2 and inventory.rows_rejected == 0
    alone = compute_inventory(folder / "corporate.csv", "2023/24").total_tco2e
    assert inventory.total_tco2e == pytest.approx(alone * 21000 / 12000, rel=1e-12)
    doubles = inventory.possible_double_counts
    assert list(doubles["source_file"]) == [str(folder / "corporate.csv"), str(folder / "schools.csv")]
    assert doubles["warning"].iloc[0] == (
        f"possible double count: period overlaps {folder / 'schools.csv'} row 2 at the same site, "
        "and neither names a meter: give the meter id")
    assert inventory.summary()["possible_double_counts"] == 2

    validation = validate_returns(folder, "2023/24")
    flagged = validation.warnings[validation.warnings["message"].str.startswith("possible double count")]
    assert len(flagged) == 2 and validation.errors.empty
    collected = collect(folder, "2023/24")
    assert collected.validation.warnings["message"].str.startswith("possible double count").sum() == 2

    html = render_html(build_report([folder], "2023/24"))
    assert "Possible double counts: 2 counted row(s)" in html
    assert "neither names a meter: give the meter id" in html


def test_metered_rows_at_different_sites_or_on_different_meters_are_not_flagged(tmp_path):
    folder = returns_folder(tmp_path, {
        "a.csv": ([gas_row(start="2023-05-01", end="2023-05-31"),
                   gas_row(start="2023-05-01", end="2023-05-31", site="Library")], HEADER),
        "b.csv": ([[*gas_row(5, start="2023-05-01", end="2023-05-31", site="Depot"), "MPRN 1"],
                   [*gas_row(6, start="2023-05-01", end="2023-05-31", site="Depot"), "MPRN 2"]], METER_HEADER)})
    inventory = compute_inventory(folder, "2023/24")
    assert inventory.rows_accounted == 4 and inventory.possible_double_counts.empty


def test_additive_quantities_in_one_period_all_count(tmp_path):
    """A bulk tank and fuel cards at one depot in one year: both count, nothing is flagged."""
    bulk = gas_row(60000, "litres", "2023-04-01", "2024-03-31", activity="diesel", site="Depot")
    cards = gas_row(40000, "litres", "2023-04-01", "2024-03-31", activity="diesel", site="Depot")
    cards_by_month = gas_row(3000, "litres", "2023-06-01", "2023-06-30", activity="diesel", site="Depot")
    folder = returns_folder(tmp_path, {"fleet.csv": ([bulk, cards, cards_by_month], HEADER)})
    inventory = compute_inventory(folder, "2023/24")
    assert inventory.rows_accounted == 3 and inventory.rows_rejected == 0
    assert inventory.possible_double_counts.empty
    assert inventory.by_scope()["scope_1"] == pytest.approx(103000 * DIESEL_2023_KG_PER_LITRE / 1000, rel=1e-6)


def test_an_exact_copy_of_an_additive_row_is_counted_once_and_named(tmp_path):
    fuel = gas_row(500, "litres", "2023-07-01", "2023-07-31", activity="diesel", site="Depot")
    folder = returns_folder(tmp_path, {"fleet.csv": ([fuel, fuel], HEADER)})
    data = read_activity(folder)
    assert len(data.rows) == 1
    assert list(data.rejected["source_row"]) == [3]
    assert data.rejected["reason"].iloc[0] == f"duplicate of {folder / 'fleet.csv'} row 2: counted once"
    # the same litres from another department are another purchase: both count
    other = returns_folder(tmp_path / "other", {"a.csv": ([fuel], HEADER),
                                                "b.csv": ([gas_row(500, "litres", "2023-07-01", "2023-07-31",
                                                                   activity="diesel", site="Depot",
                                                                   department="Highways")], HEADER)})
    assert len(read_activity(other).rows) == 2


def test_each_correction_overlapping_a_refused_row_of_its_group_is_found_with_one_it_overlaps():
    # 3,000 random periods in 40 groups: the sorted search finds exactly the corrections that a check
    # of every (correction, refused) pair finds, each named with a refused row of its group it overlaps.
    import numpy as np

    from sefton_carbon.returns.same_supply import _overlapping_refused

    generator = np.random.default_rng(11)
    group = generator.integers(0, 40, 3000)
    start = generator.integers(0, 900, 3000)
    end = start + generator.integers(0, 60, 3000)
    positions = generator.permutation(3000)
    refused, corrections = np.sort(positions[:400]), np.sort(positions[400:1400])
    found = dict(_overlapping_refused(group, start, end, refused, corrections))
    overlaps = ((group[corrections][:, None] == group[refused][None, :])
                & (start[corrections][:, None] <= end[refused][None, :])
                & (start[refused][None, :] <= end[corrections][:, None]))
    assert set(found) == set(corrections[overlaps.any(axis=1)].tolist()) and 100 < len(found) < 1000
    for correction, named in found.items():
        assert group[named] == group[correction] and start[named] <= end[correction] and start[correction] <= end[named]
        assert named in set(refused.tolist())
