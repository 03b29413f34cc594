"""Benchmark: large inputs on one machine, against a hand-written DuckDB query on the same file.

Run with ``make bench``. Each measurement is a whole command in its own process (interpreter start,
imports, work) so that peak memory (max RSS) is its own; best of N. Targets (the large-inputs issue):
time ratio at most 1.5 and peak memory under 1 GB, on 10,000,000 activity rows as CSV and as
Parquet, and on a year of half-hourly data for 500 meters; ``sefton-carbon --help`` under 0.3 s.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
from bench_inventory import ACTIVITIES, WRAPPER, generate, generate_half_hourly, meters_register

HERE = Path(__file__).parent
HAND_ACTIVITY = """
import duckdb, sys
c = duckdb.connect(); c.execute("SET memory_limit = '700MB'")
factors = {factors!r}
c.execute("CREATE TABLE lines(activity VARCHAR, unit VARCHAR, scope INTEGER, k DOUBLE)")
c.executemany("INSERT INTO lines VALUES (?, ?, ?, ?)", factors)
source = {source!r}
print(c.execute(f"SELECT l.scope, sum(CAST(r.quantity AS DOUBLE) * l.k) FROM {{source}} r JOIN lines l "
                "ON l.activity = r.activity AND l.unit = r.unit GROUP BY 1").fetchall())
"""
HAND_METERS = """
import duckdb
c = duckdb.connect(); c.execute("SET memory_limit = '700MB'")
print(c.execute("SELECT meter_id, strftime(CAST(timestamp AS TIMESTAMPTZ), '%Y-%m') AS month, sum(kwh) "
                "FROM read_parquet({path!r}) GROUP BY 1, 2").fetchall()[:1])
"""


def run(command: list[str]) -> dict:
    result = subprocess.run([sys.executable, "-c", WRAPPER, *command], capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"{command} failed: {result.stderr[-2000:]}")
    return json.loads(result.stdout)


def best(command: list[str], repeat: int) -> dict:
    return min((run(command) for _ in range(repeat)), key=lambda measured: measured["seconds"])


def factor_rows() -> list[tuple]:
    """(activity, unit, scope, t CO2e per unit) of the direct lines, for the hand-written query."""
    from sefton_carbon.accounting.catalogue import load_catalogue, resolve
    from sefton_carbon.accounting.factors import load_factors
    from sefton_carbon.accounting.units import parse_unit

    table = load_factors().table(2023)
    rows = []
    for activity, units, _ in ACTIVITIES:
        for unit in units:
            line = resolve(load_catalogue(), activity, parse_unit(unit), table)[0]
            rows.append((activity, unit, line.scope, line.unit_conversion * line.kgco2e / 1000))
    return rows


def compare(label: str, ours: list[str], hand: list[str], repeat: int) -> None:
    mine, theirs = best(ours, repeat), best(hand, repeat)
    ratio = mine["seconds"] / theirs["seconds"]
    print(f"{label}: sefton-carbon {mine['seconds']:.2f} s, peak {mine['peak_mb']:.0f} MB; hand-written DuckDB "
          f"{theirs['seconds']:.2f} s, peak {theirs['peak_mb']:.0f} MB; ratio {ratio:.2f} "
          f"(ratio <= 1.5: {'met' if ratio <= 1.5 else 'NOT met'}; peak < 1,000 MB: "
          f"{'met' if mine['peak_mb'] < 1000 else 'NOT met'})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--meters", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=2)
    options = parser.parse_args()
    data = HERE / "data"
    data.mkdir(exist_ok=True)
    csv_path = data / f"activity-{options.rows}.csv"
    parquet_path = data / f"activity-{options.rows}.parquet"
    if not csv_path.exists():
        generate(options.rows, csv_path)
    if not parquet_path.exists():
        pd.read_csv(csv_path, dtype=str).to_parquet(parquet_path, index=False)
    factors = factor_rows()
    for label, path, source in (("CSV", csv_path, f"read_csv('{csv_path}')"),
                                ("Parquet", parquet_path, f"read_parquet('{parquet_path}')")):
        compare(f"{options.rows:,} rows, {label}",
                [sys.executable, "-m", "sefton_carbon", "inventory", str(path), "--year", "2023/24", "--engine",
                 "duckdb", "--format", "json"],
                [sys.executable, "-c", HAND_ACTIVITY.format(factors=factors, source=source)], options.repeat)
    readings = data / f"half-hourly-{options.meters}.parquet"
    register = data / f"meters-{options.meters}.csv"
    if not readings.exists():
        generate_half_hourly(options.meters, 2023, readings)
        meters_register(options.meters, register)
    compare(f"half-hourly, {options.meters} meters for a year",
            [sys.executable, "-m", "sefton_carbon", "meters", str(readings), "--register", str(register), "--year",
             "2023/24", "--output", str(data / "meters-out")],
            [sys.executable, "-c", HAND_METERS.format(path=str(readings))], options.repeat)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "sefton_carbon", "--help"], capture_output=True, check=True)
    print(f"sefton-carbon --help: {time.perf_counter() - started:.2f} s (target < 0.3 s)")


if __name__ == "__main__":
    main()
