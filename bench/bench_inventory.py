"""Benchmark: the inventory over 1,000,000 synthetic activity rows against pandas reading the CSV.

Run with ``make bench``. Each side is a whole command, timed from interpreter start to exit:
``sefton-carbon inventory FILE --year 2023/24 --format json`` against
``python -c "import pandas; pandas.read_csv(FILE)"``. The two alternate, best of N each, and each
runs in its own process so that its peak memory (max RSS) is its own. Targets (the core inventory
issue): time ratio at most 2.0, peak memory of the inventory under 1.5 GB.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).parent
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


COMMANDS = {
    "pandas": lambda path: [sys.executable, "-c", f"import pandas; pandas.read_csv({str(path)!r})"],
    "inventory": lambda path: [sys.executable, "-m", "sefton_carbon", "inventory", str(path),
                               "--year", "2023/24", "--format", "json"],
}
#: Runs one command as a child and reports its wall time and peak memory alone.
WRAPPER = """
import json, resource, subprocess, sys, time
started = time.perf_counter()
result = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
seconds = time.perf_counter() - started
if result.returncode != 0:
    sys.exit(result.stderr.decode())
print(json.dumps({"seconds": seconds,
                  "peak_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))
"""


def measure(kind: str, path: Path) -> dict:
    """Run one whole command (interpreter start, imports, work) and return seconds and peak MB."""
    result = subprocess.run([sys.executable, "-c", WRAPPER, *COMMANDS[kind](path)],
                            capture_output=True, text=True, check=True)
    return json.loads(result.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5, help="best of N runs")
    options = parser.parse_args()
    data = HERE / "data"
    data.mkdir(exist_ok=True)
    path = data / f"activity-{options.rows}.csv"
    if not path.exists():
        generate(options.rows, path)
    runs: dict[str, list[dict]] = {"pandas": [], "inventory": []}
    for _ in range(options.repeat):
        for kind in runs:
            runs[kind].append(measure(kind, path))
    best = {kind: min(results, key=lambda r: r["seconds"]) for kind, results in runs.items()}
    ratio = best["inventory"]["seconds"] / best["pandas"]["seconds"]
    print(f"rows: {options.rows:,} ({path.stat().st_size / 1e6:.0f} MB CSV), best of {options.repeat}")
    print(f"pandas.read_csv alone  : {best['pandas']['seconds']:6.2f} s, peak {best['pandas']['peak_mb']:6.0f} MB")
    print(f"sefton-carbon inventory: {best['inventory']['seconds']:6.2f} s, peak "
          f"{best['inventory']['peak_mb']:6.0f} MB")
    print(f"ratio: {ratio:.2f} (target <= 2.0: {'met' if ratio <= 2.0 else 'NOT met'}); peak memory "
          f"{best['inventory']['peak_mb']:.0f} MB (target < 1,500 MB: "
          f"{'met' if best['inventory']['peak_mb'] < 1500 else 'NOT met'})")


if __name__ == "__main__":
    main()
