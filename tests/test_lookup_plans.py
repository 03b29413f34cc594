"""The plans of the row rules' lookups give every engine the same rows, reasons and figures.

`activity.checked_sql` joins its lookup tables in several ways: the quantity cells' lookup (and the
unit a quantity cell names) only when some quantity cell is not read as a number
(``quantity_lookup``), and on the DuckDB and Dask engines the cells of
`activity.COMBINED_COLUMNS` as one table of their combinations up to `activity.COMBINED_LIMIT`
(``combined``), each column alone past it. Each test runs the in-memory, DuckDB and Dask engines
(`test_differential.assert_same_everywhere`) over inputs where the plans differ, and checks which
plan ran (the ``plans`` fixture of conftest) and what was accepted and rejected.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sefton_carbon.engines.pipeline import compute_inventory
from sefton_carbon.returns import activity
from test_differential import assert_same_everywhere

HEADER = "department,site,meter,activity,quantity,unit,period_start,period_end,data_quality,notes\n"
#: `activity.COMBINED_LIMIT` as a test sets it: the default (combinations joined) or 0 (each column
#: joined alone).
LIMITS = pytest.mark.parametrize("limit", [activity.COMBINED_LIMIT, 0], ids=["combined", "alone"])


def _rejected(inventory) -> list[tuple]:
    return sorted(zip(inventory.rejected["source_row"], inventory.rejected["column"], inventory.rejected["reason"]))


def test_typed_parquet_without_optional_columns(tmp_path, plans):
    """DATE and DOUBLE columns, a null in each, a NaN quantity, no meter, data_quality or notes."""
    path = tmp_path / "typed.parquet"
    pq.write_table(pa.table({
        "department": ["Dept", "Dept", "Dept", None, "Dept"],
        "site": ["A", "B", "C", "D", None],
        "activity": ["electricity", "natural_gas", None, "electricity", "diesel"],
        "quantity": pa.array([100.0, None, 3.0, 4.0, float("nan")], pa.float64()),
        "unit": ["kWh", "kWh", "kWh", None, "litres"],
        "period_start": pa.array([dt.date(2023, 4, 1), dt.date(2023, 5, 1), None, dt.date(2023, 6, 1),
                                  dt.date(2023, 7, 1)], pa.date32()),
        "period_end": pa.array([dt.date(2023, 4, 30), dt.date(2023, 5, 31), dt.date(2023, 6, 30), None,
                                dt.date(2023, 7, 31)], pa.date32())}), path)
    expected = assert_same_everywhere([path], tmp_path)
    assert expected["rows"] == {"read": 5, "accounted": 1, "rejected": 4, "outside_boundary": 0}
    rejected = _rejected(compute_inventory([path], "2023/24"))
    assert [(row, column) for row, column, _ in rejected] == [(3, "quantity"), (4, "activity"), (5, "department"),
                                                             (6, "quantity")]
    assert rejected[0][2] == "quantity is empty"
    assert rejected[1:] == [
        (4, "activity", "activity is empty; period_start is empty"),
        (5, "department", "department is empty; unit is empty; period_end is empty"),
        (6, "quantity", "quantity is NaN, not a number: leave the row out, or enter the figure")]
    # a null DOUBLE cell is not a number DuckDB reads: the quantity cells are looked up
    assert {plan["quantity_lookup"] for plan in plans} == {True}
    # Parquet text comes as dictionaries: each column is looked up alone (`large._check_rows`)
    assert {plan["combined"] for plan in plans} == {False}


@LIMITS
def test_units_written_in_the_quantity_cell(tmp_path, monkeypatch, plans, limit):
    """A unit in the quantity cell fills an empty unit cell, agrees with it (in any case) or conflicts."""
    monkeypatch.setattr(activity, "COMBINED_LIMIT", limit)
    rows = [("1234 kWh", ""), ("1234 kWh", "kWh"), ("1234 kWh", "litres"), ("1234 KWH", "kwh "),
            ("1234 kWh", "  "), ("1234 furlongs", ""), ("1234 MWh", "kWh"), ("50", "kWh")]
    path = tmp_path / "units.csv"
    path.write_text(HEADER + "".join(f"Dept,S{number},,electricity,{quantity},{unit},2023-04-01,2023-04-30,actual,\n"
                                     for number, (quantity, unit) in enumerate(rows)), encoding="utf-8")
    expected = assert_same_everywhere([path], tmp_path)
    assert expected["rows"] == {"read": 8, "accounted": 5, "rejected": 3, "outside_boundary": 0}
    rejected = _rejected(compute_inventory([path], "2023/24"))
    assert [(row, column) for row, column, _ in rejected] == [(4, "unit"), (7, "quantity"), (8, "unit")]
    assert rejected[0][2] == "the quantity cell says 'kWh' but the unit column says 'litres'"
    assert rejected[1][2] == ("quantity '1234 furlongs' is not a number: write digits only, such as 1234.5; "
                              "unit is empty")
    assert rejected[2][2] == "the quantity cell says 'MWh' but the unit column says 'kWh'"
    assert {plan["quantity_lookup"] for plan in plans} == {True}
    assert {plan["combined"] for plan in plans} == {limit >= 8}


def test_quantities_all_numbers_or_one_empty(tmp_path, plans):
    """Every quantity a number: no quantity-cell lookup; one empty cell: the lookup, and that row refused."""
    numbers = tmp_path / "numbers" / "numbers.csv"
    numbers.parent.mkdir()
    numbers.write_text(HEADER + "".join(f"Dept,S{day},,electricity,{100 + day},kWh,2023-04-0{day},2023-04-0{day},,\n"
                                        for day in range(1, 6)), encoding="utf-8")
    expected = assert_same_everywhere([numbers], numbers.parent)
    assert expected["rows"] == {"read": 5, "accounted": 5, "rejected": 0, "outside_boundary": 0}
    assert {plan["quantity_lookup"] for plan in plans} == {False}
    plans.clear()
    one_empty = tmp_path / "one empty" / "one-empty.csv"
    one_empty.parent.mkdir()
    one_empty.write_text(numbers.read_text(encoding="utf-8").replace(",102,", ",,"), encoding="utf-8")
    expected_empty = assert_same_everywhere([one_empty], one_empty.parent)
    assert expected_empty["rows"] == {"read": 5, "accounted": 4, "rejected": 1, "outside_boundary": 0}
    assert expected_empty["total_tco2e"] == pytest.approx(expected["total_tco2e"] * (515 - 102) / 515, rel=1e-9)
    assert {plan["quantity_lookup"] for plan in plans} == {True}


def test_files_with_different_columns_past_the_limit(tmp_path, monkeypatch, plans):
    """Files read together lacking one another's columns, cells differing only in case and spaces:
    the Dask engine plans each file on its own (one file within the limit, one past it)."""
    monkeypatch.setattr(activity, "COMBINED_LIMIT", 1)
    first = tmp_path / "a.csv"
    first.write_text("department,site,activity,quantity,unit,period_start,period_end,data_quality\n"
                     "Dept,S1,electricity,100,kWh,2023-04-01,2023-04-30,estimated\n"
                     "Dept,S2, Electricity ,1000 kWh,,2023-04-01,2023-04-30,ACTUAL \n", encoding="utf-8")
    second = tmp_path / "b.csv"
    second.write_text("site,department,period_end,period_start,unit,quantity,activity,meter\n"
                      "S3,Dept,2023-04-30,2023-04-01,kWh,100,electricity,M1\n", encoding="utf-8")
    expected = assert_same_everywhere([first, second], tmp_path)
    assert expected["rows"] == {"read": 3, "accounted": 3, "rejected": 0, "outside_boundary": 0}
    # DuckDB: three combinations across both files, past the limit; Dask: a.csv past it, b.csv within it
    assert sorted(plan["combined"] for plan in plans) == [False, False, True]


def test_parquet_datetime_periods_read_alike(tmp_path):
    """Period columns written by pandas as datetimes (a Parquet TIMESTAMP column) are read alike by
    every engine: the DuckDB engine reads a midnight '2023-04-01 00:00:00' as the day, the
    in-memory reader the text '2023-04-01 00:00:00.000000', which is not a date."""
    path = tmp_path / "bills.parquet"
    pd.DataFrame({"department": ["Dept", "Dept"], "site": ["Town Hall", "Depot"], "activity": ["electricity"] * 2,
                  "quantity": [1000.0, 500.0], "unit": ["kWh"] * 2,
                  "period_start": pd.to_datetime(["2023-04-01", "2023-05-01"]),
                  "period_end": pd.to_datetime(["2023-04-30", "2023-05-31"])}).to_parquet(path, index=False)
    assert_same_everywhere([path], tmp_path, with_dask=False)
