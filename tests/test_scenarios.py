"""Scenarios: a hand-computed case for every measure type, the finance arithmetic, interactions."""

import json
import textwrap

import pytest

from conftest import gas_row, write_rows
from sefton_carbon import compute_inventory
from sefton_carbon.accounting.sites import read_sites
from sefton_carbon.errors import DataError
from sefton_carbon.planning.scenarios import capital_recovery_factor, load_scenarios, project

# 2023 factors, direct lines only (boundary scope_1_2) [t CO2e per unit].
ELECTRICITY = 0.20707428859060403 / 1000
GAS = 0.18292892617449666 / 1000
DIESEL = 2.5120638845637586 / 1000


@pytest.fixture
def latest(tmp_path):
    returns = write_rows(tmp_path / "returns.csv", [
        gas_row(1_000_000, "kWh", "2023-04-01", "2024-03-31", activity="electricity", site="Lights",
                department="Highways"),
        gas_row(100_000, "kWh", "2023-04-01", "2024-03-31", site="Pool", department="Leisure"),
        gas_row(10_000, "litres", "2023-04-01", "2024-03-31", activity="diesel", site="Depot", department="Fleet")])
    sites = tmp_path / "sites.csv"
    sites.write_text("site,department,tags,operational_control,floor_area_m2\nLights,Highways,street_lighting,yes,\n"
                     "Pool,Leisure,,yes,5000\nDepot,Fleet,fleet,yes,800\n", encoding="utf-8")
    inventory = compute_inventory(returns, "2023/24", scope_option="scope_1_2", sites=sites)
    return inventory, read_sites(sites).site_tags(), tmp_path


def scenario(tmp_path, measures: str, settings: str = "") -> object:
    path = tmp_path / "scenarios.yaml"
    path.write_text("settings:\n  target_year: 2030/31\n" + textwrap.indent(textwrap.dedent(settings), "  ")
                    + "scenarios:\n  test:\n    description: a test\n    measures:\n"
                    + textwrap.indent(textwrap.dedent(measures), "      "), encoding="utf-8")
    return load_scenarios(path)


def savings_by_year(result, name):
    return dict(result.savings[name])


def test_business_as_usual_equals_the_latest_year(latest):
    inventory, tags, folder = latest
    result = project(inventory, scenario(folder, "[]\n"), "test", tags)
    assert result.years["bau_tco2e"].tolist() == pytest.approx([inventory.total_tco2e] * 7)
    assert inventory.total_tco2e == pytest.approx(1_000_000 * ELECTRICITY + 100_000 * GAS + 10_000 * DIESEL)


def test_reduce_by_percent_with_ramp(latest):
    inventory, tags, folder = latest
    result = project(inventory, scenario(folder, """
        - {name: LED, type: reduce, activity: electricity, site_tag: street_lighting, percent: 50,
           start: 2025/26, ramp_years: 2}
    """), "test", tags)
    saved = savings_by_year(result, "LED")
    assert saved["2024/25"] == 0
    assert saved["2025/26"] == pytest.approx(250_000 * ELECTRICITY)
    assert saved["2026/27"] == pytest.approx(500_000 * ELECTRICITY)


def test_avoid_switch_and_onsite_supply(latest):
    inventory, tags, folder = latest
    result = project(inventory, scenario(folder, """
        - {name: heat pump, type: switch, activity: natural_gas, site: Pool, to_activity: electricity,
           boiler_efficiency: 0.9, cop: 3, start: 2025/26}
        - {name: close depot, type: avoid, activity: diesel, site: Depot, start: 2026/27}
        - {name: solar, type: supply, onsite_kwh: 100000, start: 2025/26}
    """), "test", tags)
    year = "2026/27"
    assert savings_by_year(result, "heat pump")[year] == pytest.approx(100_000 * GAS - 30_000 * ELECTRICITY)
    assert savings_by_year(result, "close depot")[year] == pytest.approx(10_000 * DIESEL)
    assert savings_by_year(result, "solar")[year] == pytest.approx(100_000 * ELECTRICITY)
    row = result.years.set_index("year").loc[year]
    assert row["scenario_tco2e"] == pytest.approx((1_030_000 - 100_000) * ELECTRICITY)


def test_renewable_tariff_counts_only_market_based(latest, tmp_path):
    inventory, tags, folder = latest
    measures = "- {name: tariff, type: supply, renewable_share: 1.0, start: 2025/26}\n"
    location = project(inventory, scenario(folder, measures), "test", tags)
    assert savings_by_year(location, "tariff")["2025/26"] == 0
    assert "save nothing under a location-based" in location.notes[0]
    scopes = tmp_path / "market.yaml"
    scopes.write_text("default: m\noptions:\n  m:\n    label: M\n    description: Market.\n"
                      "    consolidation: operational_control\n    scopes: [1, 2]\n    transmission_distribution: false\n"
                      "    well_to_tank: false\n    scope_2_method: market\n", encoding="utf-8")
    market_inventory = compute_inventory(folder / "returns.csv", "2023/24", scopes_file=scopes)
    market = project(market_inventory, scenario(folder, measures), "test", tags)
    assert savings_by_year(market, "tariff")["2025/26"] == pytest.approx(1_000_000 * ELECTRICITY)


def test_offsets_and_removals_stay_apart(latest):
    inventory, tags, folder = latest
    result = project(inventory, scenario(folder, """
        - {name: trees, type: removal, tco2e: 10, start: 2025/26}
        - {name: offsets, type: offset, share_of_residual: 0.5, price_gbp_per_tco2e: 20, start: 2030/31}
    """, "offset_price_gbp_per_tco2e: 30\n"), "test", tags)
    summary = result.summary()
    gross = inventory.total_tco2e
    assert summary["scenario_tco2e"] == pytest.approx(gross)
    assert summary["removals_tco2e"] == 10 and summary["residual_tco2e"] == pytest.approx(gross - 10)
    assert summary["offsets_bought_tco2e"] == pytest.approx((gross - 10) / 2)
    assert summary["offsets_needed_tco2e"] == pytest.approx((gross - 10) / 2)
    assert summary["offset_cost_gbp"] == pytest.approx((gross - 10) / 2 * 30)
    assert not summary["reaches_net_zero"]
    row = result.years.set_index("year").loc["2030/31"]
    assert row["net_tco2e"] == pytest.approx(gross - 10 - (gross - 10) / 2)


def test_crf_and_npv_arithmetic(latest):
    assert capital_recovery_factor(0.035, 20) == pytest.approx(0.0703610768, abs=1e-9)
    assert capital_recovery_factor(0.0, 4) == 0.25
    inventory, tags, folder = latest
    result = project(inventory, scenario(folder, """
        - {name: small, type: reduce, activity: electricity, quantity: 1000, energy_price_gbp_per_unit: 0.2,
           capex_gbp: 300, start: 2024/25, lifetime_years: 2}
    """), "test", tags)
    measure = result.measures.iloc[0]
    assert measure["npv_gbp"] == pytest.approx(-300 / 1.035 + 200 / 1.035 + 200 / 1.035 ** 2)
    crf = capital_recovery_factor(0.035, 2)
    assert measure["crf"] == pytest.approx(crf)
    assert measure["cost_per_tco2e_gbp"] == pytest.approx((300 * crf - 200) / (1000 * ELECTRICITY))
    assert measure["tco2e_saved_lifetime"] == pytest.approx(2 * 1000 * ELECTRICITY)


def test_the_same_led_saves_less_on_a_decarbonising_grid(latest):
    inventory, tags, folder = latest
    measures = """
        - {name: LED, type: reduce, activity: electricity, percent: 50, start: 2025/26}
    """
    flat = project(inventory, scenario(folder, measures), "test", tags)
    greener = project(inventory, scenario(folder, measures, """
        electricity_factor_projection:
          2027/28: 0.10353714429530201
    """), "test", tags)
    assert savings_by_year(flat, "LED")["2027/28"] == pytest.approx(500_000 * ELECTRICITY)
    # the grid factor falls linearly from the latest year (2023/24) to half of it in 2027/28, then holds
    assert savings_by_year(greener, "LED")["2025/26"] == pytest.approx(500_000 * ELECTRICITY * 3 / 4)
    assert savings_by_year(greener, "LED")["2026/27"] == pytest.approx(500_000 * ELECTRICITY * 5 / 8)
    assert savings_by_year(greener, "LED")["2027/28"] == pytest.approx(500_000 * ELECTRICITY / 2)
    assert savings_by_year(greener, "LED")["2030/31"] == pytest.approx(500_000 * ELECTRICITY / 2)


def test_npv_and_cost_cover_the_whole_life_whatever_the_horizon(latest):
    inventory, tags, folder = latest
    measures = """
        - {name: LED, type: reduce, activity: electricity, percent: 50, start: 2025/26, lifetime_years: 20,
           capex_gbp: 1000000, energy_price_gbp_per_unit: 0.25}
    """
    results = [project(inventory, scenario(folder, measures, f"horizon_year: {horizon}\n"), "test", tags)
               for horizon in ("2035/36", "2045/46")]
    first, second = (result.measures.iloc[0] for result in results)
    assert first["npv_gbp"] == pytest.approx(second["npv_gbp"], rel=1e-12)
    assert first["cost_per_tco2e_gbp"] == pytest.approx(second["cost_per_tco2e_gbp"], rel=1e-12)
    saving = 500_000 * 0.25  # GBP a year, for 20 years from 2025/26, discounted from 2023/24
    expected = -1_000_000 / 1.035 ** 2 + sum(saving / 1.035 ** year for year in range(2, 22))
    assert first["npv_gbp"] == pytest.approx(expected, rel=1e-9)
    assert first["tco2e_saved_lifetime"] == pytest.approx(20 * 500_000 * ELECTRICITY, rel=1e-9)
    assert list(results[0].years["year"])[-1] == "2035/36" and list(results[1].years["year"])[-1] == "2045/46"


@pytest.mark.parametrize("measures, line, fragment", [
    ("- {name: x, type: shrink, activity: electricity, start: 2025/26}\n", 7, "type must be one of"),
    ("- {name: x, type: reduce, activity: electricity, percent: 150, start: 2025/26}\n", 7, "at most 100"),
    ("- {name: x, type: reduce, activity: electrick, percent: 10, start: 2025/26}\n", 7, "unknown activity"),
    ("- {name: x, type: reduce, activity: electricity, percent: 10, start: 2025/26, colour: red}\n", 7,
     "unknown key(s) colour"),
    ("- {name: x, type: reduce, activity: electricity, start: 2025/26}\n", 7, "either percent or quantity"),
    ("- {name: x, type: switch, activity: natural_gas, to_activity: electricity, start: 2025/26}\n", 7,
     "ratio, or boiler_efficiency and cop"),
    ("- {name: x, type: reduce, activity: electricity, percent: ten, start: 2025/26}\n", 7, "must be a number"),
])
def test_invalid_scenarios_name_file_line_and_key(tmp_path, measures, line, fragment):
    with pytest.raises(DataError) as raised:
        scenario(tmp_path, measures)
    assert f"line {line}" in str(raised.value) and fragment in str(raised.value)


def test_example_scenarios_and_command(run_cli):
    from sefton_carbon.outputs.demo import example_council_dir

    folder = example_council_dir()
    code, out, err = run_cli("scenario", "run", folder / "scenarios.yaml", "--from", folder / "returns" / "2024-25",
                             "--year", "2024/25", "--sites", folder / "sites.csv", "--contracts",
                             folder / "contracts.csv", "--spend-factors", folder / "spend-factors.csv",
                             "--format", "json")
    assert code == 0, err
    scenarios = {entry["name"]: entry for entry in json.loads(out)["scenarios"]}
    assert set(scenarios) == {"quick_wins", "heat_and_power", "everything"}
    for entry in scenarios.values():
        assert {"name", "target_year", "bau_tco2e", "scenario_tco2e", "residual_tco2e", "offsets_needed_tco2e",
                "offset_cost_gbp", "npv_gbp", "measures"} <= set(entry)
        assert {"name", "tco2e_saved_annual", "cost_per_tco2e_gbp", "npv_gbp"} <= set(entry["measures"][0])
    assert scenarios["everything"]["reaches_net_zero"] and not scenarios["heat_and_power"]["reaches_net_zero"]
    assert scenarios["heat_and_power"]["scenario_tco2e"] < scenarios["quick_wins"]["scenario_tco2e"]


def test_charts_are_written_to_the_names_given_one_panel_per_scenario(run_cli, tmp_path):
    import re

    from sefton_carbon.outputs.demo import example_council_dir

    folder = example_council_dir()
    code, _, err = run_cli("scenario", "run", folder / "scenarios.yaml", "--from", folder / "returns" / "2024-25",
                           "--year", "2024/25", "--sites", folder / "sites.csv", "--spend-factors",
                           folder / "spend-factors.csv", "--macc", tmp_path / "macc.svg",
                           "--waterfall", tmp_path / "waterfall.svg")
    assert code == 0, err
    assert sorted(path.name for path in tmp_path.iterdir()) == ["macc.svg", "waterfall.svg"]
    for name in ("macc.svg", "waterfall.svg"):
        titles = re.findall(r"(quick_wins|heat_and_power|everything): ", (tmp_path / name).read_text())
        assert sorted(set(titles)) == ["everything", "heat_and_power", "quick_wins"], name
    cost_curve = (tmp_path / "macc.svg").read_text()
    assert "t/yr at" in cost_curve  # the abatement measures are there...
    assert "Offsets for the residual:" not in cost_curve and "Tree planting on council land:" not in cost_curve


@pytest.mark.parametrize("value, shown", [(-6973441.2, "-£6,973,441"), (1234.4, "£1,234"), (0.2, "£0"),
                                          (-0.2, "£0"), (None, "-"), (float("nan"), "-")])
def test_money_is_written_as_finance_writes_it(value, shown):
    from sefton_carbon.outputs.text import money

    assert money(value) == shown


def test_path_like_scenario_names_name_no_file(run_cli, tmp_path, monkeypatch):
    """Issue 16 class 4: names with '/', '..' or a drive are shown as they are written and never
    become a path: only the files named on the command line are written."""
    from sefton_carbon.outputs.demo import example_council_dir

    names = ["../../escaped/scenario", "/etc/passwd", "..", "C:\\Windows\\x", "a" * 100]
    measures = "\n".join(f"      - {{name: '{name}', type: reduce, activity: electricity, percent: 10, start: 2025/26}}"
                         for name in names)
    path = tmp_path / "input" / "scenarios.yaml"
    path.parent.mkdir()
    path.write_text("scenarios:\n" + "".join(f"  '{name}':\n    measures:\n{measures}\n" for name in names),
                    encoding="utf-8")
    work = tmp_path / "work" / "deeper"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    returns = example_council_dir() / "returns" / "2024-25"
    code, out, err = run_cli("scenario", "run", path, "--from", returns, "--year", "2024/25", "--macc", "macc.svg",
                             "--waterfall", "waterfall.svg", "--format", "json")
    assert code == 0, err
    assert [entry["name"] for entry in json.loads(out)["scenarios"]] == names
    assert [entry["name"] for entry in json.loads(out)["scenarios"][0]["measures"]] == names
    code, _, err = run_cli("report", returns, "--year", "2024/25", "--scenarios", path, "--output", "report.html")
    assert code == 0, err
    written = sorted(str(found.relative_to(tmp_path)) for found in tmp_path.rglob("*") if found.is_file())
    assert written == ["input/scenarios.yaml", "work/deeper/macc.svg", "work/deeper/report.html",
                       "work/deeper/report.xlsx", "work/deeper/waterfall.svg"]
    assert "../../escaped/scenario: cost of each measure" in (work / "macc.svg").read_text(encoding="utf-8")


def test_long_names_are_cut_in_charts_only(tmp_path):
    from sefton_carbon.outputs.charts import NAME_SHOWN_CHARACTERS, _shown

    assert _shown("quick_wins") == "quick_wins"
    assert _shown("n" * 100) == "n" * (NAME_SHOWN_CHARACTERS - 1) + "\u2026"
    loaded = scenario(tmp_path, "- {name: '" + "m" * 100 + "', type: reduce, activity: electricity, percent: 10, "
                                "start: 2025/26}\n")
    assert loaded.scenarios["test"][0].name == "m" * 100


@pytest.mark.parametrize("measures, line, fragment", [
    ("- {name: '" + "m" * 101 + "', type: reduce, activity: electricity, percent: 10, start: 2025/26}\n", 7,
     "key 'scenarios.test.measures.0.name': a name of 101 characters, over the 100 allowed"),
    ("- {name: \"a\\tb\", type: reduce, activity: electricity, percent: 10, start: 2025/26}\n", 7,
     "a name must be one line of text"),
    (("- {name: x, type: reduce, activity: electricity, percent: 10, start: 2025/26}\n"
     "- {name: x, type: avoid, activity: electricity, start: 2026/27}\n"), 8, "measure name 'x' is used twice"),
])
def test_names_that_cannot_label_a_row_are_refused(tmp_path, measures, line, fragment):
    with pytest.raises(DataError) as raised:
        scenario(tmp_path, measures)
    assert f"line {line}" in str(raised.value) and fragment in str(raised.value)
