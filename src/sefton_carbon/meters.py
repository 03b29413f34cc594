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
* implausible days: a meter's daily total above its ``max_daily_kwh`` (or the default bound).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .errors import DataError, UsageError
from .spreadsheets import read_register
from .years import ReportingYear

LOCAL_ZONE = "Europe/London"
#: Default daily plausibility bound [kWh per meter per day]: a large leisure centre uses ~15,000.
DEFAULT_MAX_DAILY_KWH = 50_000.0
REGISTER_COLUMNS = ["meter_id", "site", "department", "activity"]
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


def _source(paths: list[str | Path]) -> str:
    files = [Path(path) for path in paths]
    for path in files:
        if not path.exists():
            raise UsageError(f"{path}: no such file or folder")
    if all(path.is_dir() or path.suffix.lower() == ".parquet" for path in files):
        patterns = [str(path / "**" / "*.parquet") if path.is_dir() else str(path) for path in files]
        return f"read_parquet({patterns!r}, hive_partitioning=true, union_by_name=true)"
    return (f"read_csv({[str(path) for path in files]!r}, header=true, "
            "columns={'meter_id': 'VARCHAR', 'timestamp': 'VARCHAR', 'kwh': 'DOUBLE'})")


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
    half-hour number mod 64): a local day is at most 50 consecutive half hours, so no two share a
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
    connection.execute(f"""
        CREATE TEMP VIEW readings AS
        SELECT meter_id, utc, time_bucket(INTERVAL 30 MINUTE, utc) AS half_hour,
               utc + CASE WHEN {in_summer} THEN INTERVAL 1 HOUR ELSE INTERVAL 0 HOUR END AS local_time, kwh
        FROM (SELECT CAST(meter_id AS VARCHAR) AS meter_id, kwh,
                     CASE WHEN suffix(text, 'Z') THEN stamp  -- the TIMESTAMP cast reads a trailing Z as UTC
                          WHEN regexp_matches(text, '[+-]\\d\\d:?\\d\\d$')
                            THEN CAST(timezone('UTC', CAST(text AS TIMESTAMPTZ)) AS TIMESTAMP)
                          ELSE stamp - CASE WHEN {local_summer} THEN INTERVAL 1 HOUR ELSE INTERVAL 0 HOUR END
                     END AS utc
              FROM (SELECT *, TRY_CAST(replace(text, 'T', ' ') AS TIMESTAMP) AS stamp
                    FROM (SELECT meter_id, CAST(timestamp AS VARCHAR) AS text, kwh FROM {_source(paths)})))
        WHERE utc >= {first_utc} AND utc < {last_utc}""")
    connection.execute("""
        CREATE TEMP TABLE days AS
        SELECT meter_id, CAST(local_time AS DATE) AS local_day, count(*) AS readings,
               bit_count(bit_or(CAST(1 AS UBIGINT) << CAST(epoch(half_hour) // 1800 % 64 AS INTEGER))) AS half_hours,
               sum(kwh) AS kwh
        FROM readings GROUP BY 1, 2""")
    total = connection.execute("SELECT CAST(coalesce(sum(readings), 0) AS BIGINT) FROM days").fetchall()[0][0]
    duplicated_days = connection.execute("SELECT meter_id, local_day FROM days WHERE readings > half_hours").df()
    duplicates = pd.DataFrame(columns=["meter_id", "half_hour_utc", "readings", "values_kwh"])
    if len(duplicated_days):
        connection.register("duplicated_days", duplicated_days)
        connection.execute("SET preserve_insertion_order = true")
        connection.execute("""
            CREATE TEMP TABLE suspect AS
            SELECT r.*, row_number() OVER () AS position FROM readings r
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
                      implausible_days=implausible.reset_index(drop=True), readings=int(total),
                      meters_without_register=sorted(set(monthly["meter_id"]) - set(register["meter_id"])))


def write_half_hourly(result: HalfHourly, folder: str | Path) -> dict[str, Path]:
    """Write activity.csv (for the inventory), gaps.csv, duplicates.csv and implausible_days.csv."""
    from .reports import write_csv

    folder = Path(folder)
    return {"activity": write_csv(result.activity, folder / "activity.csv"),
            "gaps": write_csv(result.gaps, folder / "gaps.csv"),
            "duplicates": write_csv(result.duplicates.astype({"values_kwh": str}), folder / "duplicates.csv"),
            "implausible_days": write_csv(result.implausible_days, folder / "implausible_days.csv")}
