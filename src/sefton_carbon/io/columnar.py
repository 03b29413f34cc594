"""CSV and Parquet inputs read by DuckDB: the large-input engine and the half-hourly meter data.

Every column is read as written (CSV cells as text, so that a bad cell is a value to reject rather
than an error that stops the read), with the name of the file it came from. DuckDB's own errors
on a file it cannot read (ragged CSV lines, a file that is not Parquet) become one-line DataErrors.
"""

from __future__ import annotations

import csv
import re
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import unquote

from sefton_carbon.errors import DataError, UsageError
from sefton_carbon.io.files import FORMULA_PREFIXES, input_files


def sql_string(text: str) -> str:
    """A SQL string literal: single quotes doubled, so a file or column name cannot end it."""
    return "'" + str(text).replace("'", "''") + "'"


#: The columns DuckDB adds to the rows of a file it reads (its name, and a Parquet row's number):
#: a file holding a column of one of these names (in any case) cannot be read with them.
DUCKDB_ADDED_COLUMNS = ("filename", "file_row_number")


def duckdb_source(paths: list[str | Path], rename=None, row_numbers: bool = False, only_named: bool = False) -> str:
    """A DuckDB table expression reading Parquet files and hive-partitioned folders
    (``year=2023/council=sefton/part-0.parquet``), or CSV files and folders of them, with a
    ``filename`` column (and, with ``row_numbers``, Parquet's ``file_row_number``, from 0).

    CSV files are read strictly, as `csv_layout` finds them: the header on the first line, every
    cell as text, and a line with more or fewer cells than the header is an error naming its line
    (DuckDB's own dialect detection would rather skip lines above a ragged one). Files with other
    headers (Parquet: other columns, their types, or other hive partitions) are read apart, their
    columns named by ``rename`` (header as written -> column name, or None to keep it, or with
    ``only_named`` to leave it unread), and put together by name: a column one file lacks is empty
    there. A Parquet column typed differently in two files (a date in one, a timestamp in the
    other) is read as text from each, as each file alone would give it, unless both are numbers.
    """
    files = []
    for given in paths:
        path = Path(given)
        if not path.exists():
            raise UsageError(f"{path}: no such file or folder")
        files.append(path)
    parquet = [path for path in files if path.suffix.lower() == ".parquet"
               or (path.is_dir() and next(path.rglob("*.parquet"), None) is not None)]
    csv_files = [found for path in files if path not in parquet for found in _csv_files(path)]
    if parquet and csv_files:
        raise UsageError("give either CSV files or Parquet files and folders, not both")
    named = _named(rename, only_named)
    if parquet:
        # A layout: the file's own columns and their types, and the hive partitions its folders name.
        layouts: dict[tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]], list[Path]] = {}
        for path in parquet:
            for file in input_files(path, {".parquet"}) if path.is_dir() else [path]:
                schema = parquet_footer(file).schema.to_arrow_schema()
                layouts.setdefault((tuple(schema.names), tuple(str(field.type) for field in schema),
                                    tuple(hive_partitions(file))), []).append(file)
        names_of = {layout: named([*layout[0], *layout[2]], group[0]) for layout, group in layouts.items()}
        types_of: dict[str, set[str]] = {}
        for (own, types, _), names in names_of.items():
            for written, kind in zip(own, types):
                if written in names:
                    types_of.setdefault(names[written], set()).add(kind)
        # a column typed null (no value in any row), or typed otherwise in another layout (unless
        # numbers in both), is read as text: as the file alone gives it, not cast to another's type
        as_text = {name for name, kinds in types_of.items()
                   if "null" in kinds or (len(kinds) > 1 and not all(_is_number(kind) for kind in kinds))}
        kept = ", filename" + (", file_row_number" if row_numbers else "")
        numbers = ", file_row_number=true" if row_numbers else ""
        selects = []
        for layout, group in layouts.items():  # each layout read apart and renamed
            names = names_of[layout]
            cells = {written: f"CAST({sql_identifier(written)} AS VARCHAR)" if name in as_text
                     else sql_identifier(written) for written, name in names.items()}
            selected = ", ".join(f"{cells[written]} AS {sql_identifier(name)}" for written, name in names.items())
            listed = ", ".join(sql_string(path) for path in group)
            # can_have_nan: a float column's statistics in the footer leave NaN out, and DuckDB would
            # otherwise take them to mean no cell is NaN (isnan() false on a NaN: duckdb/duckdb#25521)
            selects.append(f"SELECT {selected}{kept} FROM read_parquet([{listed}], filename=true, "
                           f"hive_partitioning=true, can_have_nan=true{numbers})")
        return "(" + " UNION ALL BY NAME ".join(selects) + ")"
    layouts: dict[tuple[tuple[str, ...], str], list[Path]] = {}
    for path in csv_files:
        header, delimiter = csv_layout(path)
        layouts.setdefault((tuple(header), delimiter), []).append(path)
    selects = []
    for (header, delimiter), group in layouts.items():
        names = named(header, group[0])
        columns = ", ".join(f"{sql_string(name)}: 'VARCHAR'" for name in header)
        selected = ", ".join(f"{sql_identifier(written)} AS {sql_identifier(name)}" for written, name in names.items())
        selects.append(f"SELECT {selected}, filename FROM read_csv([{', '.join(sql_string(path) for path in group)}], "
                       f"header=true, auto_detect=false, delim={sql_string(delimiter)}, quote='\"', escape='\"', "
                       f"columns={{{columns}}}, filename=true)")
    return "(" + " UNION ALL BY NAME ".join(selects) + ")"


def _named(rename, only_named: bool):
    """``named(written, where)``: `column_names` of the columns as written, by ``rename``; with
    ``only_named``, of those alone that ``rename`` names (the others are not read)."""
    rename = rename or (lambda written: None)

    def named(written, where) -> dict[str, str]:
        return column_names([column for column in written if not only_named or rename(column)], rename, where)

    return named


def _is_number(arrow_type: str) -> bool:
    """Whether an Arrow type (as ``str(field.type)`` writes it) is a number: an integer, a float, a decimal."""
    return arrow_type.startswith(("int", "uint", "float", "double", "halffloat", "decimal"))


#: The value of a hive partition that holds no value (Hive's and Spark's name for it).
HIVE_DEFAULT_PARTITION = "__HIVE_DEFAULT_PARTITION__"


def hive_partitions(path: str | Path) -> dict[str, str]:
    """The hive partitions a file's folders name (``department=Housing/part-0.parquet``): each
    ``key=value`` folder's key -> value, as DuckDB's ``hive_partitioning`` reads them into columns:
    percent-escapes decoded (``Old%20Depot`` is ``Old Depot``), and `HIVE_DEFAULT_PARTITION` empty."""
    found = dict(part.split("=", 1) for part in Path(path).parent.parts if "=" in part and not part.startswith("="))
    return {key: "" if value == HIVE_DEFAULT_PARTITION else unquote(value) for key, value in found.items()}


@contextmanager
def _reading_parquet(path: str | Path):
    """Read a Parquet file in the block; a file that is not Parquet is a one-line DataError."""
    import pyarrow

    try:
        yield
    except (pyarrow.ArrowException, OSError) as error:
        first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise DataError(f"is not a Parquet file this version can read ({first_line})", file=str(path)) from None


def parquet_footer(path: str | Path):
    """A Parquet file's footer, read without its rows: ``num_rows``, and ``schema.to_arrow_schema()``
    (its columns as written and their types)."""
    import pyarrow.parquet as parquet

    with _reading_parquet(path):
        return parquet.read_metadata(path)


def parquet_table(path: str | Path):
    """A Parquet file's rows as an Arrow table, without the hive partitions its folders name
    (`hive_partitions`, which the reader applies by its own rule); two columns of one name are
    read as they are."""
    import pyarrow.parquet as parquet

    with _reading_parquet(path), parquet.ParquetFile(path) as file:
        return file.read()


def write_ledger_batches(batches, types: dict[str, str], path: str | Path) -> None:
    """Write a ledger's rows (Arrow record batches) as Parquet, every engine the same way: each
    column of the type ``types`` names (Arrow's name for it: ``inventory.LEDGER_PARQUET_TYPES``),
    and every column optional (DuckDB's own writer marks a column required where its statistics
    show no missing value, which differs from input to input)."""
    import pyarrow
    import pyarrow.parquet as parquet

    schema = pyarrow.schema([pyarrow.field(name, pyarrow.type_for_alias(kind), nullable=True)
                             for name, kind in types.items()])
    with parquet.ParquetWriter(path, schema) as writer:
        for batch in batches:
            writer.write_batch(batch.select(schema.names).cast(schema))


def partition_conflict(path: str | Path, columns: list[str], rename) -> DataError | None:
    """The error of a file whose folder names a hive partition for a column it holds itself
    (``site=Old Depot/part-0.parquet`` holding a site column), which would set that column from the
    folder name over the file's cells: neither is taken. ``columns``: the file's columns as written;
    ``rename``: header as written -> column name, or None to keep it."""
    own = {rename(column) or column for column in columns}
    for key, value in hive_partitions(path).items():
        if (rename(key) or key) in own:
            return DataError(f"its folder name '{key}={value}' gives column {rename(key) or key}, which the file "
                             "also holds: keep one", file=str(path), column=rename(key) or key)
    return None


def _csv_files(path: Path) -> list[Path]:
    """A CSV file, or the CSV files in a folder (`input_files`)."""
    if not path.is_dir():
        return [path]
    found = input_files(path, {".csv"})
    if not found:
        raise UsageError(f"{path}: no .parquet or .csv files in this folder")
    return found


def column_names(written: list[str] | tuple[str, ...], rename, where: str | Path) -> dict[str, str]:
    """Each column as written -> its name, ``rename(written)`` or as written when that is None.
    Two columns that come to the same name are a DataError naming ``where``."""
    names = {column: rename(column) or column for column in written}
    seen: dict[str, str] = {}
    for column, name in names.items():
        if name in seen:
            raise DataError(f"columns '{seen[name]}' and '{column}' both give {name}: keep one", file=str(where))
        seen[name] = column
    return names


def csv_layout(path: Path) -> tuple[list[str], str]:
    """The column names on a CSV file's first line and its delimiter (comma, semicolon or tab,
    whichever the line holds, in that order). The file must be UTF-8 (DuckDB reads only that)."""
    with open(path, "rb") as stream:
        first = stream.readline(1 << 20)
    try:
        line = first.decode("utf-8-sig").rstrip("\r\n")
    except UnicodeDecodeError:
        raise DataError("is not UTF-8 text: save it as CSV UTF-8, or convert it to Parquet", file=str(path)) from None
    delimiter = next((candidate for candidate in (",", ";", "\t") if candidate in line), ",")
    header = [name.strip() for name in next(csv.reader([line], delimiter=delimiter), [])]
    for position, name in enumerate(header, start=1):
        problem = ("is empty: give every column a name" if not name
                   else "is named twice: give every column its own name" if name in header[:position - 1]
                   else "is the name kept for the source file: rename the column" if name == "filename" else None)
        if problem:
            raise DataError(f"header column {position} ('{name}') {problem}", file=str(path), row=1)
    if not header:
        raise DataError("has no header row", file=str(path), row=1)
    return header, delimiter


def sql_identifier(name: str) -> str:
    """A SQL identifier: double quotes doubled, so a column name cannot end it."""
    return '"' + str(name).replace('"', '""') + '"'


def snake_case(name: str) -> str:
    """A header folded to a column name: ``Meter ID`` -> ``meter_id``, ``kWh`` -> ``kwh``."""
    return "_".join(re.sub(r"[_\-]+", " ", str(name)).lower().split())


def _source_columns(connection, view: str) -> dict[str, str]:
    """The columns of a view: name -> DuckDB type."""
    return {name: column_type for name, column_type, *_ in connection.execute(f"DESCRIBE {view}").fetchall()}


def renamed_view(connection, source: str, view: str, rename, paths: list[str | Path]) -> dict[str, str]:
    """Create ``view`` over ``source`` with each column renamed by ``rename`` (header as written ->
    column name, or None to keep it); returns the view's columns, name -> DuckDB type. Two columns
    that come to the same name are a DataError."""
    columns = _source_columns(connection, source)
    names = column_names(list(columns), rename, ", ".join(str(path) for path in paths))
    selected = ", ".join(f"{sql_identifier(written)} AS {sql_identifier(name)}" for written, name in names.items())
    connection.execute(f"CREATE TEMP VIEW {view} AS SELECT {selected} FROM {source}")
    return {names[written]: column_type for written, column_type in columns.items()}


NUMERIC_TYPES = ("DOUBLE", "FLOAT", "REAL", "DECIMAL", "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT",
                 "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT")


def number_sql(column: str, column_type: str) -> str:
    """SQL for a column as DOUBLE, NULL where a cell is not a number. Text goes through nullif so
    that DuckDB does not push the TRY_CAST into the CSV reader as a plain cast, which stops the
    read at the first bad cell (duckdb/duckdb#23818)."""
    if column_type.startswith(NUMERIC_TYPES):
        return f"CAST({column} AS DOUBLE)"
    return f"TRY_CAST(nullif(CAST({column} AS VARCHAR), '') AS DOUBLE)"


def defused_sql(expression: str) -> str:
    """SQL for a text that a spreadsheet would run as a formula made inert, as `files.defuse_text`
    does (a leading apostrophe before `files.FORMULA_PREFIXES`), for CSV files DuckDB writes."""
    prefixes = ", ".join(sql_string(prefix) for prefix in FORMULA_PREFIXES)
    return f"CASE WHEN left({expression}, 1) IN ({prefixes}) THEN chr(39) || {expression} ELSE {expression} END"


def fast_number_sql(column: str, column_type: str) -> str:
    """SQL for a quantity cell as DOUBLE where DuckDB's reading of it is the reading of
    `cells.parse_quantity`, NULL elsewhere (those cells go through `parse_quantity` itself, once per
    distinct value). DuckDB's cast accepts a subset of what Python's ``float`` accepts (no full-width
    digits, no non-breaking spaces, no thousands commas), reading it the same way, except for a sign
    followed by another (``+-5``), which Python refuses."""
    if column_type.startswith(NUMERIC_TYPES):
        return f"CAST({column} AS DOUBLE)"
    text = f"CAST({column} AS VARCHAR)"
    return f"CASE WHEN NOT contains({text}, '+-') THEN TRY_CAST(nullif({text}, '') AS DOUBLE) END"


@contextmanager
def reading(paths: list[str | Path]):
    """Statements that read the inputs: a DuckDB error in them becomes a one-line DataError naming
    the inputs (the first line of DuckDB's message says what and where)."""
    import duckdb

    try:
        yield
    except duckdb.Error as error:
        lines = [line.strip() for line in str(error).splitlines() if line.strip()] or [type(error).__name__]
        detail = next((line for line in lines if line.startswith("Expected Number of Columns")), None)
        named = next((match.group(1) for line in lines if (match := re.match(r"file = (.+)", line))), None)
        reason = f"cannot be read: {lines[0]}" + (f" ({detail})" if detail else "")
        raise DataError(reason, file=named or ", ".join(str(path) for path in paths)) from None
