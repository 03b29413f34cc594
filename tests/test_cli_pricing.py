"""The pricing inputs, declared once, reach the library from every command that prices activity;
and ``--format`` means the same in every command that prints data."""

import csv
import io
import json
import shutil

import pandas as pd
import pytest

from conftest import gas_row, write_rows
from sefton_carbon import PricingInputs, compute_inventory, load_boundary_options
from sefton_carbon.resources import factors_dir

# Boundary option that counts Scope 1 and 2 only: no well-to-tank or T&D lines (Scope 3).
SCOPE_1_2 = "scope_1_2"


@pytest.fixture
def factors_2022_as_2023(tmp_path):
    """A --factors-dir whose 2023 table is a copy of the bundled 2022 table folder."""
    folder = tmp_path / "factors"
    shutil.copytree(factors_dir() / "2022", folder / "2023")
    return folder


@pytest.fixture
def factors_with_2026(tmp_path):
    """A --factors-dir adding a 2026 table: a copy of the bundled 2025 table folder."""
    folder = tmp_path / "factors-2026"
    shutil.copytree(factors_dir() / "2025", folder / "2026")
    return folder


@pytest.fixture
def returns_2023(tmp_path):
    """Gas and electricity in 2023/24."""
    return write_rows(tmp_path / "returns-2023.csv", [
        gas_row(10000), gas_row(20000, activity="electricity", department="Highways", site="Depot")])


@pytest.fixture
def returns_two_years(tmp_path):
    """Gas and electricity in 2022/23 and in 2023/24, one file."""
    return write_rows(tmp_path / "two-years.csv", [
        gas_row(12000, start="2022-04-01", end="2022-04-30"),
        gas_row(25000, activity="electricity", start="2022-04-01", end="2022-04-30", site="Depot"),
        gas_row(10000), gas_row(20000, activity="electricity", site="Depot")])


def _total(path, year="2023/24", **options) -> float:
    return compute_inventory(path, year, **options).total_tco2e


def test_the_copied_table_changes_the_figures(returns_2023):
    # The premise of the tests below: the 2022 factors give a total more than 1% from the 2023 ones.
    assert abs(_total(returns_2023, factor_year=2022) / _total(returns_2023) - 1) > 0.01


def test_inventory_takes_the_pricing_inputs(returns_2023, factors_2022_as_2023, run_cli):
    code, out, err = run_cli("inventory", returns_2023, "--year", "2023/24", "--factors-dir", factors_2022_as_2023,
                             "--format", "json")
    assert code == 0, err
    assert json.loads(out)["total_tco2e"] == pytest.approx(_total(returns_2023, factor_year=2022), rel=1e-12)
    code, out, err = run_cli("inventory", returns_2023, "--year", "2023/24", "--scope-option", SCOPE_1_2,
                             "--format", "json")
    summary, default = json.loads(out), compute_inventory(returns_2023, "2023/24").by_scope()
    assert summary["scope_option"] == SCOPE_1_2 and summary["by_scope"]["scope_3"] == 0
    assert summary["total_tco2e"] == pytest.approx(default["scope_1"] + default["scope_2_location"], rel=1e-12)
    assert default["scope_3"] > 0


def test_validate_takes_the_factors_dir(tmp_path, factors_with_2026, run_cli):
    path = write_rows(tmp_path / "2026.csv", [gas_row(500, start="2026-04-01", end="2026-04-30")])
    code, out, _ = run_cli("validate", path, "--format", "json")
    assert code == 3
    assert [problem["message"].split(":")[0] for problem in json.loads(out)["problems"]] == [
        "no factor table for 2026 (2026/27)"]
    code, out, err = run_cli("validate", path, "--factors-dir", factors_with_2026, "--format", "json")
    assert code == 0, err
    assert json.loads(out)["errors"] == 0
    code, _, err = run_cli("validate", path, "--year", "2026/27", "--factors-dir", factors_with_2026)
    assert code == 0, err


def test_validate_takes_the_scope_option_and_factor_year(returns_2023, run_cli):
    code, _, err = run_cli("validate", returns_2023, "--scope-option", "no_such_option")
    assert code == 2 and "unknown boundary option 'no_such_option'" in err
    code, out, _ = run_cli("validate", returns_2023, "--factor-year", "2031", "--format", "json")
    assert code == 3
    assert {problem["message"].split(":")[0] for problem in json.loads(out)["problems"]} == {
        "no factor table for 2031 (2023/24)"}


def test_collect_takes_the_pricing_inputs_and_reads_once(tmp_path, returns_2023, factors_2022_as_2023, run_cli,
                                                         monkeypatch):
    from sefton_carbon.returns import collection

    folder = tmp_path / "returns"
    folder.mkdir()
    shutil.copy(returns_2023, folder)
    reads = []
    read_activity = collection.read_activity
    monkeypatch.setattr(collection, "read_activity", lambda paths: reads.append(paths) or read_activity(paths))
    code, out, err = run_cli("collect", folder, "--year", "2023/24", "-o", tmp_path / "out",
                             "--factors-dir", factors_2022_as_2023, "--format", "json")
    assert code == 0, err
    assert reads == [folder]  # read (and priced) once
    written = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert written["total_tco2e"] == pytest.approx(_total(returns_2023, factor_year=2022), rel=1e-12)
    assert json.loads(out)["total_tco2e"] == written["total_tco2e"]
    code, out, _ = run_cli("collect", folder, "--year", "2023/24", "-o", tmp_path / "out-1-2",
                           "--scope-option", SCOPE_1_2, "--format", "json")
    assert code == 0 and json.loads(out)["by_scope"]["scope_3"] == 0
    assert json.loads(out)["total_tco2e"] == pytest.approx(_total(returns_2023, scope_option=SCOPE_1_2), rel=1e-12)


def test_scope_compare_takes_the_pricing_inputs(tmp_path, returns_2023, returns_two_years, factors_2022_as_2023,
                                                run_cli):
    code, out, err = run_cli("scope", "compare", returns_2023, "--year", "2023/24", "--factors-dir",
                             factors_2022_as_2023, "--format", "json")
    assert code == 0, err
    options = {option["name"]: option for option in json.loads(out)["options"]}
    assert options[SCOPE_1_2]["total_tco2e"] == pytest.approx(
        _total(returns_2023, factor_year=2022, scope_option=SCOPE_1_2), rel=1e-12)
    baseline = write_rows(tmp_path / "baseline.csv", [gas_row(40000, start="2022-04-01", end="2022-04-30")])
    default = load_boundary_options().default
    shifts = {}
    for reference in (None, SCOPE_1_2):
        chosen = ["--scope-option", reference] if reference else []
        code, out, err = run_cli("scope", "compare", returns_2023, "--year", "2023/24", "--baseline", "2022/23",
                                 "--baseline-from", baseline, *chosen, "--format", "json")
        assert code == 0, err
        comparison = json.loads(out)
        assert comparison["reporting_year"] == "2023/24"
        assert comparison["reference_option"] == (reference or default)
        shifts[reference] = {option["name"]: option["baseline_shift"] for option in comparison["options"]}
    # Gas only in the baseline: Scope 1 and 2 leave out its well-to-tank line, so its baseline is
    # lower than the default option's; each reference measures the other option's shift.
    assert shifts[SCOPE_1_2][SCOPE_1_2] == 0 and shifts[None][default] == 0
    assert shifts[None][SCOPE_1_2] == pytest.approx(-shifts[SCOPE_1_2][default] / (
        1 + shifts[SCOPE_1_2][default]), rel=1e-12)
    assert shifts[None][SCOPE_1_2] < -0.1


def test_trajectory_takes_the_pricing_inputs(returns_two_years, factors_2022_as_2023, run_cli):
    def actuals(*options):
        code, out, err = run_cli("trajectory", returns_two_years, "--baseline", "2022/23", *options, "--format", "json")
        assert code == 0, err
        return {row["year"]: row["actual_tco2e"] for row in json.loads(out)["years"] if row["actual_tco2e"]}

    assert actuals("--factors-dir", factors_2022_as_2023)["2023/24"] == pytest.approx(
        _total(returns_two_years, factor_year=2022), rel=1e-12)
    assert actuals("--scope-option", SCOPE_1_2) == pytest.approx({
        "2022/23": _total(returns_two_years, "2022/23", scope_option=SCOPE_1_2),
        "2023/24": _total(returns_two_years, scope_option=SCOPE_1_2)}, rel=1e-12)
    assert actuals("--factor-year", "2022")["2023/24"] == pytest.approx(
        _total(returns_two_years, factor_year=2022), rel=1e-12)


@pytest.fixture
def no_measures(tmp_path):
    path = tmp_path / "scenarios.yaml"
    path.write_text("settings:\n  target_year: 2030/31\nscenarios:\n  none:\n    description: nothing done\n"
                    "    measures: []\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("command", ["run", "compare"])
def test_scenarios_priced_with_a_factors_dir_year(tmp_path, no_measures, factors_with_2026, run_cli, command):
    returns = write_rows(tmp_path / "2026.csv", [
        gas_row(10000, start="2026-04-01", end="2027-03-31"),
        gas_row(20000, activity="electricity", start="2026-04-01", end="2027-03-31", site="Depot")])
    code, _, err = run_cli("scenario", command, no_measures, "--from", returns, "--year", "2026/27")
    assert code == 2 and "no factor table for 2026" in err
    code, out, err = run_cli("scenario", command, no_measures, "--from", returns, "--year", "2026/27",
                             "--factors-dir", factors_with_2026, "--format", "json")
    assert code == 0, err
    [result] = json.loads(out)["scenarios"]
    # Business as usual holds the latest year flat: the inventory priced on the 2026 table.
    assert result["bau_tco2e"] == pytest.approx(
        _total(returns, "2026/27", factors_dir=factors_with_2026), rel=1e-9)
    assert result["bau_tco2e"] == pytest.approx(_total(returns, "2026/27", factor_year=2025), rel=1e-9)


@pytest.mark.parametrize("command", ["run", "compare"])
def test_scenarios_take_the_scope_option_and_factors_dir(returns_2023, no_measures, factors_2022_as_2023, run_cli,
                                                         command):
    def bau(*options):
        code, out, err = run_cli("scenario", command, no_measures, "--from", returns_2023, "--year", "2023/24",
                                 *options, "--format", "json")
        assert code == 0, err
        return json.loads(out)["scenarios"][0]["bau_tco2e"]

    assert bau("--scope-option", SCOPE_1_2) == pytest.approx(_total(returns_2023, scope_option=SCOPE_1_2), rel=1e-9)
    assert bau("--factors-dir", factors_2022_as_2023) == pytest.approx(
        _total(returns_2023, factor_year=2022), rel=1e-9)


def _report_total(book) -> float:
    scopes = pd.read_excel(book, sheet_name="By scope and category", engine="calamine")
    return float(scopes[scopes.iloc[:, 0].astype(str).str.startswith("Total")].iloc[0, 1])


def test_report_takes_the_pricing_inputs(tmp_path, returns_two_years, factors_2022_as_2023, run_cli):
    totals = {}
    for name, options in (("default", []), ("factors", ["--factors-dir", factors_2022_as_2023]),
                          ("option", ["--scope-option", SCOPE_1_2])):
        code, _, err = run_cli("report", returns_two_years, "--year", "2023/24", "-o", tmp_path / f"{name}.html",
                               *options)
        assert code == 0, err
        totals[name] = _report_total(tmp_path / f"{name}.xlsx")
    assert totals["default"] == pytest.approx(_total(returns_two_years), rel=1e-9)
    assert totals["factors"] == pytest.approx(_total(returns_two_years, factor_year=2022), rel=1e-9)
    assert totals["option"] == pytest.approx(_total(returns_two_years, scope_option=SCOPE_1_2), rel=1e-9)


def test_street_lighting_sites_come_from_the_register(tmp_path):
    from sefton_carbon.accounting.sites import read_sites

    sites = tmp_path / "sites.csv"
    sites.write_text("site,department,tags,operational_control,floor_area_m2\n"
                     "Lamps,Highways,street_lighting;fleet,yes,\nPool,Leisure,,yes,5000\n"
                     "Signs,Highways,street_lighting,yes,\n", encoding="utf-8")
    assert read_sites(sites).sites_tagged("street_lighting") == {"Lamps", "Signs"}


# --format: csv is the command's table as CSV, json the whole result, in every command that prints data.
FORMAT_COMMANDS = {
    "inventory": (["inventory", "{returns}", "--year", "2023/24"], "group"),
    "validate": (["validate", "{estimated}"], "severity"),
    "collect": (["collect", "{folder}", "--year", "2023/24", "-o", "{tmp}/collected"], "group"),
    "scope compare": (["scope", "compare", "{returns}", "--year", "2023/24"], "scope_2_method"),
    "trajectory": (["trajectory", "{returns}", "--baseline", "2023/24"], "pathway_tco2e"),
    "scenario run": (["scenario", "run", "{scenarios}", "--from", "{returns}", "--year", "2023/24"], "npv_gbp"),
    "scenario compare": (["scenario", "compare", "{scenarios}", "--from", "{returns}", "--year", "2023/24"],
                         "bau_tco2e"),
    "area": (["area", "--la", "Sefton"], "total_kt"),
    "factors list": (["factors", "list"], "activity"),
    "factors show": (["factors", "show", "natural_gas", "--year", "2023"], "kgco2e_per_unit"),
    "inventory --engine duckdb": (["inventory", "{returns}", "--year", "2023/24", "--engine", "duckdb"], "group"),
}


@pytest.fixture
def format_inputs(tmp_path, returns_2023, no_measures):
    folder = tmp_path / "folder"
    folder.mkdir()
    shutil.copy(returns_2023, folder)
    scenarios = tmp_path / "two.yaml"
    scenarios.write_text(no_measures.read_text(encoding="utf-8") + "  led:\n    description: lamps\n    measures:\n"
                         "      - {name: LED, type: reduce, activity: electricity, percent: 40, start: 2025/26}\n",
                         encoding="utf-8")
    estimated = write_rows(tmp_path / "estimated.csv", [gas_row(quality="estimated")])
    return {"returns": returns_2023, "folder": folder, "tmp": tmp_path, "scenarios": scenarios,
            "estimated": estimated}


@pytest.mark.parametrize("name", FORMAT_COMMANDS)
def test_format_csv_and_json_parse(name, format_inputs, run_cli):
    args, column = FORMAT_COMMANDS[name]
    args = [arg.format(**format_inputs) for arg in args]
    code, out, err = run_cli(*args, "--format", "csv")
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows and column in rows[0]
    code, out, err = run_cli(*args, "--format", "json")
    assert code == 0, err
    assert json.loads(out)


def test_csv_cells_are_formula_safe(tmp_path, run_cli):
    path = write_rows(tmp_path / "a.csv", [gas_row(department="=HYPERLINK(\"x\")")])
    code, out, _ = run_cli("inventory", path, "--year", "2023/24", "--format", "csv")
    assert code == 0
    departments = [row["name"] for row in csv.DictReader(io.StringIO(out)) if row["group"] == "department"]
    assert departments == ["'=HYPERLINK(\"x\")"]


PRICING_COMMANDS = [["inventory"], ["validate"], ["collect"], ["scope", "compare"], ["trajectory"],
                    ["scenario", "run"], ["scenario", "compare"], ["report"]]


def test_every_pricing_command_has_the_same_pricing_options():
    import typer.main

    from sefton_carbon.cli.app import app

    group = typer.main.get_group(app)
    declared = {}
    for path in PRICING_COMMANDS:
        command = group
        for name in path:
            command = command.commands[name]
        declared[" ".join(path)] = {(parameter.opts[0], parameter.help) for parameter in command.params
                                    if parameter.name in PricingInputs.__dataclass_fields__}
    assert {option for option, _ in declared["inventory"]} == {
        "--factors-dir", "--factor-year", "--scope-option", "--scopes-file", "--sites", "--contracts",
        "--spend-factors"}
    assert all(options == declared["inventory"] for options in declared.values())
