"""The DuckDB engine's same-supply screen (`large._sums_and_screen`): the supplies and sites whose
rows are one-day periods on days of their own are cleared without a sort, and the others are
sorted, so that it flags exactly what a sort over every row flags, and the rule then gives the
in-memory path's verdicts row for row."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from sefton_carbon.engines import large
from sefton_carbon.engines.large import compute_large_inventory
from sefton_carbon.engines.pipeline import compute_inventory
from sefton_carbon.io.files import write_csv

HEADER = "department,site,meter,activity,quantity,unit,period_start,period_end\n"
FIRST_DAY = date(2023, 4, 1)


def daily(department: str, site: str, meter: str, activity: str, days: range, quantity: float = 10.0) -> str:
    """One reading a day for ``days`` (counted from `FIRST_DAY`), in kWh."""
    return "".join(f"{department},{site},{meter},{activity},{quantity + day},kWh,{FIRST_DAY + timedelta(days=day)},"
                   f"{FIRST_DAY + timedelta(days=day)}\n" for day in days)


def screens(path: Path) -> tuple[set, set]:
    """The supplies and sites flagged by the engine's screen, and by the sort over every row."""
    connection = large.connect()
    inputs = large._register_inputs(connection, [path], set())
    columns = large._number_rows(connection, inputs, True)
    lookups = large._check_rows(connection, inputs, "numbered", columns)
    _, flagged = large._sums_and_screen(connection, False, lookups, large.file_key_sql(inputs.order))
    everywhere = large._supply_screen(connection)
    connection.close()
    return ({(kind, int(key)) for kind, key in flagged[["kind", "key"]].itertuples(index=False)},
            {(kind, int(key)) for kind, key in everywhere[["kind", "key"]].itertuples(index=False)})


def test_daily_readings_on_days_of_their_own_are_cleared_over_two_years(tmp_path):
    """Two years of daily readings (three blocks of 366 days): nothing to flag, and nothing is."""
    path = tmp_path / "daily.csv"
    path.write_text(HEADER + daily("Corporate", "Hall", "M1", "electricity", range(731))
                    + daily("Corporate", "Depot", "", "natural_gas", range(0, 731, 2))
                    + daily("Schools", "Depot", "", "natural_gas", range(1, 731, 2)), encoding="utf-8")
    assert screens(path) == (set(), set())


@pytest.mark.parametrize("extra, kinds, refused, warned", [
    # A copy of the meter's reading of 2024-04-01 (day 366, the first of the second block) from another department.
    ("Schools,Annexe,M1,electricity,376.0,kWh,2024-04-01,2024-04-01\n", {"supply"}, ["duplicate of"], 0),
    # A second, different reading on a day the meter already has: both refused.
    ("Corporate,Hall,M1,electricity,99,kWh,2023-04-10,2023-04-10\n", {"supply"}, ["period overlaps"] * 2, 0),
    # A gas row with no meter at the depot on a day another department's row has: both counted and warned.
    ("Schools,Depot,,natural_gas,5,kWh,2023-04-03,2023-04-03\n", {"site"}, [], 2),
    # One reading over two days, overlapping two of the meter's daily readings: all three refused.
    ("Corporate,Hall,M1,electricity,20,kWh,2023-05-01,2023-05-02\n", {"supply"}, ["period overlaps"] * 3, 0),
])
def test_what_the_sort_finds_is_flagged_and_the_rule_agrees_with_the_in_memory_path(tmp_path, extra, kinds, refused,
                                                                                     warned):
    path = tmp_path / "daily.csv"
    path.write_text(HEADER + daily("Corporate", "Hall", "M1", "electricity", range(400))
                    + daily("Corporate", "Depot", "", "natural_gas", range(0, 400, 2)) + extra, encoding="utf-8")
    flagged, everywhere = screens(path)
    assert flagged == everywhere and {kind for kind, _ in flagged} == kinds
    memory = compute_inventory(path, "2023/24")
    reasons = [reason.split(" ")[0] + " " + reason.split(" ")[1] for reason in memory.rejected["reason"]
               if "outside the reporting year" not in reason]
    assert reasons == refused and memory.summary()["possible_double_counts"] == warned
    duckdb = compute_large_inventory([path], "2023/24", rejected=tmp_path / "rejected-duckdb.csv")
    write_csv(memory.rejected, tmp_path / "rejected-memory.csv")
    assert (tmp_path / "rejected-duckdb.csv").read_bytes() == (tmp_path / "rejected-memory.csv").read_bytes()
    assert duckdb.summary["rows"] == memory.summary()["rows"]
    assert duckdb.summary["possible_double_counts"] == memory.summary()["possible_double_counts"]
    assert duckdb.summary["total_tco2e"] == pytest.approx(memory.summary()["total_tco2e"], rel=1e-9)
