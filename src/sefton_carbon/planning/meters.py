"""Half-hourly (AMR and smart) meter data, aggregated to the reporting year in DuckDB.

Readings: ``meter_id, timestamp, kwh``, one row per half hour, in CSV or Parquet (files or
partitioned folders). Timestamps with an offset (``2023-10-29T01:30:00Z``, ``+01:00``) are taken as
given; timestamps without one are Europe/London local time, so that the October day with 50 half
hours and the March day with 46 come out right. The meters register (CSV) maps each meter to its
``site, department, activity`` (electricity or natural_gas) and optionally ``contract`` and
``max_daily_kwh``.

`aggregate` works in UTC half hours and reports:

* one activity row per meter and month of the year (kWh), ready for `compute_inventory`;
* coverage gaps: half hours expected and present per meter and local month (a half hour is present
  when the meter has a reading in it; readings belong to the half hour they fall in, 00:00-00:29 UTC
  to the one starting 00:00);
* duplicate readings: a meter read more than once in the same half hour (the first is kept);
* implausible days: a meter's daily total above its ``max_daily_kwh`` (or the default bound);
* rejected readings, with file, row, column and reason: no meter, a timestamp that is not one, a
  kWh figure that is not a finite number or is negative. Readings outside the year are counted.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sefton_carbon.errors import DataError
from sefton_carbon.io.columnar import duckdb_source, number_sql, reading, renamed_view, snake_case
from sefton_carbon.io.files import write_csv
from sefton_carbon.io.spreadsheets import read_register
from sefton_carbon.years import ReportingYear

LOCAL_ZONE = "Europe/London"
#: Default daily plausibility bound [kWh per meter per day]: a large leisure centre uses ~15,000.
DEFAULT_MAX_DAILY_KWH = 50_000.0
REGISTER_COLUMNS = ["meter_id", "site", "department", "activity"]
READING_COLUMNS = ["meter_id", "timestamp", "kwh"]
#: Why a reading is rejected, by the status code the scan gives it: (column, reason).
REJECTIONS = {
    2: ("meter_id", "meter_id is empty"),
    3: ("timestamp", "timestamp is not a date and time: write 2023-04-01T00:30:00Z, an offset such as "
                     "+01:00, or Europe/London local time 2023-04-01 01:30"),
    4: ("kwh", "kwh is not a number"),
    5: ("kwh", "kwh is not a finite number"),
    6: ("kwh", "kwh is negative: a reading is the energy used in its half hour"),
}
REJECTED_COLUMNS = ["source_file", "source_row", "meter_id", "column", "value", "reason"]
METER_ACTIVITIES = ("electricity", "natural_gas")


@dataclass
class HalfHourly:
    """The year's half-hourly data, aggregated and checked (see the module docstring)."""

    activity: pd.DataFrame
    gaps: pd.DataFrame
    duplicates: pd.DataFrame
    implausible_days: pd.DataFrame
    readings: int
    meters_without_register: list[str]
    rejected: pd.DataFrame
    readings_outside_year: int = 0

    @property
    def readings_read(self) -> int:
        """Every reading in the inputs: counted in the year, outside it, or rejected."""
        return self.readings + self.readings_outside_year + len(self.rejected)


def read_meters_register(path: str | Path) -> pd.DataFrame:
    """The meters register: meter_id, site, department, activity, and optional contract and max_daily_kwh."""
    records = []
    for number, record in read_register(path, REGISTER_COLUMNS, "meters register", "contract, max_daily_kwh"):
        if record["activity"] not in METER_ACTIVITIES:
            raise DataError(f"activity '{record['activity']}' must be one of {', '.join(METER_ACTIVITIES)}",
                            file=str(path), row=number, column="activity")
        bound = record.get("max_daily_kwh", "")
        try:
            bound = float(bound) if bound else DEFAULT_MAX_DAILY_KWH
        except ValueError:
            raise DataError(f"max_daily_kwh '{bound}' is not a number", file=str(path), row=number,
                            column="max_daily_kwh") from None
        records.append({**{column: record[column] for column in REGISTER_COLUMNS},
                        "contract": record.get("contract", ""), "max_daily_kwh": bound})
    register = pd.DataFrame(records)
    if register.empty:
        raise DataError("has no meters", file=str(path))
    duplicated = register[register["meter_id"].duplicated()]
    if not duplicated.empty:
        raise DataError(f"meter '{duplicated.iloc[0]['meter_id']}' is listed twice", file=str(path))
    return register


def _summer_time(first_year: int, last_year: int) -> list[tuple[str, str]]:
    """British Summer Time in UTC for each year: from 01:00 UTC on the last Sunday of March to 01:00
    UTC on the last Sunday of October (Summer Time Act 1972, as amended; EU Directive 2000/84/EC dates)."""
    periods = []
    for year in range(first_year, last_year + 1):
        starts = [dt.date(year, 3, day) for day in range(25, 32)]
        ends = [dt.date(year, 10, day) for day in range(25, 32)]
        start = next(day for day in starts if day.weekday() == 6)
        end = next(day for day in ends if day.weekday() == 6)
        periods.append((f"{start.isoformat()} 01:00:00", f"{end.isoformat()} 01:00:00"))
    return periods


def _expected_half_hours(year: ReportingYear) -> pd.DataFrame:
    """Half hours in each local month of the year (1,490 in an October with the clocks going back)."""
    slots = pd.date_range(pd.Timestamp(year.first_day, tz=LOCAL_ZONE),
                          pd.Timestamp(year.last_day + dt.timedelta(days=1), tz=LOCAL_ZONE),
                          freq="30min", inclusive="left")
    months = pd.Series(slots.strftime("%Y-%m"))
    return months.value_counts().sort_index().rename_axis("local_month").reset_index(name="expected")


def aggregate(paths: list[str | Path], register: pd.DataFrame, year: str | ReportingYear,
              memory_limit: str = "700MB") -> HalfHourly:
    """Aggregate half-hourly readings to the reporting year (see the module docstring).

    One scan sums each meter's local day (readings, half hours present, kWh); only the days that
    hold duplicated half hours are read again, to keep the first reading of each. Local time is
    UTC plus an hour during British Summer Time, computed from the rule, not per row by a time-zone
    library. The half hours present in a day are counted as set bits of a 64-bit mask (bit = UTC
    half-hour number mod 64, taken positive for readings before 1970): a local day is at most 50 consecutive half hours, so no two share a
    bit, and an OR of bits is far cheaper than a distinct count.
    """
    import duckdb

    year = ReportingYear.parse(year)
    connection = duckdb.connect()
    connection.execute(f"SET memory_limit = '{memory_limit}'")
    summer = _summer_time(year.start_year, year.start_year + 1)
    in_summer = " OR ".join(f"(utc >= TIMESTAMP '{start}' AND utc < TIMESTAMP '{end}')" for start, end in summer)
    local_summer = " OR ".join(f"(stamp >= TIMESTAMP '{start}' + INTERVAL 1 HOUR AND stamp < TIMESTAMP '{end}' "
                               "+ INTERVAL 1 HOUR)" for start, end in summer)
    first_utc = f"TIMESTAMP '{year.first_day.isoformat()} 00:00:00' - INTERVAL 1 HOUR"  # 1 April is in BST
    last_utc = f"TIMESTAMP '{(year.last_day + dt.timedelta(days=1)).isoformat()} 00:00:00' - INTERVAL 1 HOUR"
    with reading(paths):
        connection.execute(f"CREATE TEMP VIEW written AS SELECT * FROM {duckdb_source(paths, snake_case)}")
        columns = renamed_view(connection, "written", "source", snake_case, paths)
    missing = [column for column in READING_COLUMNS if column not in columns]
    if missing:
        raise DataError(f"readings need the columns {', '.join(READING_COLUMNS)}; missing: {', '.join(missing)}",
                        file=", ".join(str(path) for path in paths))
    # status: 0 counted, 1 outside the year, 2 and up rejected (see REJECTIONS).
    connection.execute(f"""
        CREATE TEMP VIEW parsed AS
        SELECT *, time_bucket(INTERVAL 30 MINUTE, utc) AS half_hour,
               utc + CASE WHEN {in_summer} THEN INTERVAL 1 HOUR ELSE INTERVAL 0 HOUR END AS local_time,
               CASE WHEN coalesce(meter_id, '') = '' THEN 2 WHEN utc IS NULL THEN 3 WHEN kwh IS NULL THEN 4
                    WHEN isnan(kwh) OR isinf(kwh) THEN 5 WHEN kwh < 0 THEN 6
                    WHEN utc < {first_utc} OR utc >= {last_utc} THEN 1 ELSE 0 END AS status
        FROM (SELECT source_file, meter_id, text, kwh_written, kwh,
                     CASE WHEN suffix(text, 'Z') THEN stamp  -- the TIMESTAMP cast reads a trailing Z as UTC
                          WHEN regexp_matches(text, ':\\d\\d(\\.\\d+)?\\s*[+-]\\d\\d(:?\\d\\d)?$')
                            THEN CAST(timezone('UTC', TRY_CAST(text AS TIMESTAMPTZ)) AS TIMESTAMP)
                          ELSE stamp - CASE WHEN {local_summer} THEN INTERVAL 1 HOUR ELSE INTERVAL 0 HOUR END
                     END AS utc
              FROM (SELECT *, TRY_CAST(replace(text, 'T', ' ') AS TIMESTAMP) AS stamp
                    FROM (SELECT filename AS source_file, CAST(meter_id AS VARCHAR) AS meter_id,
                                 CAST(timestamp AS VARCHAR) AS text, kwh AS kwh_written,
                                 {number_sql("kwh", columns["kwh"])} AS kwh
                          FROM source)))""")
    with reading(paths):
        connection.execute("""
            CREATE TEMP TABLE days AS
            SELECT meter_id, CAST(local_time AS DATE) AS local_day, status, count(*) AS readings,
                   bit_count(bit_or(CAST(1 AS UBIGINT) << CAST((epoch(half_hour) // 1800 % 64 + 64) % 64 AS INTEGER)))
                     AS half_hours,
                   sum(kwh) AS kwh
            FROM parsed GROUP BY ALL""")
    by_status = dict(connection.execute("SELECT status, CAST(sum(readings) AS BIGINT) FROM days GROUP BY 1").fetchall())
    rejected = _rejected_readings(connection) if any(status >= 2 for status in by_status) else \
        pd.DataFrame(columns=REJECTED_COLUMNS)
    connection.execute("DELETE FROM days WHERE status <> 0")
    duplicated_days = connection.execute("SELECT meter_id, local_day FROM days WHERE readings > half_hours").df()
    duplicates = pd.DataFrame(columns=["meter_id", "half_hour_utc", "readings", "values_kwh"])
    if len(duplicated_days):
        connection.register("duplicated_days", duplicated_days)
        connection.execute("SET preserve_insertion_order = true")
        # Positions are numbered in file order before the join: a parallel join does not keep it.
        connection.execute("""
            CREATE TEMP TABLE suspect AS
            SELECT r.* FROM (SELECT *, row_number() OVER () AS position FROM parsed WHERE status = 0) r
            JOIN duplicated_days d ON d.meter_id = r.meter_id AND d.local_day = CAST(r.local_time AS DATE)""")
        duplicates = connection.execute("""
            SELECT meter_id, half_hour AS half_hour_utc, count(*) AS readings, list(kwh ORDER BY position) AS values_kwh
            FROM suspect GROUP BY 1, 2 HAVING count(*) > 1 ORDER BY 1, 2""").df()
        corrected = connection.execute("""
            SELECT meter_id, CAST(local_time AS DATE) AS local_day, sum(first_kwh) AS kwh
            FROM (SELECT meter_id, half_hour, any_value(local_time) AS local_time, arg_min(kwh, position) AS first_kwh
                  FROM suspect GROUP BY 1, 2) GROUP BY 1, 2""").df()
        connection.register("corrected", corrected)
        connection.execute("""UPDATE days SET kwh = corrected.kwh FROM corrected
                              WHERE days.meter_id = corrected.meter_id AND days.local_day = corrected.local_day""")
    connection.register("bounds", register[["meter_id", "max_daily_kwh"]])
    implausible = connection.execute(f"""
        SELECT d.meter_id, d.local_day, d.kwh, coalesce(b.max_daily_kwh, {DEFAULT_MAX_DAILY_KWH}) AS max_daily_kwh
        FROM days d LEFT JOIN bounds b ON b.meter_id = d.meter_id
        WHERE d.kwh > coalesce(b.max_daily_kwh, {DEFAULT_MAX_DAILY_KWH}) ORDER BY 1, 2""").df()
    monthly = connection.execute("""
        SELECT meter_id, strftime(local_day, '%Y-%m') AS local_month, sum(kwh) AS kwh,
               CAST(sum(half_hours) AS BIGINT) AS half_hours
        FROM days GROUP BY 1, 2 ORDER BY 1, 2""").df()
    connection.close()

    expected = _expected_half_hours(year)
    meters = sorted(set(monthly["meter_id"]) | set(register["meter_id"]))
    grid = pd.MultiIndex.from_product([meters, expected["local_month"]], names=["meter_id", "local_month"])
    coverage = (monthly.set_index(["meter_id", "local_month"])["half_hours"].reindex(grid, fill_value=0)
                .reset_index().merge(expected, on="local_month"))
    coverage["missing"] = coverage["expected"] - coverage["half_hours"]
    gaps = coverage[coverage["missing"] > 0].reset_index(drop=True)
    known = monthly[monthly["meter_id"].isin(register["meter_id"])].merge(register, on="meter_id")
    month_start = pd.to_datetime(known["local_month"] + "-01")
    activity = pd.DataFrame({
        "department": known["department"], "site": known["site"], "meter": known["meter_id"],
        "activity": known["activity"], "quantity": known["kwh"], "unit": "kWh",
        "period_start": month_start.dt.strftime("%Y-%m-%d"),
        "period_end": (month_start + pd.offsets.MonthEnd(0)).dt.strftime("%Y-%m-%d"),
        "data_quality": "actual",
        "notes": "half-hourly data: " + known["half_hours"].astype(str) + " half hours"})
    return HalfHourly(activity=activity.reset_index(drop=True), gaps=gaps, duplicates=duplicates,
                      implausible_days=implausible.reset_index(drop=True), readings=int(by_status.get(0, 0)),
                      meters_without_register=sorted(set(monthly["meter_id"]) - set(register["meter_id"])),
                      rejected=rejected, readings_outside_year=int(by_status.get(1, 0)))


def _rejected_readings(connection) -> pd.DataFrame:
    """The rejected readings with file, row (data row + 1, as if the header were row 1), column,
    value as written and reason: a second pass, made only when the scan found any."""
    connection.execute("SET preserve_insertion_order = true")
    rows = connection.execute("""
        SELECT source_file, source_row, meter_id, status, text, CAST(kwh_written AS VARCHAR) AS kwh_written
        FROM (SELECT *, CAST(row_number() OVER (PARTITION BY source_file) + 1 AS BIGINT) AS source_row FROM parsed)
        WHERE status >= 2 ORDER BY source_file, source_row""").df()
    column = rows["status"].map({status: column for status, (column, _) in REJECTIONS.items()})
    value = rows["kwh_written"].where(column == "kwh", rows["text"].where(column == "timestamp", ""))
    return pd.DataFrame({"source_file": rows["source_file"], "source_row": rows["source_row"],
                         "meter_id": rows["meter_id"].fillna(""), "column": column, "value": value.fillna(""),
                         "reason": rows["status"].map({status: reason for status, (_, reason) in REJECTIONS.items()})},
                        columns=REJECTED_COLUMNS)


def write_half_hourly(result: HalfHourly, folder: str | Path) -> dict[str, Path]:
    """Write activity.csv (for the inventory), gaps.csv, duplicates.csv, implausible_days.csv and rejected.csv."""

    folder = Path(folder)
    return {"activity": write_csv(result.activity, folder / "activity.csv"),
            "gaps": write_csv(result.gaps, folder / "gaps.csv"),
            "duplicates": write_csv(result.duplicates.astype({"values_kwh": str}), folder / "duplicates.csv"),
            "implausible_days": write_csv(result.implausible_days, folder / "implausible_days.csv"),
            "rejected": write_csv(result.rejected, folder / "rejected.csv")}
