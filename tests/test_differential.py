"""Every engine gives the same rows, reasons and figures on the same input.

The in-memory path (`compute_inventory`), the DuckDB engine (`compute_large_inventory`) and the
Dask engine (`compute_dask_inventory`, on Dask's synchronous scheduler) run over the bad-input
catalogue, the messy returns, the example council with its registers and generated returns, each
reading the files themselves, and must agree on: the total and each breakdown (relative tolerance
1e-9), the ``rows`` object, the possible double counts, and the rejected rows (file, row, column
and reason, word for word; the Dask engine's file is the DuckDB engine's, row for row).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import dask
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sefton_carbon.engines.cluster import compute_dask_inventory
from sefton_carbon.engines.large import compute_large_inventory
from sefton_carbon.engines.pipeline import compute_inventory
from sefton_carbon.io.cells import parse_quantity
from sefton_carbon.io.columnar import fast_number_sql
from sefton_carbon.returns import activity
from sefton_carbon.returns.activity import read_activity
from test_bad_inputs import ACTIVITY_CASES, _content
from test_properties import returns

REPO = Path(__file__).resolve().parents[1]
YEAR = "2023/24"
#: The bad-input cases the Dask engine also runs (a run costs about half a second): each way a file
#: is read (the library's reader after a ragged line, a workbook, a file refused as a whole), each
#: kind of rule (a cell, a row, the same-supply rule) and rows refused by pricing.
DASK_CASES = {"header only", "missing required columns", "merged header cells", "row with extra cells",
              "text in the quantity", "total row", "unit in the quantity cell disagreeing", "mis-spelt activity",
              "date in the year 2607", "period outside the year", "litres of electricity",
              "overlapping periods on one meter", "exact duplicate", "workbook cell over 131,072 characters"}


def dask_inventory(paths: list[Path], year: str = YEAR, **options) -> dict:
    """`compute_dask_inventory` on Dask's synchronous scheduler (no process pool in tests)."""
    with dask.config.set(scheduler="synchronous"):
        return compute_dask_inventory(paths, year, **options).summary


def _rejected_rows(frame: pd.DataFrame, unreadable: set[str] = frozenset()) -> list[tuple]:
    """(file, row, column, reason) of each rejected row, in order; not the files read as a whole."""
    rows = frame[frame["source_row"].notna() & ~frame["source_file"].astype(str).isin(unreadable)]
    return sorted(zip(rows["source_file"].astype(str), rows["source_row"].astype(int),
                      rows["column"].astype(str), rows["reason"].astype(str)))


#: Summary keys every engine gives alike, beyond the figures compared with a tolerance.
SAME_KEYS = ("rows", "reporting_year", "factor_year", "factor_set", "gwp_basis", "scope_option", "scope_2_method",
             "boundary", "notes", "refused_whole", "ledger_lines")


def assert_same_files(files: list[dict], expected: list[dict]) -> None:
    """The per-file table of a large engine against the in-memory one: the same files in the same
    order, the same counts and digests, t CO2e to 1e-9."""
    assert [{**entry, "tco2e": None} for entry in files] == [{**entry, "tco2e": None} for entry in expected]
    assert [entry["tco2e"] for entry in files] == pytest.approx([entry["tco2e"] for entry in expected],
                                                                rel=1e-9, abs=1e-12)
    assert all(len(entry["sha256"]) == 64 for entry in files)


def _listed(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype={"source_row": "Int64"}, keep_default_na=False, na_values={"source_row": [""]})


def assert_same_everywhere(paths: list[Path], folder: Path, year: str = YEAR, with_dask: bool = True,
                           **pricing) -> dict:
    """Run every engine over ``paths`` (the Dask engine unless ``with_dask`` is false), priced with the
    `PricingInputs` ``pricing``, and assert they agree; returns the in-memory summary."""
    memory = compute_inventory(paths, year, **pricing)
    expected = memory.summary()
    rejected = {"duckdb": folder / "rejected-duckdb.csv", "dask": folder / "rejected-dask.csv"}
    summaries = {"duckdb": compute_large_inventory(paths, year, rejected=rejected["duckdb"], **pricing).summary}
    if with_dask:
        summaries["dask"] = dask_inventory(paths, year, rejected=rejected["dask"], **pricing)
    for engine, summary in summaries.items():
        assert summary["engine"] == engine
        for key in (*SAME_KEYS, "possible_double_counts"):
            assert summary[key] == expected[key], (engine, key)
        assert_same_files(summary["files"], expected["files"])
        assert summary["total_tco2e"] == pytest.approx(expected["total_tco2e"], rel=1e-9, abs=1e-12)
        for key in ("by_scope", "by_activity", "by_department", "by_scope_3_category", "by_gas"):
            assert summary[key] == pytest.approx(expected[key], rel=1e-9, abs=1e-12), (engine, key)
        outside = summary["outside_boundary"]
        assert {key: outside[key] for key in ("rows", "rows_by_reason")} == {
            key: expected["outside_boundary"][key] for key in ("rows", "rows_by_reason")}
        assert outside["tco2e"] == pytest.approx(expected["outside_boundary"]["tco2e"], rel=1e-9, abs=1e-12)
    # A file with a header and no rows is refused as a whole in memory; the DuckDB engine reads no rows in it.
    unreadable = set(memory.files.loc[memory.files["unreadable"], "source_file"].astype(str))
    listed = _listed(rejected["duckdb"])
    assert _rejected_rows(listed, unreadable) == _rejected_rows(memory.rejected, unreadable)
    if with_dask:
        pd.testing.assert_frame_equal(_listed(rejected["dask"]), listed)
    return expected


@pytest.mark.parametrize("case, name, content, fragment, names_row", ACTIVITY_CASES,
                         ids=[case[0] for case in ACTIVITY_CASES])
def test_bad_input_catalogue(tmp_path, case, name, content, fragment, names_row):
    path = tmp_path / "given" / name
    path.parent.mkdir()
    path.write_bytes(_content(content))
    if read_activity(path).files.iloc[0]["unreadable"]:
        # A file the in-memory path cannot read at all: each large engine lists it as the in-memory
        # path does, counts no rows and names it in its files.
        expected = compute_inventory([path], YEAR).summary()
        engines = {"duckdb": lambda: compute_large_inventory([path], YEAR).summary}
        if case in DASK_CASES:
            engines["dask"] = lambda: dask_inventory([path])
        for compute in engines.values():
            summary = compute()
            assert summary["rows"] == {"read": 0, "accounted": 0, "rejected": 0, "outside_boundary": 0}
            assert summary["refused_whole"] == expected["refused_whole"] and len(expected["refused_whole"]) == 1
            assert_same_files(summary["files"], expected["files"])
        return
    expected = assert_same_everywhere([path], tmp_path, with_dask=case in DASK_CASES)
    if not any(reason in fragment for reason in ("overlaps", "counted once")):
        assert expected["rows"]["rejected"] >= 1, case  # the bad row is refused by every engine


@pytest.mark.parametrize("combined", [True, False], ids=["combinations looked up", "each column looked up alone"])
def test_messy_returns(tmp_path, monkeypatch, plans, combined):
    """The large engines look up the cells of `activity.COMBINED_COLUMNS` as combinations up to
    `activity.COMBINED_LIMIT` of them, and each column alone past it: both give every output alike."""
    if not combined:
        monkeypatch.setattr(activity, "COMBINED_LIMIT", 0)
    folder = REPO / "examples" / "messy-returns" / "2023-24"
    paths = sorted(folder.iterdir())
    assert {path.suffix for path in paths} == {".csv", ".xlsx"}
    expected = assert_same_everywhere(paths, tmp_path)
    assert expected["rows"]["rejected"] > 0 and expected["rows"]["accounted"] > 0
    assert plans and {plan["combined"] for plan in plans} == {combined}


@pytest.mark.parametrize("year", ["2019/20", "2024/25"])
def test_example_council(tmp_path, year):
    folder = REPO / "examples" / "example-council" / "returns" / year.replace("/", "-")
    expected = assert_same_everywhere(sorted(folder.glob("*.csv")), tmp_path, year)
    assert expected["total_tco2e"] > 1000 and expected["rows"]["accounted"] > 100


def test_example_council_with_its_registers(tmp_path):
    """Sites (operational control and tags), contracts (market-based Scope 2) and spend priced
    alike by every engine."""
    council = REPO / "examples" / "example-council"
    paths = sorted((council / "returns" / "2024-25").glob("*.csv"))
    registers = {"sites": council / "sites.csv", "contracts": council / "contracts.csv",
                 "spend_factors": council / "spend-factors.csv"}
    expected = assert_same_everywhere(paths, tmp_path, "2024/25", **registers)
    plain = compute_inventory(paths, "2024/25").summary()
    # The registers move the figures: market-based Scope 2 differs from location-based, sites outside
    # operational control leave the boundary, and spend (outside the default option) is priced.
    assert expected["by_scope"]["scope_2_market"] != pytest.approx(expected["by_scope"]["scope_2_location"])
    assert expected["outside_boundary"]["rows"] > plain["outside_boundary"]["rows"]
    assert expected["outside_boundary"]["tco2e"] > plain["outside_boundary"]["tco2e"] + 1000


def test_possible_double_counts_are_counted_alike_when_pricing_refuses_one(tmp_path):
    """Three overlapping gas rows at one site with no meter (each warned), one of them in litres,
    which pricing refuses: both engines count the two warned rows that are accounted."""
    path = tmp_path / "gas.csv"
    path.write_text("department,site,activity,unit,period_start,quantity,period_end\n"
                    "c,Town Hall,natural_gas,kWh,2023-04-01,1000,2023-04-30\n"
                    "Corporate,Town Hall,natural_gas,litres,2023-04-01,1000,2023-04-30\n"
                    "Corporate,Town Hall,natural_gas,kWh,2023-04-01,1000,2023-04-30\n"
                    "Corporate,Town Hall,natural_gas,kWh,2023-04-01,1000,2023-04-30\n", encoding="utf-8")
    expected = assert_same_everywhere([path], tmp_path)
    assert expected["possible_double_counts"] == 2 and expected["rows"]["accounted"] == 2


def same_supply_across_files(folder: Path) -> list[Path]:
    """One meter's bills in three files, under other department and activity spellings: a copy and an
    overlap on one meter, a copy of a diesel row, and unnamed meters at one site; the rule sets
    aside rows of the second and third files."""
    header = "department,site,activity,unit,period_start,period_end,quantity,meter\n"
    (folder / "corporate.csv").write_text(
        header + "Corporate,Town Hall,natural_gas,kWh,2023-04-01,2023-04-30,1000,MPRN 1\n"
        "Corporate,Town Hall,electricity,kWh,2023-04-01,2023-04-30,500,\n"
        "Corporate,Depot,diesel,litres,2023-04-01,2023-04-30,80,\n", encoding="utf-8")
    (folder / "highways.csv").write_text(
        header + "Highways,Hall,Natural Gas,kWh,2023-04-01,2023-04-30,1000,MPRN 1\n"  # a copy: same meter
        "Highways,Hall,natural gas,kWh,2023-06-01,2023-06-30,900,MPRN 2\n"
        "Highways,Town Hall,electricity,kWh,2023-04-15,2023-05-14,700,\n"  # no meter: a warning
        "Corporate,Depot,diesel,litres,2023-04-01,2023-04-30,80,\n", encoding="utf-8")  # a copy
    (folder / "schools.csv").write_text(
        header + "Schools,Hall,gas,kWh,2023-06-15,2023-07-14,950,MPRN 2\n", encoding="utf-8")  # overlaps
    return [folder / name for name in ("corporate.csv", "highways.csv", "schools.csv")]


def test_the_same_supply_across_files(tmp_path):
    """The copy, the overlap and the unnamed meters at one site are found across files by every engine."""
    paths = same_supply_across_files(tmp_path)
    expected = assert_same_everywhere(paths, tmp_path)
    assert expected["rows"] == {"read": 8, "accounted": 4, "rejected": 4, "outside_boundary": 0}
    assert expected["possible_double_counts"] == 2
    listed = _listed(tmp_path / "rejected-dask.csv")
    assert listed[["source_file", "source_row", "reason"]].values.tolist() == [
        [str(tmp_path / "highways.csv"), 2, f"duplicate of {tmp_path / 'corporate.csv'} row 2: counted once"],
        [str(tmp_path / "highways.csv"), 3, f"period overlaps {tmp_path / 'schools.csv'} row 2 on the same meter"],
        [str(tmp_path / "highways.csv"), 5, f"duplicate of {tmp_path / 'corporate.csv'} row 4: counted once"],
        [str(tmp_path / "schools.csv"), 2, f"period overlaps {tmp_path / 'highways.csv'} row 3 on the same meter"]]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(returns())
def test_generated_returns(generated):
    content, _ = generated
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        path = folder / "return.csv"
        path.write_bytes(content)
        if not read_activity(path).files.iloc[0]["unreadable"]:
            assert_same_everywhere([path], folder)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(alphabet="0123456789+-.,eE_ infatyINFAY\u00a0\uff11", max_size=8), st.text(max_size=8)))
def test_duckdb_reads_a_number_only_as_parse_quantity_does(text):
    """Where DuckDB's cast reads a quantity cell (`fast_number_sql`), Python's `parse_quantity`
    reads the same number; the other cells go to `parse_quantity` itself."""
    import duckdb

    number = duckdb.execute(f"SELECT {fast_number_sql('cell', 'VARCHAR')} FROM (SELECT ? AS cell)",
                            [text]).fetchone()[0]
    if number is not None:
        expected = parse_quantity(text)
        assert expected is not None and (number == expected or (number != number and expected != expected))
