"""Large inputs: DuckDB and Dask give the same figures as the pandas path."""

import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sefton_carbon import compute_inventory
from sefton_carbon.accounting.factors import load_factors
from sefton_carbon.engines.cluster import compute_dask_inventory
from sefton_carbon.engines.large import compute_large_inventory
from sefton_carbon.returns.activity import read_activity

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from bench_inventory import generate  # noqa: E402

pytest.importorskip("duckdb")


@pytest.fixture(scope="module")
def activity_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("large") / "activity.csv"
    generate(5_000, path, seed=7)
    frame = pd.read_csv(path, dtype=str)
    bad = pd.DataFrame([{**frame.iloc[0].to_dict(), "quantity": "lots"},
                        {**frame.iloc[1].to_dict(), "activity": "natral gas"},
                        {**frame.iloc[2].to_dict(), "period_start": "2022-01-01", "period_end": "2022-01-31",
                         "site": "Elsewhere"}])
    pd.concat([frame, bad]).to_csv(path, index=False)
    return path


def test_duckdb_gives_the_pandas_figures(activity_csv, tmp_path):
    pandas_result = compute_inventory(activity_csv, "2023/24")
    large = compute_large_inventory([activity_csv], "2023/24", ledger=tmp_path / "ledger.parquet",
                                    rejected=tmp_path / "rejected.csv")
    summary, expected = large.summary, pandas_result.summary()
    assert summary["rows"] == {"read": 5003, "accounted": 5000, "rejected": 3, "outside_boundary": 0}
    assert summary["total_tco2e"] == pytest.approx(expected["total_tco2e"], rel=1e-9)
    for key in ("scope_1", "scope_2", "scope_3"):
        assert summary["by_scope"][key] == pytest.approx(expected["by_scope"][key], rel=1e-9)
    assert summary["by_department"] == pytest.approx(expected["by_department"], rel=1e-9)
    ledger = pd.read_parquet(tmp_path / "ledger.parquet")
    mine = pandas_result.ledger[["source_row", "line", "tco2e"]].astype({"line": str})
    joined = ledger.merge(mine, on=["source_row", "line"], suffixes=("", "_pandas"))
    assert len(joined) == len(ledger) == len(mine) == summary["ledger_lines"] == expected["ledger_lines"]
    assert ((joined["tco2e"] - joined["tco2e_pandas"]).abs() <= 1e-9 * joined["tco2e_pandas"].abs()).all()
    rejected = pd.read_csv(tmp_path / "rejected.csv")
    assert list(rejected["source_row"]) == [5002, 5003, 5004]
    assert "is not a number" in rejected["reason"][0] and "did you mean 'natural_gas'" in rejected["reason"][1]
    assert "outside the reporting year" in rejected["reason"][2]


@pytest.fixture(scope="module")
def partitioned(activity_csv, tmp_path_factory):
    folder = tmp_path_factory.mktemp("parquet")
    frame = pd.read_csv(activity_csv, dtype=str).head(5000)
    frame["council"] = "example"
    frame["year"] = "2023"
    frame.to_parquet(folder, partition_cols=["year", "council"], index=False)
    return folder, frame


def test_duckdb_reads_hive_partitioned_parquet(partitioned, activity_csv):
    folder, _ = partitioned
    summary = compute_large_inventory([folder], "2023/24").summary
    expected = compute_large_inventory([activity_csv], "2023/24").summary
    assert summary["rows"]["read"] == 5000 and summary["rows"]["rejected"] == 0
    assert summary["total_tco2e"] == pytest.approx(expected["total_tco2e"] - 0.0, rel=1e-9)


@pytest.mark.slow
def test_dask_on_a_local_cluster_of_two_workers(activity_csv, tmp_path, run_cli):
    distributed = pytest.importorskip("distributed")
    folder = tmp_path / "returns"
    frame = pd.read_csv(activity_csv, dtype=str)
    frame = frame.assign(year="2023", part=[f"{number % 4}" for number in range(len(frame))])
    frame.to_parquet(folder, partition_cols=["year", "part"], index=False)  # four files, a task each
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        summary = compute_dask_inventory([folder], "2023/24", scheduler=cluster.scheduler_address,
                                         rejected=tmp_path / "rejected-dask.csv").summary
        code, out, err = run_cli("inventory", folder, "--year", "2023/24", "--engine", "dask",
                                 "--scheduler", cluster.scheduler_address, "--format", "json")
    printed = json.loads(out)  # the command prints figures rounded to what the data can support
    assert code == 3 and printed["rows"] == summary["rows"] and printed["engine"] == "dask"
    assert printed["total_tco2e"] == pytest.approx(summary["total_tco2e"], rel=1e-9)
    assert printed["by_scope"] == pytest.approx(summary["by_scope"], rel=1e-9)
    assert "3 input row(s) or file(s) rejected\n" in err and err.count(": period lies outside") == 1
    expected = compute_large_inventory([folder], "2023/24", rejected=tmp_path / "rejected-duckdb.csv").summary
    # The three bad rows of the file are rejected by both engines, by the same rules, and listed alike.
    assert summary["rows"] == expected["rows"] == {"read": 5003, "accounted": 5000, "rejected": 3, "outside_boundary": 0}
    assert summary["total_tco2e"] == pytest.approx(expected["total_tco2e"], rel=1e-9)
    for key in ("scope_1", "scope_2", "scope_3"):
        assert summary["by_scope"][key] == pytest.approx(expected["by_scope"][key], rel=1e-9)
    assert summary["by_department"] == pytest.approx(expected["by_department"], rel=1e-9)
    listed = pd.read_csv(tmp_path / "rejected-dask.csv", dtype=str)
    pd.testing.assert_frame_equal(listed, pd.read_csv(tmp_path / "rejected-duckdb.csv", dtype=str))
    assert len(listed) == 3 and listed["source_file"].str.contains("part=").all()


def test_engine_option_on_the_command_line(activity_csv, run_cli):
    code, out, err = run_cli("inventory", activity_csv, "--year", "2023/24", "--engine", "duckdb", "--format", "json")
    assert code == 3 and "3 input row(s) or file(s) rejected" in err
    assert json.loads(out)["rows"] == {"read": 5003, "accounted": 5000, "rejected": 3, "outside_boundary": 0}
    code, _, err = run_cli("inventory", activity_csv, "--year", "2023/24", "--engine", "spark")
    assert code == 2 and "--engine is pandas, duckdb or dask" in err


def test_dask_lists_the_rejected_rows_of_the_duckdb_engine(activity_csv, tmp_path, run_cli):
    """--rejected on the Dask engine (a local thread pool): the DuckDB engine's file, byte for byte,
    with the row refused by pricing (a period outside the year) found by a second pass."""
    pytest.importorskip("dask")
    for engine in ("duckdb", "dask"):
        code, out, err = run_cli("inventory", activity_csv, "--year", "2023/24", "--engine", engine, "--format",
                                 "json", "--rejected", tmp_path / f"rejected-{engine}.csv")
        assert code == 3 and f"every rejected row is listed in {tmp_path / f'rejected-{engine}.csv'}" in err
        assert json.loads(out)["rows"] == {"read": 5003, "accounted": 5000, "rejected": 3, "outside_boundary": 0}
    listed = (tmp_path / "rejected-dask.csv").read_bytes()
    assert listed == (tmp_path / "rejected-duckdb.csv").read_bytes() and b"outside the reporting year" in listed


def test_duckdb_applies_the_quantity_rules_of_the_pandas_path(tmp_path):
    path = tmp_path / "quantities.csv"
    generate(200, path, seed=11)
    frame = pd.read_csv(path, dtype=str)
    template = frame[frame["activity"] == "electricity"].iloc[0].to_dict()
    edge_rows = [("-120", "actual"), ("-120", "correction"), ("-120", " Correction "), ("1,234.5", "actual"),
                 ("nan", "actual"), ("inf", "actual"), ("-inf", "correction"), ("2e12", "actual"),
                 ("-2e12", "correction"), ("1,2,3", "actual"), ("", "actual"), ("0", "actual"), ("-0", "actual")]
    # One site each: the pandas path would otherwise refuse the copies as overlapping bills.
    edges = pd.DataFrame([{**template, "site": f"Edge {number}", "quantity": quantity, "data_quality": quality}
                          for number, (quantity, quality) in enumerate(edge_rows)])
    padded = pd.DataFrame([{**template, "site": "Padded", "department": f"  {template['department']}  ",
                            "quantity": "10"}])
    pd.concat([frame, edges, padded]).to_csv(path, index=False)

    expected = compute_inventory(path, "2023/24")
    large = compute_large_inventory([path], "2023/24", rejected=tmp_path / "rejected.csv").summary
    # Accepted: both corrections, 1,234.5, 0, -0 and the padded department; the other eight rejected.
    assert large["rows"] == {"read": 214, "accounted": 206, "rejected": 8, "outside_boundary": 0}
    assert expected.rows_rejected == 8
    assert large["total_tco2e"] == pytest.approx(expected.summary()["total_tco2e"], rel=1e-9)
    assert large["by_department"] == pytest.approx(expected.summary()["by_department"], rel=1e-9)
    rejected = pd.read_csv(tmp_path / "rejected.csv")
    assert sorted(rejected["source_row"]) == sorted(set(expected.rejected["source_row"]))


def test_duckdb_reads_typed_parquet_without_a_data_quality_column(activity_csv, tmp_path):
    frame = pd.read_csv(activity_csv, dtype=str).head(5000).drop(columns=["data_quality"])
    typed = frame.assign(quantity=pd.to_numeric(frame["quantity"]),
                         period_start=pd.to_datetime(frame["period_start"]).dt.date)
    typed.iloc[:10].assign(quantity=-1.0).pipe(lambda negative: pd.concat([typed, negative])).to_parquet(
        tmp_path / "typed.parquet", index=False)
    summary = compute_large_inventory([tmp_path / "typed.parquet"], "2023/24").summary
    expected = compute_large_inventory([activity_csv], "2023/24").summary
    # The ten negative copies are rejected: without data_quality a row is 'actual', not a correction.
    assert summary["rows"] == {"read": 5010, "accounted": 5000, "rejected": 10, "outside_boundary": 0}
    assert summary["total_tco2e"] == pytest.approx(expected["total_tco2e"], rel=1e-9)


def test_duckdb_reads_a_ragged_csv_as_the_in_memory_path_does(tmp_path, run_cli):
    header = "department,site,activity,quantity,unit,period_start,period_end,owner's note\n"
    good = "D,S,electricity,100,kWh,2023-04-01,2023-04-30,x\n"
    path = tmp_path / "activity.csv"
    path.write_text(header + good + "D,S,electricity,oops,kWh,2023-05-01,2023-05-31,x\n", encoding="utf-8")
    # A quote in a column name is data, not SQL; a bad quantity is a rejected row, not a failed read.
    assert compute_large_inventory([path], "2023/24").summary["rows"] == {"read": 2, "accounted": 1, "rejected": 1, "outside_boundary": 0}
    path.write_text(header + good + "D,S,electricity,100,kWh,2023-05-01,2023-05-31,x,extra\n" + good,
                    encoding="utf-8")
    # DuckDB cannot read a line with more cells than the header: the library's reader reads the file
    # instead, and rejects that row (and the copy of the first) as the in-memory path does.
    code, out, err = run_cli("inventory", path, "--year", "2023/24", "--engine", "duckdb", "--format", "json",
                             "--rejected", tmp_path / "rejected.csv")
    assert code == 3 and json.loads(out)["rows"] == {"read": 3, "accounted": 1, "rejected": 2, "outside_boundary": 0}
    listed = pd.read_csv(tmp_path / "rejected.csv")
    assert listed["source_row"].tolist() == [3, 4]
    assert listed["reason"].str.startswith("row has more cells than the header")[0]
    assert listed["reason"].str.startswith("duplicate of ")[1]


@pytest.mark.parametrize("options, message", [
    (["--scheduler", "tcp://localhost:8786"], "--scheduler is for --engine dask"),
])
def test_options_an_engine_cannot_honour_are_refused(activity_csv, run_cli, options, message):
    code, out, err = run_cli("inventory", activity_csv, "--year", "2023/24", *options)
    assert code == 2 and message in err and out == ""


def test_duckdb_uses_a_factors_dir_as_the_pandas_path_does(activity_csv, tmp_path, run_cli):
    from dataclasses import replace

    from sefton_carbon.accounting.factors import VALUE_COLUMNS, write_factor_table

    bundled = load_factors().table(2023)
    write_factor_table(replace(bundled, table=bundled.table.assign(
        **{column: bundled.table[column] * 2 for column in VALUE_COLUMNS})), tmp_path)
    totals = {}
    for engine in ("pandas", "duckdb"):
        _, out, _ = run_cli("inventory", activity_csv, "--year", "2023/24", "--engine", engine,
                            "--factors-dir", tmp_path, "--format", "json")
        totals[engine] = json.loads(out)["total_tco2e"]
    bundled_total = compute_large_inventory([activity_csv], "2023/24").summary["total_tco2e"]
    assert totals["duckdb"] == pytest.approx(totals["pandas"], rel=1e-9)
    assert totals["duckdb"] == pytest.approx(2 * bundled_total, rel=1e-9)


def test_a_file_with_a_header_and_no_rows_is_refused_on_every_engine(tmp_path, activity_csv):
    """As the in-memory path refuses it: alone, no rows and the file named among those refused as
    a whole; beside a file with rows, the same."""
    path = tmp_path / "activity.csv"
    path.write_text("department,site,activity,quantity,unit,period_start,period_end\n", encoding="utf-8")
    pd.DataFrame(columns=["department", "site", "activity", "quantity", "unit", "period_start", "period_end"],
                 dtype=str).to_parquet(tmp_path / "activity.parquet", index=False)
    assert read_activity(path).rejected["reason"].tolist() == ["has a header row but no data rows"]
    for empty in (path, tmp_path / "activity.parquet"):
        alone = compute_large_inventory([empty], "2023/24").summary
        assert alone["rows"] == {"read": 0, "accounted": 0, "rejected": 0, "outside_boundary": 0}
        assert [entry["reason"] for entry in alone["refused_whole"]] == ["has a header row but no data rows"]
        assert [entry["unreadable"] for entry in alone["files"]] == [True]
        summary = compute_large_inventory([empty, activity_csv], "2023/24").summary
        assert [entry["reason"] for entry in summary["refused_whole"]] == ["has a header row but no data rows"]


def test_large_engines_read_header_names_and_template_rows_as_the_pandas_path_does(activity_csv, tmp_path):
    frame = pd.read_csv(activity_csv, dtype=str)
    renamed = frame.rename(columns={"department": "Dept", "site": "Site Name", "quantity": "Qty", "unit": "UOM",
                                    "period_start": "Start Date", "period_end": "End Date",
                                    "data_quality": "Data Quality"})
    renamed = pd.concat([renamed, pd.DataFrame([{"Dept": "Corporate"}])])  # a template row: not read
    renamed.to_csv(tmp_path / "renamed.csv", index=False)
    renamed.to_parquet(tmp_path / "renamed.parquet", index=False)
    expected = compute_large_inventory([activity_csv], "2023/24").summary
    for path in (tmp_path / "renamed.csv", tmp_path / "renamed.parquet"):
        summary = compute_large_inventory([path], "2023/24").summary
        assert summary["rows"] == expected["rows"]
        assert summary["by_department"] == pytest.approx(expected["by_department"], rel=1e-9)
    dask = pytest.importorskip("dask")
    with dask.config.set(scheduler="synchronous"):
        for path in (tmp_path / "renamed.csv", tmp_path / "renamed.parquet"):
            summary = compute_dask_inventory([path], "2023/24").summary
            assert summary["rows"] == expected["rows"]
            assert summary["by_department"] == pytest.approx(expected["by_department"], rel=1e-9)


ENGINE_CELLS = {
    "department": ["Corporate", "Highways", " Corporate ", ""],
    "activity": ["natural_gas", "electricity", "diesel", "Natural Gas", "natral gas", ""],
    "quantity": ["1000", "2,500.5", "0", "12.75", "-40", "1,2,3", "", "lots", "nan", "inf", "2e12", "-0",
                 "300 kWh", "1,500 litres", "-5 kWh", "12 MWh"],
    "unit": ["kWh", "KWH", "litres", "MWh", "therms", "gallons", "m3", ""],
    "period_start": ["2023-04-01", "01/05/2023", "45017", "2022-04-01", "2024-03-15", "31/02/2024", ""],
    "period_end": ["2023-04-30", "31/05/2023", "2024-03-31", "2024-04-14", "2023-03-31", ""],
    "data_quality": ["actual", "estimated", "correction", " Correction ", "", "bogus"],
}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(
    st.fixed_dictionaries({column: st.sampled_from(cells) for column, cells in ENGINE_CELLS.items()}),
    st.just({**{column: "" for column in ENGINE_CELLS}, "department": "Corporate"})),  # a template row: not read
    min_size=1, max_size=12))
def test_large_engines_account_for_rows_as_the_pandas_path_does(rows):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "activity.csv"
        # One site per row, so that the pandas path finds no overlapping bills (the engine does not look).
        pd.DataFrame([{**row, "site": f"Site {number}"} for number, row in enumerate(rows)]).to_csv(path, index=False)
        expected = compute_inventory(path, "2023/24").summary()
        summary = compute_large_inventory([path], "2023/24").summary
    assert summary["rows"] == expected["rows"]
    assert summary["total_tco2e"] == pytest.approx(expected["total_tco2e"], rel=1e-9, abs=1e-12)
    for breakdown in ("by_department", "by_activity", "by_scope_3_category"):
        assert summary[breakdown] == pytest.approx(expected[breakdown], rel=1e-9, abs=1e-12)
    for scope in ("scope_1", "scope_2", "scope_3"):
        assert summary["by_scope"][scope] == pytest.approx(expected["by_scope"][scope], rel=1e-9, abs=1e-12)


def test_duckdb_numbers_rows_in_file_order_when_it_reads_in_parallel(tmp_path):
    path = tmp_path / "activity.csv"
    generate(300_000, path, seed=2)
    frame = pd.read_csv(path, dtype=str)
    frame["quantity"] = [str(number) for number in range(1, len(frame) + 1)]  # data row n holds n
    frame.loc[frame.index % 100_000 == 7, "activity"] = "natral gas"
    frame.to_csv(path, index=False)
    compute_large_inventory([path], "2023/24", ledger=tmp_path / "ledger.parquet", rejected=tmp_path / "rejected.csv")
    ledger = pd.read_parquet(tmp_path / "ledger.parquet").drop_duplicates("source_row")
    assert len(ledger) == 300_000 - 3 and (ledger["quantity_reported"] == ledger["source_row"] - 1).all()
    assert list(pd.read_csv(tmp_path / "rejected.csv")["source_row"]) == [9, 100_009, 200_009]


def test_duckdb_reads_a_folder_of_csv_files_with_their_own_headers(activity_csv, tmp_path):
    frame = pd.read_csv(activity_csv, dtype=str)
    folder = tmp_path / "returns"
    (folder / "highways").mkdir(parents=True)
    frame.iloc[:2000].to_csv(folder / "corporate.csv", index=False)
    # Another department's file: other column order, other header names, no data_quality column.
    other = frame.iloc[2000:].drop(columns=["data_quality"])
    other = other[list(reversed(other.columns))].rename(columns={"department": "Dept", "quantity": "Qty"})
    other.to_csv(folder / "highways" / "2023-24.csv", index=False, sep=";")
    (folder / "notes.txt").write_text("not a table", encoding="utf-8")
    summary = compute_large_inventory([folder], "2023/24").summary
    expected = compute_inventory([folder / "corporate.csv", folder / "highways" / "2023-24.csv"], "2023/24").summary()
    assert summary["rows"] == expected["rows"]
    assert summary["total_tco2e"] == pytest.approx(expected["total_tco2e"], rel=1e-9)


def test_a_unit_in_the_quantity_cell_as_the_pandas_path_reads_it(tmp_path):
    path = tmp_path / "activity.csv"
    path.write_text("department,site,activity,quantity,unit,period_start,period_end\n"
                    "D,S1,electricity,1234 kWh,,2023-04-01,2023-04-30\n"        # fills the empty unit
                    "D,S2,electricity,\"1,234 kWh\",kwh,2023-04-01,2023-04-30\n"  # agrees with it
                    "D,S3,electricity,1234 kWh,litres,2023-04-01,2023-04-30\n"  # disagrees: rejected
                    "D,S4,electricity,12 MWh,,2023-04-01,2023-04-30\n", encoding="utf-8")
    expected = compute_inventory(path, "2023/24")
    large = compute_large_inventory([path], "2023/24", ledger=tmp_path / "ledger.csv",
                                    rejected=tmp_path / "rejected.csv").summary
    assert large["rows"] == {"read": 4, "accounted": 3, "rejected": 1, "outside_boundary": 0}
    assert large["total_tco2e"] == pytest.approx(expected.total_tco2e, rel=1e-9)
    ledger = pd.read_csv(tmp_path / "ledger.csv")
    assert sorted(set(ledger["source_row"])) == [2, 3, 5]
    assert ledger.groupby("source_row")["tco2e"].sum().to_dict() == pytest.approx(
        expected.ledger.groupby("source_row")["tco2e"].sum().to_dict(), rel=1e-9)
    rejected = pd.read_csv(tmp_path / "rejected.csv")
    assert list(rejected["source_row"]) == [4]
    assert "the quantity cell says 'kWh' but the unit column says 'litres'" in rejected["reason"][0]


def test_duckdb_sums_do_not_depend_on_the_order_rows_are_added(tmp_path):
    """DuckDB adds rows up in whatever order its threads take them, which differs from run to run; a
    plain floating-point sum then differs in its last digits, and so would the manifest. The
    engine sums with compensation (``fsum``), which gives the same double in any order: here, one
    group's 3,000 rows read in two orders, one thread each, give the same figures to the last bit."""
    rng = np.random.default_rng(11)
    rows = pd.DataFrame({"department": "Estates", "site": [f"Site {number}" for number in range(3_000)],
                         "activity": "natural_gas", "quantity": rng.uniform(0.001, 1e6, 3_000).round(6),
                         "unit": "kWh", "period_start": "2023-04-01", "period_end": "2024-03-31"})
    figures = []
    for number, order in enumerate((np.arange(3_000), rng.permutation(3_000))):
        path = tmp_path / f"order-{number}.csv"
        rows.iloc[order].to_csv(path, index=False)
        summary = compute_large_inventory([path], "2023/24", threads=1).summary
        figures.append((summary["total_tco2e"], summary["by_scope"], summary["by_department"]))
    assert figures[0] == figures[1]
