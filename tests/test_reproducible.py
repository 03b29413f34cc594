"""Outputs are the same bytes on every run, and every cell written is safe to open."""

import csv
import hashlib
import io
import time
import zipfile

from sefton_carbon.engines.pipeline import compute_inventories
from sefton_carbon.outputs.charts import trajectory_chart
from sefton_carbon.outputs.demo import example_council_dir
from sefton_carbon.planning.trajectory import trajectory_of
from sefton_carbon.returns.template import template_csv, write_template


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_svg_chart_is_byte_identical_between_runs(tmp_path):
    inventories, _ = compute_inventories(example_council_dir() / "returns")
    trajectory = trajectory_of(inventories, min(inventories))
    first = trajectory_chart(trajectory, tmp_path / "one.svg")
    second = trajectory_chart(trajectory, tmp_path / "two.svg")
    assert digest(first) == digest(second)
    assert "<dc:date>" not in first.read_text()


def test_template_workbook_is_byte_identical_between_runs(tmp_path):
    first = write_template("Adult Social Care", tmp_path / "one.xlsx", "2024/25")
    time.sleep(1.1)  # the workbook would otherwise record the second it was written
    second = write_template("Adult Social Care", tmp_path / "two.xlsx", "2024/25")
    assert digest(first) == digest(second)
    with zipfile.ZipFile(first) as book:
        assert "2020-01-01T00:00:00Z" in book.read("docProps/core.xml").decode()


def test_template_never_writes_a_department_as_a_formula(tmp_path):
    path = write_template("=1+1", tmp_path / "formula.xlsx", "2024/25")
    with zipfile.ZipFile(path) as book:
        sheets = "".join(book.read(name).decode() for name in book.namelist() if name.startswith("xl/worksheets/"))
    assert "<f>" not in sheets


def test_template_csv_defuses_and_quotes_the_department():
    rows = list(csv.reader(io.StringIO(template_csv("=1+1"))))
    assert rows[1][0] == "'=1+1" and len(rows[1]) == len(rows[0])
    rows = list(csv.reader(io.StringIO(template_csv("Parks, Leisure"))))
    assert rows[1][0] == "Parks, Leisure" and len(rows[1]) == len(rows[0])


def test_a_department_name_never_leads_outside_the_folder(run_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path / "..")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    code, _, err = run_cli("template", "--department", "x/../../../escaped", "--year", "2024/25")
    assert code == 0, err
    assert [path.name for path in work.iterdir()] == ["return-x-escaped.xlsx"]
    assert not list(tmp_path.parent.glob("*escaped*"))
