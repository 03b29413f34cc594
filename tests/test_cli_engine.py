"""inventory --engine: auto picks the engine from the inputs; an option an engine cannot honour is
refused with exit 2 and one line, never ignored."""

import datetime as dt
import hashlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import HEADER, REPO, gas_row, write_rows, xlsx_bytes
from test_differential import same_supply_across_files
from sefton_carbon import choose_engine, compute_inventory
from sefton_carbon.accounting.inventory import LEDGER_COLUMNS, LEDGER_PARQUET_TYPES


@pytest.fixture
def returns(tmp_path):
    return write_rows(tmp_path / "returns.csv", [
        gas_row(10000), gas_row(20000, activity="electricity", department="Highways", site="Depot")])


@pytest.fixture
def parquet_folder(tmp_path, returns):
    """The same rows as a hive-partitioned Parquet folder."""
    folder = tmp_path / "parquet"
    pd.read_csv(returns, dtype=str).to_parquet(folder, partition_cols=["department"], index=False)
    return folder


def test_auto_chooses_duckdb_for_parquet_and_large_inputs(returns, parquet_folder, tmp_path, monkeypatch):
    from sefton_carbon.engines import pipeline

    assert choose_engine([returns]) == "pandas"
    monkeypatch.setattr(pipeline, "LARGE_INPUT_BYTES", returns.stat().st_size - 1)
    assert choose_engine([returns]) == "duckdb"
    monkeypatch.undo()
    assert choose_engine([parquet_folder]) == "duckdb"
    assert choose_engine([returns, parquet_folder / "department=Corporate"]) == "duckdb"
    assert choose_engine([parquet_folder], "pandas") == "pandas"
    (tmp_path / "empty").mkdir()
    assert choose_engine([tmp_path / "empty"]) == "pandas"


def test_inventory_of_parquet_by_default(returns, parquet_folder, run_cli):
    code, out, err = run_cli("inventory", parquet_folder, "--year", "2023/24", "--format", "json")
    assert code == 0, err
    summary = json.loads(out)
    assert summary["engine"] == "duckdb" and summary["rows"]["read"] == 2
    assert summary["total_tco2e"] == pytest.approx(compute_inventory(returns, "2023/24").total_tco2e, rel=1e-9)


@pytest.mark.parametrize("engine", ["duckdb", "auto"])
def test_an_output_folder_from_the_duckdb_engine_verifies(parquet_folder, returns, tmp_path, run_cli, engine):
    """-o DIR on the DuckDB engine: ledger, rejected rows, summary and a manifest that verify
    recomputes on the same engine, with the figures of the in-memory path."""
    path = parquet_folder if engine == "auto" else returns
    output = tmp_path / "out"
    code, out, err = run_cli("inventory", path, "--year", "2023/24", "--engine", engine, "-o", output,
                             "--format", "json")
    assert code == 0, err
    assert sorted(item.name for item in output.iterdir() if not item.name.startswith(".")) == [
        "files.csv", "ledger.csv", "manifest.json", "rejected.csv", "summary.json"]
    manifest = json.loads((output / "manifest.json").read_text())
    assert manifest["parameters"]["engine"] == "duckdb"
    expected = compute_inventory(returns, "2023/24")
    assert manifest["figures"]["total_tco2e"] == pytest.approx(expected.total_tco2e, rel=1e-9)
    assert manifest["figures"]["rows"] == expected.summary()["rows"]
    assert len(pd.read_csv(output / "ledger.csv")) == len(expected.ledger)
    code, out, err = run_cli("verify", output)
    assert code == 0 and out.startswith("verified:"), out + err
    (output / "summary.json").write_text("{}", encoding="utf-8")
    code, out, err = run_cli("verify", output)
    assert code == 3 and "summary.json: the published file was edited after it was written" in err


def across_files_and_after(folder):
    """The differential test's returns where the same-supply rule sets rows of the second and third
    files aside (`same_supply_across_files`), and a fourth file with a row that counts, whose
    ``input_row`` follows only the rows counted before it."""
    paths = same_supply_across_files(folder)
    return [*paths, write_rows(folder / "transport.csv", [gas_row(40, activity="diesel", unit="litres")])]


def test_an_output_folder_from_the_dask_engine_is_the_duckdb_engines(tmp_path, run_cli):
    """-o DIR on the Dask engine: the DuckDB engine's ledger.csv, rejected.csv, files.csv and
    summary.json (but for its ``engine``), and a manifest recording the Dask engine that verify
    recomputes on. The in-memory path writes the same ledger.csv and rejected.csv, and the same
    files.csv but for the last digits of t CO2e, summed per group on the large engines."""
    paths = across_files_and_after(tmp_path)
    folders = {engine: tmp_path / f"out-{engine}" for engine in ("pandas", "duckdb", "dask")}
    for engine, folder in folders.items():
        code, _, err = run_cli("inventory", *paths, "--year", "2023/24", "--engine", engine, "-o", folder)
        assert code == 3, err  # rows set aside by the same-supply rule are rejected
        assert sorted(item.name for item in folder.iterdir()) == [
            ".lock", "files.csv", "ledger.csv", "manifest.json", "rejected.csv", "summary.json"]  # no ledger parts left
    for name in ("ledger.csv", "rejected.csv", "files.csv"):
        assert (folders["dask"] / name).read_bytes() == (folders["duckdb"] / name).read_bytes(), name
    for name in ("ledger.csv", "rejected.csv"):
        assert (folders["pandas"] / name).read_bytes() == (folders["duckdb"] / name).read_bytes(), name
    files = {engine: pd.read_csv(folders[engine] / "files.csv") for engine in ("pandas", "duckdb")}
    pd.testing.assert_frame_equal(files["duckdb"], files["pandas"], check_exact=False, rtol=1e-12)
    assert files["pandas"]["sha256"].str.len().eq(64).all() and files["pandas"]["rows_read"].tolist() == [3, 4, 1, 1]
    summaries = {engine: json.loads((folder / "summary.json").read_text()) for engine, folder in folders.items()}
    for engine in folders:
        assert summaries[engine].pop("engine") == engine
    assert summaries["dask"] == summaries["duckdb"]
    assert len(summaries["pandas"]["files"]) == len(summaries["duckdb"]["files"]) == 4
    assert summaries["dask"]["rows"] == {"read": 9, "accounted": 5, "rejected": 4, "outside_boundary": 0}
    manifest = json.loads((folders["dask"] / "manifest.json").read_text())
    assert manifest["parameters"]["engine"] == "dask"
    assert pd.read_csv(folders["dask"] / "ledger.csv")["input_row"].unique().tolist() == [1, 2, 3, 4, 5]
    code, out, err = run_cli("verify", folders["dask"])
    assert code == 0 and out.startswith("verified:"), out + err
    ledger = folders["dask"] / "ledger.csv"
    ledger.write_text(ledger.read_text().replace("Corporate", "Highways", 1), encoding="utf-8")
    code, out, err = run_cli("verify", folders["dask"])
    assert code == 3 and "ledger.csv: the published file was edited after it was written" in err


def test_every_engines_ledger_and_rejected_rows_are_the_in_memory_ones_byte_for_byte(tmp_path, run_cli):
    """Sites, contracts and spend on the DuckDB and Dask engines: the ledger (every column of every
    line: location- and market-based t CO2e, boundary and its reason) and the rejected rows are the
    same bytes as the in-memory path's, on the example council, on the messy returns (several
    files and sheets, each numbered on from the one before) and where the same-supply rule sets
    rows of later files aside."""
    council = REPO / "examples" / "example-council"
    messy = REPO / "examples" / "messy-returns"
    (tmp_path / "across").mkdir()
    runs = {"council": ([council / "returns" / "2024-25"], "2024/25",  # a title line above each header
                        ["--sites", council / "sites.csv", "--contracts", council / "contracts.csv",
                         "--spend-factors", council / "spend-factors.csv"]),
            "messy": ([messy / "2023-24"], "2023/24", ["--sites", messy / "sites.csv"]),  # Excel, Windows-1252
            "across": (across_files_and_after(tmp_path / "across"), "2023/24", [])}
    for name, (paths, year, registers) in runs.items():
        written = {}
        for engine in ("pandas", "duckdb", "dask"):
            written[engine] = (tmp_path / f"{name}-{engine}-ledger.csv", tmp_path / f"{name}-{engine}-rejected.csv")
            code, _, err = run_cli("inventory", *paths, "--year", year, "--engine", engine, *registers,
                                   "--ledger", written[engine][0], "--rejected", written[engine][1])
            assert code in (0, 3), err
        for engine in ("duckdb", "dask"):
            for memory, large in zip(written["pandas"], written[engine]):
                assert large.read_bytes() == memory.read_bytes(), (name, large.name)
        ledger = pd.read_csv(written["dask"][0], keep_default_na=False)
        assert list(ledger.columns) == LEDGER_COLUMNS and len(ledger) > 8
        if name == "messy":
            assert (ledger["source_sheet"] != "").any()  # the messy returns' workbook
            assert ledger["source_file"].nunique() > 2
    council_ledger = pd.read_csv(tmp_path / "council-dask-ledger.csv", keep_default_na=False)
    assert council_ledger["outside_reason"].str.contains("operational control").any()
    assert (council_ledger["tco2e_market"] != council_ledger["tco2e"]).sum() > 10
    # highways.csv rows 2, 3 and 5 and schools.csv row 2 are set aside; the rows counted are numbered on.
    corporate, highways, _, transport = (str(path) for path in runs["across"][0])
    across = pd.read_csv(tmp_path / "across-dask-ledger.csv", keep_default_na=False).drop_duplicates("input_row")
    assert across[["source_file", "source_row", "input_row"]].values.tolist() == [
        [corporate, 2, 1], [corporate, 3, 2], [corporate, 4, 3], [highways, 4, 4], [transport, 2, 5]]


def test_a_rejected_quantity_reads_the_same_on_every_engine_whatever_the_file(tmp_path, run_cli):
    """A negative quantity typed as an Excel number, written in a CSV file and stored as a Parquet
    number: each rejected row gives the value as the number it reads as (-4695), on every engine."""
    rows = [gas_row(-4695.0), gas_row(-12.5, start="2023-05-01", end="2023-05-31")]
    (tmp_path / "returns.xlsx").write_bytes(xlsx_bytes({"Entry": [HEADER, *rows]}))
    write_rows(tmp_path / "returns.csv", [gas_row("-4695.0"), gas_row("-12.50", start="2023-05-01", end="2023-05-31")])
    pd.read_csv(tmp_path / "returns.csv", keep_default_na=False).to_parquet(tmp_path / "returns.parquet", index=False)
    for name in ("returns.xlsx", "returns.csv", "returns.parquet"):
        for engine in ("pandas", "duckdb", "dask"):
            rejected = tmp_path / f"{name}-{engine}-rejected.csv"
            code, _, err = run_cli("inventory", tmp_path / name, "--year", "2023/24", "--engine", engine,
                                   "--rejected", rejected)
            assert code == 3, err
            assert pd.read_csv(rejected, dtype=str)["value"].tolist() == ["'-4695", "'-12.5"], (name, engine)
    # a quantity that reads as no number is given as written; a whole number past 2^53 as its double
    write_rows(tmp_path / "words.csv", [gas_row("twelve"), gas_row("(5)", start="2023-05-01", end="2023-05-31")])
    pd.DataFrame({**dict(zip(HEADER, map(str, gas_row()))), "quantity": [-(2**53) - 1]}).to_parquet(
        tmp_path / "huge.parquet", index=False)
    for name, values in (("words.csv", ["twelve", "(5)"]), ("huge.parquet", ["'-9007199254740992.0"])):
        for engine in ("pandas", "duckdb", "dask"):
            rejected = tmp_path / f"{name}-{engine}-rejected.csv"
            code, _, err = run_cli("inventory", tmp_path / name, "--year", "2023/24", "--engine", engine,
                                   "--rejected", rejected)
            assert code == 3, err
            assert pd.read_csv(rejected, dtype=str)["value"].tolist() == values, (name, engine)


def test_a_parquet_ledger_is_the_same_table_on_every_engine(tmp_path, run_cli):
    """--ledger FILE.parquet: the same columns, types, values and optional columns (none required)
    from every engine, on rows the same-supply rule sets aside, on the example council with its
    registers, from one file (Dask joins no parts), and with no line at all (the only input refused
    as a whole): one schema for all."""
    council = REPO / "examples" / "example-council"
    (tmp_path / "across").mkdir()
    (tmp_path / "no-header.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    runs = {"across": ([*across_files_and_after(tmp_path / "across")], "2023/24", []),
            "refused": ([tmp_path / "no-header.csv"], "2023/24", []),
            "one file": ([write_rows(tmp_path / "one.csv", [gas_row()])], "2023/24", []),
            "council": ([council / "returns" / "2024-25"], "2024/25",
                        ["--sites", council / "sites.csv", "--contracts", council / "contracts.csv",
                         "--spend-factors", council / "spend-factors.csv"])}
    for name, (paths, year, registers) in runs.items():
        ledgers = {engine: tmp_path / f"{name}-{engine}.parquet" for engine in ("pandas", "duckdb", "dask")}
        for engine, ledger in ledgers.items():
            code, _, err = run_cli("inventory", *paths, "--year", year, "--engine", engine, *registers,
                                   "--ledger", ledger)
            assert code in (0, 3), err
        read = {engine: pd.read_parquet(ledger) for engine, ledger in ledgers.items()}
        for engine in ("duckdb", "dask"):
            pd.testing.assert_frame_equal(read[engine], read["pandas"], check_exact=True)
        schemas = {engine: [(field.name, field.type, field.nullable) for field in pq.read_schema(ledger)]
                   for engine, ledger in ledgers.items()}
        assert schemas["pandas"] == schemas["duckdb"] == schemas["dask"]
        declared = [(name, pa.type_for_alias(kind), True) for name, kind in LEDGER_PARQUET_TYPES.items()]
        assert schemas["pandas"] == declared
    assert pd.read_parquet(tmp_path / "refused-pandas.parquet").empty
    assert read["pandas"]["market_kgco2e_per_kwh"].notna().any() and len(read["pandas"]) > 1000
    assert pd.read_parquet(tmp_path / "across-pandas.parquet")["input_row"].unique().tolist() == [1, 2, 3, 4, 5]
    for engine in ("pandas", "duckdb", "dask"):  # with -o DIR the ledger is the folder's CSV file
        code, _, err = run_cli("inventory", *runs["across"][0], "--year", "2023/24", "--engine", engine,
                               "-o", tmp_path / f"out-{engine}", "--ledger", tmp_path / "copy.parquet")
        assert code == 2 and "with --output the ledger is written as CSV into the folder" in err


def test_every_engine_prints_the_same_table_and_csv(run_cli):
    """--format table and --format csv: the same text from every engine (by scope, Scope 3
    category, gas, department and activity, rows outside the boundary, and the notes)."""
    council = REPO / "examples" / "example-council"
    printed = {}
    for engine in ("pandas", "duckdb", "dask"):
        for output_format in ("table", "csv"):
            code, out, err = run_cli("inventory", council / "returns" / "2024-25", "--year", "2024/25",
                                     "--engine", engine, "--sites", council / "sites.csv",
                                     "--contracts", council / "contracts.csv", "--format", output_format)
            assert code in (0, 3), err
            printed[engine, output_format] = out
    for output_format in ("table", "csv"):
        assert printed["duckdb", output_format] == printed["dask", output_format] == printed["pandas", output_format]
    table = printed["pandas", "table"]
    assert "By department" in table and "cat 3 Fuel- and energy-related activities" in table
    assert "of the accounted rows lie outside the boundary" in table and "Note: " in table


def test_duckdb_writes_the_ledger_and_rejected_rows_it_is_asked_for(tmp_path, run_cli):
    path = write_rows(tmp_path / "a.csv", [gas_row(), gas_row(quantity="-5", start="2023-05-01", end="2023-05-31")])
    code, out, err = run_cli("inventory", path, "--year", "2023/24", "--engine", "duckdb", "--ledger",
                             tmp_path / "ledger.csv", "--rejected", tmp_path / "rejected.csv", "--format", "csv")
    assert code == 3, err
    assert f"1 input row(s) or file(s) rejected\nevery rejected row is listed in {tmp_path / 'rejected.csv'}" in err
    assert pd.read_csv(tmp_path / "rejected.csv")["source_row"].tolist() == [3]
    assert len(pd.read_csv(tmp_path / "ledger.csv")) == 2  # gas and its well-to-tank line
    figures = pd.read_csv(io.StringIO(out)).set_index(["group", "name"])["tco2e"]
    assert figures[("total", "total")] == pytest.approx(
        compute_inventory(path, "2023/24").total_tco2e, rel=1e-9)


def test_unknown_engine_is_a_usage_error(returns, run_cli):
    code, _, err = run_cli("inventory", returns, "--year", "2023/24", "--engine", "spark")
    assert code == 2 and "--engine is pandas, duckdb or dask (or auto, the default), not 'spark'" in err


def test_every_engine_reads_a_parquet_file_as_the_csv_it_came_from(returns, tmp_path):
    """A Parquet file, with the quantity as numbers, read in memory and by DuckDB: the rows, rejected
    rows and figures of the CSV file with the same cells."""
    from sefton_carbon.engines.large import compute_large_inventory

    cells = pd.read_csv(returns, dtype=str, keep_default_na=False)
    cells = pd.concat([cells, cells.assign(quantity="-3", period_start="2023-06-01", period_end="2023-06-30")])
    csv = tmp_path / "cells.csv"
    cells.to_csv(csv, index=False)
    parquet = tmp_path / "cells.parquet"
    cells.assign(quantity=cells["quantity"].astype(float)).to_parquet(parquet, index=False)
    expected = compute_inventory(csv, "2023/24")
    for summary in (compute_inventory(parquet, "2023/24").summary(),
                    compute_large_inventory([parquet], "2023/24").summary):
        assert summary["rows"] == expected.summary()["rows"] == {
            "read": 4, "accounted": 2, "rejected": 2, "outside_boundary": 0}
        assert summary["total_tco2e"] == pytest.approx(expected.total_tco2e, rel=1e-12)
    reasons = compute_inventory(parquet, "2023/24").rejected["reason"]
    assert reasons.str.startswith("quantity -3 is negative").all()


@pytest.mark.parametrize("engine", ["auto", "pandas", "duckdb", "dask"])
def test_every_engine_reads_every_file_of_a_folder_mixing_csv_and_parquet(tmp_path, run_cli, engine):
    """A folder holding a CSV file and a Parquet file: both are read, whatever the engine (one
    engine read only the CSV file and the others only the Parquet file, exiting 0)."""
    folder = tmp_path / "returns"
    folder.mkdir()
    write_rows(folder / "a.csv", [gas_row(1000, department="Housing")])
    cells = pd.read_csv(write_rows(tmp_path / "b.csv", [gas_row(2000, department="Leisure")]), dtype=str,
                        keep_default_na=False)
    cells.to_parquet(folder / "b.parquet", index=False)
    code, out, err = run_cli("inventory", folder, "--year", "2023/24", "--format", "json", "--engine", engine)
    assert code == 0, err
    summary = json.loads(out)
    assert summary["rows"] == {"read": 2, "accounted": 2, "rejected": 0, "outside_boundary": 0}
    expected = compute_inventory([folder / "a.csv", tmp_path / "b.csv"], "2023/24")
    assert summary["by_department"] == pytest.approx(expected.summary()["by_department"], rel=1e-9)
    assert set(summary["by_department"]) == {"Housing", "Leisure"}


@pytest.mark.parametrize("engine", ["pandas", "duckdb", "dask"])
def test_every_engine_reads_hive_partitions_and_parquet_headers_alike(returns, parquet_folder, tmp_path, run_cli,
                                                                      engine):
    """A folder partitioned by department (the column only in the folder names), and two Parquet
    files whose headers are spelt differently, read by every engine as the CSV file they came from;
    a file whose folder names a partition for a column it holds is refused, naming both."""
    expected = compute_inventory(returns, "2023/24").summary()
    code, out, err = run_cli("inventory", parquet_folder, "--year", "2023/24", "--format", "json", "--engine", engine)
    assert code == 0, err
    assert json.loads(out)["by_department"] == pytest.approx(expected["by_department"], rel=1e-9)
    cells = pd.read_csv(returns, dtype=str, keep_default_na=False)
    cells.iloc[:1].to_parquet(tmp_path / "a.parquet", index=False)
    cells.iloc[1:].rename(columns={"period_start": "Period Start", "unit": "UOM"}).to_parquet(
        tmp_path / "b.parquet", index=False)
    code, out, err = run_cli("inventory", tmp_path / "a.parquet", tmp_path / "b.parquet", "--year", "2023/24",
                             "--format", "json", "--engine", engine)
    assert code == 0, err
    assert json.loads(out)["total_tco2e"] == pytest.approx(expected["total_tco2e"], rel=1e-9)
    both = tmp_path / "site=Old Depot"
    both.mkdir()
    cells.to_parquet(both / "part-0.parquet", index=False)
    code, out, err = run_cli("inventory", both / "part-0.parquet", tmp_path / "a.parquet", "--year", "2023/24",
                             "--format", "json", "--engine", engine)
    assert code == 3 and json.loads(out)["rows"]["read"] == 1
    assert (f"{both / 'part-0.parquet'}, column 'site': its folder name 'site=Old Depot' gives column site, "
            "which the file also holds: keep one") in err


def test_every_engine_reads_awkward_parquet_folders_alike(returns, tmp_path, run_cli):
    """Hive partitions percent-escaped, holding '=', or Hive's default (no value); a file whose own
    column another file takes from its folder name; a column typed null (pandas' all-empty column):
    every engine gives the same ledger, rejected rows and rows."""
    cells = pd.read_csv(returns, dtype=str, keep_default_na=False).iloc[:1]
    folder = tmp_path / "returns"
    for partition in ("site=Old%20Depot", "site=__HIVE_DEFAULT_PARTITION__", "site=a=b"):
        (folder / partition).mkdir(parents=True)
        cells.drop(columns="site").to_parquet(folder / partition / "part-0.parquet", index=False)
    (folder / "meter=M9").mkdir()
    cells.to_parquet(folder / "meter=M9" / "part-0.parquet", index=False)
    cells.assign(meter="M1", notes=None, quantity="-3").to_parquet(folder / "a.parquet", index=False)
    assert str(pq.read_schema(folder / "a.parquet").field("notes").type) == "null"
    written = {}
    for engine in ("pandas", "duckdb", "dask"):
        written[engine] = tmp_path / f"{engine}-ledger.csv", tmp_path / f"{engine}-rejected.csv"
        code, out, err = run_cli("inventory", folder, "--year", "2023/24", "--format", "json", "--engine", engine,
                                 "--ledger", written[engine][0], "--rejected", written[engine][1])
        assert code == 3 and json.loads(out)["rows"] == {"read": 5, "accounted": 4, "rejected": 1,
                                                          "outside_boundary": 0}, err
        for memory, large in zip(written["pandas"], written[engine]):
            assert large.read_bytes() == memory.read_bytes(), (engine, large.name)
    ledger = pd.read_csv(written["pandas"][0], keep_default_na=False)
    assert set(ledger["site"]) == {"Old Depot", "", "a=b", cells["site"].iloc[0]}


def test_duckdb_numbers_rows_file_by_file_and_reads_each_file_once(tmp_path, monkeypatch):
    """Rows of several files keep their own row numbers (a copy across files names the right
    row), a file named twice is read once, and a ragged file named by its absolute path inside
    the working folder is read by the library's reader, as on the in-memory path."""
    from sefton_carbon.engines.large import compute_large_inventory
    from sefton_carbon.io.files import write_csv

    rows = [gas_row(1000 + day, start=f"2023-04-{day:02d}", end=f"2023-04-{day:02d}", site=f"Site {day % 3}")
            for day in range(1, 29)]
    first = write_rows(tmp_path / "first.csv", rows[:20])
    second = write_rows(tmp_path / "second.csv", rows[20:] + [rows[17]])  # a copy of first.csv row 19
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("department,site,activity,quantity,unit,period_start,period_end\n"
                      "Corporate,Depot,diesel,5,litres,2023-04-01,2023-04-30\n"
                      "Corporate,Depot,diesel,5,litres,2023-05-01,2023-05-31,stray\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)  # absolute paths inside the working folder, named relative to it
    paths = [first, second, tmp_path, ragged.resolve()]
    expected = compute_inventory(paths, "2023/24")
    result = compute_large_inventory(paths, "2023/24", rejected=tmp_path / "rejected.out")
    assert result.summary["rows"] == expected.summary()["rows"] == {
        "read": 31, "accounted": 29, "rejected": 2, "outside_boundary": 0}
    write_csv(expected.rejected, tmp_path / "expected.out")
    assert (tmp_path / "rejected.out").read_bytes() == (tmp_path / "expected.out").read_bytes()
    assert "duplicate of first.csv row 19: counted once" in (tmp_path / "rejected.out").read_text()


def test_dask_names_a_file_given_twice_as_first_given(tmp_path, monkeypatch):
    """A file named twice, once relative to a working folder outside it and once by its absolute
    path, is read once and named as first given, by the Dask engine as by the DuckDB engine."""
    import dask

    from sefton_carbon.engines.cluster import compute_dask_inventory
    from sefton_carbon.engines.large import compute_large_inventory

    first = write_rows(tmp_path / "first.csv", [gas_row(), gas_row(quantity="-5")])
    second = write_rows(tmp_path / "second.csv", [gas_row(300, activity="diesel", unit="litres")])
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    paths = ["../first.csv", second, first]
    written = {engine: (tmp_path / f"ledger-{engine}.csv", tmp_path / f"rejected-{engine}.csv")
               for engine in ("duckdb", "dask")}
    compute_large_inventory(paths, "2023/24", ledger=written["duckdb"][0], rejected=written["duckdb"][1])
    with dask.config.set(scheduler="synchronous"):
        compute_dask_inventory(paths, "2023/24", ledger=written["dask"][0], rejected=written["dask"][1])
    for duckdb, dask_file in zip(written["duckdb"], written["dask"]):
        assert dask_file.read_bytes() == duckdb.read_bytes(), dask_file.name
    ledger = pd.read_csv(written["dask"][0]).drop_duplicates("input_row")
    assert ledger[["source_file", "input_row"]].values.tolist() == [["../first.csv", 1], [str(second), 2]]
    assert pd.read_csv(written["dask"][1])["source_file"].tolist() == ["../first.csv"]


@pytest.mark.parametrize("engine", ["duckdb", "dask"])
def test_a_parquet_file_named_twice_is_read_once(tmp_path, engine):
    """A Parquet file named twice, and again inside a folder also named, is read once, as the
    in-memory path reads it (it was read three times and the run failed on the copies)."""
    from sefton_carbon.engines.pipeline import compute_inventory_on_engine

    if engine == "dask":
        pytest.importorskip("dask")
    returns = write_rows(tmp_path / "returns.csv", [gas_row(1000 + day, start=f"2023-04-{day:02d}",
                                                            end=f"2023-04-{day:02d}") for day in range(1, 11)])
    folder = tmp_path / "parquet"
    folder.mkdir()
    parquet = folder / "bills.parquet"
    pd.read_csv(returns, dtype=str).to_parquet(parquet, index=False)
    expected = compute_inventory([parquet], "2023/24")
    result = compute_inventory_on_engine([parquet, parquet, folder], "2023/24", engine=engine)
    assert result.summary["rows"] == expected.summary()["rows"] == {
        "read": 10, "accounted": 10, "rejected": 0, "outside_boundary": 0}
    assert result.summary["total_tco2e"] == pytest.approx(expected.total_tco2e, rel=1e-12)


@pytest.mark.parametrize("engine", ["duckdb", "dask"])
def test_a_file_refused_as_a_whole_on_a_large_engine_is_named_with_why(tmp_path, run_cli, engine):
    """The only input lacks a required column: the summary of no rows, and one line naming the
    file, its header row and what it lacks, exit 3, as the in-memory path gives them (not an error
    in the engine's own SQL, nor every required column said missing)."""
    path = tmp_path / "no-unit.csv"
    path.write_text("department,site,activity,quantity,period_start,period_end\n"
                    "Corporate,Town Hall,electricity,5,2023-04-01,2023-04-30\n", encoding="utf-8")
    code, out, err = run_cli("inventory", path, "--year", "2023/24", "--engine", engine, "--format", "json")
    assert code == 3
    assert err.splitlines() == [
        "1 input row(s) or file(s) rejected",
        f"  {path}, row 1: the header row lacks unit (expected columns department, site, activity, quantity, unit, "
        "period_start, period_end; optional: meter, data_quality, notes)"]
    in_memory = run_cli("inventory", path, "--year", "2023/24", "--format", "json")
    assert in_memory[0] == 3 and in_memory[2] == err
    summary, expected = json.loads(out), json.loads(in_memory[1])
    assert summary["engine"] == engine and expected["engine"] == "pandas"
    assert summary["rows"] == expected["rows"] == {"read": 0, "accounted": 0, "rejected": 0, "outside_boundary": 0}
    assert summary["files"] == expected["files"] and expected["files"][0]["unreadable"]
    assert expected["files"][0]["sha256"] == hashlib.sha256(Path(path).read_bytes()).hexdigest()
    assert summary["refused_whole"] == expected["refused_whole"] and len(summary["refused_whole"]) == 1


@pytest.mark.parametrize("engine", ["duckdb", "dask"])
def test_a_file_refused_as_a_whole_beside_others_is_named_and_exits_3(tmp_path, run_cli, engine):
    """One file lacks a column, the other is read: the figures of the one read, the other named
    with why on stderr and in the summary's ``refused_whole``, exit 3 (data problems found)."""
    refused = tmp_path / "no-unit.csv"
    refused.write_text("department,site,activity,quantity,period_start,period_end\n"
                       "Corporate,Town Hall,electricity,5,2023-04-01,2023-04-30\n", encoding="utf-8")
    read = write_rows(tmp_path / "returns.csv", [gas_row(10000)])
    code, out, err = run_cli("inventory", refused, read, "--year", "2023/24", "--engine", engine, "--format", "json")
    summary = json.loads(out)
    assert code == 3 and summary["rows"] == {"read": 1, "accounted": 1, "rejected": 0, "outside_boundary": 0}
    assert summary["refused_whole"] == [{"source_file": str(refused), "source_sheet": "", "source_row": 1,
                                         "column": "", "reason": summary["refused_whole"][0]["reason"]}]
    assert summary["refused_whole"][0]["reason"].startswith("the header row lacks unit")
    assert f"1 input row(s) or file(s) rejected\n  {refused}, row 1: the header row lacks unit" in err


def test_every_engine_prints_the_same_summary_and_lists_the_same_rejected_rows(run_cli):
    """The messy returns (a workbook, title rows, bad cells, an overlap, a copy across files and a
    file refused as a whole) on every engine: the same stderr, line for line (the large engines
    read the input again to list the rejected rows when no --rejected file is given), and the same
    JSON but for ``engine``, the digests the large engines take only for -o DIR, and the last
    digits of each file's t CO2e."""
    pytest.importorskip("dask")
    runs = {engine: run_cli("inventory", REPO / "examples" / "messy-returns", "--year", "2024/25", "--engine", engine,
                            "--format", "json") for engine in ("pandas", "duckdb", "dask")}
    assert {engine: code for engine, (code, _, _) in runs.items()} == {"pandas": 3, "duckdb": 3, "dask": 3}
    err = runs["pandas"][2]
    assert err.startswith("21 input row(s) or file(s) rejected\n") and len(err.splitlines()) == 22
    summaries = {engine: json.loads(out) for engine, (_, out, _) in runs.items()}
    expected = summaries.pop("pandas")
    assert expected.pop("engine") == "pandas" and len(expected["refused_whole"]) == 1
    for engine, summary in summaries.items():
        assert runs[engine][2] == err, engine
        assert summary.pop("engine") == engine
        for entry, wanted in zip(summary["files"], expected["files"], strict=True):
            assert entry["sha256"] == wanted["sha256"] and len(wanted["sha256"]) == 64
            assert entry["tco2e"] == pytest.approx(wanted["tco2e"], rel=1e-12)
        assert {**summary, "files": None} == {**expected, "files": None}


def _found_cases(folder):
    """The inputs of `test_what_a_hostile_test_found_is_the_same_on_every_engine`, by name."""
    folder.mkdir()
    blank = folder / "blank.csv"
    blank.write_text(",".join(HEADER) + "\n" + ",,,,,,,,\n" * 2, encoding="utf-8")
    blank_parquet = folder / "blank.parquet"
    pd.DataFrame({column: [None, None] for column in HEADER}, dtype=object).to_parquet(blank_parquet, index=False)
    blank_book = folder / "blank.xlsx"  # a sheet refused as a whole, and one of blank rows
    blank_book.write_bytes(xlsx_bytes({"Gas": [[column for column in HEADER if column != "unit"], gas_row()],
                                       "Power": [HEADER, [" "] + [None] * 8, [" "] + [None] * 8]}))
    old_mac = folder / "old-mac.csv"
    old_mac.write_bytes(b"\r".join(",".join(map(str, row)).encode() for row in [HEADER, gas_row(), gas_row(
        20, start="2023-05-01", end="2023-05-31")]) + b"\r")
    tie = write_rows(folder / "tie.csv", [gas_row(department="Education", site="School"),
                                          gas_row(department="Communities", site="Library")])
    formula = write_rows(folder / "=sum.csv", [gas_row(quantity="abc")])
    return {"every row blank": [blank, blank_parquet, blank_book, tie], "old Mac line ends": [old_mac],
            "equal totals": [tie], "a file named like a formula": [formula, tie]}


@pytest.mark.parametrize("case", ["every row blank", "old Mac line ends", "equal totals",
                                  "a file named like a formula"])
def test_what_a_hostile_test_found_is_the_same_on_every_engine(tmp_path, run_cli, case):
    """Files whose rows are all blank, refused as a whole (not counted as blank rows); a CSV file
    whose lines end in a carriage return alone, read (not an internal error); departments with
    equal totals, listed by name; a file named like a formula, named as it is on stderr (not as
    its defused cell in rejected.csv). Every engine: the same exit code, stderr and JSON (the
    files' digests included) but for ``engine``."""
    pytest.importorskip("dask")
    paths = _found_cases(tmp_path / "inputs")[case]
    runs = {engine: run_cli("inventory", *paths, "--year", "2023/24", "--engine", engine, "--format", "json")
            for engine in ("pandas", "duckdb", "dask")}
    code, out, err = runs.pop("pandas")
    expected = {**json.loads(out), "engine": None}
    for engine, (engine_code, engine_out, engine_err) in runs.items():
        assert (engine_code, engine_err) == (code, err), engine
        assert {**json.loads(engine_out), "engine": None} == expected, engine
    if case == "every row blank":
        assert code == 3 and [(entry["rows_read"], entry["blank_rows"], entry["unreadable"])
                              for entry in expected["files"]] == [(0, 0, True)] * 3 + [(2, 0, False)]
        assert err.count("has a header row but no data rows") == 3 and "lacks unit" not in err
    elif case == "old Mac line ends":
        assert code == 0 and expected["rows"]["accounted"] == 2
    elif case == "equal totals":
        assert list(expected["by_department"]) == ["Communities", "Education"]
    else:
        assert f"\n  {paths[0]}, row 2, column 'quantity'" in err


def _parquet_return(path, columns: dict, rows: int = 2) -> Path:
    """A Parquet return of ``rows`` gas rows from April 2023 at the Town Hall. ``columns``: name ->
    values (an Arrow array keeps its type), each replacing the usual column of its name (None
    leaves it out) or added after them (``site#2``: a second column named site)."""
    usual = {"department": ["Corporate"] * rows, "site": ["Town Hall"] * rows, "activity": ["natural_gas"] * rows,
             "quantity": [100.0 * (number + 1) for number in range(rows)], "unit": ["kWh"] * rows,
             "period_start": [f"2023-{4 + number:02d}-01" for number in range(rows)],
             "period_end": [f"2023-{4 + number:02d}-28" for number in range(rows)]}
    given = {name: values for name, values in {**usual, **columns}.items() if values is not None}
    pq.write_table(pa.Table.from_arrays(
        [values if isinstance(values, pa.Array) else pa.array(values) for values in given.values()],
        names=[name.split("#")[0] for name in given]), path)
    return path


def _fourth_cases(folder):
    """The inputs of `test_what_a_fourth_hostile_test_found_is_the_same_on_every_engine`, by name."""
    folder.mkdir()
    good = write_rows(folder / "good.csv", [gas_row(department="Highways", site="Depot")])
    no_site = _parquet_return(folder / "no-site.parquet", {"site": None})
    no_unit = _parquet_return(folder / "no-unit.parquet", {"unit": None})
    twice = _parquet_return(folder / "two-departments.parquet", {"Department": ["Housing", "Housing"]})
    site_twice = _parquet_return(folder / "site-twice.parquet", {"site#2": ["Depot", "Depot"]})
    duckdb_names = _parquet_return(folder / "duckdb-names.parquet", {"filename": ["a", "b"],
                                                                      "file_row_number": ["c", "d"]})
    own_names = _parquet_return(folder / "own-names.parquet", {
        "source_file": ["x0", "x1"], "source_row": ["x2", "x3"], "source_sheet": ["x4", "x5"],
        "quantity": [100.0, -2.0]})
    own_names_csv = write_rows(folder / "own-names.csv", [[*gas_row(quantity=-2), "x1", "x2"]],
                               header=[*HEADER, "source_file", "source_row"])
    days = pa.array([dt.date(2023, 4, 1), dt.date(2023, 5, 1)], pa.date32())
    as_dates = _parquet_return(folder / "dates.parquet", {"period_start": days, "period_end": days})
    stamps = pa.array([dt.datetime(2023, 6, 1), dt.datetime(2023, 7, 1, 13, 45)], pa.timestamp("us", tz="UTC"))
    as_timestamps = _parquet_return(folder / "timestamps.parquet", {"department": ["Housing", "Housing"],
                                                                    "period_start": stamps, "period_end": stamps})
    not_a_number = _parquet_return(folder / "nan.parquet", {"quantity": pa.array([float("nan"), 100.0])})
    (folder / "filename=x").mkdir()
    partition = _parquet_return(folder / "filename=x" / "part-0.parquet", {})
    return {"a Parquet file lacking a column, beside others": [good, no_site, no_unit],
            "a NaN among a Parquet column's numbers": [not_a_number],
            "a hive partition named as DuckDB names its own": [partition],
            "a Parquet file lacking a column, alone": [no_unit],
            "two columns that mean one": [good, twice], "two columns of one name": [site_twice, good],
            "columns named as DuckDB names its own": [duckdb_names],
            "columns named as the engines name their own": [own_names, own_names_csv],
            "dates typed otherwise in another file": [as_dates, as_timestamps]}


@pytest.mark.parametrize("case", ["a Parquet file lacking a column, beside others",
                                  "a NaN among a Parquet column's numbers",
                                  "a hive partition named as DuckDB names its own",
                                  "a Parquet file lacking a column, alone", "two columns that mean one",
                                  "two columns of one name", "columns named as DuckDB names its own",
                                  "columns named as the engines name their own",
                                  "dates typed otherwise in another file"])
def test_what_a_fourth_hostile_test_found_is_the_same_on_every_engine(tmp_path, run_cli, case):
    """Parquet files whose header is not one the reader accepts (a required column lacking, two
    columns meaning one, a name given twice) refused as a whole by every engine, as in memory (the
    large engines read the missing column as empty, or stopped the run); extra columns named as
    DuckDB's own (``filename``, ``file_row_number``: a binder error) or the engines' own
    (``source_file``...: they named rows after them, and wrote an empty ledger) left unread; and
    each file's cells read as its own types (DuckDB turned one file's timestamps into dates when
    another had dates), a NaN among numbers included. Every engine: the same exit code, stderr and JSON but for ``engine``, and
    with -o the same ledger and rejected rows."""
    pytest.importorskip("dask")
    paths = _fourth_cases(tmp_path / "inputs")[case]
    runs = {}
    for engine in ("pandas", "duckdb", "dask"):
        engine_code, engine_out, engine_err = run_cli("inventory", *paths, "--year", "2023/24", "--engine", engine,
                                                      "--format", "json", "-o", tmp_path / engine)
        runs[engine] = engine_code, engine_out, engine_err.replace(str(tmp_path / engine), "DIR")
    code, out, err = runs.pop("pandas")
    expected = {**json.loads(out), "engine": None}
    for engine, (engine_code, engine_out, engine_err) in runs.items():
        assert (engine_code, engine_err) == (code, err), engine
        assert {**json.loads(engine_out), "engine": None} == expected, engine
        for name in ("ledger.csv", "rejected.csv"):
            assert (tmp_path / engine / name).read_bytes() == (tmp_path / "pandas" / name).read_bytes(), (engine, name)
    refused = {entry["source_file"].rsplit("/", 1)[-1]: entry["reason"] for entry in expected["refused_whole"]}
    rows = expected["rows"]
    if case == "a Parquet file lacking a column, beside others":
        assert code == 3 and rows["accounted"] == 1 and sorted(refused) == ["no-site.parquet", "no-unit.parquet"]
        assert refused["no-site.parquet"].startswith("the header row lacks site")
    elif case == "a NaN among a Parquet column's numbers":  # DuckDB took the footer's statistics to mean no NaN
        assert code == 3 and rows == {"read": 2, "accounted": 1, "rejected": 1, "outside_boundary": 0}
        assert f"{paths[0]}, row 2, column 'quantity': quantity is NaN" in err
    elif case == "a hive partition named as DuckDB names its own":
        assert code == 0 and rows == {"read": 2, "accounted": 2, "rejected": 0, "outside_boundary": 0}
    elif case == "a Parquet file lacking a column, alone":
        assert code == 3 and rows["read"] == 0 and refused["no-unit.parquet"].startswith("the header row lacks unit")
    elif case == "two columns that mean one":
        assert code == 3 and rows["accounted"] == 1
        assert refused == {"two-departments.parquet": "columns 'department', 'Department' all mean 'department': "
                                                      "keep one"}
    elif case == "two columns of one name":
        assert code == 3 and refused == {"site-twice.parquet": "columns 'site', 'site' all mean 'site': keep one"}
    elif case == "columns named as DuckDB names its own":
        assert code == 0 and rows == {"read": 2, "accounted": 2, "rejected": 0, "outside_boundary": 0}
    elif case == "columns named as the engines name their own":
        assert code == 3 and rows == {"read": 3, "accounted": 1, "rejected": 2, "outside_boundary": 0}
        assert "x1" not in err and "x3" not in err and f"{paths[0]}, row 3, column 'quantity'" in err
        ledger = pd.read_csv(tmp_path / "pandas" / "ledger.csv")
        assert len(ledger) == 2 and set(ledger["source_file"]) == {str(paths[0])}  # direct and well-to-tank
    else:  # a midnight in UTC is its day; a time of day is not
        assert code == 3 and rows == {"read": 4, "accounted": 3, "rejected": 1, "outside_boundary": 0}
        assert f"{paths[1]}, row 3, column 'period_start': period_start '2023-07-01 13:45:00+00' holds a time" in err


@pytest.mark.parametrize("engine", ["pandas", "duckdb"])
def test_timestamps_with_a_time_zone_read_alike_on_any_machine(tmp_path, engine):
    """A Parquet timestamp column with a time zone, at midnight UTC in June: the day it names, on a
    machine in London too (DuckDB wrote it in the machine's zone, 01:00+01, which is not a day)."""
    stamps = pa.array([dt.datetime(2023, 6, 1), dt.datetime(2023, 6, 30)], pa.timestamp("us", tz="UTC"))
    path = _parquet_return(tmp_path / "utc.parquet", {"period_start": stamps[:1], "period_end": stamps[1:]}, rows=1)
    ran = subprocess.run([sys.executable, "-m", "sefton_carbon", "inventory", path, "--year", "2023/24", "--engine",
                          engine, "--format", "json"], capture_output=True, text=True, env={**os.environ,
                                                                                            "TZ": "Europe/London"})
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout)["rows"] == {"read": 1, "accounted": 1, "rejected": 0, "outside_boundary": 0}


def test_a_run_stopped_by_its_inputs_leaves_no_output_folder(tmp_path, run_cli):
    """-o DIR on a run that stops with a usage error (no activity files; a sites register that is
    not there): no folder left behind (the large engines left one holding only its lock)."""
    pytest.importorskip("dask")
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "returns.parq").write_text("not a return", encoding="utf-8")
    returns = write_rows(tmp_path / "returns.csv", [gas_row()])
    for engine in ("pandas", "duckdb", "dask"):
        for given, says in (([tmp_path / "in"], "no activity files"),
                            ([returns, "--sites", tmp_path / "no-sites.csv"], "no-sites.csv")):
            code, _, err = run_cli("inventory", *given, "--year", "2023/24", "--engine", engine,
                                   "-o", tmp_path / "out")
            assert code == 2 and says in err and not (tmp_path / "out").exists(), (engine, err)


def test_output_folder_files_named_again_as_ledger_or_rejected(tmp_path, run_cli):
    """-o DIR with --rejected DIR/rejected.csv (or --ledger DIR/ledger.csv): the folder's own file,
    written once, on every engine (the large engines copied it onto itself: an internal error)."""
    pytest.importorskip("dask")
    path = write_rows(tmp_path / "returns.csv", [gas_row(), gas_row(quantity="x", start="2023-05-01")])
    for engine in ("pandas", "duckdb", "dask"):
        output = tmp_path / f"out-{engine}"
        for option, name in (("--rejected", "rejected.csv"), ("--ledger", "ledger.csv")):
            code, _, err = run_cli("inventory", path, "--year", "2023/24", "--engine", engine, "-o", output,
                                   option, output / name)
            assert code == 3 and "internal error" not in err, (engine, err)
        assert run_cli("verify", output)[0] == 0
