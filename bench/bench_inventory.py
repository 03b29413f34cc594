"""Synthetic inputs for the benchmarks (``speed_targets.py``) and for tests that need many rows.

Daily readings are written by DuckDB (seconds for 10,000,000 rows), the others by numpy and
pandas. Quantities are pseudo-random but fixed: the same arguments give the same file.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

#: (activity, units it is reported in, typical monthly quantity per site).
ACTIVITIES = [("natural_gas", ("kWh", "therms"), 20_000), ("electricity", ("kWh", "MWh"), 15_000),
              ("diesel", ("litres",), 3_000), ("business_travel_car", ("miles",), 400),
              ("water_supply", ("m3",), 300), ("gas_oil", ("litres",), 500)]


def generate(rows: int, path: Path, seed: int = 1) -> Path:
    """A synthetic activity table for 2023/24: every site reports every activity every month, so
    no two rows overlap; sites belong to 40 departments."""
    rng = np.random.default_rng(seed)
    per_site = len(ACTIVITIES) * 12
    sites = -(-rows // per_site)
    index = np.arange(sites * per_site)[:rows]
    site, rest = np.divmod(index, per_site)
    activity, month = np.divmod(rest, 12)
    starts = pd.date_range("2023-04-01", periods=12, freq="MS")
    ends = starts + pd.offsets.MonthEnd(0)
    unit_choice = rng.integers(0, 2, rows)
    units = np.array([[units[choice % len(units)] for choice in (0, 1)] for _, units, _ in ACTIVITIES])
    scale = np.array([typical for _, _, typical in ACTIVITIES])[activity]
    scale = np.where(units[activity, unit_choice] == "MWh", scale / 1000,
                     np.where(units[activity, unit_choice] == "therms", scale / 29.3, scale))
    frame = pd.DataFrame({
        "department": [f"Department {number % 40}" for number in site],
        "site": [f"Site {number}" for number in site],
        "activity": np.array([name for name, _, _ in ACTIVITIES])[activity],
        "quantity": np.round(rng.gamma(2.0, 0.5, rows) * scale, 1),
        "unit": units[activity, unit_choice],
        "period_start": starts[month].strftime("%Y-%m-%d"),
        "period_end": ends[month].strftime("%Y-%m-%d"),
        "data_quality": np.where(rng.random(rows) < 0.1, "estimated", "actual"),
    })
    frame.to_csv(path, index=False)
    return path


def generate_half_hourly(meters: int, start_year: int, path: Path, seed: int = 1) -> Path:
    """A financial year of half-hourly readings (UTC timestamps) for ``meters`` meters, as Parquet or CSV."""
    rng = np.random.default_rng(seed)
    moments = pd.date_range(pd.Timestamp(f"{start_year}-04-01", tz="Europe/London"),
                            pd.Timestamp(f"{start_year + 1}-04-01", tz="Europe/London"), freq="30min",
                            inclusive="left").tz_convert("UTC")
    stamps = np.tile(moments.strftime("%Y-%m-%dT%H:%M:%SZ").to_numpy(), meters)
    frame = pd.DataFrame({"meter_id": np.repeat([f"M{number:05d}" for number in range(meters)], len(moments)),
                          "timestamp": stamps, "kwh": np.round(rng.gamma(2.0, 2.0, len(stamps)), 3)})
    if path.suffix == ".parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False)
    return path


def meters_register(meters: int, path: Path) -> Path:
    """A register for the generated meters: alternately electricity and gas, 40 departments."""
    pd.DataFrame({"meter_id": [f"M{number:05d}" for number in range(meters)],
                  "site": [f"Site {number}" for number in range(meters)],
                  "department": [f"Department {number % 40}" for number in range(meters)],
                  "activity": ["electricity" if number % 2 else "natural_gas" for number in range(meters)]}
                 ).to_csv(path, index=False)
    return path


def generate_daily_readings(meters: int, path: Path, start_year: int = 2024) -> Path:
    """A financial year of daily meter readings (one row per meter per day, ``period_start`` =
    ``period_end``, each row with its meter id) as CSV or, by the suffix, Parquet with every column
    as text. Two meters per site, one electricity and one natural gas, both in kWh; sites belong to
    40 departments; one reading in ten is estimated. ``start_year`` must start a 365-day year (not
    2023), so that 2,740 meters give 1,000,100 rows."""
    first = pd.Timestamp(f"{start_year}-04-01")
    days = (pd.Timestamp(f"{start_year + 1}-04-01") - first).days
    day = f"strftime(DATE '{first:%Y-%m-%d}' + CAST(d AS INTEGER), '%Y-%m-%d')"
    rows = f"""
        SELECT 'Department ' || (m // 2 % 40) AS department, 'Site ' || (m // 2) AS site,
               printf('M%05d', m) AS meter,
               CASE WHEN m % 2 = 1 THEN 'electricity' ELSE 'natural_gas' END AS activity,
               CAST(round(hash(m * 1000 + d) % 100000 / 100.0 + 50, 1) AS VARCHAR) AS quantity,
               'kWh' AS unit, {day} AS period_start, {day} AS period_end,
               CASE WHEN hash(d * 100000 + m) % 10 = 0 THEN 'estimated' ELSE 'actual' END AS data_quality
        FROM range({meters}) AS meter_numbers(m), range({days}) AS day_numbers(d)
        ORDER BY m, d"""
    options = "FORMAT parquet" if path.suffix == ".parquet" else "HEADER"
    connection = duckdb.connect()
    connection.execute("SET enable_progress_bar = false")
    connection.execute(f"COPY ({rows}) TO '{path}' ({options})")
    return path


def generate_overlapping_bills(one_day_bills: int, path: Path, start_year: int = 2024) -> Path:
    """One annual gas bill for the financial year starting ``start_year`` plus ``one_day_bills``
    one-day bills on the same meter, the days cycling through the year: every one-day bill overlaps
    the annual one (and those on the same day), and overlaps on one meter are refused."""
    first = pd.Timestamp(f"{start_year}-04-01")
    last = pd.Timestamp(f"{start_year + 1}-03-31")
    days = pd.date_range(first, last).strftime("%Y-%m-%d").to_numpy()
    day = days[np.arange(one_day_bills) % len(days)]
    pd.DataFrame({
        "department": "Facilities", "site": "Town Hall", "meter": "MPRN 7001", "activity": "natural_gas",
        "quantity": np.concatenate([[1_000_000.0], 1000.0 + np.arange(one_day_bills) / 10]),
        "unit": "kWh",
        "period_start": np.concatenate([[f"{first:%Y-%m-%d}"], day]),
        "period_end": np.concatenate([[f"{last:%Y-%m-%d}"], day]),
    }).to_csv(path, index=False)
    return path
