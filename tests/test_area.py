"""Borough-wide emissions: both forms of the statistics, breaks, comparators, the area pathway."""

import json

import pytest

from conftest import DATA, REFERENCE
from sefton_carbon.errors import DataError, UsageError
from sefton_carbon.planning.area import annual_cut_for_budget, area_profile, read_area, read_long, read_wide

FIXTURE = DATA / "la-long-fixture.csv"
WIDE = REFERENCE / "la-emissions" / "local_authority_emissions.csv"


def test_long_form_sums_gases_and_keeps_not_available_missing():
    table = read_long(FIXTURE)
    exampleton = table[(table["la_code"] == "E06000999") & (table["year"] == 2018)].set_index("subsector")
    assert exampleton.loc["Domestic Gas", "kt"] == pytest.approx(102.0)
    assert exampleton.loc["Road Transport (Motorways)", "kt"] != exampleton.loc["Road Transport (Motorways)", "kt"]
    assert exampleton["basis"].iloc[0].startswith("kt CO2e (all greenhouse gases), within the scope of influence")
    territorial = read_long(FIXTURE, measure="territorial")
    row = territorial[(territorial["year"] == 2018) & (territorial["subsector"] == "Road Transport (Motorways)")]
    assert row["kt"].iloc[0] == 50.0


def test_long_form_with_the_other_spelling_of_the_influence_column(tmp_path):
    text = FIXTURE.read_text(encoding="utf-8").replace(
        "CO2 emissions within the scope of influence of LAs (kt CO2e)", "Emissions within the scope of influence of LAs (kt CO2)")
    path = tmp_path / "other-edition.csv"
    path.write_text(text, encoding="utf-8")
    assert read_long(path)["kt"].sum() == pytest.approx(read_long(FIXTURE)["kt"].sum())


def test_long_form_profile_breaks_and_comparators():
    profile = area_profile("Exampleton", FIXTURE)
    summary = profile.summary()
    assert (summary["la"], summary["code"]) == ("Exampleton", "E06000999")
    assert [year["total_kt"] for year in summary["years"]] == pytest.approx([122.0, 151.0])
    assert summary["years"][1]["per_person_t"] == pytest.approx(151.0 / 201.0)
    assert summary["series_breaks"] == [{"year": 2019, "subsector": "Industry Gas", "ratio": 3.0}]
    assert [row["la_code"] for row in summary["similar_authorities"]] == ["E06000998"]


def test_bad_long_form_is_refused(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(FIXTURE.read_text(encoding="utf-8").replace("100.5,100.5", "100.5,lots"), encoding="utf-8")
    with pytest.raises(DataError, match="row 2, column 'CO2 emissions within the scope of influence"):
        read_long(path)


def test_area_files_are_decoded_like_every_other_input(tmp_path):
    windows = tmp_path / "windows-1252.csv"
    windows.write_bytes(FIXTURE.read_text(encoding="utf-8").replace("Exampleton", "Exampléton").encode("cp1252"))
    assert set(read_area(windows)["la_name"]) == {"Exampléton", "Otherby"}
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"\x89PNG\x00\x00garbage")
    with pytest.raises(DataError, match="binary.csv.*is not a text file"):
        read_area(binary)


def test_bundled_sefton_matches_the_source_data():
    profile = area_profile("Sefton")
    totals = {year["year"]: year["total_kt"] for year in profile.summary()["years"]}
    assert totals[2005] == pytest.approx(1480.0, abs=0.05)
    assert totals[2019] == pytest.approx(1013.7, abs=0.05)
    assert totals[2020] == pytest.approx(924.1, abs=0.05)
    flagged = {(item["year"], item["subsector"]) for item in profile.summary()["series_breaks"]}
    assert {(2014, "Public Sector Gas"), (2014, "Commercial Gas"), (2014, "Industry Gas")} <= flagged
    assert len(profile.similar) == 5 and "SFT" not in set(profile.similar["la_code"])
    assert "mySociety" in profile.source and "CC BY 4.0" in profile.source


def test_bundle_rows_equal_the_reference_wide_file():
    if not WIDE.is_file():
        pytest.skip(f"reference data not found at {WIDE} (a user's clone has no ../shared; CI provides it)")
    reference = read_wide(WIDE)
    bundled = read_area()
    sefton = reference[reference["la_code"] == "SFT"].reset_index(drop=True)
    mine = bundled[bundled["la_code"] == "SFT"].reset_index(drop=True)
    assert (mine["kt"] - sefton["kt"]).abs().max() < 1e-9


def test_area_pathway_from_a_budget():
    rate = annual_cut_for_budget(100.0, 500.0, 9)
    cumulative = sum(100.0 * (1 - rate / 100) ** year for year in range(10))
    assert cumulative == pytest.approx(500.0, rel=1e-9)
    profile = area_profile("Sefton", budget_kt=8000, baseline=2020, target=2050)
    pathway = profile.summary()["pathway"]
    assert pathway["budget_tco2e"] == pytest.approx(8_000_000, rel=1e-6)
    assert pathway["years"][0]["year"] == 2020
    with pytest.raises(UsageError, match="not both"):
        area_profile("Sefton", budget_kt=8000, annual_cut_pct=10)


def test_area_command_json_and_chart(run_cli, tmp_path):
    chart = tmp_path / "area.svg"
    code, out, err = run_cli("area", "--la", "SFT", "--format", "json", "--chart", chart,
                             "--council-tco2e", "9093", "--annual-cut-pct", "12", "--baseline", "2019")
    assert code == 0, err
    summary = json.loads(out)
    assert {"la", "code", "years", "series_breaks"} <= set(summary)
    assert {"year", "total_kt", "per_person_t", "sectors"} <= set(summary["years"][0])
    assert summary["council_share"]["share_of_total"] == pytest.approx(9.093 / 924.094027, rel=1e-6)
    assert "the two bases differ" in summary["council_share"]["note"]
    svg = chart.read_text(encoding="utf-8")
    assert "series break?" in svg and "Calendar year" in svg
    code, _, err = run_cli("area", "--la", "Borough")
    assert code == 2 and "matches" in err


def _own_table(tmp_path, edit):
    """A copy of the first rows of the bundled area table, with ``edit`` applied to its text."""
    from sefton_carbon.resources import examples_dir

    lines = (examples_dir() / "area" / "la-emissions.csv").read_text().splitlines()[:4]
    path = tmp_path / "area.csv"
    path.write_text(edit("\n".join(lines) + "\n"))
    return path


@pytest.mark.parametrize("edit, fragment", [
    (lambda text: text.replace(",2005,", ",twenty,", 1), "'twenty' is not a number or [x]"),
    (lambda text: text.replace(",270.939,", ",lots,", 1), "'lots' is not a number or [x]"),
    (lambda text: text.replace(",0.021701411776430563,", ",inf,", 1), "kt is inf"),
    (lambda text: text.replace(",0.021701411776430563,", ",1e999,", 1), "kt is inf"),
    (lambda text: text.replace(",270.939,", ",nan,", 1), "'nan' is not a number or [x]"),
    (lambda text: text.replace(",270.939,", ",-1,", 1), "population_thousands is -1 for London Borough of Brent 2005"),
    (lambda text: text.replace(",2005,", ",2607,", 1), "year is 2607 for London Borough of Brent 2607: each row needs "
     "a calendar year from 1990 to 2100"),
    (lambda text: text + text.splitlines()[1] + "\n", "Agriculture is given twice: keep one row"),
])
def test_area_table_with_impossible_numbers_is_refused(tmp_path, edit, fragment):
    path = _own_table(tmp_path, edit)
    with pytest.raises(DataError) as raised:
        read_area(path)
    assert fragment in str(raised.value) and str(path) in str(raised.value)


def test_long_form_with_a_repeated_gas_row_is_refused(tmp_path):
    lines = (DATA / "la-long-fixture.csv").read_text().splitlines()
    path = tmp_path / "long.csv"
    path.write_text("\n".join(lines + [lines[1]]) + "\n")
    with pytest.raises(DataError, match=f"row {len(lines) + 1}.*repeats the authority, year, sub-sector and gas"):
        read_area(path)


@pytest.mark.parametrize("option", ["council_tco2e", "break_ratio", "budget_kt", "annual_cut_pct"])
def test_area_options_that_are_not_finite_are_refused(option):
    with pytest.raises(UsageError, match="must be a finite number"):
        area_profile("Sefton", **{option: float("nan")})
