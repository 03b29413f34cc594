"""Every engine gives the same rows, reasons and figures on the same input.

The in-memory path (`compute_inventory`), the DuckDB engine (`compute_large_inventory`) and the
Dask engine's partition step (`group_partition` and `_summary`, without a cluster) run over the
bad-input catalogue, the messy returns, the example council and generated returns, and must agree
on: the total and each scope (relative tolerance 1e-9), the ``rows`` object, and the rejected rows
(file, row, column and reason, word for word).

The large engines read UTF-8 CSV with the header on the first line, and do not read sites,
contracts or spend: each input is therefore compared as a plain copy (`plain_copies`) with the same
cells, where rows that the in-memory path rejects for cells beyond the header are left empty. The
DuckDB engine applies the same-supply rule (copies and overlaps) as the in-memory path does; the
Dask engine does not yet, so it is compared on copies where the rows that rule sets aside are
left empty too.
"""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sefton_carbon.engines.cluster import _combined, group_partition
from sefton_carbon.engines.large import _summary, compute_large_inventory
from sefton_carbon.engines.pipeline import compute_inventory
from sefton_carbon.errors import DataError, UsageError
from sefton_carbon.io.columnar import fast_number_sql
from sefton_carbon.io.cells import parse_quantity
from sefton_carbon.returns.activity import _read_tables, read_activity
from sefton_carbon.returns.collection import PricingInputs
from sefton_carbon.years import ReportingYear
from test_bad_inputs import ACTIVITY_CASES, _content
from test_properties import returns

REPO = Path(__file__).resolve().parents[1]
YEAR = "2023/24"
#: Reasons only the in-memory path gives: it alone compares rows with each other and reads ragged rows.
#: Reasons only the in-memory path gives: it alone reads ragged rows.
IN_MEMORY_ONLY = ("row has more cells than the header",)
#: Reasons of the same-supply rule, which the Dask engine does not apply yet.
SAME_SUPPLY = ("duplicate of ", "period overlaps ")


def plain_copies(paths: list[Path], folder: Path, set_aside: tuple[str, ...] = IN_MEMORY_ONLY) -> list[Path]:
    """The activity rows of each file the in-memory path can read, as a UTF-8 CSV with its header on
    the first line and each data row on the line it had (the rows above the header dropped); rows
    the in-memory path rejects for the reasons of ``set_aside``, within a file or across them, are
    left empty."""
    folder.mkdir(parents=True, exist_ok=True)
    frames = {}
    for path in paths:
        if read_activity(path).files.iloc[0]["unreadable"]:
            continue
        table = _read_tables(path)[0][0]  # the example and generated workbooks have one entry sheet
        frame = table.frame.astype(object).fillna("")
        if table.quantity_empty is not None:  # read as numbers: written back in full
            frame["quantity"] = [("" if empty else repr(number)) for number, empty
                                 in zip(table.frame["quantity"], table.quantity_empty)]
        if table.extra_fields is not None:
            frame[table.extra_fields] = ""
        frames[folder / f"{path.stem}-{path.suffix.lstrip('.')}.csv"] = frame
    for copy, frame in list(frames.items()):
        frame.to_csv(copy, index=False, quoting=csv.QUOTE_ALL, lineterminator="\n")
        if read_activity(copy).files.iloc[0]["unreadable"]:  # such as a NUL character in a UTF-16 cell
            del frames[copy]
    if not frames:
        return []
    rejected = read_activity(list(frames)).rejected
    left_out = rejected[rejected["reason"].str.contains("|".join(set_aside), regex=True)]
    for copy, rows in left_out.groupby("source_file"):
        frame = frames[Path(copy)]
        frame.iloc[sorted(rows["source_row"].astype(int) - 2)] = ""
        frame.to_csv(copy, index=False, quoting=csv.QUOTE_ALL, lineterminator="\n")
    return list(frames)


def _rejected_rows(frame: pd.DataFrame, unreadable: set[str] = frozenset()) -> list[tuple]:
    """(file, row, column, reason) of each rejected row, in order; not the files read as a whole."""
    rows = frame[frame["source_row"].notna() & ~frame["source_file"].astype(str).isin(unreadable)]
    return sorted(zip(rows["source_file"].astype(str), rows["source_row"].astype(int),
                      rows["column"].astype(str), rows["reason"].astype(str)))


#: Summary keys every engine gives alike, beyond the figures compared with a tolerance.
SAME_KEYS = ("rows", "reporting_year", "factor_year", "factor_set", "gwp_basis", "scope_option", "scope_2_method",
             "boundary", "notes")


def assert_same_everywhere(paths: list[Path], folder: Path, year: str = YEAR, **pricing) -> dict:
    """Run every engine over ``paths``, priced with the `PricingInputs` ``pricing``, and assert
    they agree; returns the in-memory summary. The DuckDB engine reads the files themselves; the
    Dask engine's partition step reads their `plain_copies` without the same-supply rule."""
    memory = compute_inventory(paths, year, **pricing)
    expected = memory.summary()
    rejected = folder / "rejected.csv"
    duckdb = compute_large_inventory(paths, year, rejected=rejected, **pricing).summary
    assert duckdb["possible_double_counts"] == expected["possible_double_counts"]
    compared = [(duckdb, expected)]
    dask_paths = plain_copies(paths, folder / "without-same-supply", SAME_SUPPLY)
    if dask_paths:
        cells = pd.concat([pd.read_csv(path, dtype=str, keep_default_na=False) for path in dask_paths],
                          ignore_index=True)
        by_site = bool(pricing.get("sites") or pricing.get("contracts"))
        dask = _summary(_combined(group_partition(cells.replace("", None), by_site)), ReportingYear.parse(year),
                        PricingInputs(**pricing).load(), engine="dask")[0]
        compared.append((dask, compute_inventory(dask_paths, year, **pricing).summary()))
    for summary, reference in compared:
        for key in SAME_KEYS:
            assert summary[key] == reference[key], key
        assert summary["total_tco2e"] == pytest.approx(reference["total_tco2e"], rel=1e-9, abs=1e-12)
        for key in ("by_scope", "by_activity", "by_department", "by_scope_3_category", "by_gas"):
            assert summary[key] == pytest.approx(reference[key], rel=1e-9, abs=1e-12), key
        outside = summary["outside_boundary"]
        assert {key: outside[key] for key in ("rows", "rows_by_reason")} == {
            key: reference["outside_boundary"][key] for key in ("rows", "rows_by_reason")}
        assert outside["tco2e"] == pytest.approx(reference["outside_boundary"]["tco2e"], rel=1e-9, abs=1e-12)
    listed = pd.read_csv(rejected, dtype={"source_row": "Int64"}, keep_default_na=False,
                         na_values={"source_row": [""]})
    # A file with a header and no rows is refused as a whole in memory; the DuckDB engine reads no rows in it.
    unreadable = set(memory.files.loc[memory.files["unreadable"], "source_file"].astype(str))
    assert _rejected_rows(listed, unreadable) == _rejected_rows(memory.rejected, unreadable)
    return expected


@pytest.mark.parametrize("case, name, content, fragment, names_row", ACTIVITY_CASES,
                         ids=[case[0] for case in ACTIVITY_CASES])
def test_bad_input_catalogue(tmp_path, case, name, content, fragment, names_row):
    path = tmp_path / "given" / name
    path.parent.mkdir()
    path.write_bytes(_content(content))
    if read_activity(path).files.iloc[0]["unreadable"]:
        # A file the in-memory path cannot read at all: the DuckDB engine refuses it, or lists it
        # as the in-memory path does and counts no rows.
        try:
            rows = compute_large_inventory([path], YEAR).summary["rows"]
        except (DataError, UsageError):
            return
        assert rows == {"read": 0, "accounted": 0, "rejected": 0, "outside_boundary": 0}
        return
    expected = assert_same_everywhere([path], tmp_path)
    if not any(reason in fragment for reason in ("overlaps", "counted once")):
        assert expected["rows"]["rejected"] >= 1, case  # the bad row is refused by every engine


def test_messy_returns(tmp_path):
    folder = REPO / "examples" / "messy-returns" / "2023-24"
    paths = sorted(folder.iterdir())
    assert {path.suffix for path in paths} == {".csv", ".xlsx"}
    expected = assert_same_everywhere(paths, tmp_path)
    assert expected["rows"]["rejected"] > 0 and expected["rows"]["accounted"] > 0


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
