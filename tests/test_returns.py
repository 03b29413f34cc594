"""Departmental returns: messy files, validation, coverage, collection and the template."""

import datetime as dt
import json

import pytest

from conftest import gas_row, write_rows
from sefton_carbon.accounting.ghg_protocol import SOURCE_TYPES
from sefton_carbon.accounting.sites import read_sites
from sefton_carbon.outputs.files import write_collection
from sefton_carbon.resources import examples_dir
from sefton_carbon.returns.activity import read_activity
from sefton_carbon.returns.collection import collect, validate_returns
from sefton_carbon.returns.template import read_scoping, write_template

MESSY = examples_dir() / "messy-returns"
RETURNS = MESSY / "2023-24"
SITES = MESSY / "sites.csv"
# 2023 factors [kg CO2e per unit]: gas + well-to-tank; electricity + T&D + both well-to-tank lines;
# diesel + well-to-tank.
GAS = 0.18292892617449666 + 0.03021
ELECTRICITY = 0.20707428859060403 + 0.017915111409395973 + 0.0459 + 0.00397
DIESEL = 2.5120638845637586 + 0.61101


@pytest.fixture(scope="module")
def messy():
    return collect(RETURNS, "2023/24", SITES)


def test_every_messy_row_is_accounted_or_rejected(messy):
    files = messy.inventory.files.set_index(messy.inventory.files["source_file"].map(lambda p: p.split("/")[-1]))
    assert files[["rows_read", "rows_accounted", "rows_rejected"]].to_dict(orient="index") == {
        "adult-social-care.xlsx": {"rows_read": 4, "rows_accounted": 4, "rows_rejected": 0},
        "communities.csv": {"rows_read": 3, "rows_accounted": 2, "rows_rejected": 1},
        "corporate-resources.csv": {"rows_read": 4, "rows_accounted": 2, "rows_rejected": 2},
        "highways.csv": {"rows_read": 2, "rows_accounted": 1, "rows_rejected": 1},
        "operational-services.csv": {"rows_read": 7, "rows_accounted": 2, "rows_rejected": 5}}
    assert files.loc["communities.csv", "blank_rows"] == 2  # the comment row and the blank row


def test_messy_rejections_and_their_reasons(messy):
    rejected = messy.inventory.rejected
    found = [(path.split("/")[-1], row, column) for path, row, column
             in zip(rejected["source_file"], rejected["source_row"], rejected["column"])]
    assert found == [("communities.csv", 7, "department"), ("corporate-resources.csv", 2, "period_start"),
                     ("corporate-resources.csv", 3, "period_start"), ("highways.csv", 3, "period_start"),
                     ("operational-services.csv", 3, "activity"), ("operational-services.csv", 4, "unit"),
                     ("operational-services.csv", 5, "quantity"), ("operational-services.csv", 6, "period_start"),
                     ("operational-services.csv", 7, "period_end")]
    reasons = list(rejected["reason"])
    assert "total row" in reasons[0]
    assert "overlaps" in reasons[1] and "row 3" in reasons[1] and "row 2" in reasons[2]
    assert reasons[3].startswith("duplicate of") and "corporate-resources.csv row 4" in reasons[3]
    assert "did you mean 'natural_gas'" in reasons[4] and "UK gallons" in reasons[5]
    assert "negative" in reasons[6] and "'31/02/2024' is not a date" in reasons[7]
    assert reasons[8] == "period ends before it starts"


def test_messy_totals(messy):
    inventory = messy.inventory
    by_activity = inventory.by("activity")
    gas_kwh = 52000 + 48500.5 + 12500 + 180000
    assert by_activity["natural_gas"] == pytest.approx(gas_kwh * GAS / 1000)
    electricity_kwh = 21000 + 310000 * 14 / 31 + 300000 + 800  # the straddling bill: 1 to 14 April
    assert by_activity["electricity"] == pytest.approx(electricity_kwh * ELECTRICITY / 1000)
    assert by_activity["diesel"] == pytest.approx(65000 * DIESEL / 1000)
    assert inventory.total_tco2e == pytest.approx(395.7497, abs=1e-4)


def test_messy_parsing_details(messy):
    rows = messy.inventory.rows
    excel = rows[rows["source_file"].astype(str).str.endswith(".xlsx")]
    assert list(excel["quantity"]) == [52000, 48500.5, 21000, 9800]
    assert excel.iloc[2]["unit"] == "kWh" and excel.iloc[0]["period_end"] == dt.datetime(2023, 4, 30)
    notes = rows.loc[rows["site"] == "Central Library", "notes"].iloc[0]
    assert notes == "Supplier\u2019s \u201cestimated\u201d read corrected"


def test_messy_warnings_coverage_and_strict(messy):
    warnings = messy.validation.warnings
    assert sorted(warnings["message"].str.split(":").str[0]) == [
        "estimated value", "estimated value", "estimated value", "site is not in the sites register"]
    coverage = messy.coverage.set_index(["site", "activity"])
    assert coverage.loc[("Beechwood Care Home", "natural_gas"), "months_covered"] == 2
    assert coverage.loc[("Southside Depot", "(no return)"), "months_covered"] == 0
    assert coverage.loc[("Street lighting (unmetered)", "electricity"), "months_missing"].startswith("Jun 2023")
    strict = collect(RETURNS, "2023/24", SITES, strict=True)
    assert strict.inventory.rows_rejected == 10
    assert "site is not in the sites register (--strict)" in list(strict.inventory.rejected["reason"])


def test_collect_writes_its_outputs(messy, tmp_path):
    written = write_collection(messy, tmp_path)
    assert {path.name for path in written.values()} == {
        "ledger.csv", "rejected.csv", "files.csv", "summary.json", "coverage.csv", "scoping_register.csv",
        "warnings.csv"}
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["rows"]["read"] == 20 and summary["rows"]["accounted"] == 11 and summary["rows"]["rejected"] == 9


def test_validate_command(run_cli):
    code, out, _ = run_cli("validate", RETURNS, "--year", "2023/24", "--sites", SITES, "--format", "json")
    assert code == 3
    result = json.loads(out)
    assert (result["rows_read"], result["rows_with_errors"], result["warnings"]) == (20, 9, 4)
    code, out, _ = run_cli("validate", RETURNS / "adult-social-care.xlsx")
    assert code == 0 and out.strip().endswith("4 rows read: 0 with errors (0 errors), 0 warnings")


def test_validate_flags_a_site_using_five_times_last_year(tmp_path):
    previous = write_rows(tmp_path / "previous.csv", [gas_row(1000, start="2022-04-01", end="2022-04-30")])
    now = write_rows(tmp_path / "now.csv", [gas_row(6000)])
    result = validate_returns([now], previous=[previous])
    assert any("6.0 times last year's 1,000 kWh" in message for message in result.warnings["message"])


def test_template_round_trip(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    path = write_template("Communities", tmp_path / "communities.xlsx", "2023/24",
                          read_sites(examples_dir() / "example-council" / "sites.csv"))
    workbook = openpyxl.load_workbook(path)
    assert workbook.sheetnames == ["Instructions", "Lists", "Scoping", "Entry"]
    entry = workbook["Entry"]
    assert entry.freeze_panes == "A3" and entry["A3"].value == "Communities"
    validations = {str(rule.sqref).split(":")[0]: rule.type for rule in entry.data_validations.dataValidation}
    assert validations["B3"] == "list" and validations["E3"] == "decimal" and validations["G3"] == "date"
    sites = [cell.value for cell in workbook["Lists"]["D"][1:] if cell.value]
    assert "Central Library" in sites and "North Town Hall" not in sites
    # Fill in one row and one scoping answer, as a department would, and read the return back.
    entry.append([])  # no-op guard for openpyxl's append position
    for column, value in zip("BCDEFGHI", ["Central Library", "", "natural_gas", 1500, "kWh",
                                          dt.datetime(2023, 4, 1), dt.datetime(2023, 4, 30), "actual"]):
        entry[f"{column}3"] = value
    workbook["Scoping"]["C3"] = "yes"
    workbook["Scoping"]["D3"] = "Facilities team"
    workbook["Scoping"]["E3"] = "invoice"
    workbook.save(path)
    data = read_activity(path)
    assert len(data.rows) == 1 and data.rejected.empty
    assert data.files.iloc[0]["blank_rows"] == 499  # template rows with only the department
    scoping = read_scoping(path)
    assert list(scoping["source_type"]) == [next(iter(SOURCE_TYPES))]
    assert scoping.iloc[0]["data_holder"] == "Facilities team"


def test_template_csv(run_cli):
    code, out, _ = run_cli("template", "--department", "Education", "--format", "csv")
    assert code == 0
    assert out.splitlines() == ["department,site,meter,activity,quantity,unit,period_start,period_end,"
                                "data_quality,notes", "Education,,,,,,,,,"]


def test_scoping_register_from_the_returns(messy):
    register = messy.scoping.set_index("source_type")
    assert list(register.index) == ["buildings", "refrigerant_equipment", "contracts_and_outsourced_services",
                                    "staff_travel"]
    assert set(register["department"]) == {"Adult Social Care"}
    assert register.loc["buildings", "data_arrived"] == "yes"
    assert register.loc["refrigerant_equipment", "data_arrived"] == "no"
    assert register.loc["staff_travel", "data_arrived"] == "yes"
    assert register.loc["staff_travel", "included_in_options"] == (
        "own_operations, own_operations_with_schools_and_contracts, full_footprint_with_procurement")
    assert register.loc["contracts_and_outsourced_services", "included_in_options"] == (
        "own_operations_with_schools_and_contracts, full_footprint_with_procurement")
    assert register.loc["buildings", "suggested_actions"] == "LED lighting, boiler controls"
