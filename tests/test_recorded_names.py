"""Outputs name input files the same on every machine (issue #16, class 8): relative to the working
folder for files inside it, ``bundled:`` for the example council wherever it is installed, never an
absolute path of the machine for either."""

from conftest import gas_row, write_rows
from sefton_carbon import compute_inventory
from sefton_carbon.resources import examples_dir


def test_bundled_returns_are_named_bundled_from_anywhere(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    returns = examples_dir().resolve() / "example-council" / "returns" / "2023-24"
    inventory = compute_inventory(returns, "2023/24")
    names = set(inventory.ledger["source_file"].astype(str))
    assert names == {f"bundled:examples/example-council/returns/2023-24/{path.name}"
                     for path in returns.glob("*.csv")}
    assert set(inventory.files["source_file"]) == names


def test_a_file_under_the_working_folder_is_named_relative_to_it_even_when_given_absolute(tmp_path, monkeypatch):
    folder = tmp_path / "returns"
    folder.mkdir()
    path = write_rows(folder / "bills.csv", [gas_row(), gas_row()])  # the second is a copy
    monkeypatch.chdir(tmp_path)
    inventory = compute_inventory(path.resolve(), "2023/24")
    assert list(inventory.ledger["source_file"].unique()) == ["returns/bills.csv"]
    assert inventory.rejected["reason"].iloc[0] == "duplicate of returns/bills.csv row 2: counted once"
