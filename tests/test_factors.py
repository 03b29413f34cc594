"""Factor tables: the DESNZ flat-file importer and the committed tables for 2019-2025."""

import hashlib

import pandas as pd
import pytest

from conftest import DATA, flat_file_for, imported_flat_file
from sefton_carbon import resources
from sefton_carbon.accounting.factors import (
    TABLE_COLUMNS,
    load_factors,
    read_factor_table,
    read_flat_file,
    write_factor_table,
)
from sefton_carbon.errors import DataError, UsageError

YEARS = range(2019, 2026)

#: Published values from the reference flat files [kg CO2e per unit], as listed in
#: ../shared/reference/README.md; the committed tables must give these to 5 decimal places.
PUBLISHED = {
    ("Fuels", "Natural gas", "kWh (Gross CV)"):
        [0.18385, 0.18387, 0.18316, 0.18254, 0.18293, 0.18290, 0.18296],
    ("Fuels", "Natural gas", "cubic metres"):
        [2.03053, 2.02266, 2.02135, 2.01574, 2.03839, 2.04542, 2.06672],
    ("Fuels", "Diesel (average biofuel blend)", "litres"):
        [2.59411, 2.54603, 2.51233, 2.55784, 2.51206, 2.51279, 2.57082],
    ("UK electricity", "Electricity: UK", "kWh"):
        [0.25560, 0.23314, 0.21233, 0.19338, 0.20707, 0.20705, 0.17700],
    ("Transmission and distribution", "Electricity: UK", "kWh"):
        [0.02170, 0.02005, 0.01879, 0.01769, 0.01792, 0.01830, 0.01853],
    ("Refrigerant & other", "R410A", "kg"): [2088, 2088, 2088, 2088, 1924, 1924, 1924],
}


def _published_row(table: pd.DataFrame, level_1: str, level_3: str, uom: str) -> pd.Series:
    rows = table[(table["level_1"] == level_1) & (table["level_3"].str.lower() == level_3.lower())
                 & (table["uom"] == uom)]
    if level_1 == "Refrigerant & other":  # 2022+ give Kyoto-only and total rows: same value here
        rows = rows.head(1)
    assert len(rows) == 1, (level_1, level_3, uom, len(rows))
    return rows.iloc[0]


@pytest.mark.parametrize("year", YEARS)
def test_committed_tables_give_published_values(year):
    table = load_factors().table(year).table
    for (level_1, level_3, uom), values in PUBLISHED.items():
        row = _published_row(table, level_1, level_3, uom)
        assert row["kgco2e"] == pytest.approx(values[year - 2019], abs=5e-6), (level_1, level_3)


@pytest.mark.parametrize("year", YEARS)
def test_committed_metadata_cites_source_licence_and_gwp(year):
    metadata = load_factors().table(year).metadata
    assert metadata["publication_year"] == year
    assert metadata["licence"] == "Open Government Licence v3.0"
    assert metadata["sheet"] == "Factors by Category"
    assert len(metadata["source_sha256"]) == 64
    assert ("AR5" if year >= 2023 else "AR4") in metadata["gwp_basis"]


@pytest.mark.parametrize("year, version", [(2019, "1.03"), (2020, "1"), (2021, "3"), (2022, "3"),
                                           (2023, "1.1"), (2024, "1.1"), (2025, None)])
def test_versions_from_the_front_page(year, version):
    assert load_factors().table(year).metadata["version"] == version


@pytest.mark.parametrize("year", YEARS)
def test_reimporting_each_reference_file_reproduces_the_committed_table(year, tmp_path):
    path = flat_file_for(year)
    imported = imported_flat_file(year)  # read_flat_file(path), as the two tests below import it too
    committed = read_factor_table(resources.factors_dir() / str(year))
    assert imported.year == year
    assert imported.metadata["source_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert imported.metadata["source_sha256"] == committed.metadata["source_sha256"]
    # Exact equality: no value is rounded on import or by the CSV round trip.
    pd.testing.assert_frame_equal(imported.table, committed.table, check_exact=True)
    written = read_factor_table(write_factor_table(imported, tmp_path))
    pd.testing.assert_frame_equal(written.table, imported.table, check_exact=True)


@pytest.mark.parametrize("year", YEARS)
def test_import_keeps_every_value_row_or_counts_why_not(year):
    metadata = imported_flat_file(year).metadata
    skipped = metadata["skipped"]
    counted = (metadata["values_kept"] + skipped["blank_rows"] + skipped["secr_energy_rows"]
               + skipped["empty_values"] + skipped["text_values"] + skipped["unknown_gas_labels"])
    assert counted == metadata["rows_read"]
    if year >= 2020:
        assert skipped["secr_energy_rows"] > 500


def test_2023_keeps_full_binary_precision():
    table = load_factors().table(2023).table
    gas = _published_row(table, "Fuels", "Natural gas", "kWh (Gross CV)")
    assert gas["kgco2e"] == 0.18292892617449666
    assert gas["desnz_id"] == "1_100_1004_6"


def test_per_gas_components_are_kept():
    table = load_factors().table(2019).table
    gas = _published_row(table, "Fuels", "Natural gas", "kWh (Gross CV)")
    assert gas[["kgco2e_co2", "kgco2e_ch4", "kgco2e_n2o"]].sum() == pytest.approx(gas["kgco2e"], abs=2e-5)


def test_factor_keys_are_unique_and_columns_fixed():
    for year in YEARS:
        table = load_factors().table(year).table
        assert list(table.columns) == TABLE_COLUMNS
        assert table["factor_key"].is_unique


def test_older_layout_by_header_names():
    imported = read_flat_file(DATA / "flat-file-2016-layout.csv")
    table = imported.table
    assert imported.year == 2016
    assert list(table["factor_key"]) == [
        "scope-1/fuels/gaseous-fuels/natural-gas/energy-gross-cv/kwh-gross-cv",
        "scope-2/uk-electricity/electricity-generated/electricity-uk/kwh"]
    gas = table.iloc[0]
    assert (gas["kgco2e"], gas["kgco2e_co2"], gas["kgco2e_ch4"], gas["kgco2e_n2o"]) == (0.1, 0.09, 0.006, 0.004)
    assert imported.metadata["skipped"] == {
        "blank_rows": 1, "secr_energy_rows": 1, "empty_values": 1, "text_values": 1,
        "unknown_gas_labels": 0, "components_without_total": 0}
    assert imported.metadata["rows_read"] == 9  # the row after END is not read


def test_xlsx_with_id_column_and_front_page(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    workbook = openpyxl.Workbook()
    front = workbook.active
    front.title = "Front page"
    front.append(["UK Government GHG Conversion Factors for Company Reporting"])
    front.append(["Version:", "2.0", "Year:", 2026])
    front.append(["Updated:", "2026-06-10"])
    sheet = workbook.create_sheet("Factors by Category")
    for _ in range(5):
        sheet.append(["title row"])
    sheet.append(["ID", "Scope", "Level 1", "Level 2", "Level 3", "Level 4", "Column Text", "UOM",
                  "GHG/Unit", "GHG Conversion Factor 2026"])
    sheet.append(["7_400_4000_5_1", "Scope 2", "UK electricity", "Electricity generated",
                  "Electricity: UK", "kWh", None, "kWh", "kg CO2e", 0.15])
    sheet.append(["7_400_4000_5_2", "Scope 2", "UK electricity", "Electricity generated",
                  "Electricity: UK", "kWh", None, "kWh", "kg CO2e of CO2 per unit", 0.149])
    sheet.append([None, "END"])
    path = tmp_path / "flat-2026.xlsx"
    workbook.save(path)
    imported = read_flat_file(path)
    assert imported.year == 2026
    assert imported.metadata["version"] == "2.0"
    assert imported.metadata["updated"] == "2026-06-10"
    row = imported.table.iloc[0]
    assert (row["desnz_id"], row["kgco2e"], row["kgco2e_co2"]) == ("7_400_4000_5", 0.15, 0.149)
    assert imported.metadata["gwp_basis"].startswith("IPCC AR5")


def test_a_workbook_without_the_factor_sheet_is_refused(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    workbook = openpyxl.Workbook()
    workbook.active.title = "Something else"
    path = tmp_path / "wrong.xlsx"
    workbook.save(path)
    with pytest.raises(DataError, match="has no sheet 'Factors by Category'"):
        read_flat_file(path)


def test_a_file_without_a_header_is_refused(tmp_path):
    path = tmp_path / "notes.csv"
    path.write_text("just,some\ntext,here\n", encoding="utf-8")
    with pytest.raises(DataError, match="no header row"):
        read_flat_file(path)


def test_user_factors_dir_takes_precedence_for_its_years(tmp_path):
    imported = read_flat_file(DATA / "flat-file-2016-layout.csv")
    write_factor_table(imported, tmp_path)
    library = load_factors(tmp_path)
    assert 2016 in library.years and 2023 in library.years
    assert library.table(2016).table.iloc[0]["kgco2e"] == 0.1


def test_missing_year_is_a_usage_error_naming_the_fix():
    with pytest.raises(UsageError, match="no factor table for 2031.*factors import"):
        load_factors().table(2031)


def test_search_finds_rows_by_words():
    found = load_factors().search("natural gas gross", 2025)
    assert set(found["level_3"]) >= {"Natural gas"}
    assert (found["factor_year"] == 2025).all()


@pytest.mark.parametrize("year", YEARS)
def test_bundled_tables_hold_no_negative_or_non_finite_factor(year):
    """Why a negative factor is refused on import and in --factors-dir: DESNZ published none."""
    values = load_factors().table(year).table[["kgco2e", "kgco2e_co2", "kgco2e_ch4", "kgco2e_n2o"]]
    assert values["kgco2e"].notna().all()
    assert not (values < 0).any().any() and not values.isin([float("inf"), float("-inf")]).any().any()


@pytest.mark.parametrize("value, fragment", [("inf", "'inf' is not a finite number"),
                                             (-0.15, "'-0.15' is negative: DESNZ publishes no negative factor")])
def test_a_workbook_factor_not_finite_or_negative_is_refused_naming_its_cell(tmp_path, value, fragment):
    openpyxl = pytest.importorskip("openpyxl")
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Factors by Category"
    sheet.append(["Scope", "Level 1", "Level 2", "Level 3", "Level 4", "Column Text", "UOM", "GHG/Unit",
                  "GHG Conversion Factor 2026"])
    sheet.append(["Scope 2", "UK electricity", "Electricity generated", "Electricity: UK", None, None, "kWh",
                  "kg CO2e", 0.15])
    sheet.append(["Scope 1", "Fuels", "Gaseous fuels", "Natural gas", None, None, "kWh", "kg CO2e", value])
    path = tmp_path / "flat-2026.xlsx"
    workbook.save(path)
    with pytest.raises(DataError) as raised:
        read_flat_file(path)
    assert str(raised.value).startswith(f"{path}, sheet 'Factors by Category', row 3, column "
                                        f"'GHG Conversion Factor 2026': {fragment}")


def test_a_table_read_back_is_checked_and_equal(tmp_path):
    """A table that passes the checks of --factors-dir reads back exactly as it was written."""
    imported = read_flat_file(DATA / "flat-file-2016-layout.csv")
    written = read_factor_table(write_factor_table(imported, tmp_path))
    pd.testing.assert_frame_equal(written.table, imported.table, check_exact=True)
    assert written.year == 2016 and written.metadata == imported.metadata
