"""Reading activity tables: formats, encodings, headers, and every row accounted for."""

import datetime as dt

import pytest

from conftest import HEADER, gas_row, write_rows
from sefton_carbon.errors import UsageError
from sefton_carbon.returns.activity import parse_date, read_activity, read_date_cell


def test_title_rows_and_row_numbers(tmp_path):
    path = tmp_path / "return.csv"
    path.write_text("Corporate Resources return 2023/24\n\n" + ",".join(HEADER) + "\n"
                    "Corporate,Town Hall,natural_gas,100,kWh,2023-04-01,2023-04-30,,\n"
                    ",,,,,,,,\n"
                    "Corporate,Town Hall,electricity,50,kWh,2023-04-01,2023-04-30,,\n", encoding="utf-8")
    data = read_activity(path)
    assert list(data.rows["source_row"]) == [4, 6]
    assert list(data.rows["activity"]) == ["natural_gas", "electricity"]
    assert data.files.iloc[0]["rows_read"] == 2 and data.files.iloc[0]["blank_rows"] == 1
    assert data.rejected.empty


def test_header_synonyms_in_any_case_and_spacing(tmp_path):
    path = write_rows(tmp_path / "synonyms.csv", [["Adult Social Care", "Oak House", "Natural Gas",
                                                   "1,234.5", "KWH", "01/04/2023", "30/04/2023"]],
                      header=["Dept", "Building", "Activity", "Usage", "Units", "From", "To"])
    row = read_activity(path).rows.iloc[0]
    assert (row["department"], row["site"], row["activity"], row["quantity"], row["unit"]) == (
        "Adult Social Care", "Oak House", "natural_gas", 1234.5, "kWh")
    assert row["period_start"] == dt.datetime(2023, 4, 1) and row["data_quality"] == "actual"


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_semicolon_and_tab_separated_files(tmp_path, delimiter):
    # A European-locale spreadsheet saves CSV with semicolons; a comma in a cell is then no separator.
    lines = [HEADER, gas_row("10,000"), gas_row(2500, start="2023-05-01", end="2023-05-31")]
    path = tmp_path / "return.csv"
    path.write_text("".join(delimiter.join(map(str, line)) + "\n" for line in lines), encoding="utf-8")
    data = read_activity(path)
    assert list(data.rows["quantity"]) == [10000, 2500] and len(data.rejected) == 0


@pytest.mark.parametrize("encoding", ["utf-8-sig", "cp1252", "utf-16"])
def test_encodings(tmp_path, encoding):
    note = "Caf\u00e9 \u201cannexe\u201d"  # smart quotes exist in Windows-1252
    path = write_rows(tmp_path / f"{encoding}.csv", [[*gas_row()[:8], note]], encoding=encoding)
    data = read_activity(path)
    assert data.rows.iloc[0]["notes"] == note
    assert data.rows.iloc[0]["quantity"] == 10000


def test_xlsx_with_real_dates_and_numbers(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    workbook = openpyxl.Workbook()
    workbook.active.title = "Instructions"
    workbook.active.append(["Fill in the Entry sheet"])
    sheet = workbook.create_sheet("Entry")
    sheet.append(["Communities return"])
    sheet.append(HEADER)
    sheet.append(["Communities", "Library", "electricity", 1500.5, "kWh", dt.date(2023, 5, 1),
                  dt.datetime(2023, 5, 31), "estimated", "=1+1"])
    path = tmp_path / "return.xlsx"
    workbook.save(path)
    data = read_activity(path)
    row = data.rows.iloc[0]
    assert (row["source_sheet"], row["source_row"], row["quantity"]) == ("Entry", 3, 1500.5)
    assert row["period_end"] == dt.datetime(2023, 5, 31)
    assert row["data_quality"] == "estimated"
    # A formula is never evaluated: calamine reads the value Excel cached, and this file has none.
    assert row["notes"] == ""


@pytest.mark.parametrize("text, expected", [
    ("2023-04-01", dt.date(2023, 4, 1)), ("01/04/2023", dt.date(2023, 4, 1)),
    ("03/04/2023", dt.date(2023, 4, 3)),  # UK order: 3 April
    ("2024-02-29", dt.date(2024, 2, 29)), ("45017", dt.date(2023, 4, 1)),
    ("2023-04-01 00:00:00", dt.date(2023, 4, 1)),
    ("2023-04-01 00:00:00+00", dt.date(2023, 4, 1)), ("2023-04-01T00:00:00Z", dt.date(2023, 4, 1)),
    ("2023-04-01 00:00:00.000000", dt.date(2023, 4, 1)),
    ("31/02/2024", None), ("2023-13-01", None), ("April 2023", None), ("", None),
    ("2023-04-01 13:45:00", None), ("2023-04-01 00:00:01+00", None),
])
def test_parse_date(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize("text, reason", [
    ("2023-04-01 13:45", "period_start '2023-04-01 13:45' holds a time of day: a period is whole days, so give "
                         "the date alone, as 2023-04-01 or 01/04/2023"),
    ("2023-04-01 00:00:01", "holds a time of day"),
    ("2023-02-30 00:00:00", "period_start '2023-02-30 00:00:00' is not a date: write 2023-04-01 or 01/04/2023"),
    ("2023-04-01 00:00:00+01:00:00", "is not a date"),
])
def test_a_date_with_a_time_of_day_is_refused_saying_so(text, reason):
    """A date-time at midnight is its day; another time of day is named as such, and a day that
    does not exist is not a date whatever its time."""
    day, error = read_date_cell(text, "period_start")
    assert day is None and reason in error


@pytest.mark.parametrize("row, column, fragment", [
    (gas_row(department=""), "department", "department is empty"),
    (gas_row(activity="natral gas"), "activity", "did you mean 'natural_gas'"),
    (gas_row(activity=""), "activity", "activity is empty"),
    (gas_row(quantity=""), "quantity", "quantity is empty"),
    (gas_row(quantity="12a"), "quantity", "quantity '12a' is not a number"),
    (gas_row(quantity="1.234,5"), "quantity", "is not a number"),
    (gas_row(quantity="inf"), "quantity", "not a finite number"),
    (gas_row(quantity="-5"), "quantity", "quantity -5 is negative"),
    (gas_row(unit="gallons"), "unit", "write 'UK gallons'"),
    (gas_row(unit=""), "unit", "unit is empty"),
    (gas_row(start="31/02/2024"), "period_start", "'31/02/2024' is not a date"),
    (gas_row(end=""), "period_end", "period_end is empty"),
    (gas_row(start="2023-04-30", end="2023-04-01"), "period_end", "ends before it starts"),
    (gas_row(quality="guess"), "data_quality", "write actual, estimated or correction"),
])
def test_rejected_rows_name_column_value_and_reason(tmp_path, row, column, fragment):
    path = write_rows(tmp_path / "bad.csv", [gas_row(), row])
    data = read_activity(path)
    assert len(data.rows) == 1 and len(data.rejected) == 1
    rejected = data.rejected.iloc[0]
    assert (rejected["source_file"], rejected["source_row"], rejected["column"]) == (str(path), 3, column)
    assert fragment in rejected["reason"]


def test_several_problems_in_one_row_are_all_reported(tmp_path):
    path = write_rows(tmp_path / "bad.csv", [gas_row(quantity="-1", start="31/02/2024")])
    reason = read_activity(path).rejected.iloc[0]["reason"]
    assert "negative" in reason and "'31/02/2024' is not a date" in reason


@pytest.mark.parametrize("content, fragment", [
    (b"", "no header row"),
    (b"department,site,activity\nA,B,C\n", "the header row lacks quantity, unit, period_start, period_end"),
    (b"\x00\x01\x02binary junk\x00", "not a text file"),
    (",".join(HEADER + ["Quantity"]).encode() + b"\n", "all mean 'quantity'"),
])
def test_unreadable_files_are_listed_not_lost(tmp_path, content, fragment):
    path = tmp_path / "broken.csv"
    path.write_bytes(content)
    good = write_rows(tmp_path / "good.csv", [gas_row()])
    data = read_activity([path, good])
    assert len(data.rows) == 1
    assert len(data.rejected) == 1 and fragment in data.rejected.iloc[0]["reason"]
    assert data.files.set_index("source_file").loc[str(path), "unreadable"]


def test_folders_are_read_recursively_in_order(tmp_path):
    (tmp_path / "b").mkdir()
    write_rows(tmp_path / "b" / "two.csv", [gas_row(quantity=2, start="2023-05-01", end="2023-05-31")])
    write_rows(tmp_path / "one.csv", [gas_row(quantity=1)])
    (tmp_path / "readme.txt").write_text("department\n")  # .txt is read as CSV: no header, listed
    data = read_activity(tmp_path)
    assert list(data.rows["quantity"]) == [2.0, 1.0]
    assert list(data.rows["input_row"]) == [1, 2]
    assert len(data.rejected) == 1


def test_missing_path_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="no such file or folder"):
        read_activity(tmp_path / "nope.csv")


def test_windows_1252_after_the_first_64_kib(tmp_path):
    filler = [[*gas_row(site=f"Site {number}")[:8], "plain ascii note " * 4] for number in range(1200)]
    late = [*gas_row(quantity=7)[:8], "Caf\u00e9 \u201cannexe\u201d"]
    path = write_rows(tmp_path / "late.csv", filler + [late], encoding="cp1252")
    assert path.stat().st_size > 65536
    data = read_activity(path)
    assert len(data.rows) == 1201 and data.rows.iloc[-1]["notes"] == "Caf\u00e9 \u201cannexe\u201d"


def test_rows_with_extra_cells_are_rejected_one_by_one(tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text(",".join(HEADER) + "\n" + ",".join(map(str, gas_row())) + "\n"
                    + ",".join(map(str, gas_row())) + ",surplus\n" + "Corporate,Hall,natural_gas,5,kWh\n",
                    encoding="utf-8")
    data = read_activity(path)
    assert list(data.rejected["source_row"]) == [3, 4]
    assert "more cells than the header" in data.rejected.iloc[0]["reason"]
    assert "period_start is empty" in data.rejected.iloc[1]["reason"]
    assert list(data.rows["source_row"]) == [2]


def test_exact_duplicates_across_returns_are_counted_once(tmp_path):
    first = write_rows(tmp_path / "a.csv", [gas_row(), gas_row(activity="electricity")])
    second = write_rows(tmp_path / "b.csv", [gas_row(activity="electricity")])
    data = read_activity([first, second])
    assert len(data.rows) == 2
    rejected = data.rejected.iloc[0]
    assert (rejected["source_file"], rejected["source_row"]) == (str(second), 2)
    assert rejected["reason"] == f"duplicate of {first} row 3: counted once"


METER_HEADER = [*HEADER, "meter"]


def metered(row: list[object], meter: str = "MPRN 1") -> list[object]:
    """A `gas_row` naming its meter."""
    return [*row, meter]


def test_overlapping_periods_on_one_meter_name_both_rows(tmp_path):
    path = write_rows(tmp_path / "a.csv", [
        metered(gas_row(start="2023-04-01", end="2024-03-31")),      # a whole year...
        metered(gas_row(5, start="2023-05-01", end="2023-05-31")),   # ...and a month inside it
        metered(gas_row(7, start="2023-06-01", end="2023-06-30", site="Library"), "MPRN 2"),
        metered(gas_row(8, start="2023-07-01", end="2023-07-31", site="Library"), "MPRN 2")],
        header=METER_HEADER)
    data = read_activity(path)
    assert list(data.rows["source_row"]) == [4, 5]
    reasons = dict(zip(data.rejected["source_row"], data.rejected["reason"]))
    assert reasons[2] == f"period overlaps {path} row 3 on the same meter"
    assert reasons[3] == f"period overlaps {path} row 2 on the same meter"


def test_one_bill_overlapped_by_thousands_names_five_and_counts_the_rest(tmp_path):
    daily = [dt.date(2023, 4, 1) + dt.timedelta(days=day % 365) for day in range(3000)]  # to 30 March
    path = write_rows(tmp_path / "daily.csv", [metered(gas_row(start="2023-04-01", end="2024-03-31"))] + [
        metered(gas_row(day_number + 1, start=day.isoformat(), end=day.isoformat()))
        for day_number, day in enumerate(daily)], header=METER_HEADER)
    data = read_activity(path)
    assert data.rows.empty and len(data.rejected) == 3001
    reasons = dict(zip(data.rejected["source_row"], data.rejected["reason"]))
    annual = reasons[2].split("; ")
    assert annual[:2] == [f"period overlaps {path} row 3 on the same meter",
                          f"period overlaps {path} row 368 on the same meter"]
    assert len(annual) == 6 and annual[-1] == "and 2,995 more"
    # a daily bill overlaps the annual one, and the same day of the other years' repeat
    assert reasons[3] == f"period overlaps {path} row 2 on the same meter"


def test_different_meters_at_one_site_do_not_overlap(tmp_path):
    header = ["department", "site", "meter", "activity", "quantity", "unit", "period_start", "period_end"]
    path = write_rows(tmp_path / "meters.csv", [
        ["Corporate", "Town Hall", "MPAN 1", "electricity", 10, "kWh", "2023-04-01", "2023-04-30"],
        ["Corporate", "Town Hall", "MPAN 2", "electricity", 20, "kWh", "2023-04-01", "2023-04-30"]], header=header)
    data = read_activity(path)
    assert data.rejected.empty and list(data.rows["meter"]) == ["MPAN 1", "MPAN 2"]


def test_unit_written_in_the_quantity_cell(tmp_path):
    path = write_rows(tmp_path / "units.csv", [
        gas_row("1,234 kWh", unit=""), gas_row("5 MWh", unit="kWh", start="2023-05-01", end="2023-05-31"),
        gas_row("200 litres", unit="", activity="diesel")])
    data = read_activity(path)
    assert list(zip(data.rows["quantity"], data.rows["unit"])) == [(1234.0, "kWh"), (200.0, "litre")]
    assert "the quantity cell says 'MWh' but the unit column says 'kWh'" in data.rejected.iloc[0]["reason"]


def test_total_rows_are_rejected_not_counted_twice(tmp_path):
    path = write_rows(tmp_path / "totals.csv", [gas_row(), gas_row(20000, site="Total",
                                                                   start="2023-05-01", end="2023-05-31")])
    data = read_activity(path)
    assert len(data.rows) == 1
    assert "looks like a total row" in data.rejected.iloc[0]["reason"]


def test_template_rows_with_only_the_department_are_blank(tmp_path):
    path = write_rows(tmp_path / "template.csv", [gas_row(), ["Corporate", "", "", "", "", "", "", "", ""],
                                                  ["# gas readings from the supplier portal", "", "", "", "", "",
                                                   "", "", ""]])
    data = read_activity(path)
    assert len(data.rows) == 1 and data.rejected.empty
    assert data.files.iloc[0]["blank_rows"] == 2


def test_each_file_is_read_once_and_published_folders_never(tmp_path, monkeypatch):
    from sefton_carbon.returns.activity import expand_paths

    returns = tmp_path / "returns"
    returns.mkdir()
    first = write_rows(returns / "a.csv", [gas_row()])
    published = returns / "out"
    published.mkdir()
    write_rows(published / "ledger.csv", [gas_row(99)])
    (published / "manifest.json").write_text("{}\n")
    monkeypatch.chdir(tmp_path)
    assert expand_paths([returns]) == [first]
    assert expand_paths([returns, first, "returns/a.csv"]) == [first]
    data = read_activity([returns, first])
    assert len(data.rows) == 1 and data.rows["quantity"].sum() == 10000


def test_the_large_engine_skips_published_folders_too(tmp_path):
    from sefton_carbon.engines.large import compute_large_inventory

    returns = tmp_path / "returns"
    (returns / "out").mkdir(parents=True)
    write_rows(returns / "a.csv", [gas_row()])
    write_rows(returns / "out" / "ledger.csv", [gas_row(99)])
    (returns / "out" / "manifest.json").write_text("{}\n")
    summary = compute_large_inventory([returns], "2023/24").summary
    assert summary["rows"]["read"] == 1
