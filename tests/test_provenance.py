"""Reproducible and verifiable: same inputs give the same bytes; verify catches any change."""

import hashlib
import json
import shutil

import pytest

from sefton_carbon.outputs.demo import example_council_dir
from sefton_carbon.outputs.html_report import build_report
from sefton_carbon.outputs.workbook import write_workbook


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def published(tmp_path, run_cli, monkeypatch):
    """An inventory published from a copy of the example council's 2023/24 returns."""
    council = tmp_path / "council"
    shutil.copytree(example_council_dir(), council)
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli("inventory", "council/returns/2023-24", "--year", "2023/24", "--sites",
                           "council/sites.csv", "--contracts", "council/contracts.csv", "--spend-factors",
                           "council/spend-factors.csv", "--output", "published", "--format", "json")
    assert code == 0, err
    return tmp_path / "published", council


def test_same_inputs_give_byte_identical_outputs(published, run_cli, tmp_path):
    folder, _ = published
    code, _, _ = run_cli("inventory", "council/returns/2023-24", "--year", "2023/24", "--sites",
                         "council/sites.csv", "--contracts", "council/contracts.csv", "--spend-factors",
                         "council/spend-factors.csv", "--output", "again", "--format", "json")
    assert code == 0
    for name in ("ledger.csv", "rejected.csv", "files.csv", "summary.json"):
        assert digest(folder / name) == digest(tmp_path / "again" / name), name


def test_workbook_is_byte_identical_between_runs(tmp_path):
    data = build_report([example_council_dir() / "returns"], "2024/25", "2023/24")
    first = write_workbook(data, tmp_path / "one.xlsx")
    second = write_workbook(data, tmp_path / "two.xlsx")
    assert digest(first) == digest(second)


def test_manifest_records_inputs_version_and_figures(published):
    folder, council = published
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["sefton_carbon_version"] and manifest["command"] == "inventory"
    recorded = {item["path"] for item in manifest["inputs"]}
    assert "../council/returns/2023-24/communities.csv" in recorded
    assert any(path.endswith("scopes.yaml") for path in recorded)
    assert any(path.endswith("2023/factors.csv") for path in recorded)
    assert any(path.endswith("activities.yaml") for path in recorded)
    assert manifest["figures"]["total_tco2e"] == pytest.approx(9_353.18, abs=0.01)
    assert set(manifest["outputs"]) == {"ledger.csv", "rejected.csv", "files.csv", "summary.json"}


def test_verify_passes_then_fails_naming_the_changed_file(published, run_cli):
    folder, council = published
    code, out, _ = run_cli("verify", folder)
    assert code == 0 and out.startswith("verified:")
    changed = council / "returns" / "2023-24" / "communities.csv"
    changed.write_text(changed.read_text().replace("Central Library,natural_gas,", "Central Library,natural_gas,1", 1))
    code, out, err = run_cli("verify", folder)
    assert code == 3 and out.startswith("NOT verified")
    assert "input changed since publication: ../council/returns/2023-24/communities.csv" in err
    assert "differs: figures.total_tco2e: published" in err
    assert "differs: figures.by_department.Communities" in err


def test_verify_detects_an_edited_output(published, run_cli):
    folder, _ = published
    summary = folder / "summary.json"
    summary.write_text(summary.read_text().replace('"reporting_year"', '"reporting_year" ', 1))
    code, _, err = run_cli("verify", folder)
    assert code == 3 and "summary.json: the published file was edited after it was written" in err


def test_verify_a_folder_moved_with_its_inputs(published, run_cli, tmp_path):
    folder, council = published
    moved = tmp_path / "archive"
    moved.mkdir()
    shutil.move(folder, moved / "published")
    shutil.move(council, moved / "council")
    code, out, err = run_cli("verify", moved / "published")
    assert code == 0, err


def test_verify_needs_a_manifest(run_cli, tmp_path):
    code, _, err = run_cli("verify", tmp_path)
    assert code == 2 and "no manifest.json here" in err
