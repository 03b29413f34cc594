"""Base-year recalculation (issue #15, point 5; GHG Protocol Corporate Standard, chapter 5): the
baseline restated like-for-like on the latest year's factors, beside the baseline as reported, and
flagged when the change passes the significance threshold of scopes.yaml."""

import json

import pytest

from conftest import gas_row, write_rows
from sefton_carbon.accounting.boundary import load_boundary_options
from sefton_carbon.errors import DataError
from sefton_carbon.planning.trajectory import trajectory_from_returns

#: DESNZ flat files, Waste disposal / Refuse / Commercial and industrial waste / Landfill [kg CO2e per
#: tonne]: 2019 (row without an ID, source row 6811) and 2023 (20_507_5313_15).
LANDFILL_2019, LANDFILL_2023 = 99.7592, 520.3347434629953


def returns(tmp_path, baseline_rows):
    folder = tmp_path / "returns"
    folder.mkdir()
    write_rows(folder / "2019-20.csv", baseline_rows)
    write_rows(folder / "2023-24.csv", [gas_row(5000, start="2023-04-01", end="2023-04-30")])
    return folder


def landfill(tonnes, start="2019-04-01", end="2020-03-31"):
    return gas_row(tonnes, "tonnes", start, end, activity="waste_landfill")


def test_landfill_baseline_restated_on_the_2023_factors_is_flagged(tmp_path):
    folder = returns(tmp_path, [landfill(100)])
    trajectory, _ = trajectory_from_returns([folder], "2019/20")
    restatement = trajectory.restatement
    assert restatement["reported_factor_year"] == 2019 and restatement["restated_factor_year"] == 2023
    assert restatement["reported_tco2e"] == pytest.approx(100 * LANDFILL_2019 / 1000, rel=1e-9)
    assert restatement["restated_tco2e"] == pytest.approx(100 * LANDFILL_2023 / 1000, rel=1e-9)
    assert restatement["change_pct"] == pytest.approx(100 * (LANDFILL_2023 / LANDFILL_2019 - 1), rel=1e-9)
    assert restatement["recalculate"] is True
    assert restatement["by_activity"][0]["activity"] == "waste_landfill"
    assert any("recalculate the baseline (GHG Protocol Corporate Standard, chapter 5)" in note
               for note in trajectory.notes)
    assert json.loads(json.dumps(trajectory.summary()))["baseline_restatement"]["recalculate"] is True


def test_a_small_change_stands_and_electricity_keeps_its_reported_figure(tmp_path):
    # 0.1 t of landfill beside a large electricity and gas baseline: the landfill change is small, and
    # the grid's change from 2019 to 2023 is real progress, not a change of method.
    folder = returns(tmp_path, [landfill(0.1),
                                gas_row(400000, start="2019-04-01", end="2020-03-31", activity="electricity"),
                                gas_row(400000, start="2019-04-01", end="2020-03-31")])
    trajectory, _ = trajectory_from_returns([folder], "2019/20")
    restatement = trajectory.restatement
    changed = {entry["activity"]: entry["change_tco2e"] for entry in restatement["by_activity"]}
    assert "electricity" not in changed and restatement["kept_as_reported"] == ["electricity"]
    assert changed["waste_landfill"] == pytest.approx(0.1 * (LANDFILL_2023 - LANDFILL_2019) / 1000, rel=1e-9)
    assert abs(restatement["change_pct"]) < 5 and restatement["recalculate"] is False
    assert any("within the significance threshold of 5%: the baseline stands" in note for note in trajectory.notes)


def test_homeworking_published_only_from_2022_is_priced_in_the_restated_baseline(tmp_path):
    hours = gas_row(10000, "fte_hour", "2019-04-01", "2020-03-31", activity="homeworking")
    folder = returns(tmp_path, [hours, landfill(1)])
    trajectory, rejected = trajectory_from_returns([folder], "2019/20")
    restatement = trajectory.restatement
    assert restatement["rows_accounted_reported"] == 1 and restatement["rows_accounted_restated"] == 2
    assert len(rejected) == 1 and "homeworking" in rejected["reason"].iloc[0].lower()
    changed = {entry["activity"]: entry for entry in restatement["by_activity"]}
    assert changed["homeworking"]["reported_tco2e"] == 0 and changed["homeworking"]["restated_tco2e"] > 0


def test_the_threshold_and_kept_activities_come_from_scopes_yaml(tmp_path):
    bundled = load_boundary_options()
    assert bundled.significance_threshold_pct == 5.0 and bundled.keep_reported == ("electricity",)
    text = bundled.source.read_text(encoding="utf-8")
    strict = tmp_path / "scopes.yaml"
    strict.write_text(text.replace("significance_threshold_pct: 5", "significance_threshold_pct: 50"),
                      encoding="utf-8")
    folder = returns(tmp_path, [landfill(100)])
    trajectory, _ = trajectory_from_returns([folder], "2019/20", scopes_file=strict)
    assert trajectory.restatement["significance_threshold_pct"] == 50 and trajectory.restatement["recalculate"]
    for bad in ("significance_threshold_pct: .nan", "significance_threshold_pct: 100", "significance_threshold_pct: x"):
        broken = tmp_path / "broken.yaml"
        broken.write_text(text.replace("significance_threshold_pct: 5", bad), encoding="utf-8")
        with pytest.raises(DataError, match="significance_threshold_pct"):
            load_boundary_options(broken)
