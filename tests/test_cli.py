"""The command line: exit codes, output shapes, and plain one-line errors."""

import csv
import json
import os
import subprocess
import sys

import pytest

from conftest import DATA, gas_row, write_rows


def test_inventory_json_shape_and_exit_0(tmp_path, run_cli):
    path = write_rows(tmp_path / "a.csv", [gas_row(10000), gas_row(5000, activity="electricity",
                                                                   department="Highways")])
    code, out, err = run_cli("inventory", path, "--year", "2023/24", "--format", "json")
    assert code == 0, err
    summary = json.loads(out)
    assert summary["reporting_year"] == "2023/24" and summary["factor_year"] == 2023
    assert isinstance(summary["total_tco2e"], float)
    assert {"scope_1", "scope_2", "scope_3"} <= set(summary["by_scope"])
    assert set(summary["by_department"]) == {"Corporate", "Highways"}
    assert {"read": 2, "accounted": 2, "rejected": 0}.items() <= summary["rows"].items()
    assert summary["by_scope"]["scope_1"] == pytest.approx(1.8293, abs=5e-5)


def test_rejected_rows_give_exit_3_and_still_write_outputs(tmp_path, run_cli):
    path = write_rows(tmp_path / "a.csv", [gas_row(), gas_row(activity="natral gas"), gas_row(unit="gallons")])
    ledger, rejected = tmp_path / "ledger.csv", tmp_path / "rejected.csv"
    code, out, err = run_cli("inventory", path, "--year", "2023/24", "--ledger", ledger,
                             "--rejected", rejected)
    assert code == 3
    assert "Rows: 3 read = 1 accounted + 2 rejected" in out
    assert "2 input row(s) or file(s) rejected" in err and str(rejected) in err
    with open(rejected, newline="", encoding="utf-8") as stream:
        listed = list(csv.DictReader(stream))
    assert [(r["source_row"], r["column"]) for r in listed] == [("3", "activity"), ("4", "unit")]
    assert "did you mean 'natural_gas'" in listed[0]["reason"]
    with open(ledger, newline="", encoding="utf-8") as stream:
        lines = list(csv.DictReader(stream))
    assert [line["line"] for line in lines] == ["direct", "well_to_tank"]
    assert float(lines[0]["tco2e"]) == pytest.approx(1.8293, abs=5e-5)


def test_rejected_rows_listed_on_stderr_without_a_file(tmp_path, run_cli):
    path = write_rows(tmp_path / "a.csv", [gas_row(quantity="-3")])
    code, out, err = run_cli("inventory", path, "--year", "2023/24", "--format", "csv")
    assert code == 3
    assert f"{path}, row 2, column 'quantity': quantity -3 is negative" in err
    assert out.splitlines()[0] == "group,name,tco2e"


@pytest.mark.parametrize("args, fragment", [
    (["inventory", "missing.csv", "--year", "2023/24"], "no such file or folder"),
    (["inventory", "{good}", "--year", "2023"], "is not a UK financial year"),
    (["inventory", "{good}", "--year", "2031/32"], "no factor table for 2031"),
    (["inventory", "{good}"], "Missing option"),
    (["factors", "show", "natral_gas", "--year", "2023"], "did you mean 'natural_gas'"),
])
def test_usage_errors_exit_2(tmp_path, run_cli, args, fragment):
    good = write_rows(tmp_path / "good.csv", [gas_row()])
    code, out, err = run_cli(*[arg.format(good=good) for arg in args])
    assert code == 2
    assert fragment in err
    assert "Traceback" not in err


def test_factors_list_and_show(run_cli):
    code, out, err = run_cli("factors", "list", "--format", "json")
    assert code == 0
    names = {entry["activity"] for entry in json.loads(out)}
    assert {"natural_gas", "electricity", "refrigerant_r404a"} <= names
    code, out, _ = run_cli("factors", "show", "natural_gas", "--year", "2023", "--format", "json")
    rows = json.loads(out)
    assert rows[0]["kgco2e_per_unit"] == 0.18292892617449666 and rows[0]["desnz_id"] == "1_100_1004_6"
    code, out, _ = run_cli("factors", "list", "--search", "hotel stay uk london", "--year", "2024",
                           "--format", "json")
    assert [row["kgco2e"] for row in json.loads(out)] == [11.5]


def test_factors_import_to_a_folder_then_use_it(tmp_path, run_cli):
    code, out, err = run_cli("factors", "import", DATA / "flat-file-2016-layout.csv", "--output", tmp_path)
    assert code == 0, err
    assert out.strip() == str(tmp_path / "2016")
    assert "2 factors from 9 rows" in err
    code, out, _ = run_cli("factors", "list", "--factors-dir", tmp_path, "--year", "2016",
                           "--search", "gas", "--format", "json")
    assert [row["kgco2e"] for row in json.loads(out)] == [0.1]


def test_bad_input_never_gives_a_traceback_in_a_real_process(tmp_path):
    junk = tmp_path / "junk.csv"
    junk.write_bytes(b"\x00\x01PK\x03\x04 not a table")
    result = subprocess.run([sys.executable, "-m", "sefton_carbon", "inventory", str(junk), "--year",
                             "2023/24"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 3
    assert "Traceback" not in result.stderr
    assert f"{junk}: is not a text file" in result.stderr


def test_the_command_ends_with_its_exit_code_and_all_its_output(tmp_path):
    """`cli.app.command` ends the process without tearing the interpreter down: the exit code is
    still the command's, and everything it printed arrives."""
    returns = write_rows(tmp_path / "returns.csv", [gas_row(quantity=quantity, site=f"Site {number}")
                                                    for number, quantity in enumerate(range(1000, 3000))])
    buffered = {name: value for name, value in os.environ.items() if name != "PYTHONUNBUFFERED"}
    result = subprocess.run([sys.executable, "-m", "sefton_carbon", "inventory", str(returns), "--year", "2023/24",
                             "--format", "json"], capture_output=True, text=True, timeout=120, env=buffered)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["rows"]["accounted"] == 2000
    missing = subprocess.run([sys.executable, "-m", "sefton_carbon", "inventory", str(tmp_path / "none.csv"),
                              "--year", "2023/24"], capture_output=True, text=True, timeout=120)
    assert missing.returncode == 2
    assert "none.csv" in missing.stderr and "Traceback" not in missing.stderr


def _command_names():
    import typer.main

    from sefton_carbon.cli.app import app

    names = []
    for name, command in typer.main.get_group(app).commands.items():
        names += [[name, sub] for sub in command.commands] if hasattr(command, "commands") else [[name]]
    return names


def test_every_command_has_help(run_cli):
    for command in _command_names():
        code, out, _ = run_cli(*command, "--help")
        assert code == 0 and "Usage" in out and len(out.splitlines()) > 4, command


def test_version(run_cli):
    from sefton_carbon import __version__

    code, out, _ = run_cli("--version")
    assert code == 0 and out.strip() == f"sefton-carbon {__version__}"


@pytest.mark.parametrize("option, what", [("--sites", "sites register"), ("--contracts", "contracts file"),
                                          ("--spend-factors", "spend factor table")])
def test_a_missing_register_is_a_usage_error(run_cli, option, what):
    from sefton_carbon.outputs.demo import example_returns

    returns = next(iter(example_returns().values()))
    code, _, err = run_cli("inventory", returns, "--year", "2019/20", option, "missing.csv")
    assert code == 2 and err.strip() == f"error: missing.csv: no such {what}"


def test_a_missing_totals_file_is_a_usage_error(run_cli):
    code, _, err = run_cli("trajectory", "--totals", "missing.csv", "--baseline", "2019/20")
    assert code == 2 and err.strip() == "error: missing.csv: no such totals file"


def test_factor_tables_fit_100_columns(run_cli):
    for command in (["factors", "list"], ["factors", "show", "electricity", "--year", "2024"],
                    ["factors", "list", "--search", "hotel uk", "--year", "2024"]):
        code, out, _ = run_cli(*command)
        assert code == 0 and out.strip()
        assert max(len(line) for line in out.splitlines()) <= 100, command


def test_an_empty_search_says_what_desnz_calls_it(run_cli):
    code, out, err = run_cli("factors", "list", "--search", "recycling", "--year", "2024")
    assert code == 0 and out.strip() == "(none)"
    assert "no factor row contains every word of 'recycling' in 2024" in err
    assert "DESNZ calls it 'closed-loop': try --search \"closed-loop\"" in err
    assert "waste_recycling_paper" in err
    code, out, _ = run_cli("factors", "list", "--search", "closed-loop paper and board: mixed", "--year", "2024",
                           "--format", "csv")
    assert code == 0 and "Paper and board: mixed" in out
