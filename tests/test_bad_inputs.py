"""A catalogue of bad inputs: each gives a one-line message naming the place, exit code 3, and no
traceback; every input row is still accounted for or listed."""

import io
import textwrap
import zipfile

import pytest

from conftest import HEADER, gas_row, write_rows

CSV_HEADER = ",".join(HEADER) + "\n"


def row(*values) -> str:
    return ",".join(map(str, values)) + "\n"


def gas(quantity="1000", unit="kWh", start="2023-04-01", end="2023-04-30", activity="natural_gas",
        quality="actual", site="Town Hall") -> str:
    return row("Corporate", site, activity, quantity, unit, start, end, quality, "")


def xlsx(rows_by_sheet: dict[str, list[list]], merge: str | None = None) -> bytes:
    openpyxl = pytest.importorskip("openpyxl")
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for name, rows in rows_by_sheet.items():
        sheet = workbook.create_sheet(name)
        for values in rows:
            sheet.append(values)
        if merge:
            sheet.merge_cells(merge)
    stream = io.BytesIO()
    workbook.save(stream)
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
    ("overlapping periods", "overlap.csv", (CSV_HEADER + gas() + gas(start="2023-04-15", end="2023-05-14")).encode(),
     "period overlaps", True),
    ("exact duplicate", "duplicate.csv", (CSV_HEADER + gas() + gas()).encode(), "counted once", True),
    ("zip bomb", "bomb.xlsx", "ZIP_BOMB", "refused as a possible zip bomb", False),
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
    return content


@pytest.mark.parametrize("case, name, content, fragment, names_row", ACTIVITY_CASES,
                         ids=[case[0] for case in ACTIVITY_CASES])
def test_bad_activity_input(tmp_path, run_cli, case, name, content, fragment, names_row):
    path = tmp_path / name
    path.write_bytes(_content(content))
    code, out, err = run_cli("inventory", path, "--year", "2023/24", "--format", "json")
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
     "default: a\noptions:\n  a:\n    label: A\n    description: d\n    consolidation: operational_control\n"
     "    scopes: [1, 2]\n    transmission_distribution: false\n    well_to_tank: false\n    scope_2_method: location\n"
     "    colour: red\n", ["inventory", "{returns}", "--year", "2023/24", "--scopes-file", "{path}"],
     "line 11, key 'options.a.colour': unknown key(s) colour"),
    ("scopes.yaml wrong type", "scopes.yaml",
     "default: a\noptions:\n  a:\n    label: A\n    description: d\n    consolidation: operational_control\n"
     "    scopes: one\n    transmission_distribution: false\n    well_to_tank: false\n    scope_2_method: location\n",
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
     "site,supplier,tariff,period_start,period_end,kgco2e_per_kwh,evidence\nHall,S,t,2023-04-01,2024-03-31,0,REGO\n"
     "Hall,S,t,2023-10-01,2024-09-30,0,REGO\n", ["inventory", "{returns}", "--year", "2023/24", "--contracts", "{path}"],
     "row 3, column 'period_start': contracts for site 'Hall' overlap"),
    ("contracts file wrong type", "contracts.csv",
     "site,supplier,tariff,period_start,period_end,kgco2e_per_kwh,evidence\nHall,S,t,2023-04-01,2024-03-31,green,REGO\n",
     ["inventory", "{returns}", "--year", "2023/24", "--contracts", "{path}"],
     "row 2, column 'kgco2e_per_kwh': 'green' is not a number"),
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
        code, out, err = run_cli("inventory", path, "--year", "2023/24", "--format", "json")
        assert code == 0, err
