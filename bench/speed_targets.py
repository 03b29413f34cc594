"""The speed targets of the one-pipeline issue, each measured beside its reference: ``make bench``.

Every figure is a whole command as a user runs it (interpreter start, imports, work, exit), in a
process of its own so that its peak memory (max RSS, from ``getrusage(RUSAGE_CHILDREN)`` of a small
wrapper process) is its own. Times are the median of ``--repeat`` runs; peak memory is the largest
of those runs. The commands compared with each other take turns, a run of each per round. Inputs
are generated once into ``bench/data/`` (git-ignored) and reused.

1. A year of daily readings for 2,740 meters (1,000,100 rows, each with a meter id): the default
   command against ``pandas.read_csv`` of the same file (target: at most 2.0 times as long, peak
   memory under 1.5 GB).
2. The same for 27,400 meters (10,001,000 rows), as CSV and as Parquet: the default command (and
   ``--engine duckdb``) against the hand-written DuckDB query with the same checks
   (``reference_checks.sql``; target: at most 0.6 times as long, peak memory under 1 GiB), and the
   plain query with no checks (``reference_plain.sql``).
3. Overlap detection: one annual bill plus N one-day bills at one site and activity through the
   default command (target: 20,000 rows in seconds; growth n log n, i.e. about 2.1 times per
   doubling of N, where quadratic growth is 4). The growth is taken on the time above the same
   command over the annual bill alone, so that start-up does not hide it, and only where that time
   is above the noise; 128,000, 512,000 and 2,048,000 bills are added for that.
4. ``sefton-carbon --help`` (target: under 0.3 s, median of 5).

Each command's figures are checked against the reference's (t CO2e per scope) or, for the overlaps,
its count of refused rows; a disagreement is printed beside the row.

``--scale`` shrinks every input for a quick run (``make bench BENCH_SCALE=0.1``); the targets hold at
scale 1 only.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from bench_inventory import generate_daily_readings, generate_overlapping_bills

from sefton_carbon.accounting.boundary import line_mask, load_boundary_options
from sefton_carbon.accounting.catalogue import load_catalogue
from sefton_carbon.accounting.factors import load_factors
from sefton_carbon.accounting.inventory import resolve_pairs
from sefton_carbon.accounting.units import parse_unit

HERE = Path(__file__).parent
DATA = HERE / "data"
#: The reporting year of the generated data: 1 April 2024 to 31 March 2025 has 365 days.
YEAR, YEAR_START, YEAR_END, FACTOR_YEAR = "2024/25", "2024-04-01", "2025-03-31", 2024
METERS_1M, METERS_10M = 2_740, 27_400
#: One-day bills beside the annual one: the issue's sizes, then three larger ones at which the check's time
#: stands out from start-up, so that its growth can be read.
ONE_DAY_BILLS = [2_000, 8_000, 20_000, 32_000, 128_000, 512_000, 2_048_000]
#: Seconds above start-up under which differences between runs on a shared machine swamp any growth.
NOISE_SECONDS = 1.0
MIB_PER_GB, MIB_PER_GIB = 1e9 / 2**20, 1024
SEFTON_CARBON = str(Path(sys.executable).with_name("sefton-carbon"))
#: Runs one command as its child and prints its wall time, peak memory and exit code as JSON; the
#: command's standard output goes to the file named first ('-' to discard it).
WRAPPER = """
import json, resource, subprocess, sys, time
output = subprocess.DEVNULL if sys.argv[1] == "-" else open(sys.argv[1], "wb")
started = time.perf_counter()
result = subprocess.run(sys.argv[2:], stdout=output, stderr=subprocess.PIPE)
seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "peak_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
                  "exit": result.returncode, "stderr": result.stderr.decode(errors="replace").strip()}))
"""


@dataclass
class Run:
    """A command's median time [s], peak memory over its runs [MiB], and what it printed; or why it
    failed (an exit code other than 0 and 3, or its input file refused as unreadable)."""

    seconds: float | None
    peak_mib: float | None
    output: dict | None
    failure: str | None = None

    def time_text(self) -> str:
        return f"{self.seconds:.2f} s" if self.failure is None else f"failed: {self.failure}"

    def memory_text(self) -> str:
        return f"{self.peak_mib:,.0f} MiB" if self.failure is None else "-"


def measure(command: list[str], repeat: int, json_output: bool = True) -> Run:
    """`measure_together` for one command."""
    return measure_together([(command, json_output)], repeat)[0]


def measure_together(commands: list[tuple[list[str], bool]], repeat: int) -> list[Run]:
    """Run each (command, whether it prints JSON) ``repeat`` times, each run in a fresh wrapper
    process, the commands taking turns (one run of each, then the next round), so that a slow
    spell of a shared machine falls on every command compared rather than on one. Exit codes 0
    and 3 (data problems found, results still printed) count as done, unless a file was refused
    as unreadable."""
    runs: list[list[dict]] = [[] for _ in commands]
    failures: list[str | None] = [None] * len(commands)
    for _ in range(repeat):
        for number, (command, json_output) in enumerate(commands):
            if failures[number]:
                continue
            output_path = DATA / f"last-output-{number}.json"
            wrapper = subprocess.run([sys.executable, "-c", WRAPPER, str(output_path) if json_output else "-",
                                      *command], capture_output=True, text=True, check=True)
            run = json.loads(wrapper.stdout)
            if run["exit"] not in (0, 3):
                last_line = run["stderr"].splitlines()[-1] if run["stderr"] else "no message"
                failures[number] = f"exit {run['exit']}: {last_line[:100]}"
            runs[number].append(run)
    return [_result(runs[number], failures[number], DATA / f"last-output-{number}.json" if json_output else None)
            for number, (_, json_output) in enumerate(commands)]


def _result(runs: list[dict], failure: str | None, output_path: Path | None) -> Run:
    """A command's `Run` from its runs: median time, largest peak memory, its last output."""
    if failure:
        return Run(None, None, None, failure)
    try:
        output = json.loads(output_path.read_text()) if output_path else None
    except json.JSONDecodeError:
        return Run(None, None, None, "its output is not JSON")
    if output and any(file.get("unreadable") for file in output.get("files", [])):
        reasons = [line.strip() for line in runs[-1]["stderr"].splitlines() if line.startswith(" ")]
        return Run(None, None, None, "refused: " + (reasons[0].split(": ", 1)[-1][:100] if reasons else "unreadable"))
    return Run(statistics.median(run["seconds"] for run in runs), max(run["peak_mib"] for run in runs), output)


def inventory(path: Path, *options: str) -> list[str]:
    return [SEFTON_CARBON, "inventory", str(path), "--year", YEAR, "--format", "json", *options]


def reference(query: str, path: Path, factor_lines: Path) -> list[str]:
    return [sys.executable, str(HERE / "reference.py"), str(HERE / query), str(path), str(factor_lines),
            YEAR_START, YEAR_END]


def write_factor_lines(path: Path) -> Path:
    """The reference queries' factor table: each priced line of (electricity, kWh) and (natural_gas,
    kWh) inside the default boundary, with its coefficient [t CO2e per kWh], resolved by the library."""
    pairs = pd.DataFrame({"pair_id": [0, 1], "activity": ["electricity", "natural_gas"],
                          "unit": [parse_unit("kWh")] * 2})
    lines, failures = resolve_pairs(pairs, load_catalogue(), load_factors().table(FACTOR_YEAR))
    if failures:
        raise SystemExit(f"cannot price the benchmark's activities: {failures}")
    options = load_boundary_options()
    lines = lines[line_mask(options.options[options.default], lines)].merge(pairs[["pair_id", "activity"]])
    lines.assign(unit="kWh").rename(columns={"tco2e_coefficient": "tco2e_per_unit"})[
        ["activity", "unit", "scope", "tco2e_per_unit"]].to_csv(path, index=False)
    return path


def agreement(run: Run, expected: Run) -> str:
    """Whether ``run`` printed the same t CO2e per scope as ``expected`` (to 1 part in 10^9)."""
    if run.failure or expected.failure:
        return ""
    theirs = expected.output["by_scope"]
    ours = {scope: run.output["by_scope"].get(scope) for scope in theirs}
    same = all(value is not None and math.isclose(value, theirs[scope], rel_tol=1e-9) for scope, value in ours.items())
    return "same t CO2e per scope" if same else f"DIFFERENT t CO2e per scope: {ours} against {theirs}"


def met(ratio_or_value: float | None, limit: float) -> str:
    if ratio_or_value is None:
        return "not measured"
    return "met" if ratio_or_value <= limit else "NOT met"


def ratio(run: Run, reference_run: Run) -> float | None:
    return None if run.failure or reference_run.failure else run.seconds / reference_run.seconds


def table(title: str, header: list[str], rows: list[list[str]]) -> None:
    print(f"\n{title}\n")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(row) + " |")


def readings(meters: int, suffix: str) -> Path:
    path = DATA / f"daily-readings-{meters}{suffix}"
    if not path.exists():
        generate_daily_readings(meters, path)
    return path


def one_million(meters: int, repeat: int, factor_lines: Path, targets: list[list[str]]) -> None:
    path = readings(meters, ".csv")
    rows = sum(1 for _ in path.open()) - 1
    default, duckdb_engine, pandas, checks = measure_together([
        (inventory(path), True), (inventory(path, "--engine", "duckdb"), True),
        ([sys.executable, "-c", f"import pandas; pandas.read_csv({str(path)!r})"], False),
        (reference("reference_checks.sql", path, factor_lines), True)], repeat)
    table(f"1. {rows:,} rows: a year of daily readings for {meters:,} meters, CSV "
          f"({path.stat().st_size / 2**20:,.0f} MiB); median of {repeat}",
          ["what ran", "time", "peak memory", "x pandas.read_csv", "figures against the query with checks"],
          [["default command", default.time_text(), default.memory_text(), _times(ratio(default, pandas)),
            agreement(default, checks)],
           ["`--engine duckdb`", duckdb_engine.time_text(), duckdb_engine.memory_text(),
            _times(ratio(duckdb_engine, pandas)), agreement(duckdb_engine, checks)],
           ["`pandas.read_csv` (reference)", pandas.time_text(), pandas.memory_text(), "1.00", ""],
           ["hand-written DuckDB query with the checks", checks.time_text(), checks.memory_text(),
            _times(ratio(checks, pandas)), ""]])
    ratio_1m = ratio(default, pandas)
    targets.append([f"{rows:,} rows: default command / `pandas.read_csv`", _times(ratio_1m), "<= 2.0",
                    met(ratio_1m, 2.0)])
    targets.append([f"{rows:,} rows: default command, peak memory", default.memory_text(), "< 1.5 GB (1,431 MiB)",
                    met(default.peak_mib, 1.5 * MIB_PER_GB)])


def ten_million(meters: int, repeat: int, factor_lines: Path, targets: list[list[str]]) -> None:
    for number, label, suffix in (("2a", "CSV", ".csv"), ("2b", "Parquet", ".parquet")):
        path = readings(meters, suffix)
        rows = 365 * meters
        checks, plain, default, duckdb_engine = measure_together([
            (reference("reference_checks.sql", path, factor_lines), True),
            (reference("reference_plain.sql", path, factor_lines), True),
            (inventory(path), True), (inventory(path, "--engine", "duckdb"), True)], repeat)
        table(f"{number}. {rows:,} rows: a year of daily readings for {meters:,} meters, {label} "
              f"({path.stat().st_size / 2**20:,.0f} MiB); median of {repeat}",
              ["what ran", "time", "peak memory", "x query with checks", "figures"],
              [["default command", default.time_text(), default.memory_text(), _times(ratio(default, checks)),
                agreement(default, checks)],
               ["`--engine duckdb`", duckdb_engine.time_text(), duckdb_engine.memory_text(),
                _times(ratio(duckdb_engine, checks)), agreement(duckdb_engine, checks)],
               ["hand-written DuckDB query with the same checks (reference)", checks.time_text(),
                checks.memory_text(), "1.00", ""],
               ["plain DuckDB query (three columns, no checks)", plain.time_text(), plain.memory_text(),
                _times(ratio(plain, checks)), agreement(plain, checks)]])
        ratio_10m = ratio(default, checks)
        targets.append([f"{rows:,} rows, {label}: default command / query with checks", _times(ratio_10m),
                         "<= 0.6", met(ratio_10m, 0.6)])
        targets.append([f"{rows:,} rows, {label}: default command, peak memory", default.memory_text(),
                        "< 1 GiB (1,024 MiB)", met(default.peak_mib, MIB_PER_GIB)])


def overlaps(sizes: list[int], repeat: int, targets: list[list[str]]) -> None:
    baseline_runs = max(repeat, 5)
    baseline = measure(inventory(generate_overlapping_bills(0, DATA / "overlapping-bills-0.csv")), baseline_runs)
    rows, runs, seconds_above, previous = [], {}, {}, None
    for size in sizes:
        path = DATA / f"overlapping-bills-{size}.csv"
        if not path.exists():
            generate_overlapping_bills(size, path)
        runs[size] = run = measure(inventory(path), repeat)
        if not (run.failure or baseline.failure):
            seconds_above[size] = run.seconds - baseline.seconds
        rows.append([f"{size:,}", run.time_text(), f"{seconds_above[size]:.2f} s" if size in seconds_above else "",
                     _growth(seconds_above, previous, size), _refused(run, size + 1)])
        previous = size
    table(f"3. Overlap detection: one annual bill plus N one-day bills at one site and activity, default "
          f"command; median of {repeat}; the annual bill alone: {baseline.time_text()} (median of {baseline_runs}); "
          f"the last three sizes are beyond the issue's, so that the check stands out from start-up",
          ["N", "time", "time above the annual bill alone", "growth per doubling of N (n log n: ~2.1; n^2: 4)",
           "rows refused (all N + 1)"], rows)
    issue_size = sizes[ONE_DAY_BILLS.index(20_000)]
    run = runs[issue_size]
    targets.append([f"overlaps: {issue_size:,} one-day bills, whole command", run.time_text(), "seconds (< 10 s)",
                    met(run.seconds, 10)])
    measurable = [size for size in sizes if seconds_above.get(size, 0) >= NOISE_SECONDS]
    if len(measurable) > 1:
        growth = _growth(seconds_above, measurable[0], measurable[-1])
        targets.append([f"overlaps: growth per doubling of N, {measurable[0]:,} to {measurable[-1]:,}", growth,
                        "n log n (< 3; n^2: 4)", met(float(growth), 3)])
    else:
        targets.append(["overlaps: growth per doubling of N", "- (under the noise)", "n log n (< 3; n^2: 4)",
                        "not measured"])


def _growth(seconds_above: dict[int, float], smaller: int | None, larger: int) -> str:
    """How many times the time above start-up grows per doubling of N from ``smaller`` to ``larger``;
    nothing when either time is under the noise of a shared machine."""
    if smaller is None or smaller not in seconds_above or larger not in seconds_above:
        return ""
    if min(seconds_above[smaller], seconds_above[larger]) < NOISE_SECONDS:
        return "- (under the noise)"
    return f"{(seconds_above[larger] / seconds_above[smaller]) ** (1 / math.log2(larger / smaller)):.2f}"


def help_time(targets: list[list[str]]) -> None:
    run = measure([SEFTON_CARBON, "--help"], 5, json_output=False)
    table("4. `sefton-carbon --help`; median of 5", ["what ran", "time", "peak memory"],
          [["`sefton-carbon --help`", run.time_text(), run.memory_text()]])
    targets.append(["`sefton-carbon --help`", run.time_text(), "< 0.3 s", met(run.seconds, 0.3)])


def _refused(run: Run, expected: int) -> str:
    """How many rows the command refused, and whether that is every row (the command refuses both
    bills of an overlapping pair, so the annual bill too)."""
    if run.failure:
        return ""
    refused = run.output["rows"]["rejected"]
    return f"{refused:,}" + ("" if refused == expected else f" (NOT the {expected:,} expected)")


def _times(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of every input size (default 1)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per command; the median is shown")
    options = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # each table as soon as it is measured, also through a pipe
    DATA.mkdir(exist_ok=True)
    print(f"{os.cpu_count()} cores; load average at the start {os.getloadavg()[0]:.1f} (other work on the "
          "machine slows every figure)")
    factor_lines = write_factor_lines(DATA / "factor-lines.csv")
    targets: list[list[str]] = []
    one_million(max(1, round(METERS_1M * options.scale)), options.repeat, factor_lines, targets)
    ten_million(max(1, round(METERS_10M * options.scale)), options.repeat, factor_lines, targets)
    overlaps([max(2, round(size * options.scale)) for size in ONE_DAY_BILLS], options.repeat, targets)
    help_time(targets)
    table("Targets" + ("" if options.scale == 1 else f" (scale {options.scale}: the targets are for scale 1)"),
          ["figure", "measured", "target", "status"], targets)
    print(f"\nload average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
