"""The committee report (HTML, checked in a real browser) and the auditors' workbook."""

import re
from pathlib import Path

import pytest

from conftest import gas_row, write_rows
from sefton_carbon import compute_inventory
from sefton_carbon.outputs.demo import example_council_dir, example_registers
from sefton_carbon.outputs.html_report import SECTIONS, build_report, write_html
from sefton_carbon.outputs.workbook import write_workbook



@pytest.fixture(scope="module")
def report_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("report")
    data = build_report([example_council_dir() / "returns"], "2024/25", "2019/20",
                        scenarios=example_council_dir() / "scenarios.yaml", **example_registers())
    return data, write_html(data, folder / "report.html"), write_workbook(data, folder / "report.xlsx",
                                                                             {"Street lighting (unmetered)"})


def test_report_is_self_contained(report_files):
    _, html, _ = report_files
    text = html.read_text(encoding="utf-8")
    assert "<script" not in text and "<link" not in text and not re.search(r"url\((?!#)", text)
    assert not re.search(r"""(src|href)=["']https?:""", text)
    assert text.count("<svg") >= 5  # scopes, trajectory, three cost curves
    for section in SECTIONS:
        assert f'<section id="{section}">' in text
    assert "9,093 t CO2e" in text and "-24.8%" in text  # headline: total and change since the baseline
    assert "@media print" in text and 'name="viewport"' in text


def test_report_figures_match_the_inventory(report_files):
    data, html, _ = report_files
    text = html.read_text(encoding="utf-8")
    scopes = data.scope_table().set_index("line")
    assert scopes.loc["Scope 2: electricity, location-based", "tco2e"] == pytest.approx(data.inventory.by_scope()["scope_2_location"])
    assert f"{data.inventory.by_scope()['scope_2_market']:,.1f}" in text
    assert "Rows read 637 = accounted 637 + rejected 0" in text


def test_report_shows_the_gases_and_biogenic_co2_beside_the_scopes(report_files):
    data, html, _ = report_files
    text = html.read_text(encoding="utf-8")
    gases = text[text.index('id="gases"'):text.index('id="departments"')]
    table = data.inventory.gas_table().set_index("gas")
    for label, value in zip(table["label"], table["tco2e"]):
        assert f"<td>{label}</td><td class=\"num\">{value:,.1f}</td>" in gases
    scopes = data.inventory.by_scope()
    assert table["tco2e"].sum() == pytest.approx(scopes["scope_1"] + scopes["scope_2_location"])
    assert table.loc["hfcs", "tco2e"] > 0 and table.loc["co2", "tco2e"] > 0
    biogenic = data.inventory.biogenic_co2_tonnes
    assert biogenic > 0
    assert f"Biogenic CO2: <strong>{biogenic:,.1f} t CO2</strong>" in text
    assert text.index('id="biogenic"') < text.index('id="departments"')  # in the scopes section


@pytest.mark.parametrize("width, height", [(1280, 900), (390, 844)])
def test_report_in_a_real_browser(report_files, browser, width, height, tmp_path):
    _, html, _ = report_files
    browser.set_window_size(width, height)
    browser.get(html.resolve().as_uri())
    viewport = browser.execute_script("return window.innerWidth")
    overflow = browser.execute_script("return document.documentElement.scrollWidth")
    assert overflow <= viewport + 1, f"page is {overflow}px wide in a {viewport}px window"
    for section in SECTIONS:
        box = browser.execute_script(f"return document.getElementById('{section}').getBoundingClientRect().height")
        assert box > 40, section
    charts = browser.execute_script(
        "return Array.from(document.querySelectorAll('figure svg')).map(s => {const r = s.getBoundingClientRect();"
        " return [r.width, r.height, s.querySelectorAll('path, rect, use').length];})")
    assert len(charts) >= 5
    for chart_width, chart_height, shapes in charts:
        assert 100 < chart_width <= viewport and chart_height > 80 and shapes > 10
    assert browser.execute_script("return document.querySelectorAll('figure figcaption').length") == len(charts)
    screenshot = Path(tmp_path) / f"report-{width}.png"
    assert browser.save_screenshot(str(screenshot)) and screenshot.stat().st_size > 20_000


def test_workbook_sheets_numbers_and_lga_mapping(report_files):
    openpyxl = pytest.importorskip("openpyxl")
    data, _, book = report_files
    workbook = openpyxl.load_workbook(book, read_only=True)
    assert workbook.sheetnames == ["Summary", "By scope and category", "By gas", "By department", "By site",
                                   "Ledger", "Rejected rows", "Boundary", "Methodology", "LGA tool mapping"]
    summary = {row[0]: row for row in workbook["Summary"].iter_rows(min_row=4, values_only=True)}
    assert summary["Total emissions"][2] == pytest.approx(data.inventory.total_tco2e)
    assert summary["Biogenic CO2, outside of scopes (t CO2, in no total)"][2] == pytest.approx(
        data.inventory.biogenic_co2_tonnes)
    gases = {row[0]: row[1] for row in workbook["By gas"].iter_rows(min_row=4, values_only=True)}
    assert list(gases)[:3] == ["Carbon dioxide (CO2)", "Methane (CH4)", "Nitrous oxide (N2O)"] and len(gases) == 8
    scopes = data.inventory.by_scope()
    assert sum(gases.values()) == pytest.approx(scopes["scope_1"] + scopes["scope_2_location"])
    mapping = list(workbook["LGA tool mapping"].iter_rows(min_row=4, values_only=True))
    areas = {row[0] for row in mapping}
    assert {"Street lighting (Scope 2)", "Buildings: electricity (Scope 2)", "Fleet and plant fuel (Scope 1)"} <= areas
    assert sum(row[2] for row in mapping) == pytest.approx(data.inventory.total_tco2e)  # location-based option


def test_text_from_returns_cannot_run_as_a_formula(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    path = write_rows(tmp_path / "evil.csv", [gas_row(site="=cmd|' /C calc'!A0", department="@SUM(A1)")])
    returns = tmp_path / "returns"
    returns.mkdir()
    path.rename(returns / "evil.csv")
    data = build_report([returns], "2023/24")
    book = write_workbook(data, tmp_path / "evil.xlsx")
    ledger = openpyxl.load_workbook(book)["Ledger"]
    header = [cell.value for cell in ledger[1]]
    site = ledger.cell(row=2, column=header.index("site") + 1)
    department = ledger.cell(row=2, column=header.index("department") + 1)
    assert (site.value, site.data_type) == ("=cmd|' /C calc'!A0", "s")
    assert (department.value, department.data_type) == ("@SUM(A1)", "s")
    assert all(cell.data_type != "f" for row in ledger.iter_rows() for cell in row)
    inventory = compute_inventory(returns, "2023/24")
    assert inventory.ledger["site"].iloc[0] == "=cmd|' /C calc'!A0"
