"""A catalogue of bad inputs: each gives a one-line message naming the place, exit code 3 (2 for a
missing file or an output refused), and no traceback; every input row is still accounted for or listed.

The classes of issue 16 (hostile inputs, round 2) and the tests that hold each, here unless a file
is named ("cases" are the ids of the parametrized tests here):

1. Workbook sheets: every sheet with an activity header read, a hidden sheet's rows rejected
   naming it: test_workbook_sheets.py; a sheet formatted to XFD1048576 refused before it is loaded,
   hidden sheets known as hidden: test_spreadsheets.py.
2. Impossible dates: cases "date in the year 2607", "date in the year 1438"; contracts:
   test_boundary.py::test_a_contract_dated_outside_the_window_is_refused.
3. Non-finite and absurd numbers: cases "NaN", "infinity", "absurd magnitude"; a factor imported:
   cases "DESNZ flat file factor inf / nan / 1e999 / -0.1", test_factors.py::
   test_a_workbook_factor_not_finite_or_negative_is_refused_naming_its_cell; a factor in
   --factors-dir: test_bad_factors_dir ("factors.csv inf / nan / negative factor / text for a
   number"); scenarios.yaml: test_config.py; trajectory totals and options: test_trajectory.py::
   test_invalid_inputs, ::test_totals_file_errors; area tables and options: test_area.py::
   test_area_table_with_impossible_numbers_is_refused, ::test_area_options_that_are_not_finite_are_refused,
   ::test_long_form_with_a_repeated_gas_row_is_refused.
4. One line, exit 2 or 3, never "internal error":
   - a cell over 131,072 characters: case "workbook cell over 131,072 characters"; cases "... cell
     over 131,072 characters" of every register, the totals and area tables and the flat file, and
     "... text over 10,000 characters" of the YAML files; test_bad_factors_dir ("factors.csv cell
     over 131,072 characters"); a CSV return: test_a_csv_return_with_a_cell_over_131072_characters_is_refused;
   - YAML nested 500 deep, aliases, not a mapping, in every YAML read: test_bad_yaml_in_every_yaml_read;
   - a scenario named with '/' or '..': test_scenarios.py::test_path_like_scenario_names_name_no_file;
     300-character names, line breaks, a measure named twice: cases "scenario name ...", "measure name
     given twice";
   - a bad metadata.yaml or factors.csv in --factors-dir: test_bad_factors_dir;
   - an output under a file, a folder as the output, a name too long, a full disk: test_writing.py;
   - a manifest without inputs: test_provenance.py::test_manifest_without_inputs_is_a_one_line_data_error;
   - a meter reading in the year 1: test_meters.py::test_readings_dated_before_1970_are_counted_outside_the_year.
5. Outputs never clobber or re-read inputs: test_outputs_never_write_over_their_inputs (every command
   that writes files: collect, report, template, scenario run, trajectory, area, meters, inventory);
   test_writing.py::test_outputs_never_overwrite_or_hide_the_returns;
   test_reproducible.py::test_a_department_name_never_leads_outside_the_folder.
6. Formula text in every CSV written: test_reports.py::test_written_csv_has_no_live_formulas_but_keeps_numbers,
   test_cli_pricing.py::test_csv_cells_are_formula_safe, test_reproducible.py::
   test_template_csv_defuses_and_quotes_the_department.
7. verify catches every change: test_provenance.py (the test_verify_* tests).
8. Byte-identical outputs: test_reproducible.py; test_provenance.py::
   test_same_inputs_give_byte_identical_outputs, ::test_manifest_holds_no_absolute_path; input files
   named alike on every machine in ledgers and summaries: test_recorded_names.py.
9. Text: a bad byte after the first 64 KiB, NFKC names without invisible characters, look-alikes
   read as Latin with a warning: test_text_faults.py.
10. A file read once: test_activity.py::test_each_file_is_read_once_and_published_folders_never; a
    file changing while it is read refused, and the manifest holding the digest of the bytes read:
    test_changing_input.py.
11. Two runs into one folder: test_provenance.py::test_runs_publishing_into_one_folder_never_interleave.
"""

import csv
import io
import shutil
import textwrap
import zipfile

import pytest

from conftest import DATA, HEADER, gas_row, write_rows
from conftest import xlsx_bytes as xlsx
from sefton_carbon import resources
from sefton_carbon.io.cells import MAX_CELL_CHARACTERS

CSV_HEADER = ",".join(HEADER) + "\n"
#: A cell one character longer than any cell may be (`cells.MAX_CELL_CHARACTERS`).
LONG_TEXT = "x" * (MAX_CELL_CHARACTERS + 1)
LONG_REASON = f"cell holds {MAX_CELL_CHARACTERS + 1:,} characters, over the {MAX_CELL_CHARACTERS:,} a cell may hold"


def row(*values) -> str:
    return ",".join(map(str, values)) + "\n"


def gas(quantity="1000", unit="kWh", start="2023-04-01", end="2023-04-30", activity="natural_gas",
        quality="actual", site="Town Hall") -> str:
    return row("Corporate", site, activity, quantity, unit, start, end, quality, "")


def with_long_cell(workbook: bytes, placeholder: str = "LONG") -> bytes:
    """A workbook with its cell holding ``placeholder`` given `LONG_TEXT` instead, written into the
    sheet's XML: Excel and openpyxl cut a cell at 32,767 characters, a crafted file need not."""
    source, stream = zipfile.ZipFile(io.BytesIO(workbook)), io.BytesIO()
    with zipfile.ZipFile(stream, "w", zipfile.ZIP_DEFLATED) as archive:
        for member in source.infolist():
            archive.writestr(member, source.read(member).replace(placeholder.encode(), LONG_TEXT.encode()))
    return stream.getvalue()


def zip_bomb() -> bytes:
    stream = io.BytesIO()
    with zipfile.ZipFile(stream, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * 30_000_000)
    return stream.getvalue()


#: (case, file name, content, what the message must say, whether it names a row and column)
ACTIVITY_CASES = [
    ("empty file", "empty.csv", b"", "no header row in the first 20 rows", False),
    ("header only", "header.csv", CSV_HEADER.encode(), "has a header row but no data rows", True),
    ("binary junk renamed .csv", "junk.csv", b"\x00\x01\x02PK\x03\x04\xff\xfe\x00junk", "is not a text file", False),
    ("wrong sheet", "wrong-sheet.xlsx", "WRONG_SHEET", "no header row", False),
    ("merged header cells", "merged.xlsx", "MERGED", "the header row lacks", True),
    ("duplicated column names", "dupes.csv", (CSV_HEADER.strip() + ",Qty\n" + gas()).encode(),
     "all mean 'quantity': keep one", True),
    ("missing required columns", "missing.csv", b"department,site,activity,quantity\nA,B,natural_gas,1\n",
     "the header row lacks unit, period_start, period_end", True),
    ("unsupported file type", "return.pdf", b"%PDF-1.4", "unsupported file type '.pdf'", False),
    ("numbers as text with spaces", "spaces.csv", (CSV_HEADER + gas('"1 234"')).encode(),
     "has spaces between digits: write 1234", True),
    ("comma as the decimal separator", "comma.csv", (CSV_HEADER + gas('"12,5"')).encode(),
     "uses a comma as the decimal separator: write 12.5", True),
    ("negative quantity", "negative.csv", (CSV_HEADER + gas("-40")).encode(),
     "accepted only when data_quality is 'correction'", True),
    ("NaN", "nan.csv", (CSV_HEADER + gas("NaN")).encode(), "quantity is NaN, not a number", True),
    ("infinity", "inf.csv", (CSV_HEADER + gas("inf")).encode(), "not a finite number", True),
    ("absurd magnitude", "huge.csv", (CSV_HEADER + gas("4e15")).encode(), "implausibly large", True),
    ("text in the quantity", "text.csv", (CSV_HEADER + gas("lots")).encode(), "'lots' is not a number", True),
    ("empty quantity", "emptyq.csv", (CSV_HEADER + gas("")).encode(), "quantity is empty", True),
    ("date that does not exist", "feb31.csv", (CSV_HEADER + gas(start="31/02/2024", end="2024-03-31")).encode(),
     "period_start '31/02/2024' is not a date", True),
    ("period ending before it starts", "backwards.csv",
     (CSV_HEADER + gas(start="2023-09-30", end="2023-09-01")).encode(), "period ends before it starts", True),
    ("period outside the year", "outside.csv", (CSV_HEADER + gas(start="2022-04-01", end="2022-04-30")).encode(),
     "period lies outside the reporting year 2023/24", True),
    ("unknown unit", "unit.csv", (CSV_HEADER + gas(unit="bananas")).encode(), "unknown unit 'bananas'", True),
    ("bare gallons", "gallons.csv", (CSV_HEADER + gas(unit="gallons", activity="diesel")).encode(),
     "write 'UK gallons'", True),
    ("thermie, not therm", "thermie.csv", (CSV_HEADER + gas(unit="thermie")).encode(), "write 'therms'", True),
    ("short ton", "shortton.csv", (CSV_HEADER + gas(unit="short tons", activity="waste_landfill")).encode(),
     "convert to 'tonnes'", True),
    ("litres of electricity", "litres.csv", (CSV_HEADER + gas(unit="litres", activity="electricity")).encode(),
     "accepted units are kWh, MWh, GWh", True),
    ("mis-spelt activity", "typo.csv", (CSV_HEADER + gas(activity="natral gas")).encode(),
     "did you mean 'natural_gas'", True),
    ("empty activity", "noactivity.csv", (CSV_HEADER + gas(activity="")).encode(), "activity is empty", True),
    ("bad data quality", "quality.csv", (CSV_HEADER + gas(quality="guessed")).encode(),
     "data_quality 'guessed' is not accepted", True),
    ("total row", "total.csv", (CSV_HEADER + gas() + gas(site="Total", start="2023-05-01", end="2023-05-31")).encode(),
     "looks like a total row", True),
    ("row with extra cells", "ragged.csv", (CSV_HEADER + gas().strip() + ",surplus\n").encode(),
     "more cells than the header", True),
    ("unit in the quantity cell disagreeing", "conflict.csv", (CSV_HEADER + gas('"5 MWh"')).encode(),
     "the quantity cell says 'MWh' but the unit column says 'kWh'", True),
    ("overlapping periods on one meter", "overlap.csv",
     (CSV_HEADER.replace("\n", ",meter\n") + gas().replace("\n", ",MPRN 1\n")
      + gas(start="2023-04-15", end="2023-05-14").replace("\n", ",MPRN 1\n")).encode(),
     "period overlaps", True),
    ("exact duplicate", "duplicate.csv", (CSV_HEADER + gas() + gas()).encode(), "counted once", True),
    ("zip bomb", "bomb.xlsx", "ZIP_BOMB", "refused as a possible zip bomb", False),
    ("date in the year 2607", "2607.csv", (CSV_HEADER + gas(start="2607-04-01", end="2607-04-30")).encode(),
     "period_start '2607-04-01' is outside the dates a return may hold (1990-01-01 to 2100-12-31)", True),
    ("date in the year 1438", "1438.csv", (CSV_HEADER + gas(start="01/04/1438")).encode(),
     "period_start '01/04/1438' is outside the dates a return may hold", True),
    ("workbook cell over 131,072 characters", "long.xlsx", "LONG_CELL", f"row 2, column 'I': {LONG_REASON}", True),
]


def _content(content):
    if content == "WRONG_SHEET":
        return xlsx({"Notes": [["Please see the other file"], ["thanks"]]})
    if content == "MERGED":
        header = ["department", "site", "activity", "quantity", "unit", "period", None]
        return xlsx({"Entry": [header, [None] * 5 + ["from", "to"], ["Corporate", "Hall", "natural_gas", 5, "kWh",
                                                                      "2023-04-01", "2023-04-30"]]}, merge="F1:G1")
    if content == "ZIP_BOMB":
        return zip_bomb()
    if content == "LONG_CELL":
        return with_long_cell(xlsx({"Entry": [HEADER, ["Corporate", "Hall", "natural_gas", 5, "kWh", "2023-04-01",
                                                       "2023-04-30", "actual", "LONG"]]}))
    return content


@pytest.mark.parametrize("case, name, content, fragment, names_row", ACTIVITY_CASES,
                         ids=[case[0] for case in ACTIVITY_CASES])
def test_bad_activity_input(tmp_path, run_cli, case, name, content, fragment, names_row):
    path = tmp_path / name
    path.write_bytes(_content(content))
    code, _out, err = run_cli("inventory", path, "--year", "2023/24", "--format", "json")
    assert code == 3, f"{case}: exit {code}\n{err}"
    assert "Traceback" not in err and "internal error" not in err
    lines = [line for line in err.splitlines() if fragment in line]
    assert lines, f"{case}: '{fragment}' not in\n{err}"
    assert str(path) in lines[0]
    if names_row:
        assert ", row " in lines[0], lines[0]


def test_catalogue_has_at_least_thirty_classes():
    assert len(ACTIVITY_CASES) + len(CONFIG_CASES) >= 30


CONFIG_CASES = [
    ("scopes.yaml unknown key", "scopes.yaml",
     ("default: a\noptions:\n  a:\n    label: A\n    description: d\n    consolidation: operational_control\n"
     "    scopes: [1, 2]\n    transmission_distribution: false\n    well_to_tank: false\n    scope_2_method: location\n"
     "    colour: red\n"), ["inventory", "{returns}", "--year", "2023/24", "--scopes-file", "{path}"],
     "line 11, key 'options.a.colour': unknown key(s) colour"),
    ("scopes.yaml wrong type", "scopes.yaml",
     ("default: a\noptions:\n  a:\n    label: A\n    description: d\n    consolidation: operational_control\n"
     "    scopes: one\n    transmission_distribution: false\n    well_to_tank: false\n    scope_2_method: location\n"),
     ["scope", "list", "--scopes-file", "{path}"], "line 7, key 'options.a.scopes': must be a list of whole numbers"),
    ("scopes.yaml alias bomb", "scopes.yaml", "a: &a [x, x, x]\nb: &b [*a, *a, *a]\nc: [*b, *b, *b]\n",
     ["scope", "list", "--scopes-file", "{path}"], "anchors and aliases"),
    ("scopes.yaml Python object tag", "scopes.yaml", "default: !!python/object/apply:os.system [echo]\n",
     ["scope", "list", "--scopes-file", "{path}"], "line 1: YAML tag 'tag:yaml.org,2002:python/object/apply"),
    ("scenarios.yaml wrong type", "scenarios.yaml",
     "scenarios:\n  s:\n    measures:\n      - {name: x, type: reduce, activity: electricity, percent: half, start: 2025/26}\n",
     ["scenario", "run", "{path}", "--from", "{returns}", "--year", "2023/24"],
     "line 4, key 'scenarios.s.measures.0.percent': must be a number"),
    ("scenarios.yaml unknown key", "scenarios.yaml",
     "scenarios:\n  s:\n    measures:\n      - {name: x, type: removal, tco2e: 5, start: 2025/26, trees: 900}\n",
     ["scenario", "run", "{path}", "--from", "{returns}", "--year", "2023/24"], "unknown key(s) trees"),
    ("sites register unknown tag", "sites.csv",
     "site,department,tags,operational_control,floor_area_m2\nHall,Corporate,school,yes,100\n",
     ["inventory", "{returns}", "--year", "2023/24", "--sites", "{path}"], "row 2, column 'tags': unknown tag(s) school"),
    ("sites register wrong type", "sites.csv",
     "site,department,tags,operational_control,floor_area_m2\nHall,Corporate,,yes,big\n",
     ["inventory", "{returns}", "--year", "2023/24", "--sites", "{path}"],
     "row 2, column 'floor_area_m2': floor_area_m2 'big' is not a number"),
    ("contracts file overlapping contracts", "contracts.csv",
     ("site,supplier,tariff,period_start,period_end,kgco2e_per_kwh,evidence\nHall,S,t,2023-04-01,2024-03-31,0,REGO\n"
     "Hall,S,t,2023-10-01,2024-09-30,0,REGO\n"), ["inventory", "{returns}", "--year", "2023/24", "--contracts", "{path}"],
     "row 3, column 'period_start': contracts for site 'Hall' overlap"),
    ("contracts file wrong type", "contracts.csv",
     "site,supplier,tariff,period_start,period_end,kgco2e_per_kwh,evidence\nHall,S,t,2023-04-01,2024-03-31,green,REGO\n",
     ["inventory", "{returns}", "--year", "2023/24", "--contracts", "{path}"],
     "row 2, column 'kgco2e_per_kwh': 'green' is not a number"),
    # Issue 16 class 4: a cell over 131,072 characters, in every input besides the returns.
    ("sites register cell over 131,072 characters", "sites.csv",
     f"site,department,tags,operational_control,floor_area_m2\nHall,{LONG_TEXT},,yes,100\n",
     ["inventory", "{returns}", "--year", "2023/24", "--sites", "{path}"], f"row 2, column 'B': {LONG_REASON}"),
    ("contracts cell over 131,072 characters", "contracts.csv",
     ("site,supplier,tariff,period_start,period_end,kgco2e_per_kwh,evidence\n"
     f"Hall,S,t,2023-04-01,2024-03-31,0,{LONG_TEXT}\n"),
     ["inventory", "{returns}", "--year", "2023/24", "--contracts", "{path}"], f"row 2, column 'G': {LONG_REASON}"),
    ("spend factors cell over 131,072 characters", "spend.csv",
     (f"procurement_category,scope_3_category,kgco2e_per_gbp,source,price_base_year\nconstruction,2,0.3,{LONG_TEXT},"
     "2019\n"), ["inventory", "{returns}", "--year", "2023/24", "--spend-factors", "{path}"],
     f"row 2, column 'D': {LONG_REASON}"),
    ("totals file cell over 131,072 characters", "totals.csv", f"year,tco2e\n2019/20,100\n2020/21,{LONG_TEXT}\n",
     ["trajectory", "--totals", "{path}"], f"row 3, column 'B': {LONG_REASON}"),
    ("area table cell over 131,072 characters", "area.csv",
     ("la_code,la_name,year,sector,subsector,kt,population_thousands,area_km2\n"
     f"BEN,{LONG_TEXT},2005,Agriculture,Agriculture,0.02,270.9,43.2\n"), ["area", "--la", "BEN", "--data", "{path}"],
     f"row 2, column 'la_name': {LONG_REASON}"),
    ("DESNZ flat file cell over 131,072 characters", "flat.csv",
     (DATA / "flat-file-2016-layout.csv").read_text(encoding="utf-8").replace("Energy - Gross CV", LONG_TEXT, 1),
     ["factors", "import", "{path}", "--output", "{path}.out"], f"row 4, column 'F': {LONG_REASON}"),
    ("scenarios.yaml text over 10,000 characters", "scenarios.yaml",
     f"scenarios:\n  s:\n    description: {LONG_TEXT}\n    measures: []\n",
     ["scenario", "run", "{path}", "--from", "{returns}", "--year", "2023/24"],
     f"line 3, key 'scenarios.s.description': a text of {MAX_CELL_CHARACTERS + 1:,} characters, over the 10,000"),
    ("scopes.yaml text over 10,000 characters", "scopes.yaml", f"default: a\noptions:\n  a:\n    label: {LONG_TEXT}\n",
     ["scope", "list", "--scopes-file", "{path}"], "line 4, key 'options.a.label': a text of"),
    # Class 4: a scenario named with '/' is fine (test_path_like_scenario_names_name_no_file); a name that
    # cannot label a table row on one line, or names two measures, is refused.
    ("scenario name of 300 characters", "scenarios.yaml", f"scenarios:\n  {'n' * 300}:\n    measures: []\n",
     ["scenario", "run", "{path}", "--from", "{returns}", "--year", "2023/24"],
     "line 2, key 'scenarios': a name of 300 characters, over the 100 allowed"),
    ("scenario name with a line break", "scenarios.yaml", 'scenarios:\n  "a\\nb":\n    measures: []\n',
     ["scenario", "run", "{path}", "--from", "{returns}", "--year", "2023/24"],
     "line 2, key 'scenarios': a name must be one line of text"),
    ("measure name given twice", "scenarios.yaml",
     ("scenarios:\n  s:\n    measures:\n"
     "      - {name: LED, type: reduce, activity: electricity, percent: 10, start: 2025/26}\n"
     "      - {name: LED, type: reduce, activity: electricity, percent: 5, start: 2026/27}\n"),
     ["scenario", "run", "{path}", "--from", "{returns}", "--year", "2023/24"],
     "line 5, key 'scenarios.s.measures.1.name': measure name 'LED' is used twice"),
    # Class 3: a factor that is not finite, or negative, in a flat file imported.
    *[(f"DESNZ flat file factor {value}", "flat.csv",
       (DATA / "flat-file-2016-layout.csv").read_text(encoding="utf-8").replace("kg CO2e,0.1\n", f"kg CO2e,{value}\n"),
       ["factors", "import", "{path}", "--output", "{path}.out"],
       f"row 4, column 'GHG Conversion Factor 2016': '{value}' {reason}")
      for value, reason in (("inf", "is not a finite number"), ("nan", "is not a finite number"),
                            ("1e999", "is not a finite number"), ("-0.1", "is negative"))],
]


@pytest.mark.parametrize("case, name, content, command, fragment", CONFIG_CASES, ids=[c[0] for c in CONFIG_CASES])
def test_bad_configuration(tmp_path, run_cli, case, name, content, command, fragment):
    path = tmp_path / name
    path.write_text(textwrap.dedent(content), encoding="utf-8")
    returns = write_rows(tmp_path / "returns.csv", [gas_row(site="Hall")])
    code, _, err = run_cli(*[part.format(path=path, returns=returns) for part in command])
    assert code == 3, f"{case}: exit {code}\n{err}"
    assert "Traceback" not in err
    assert fragment in err and str(path) in err, err
    assert len([line for line in err.splitlines() if fragment in line]) == 1


def test_file_size_limit_is_configurable(tmp_path, run_cli, monkeypatch):
    path = write_rows(tmp_path / "big.csv", [gas_row()])
    monkeypatch.setenv("SEFTON_CARBON_MAX_FILE_MB", "0")
    code, _, err = run_cli("inventory", path, "--year", "2023/24")
    assert code == 3 and "over the limit of 0 MB (set SEFTON_CARBON_MAX_FILE_MB to raise it)" in err


def test_accepted_variants_are_not_errors(tmp_path, run_cli):
    """Encodings, corrections and spellings that look odd but are read with confidence."""
    rows = [gas_row(-40, quality="correction"), gas_row(12, "UK gallons", "2023-05-01", "2023-05-31", activity="diesel"),
            gas_row(3, "therms", "2023-06-01", "2023-06-30"), gas_row(2, "t", "2023-04-01", "2023-04-30",
                                                                      activity="waste_landfill")]
    for encoding in ("utf-16", "cp1252", "utf-8-sig"):
        path = write_rows(tmp_path / f"{encoding}.csv", [[*row[:8], "caf\u00e9 \u201cnote\u201d"] for row in rows],
                          encoding=encoding)
        code, _out, err = run_cli("inventory", path, "--year", "2023/24", "--format", "json")
        assert code == 0, err


def _edit_csv(path, row: int, column: str, value: str) -> None:
    """Set one cell of a factor table's CSV (``row`` as the file numbers it, the header being row 1)."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    header = lines[0].rstrip("\n").split(",")
    cells = next(csv.reader([lines[row - 1]]))
    cells[header.index(column)] = value
    stream = io.StringIO()
    csv.writer(stream, lineterminator="\n").writerow(cells)
    lines[row - 1] = stream.getvalue()
    path.write_text("".join(lines), encoding="utf-8")


#: Issue 16 classes 3 and 4: a bad table in --factors-dir. (case, file, how it is spoilt, the message, exit code)
FACTORS_DIR_CASES = [
    ("metadata.yaml missing", "metadata.yaml", lambda path: path.unlink(), "metadata.yaml: no such file", 2),
    ("factors.csv missing", "factors.csv", lambda path: path.unlink(), "factors.csv: no such file", 2),
    ("metadata.yaml not YAML", "metadata.yaml", lambda path: path.write_text("a: [\n  b: }\n"), "line 2: is not valid YAML", 3),
    ("metadata.yaml nested 500 deep", "metadata.yaml",
     lambda path: path.write_text("a: " + "[" * 500 + "]" * 500 + "\n"), "line 1: is nested deeper than 50 levels", 3),
    ("metadata.yaml aliases", "metadata.yaml", lambda path: path.write_text("a: &x [1]\nb: *x\n"), "anchors and aliases", 3),
    ("metadata.yaml a list", "metadata.yaml", lambda path: path.write_text("- 2023\n"),
     "line 1: must be a mapping of keys (publication_year", 3),
    ("metadata.yaml text for the year", "metadata.yaml", lambda path: path.write_text("publication_year: twenty\n"),
     "line 1, key 'publication_year': publication_year must be the year of the factors", 3),
    ("factors.csv wrong columns", "factors.csv", lambda path: path.write_text("a,b\n1,2\n"),
     "row 1: lacks column(s) factor_key", 3),
    ("factors.csv not a table", "factors.csv",
     lambda path: path.write_text(path.read_text() + "a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p\n"), "cannot be read as a factor table", 3),
    ("factors.csv text for a number", "factors.csv", lambda path: _edit_csv(path, 5, "kgco2e", "lots"),
     "row 5, column 'kgco2e': 'lots' is not a finite number", 3),
    ("factors.csv inf", "factors.csv", lambda path: _edit_csv(path, 6, "kgco2e_co2", "inf"),
     "row 6, column 'kgco2e_co2': 'inf' is not a finite number", 3),
    ("factors.csv nan", "factors.csv", lambda path: _edit_csv(path, 7, "kgco2e", "nan"),
     "row 7, column 'kgco2e': 'nan' is not a finite number", 3),
    ("factors.csv negative factor", "factors.csv", lambda path: _edit_csv(path, 8, "kgco2e", "-0.2"),
     "row 8, column 'kgco2e': '-0.2' is negative", 3),
    ("factors.csv empty total", "factors.csv", lambda path: _edit_csv(path, 8, "kgco2e", ""),
     "row 8, column 'kgco2e': '' is empty", 3),
    ("factors.csv duplicated factor key", "factors.csv",
     lambda path: path.write_text(path.read_text() + path.read_text().splitlines(keepends=True)[3]),
     "column 'factor_key': ", 3),
    ("factors.csv duplicated DESNZ id", "factors.csv",
     lambda path: _edit_csv(path, 9, "desnz_id", path.read_text().splitlines()[3].split(",")[1]),
     "row 9, column 'desnz_id': ", 3),
    ("factors.csv cell over 131,072 characters", "factors.csv", lambda path: _edit_csv(path, 4, "level_4", LONG_TEXT),
     f"row 4, column 'level_4': {LONG_REASON}", 3),
]


@pytest.mark.parametrize("case, name, spoil, fragment, code", FACTORS_DIR_CASES, ids=[c[0] for c in FACTORS_DIR_CASES])
def test_bad_factors_dir(tmp_path, run_cli, case, name, spoil, fragment, code):
    shutil.copytree(resources.factors_dir() / "2023", tmp_path / "factors" / "2023")
    path = tmp_path / "factors" / "2023" / name
    spoil(path)
    returns = write_rows(tmp_path / "returns.csv", [gas_row(site="Hall")])
    exit_code, _, err = run_cli("inventory", returns, "--year", "2023/24", "--factors-dir", tmp_path / "factors")
    assert exit_code == code, f"{case}: exit {exit_code}\n{err}"
    assert "Traceback" not in err and "internal error" not in err
    lines = [line for line in err.splitlines() if fragment in line]
    assert len(lines) == 1 and str(path) in lines[0], err


#: Issue 16 class 4: YAML that is not configuration. (case, document, the message)
BAD_YAML = [
    ("lists nested 500 deep", "a: " + "[" * 500 + "]" * 500 + "\n", "line 1: is nested deeper than 50 levels"),
    ("mappings nested 500 deep", "a: " + "{b: " * 500 + "1" + "}" * 500 + "\n", "line 1: is nested deeper than 50 levels"),
    ("an alias bomb", "a: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n", "line 1: YAML anchors and aliases"),
    ("a list, not a mapping", "- 1\n- 2\n", "line 1: "),
    ("a plain text, not a mapping", "hello\n", "line 1: "),
    ("two documents", "a: 1\n---\nb: 2\n", "line 2: is not valid YAML"),
]
#: Every YAML file the tool reads from a user: (reader, file name, command reading it).
YAML_READERS = [
    ("scopes file", "scopes.yaml", ["scope", "list", "--scopes-file", "{path}"]),
    ("scenarios file", "scenarios.yaml", ["scenario", "run", "{path}", "--from", "{returns}", "--year", "2023/24"]),
    ("factor table metadata", "factors/2023/metadata.yaml",
     ["inventory", "{returns}", "--year", "2023/24", "--factors-dir", "{factors}"]),
    ("area table metadata", "area/la-emissions.yaml", ["area", "--la", "Sefton", "--data", "{area}"]),
]


@pytest.mark.parametrize("reader, name, command", YAML_READERS, ids=[reader[0] for reader in YAML_READERS])
@pytest.mark.parametrize("case, document, fragment", BAD_YAML, ids=[case[0] for case in BAD_YAML])
def test_bad_yaml_in_every_yaml_read(tmp_path, run_cli, reader, name, command, case, document, fragment):
    shutil.copytree(resources.factors_dir() / "2023", tmp_path / "factors" / "2023")
    shutil.copytree(resources.examples_dir() / "area", tmp_path / "area")
    path = tmp_path / name
    path.write_text(document, encoding="utf-8")
    returns = write_rows(tmp_path / "returns.csv", [gas_row(site="Hall")])
    code, _, err = run_cli(*[part.format(path=path, returns=returns, factors=tmp_path / "factors",
                                         area=tmp_path / "area" / "la-emissions.csv") for part in command])
    assert code == 3, f"{reader}, {case}: exit {code}\n{err}"
    assert "Traceback" not in err and "internal error" not in err
    assert len(err.strip().splitlines()) == 1 and f"{path}, {fragment}" in err, err


def test_a_csv_return_with_a_cell_over_131072_characters_is_refused(tmp_path, run_cli):
    path = write_rows(tmp_path / "long.csv", [gas_row(site="Hall"), [*gas_row(site="Pool")[:8], LONG_TEXT]])
    code, _, err = run_cli("inventory", path, "--year", "2023/24")
    assert code == 3 and "internal error" not in err
    assert f"{path}, row 3, column 'notes': {LONG_REASON}" in err, err


#: Issue 16 class 5: every command that writes files refuses, before reading anything, to write
#: over one of its inputs or into a folder it reads. (case, command, the message)
OVERWRITE_CASES = [
    ("collect into the returns folder", ["collect", "{returns}", "--year", "2023/24", "--output", "{returns}"],
     "--output {returns}: that folder holds an input of this run"),
    ("collect into the folder of its sites register",
     ["collect", "{returns}", "--year", "2023/24", "--sites", "{sites}", "--output", "{registers}"],
     "--output {registers}: that folder holds an input of this run"),
    ("collect into a folder of last year's returns",
     ["collect", "{returns}", "--year", "2023/24", "--previous", "{previous}", "--output", "{previous}"],
     "--output {previous}: that folder holds an input of this run"),
    ("report over a return", ["report", "{returns}", "--year", "2023/24", "--output", "{first}"],
     "--output {first}: that would overwrite or be read back as an input"),
    ("report's workbook into the returns folder, by default",
     ["report", "{returns}", "--year", "2023/24", "--output", "{returns}/report.html"],
     "--output {returns}/report.html: that would overwrite"),
    ("report's workbook over the sites register",
     ["report", "{returns}", "--year", "2023/24", "--sites", "{sites}", "--output", "{out}/report.html",
      "--workbook", "{sites}"], "--workbook {sites}: that would overwrite"),
    ("report over its scenarios file",
     ["report", "{returns}", "--year", "2023/24", "--scenarios", "{scenarios}", "--output", "{scenarios}"],
     "--output {scenarios}: that would overwrite"),
    ("scenario chart into the returns folder",
     ["scenario", "run", "{scenarios}", "--from", "{returns}", "--year", "2023/24", "--waterfall", "{returns}/w.svg"],
     "--waterfall {returns}/w.svg: that would overwrite"),
    ("scenario chart over the scenarios file",
     ["scenario", "run", "{scenarios}", "--from", "{returns}", "--year", "2023/24", "--macc", "{scenarios}"],
     "--macc {scenarios}: that would overwrite"),
    ("trajectory chart over its totals", ["trajectory", "--totals", "{totals}", "--chart", "{totals}"],
     "--chart {totals}: that would overwrite"),
    ("trajectory chart into the returns folder",
     ["trajectory", "{returns}", "--baseline", "2023/24", "--chart", "{returns}/t.svg"], "--chart {returns}/t.svg"),
    ("area chart over its data", ["area", "--la", "BEN", "--data", "{area}", "--chart", "{area}"],
     "--chart {area}: that would overwrite"),
    ("template over its sites register",
     ["template", "--department", "Corporate", "--sites", "{sites_xlsx}", "--output", "{sites_xlsx}"],
     "--output {sites_xlsx}: that would overwrite"),
    ("meters output into the folder of its readings",
     ["meters", "{readings}", "--register", "{register}", "--year", "2023/24", "--output", "{registers}"],
     "--output {registers}: that folder holds an input of this run"),
    ("inventory ledger over the sites register",
     ["inventory", "{returns}", "--year", "2023/24", "--sites", "{sites}", "--ledger", "{sites}"],
     "--ledger {sites}: that would overwrite"),
]


@pytest.mark.parametrize("case, command, fragment", OVERWRITE_CASES, ids=[c[0] for c in OVERWRITE_CASES])
def test_outputs_never_write_over_their_inputs(tmp_path, run_cli, case, command, fragment):
    registers, returns, previous = tmp_path / "registers", tmp_path / "returns", tmp_path / "previous"
    for folder in (registers, returns, previous):
        folder.mkdir()
    write_rows(returns / "return.csv", [gas_row(site="Hall")])
    write_rows(previous / "return.csv", [gas_row(site="Hall", start="2022-04-01", end="2022-04-30")])
    sites = "site,department,tags,operational_control,floor_area_m2\nHall,Corporate,,yes,100\n"
    places = {"returns": returns, "first": returns / "return.csv", "previous": previous,
              "registers": registers, "sites": registers / "sites.csv", "sites_xlsx": registers / "sites.xlsx",
              "scenarios": registers / "scenarios.yaml", "totals": registers / "totals.csv",
              "area": registers / "area.csv", "readings": registers / "readings.csv",
              "register": registers / "meters.csv", "out": tmp_path / "out"}
    places["sites"].write_text(sites, encoding="utf-8")
    places["sites_xlsx"].write_text(sites, encoding="utf-8")
    places["scenarios"].write_text("scenarios:\n  s:\n    measures: []\n", encoding="utf-8")
    places["totals"].write_text("year,tco2e\n2019/20,100\n2023/24,80\n", encoding="utf-8")
    shutil.copy(resources.examples_dir() / "area" / "la-emissions.csv", places["area"])
    places["readings"].write_text("meter_id,timestamp,kwh\nM1,2023-04-01T00:00:00Z,5\n", encoding="utf-8")
    places["register"].write_text("meter_id,site,department,activity\nM1,Hall,Corporate,electricity\n",
                                  encoding="utf-8")
    before = {path: path.read_bytes() for path in tmp_path.rglob("*") if path.is_file()}
    code, _, err = run_cli(*[part.format(**places) for part in command])
    assert code == 2, f"{case}: exit {code}\n{err}"
    assert "Traceback" not in err and "internal error" not in err
    assert fragment.format(**places) in err and len(err.strip().splitlines()) == 1, err
    assert {path: path.read_bytes() for path in tmp_path.rglob("*") if path.is_file()} == before
