"""Half-hourly (AMR and smart) meter data, aggregated to the reporting year in DuckDB.

Readings: ``meter_id, timestamp, kwh``, one row per half hour, in CSV or Parquet (files or
partitioned folders). Timestamps with an offset (``2023-10-29T01:30:00Z``, ``+01:00``) are taken as
given; timestamps without one are Europe/London local time, so that the October day with 50 half
hours and the March day with 46 come out right. The meters register (CSV) maps each meter to its
``site, department, activity`` (electricity or natural_gas) and optionally ``contract`` and
``max_daily_kwh``.

`aggregate` works in UTC half hours and reports:

* one activity row per meter and month of the year (kWh), ready for `compute_inventory`;
* coverage gaps: half hours expected and present per meter and local month;
* duplicate readings: a meter read more than once for the same half hour (the first is kept);
* implausible days: a meter's daily total above its ``max_daily_kwh`` (or the default bound).
"""

from __future__ import annotations

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


def aggregate(paths: list[str | Path], register: pd.DataFrame, year: str | ReportingYear,
              memory_limit: str = "700MB") -> HalfHourly:
    """Aggregate half-hourly readings to the reporting year (see the module docstring)."""
    import duckdb

    year = ReportingYear.parse(year)
    connection = duckdb.connect()
    connection.execute(f"SET memory_limit = '{memory_limit}'")
    connection.execute("SET TimeZone = 'UTC'")
    connection.register("register", register)
    start = f"{year.first_day.isoformat()} 00:00:00"
    end = f"{year.last_day.isoformat()} 23:59:59"
    connection.execute(f"""
        CREATE TEMP VIEW readings AS
        SELECT CAST(meter_id AS VARCHAR) AS meter_id,
               CASE WHEN regexp_matches(CAST(timestamp AS VARCHAR), '(Z|[+-]\\d\\d:?\\d\\d)$')
                    THEN CAST(CAST(timestamp AS VARCHAR) AS TIMESTAMPTZ)
                    ELSE timezone('{LOCAL_ZONE}', CAST(CAST(timestamp AS VARCHAR) AS TIMESTAMP)) END AS moment,
               kwh, row_number() OVER () AS position
        FROM {_source(paths)}""")
    connection.execute(f"""
        CREATE TEMP TABLE in_year AS
        SELECT * FROM readings
        WHERE moment >= timezone('{LOCAL_ZONE}', TIMESTAMP '{start}')
          AND moment <= timezone('{LOCAL_ZONE}', TIMESTAMP '{end}')""")
    total = connection.execute("SELECT count(*) FROM in_year").fetchall()[0][0]
    duplicates = connection.execute("""
        SELECT meter_id, timezone('UTC', moment) AS half_hour_utc, count(*) AS readings,
               list(kwh ORDER BY position) AS values_kwh
        FROM in_year GROUP BY 1, 2 HAVING count(*) > 1 ORDER BY 1, 2""").df()
    connection.execute(f"""
        CREATE TEMP TABLE distinct_readings AS
        SELECT meter_id, moment, arg_min(kwh, position) AS kwh,
               strftime(timezone('{LOCAL_ZONE}', moment), '%Y-%m') AS local_month,
               CAST(timezone('{LOCAL_ZONE}', moment) AS DATE) AS local_day
        FROM in_year GROUP BY 1, 2""")
    monthly = connection.execute("""
        SELECT d.meter_id, d.local_month, sum(d.kwh) AS kwh, count(*) AS half_hours
        FROM distinct_readings d GROUP BY 1, 2 ORDER BY 1, 2""").df()
    expected = connection.execute(f"""
        SELECT strftime(timezone('{LOCAL_ZONE}', slot), '%Y-%m') AS local_month, count(*) AS expected
        FROM generate_series(timezone('{LOCAL_ZONE}', TIMESTAMP '{year.first_day.isoformat()} 00:00:00'),
                             timezone('{LOCAL_ZONE}', TIMESTAMP '{year.last_day.isoformat()} 23:30:00'),
                             INTERVAL 30 MINUTE) AS series(slot)
        GROUP BY 1 ORDER BY 1""").df()
    daily = connection.execute("""
        SELECT d.meter_id, d.local_day, sum(d.kwh) AS kwh FROM distinct_readings d GROUP BY 1, 2""").df()
    connection.close()

    meters = sorted(set(monthly["meter_id"]) | set(register["meter_id"]))
    grid = pd.MultiIndex.from_product([meters, expected["local_month"]], names=["meter_id", "local_month"])
    coverage = (monthly.set_index(["meter_id", "local_month"])["half_hours"].reindex(grid, fill_value=0)
                .reset_index().merge(expected, on="local_month"))
    coverage["missing"] = coverage["expected"] - coverage["half_hours"]
    gaps = coverage[coverage["missing"] > 0].reset_index(drop=True)
    bounds = register.set_index("meter_id")["max_daily_kwh"]
    daily["max_daily_kwh"] = daily["meter_id"].map(bounds).fillna(DEFAULT_MAX_DAILY_KWH)
    implausible = daily[daily["kwh"] > daily["max_daily_kwh"]].sort_values(["meter_id", "local_day"])
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
