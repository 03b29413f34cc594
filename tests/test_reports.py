"""Reports: CSV outputs are safe to open, and the table presents the figures."""

import csv
import json

import pandas as pd
import pytest

from conftest import gas_row, write_rows
from sefton_carbon import compute_inventory
from sefton_carbon.io.files import defuse_text, write_csv
from sefton_carbon.outputs.files import write_inventory_outputs
from sefton_carbon.outputs.text import format_table


@pytest.mark.parametrize("text, safe", [
    ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"), ("+1+1", "'+1+1"), ("-2+3", "'-2+3"),
    ("@SUM(A1)", "'@SUM(A1)"), ("\tcmd", "'\tcmd"), ("Town Hall", "Town Hall"), ("", ""),
])
def test_defuse_text(text, safe):
    assert defuse_text(text) == safe


def test_written_csv_has_no_live_formulas_but_keeps_numbers(tmp_path):
    frame = pd.DataFrame({"site": ["=cmd|' /C calc'!A0", "Library"],
                          "category": pd.Categorical(["@evil", "ok"]), "tco2e": [-1.5, 2.0],
                          "mixed": pd.Series(["-1+2", 3], dtype=object)})
    path = write_csv(frame, tmp_path / "out.csv")
    with open(path, newline="", encoding="utf-8") as stream:
        rows = list(csv.DictReader(stream))
    assert rows[0]["site"] == "'=cmd|' /C calc'!A0" and rows[0]["category"] == "'@evil"
    assert rows[0]["tco2e"] == "-1.5" and [row["mixed"] for row in rows] == ["'-1+2", "3"]


def test_inventory_outputs_defuse_text_from_returns(tmp_path):
    path = write_rows(tmp_path / "a.csv", [gas_row(site="=1+2"), gas_row(department="+Evil", activity="oops")])
    inventory = compute_inventory(path, "2023/24")
    written = write_inventory_outputs(inventory, tmp_path / "out")
    ledger = written["ledger"].read_text(encoding="utf-8")
    rejected = written["rejected"].read_text(encoding="utf-8")
    assert ",'=1+2," in ledger and ",=1+2," not in ledger
    assert "oops" in rejected


def test_table_reconciles_and_rounds_only_for_presentation(tmp_path):
    path = write_rows(tmp_path / "a.csv", [gas_row(10000), gas_row(activity="nope")])
    inventory = compute_inventory(path, "2023/24")
    text = format_table(inventory.summary())
    assert "Rows: 2 read = 1 accounted + 1 rejected" in text
    assert "Scope 1 (direct)" in text and "1.83" in text
    assert "cat 3 Fuel- and energy-related activities" in text
    assert inventory.ledger["tco2e"].iloc[0] == 1.8292892617449666


def test_json_documents_carry_no_binary_noise_and_no_nan():
    import math

    from sefton_carbon.outputs.text import document_json

    text = document_json({"a": 11.868106000000001, "b": [0.1 + 0.2, float("nan"), float("inf")],
                          "c": {"d": -float("inf"), "e": 9353.180000000002, "f": 7}})
    assert json.loads(text) == {"a": 11.868106, "b": [0.3, None, None], "c": {"d": None, "e": 9353.18, "f": 7}}
    assert "NaN" not in text and "Infinity" not in text
    assert math.isclose(json.loads(document_json(1 / 3)), 1 / 3, rel_tol=1e-11)


def test_summary_json_and_csv_of_the_example_have_no_noise(run_cli):
    import re

    from sefton_carbon.outputs.demo import example_returns

    returns = example_returns()
    year = max(returns)
    for output_format in ("json", "csv"):
        code, out, err = run_cli("inventory", returns[year], "--year", year.label, "--format", output_format)
        assert code in (0, 3), err
        assert not re.search(r"\d\.\d{13,}", out), output_format


def test_table_shares_add_up_and_show_gases_and_biogenic_co2():
    import re

    from sefton_carbon.outputs.demo import example_registers, example_returns

    inventory = compute_inventory(example_returns()[max(example_returns())], "2024/25", **example_registers())
    table = format_table(inventory.summary())
    scope_block = table.split("By scope")[1].split("\n\n")[0].splitlines()[1:]
    shares = [float(match) for line in scope_block if not line.startswith("    cat")
              for match in re.findall(r"(\d+\.\d)%$", line)]
    assert sum(shares) == pytest.approx(100.0, abs=0.15)
    assert re.search(r"Scope 2 \(electricity, market-based\), not counted +[\d,.]+ +-$", table, re.M)
    assert re.search(r"^Biogenic CO2, outside the scopes \(not counted\) +126\.75 +t CO2$", table, re.M)
    gases = table.split("Scope 1 and 2 (location-based) by gas")[1].split("\n\n")[0]
    assert [line.split()[0] for line in gases.splitlines()[1:]] == ["CO2", "CH4", "N2O", "HFCs"]
