"""Reproducible and verifiable: same inputs give the same bytes; verify catches any change."""

import hashlib
import json
import shutil
import sys

import pytest

from sefton_carbon.cli.app import main
from sefton_carbon.outputs.demo import example_council_dir
from sefton_carbon.outputs.html_report import build_report
from sefton_carbon.outputs.workbook import write_workbook


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


INVENTORY = ["inventory", "council/returns/2023-24", "--year", "2023/24", "--sites", "council/sites.csv",
             "--contracts", "council/contracts.csv", "--spend-factors", "council/spend-factors.csv"]


@pytest.fixture(scope="module")
def published_once(tmp_path_factory):
    """An inventory published from a copy of the example council's 2023/24 returns, by the command
    run in the folder holding both: (the published folder, the council's folder). Read only: a test
    that changes either works on `published`, a copy of both."""
    working = tmp_path_factory.mktemp("published")
    shutil.copytree(example_council_dir(), working / "council")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(working)
        patch.setattr(sys, "argv", ["sefton-carbon", *INVENTORY, "--output", "published", "--format", "json"])
        with pytest.raises(SystemExit) as stopped:
            main()
    assert not stopped.value.code
    return working / "published", working / "council"


@pytest.fixture
def published(published_once, tmp_path, monkeypatch):
    """`published_once`'s two folders copied side by side into this test's own folder, the working
    folder: the manifest records its paths relative to it and to itself, so the copy verifies as the
    original does."""
    folder, council = published_once
    shutil.copytree(council, tmp_path / "council")
    shutil.copytree(folder, tmp_path / "published")
    monkeypatch.chdir(tmp_path)
    return tmp_path / "published", tmp_path / "council"


def test_same_inputs_give_byte_identical_outputs(published, run_cli, tmp_path):
    folder, _ = published
    code, _, _ = run_cli(*INVENTORY, "--output", "again", "--format", "json")
    assert code == 0
    for name in ("ledger.csv", "rejected.csv", "files.csv", "summary.json"):
        assert digest(folder / name) == digest(tmp_path / "again" / name), name


def test_workbook_is_byte_identical_between_runs(tmp_path):
    data = build_report([example_council_dir() / "returns"], "2024/25", "2023/24")
    first = write_workbook(data, tmp_path / "one.xlsx")
    second = write_workbook(data, tmp_path / "two.xlsx")
    assert digest(first) == digest(second)


def test_manifest_records_inputs_version_and_figures(published_once):
    folder, _ = published_once
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["sefton_carbon_version"] and manifest["command"] == "inventory"
    recorded = {item["path"] for item in manifest["inputs"]}
    assert "../council/returns/2023-24/communities.csv" in recorded
    assert {"bundled:scopes.yaml", "bundled:emission_factors/2023/factors.csv",
            "bundled:emission_factors/activities.yaml"} <= recorded
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


def moved_to_archive(published, tmp_path):
    """The published folder and the council's files moved together into ``archive/``."""
    folder, council = published
    moved = tmp_path / "archive"
    moved.mkdir()
    shutil.move(folder, moved / "published")
    shutil.move(council, moved / "council")
    return moved / "published"


def test_verify_a_folder_moved_with_its_inputs(published, run_cli, tmp_path):
    code, out, err = run_cli("verify", moved_to_archive(published, tmp_path))
    assert code == 0, err


def test_verify_needs_a_manifest(run_cli, tmp_path):
    code, _, err = run_cli("verify", tmp_path)
    assert code == 2 and "no manifest.json here" in err


def test_verify_catches_an_edited_files_csv(published, run_cli):
    folder, _ = published
    files = folder / "files.csv"
    files.write_text(files.read_text().replace("\n", "\r\n"))
    code, _, err = run_cli("verify", folder)
    assert code == 3 and "files.csv: the published file was edited after it was written" in err


def test_verify_catches_an_edited_output_in_a_moved_folder(published, run_cli, tmp_path):
    moved = moved_to_archive(published, tmp_path)
    ledger = moved / "ledger.csv"
    ledger.write_bytes(ledger.read_bytes() + b"\n")
    code, _, err = run_cli("verify", moved)
    assert code == 3 and "ledger.csv: the published file was edited after it was written" in err


def test_verify_catches_a_file_added_to_the_folder(published, run_cli):
    folder, _ = published
    (folder / "extra.csv").write_text("a,b\n1,2\n")
    code, _, err = run_cli("verify", folder)
    assert code == 3 and "extra.csv: not in the manifest (added after publication)" in err


def test_verify_catches_an_input_changed_without_moving_a_figure(published, run_cli):
    folder, council = published
    returns = council / "returns" / "2023-24" / "communities.csv"
    returns.write_bytes(returns.read_bytes().replace(b"\n", b"\r\n"))  # line endings only
    code, out, err = run_cli("verify", folder)
    assert code == 3 and out.startswith("NOT verified")
    assert "input changed since publication: ../council/returns/2023-24/communities.csv" in err
    assert "differs: figures" not in err


def test_manifest_without_inputs_is_a_one_line_data_error(published, run_cli):
    folder, _ = published
    manifest = json.loads((folder / "manifest.json").read_text())
    del manifest["inputs"]
    (folder / "manifest.json").write_text(json.dumps(manifest))
    code, _, err = run_cli("verify", folder)
    assert code == 3 and "Traceback" not in err
    assert err.strip().endswith("is not a manifest this version can read: it has no 'inputs'")


def test_manifest_holds_no_absolute_path(published_once):
    folder, _ = published_once  # the folder it was written in, the one its paths would name
    text = (folder / "manifest.json").read_text()
    assert str(folder.parent) not in text and "working_directory" not in text


def test_collect_outputs_are_all_in_the_manifest_and_verified(run_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shutil.copytree(example_council_dir(), tmp_path / "council")
    code, _, err = run_cli("collect", "council/returns/2023-24", "--year", "2023/24", "--sites",
                           "council/sites.csv", "-o", "collected")
    assert code in (0, 3), err
    manifest = json.loads((tmp_path / "collected" / "manifest.json").read_text())
    assert {"coverage.csv", "scoping_register.csv", "warnings.csv", "ledger.csv"} <= set(manifest["outputs"])
    coverage = tmp_path / "collected" / "coverage.csv"
    coverage.write_text(coverage.read_text() + "Invented,2023-04,1\n")
    code, _, err = run_cli("verify", "collected")
    assert code == 3 and "coverage.csv: the published file was edited after it was written" in err


def test_runs_publishing_into_one_folder_never_interleave(tmp_path, monkeypatch):
    from concurrent.futures import ThreadPoolExecutor

    from sefton_carbon.engines.pipeline import compute_inventory
    from sefton_carbon.outputs.manifest import publish_inventory, verify

    monkeypatch.chdir(tmp_path)
    shutil.copytree(example_council_dir() / "returns", tmp_path / "returns")
    runs = [("returns/2023-24", "2023/24"), ("returns/2024-25", "2024/25")]
    inventories = {year: compute_inventory(path, year) for path, year in runs}

    def publish(number: int) -> None:
        path, year = runs[number % 2]
        publish_inventory(inventories[year], tmp_path / "shared", "inventory", [path], {"reporting_year": year})

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(publish, range(8)))
    result = verify(tmp_path / "shared")
    assert result.ok, result.differences


def test_verify_a_folder_of_years(run_cli, tmp_path, monkeypatch):
    from sefton_carbon.engines.pipeline import compute_inventory
    from sefton_carbon.outputs.manifest import publish_inventory

    monkeypatch.chdir(tmp_path)
    shutil.copytree(example_council_dir() / "returns", tmp_path / "returns")
    for folder, year in (("2023-24", "2023/24"), ("2024-25", "2024/25")):
        publish_inventory(compute_inventory(f"returns/{folder}", year), tmp_path / "out" / folder, "inventory",
                          [f"returns/{folder}"], {"reporting_year": year})
    code, out, err = run_cli("verify", "out")
    assert code == 0, err
    assert [line.split(" in ")[-1] for line in out.splitlines()] == [
        f"{tmp_path / 'out' / folder} match their recorded inputs" for folder in ("2023-24", "2024-25")]
    (tmp_path / "out" / "2024-25" / "summary.json").write_text("{}\n")
    code, out, _ = run_cli("verify", "out")
    assert code == 3 and out.splitlines()[0].startswith("verified:") and out.splitlines()[1].startswith("NOT verified")


def test_verify_a_collection_priced_with_imported_factors(run_cli, tmp_path, monkeypatch):
    from sefton_carbon.resources import factors_dir

    monkeypatch.chdir(tmp_path)
    shutil.copytree(example_council_dir(), tmp_path / "council")
    shutil.copytree(factors_dir() / "2022", tmp_path / "my-factors" / "2023")  # 2022's values, as if 2023's
    code, _, err = run_cli("collect", "council/returns/2023-24", "--year", "2023/24", "--factors-dir", "my-factors",
                           "--sites", "council/sites.csv", "-o", "collected")
    assert code in (0, 3), err
    code, out, err = run_cli("verify", "collected")
    assert code == 0, err
