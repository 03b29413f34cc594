"""The bundled example council: scale, reconciliation, and figures recomputed independently."""

import json

import pandas as pd
import pytest

from conftest import copy_demo
from sefton_carbon import load_factors
from sefton_carbon.outputs.demo import example_registers, example_returns, run_example_council


@pytest.fixture(scope="module")
def inventories():
    return run_example_council()


def test_six_years_from_2019_20_to_2024_25(inventories):
    assert [year.label for year in inventories] == ["2019/20", "2020/21", "2021/22", "2022/23",
                                                    "2023/24", "2024/25"]


def test_every_row_is_accounted(inventories):
    for inventory in inventories.values():
        assert inventory.rows_rejected == 0
        assert inventory.rows_read == inventory.rows_accounted > 400


def test_baseline_is_a_council_sized_footprint(inventories):
    baseline = next(iter(inventories.values()))
    assert 10_000 <= baseline.total_tco2e <= 15_000
    # Pinned (tolerance 0.5 t) so that an unintended change to factors or code shows up.
    assert baseline.total_tco2e == pytest.approx(12_087, abs=0.5)


def test_baseline_recomputed_from_the_returns_and_the_factor_table(inventories):
    """Recompute 2019/20 directly: sum the returns per activity and unit, multiply by the factors."""
    folder = example_returns()[next(iter(inventories))]
    returns = pd.concat([pd.read_csv(path, skiprows=1) for path in sorted(folder.glob("*.csv"))])
    # The default boundary leaves out sites tagged maintained_school, leased_out and outsourced.
    sites = pd.read_csv(example_registers()["sites"], keep_default_na=False)
    outside = set(sites.loc[sites["tags"].isin(["maintained_school", "leased_out", "outsourced"]), "site"])
    assert len(outside) == 5
    returns = returns[~returns["site"].isin(outside)]
    totals = returns.groupby(["activity", "unit"])["quantity"].sum()
    table = load_factors().table(2019).table

    def factor(level_1, level_3, uom, column_text=None):
        rows = table[(table["level_1"] == level_1) & (table["level_3"] == level_3) & (table["uom"] == uom)]
        if column_text is not None:
            rows = rows[rows["column_text"] == column_text]
        assert len(rows) == 1, (level_1, level_3, uom)
        return rows.iloc[0]["kgco2e"]

    direct = {
        ("natural_gas", "kWh"): factor("Fuels", "Natural gas", "kWh (Gross CV)"),
        ("electricity", "kWh"): factor("UK electricity", "Electricity: UK", "kWh"),
        ("diesel", "litres"): factor("Fuels", "Diesel (average biofuel blend)", "litres"),
        ("gas_oil", "litres"): factor("Fuels", "Gas oil", "litres"),
    }
    expected = sum(totals[key] * value for key, value in direct.items()) / 1000
    ledger = next(iter(inventories.values())).ledger
    computed = ledger.loc[(ledger["line"] == "direct") & ledger["in_boundary"]
                          & ledger["activity"].isin(["natural_gas", "electricity", "diesel", "gas_oil"]),
                          "tco2e"].sum()
    assert computed == pytest.approx(expected, rel=1e-12)


def test_street_lighting_led_programme_shows_in_scope_2(inventories):
    scope_2 = [inventory.by_scope()["scope_2"] for inventory in inventories.values()]
    assert scope_2[-1] < 0.6 * scope_2[0]


def test_run_demo_writes_outputs(demo_output):
    text, folder = demo_output  # run_demo's text and the folder it wrote
    assert "Greenhouse gas inventory 2024/25" in text and "2019/20" in text
    summary = json.loads((folder / "2023-24" / "summary.json").read_text())
    assert summary["rows"]["rejected"] == 0
    assert (folder / "2019-20" / "ledger.csv").stat().st_size > 10_000
    assert (folder / "report.html").is_file() and (folder / "manifest.json").is_file()


@pytest.mark.slow
def test_verify_the_demo_folder_its_report_and_each_year(demo_output, tmp_path, run_cli, monkeypatch):
    monkeypatch.chdir(tmp_path)  # outside the repository, as the demo was run
    folder = copy_demo(demo_output[1], tmp_path / "out")
    manifest = json.loads((folder / "manifest.json").read_text())
    assert set(manifest["outputs"]) == {"report.html", "report.xlsx", "trajectory.svg", "trajectory.json"}
    code, out, err = run_cli("verify", folder)
    assert code == 0, err
    assert len(out.splitlines()) == 7 and all(line.startswith("verified:") for line in out.splitlines())
    code, _, err = run_cli("collect", example_returns()[max(example_returns())], "--year", "2024/25",
                           "-o", folder / "collect-2024-25")  # a publication of its own, inside out/
    code, out, err = run_cli("verify", folder)
    assert code == 0 and len(out.splitlines()) == 8, err
    report = folder / "report.html"
    report.write_text(report.read_text().replace("</h1>", " (draft)</h1>", 1))
    code, out, err = run_cli("verify", folder)
    assert code == 3 and "report.html: the published file was edited after it was written" in err
