"""Half-hourly meter data: clock changes, gaps, duplicates and implausible days, on a generated year."""

import sys
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sefton_carbon import compute_inventory
from sefton_carbon.planning.meters import aggregate, read_meters_register, write_half_hourly

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from bench_inventory import generate_half_hourly, meters_register  # noqa: E402


@pytest.fixture(scope="module")
def year_of_readings(tmp_path_factory):
    folder = tmp_path_factory.mktemp("meters")
    data = generate_half_hourly(3, 2023, folder / "readings.csv", seed=3)
    frame = pd.read_csv(data)
    # M00000: a gap of 10 half hours in May; a duplicate reading; an implausible day in June.
    first = frame[frame["meter_id"] == "M00000"]
    gap = first[first["timestamp"].str.startswith("2023-05-10T0")].index[:10]
    frame = frame.drop(index=gap)
    duplicate = frame[(frame["meter_id"] == "M00000") & (frame["timestamp"] == "2023-07-01T12:00:00Z")]
    frame = pd.concat([frame, duplicate.assign(kwh=999.0)])
    frame.loc[(frame["meter_id"] == "M00000") & (frame["timestamp"] == "2023-06-15T12:00:00Z"), "kwh"] = 60_000.0
    frame.to_csv(data, index=False)
    register = meters_register(3, folder / "meters.csv")
    return data, read_meters_register(register), frame


def test_clock_changes_give_50_and_46_half_hour_days(year_of_readings):
    data, register, _ = year_of_readings
    result = aggregate([data], register, "2023/24")
    assert result.readings == 3 * 366 * 48 - 10 + 1  # 2023/24 has 366 days; 10 removed, 1 duplicated
    assert result.gaps.iloc[0]["expected"] == 31 * 48  # May 2023
    # Local months: October 2023 has the 25-hour day, March 2024 the 23-hour day.
    activity = result.activity
    october = activity[(activity["meter"] == "M00001") & (activity["period_start"] == "2023-10-01")].iloc[0]
    march = activity[(activity["meter"] == "M00001") & (activity["period_start"] == "2024-03-01")].iloc[0]
    assert october["notes"] == f"half-hourly data: {31 * 48 + 2} half hours"
    assert march["notes"] == f"half-hourly data: {31 * 48 - 2} half hours"


def test_gaps_duplicates_and_implausible_days(year_of_readings):
    data, register, _ = year_of_readings
    result = aggregate([data], register, "2023/24")
    assert result.gaps[["meter_id", "local_month", "missing"]].values.tolist() == [["M00000", "2023-05", 10]]
    duplicate = result.duplicates.iloc[0]
    assert (duplicate["meter_id"], duplicate["readings"], len(result.duplicates)) == ("M00000", 2, 1)
    assert list(result.implausible_days["local_day"].astype(str)) == ["2023-06-15"]


def test_the_year_aggregates_to_the_inventory(year_of_readings, tmp_path):
    data, register, frame = year_of_readings
    result = aggregate([data], register, "2023/24")
    assert len(result.activity) == 3 * 12
    written = write_half_hourly(result, tmp_path)
    inventory = compute_inventory(written["activity"], "2023/24", scope_option="scope_1_2")
    kept = frame.drop_duplicates(["meter_id", "timestamp"], keep="first")
    electricity_kwh = kept.loc[kept["meter_id"] == "M00001", "kwh"].sum()
    assert result.activity.loc[result.activity["meter"] == "M00001", "quantity"].sum() == pytest.approx(electricity_kwh)
    assert inventory.by_scope()["scope_2"] == pytest.approx(electricity_kwh * 0.20707428859060403 / 1000)
    assert inventory.rows_rejected == 0


def test_local_timestamps_are_europe_london(tmp_path):
    path = tmp_path / "local.csv"
    # 29 October 2023: 01:00-02:00 local happens twice; naive local timestamps cannot tell the two
    # apart, so the second is a duplicate reading; 26 March 2024 01:00-02:00 does not exist locally.
    path.write_text("meter_id,timestamp,kwh\nA,2023-10-29 01:00:00,1\nA,2023-10-29 01:00:00,2\n"
                    "A,2023-06-01 12:00:00,3\n", encoding="utf-8")
    register = pd.DataFrame({"meter_id": ["A"], "site": ["S"], "department": ["D"], "activity": ["electricity"],
                             "contract": [""], "max_daily_kwh": [1000.0]})
    result = aggregate([path], register, "2023/24")
    assert result.readings == 3 and len(result.duplicates) == 1
    assert result.activity["quantity"].sum() == pytest.approx(4.0)


def test_offsets_and_readings_inside_a_half_hour(tmp_path):
    path = tmp_path / "offsets.csv"
    # 12:00 UTC on 1 June 2023 written three ways (Z, +01:00 and naive local summer time), then a
    # reading at 12:10 UTC: all four fall in the half hour starting 12:00 UTC; the first is kept.
    path.write_text("meter_id,timestamp,kwh\nA,2023-06-01T12:00:00Z,1\nA,2023-06-01T13:00:00+01:00,2\n"
                    "A,2023-06-01 13:00:00,4\nA,2023-06-01T12:10:00Z,8\nA,2023-06-01T12:30:00Z,16\n",
                    encoding="utf-8")
    register = pd.DataFrame({"meter_id": ["A"], "site": ["S"], "department": ["D"], "activity": ["electricity"],
                             "contract": [""], "max_daily_kwh": [1000.0]})
    result = aggregate([path], register, "2023/24")
    assert result.readings == 5
    duplicate = result.duplicates.iloc[0]
    assert (len(result.duplicates), str(duplicate["half_hour_utc"]), duplicate["readings"]) == (
        1, "2023-06-01 12:00:00", 4)
    assert list(duplicate["values_kwh"]) == [1.0, 2.0, 4.0, 8.0]
    assert result.activity["quantity"].sum() == pytest.approx(1 + 16)
    june = result.gaps[result.gaps["local_month"] == "2023-06"].iloc[0]
    assert june["half_hours"] == 2 and june["missing"] == 30 * 48 - 2


def _register(tmp_path):
    path = tmp_path / "meters.csv"
    path.write_text("meter_id,site,department,activity\nA,S,D,electricity\n", encoding="utf-8")
    return path


def test_bad_readings_are_rejected_with_file_row_and_reason(tmp_path, run_cli):
    path = tmp_path / "readings.csv"
    path.write_text("meter_id,timestamp,kwh\n"
                    "A,2023-06-01T12:00:00Z,1.5\n"        # row 2: counted
                    ",2023-06-01T12:30:00Z,1\n"           # row 3: no meter
                    "A,yesterday,1\n"                     # row 4: not a timestamp
                    "A,2023-06-01T13:00:00Z,n/a\n"        # row 5: not a number
                    "A,2023-06-01T13:30:00Z,-2\n"         # row 6: negative
                    "A,2023-06-01T14:00:00Z,inf\n"        # row 7: not finite
                    "A,2022-06-01T12:00:00Z,9\n"          # row 8: outside 2023/24, counted as such
                    "A,2023-06-01T14:30:00Z,2.5\n",       # row 9: counted
                    encoding="utf-8")
    result = aggregate([path], read_meters_register(_register(tmp_path)), "2023/24")
    assert (result.readings_read, result.readings, result.readings_outside_year, len(result.rejected)) == (8, 2, 1, 5)
    assert result.rejected[["source_row", "column", "value"]].values.tolist() == [
        [3, "meter_id", ""], [4, "timestamp", "yesterday"], [5, "kwh", "n/a"], [6, "kwh", "-2"], [7, "kwh", "inf"]]
    assert "is negative" in result.rejected["reason"][3]
    assert result.activity["quantity"].sum() == pytest.approx(4.0)

    code, out, err = run_cli("meters", path, "--register", _register(tmp_path), "--year", "2023/24",
                             "--output", tmp_path / "out")
    assert code == 3 and "8 readings read = 2 in 2023/24 + 1 outside it + 5 rejected" in out
    assert "Traceback" not in err and f"{path} row 3, column meter_id: meter_id is empty" in err
    assert len(pd.read_csv(tmp_path / "out" / "rejected.csv")) == 5


def test_readings_dated_before_1970_are_counted_outside_the_year(tmp_path):
    path = tmp_path / "readings.csv"
    path.write_text("meter_id,timestamp,kwh\nA,0001-01-01T00:00:00Z,5\nA,1969-12-31T23:30:00Z,5\n"
                    "A,2023-06-01T12:00:00Z,1.5\n", encoding="utf-8")
    result = aggregate([path], read_meters_register(_register(tmp_path)), "2023/24")
    assert (result.readings_read, result.readings, result.readings_outside_year, len(result.rejected)) == (3, 1, 2, 0)
    assert result.activity["quantity"].sum() == pytest.approx(1.5)


def test_offsets_written_without_seconds_or_minutes(tmp_path):
    path = tmp_path / "offsets.csv"
    # 12:00 UTC as DuckDB writes a TIMESTAMPTZ (+00) and with a four-digit offset: one half hour, twice.
    # The header as a meter export might write it.
    path.write_text("Meter ID,Timestamp,kWh\nA,2023-06-01 12:00:00+00,1\nA,2023-06-01T13:00+0100,2\n",
                    encoding="utf-8")
    result = aggregate([path], read_meters_register(_register(tmp_path)), "2023/24")
    assert result.readings == 2 and len(result.rejected) == 0
    assert str(result.duplicates.iloc[0]["half_hour_utc"]) == "2023-06-01 12:00:00"


@pytest.mark.parametrize("content, message", [
    ("meter_id,timestamp\nA,2023-06-01T12:00:00Z\n", "readings need the columns meter_id, timestamp, kwh; missing: kwh"),
    ("meter_id,timestamp,kwh\nA,2023-06-01T12:00:00Z,1\nA,2023-06-01T12:30:00Z,1,extra\n",
     "CSV Error on Line: 3 (Expected Number of Columns: 3 Found: 4)"),
    ("meter_id,timestamp,meter_id\nA,2023-06-01T12:00:00Z,1\n", "header column 3 ('meter_id') is named twice"),
])
def test_unreadable_readings_are_one_line_errors(tmp_path, run_cli, content, message):
    path = tmp_path / "readings.csv"
    path.write_text(content, encoding="utf-8")
    code, _, err = run_cli("meters", path, "--register", _register(tmp_path), "--year", "2023/24",
                           "--output", tmp_path / "out")
    assert code == 3 and message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def _expected_monthly(readings: list[tuple[str, str, float]]) -> dict[tuple[str, str], float]:
    """A reference for `aggregate`, reading by reading with pandas time zones: the first reading
    of each meter and UTC half hour, summed per meter and Europe/London month of 2023/24."""
    first: dict[tuple[str, pd.Timestamp], float] = {}
    for meter, text, kwh in readings:
        stamp = pd.Timestamp(text)
        utc = stamp.tz_convert("UTC") if stamp.tzinfo else stamp.tz_localize("Europe/London").tz_convert("UTC")
        first.setdefault((meter, utc.floor("30min")), kwh)
    start, end = pd.Timestamp("2023-04-01", tz="Europe/London"), pd.Timestamp("2024-04-01", tz="Europe/London")
    sums: dict[tuple[str, str], float] = {}
    for (meter, utc), kwh in first.items():
        local = utc.tz_convert("Europe/London")
        if start <= local < end:
            key = (meter, local.strftime("%Y-%m"))
            sums[key] = sums.get(key, 0.0) + kwh
    return sums


@st.composite
def _readings(draw):
    """Readings around the year's edges and clock changes, written in UTC, with an offset, or in
    local time (away from the changes' missing and repeated hours), some of them repeated."""
    days = [pd.Timestamp(day, tz="UTC") for day in ("2023-03-31", "2023-04-01", "2023-10-28", "2023-10-29",
                                                     "2024-03-30", "2024-03-31", "2024-04-01")]
    readings = []
    for _ in range(draw(st.integers(1, 30))):
        utc = draw(st.sampled_from(days)) + pd.Timedelta(minutes=30 * draw(st.integers(0, 47)) + draw(
            st.sampled_from([0, 0, 0, 10])))
        local = utc.tz_convert("Europe/London")
        style = draw(st.sampled_from(["Z", "offset", "local"]))
        if style == "local" and local.hour in (1, 2) and local.month in (3, 10):
            style = "Z"  # the hour that is missing or repeated in local time
        text = {"Z": utc.strftime("%Y-%m-%dT%H:%M:%SZ"), "offset": local.isoformat(),
                "local": local.strftime("%Y-%m-%d %H:%M:%S")}[style]
        readings.append((draw(st.sampled_from(["A", "B"])), text, draw(st.integers(0, 9999)) / 1000))
        if draw(st.booleans()) and draw(st.booleans()):
            readings.append(readings[-1][:2] + (draw(st.integers(0, 9999)) / 1000,))
    return readings


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(readings=_readings())
def test_aggregate_matches_a_reading_by_reading_reference(tmp_path, readings):
    path = tmp_path / "readings.csv"
    pd.DataFrame(readings, columns=["meter_id", "timestamp", "kwh"]).to_csv(path, index=False)
    register = pd.DataFrame({"meter_id": ["A", "B"], "site": ["S", "S"], "department": ["D", "D"],
                             "activity": ["electricity", "electricity"], "contract": ["", ""],
                             "max_daily_kwh": [1e9, 1e9]})
    result = aggregate([path], register, "2023/24")
    monthly = {(row.meter, row.period_start[:7]): row.quantity for row in result.activity.itertuples()}
    assert monthly == pytest.approx(_expected_monthly(readings), abs=1e-9)
    assert result.readings_read == len(readings) and len(result.rejected) == 0


def test_the_first_reading_is_kept_when_duckdb_reads_in_parallel(tmp_path):
    # 20 meters for a year in row groups of 20,000 readings, so DuckDB reads them in parallel; 300
    # readings repeated at the end of the file with 9,999 kWh: every repeat is the one dropped.
    path = generate_half_hourly(20, 2023, tmp_path / "readings.parquet", seed=4)
    frame = pd.read_parquet(path)
    repeats = frame.sample(300, random_state=4).assign(kwh=9999.0)
    pd.concat([frame, repeats], ignore_index=True).to_parquet(path, index=False, row_group_size=20_000)
    register = pd.DataFrame({"meter_id": sorted(frame["meter_id"].unique())}).assign(
        site="S", department="D", activity="electricity", contract="", max_daily_kwh=1e9)
    result = aggregate([path], register, "2023/24")
    assert len(result.duplicates) == 300
    assert (result.duplicates["values_kwh"].map(lambda values: values[-1]) == 9999.0).all()
    assert result.activity["quantity"].sum() == pytest.approx(frame["kwh"].sum(), rel=1e-12)


def test_a_folder_of_csv_exports_one_per_meter(tmp_path):
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "a.csv").write_text("meter_id,timestamp,kwh\nA,2023-06-01T12:00:00Z,1.5\n", encoding="utf-8")
    (folder / "b.csv").write_text("Timestamp;kWh;Meter ID\n2023-06-01 13:00:00;2.5;B\n", encoding="utf-8")
    register = pd.DataFrame({"meter_id": ["A", "B"], "site": ["S", "S"], "department": ["D", "D"],
                             "activity": ["electricity", "electricity"], "contract": ["", ""],
                             "max_daily_kwh": [1e9, 1e9]})
    result = aggregate([folder], register, "2023/24")
    assert result.readings == 2 and dict(zip(result.activity["meter"], result.activity["quantity"])) == {
        "A": 1.5, "B": 2.5}
