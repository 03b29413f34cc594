"""Every sheet of a returned workbook is read or named (issue #16, class 1): each sheet with an
activity header is read; a hidden sheet's rows are rejected naming the sheet; a sheet whose header
lacks a column is refused naming the sheet; sheets with no header (instructions) hold no rows."""

import pandas as pd
import pytest

from conftest import HEADER, gas_row, xlsx_bytes
from sefton_carbon import compute_inventory
from sefton_carbon.returns.activity import read_activity
from sefton_carbon.returns.collection import validate_returns


def workbook(path, sheets: dict[str, list[list[object]]], hidden: tuple[str, ...] = ()):
    path.write_bytes(xlsx_bytes(sheets, hidden=hidden))
    return path


def test_two_visible_sheets_of_data_are_both_read(tmp_path):
    path = workbook(tmp_path / "two-months.xlsx", {
        "Instructions": [["Fill in one sheet a month"]],
        "April": [HEADER, gas_row(1000, start="2023-04-01", end="2023-04-30")],
        "May": [HEADER, gas_row(2000, start="2023-05-01", end="2023-05-31"),
                gas_row(300, start="2023-05-01", end="2023-05-31", site="Library")]})
    data = read_activity(path)
    assert list(zip(data.rows["source_sheet"], data.rows["source_row"], data.rows["quantity"])) == [
        ("April", 2, 1000.0), ("May", 2, 2000.0), ("May", 3, 300.0)]
    assert data.rejected.empty and int(data.files["rows_read"].iloc[0]) == 3
    one_sheet = compute_inventory(workbook(tmp_path / "one.xlsx", {"All": [
        HEADER, gas_row(3300, start="2023-04-01", end="2023-05-31")]}), "2023/24")
    assert compute_inventory(path, "2023/24").total_tco2e == pytest.approx(one_sheet.total_tco2e, rel=1e-12)


def test_a_hidden_sheet_of_stale_figures_is_rejected_naming_it_and_the_visible_sheet_is_read(tmp_path):
    path = workbook(tmp_path / "hidden.xlsx", {
        "Old figures": [HEADER, gas_row(99999, start="2023-04-01", end="2023-04-30"),
                        gas_row(88888, start="2023-05-01", end="2023-05-31")],
        "Entry": [HEADER, gas_row(1000, start="2023-04-01", end="2023-04-30")]}, hidden=("Old figures",))
    data = read_activity(path)
    assert list(data.rows["quantity"]) == [1000.0] and list(data.rows["source_sheet"]) == ["Entry"]
    assert list(zip(data.rejected["source_sheet"], data.rejected["source_row"])) == [
        ("Old figures", 2), ("Old figures", 3)]
    assert data.rejected["reason"].iloc[0].startswith("sheet 'Old figures' is hidden: unhide it to count this row")
    validation = validate_returns(path, "2023/24")
    assert validation.rows_read == 3 and validation.rows_with_errors == 2
    inventory = compute_inventory(path, "2023/24")
    assert (inventory.rows_read, inventory.rows_accounted, inventory.rows_rejected) == (3, 1, 2)


def test_a_sheet_whose_header_lacks_a_column_is_refused_naming_it(tmp_path):
    path = workbook(tmp_path / "partial.xlsx", {
        "Entry": [HEADER, gas_row(1000)],
        "Extra": [["department", "site", "activity", "quantity"], ["Corporate", "Depot", "diesel", 50]]})
    data = read_activity(path)
    assert list(data.rows["quantity"]) == [1000.0]
    refused = data.rejected.iloc[0]
    assert (refused["source_sheet"], refused["source_row"]) == ("Extra", 1)
    assert refused["reason"].startswith("the header row lacks unit, period_start, period_end")
    assert refused["reason"].endswith("the sheet was not read")
    # its entry among the rejected is no row read: the inventory reconciles (read = accounted + rejected)
    inventory = compute_inventory(path, "2023/24")
    assert (inventory.rows_read, inventory.rows_accounted, inventory.rows_rejected) == (1, 1, 0)
    assert int(inventory.files["sheets_refused"].iloc[0]) == 1 and len(inventory.rejected) == 1


def test_a_sheet_naming_most_columns_but_not_the_quantity_is_refused_not_passed_over(tmp_path):
    # "Quantity (kWh)" is no quantity header: the sheet names the six other columns, so it is an
    # activity sheet gone wrong, not instructions; a list of drop-down values naming four is passed over.
    header = ["department", "site", "activity", "Quantity (kWh)", "unit", "period_start", "period_end"]
    path = workbook(tmp_path / "unknown-quantity.xlsx", {
        "Entry": [HEADER, gas_row(1000)],
        "Gas": [header, gas_row(5000)[:7], gas_row(6000)[:7]],
        "Lists": [["department", "site", "activity", "unit"], ["Corporate", "Depot", "diesel", "litres"]]})
    data = read_activity(path)
    assert list(data.rows["quantity"]) == [1000.0]
    assert list(zip(data.rejected["source_sheet"], data.rejected["source_row"])) == [("Gas", 1)]
    assert data.rejected["reason"].iloc[0].startswith("the header row lacks quantity (expected columns")
    inventory = compute_inventory(path, "2023/24")
    assert (inventory.rows_read, inventory.rows_accounted, inventory.rows_rejected) == (1, 1, 0)
    assert int(inventory.files["sheets_refused"].iloc[0]) == 1


@pytest.mark.parametrize("engine", ["pandas", "duckdb", "dask"])
def test_a_copy_on_another_sheet_names_the_sheet_of_its_original(tmp_path, run_cli, engine):
    path = workbook(tmp_path / "copies.xlsx", {"April": [HEADER, gas_row(1000)], "Again": [HEADER, gas_row(1000)]})
    rejected = tmp_path / "rejected.csv"
    code, _, err = run_cli("inventory", path, "--year", "2023/24", "--engine", engine, "--rejected", rejected)
    assert code == 3, err
    listed = pd.read_csv(rejected, dtype=str, keep_default_na=False)
    assert listed[["source_sheet", "source_row", "reason"]].values.tolist() == [
        ["Again", "2", f"duplicate of {path}, sheet 'April', row 2: counted once"]]
