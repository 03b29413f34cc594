"""Large inputs: the inventory computed in DuckDB (one machine, larger than memory) or Dask (a cluster).

The rules are the library's own. For the figures, the engine sums rows per distinct (department,
activity, unit, period, data quality) as written (DuckDB in one scan, Dask per partition); each
combination is then checked by the functions the pandas path uses (`unit_or_error`, `parse_date`, the
catalogue) and priced per distinct (activity, unit) pair by `inventory.resolve_pairs`, as the pandas
path does (`_summary`, shared by both engines). For the ledger and the rejected rows, DuckDB makes
a per-row pass with the same interpretations handed to it as small lookup tables, and streams them
to Parquet or CSV without passing through pandas.

Not done by these engines (use the pandas path, `compute_inventory`, for returns that need them):
Excel files, title rows above the header (header names are matched as the pandas path matches them),
duplicate and overlap detection, site tags, and market-based Scope 2. Row numbers count data rows
(``source_row`` = data row + 1, as if the header were row 1); blank lines, and rows with nothing
in the measured columns, are skipped as the pandas path skips them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sefton_carbon.accounting.boundary import line_mask, load_boundary_options
from sefton_carbon.accounting.catalogue import load_catalogue
from sefton_carbon.accounting.factors import FactorTable, load_factors
from sefton_carbon.accounting.inventory import VALUES, resolve_pairs
from sefton_carbon.errors import UsageError
from sefton_carbon.io.cells import parse_date, parse_quantity
from sefton_carbon.io.columnar import duckdb_source, number_sql, reading, renamed_view, sql_string
from sefton_carbon.returns.activity import (
    DATA_QUALITY_VALUES,
    MAX_QUANTITY,
    column_for_header,
    split_number_unit,
    unit_or_error,
)
from sefton_carbon.years import ReportingYear

TEXT_COLUMNS = ["department", "site", "activity", "quantity", "unit", "period_start", "period_end", "data_quality"]
#: The columns rows are grouped by before they are checked, and what is summed per group.
GROUP_COLUMNS = ["department", "activity", "unit", "period_start", "period_end", "data_quality"]
COUNT_COLUMNS = ["rows", "positive_rows", "positive_quantity", "negative_rows", "negative_quantity", "empty_rows"]
#: Columns that carry a measurement, as `activity.MEASURED_COLUMNS`: a row with all of them empty
#: (a template row with only the department filled in) is not an activity row, and is not counted.
GROUP_MEASURED = ["activity", "unit", "period_start", "period_end"]
LINE_COLUMNS = ["activity", "unit", "line", "scope", "category", "factor_key", "factor_unit", "kgco2e_per_unit",
                "unit_conversion", "coefficient", "coefficient_co2", "coefficient_ch4", "coefficient_n2o", "in_boundary",
                "activity_excluded"]


@dataclass
class LargeInventory:
    """The figures of a large inventory: the same summary shape as `Inventory.summary`."""

    summary: dict
    ledger_path: Path | None = None


def _lookups(connection, columns: dict[str, str], text_quantities: bool) -> dict[str, pd.DataFrame]:
    """Lookup tables from the distinct values of the text columns (see the module docstring), and
    of the quantity cells that hold a number and a unit (``1234 kWh``), looked for only when the
    scan found ``text_quantities``."""
    catalogue = load_catalogue()
    texts = [row[0] for row in connection.execute(
        f"SELECT DISTINCT CAST(quantity AS VARCHAR) FROM raw WHERE {_quantity_sql('quantity', columns['quantity'])} "
        f"IS NULL AND NOT {_blank_sql('quantity')}").fetchall()] if text_quantities else []
    with_unit = {text: split for text in texts if (split := split_number_unit(text))}

    wanted = [column for column in ("activity", "unit", "period_start", "period_end", "data_quality")
              if column in columns]
    row = connection.execute("SELECT " + ", ".join(
        f"list(DISTINCT coalesce(CAST({column} AS VARCHAR), ''))" for column in wanted) + " FROM raw").fetchall()[0]
    values = dict(zip(wanted, row))

    def distinct(column: str) -> list[str]:
        return list(values.get(column) or [""])

    activities = distinct("activity")
    units = sorted(set(distinct("unit")) | {unit_written for _, unit_written in with_unit.values()})
    dates = sorted(set(distinct("period_start")) | set(distinct("period_end")))
    qualities = distinct("data_quality")
    return {
        "activity_lookup": pd.DataFrame({"written": activities,
                                         "activity": [catalogue.canonical_name(a) if a.strip() else None for a in activities],
                                         "activity_error": [None if not a.strip() or catalogue.canonical_name(a)
                                                            else catalogue.unknown_activity_message(a.strip())
                                                            for a in activities]}),
        "unit_lookup": pd.DataFrame({"written": units, "unit": [unit_or_error(u)[0] for u in units],
                                     "unit_error": [unit_or_error(u)[1] for u in units]}),
        "date_lookup": pd.DataFrame({"written": dates,
                                     "day": pd.to_datetime([parse_date(d) for d in dates], errors="coerce")}),
        "quality_lookup": pd.DataFrame({"written": qualities,
                                        "quality": [DATA_QUALITY_VALUES.get(q.strip().lower()) for q in qualities]}),
        "quantity_lookup": pd.DataFrame({"written": pd.Series(list(with_unit), dtype="string"),
                                         "number": pd.Series([number for number, _ in with_unit.values()],
                                                             dtype="float64"),
                                         "cell_unit": pd.Series([unit for _, unit in with_unit.values()],
                                                                dtype="string")}),
    }


def _lines(pairs: pd.DataFrame, factor_table: FactorTable, scope_option: str | None,
           scopes_file) -> tuple[pd.DataFrame, dict]:
    """Priced lines per (activity, unit) pair (the two columns of ``pairs``, in that order), as the
    pandas path prices them (`inventory.resolve_pairs`); and the reason for each pair that cannot
    be priced, keyed by (activity, unit)."""
    option = load_boundary_options(scopes_file).get(scope_option)
    numbered = pairs.set_axis(["activity", "unit"], axis=1).reset_index(drop=True)
    numbered["pair_id"] = np.arange(len(numbered))
    resolved, failed = resolve_pairs(numbered, load_catalogue(), factor_table)
    failures = {(numbered.at[pair_id, "activity"], numbered.at[pair_id, "unit"]): reason
                for pair_id, reason in failed.items()}
    lines = resolved.merge(numbered, on="pair_id").rename(columns={
        "kgco2e": "kgco2e_per_unit", **{f"{value}_coefficient": "coefficient" + value.removeprefix("tco2e")
                                        for value in VALUES}})
    lines["in_boundary"] = line_mask(option, lines)
    lines["activity_excluded"] = np.array([option.excludes_activity(activity) for activity in lines["activity"]],
                                          dtype=bool)
    return lines[LINE_COLUMNS].astype({"line": str, "factor_key": str, "factor_unit": str}), failures


def _quantity_sql(column: str, column_type: str) -> str:
    """SQL for a row's quantity [number, NULL when it is not one]: a plain number, or one written
    with thousands commas (1,234.5). The pattern is tried only when the plain cast fails (a CASE
    evaluates its branches lazily; a coalesce would run the pattern on every row)."""
    number = number_sql(column, column_type)
    text = f"trim(CAST({column} AS VARCHAR))"
    return (f"CASE WHEN {number} IS NOT NULL THEN {number} "
            f"WHEN regexp_matches({text}, '^-?\\d{{1,3}}(,\\d{{3}})+(\\.\\d+)?$') "
            f"THEN TRY_CAST(replace({text}, ',', '') AS DOUBLE) END")


def _blank_sql(cell: str) -> str:
    """SQL: a cell is empty or white space (or missing)."""
    return f"coalesce(trim(CAST({cell} AS VARCHAR)), '') = ''"


def _empty_cells_sql(columns: dict[str, str], table: str = "") -> str:
    """SQL: the row's quantity cell, and its meter cell when the table has one, are empty. The
    other measured columns are group keys, checked per group (`_validate_groups`)."""
    cells = ["quantity"] + (["meter"] if "meter" in columns else [])
    return " AND ".join(_blank_sql(f"{table}{cell}") for cell in cells)


def _units_from_quantity_cells(groups: pd.DataFrame, texts: pd.DataFrame) -> pd.DataFrame:
    """``groups`` with the rows whose quantity cell holds a number and a unit (``1234 kWh``) read as
    the pandas path reads them: the unit fills an empty unit cell, or must agree with the unit
    written there, and the row moves, with its number, to the group of its unit; other text stays
    a rejected quantity. ``texts``: ``GROUP_COLUMNS``, ``quantity_written`` and ``rows``, for the
    rows whose quantity is neither a number nor empty."""
    if texts.empty:
        return groups
    split = {text: split_number_unit(text) for text in texts["quantity_written"].unique()}
    texts = texts.assign(number=texts["quantity_written"].map(lambda text: (split[text] or (None, None))[0]),
                         cell_unit=texts["quantity_written"].map(lambda text: (split[text] or (None, None))[1]))
    texts = texts[texts["number"].notna()]
    units = {text: unit_or_error(text)[0] for text in set(texts["unit"]) | set(texts["cell_unit"])}
    unit_blank = texts["unit"].str.strip() == ""
    moving = texts[unit_blank | (texts["unit"].map(units) == texts["cell_unit"].map(units))]
    if moving.empty:
        return groups
    number, count = moving["number"].astype("float64"), moving["rows"]
    accepted = number.abs() <= MAX_QUANTITY
    positive, negative = accepted & (number >= 0), accepted & (number < 0)
    arrived = moving[GROUP_COLUMNS].assign(
        unit=moving["unit"].where(~unit_blank.loc[moving.index], moving["cell_unit"]), rows=count,
        positive_rows=count.where(positive, 0), positive_quantity=(count * number).where(positive, 0.0),
        negative_rows=count.where(negative, 0), negative_quantity=(count * number).where(negative, 0.0),
        empty_rows=0)
    left = moving[GROUP_COLUMNS].assign(rows=-count, positive_rows=0, positive_quantity=0.0, negative_rows=0,
                                        negative_quantity=0.0, empty_rows=0)
    return pd.concat([groups, arrived, left]).groupby(GROUP_COLUMNS, as_index=False, sort=False)[COUNT_COLUMNS].sum()


def _validate_groups(groups: pd.DataFrame, year: ReportingYear) -> pd.DataFrame:
    """Interpret each distinct (department, activity, unit, period, data quality) once, with the
    library's own rules; add ``ok``, the share of the period inside the year, the accepted rows
    and their quantity (negative quantities count only in correction groups), and the blank rows
    (nothing in any measured column: not read, as on the pandas path)."""
    catalogue = load_catalogue()
    frame = groups.copy()
    frame[GROUP_COLUMNS] = frame[GROUP_COLUMNS].fillna("")
    frame["department"] = frame["department"].str.strip()
    quality_written = frame["data_quality"].str.strip().str.lower()
    correction = quality_written == "correction"
    frame["accepted_rows"] = frame["positive_rows"] + frame["negative_rows"].where(correction, 0)
    blank_group = (frame[GROUP_MEASURED].apply(lambda column: column.str.strip()) == "").all(axis=1)
    frame["blank_rows"] = frame["empty_rows"].where(blank_group, 0)
    frame["quantity"] = frame["positive_quantity"] + frame["negative_quantity"].where(correction, 0.0)
    frame["activity_canonical"] = frame["activity"].map(
        {text: catalogue.canonical_name(text) if text.strip() else None for text in frame["activity"].unique()})
    frame["unit_canonical"] = frame["unit"].map(
        {text: unit_or_error(text)[0] for text in frame["unit"].unique()})
    dates = {text: parse_date(text) for text in set(frame["period_start"]) | set(frame["period_end"])}
    start = pd.to_datetime(frame["period_start"].map(dates))
    end = pd.to_datetime(frame["period_end"].map(dates))
    first, last = pd.Timestamp(year.first_day), pd.Timestamp(year.last_day)
    inside = (end.clip(upper=last) - start.clip(lower=first)).dt.days + 1
    frame["share_in_year"] = inside / ((end - start).dt.days + 1)
    quality = quality_written.map(DATA_QUALITY_VALUES)
    frame["ok"] = ((frame["department"] != "") & frame["activity_canonical"].notna()
                   & frame["unit_canonical"].notna() & start.notna() & end.notna() & (end >= start)
                   & (inside > 0) & quality.notna() & (frame["accepted_rows"] > 0))
    return frame


def compute_large_inventory(paths: list[str | Path], reporting_year: str | ReportingYear, *,
                            factor_year: int | None = None, factors_dir: str | Path | None = None,
                            scope_option: str | None = None, scopes_file=None,
                            ledger: str | Path | None = None, rejected: str | Path | None = None,
                            memory_limit: str = "700MB",
                            threads: int | None = None) -> LargeInventory:
    """The inventory of one year from large CSV or Parquet inputs, computed in DuckDB.

    The figures come from one aggregating scan: quantities are summed per distinct (department,
    activity, unit, period, data quality) as written, positive and negative apart, and each
    distinct combination is then checked and priced by the library (emissions are linear in
    quantity). The ledger and the rejected rows, when asked for, take a second, per-row pass.
    """
    import duckdb

    year = ReportingYear.parse(reporting_year)
    factor_table = load_factors(factors_dir).table(factor_year or year.default_factor_year)
    connection = duckdb.connect()
    connection.execute(f"SET memory_limit = '{memory_limit}'")
    if threads:
        connection.execute(f"SET threads = {int(threads)}")
    with reading(paths):
        connection.execute(f"CREATE TEMP VIEW source AS SELECT * FROM {duckdb_source(paths, column_for_header)}")
        columns = renamed_view(connection, "source", "raw", column_for_header, paths)
    missing = [column for column in TEXT_COLUMNS[:7] if column not in columns]
    if missing:
        raise UsageError(f"the large-input engine needs the columns {', '.join(TEXT_COLUMNS[:7])} (or their "
                         f"usual header names); missing: {', '.join(missing)}")
    text = {column: f"CAST({column} AS VARCHAR)" for column in GROUP_COLUMNS}
    if "data_quality" not in columns:
        text["data_quality"] = "''"
    # Rows are grouped on the columns as written (trimmed and interpreted per group afterwards).
    # A quantity is accepted when it is a finite number with |q| <= MAX_QUANTITY, and a negative
    # one only with data_quality correction: the two signs are summed apart so that the choice
    # can be made per group, which carries its data_quality. NaN sorts above every number, so
    # BETWEEN leaves it (and the infinities) out. Empty cells are looked for only where there is no
    # number: a CASE runs its branch on those rows alone, where a FILTER would trim every cell.
    text_cell = f"NOT {_blank_sql('quantity')}"
    with reading(paths):
        groups = connection.execute(f"""
            SELECT {", ".join(f"{expression} AS {column}" for column, expression in text.items())},
                   count(*) AS rows,
                   count(*) FILTER (WHERE q BETWEEN 0 AND {MAX_QUANTITY}) AS positive_rows,
                   coalesce(sum(q) FILTER (WHERE q BETWEEN 0 AND {MAX_QUANTITY}), 0) AS positive_quantity,
                   count(*) FILTER (WHERE q BETWEEN -{MAX_QUANTITY} AND 0 AND q < 0) AS negative_rows,
                   coalesce(sum(q) FILTER (WHERE q BETWEEN -{MAX_QUANTITY} AND 0 AND q < 0), 0) AS negative_quantity,
                   count(CASE WHEN q IS NULL THEN CASE WHEN {_empty_cells_sql(columns)} THEN 1 END END) AS empty_rows,
                   count(CASE WHEN q IS NULL THEN CASE WHEN {text_cell} THEN 1 END END) AS text_rows
            FROM (SELECT *, {_quantity_sql("quantity", columns["quantity"])} AS q FROM raw)
            GROUP BY ALL""").df()
        texts = pd.DataFrame(columns=[*GROUP_COLUMNS, "quantity_written", "rows"])
        text_quantities = bool(groups["text_rows"].any())
        if text_quantities:  # quantity cells that are not numbers: read again, those rows only
            texts = connection.execute(f"""
                SELECT {", ".join(f"{expression} AS {column}" for column, expression in text.items())},
                       CAST(quantity AS VARCHAR) AS quantity_written, count(*) AS rows
                FROM (SELECT *, {_quantity_sql("quantity", columns["quantity"])} AS q FROM raw)
                WHERE q IS NULL AND {text_cell} GROUP BY ALL""").df()
    groups[GROUP_COLUMNS] = groups[GROUP_COLUMNS].fillna("")
    texts[GROUP_COLUMNS] = texts[GROUP_COLUMNS].fillna("")
    groups = _units_from_quantity_cells(groups[GROUP_COLUMNS + COUNT_COLUMNS], texts)
    summary = _summary(groups, year, factor_table, scope_option, scopes_file, engine="duckdb")
    if ledger is not None or rejected is not None:
        _write_rows(connection, paths, columns, text_quantities, year, factor_table, scope_option, scopes_file,
                    ledger, rejected)
    connection.close()
    return LargeInventory(summary=summary, ledger_path=ledger)


def _summary(groups: pd.DataFrame, year: ReportingYear, factor_table: FactorTable, scope_option: str | None,
             scopes_file, engine: str) -> dict:
    """The summary figures from the rows summed per distinct (department, activity, unit, period,
    data quality) as written (``GROUP_COLUMNS`` and ``COUNT_COLUMNS``): each combination checked
    (`_validate_groups`), priced (`_lines`) and summed, the same way for every engine."""
    groups = _validate_groups(groups, year)
    pairs = groups.loc[groups["ok"], ["activity_canonical", "unit_canonical"]].drop_duplicates()
    lines, failures = _lines(pairs, factor_table, scope_option, scopes_file)
    unpriceable = pd.MultiIndex.from_frame(groups[["activity_canonical", "unit_canonical"]]).isin(list(failures))
    groups["ok"] &= ~unpriceable
    read = int(groups["rows"].sum() - groups["blank_rows"].sum())
    accounted = int(groups.loc[groups["ok"], "accepted_rows"].sum())
    priced = groups[groups["ok"]].merge(lines[lines["in_boundary"] & ~lines["activity_excluded"]],
                                        left_on=["activity_canonical", "unit_canonical"], right_on=["activity", "unit"],
                                        suffixes=("_written", ""))
    amount = priced["quantity"] * priced["share_in_year"]
    for suffix in ("", "_co2", "_ch4", "_n2o"):
        priced[f"tco2e{suffix}"] = amount * priced[f"coefficient{suffix}"]

    def grouped(column: str) -> dict:
        sums = priced.groupby(column)["tco2e"].sum().sort_values(ascending=False)
        return {str(key): float(value) for key, value in sums.items()}

    by_scope = priced.groupby("scope")["tco2e"].sum()
    scopes = {f"scope_{scope}": float(by_scope.get(scope, 0.0)) for scope in (1, 2, 3)}
    categories = priced[priced["scope"] == 3].groupby("category")["tco2e"].sum()
    return {
        "reporting_year": year.label, "factor_year": factor_table.year, "engine": engine,
        "total_tco2e": sum(scopes.values()), "by_scope": {**scopes, "scope_2_location": scopes["scope_2"]},
        "by_scope_3_category": {str(int(category)): float(value) for category, value in categories.items()},
        "by_department": grouped("department"),
        "by_activity": grouped("activity"),
        "by_gas": {f"tco2e_{gas}": float(priced[f"tco2e_{gas}"].sum()) for gas in ("co2", "ch4", "n2o")},
        "rows": {"read": read, "accounted": accounted, "rejected": read - accounted},
    }


def _write_rows(connection, paths, columns: dict[str, str], text_quantities: bool, year: ReportingYear,
                factor_table: FactorTable, scope_option, scopes_file, ledger: str | Path | None,
                rejected: str | Path | None) -> None:
    """The per-row pass over the view ``raw`` (its ``columns``: name -> type; ``text_quantities``:
    the scan found quantity cells that are text): the ledger and the rejected rows with their
    reasons, streamed to files."""
    connection.execute("SET preserve_insertion_order = true")
    for name, frame in _lookups(connection, columns, text_quantities).items():
        connection.register(name, frame)
    quality = "coalesce(CAST(r.data_quality AS VARCHAR), '')" if "data_quality" in columns else "''"
    unit_blank = _blank_sql("r.unit")
    # A unit written in the quantity cell fills an empty unit cell, or must agree with it (as in
    # `_units_from_quantity_cells`). Rows are numbered in file order before the lookups are joined,
    # so no join can reorder them.
    partition = "PARTITION BY filename" if len(paths) > 1 or Path(paths[0]).is_dir() else ""
    connection.execute(f"""
        CREATE TEMP VIEW parsed AS
        SELECT r.filename AS source_file, r.source_row,
               trim(CAST(r.department AS VARCHAR)) AS department, trim(coalesce(CAST(r.site AS VARCHAR), '')) AS site,
               a.activity, a.activity_error, CAST(r.activity AS VARCHAR) AS activity_written,
               CAST(r.quantity AS VARCHAR) AS quantity_written,
               coalesce({_quantity_sql("r.quantity", columns["quantity"])}, x.number) AS quantity,
               u.unit, u.unit_error, s.day AS period_start, e.day AS period_end, q.quality AS data_quality,
               CASE WHEN x.cell_unit IS NOT NULL AND NOT {unit_blank} AND u.unit IS DISTINCT FROM c.unit
                    THEN 'the quantity cell says ''' || x.cell_unit || ''' but the unit column says '''
                         || trim(CAST(r.unit AS VARCHAR)) || '''' END AS unit_conflict,
               CAST(r.period_start AS VARCHAR) AS start_written, CAST(r.period_end AS VARCHAR) AS end_written,
               {" AND ".join(_blank_sql(f"r.{column}") for column in GROUP_MEASURED)}
                 AND {_empty_cells_sql(columns, "r.")} AS blank
        FROM (SELECT *, CAST(row_number() OVER ({partition}) + 1 AS BIGINT) AS source_row FROM raw) r
        LEFT JOIN activity_lookup a ON a.written = coalesce(CAST(r.activity AS VARCHAR), '')
        LEFT JOIN quantity_lookup x ON x.written = CAST(r.quantity AS VARCHAR)
        LEFT JOIN unit_lookup c ON c.written = x.cell_unit
        LEFT JOIN unit_lookup u
          ON u.written = CASE WHEN x.cell_unit IS NOT NULL AND {unit_blank} THEN x.cell_unit
                              ELSE coalesce(CAST(r.unit AS VARCHAR), '') END
        LEFT JOIN date_lookup s ON s.written = coalesce(CAST(r.period_start AS VARCHAR), '')
        LEFT JOIN date_lookup e ON e.written = coalesce(CAST(r.period_end AS VARCHAR), '')
        LEFT JOIN quality_lookup q ON q.written = {quality}
    """)
    pairs = connection.execute("SELECT DISTINCT activity, unit FROM parsed WHERE activity IS NOT NULL "
                               "AND unit IS NOT NULL ORDER BY 1, 2").df()
    lines, failures = _lines(pairs, factor_table, scope_option, scopes_file)
    connection.register("lines", lines)
    connection.register("failures", pd.DataFrame([(a, u, reason) for (a, u), reason in failures.items()],
                                                 columns=["activity", "unit", "reason"]))
    first, last = year.first_day.isoformat(), year.last_day.isoformat()
    connection.execute(f"""
        CREATE TEMP VIEW checked AS
        SELECT p.*,
               (datediff('day', greatest(p.period_start, DATE '{first}'), least(p.period_end, DATE '{last}')) + 1)
                 / (datediff('day', p.period_start, p.period_end) + 1) AS share_in_year,
               concat_ws('; ',
                 CASE WHEN coalesce(p.department, '') = '' THEN 'department is empty' END,
                 CASE WHEN trim(coalesce(p.activity_written, '')) = '' THEN 'activity is empty' END,
                 p.activity_error,
                 CASE WHEN trim(coalesce(p.quantity_written, '')) = '' THEN 'quantity is empty'
                      WHEN p.quantity IS NULL OR isnan(p.quantity) THEN 'quantity ''' || p.quantity_written || ''' is not a number'
                      WHEN isinf(p.quantity) THEN 'quantity is not a finite number'
                      WHEN p.quantity < 0 AND coalesce(p.data_quality, '') <> 'correction'
                        THEN 'quantity is negative: accepted only with data_quality correction'
                      WHEN abs(p.quantity) > {MAX_QUANTITY} THEN 'quantity is implausibly large for one row' END,
                 CASE WHEN p.unit IS NULL THEN coalesce(p.unit_error, 'unit is empty') END,
                 p.unit_conflict,
                 CASE WHEN p.period_start IS NULL THEN 'period_start ''' || coalesce(p.start_written, '') || ''' is not a date' END,
                 CASE WHEN p.period_end IS NULL THEN 'period_end ''' || coalesce(p.end_written, '') || ''' is not a date' END,
                 CASE WHEN p.period_end < p.period_start THEN 'period ends before it starts' END,
                 CASE WHEN p.data_quality IS NULL THEN 'data_quality is not accepted: write actual, estimated or correction' END,
                 CASE WHEN p.period_end < DATE '{first}' OR p.period_start > DATE '{last}'
                      THEN 'period lies outside the reporting year {year.label}' END,
                 f.reason) AS reason,
               (coalesce(p.department, '') <> '' AND p.activity IS NOT NULL AND p.quantity IS NOT NULL
                AND NOT isnan(p.quantity) AND NOT isinf(p.quantity) AND abs(p.quantity) <= {MAX_QUANTITY}
                AND (p.quantity >= 0 OR p.data_quality = 'correction') AND p.unit IS NOT NULL
                AND p.period_start IS NOT NULL AND p.period_end IS NOT NULL AND p.period_end >= p.period_start
                AND p.data_quality IS NOT NULL AND p.period_end >= DATE '{first}' AND p.period_start <= DATE '{last}'
                AND p.unit_conflict IS NULL AND f.reason IS NULL) AS ok
        FROM parsed p LEFT JOIN failures f ON f.activity = p.activity AND f.unit = p.unit
    """)
    ledger_query = """
        SELECT c.source_file, c.source_row, c.department, c.site, c.activity, c.quantity AS quantity_reported,
               c.share_in_year, c.quantity * c.share_in_year AS quantity, c.unit, c.period_start, c.period_end,
               c.data_quality, l.line, l.scope, l.category, l.factor_key, l.factor_unit, l.kgco2e_per_unit,
               l.unit_conversion, c.quantity * c.share_in_year * l.coefficient AS tco2e,
               c.quantity * c.share_in_year * l.coefficient_co2 AS tco2e_co2,
               c.quantity * c.share_in_year * l.coefficient_ch4 AS tco2e_ch4,
               c.quantity * c.share_in_year * l.coefficient_n2o AS tco2e_n2o,
               l.in_boundary AND NOT l.activity_excluded AS in_boundary
        FROM checked c JOIN lines l ON l.activity = c.activity AND l.unit = c.unit
        WHERE c.ok
    """
    connection.execute(f"CREATE TEMP VIEW ledger AS {ledger_query}")
    if ledger is not None:
        ledger = Path(ledger)
        ledger.parent.mkdir(parents=True, exist_ok=True)
        kind = "PARQUET" if ledger.suffix.lower() == ".parquet" else "CSV, HEADER"
        connection.execute(f"COPY (SELECT * FROM ledger ORDER BY source_file, source_row) TO {sql_string(ledger)} "
                           f"(FORMAT {kind})")

    if rejected is not None:
        Path(rejected).parent.mkdir(parents=True, exist_ok=True)
        connection.execute(f"COPY (SELECT source_file, source_row, reason FROM checked WHERE NOT ok AND NOT blank "
                           f"ORDER BY source_file, source_row) TO {sql_string(rejected)} (FORMAT CSV, HEADER)")


def group_partition(frame: pd.DataFrame) -> pd.DataFrame:
    """One partition's rows summed per distinct (department, activity, unit, period, data quality)
    as written, as the DuckDB scan sums them (``COUNT_COLUMNS``; quantities read by the pandas
    path's `parse_quantity`, once per distinct value), and apart per ``quantity_written`` for the
    rows whose quantity cell holds text: the per-partition step of the Dask engine (pure pandas,
    no I/O); `_combined` adds the partitions up."""
    text = frame.reindex(columns=GROUP_COLUMNS).astype("string").fillna("")
    written = frame["quantity"].astype("string").fillna("")
    if pd.api.types.is_numeric_dtype(frame["quantity"]):
        numbers = frame["quantity"].astype("float64")
    else:
        numbers = written.map({value: parse_quantity(value) for value in written.unique()}).astype("float64")
    accepted = numbers.abs() <= MAX_QUANTITY  # NaN and the infinities are not
    positive, negative = accepted & (numbers >= 0), accepted & (numbers < 0)
    not_a_number = numbers.isna() & (written.str.strip() != "")
    empty = numbers.isna() & ~not_a_number
    if "meter" in frame:
        empty &= frame["meter"].astype("string").fillna("").str.strip() == ""
    counts = text.assign(quantity_written=written.where(not_a_number, ""), rows=1,
                         positive_rows=positive.astype("int64"), positive_quantity=numbers.where(positive, 0.0),
                         negative_rows=negative.astype("int64"), negative_quantity=numbers.where(negative, 0.0),
                         empty_rows=empty.astype("int64"))
    return counts.groupby([*GROUP_COLUMNS, "quantity_written"], as_index=False, sort=False)[COUNT_COLUMNS].sum()


def compute_dask_inventory(paths: list[str | Path], reporting_year: str | ReportingYear, *,
                           scheduler: str | None = None, factor_year: int | None = None,
                           factors_dir: str | Path | None = None,
                           scope_option: str | None = None, scopes_file=None) -> dict:
    """The inventory of partitioned Parquet inputs computed on Dask (a local process pool, or the
    cluster at ``scheduler``). Each worker sums its partitions with `group_partition`; the client
    adds the partial sums and checks and prices each combination as the DuckDB engine does, so
    both give the same figures and the same rows rejected. Returns the summary figures."""
    import dask
    import dask.dataframe as dd

    year = ReportingYear.parse(reporting_year)
    factor_table = load_factors(factors_dir).table(factor_year or year.default_factor_year)
    frames = dd.read_parquet([str(path) for path in paths])
    frames = frames.rename(columns={written: column_for_header(written) or written for written in frames.columns})
    missing = [column for column in TEXT_COLUMNS[:7] if column not in frames.columns]
    if missing:
        raise UsageError(f"the Dask engine needs the columns {', '.join(TEXT_COLUMNS[:7])} (or their usual "
                         f"header names); missing: {', '.join(missing)}")
    meta = pd.DataFrame({**{column: pd.Series(dtype="string") for column in [*GROUP_COLUMNS, "quantity_written"]},
                         **{column: pd.Series(dtype="float64" if column.endswith("quantity") else "int64")
                            for column in COUNT_COLUMNS}})
    partials = frames.map_partitions(group_partition, meta=meta)
    if scheduler:
        from distributed import Client

        with Client(scheduler) as client:
            result = client.compute(partials).result()
    else:
        with dask.config.set(scheduler="processes"):
            result = partials.compute()
    return _summary(_combined(result), year, factor_table, scope_option, scopes_file, engine="dask")


def _combined(partitions: pd.DataFrame) -> pd.DataFrame:
    """The sums of `group_partition` over all partitions, per group, with the rows whose quantity
    cell holds a number and a unit moved to their unit's group (`_units_from_quantity_cells`)."""
    groups = partitions.groupby(GROUP_COLUMNS, as_index=False)[COUNT_COLUMNS].sum()
    texts = partitions[partitions["quantity_written"] != ""].groupby([*GROUP_COLUMNS, "quantity_written"],
                                                                   as_index=False)["rows"].sum()
    return _units_from_quantity_cells(groups, texts)
