"""Trajectory: pathways, budgets, the view from the latest year, and the activity/factor split."""

import json

import pandas as pd
import pytest

from conftest import gas_row, write_rows
from sefton_carbon.engines.pipeline import compute_inventories
from sefton_carbon.errors import DataError, UsageError
from sefton_carbon.outputs.demo import example_council_dir, example_registers
from sefton_carbon.planning.trajectory import (
    Pathway,
    activity_factor_split,
    compute_trajectory,
    read_totals,
    trajectory_of,
)


def totals(**years):
    return pd.DataFrame({"year": [year.replace("_", "/")[1:] for year in years], "tco2e": list(years.values())})


def pathway_values(result):
    return dict(zip(result.years["year"], result.years["pathway_tco2e"]))


def test_percent_pathway_compounds_from_the_baseline():
    result = compute_trajectory(totals(y2019_20=10_000), "2019/20", pathway="percent:10")
    values = pathway_values(result)
    assert values["2020/21"] == pytest.approx(9_000) and values["2021/22"] == pytest.approx(8_100)
    assert values["2030/31"] == pytest.approx(10_000 * 0.9 ** 11)
    assert "not the residual" in result.notes[0]


def test_linear_pathway_reaches_the_residual_and_its_budget():
    result = compute_trajectory(totals(y2019_20=11_000), "2019/20", residual_tco2e=0)
    values = pathway_values(result)
    assert values["2020/21"] == pytest.approx(10_000) and values["2030/31"] == pytest.approx(0)
    # 12 points from 11,000 down to 0 in equal steps: 11,000 x 12 / 2.
    assert result.budget_tco2e == pytest.approx(66_000)
    with_residual = compute_trajectory(totals(y2019_20=11_000), "2019/20", residual_tco2e=1_100)
    assert pathway_values(with_residual)["2030/31"] == pytest.approx(1_100)
    assert pathway_values(with_residual)["2020/21"] == pytest.approx(11_000 - 900)


def test_sbti_pathway_cuts_4_2_percent_of_the_baseline_each_year():
    values = pathway_values(compute_trajectory(totals(y2019_20=10_000), "2019/20", pathway="sbti"))
    assert values["2020/21"] == pytest.approx(9_580) and values["2021/22"] == pytest.approx(9_160)
    assert values["2030/31"] == pytest.approx(10_000 * (1 - 0.042 * 11))


def test_actuals_gaps_and_the_view_from_the_latest_year():
    result = compute_trajectory(totals(y2019_20=11_000, y2020_21=9_500, y2021_22=9_800, y2022_23=8_800),
                                "2019/20")
    table = result.years.set_index("year")
    assert table.loc["2020/21", "gap_tco2e"] == pytest.approx(-500) and table.loc["2020/21", "on_track"]
    assert table.loc["2021/22", "gap_tco2e"] == pytest.approx(800) and not table.loc["2021/22", "on_track"]
    assert table.loc["2025/26", "on_track"] is None
    latest = result.latest
    assert latest["latest_year"] == "2022/23" and latest["budget_used_tco2e"] == pytest.approx(39_100)
    assert latest["budget_remaining_tco2e"] == pytest.approx(66_000 - 39_100)
    assert latest["required_annual_cut_tco2e"] == pytest.approx(8_800 / 8)
    assert latest["required_annual_reduction_pct"] == pytest.approx(12.5)
    rate = (8_800 / 11_000) ** (1 / 3) - 1
    assert latest["trend_annual_change_pct"] == pytest.approx(100 * rate)
    assert latest["expected_target_year_tco2e"] == pytest.approx(8_800 * (1 + rate) ** 8)
    assert latest["offsets_or_removals_needed_tco2e"] == pytest.approx(8_800 * (1 + rate) ** 8)


def test_removals_and_offsets_stay_separate_lines():
    actuals = pd.DataFrame({"year": ["2019/20", "2020/21"], "tco2e": [1_000.0, 900.0],
                            "removals_tco2e": [0.0, 50.0], "offsets_tco2e": [0.0, 100.0]})
    row = compute_trajectory(actuals, "2019/20").years.set_index("year").loc["2020/21"]
    assert (row["actual_tco2e"], row["removals_tco2e"], row["offsets_tco2e"], row["net_tco2e"]) == (900, 50, 100, 750)


def test_activity_factor_split_on_a_two_year_case():
    # Gas: 100,000 kWh at 0.2 kg/kWh, then 80,000 kWh at 0.25 kg/kWh: 20 t both years.
    # Electricity: 50,000 kWh both years, factor 0.3 -> 0.2 kg/kWh: all of the fall is the grid.
    quantities = {"2022/23": pd.DataFrame({"activity": ["natural_gas", "electricity"], "factor_unit": ["kWh", "kWh"],
                                           "quantity": [100_000, 50_000], "tco2e": [20.0, 15.0]}),
                  "2023/24": pd.DataFrame({"activity": ["natural_gas", "electricity"], "factor_unit": ["kWh", "kWh"],
                                           "quantity": [80_000, 50_000], "tco2e": [20.0, 10.0]})}
    split = activity_factor_split(quantities).set_index("activity")
    assert split.loc["natural_gas", "activity_effect_tco2e"] == pytest.approx(-20_000 * (0.0002 + 0.00025) / 2)
    assert split.loc["natural_gas", "factor_effect_tco2e"] == pytest.approx(0.00005 * 180_000 / 2)
    assert split.loc["electricity", "activity_effect_tco2e"] == pytest.approx(0)
    assert split.loc["electricity", "factor_effect_tco2e"] == pytest.approx(-5)
    total = split["activity_effect_tco2e"] + split["factor_effect_tco2e"]
    assert (total - split["change_tco2e"]).abs().max() < 1e-12


def test_new_and_stopped_activities_count_as_activity_change():
    quantities = {"2022/23": pd.DataFrame({"activity": ["diesel"], "factor_unit": ["litre"], "quantity": [1000.0],
                                           "tco2e": [2.5]}),
                  "2023/24": pd.DataFrame({"activity": ["homeworking"], "factor_unit": ["fte_hour"],
                                           "quantity": [1000.0], "tco2e": [0.3]})}
    split = activity_factor_split(quantities).set_index("activity")
    assert split.loc["diesel", "activity_effect_tco2e"] == pytest.approx(-2.5)
    assert split.loc["homeworking", "activity_effect_tco2e"] == pytest.approx(0.3)
    assert (split["factor_effect_tco2e"] == 0).all()


def test_split_from_inventories_separates_the_grid_from_use(tmp_path):
    rows = [gas_row(100_000, "kWh", "2022-06-01", "2022-06-30", activity="electricity"),
            gas_row(100_000, "kWh", "2023-06-01", "2023-06-30", activity="electricity")]
    inventories, rejected = compute_inventories(write_rows(tmp_path / "two-years.csv", rows),
                                                scope_option="scope_1_2")
    assert rejected.empty and [year.label for year in inventories] == ["2022/23", "2023/24"]
    result = trajectory_of(inventories, "2022/23")
    split = result.split.set_index("activity")
    assert split.loc["electricity", "activity_effect_tco2e"] == pytest.approx(0, abs=1e-9)
    # Grid factor 0.19338 (2022) -> 0.20707428859 (2023) kg CO2e/kWh on 100,000 kWh.
    assert split.loc["electricity", "factor_effect_tco2e"] == pytest.approx(100 * (0.20707428859060403 - 0.19338))
    assert any("GWP basis" in note for note in result.notes)


@pytest.fixture(scope="module")
def example_council():
    """The example council's six years with its registers, computed once (6 s): (inventories, rejected rows)."""
    return compute_inventories(example_council_dir() / "returns", **example_registers())


def test_example_council_trajectory_for_each_pathway(example_council):
    inventories, rejected = example_council
    assert rejected.empty and len(inventories) == 6
    for pathway in ("linear", "percent:13", "sbti"):
        result = trajectory_of(inventories, "2019/20", pathway=pathway)
        summary = result.summary()
        assert len(summary["years"]) == 12
        assert summary["years"][0]["actual_tco2e"] == pytest.approx(12_086.7, abs=0.1)
        assert summary["years"][-1]["actual_tco2e"] is None
    linear = trajectory_of(inventories, "2019/20")
    assert linear.latest["latest_tco2e"] == pytest.approx(9_093.5, abs=0.1)


def test_invalid_inputs():
    with pytest.raises(UsageError, match="pathway 'percent:150'"):
        Pathway.parse("percent:150")
    with pytest.raises(UsageError, match="no emissions for the baseline year 2018/19"):
        compute_trajectory(totals(y2019_20=1.0), "2018/19")
    with pytest.raises(UsageError, match="must come after the baseline"):
        compute_trajectory(totals(y2019_20=1.0), "2019/20", target="2019/20")
    for residual in (float("nan"), float("inf"), -1.0):
        with pytest.raises(UsageError, match="residual allowed in the target year must be a number of tonnes"):
            compute_trajectory(totals(y2019_20=1.0), "2019/20", residual_tco2e=residual)


@pytest.mark.parametrize("content, fragment", [
    ("year,total\n2019/20,1\n", "missing column(s) tco2e; expected year, tco2e"),
    ("year,tco2e\n2019,100\n", "row 2, column 'year': year '2019' is not a financial year"),
    ("year,tco2e\n2019/20,lots\n", "row 2, column 'tco2e': tco2e 'lots' is not a number"),
    ("year,tco2e\n2019/20,-5\n", "row 2, column 'tco2e': tco2e must be a number of tonnes from 0 to 1,000,000,000"),
    ("year,tco2e\n2019/20,1e308\n2020/21,1e308\n", "row 2, column 'tco2e': tco2e must be a number of tonnes"),
    ("year,tco2e\n2019/20,inf\n", "row 2, column 'tco2e': tco2e must be a number of tonnes"),
    ("year,tco2e,offsets_tco2e\n2019/20,5,nan\n", "row 2, column 'offsets_tco2e': offsets_tco2e must be a number"),
])
def test_totals_file_errors(tmp_path, content, fragment):
    path = tmp_path / "totals.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DataError) as raised:
        read_totals(path)
    assert fragment in str(raised.value)


def test_trajectory_command_json_and_chart(tmp_path, run_cli):
    path = tmp_path / "totals.csv"
    path.write_text("year,tco2e\n2019/20,10000\n2020/21,9500\n2021/22,8000\n", encoding="utf-8")
    chart = tmp_path / "trajectory.svg"
    code, out, err = run_cli("trajectory", "--totals", path, "--baseline", "2019/20", "--pathway", "percent:10",
                             "--format", "json", "--chart", chart)
    assert code == 0, err
    summary = json.loads(out)
    assert summary["pathway"] == "percent:10" and summary["target_year"] == "2030/31"
    assert [year["pathway_tco2e"] for year in summary["years"][:3]] == pytest.approx([10_000, 9_000, 8_100])
    assert summary["years"][2]["on_track"] is True and summary["years"][1]["on_track"] is False
    assert summary["years"][3]["actual_tco2e"] is None and summary["years"][3]["on_track"] is None
    assert len(summary["years"]) == 12
    assert isinstance(summary["budget_tco2e"], float) and "required_annual_reduction_pct" in summary
    svg = chart.read_text(encoding="utf-8")
    assert svg.startswith("<?xml") and "Emissions (tonnes CO2e)" in svg and "Financial year" in svg
    code, _, err = run_cli("trajectory", "--baseline", "2019/20")
    assert code == 2 and "either returns" in err


def test_trajectory_from_returns_is_the_commands_twin(example_council):
    from sefton_carbon.planning.trajectory import trajectory_from_returns

    result, rejected = trajectory_from_returns(example_council_dir() / "returns", "2019/20", pathway="percent:13",
                                               **example_registers())
    inventories, _ = example_council
    expected = trajectory_of(inventories, "2019/20", pathway="percent:13")
    assert list(result.years["actual_tco2e"].dropna()) == pytest.approx(list(expected.years["actual_tco2e"].dropna()),
                                                                       rel=1e-12)
    assert len(result.years["actual_tco2e"].dropna()) == 6
    assert len(rejected) == sum(len(inventory.rejected) for inventory in inventories.values())


def test_the_cut_needed_follows_the_pathway_and_net_zero_is_claimed_only_when_reached():
    from sefton_carbon.outputs.text import format_trajectory

    actuals = totals(y2019_20=10_000.0, y2024_25=8_000.0)
    linear = compute_trajectory(actuals, "2019/20", pathway="linear", residual_tco2e=500.0)
    assert linear.latest["reaches_net_zero"] and linear.latest["goal_tco2e"] == 500.0
    assert linear.latest["required_annual_cut_tco2e"] == pytest.approx((8_000 - 500) / 6)
    assert format_trajectory(linear).startswith("Trajectory to net zero in 2030/31")

    percent = compute_trajectory(actuals, "2019/20", pathway="percent:13")
    goal = 10_000 * 0.87 ** 11  # the pathway's value in 2030/31, eleven years after the baseline
    assert not percent.latest["reaches_net_zero"] and percent.latest["goal_tco2e"] == pytest.approx(goal)
    assert percent.latest["required_annual_cut_tco2e"] == pytest.approx((8_000 - goal) / 6)
    text = format_trajectory(percent)
    assert text.startswith("Trajectory to 2030/31 (this pathway does not reach net zero)")
    assert "net zero in" not in text.splitlines()[0]
