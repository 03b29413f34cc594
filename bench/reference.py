"""Run one of the hand-written reference queries (``reference_checks.sql``, ``reference_plain.sql``)
over a CSV or Parquet file, as a whole command of its own, and print t CO2e per scope as JSON.

    python reference.py QUERY.sql INPUT FACTOR_LINES.csv YEAR_START YEAR_END

Only DuckDB is imported, so the reference pays no start-up cost the query does not need. For
``reference_checks.sql`` every column of the input is read as text (so that the query parses
quantities and dates itself); for ``reference_plain.sql`` DuckDB detects the types.
"""

import json
import sys

import duckdb


def main() -> None:
    query_path, input_path, factors_path, year_start, year_end = sys.argv[1:]
    with open(query_path, encoding="utf-8") as file:
        query = file.read()
    as_text = "checks" in query_path
    connection = duckdb.connect()
    connection.execute("SET enable_progress_bar = false")
    if input_path.endswith(".parquet"):
        source = connection.read_parquet(input_path)
        if as_text:
            source = source.project(", ".join(f'CAST("{name}" AS VARCHAR) AS "{name}"' for name in source.columns))
    else:
        source = connection.read_csv(input_path, all_varchar=as_text)
    connection.register("raw", source)
    connection.register("factor_lines", connection.read_csv(factors_path))
    connection.execute("SET VARIABLE year_start = CAST(? AS DATE)", [year_start])
    connection.execute("SET VARIABLE year_end = CAST(? AS DATE)", [year_end])
    by_scope = {f"scope_{scope}": tco2e for scope, tco2e in connection.execute(query).fetchall()}
    print(json.dumps({"by_scope": by_scope}))


if __name__ == "__main__":
    main()
