"""The inventory on a Dask cluster: each task runs the DuckDB engine's plan over one input file.

The inputs are those of the DuckDB engine (`activity.expand_paths`: Parquet files and hive folders,
CSV files and folders, workbooks), a task per file. A task reads its file as the DuckDB engine
reads it (`large._register_inputs` and `large._number_rows`: DuckDB for Parquet and plain CSV, the
library's reader for workbooks, title rows, UTF-16 and Windows-1252, and for CSV lines DuckDB
cannot read), so that its rows carry the same ``source_file`` and ``source_row``; checks them with
the library's cell lookups and row rules (`large._check_rows`); and sums the accepted ones per
group (`large.group_sums_sql`). The client adds the sums up. One file a task, because DuckDB numbers the
rows of one file in file order, but the rows of several files read at once not always (they come
out of order when memory runs short).

The same-supply rule (`returns.same_supply`) compares the rows of one supply, or one site,
wherever they are, and one supply's rows may sit in several files. The tasks hand on their
accepted rows with a key that every such comparison stays within (`SUPPLY_PLACE_SQL`); Dask
shuffles them by it, so that each supply's rows meet in one partition, where the DuckDB engine's
own screen and selection (`large._supply_screen`, `large.SUPPLY_CANDIDATES_SQL`) keep the rows
the rule can find something in (`_candidates`). The client applies `same_supply` to those, takes
the rows it sets aside out of the sums (`large._less`) and prices the sums (`large._summary`), as
the DuckDB engine does: both give the same figures, ``rows`` object, possible double counts and
rejected rows, word for word.

The ledger, when asked for, takes a second task per file (`_per_row_pass`): the file read and
checked again, its ledger written by the DuckDB engine's own `large.write_ledger` into a part of
its own, its ``input_row`` numbered on from the rows counted in the files before it; the client
joins the parts in reading order, the DuckDB engine's ledger byte for byte. The rows pricing
refuses, for the rejected rows, are listed in the same pass.
"""

from __future__ import annotations

import shutil
import tempfile
from contextlib import ExitStack, contextmanager
from pathlib import Path

import numpy as np
import pandas as pd

from sefton_carbon.accounting.catalogue import load_catalogue
from sefton_carbon.accounting.inventory import LEDGER_PARQUET_TYPES
from sefton_carbon.accounting.rows import REJECTED_COLUMNS
from sefton_carbon.engines.large import (
    COUNT_COLUMNS,
    LEDGER_BATCH_ROWS,
    PRICED_OUT_SQL,
    SUPPLY_CANDIDATES_SQL,
    LargeInventory,
    _check_rows,
    _counted_warnings,
    _group_keys,
    _in_reading_order,
    _keys,
    _less,
    _load_pricing,
    _metered_sql,
    _missing_columns,
    _number_rows,
    _register_inputs,
    _summary,
    _supply_screen,
    connect,
    duckdb_inventory,
    file_key_sql,
    group_sums_sql,
    read_with_retries,
    refuse_blank_files,
    register_verdicts,
    with_digests,
    write_ledger,
)
from sefton_carbon.io.columnar import reading, sql_string, write_ledger_batches
from sefton_carbon.io.files import digests_when_idle, write_csv, writing
from sefton_carbon.returns.activity import REQUIRED_COLUMNS, expand_paths
from sefton_carbon.returns.collection import PricingInputs
from sefton_carbon.returns.same_supply import same_supply
from sefton_carbon.years import ReportingYear

#: Where a row is: the columns that name it in rejected rows and in the same-supply rule's reasons.
PLACE_COLUMNS = ["source_file", "source_sheet", "source_row"]
#: The text columns of an accepted row that the same-supply rule and the group sums read.
RULE_TEXT_COLUMNS = ["department", "site", "meter", "activity", "unit", "unit_as_written", "data_quality"]
#: An accepted row as the tasks hand it on to the same-supply rule: where it is, its parsed cells,
#: and ``supply_place``, which with ``activity`` is the key it is shuffled by (`SUPPLY_PLACE_SQL`).
RULE_COLUMNS = [*PLACE_COLUMNS, *RULE_TEXT_COLUMNS, "quantity", "period_start", "period_end", "supply_place"]


#: SQL for the place of an accepted row's supply within its activity: the meter of a metered row
#: that names one, else the site, or the department where no site is given.
#:
#: Every group the same-supply rule looks within lies inside one (activity, place): a metered
#: supply is (activity, meter); any other supply is (department, site, meter, activity); the
#: unnamed meters at a site are (site, activity), or (department, activity) when the site is empty
#: (`large.SUPPLY_SCREEN_SQL`). Rows shuffled by (activity, place) therefore meet every row they
#: can be compared with. The place is read from the parsed cells (`activity.checked_sql`), as the
#: rule reads them, so that "Natural Gas" and "natural_gas" are one activity.
SUPPLY_PLACE_SQL = ("CASE WHEN activity IN ({metered}) AND coalesce(meter, '') <> '' THEN meter "
                    "WHEN coalesce(site, '') <> '' THEN site ELSE department END")
#: The type of text in the rows handed on: Arrow strings, read from DuckDB's Arrow output as they are.
TEXT = pd.StringDtype("pyarrow")


def _rule_frame(table) -> pd.DataFrame:
    """The rows of an Arrow table in `RULE_COLUMNS`, in one set of types: text as `TEXT`, periods
    as datetime64[ns]."""
    import pyarrow

    frame = table.select(RULE_COLUMNS).to_pandas(
        types_mapper={pyarrow.string(): TEXT, pyarrow.large_string(): TEXT}.get, date_as_object=False)
    return frame.astype({column: "datetime64[ns]" for column in ("period_start", "period_end")})


def _no_rows() -> pd.DataFrame:
    """No rows, in `RULE_COLUMNS`."""
    return pd.DataFrame({column: pd.Series(dtype="int64" if column == "source_row" else "float64"
                                           if column == "quantity" else "datetime64[ns]"
                                           if column.startswith("period_") else TEXT) for column in RULE_COLUMNS})


def _on_file(path: str, work, read_by_library: bool = False):
    """``work(connection, file, read_here)`` on a DuckDB connection of its own, for one input file
    read as the DuckDB engine reads it: a CSV file DuckDB cannot read goes to the library's reader
    (``read_here`` holds it) and ``work`` runs again, as in `large.compute_large_inventory`.
    ``read_by_library``: the file is known to be one of those (an earlier pass found it)."""
    file = Path(path)

    def attempt(read_here: set[Path]):
        with connect() as connection, reading([file]):
            return work(connection, file, read_here)

    return read_with_retries([file], attempt, {file} if read_by_library else None)


def _checked_file(path: str, by_site: bool, listing: bool) -> dict:
    """The Dask task of the first pass over one input file: its rows read, numbered and checked as
    the DuckDB engine does (`_on_file`). Returns ``columns`` (the file's columns), ``order`` (the
    file, and its sheets, in reading order: `large._Inputs`), ``groups`` (the sums of
    `large.group_sums_sql`, or None when the file is refused as a whole), ``rows`` (the accepted rows in
    `RULE_COLUMNS`), ``refused`` (the file or sheets refused as a whole), ``rejected`` (when
    ``listing``, the rows the row rules reject) and ``read_by_library`` (DuckDB could not read the
    file)."""
    return _on_file(path, lambda connection, file, read_here: _file_part(connection, file, by_site, listing,
                                                                         read_here))


def _check_file(connection, inputs) -> dict[str, str]:
    """The view ``checked`` (`large._check_rows`) over the rows of one
    file's ``inputs`` (`large._register_inputs`), numbered in file order; a required column the
    file lacks is empty, as when the DuckDB engine reads this file with others that have it.
    Returns the file's own columns, name -> DuckDB type."""
    columns = _number_rows(connection, inputs, True)
    source, missing = "numbered", [column for column in REQUIRED_COLUMNS if column not in columns]
    if missing:
        source = "numbered_in_full"
        connection.execute(f"CREATE TEMP VIEW {source} AS SELECT *, "
                           + ", ".join(f"CAST(NULL AS VARCHAR) AS {column}" for column in missing) + " FROM numbered")
    _check_rows(connection, inputs, source, {**columns, **{column: "VARCHAR" for column in missing}})
    return columns


def _file_part(connection, file: Path, by_site: bool, listing: bool, read_here: set[Path]) -> dict:
    """`_checked_file` on one DuckDB connection, read by the library's reader when ``file`` is in
    ``read_here``."""
    inputs = _register_inputs(connection, [file], read_here)
    part = {"columns": [], "order": inputs.order, "groups": None, "rows": _no_rows(),
            "refused": inputs.refused[REJECTED_COLUMNS], "rejected": pd.DataFrame(columns=REJECTED_COLUMNS),
            "read_by_library": bool(read_here)}
    if not inputs.native and not inputs.text_tables:  # refused as a whole: no rows
        return part
    part["columns"] = list(_check_file(connection, inputs))
    groups = connection.execute(group_sums_sql(by_site, "checked", file_key_sql(inputs.order))).df()
    groups, refused = refuse_blank_files(groups, inputs)
    if groups.empty:  # every row blank: refused as a whole, as by the DuckDB engine
        return {**part, "refused": refused[REJECTED_COLUMNS]}
    part["groups"] = groups.assign(**_group_keys(groups, _keys(groups)))
    read = ", ".join(RULE_COLUMNS[:-1]) + ", " + SUPPLY_PLACE_SQL.format(metered=_metered_sql())
    part["rows"] = _rule_frame(connection.sql(f"SELECT {read} AS supply_place FROM checked WHERE ok").to_arrow_table())
    if listing:
        part["rejected"] = connection.execute(f'SELECT {", ".join(PLACE_COLUMNS)}, "column", value, reason '
                                              "FROM checked WHERE NOT ok AND NOT blank").df()
    return part


def _candidates(rows: pd.DataFrame) -> pd.DataFrame:
    """The rows of one shuffled partition that the same-supply rule must see: those of the
    supplies and sites where it can find something, found by the DuckDB engine's own screen
    (`large._supply_screen`) and selection (`large.SUPPLY_CANDIDATES_SQL`) over the partition, in
    `RULE_COLUMNS`. Every row of a supply or site is in the partition (`SUPPLY_PLACE_SQL`), so what
    they find is what they find over the whole input."""
    connection = connect()
    connection.register("rule_rows", rows)
    connection.execute("CREATE TEMP VIEW checked AS SELECT *, true AS ok FROM rule_rows")
    flagged = _supply_screen(connection)
    found = _no_rows()
    if len(flagged):
        connection.register("flagged", flagged)
        beyond = [column for column in RULE_COLUMNS if column not in (*PLACE_COLUMNS, "quantity")]
        found = _rule_frame(connection.sql(SUPPLY_CANDIDATES_SQL.format(metered=_metered_sql(),
                                                                        ids=", ".join(beyond))).to_arrow_table())
    connection.close()
    return found


@contextmanager
def _scheduler(address: str | None):
    """Dask computes on the cluster at ``address``; else on the scheduler set in Dask's config (as
    ``dask.config.set(scheduler="synchronous")`` sets it), or a local thread pool: DuckDB runs its
    queries on threads of its own, and a process pool would copy every row handed to the shuffle
    between processes (ten times slower on a million rows)."""
    import dask

    if address:
        from distributed import Client

        with Client(address):
            yield
        return
    with dask.config.set(scheduler=dask.config.get("scheduler", None) or "threads"):
        yield


def compute_dask_inventory(paths: list[str | Path], reporting_year: str | ReportingYear, *,
                           scheduler: str | None = None, ledger: str | Path | None = None,
                           rejected: str | Path | None = None, **pricing_inputs) -> LargeInventory:
    """The inventory of one year computed on Dask, from the inputs the DuckDB engine reads (CSV,
    Excel and Parquet files, folders of them, hive-partitioned Parquet folders): on the cluster at
    ``scheduler``, or locally (`_scheduler`). Gives the DuckDB engine's figures, ``rows`` and
    ``possible_double_counts``, and writes its ledger to ``ledger`` (CSV, or Parquet for a
    ``.parquet`` name) and its rejected rows to ``rejected`` when given, the same bytes as the
    DuckDB engine's CSV files (`_per_row_pass`). ``pricing_inputs`` are the `PricingInputs`.
    Returns the summary figures (`LargeInventory`, with the rejected rows written).

    Workers read the files at the paths given, from the client's working folder (a local pool does;
    on a cluster, give paths every worker reads alike), so that files are named alike; they write
    the ledger's parts into a hidden folder beside ``ledger``, which on a cluster must be a folder
    every worker writes to as well."""
    import dask
    import dask.dataframe as dd

    year = ReportingYear.parse(reporting_year)
    pricing = _load_pricing(year, PricingInputs(**pricing_inputs))
    by_site = pricing.sites is not None or pricing.contracts is not None
    files = expand_paths(paths)
    digests = digests_when_idle(files)
    parts = [dask.delayed(_checked_file, pure=True)(str(file), by_site, rejected is not None) for file in files]
    rule_rows = dd.from_delayed([part["rows"] for part in parts], meta=_no_rows(), verify_meta=False)
    if len(parts) > 1:  # one file holds every row of every supply already
        rule_rows = rule_rows.shuffle(on=["activity", "supply_place"])
    candidates = rule_rows.map_partitions(_candidates, meta=_no_rows())
    with _scheduler(scheduler):
        # One graph: each file is read once, for its sums and for the rows it hands to the shuffle.
        found, candidates = dask.compute([{key: part[key] for key in FIRST_PASS_KEYS} for part in parts],
                                         candidates.to_delayed(optimize_graph=False))
    refused = pd.concat([part["refused"] for part in found], ignore_index=True)
    read = [part["groups"] for part in found if part["groups"] is not None]
    if not read:  # every input refused as a whole: nothing for the cluster to do; DuckDB writes the empty outputs
        result = duckdb_inventory(paths, year, pricing, ledger, rejected)
        result.summary["engine"] = "dask"
        return with_digests(result, digests)
    _missing_columns({column for part in found for column in part["columns"]}, "Dask")
    order = pd.concat([part["order"] for part in found], ignore_index=True).assign(rank=lambda order: order.index)
    candidates = _in_reading_order(pd.concat(candidates, ignore_index=True), order).astype(  # as same_supply reads them
        {column: "category" for column in ["source_file", "source_sheet", *RULE_TEXT_COLUMNS]})
    supply = same_supply(candidates, load_catalogue().metered)
    groups = _combined(pd.concat(read, ignore_index=True))
    summary, verdicts, inventory = _summary(_less(groups, candidates[supply.set_aside]), year, pricing, "dask",
                                            order, refused)
    summary["possible_double_counts"] = _counted_warnings(candidates, supply, verdicts)
    listing_priced_out = rejected is not None and not verdicts["accepted"].all()
    priced_out = []
    if ledger is not None or listing_priced_out:
        with _scheduler(scheduler):
            priced_out = _per_row_pass(files, found, verdicts, supply.rejected, inventory, ledger,
                                       listing_priced_out)
    listed = None
    if rejected is not None:
        listed = _sorted_rejected([refused, *(part["rejected"] for part in found), supply.rejected, *priced_out])
        write_csv(listed, rejected)
    return with_digests(LargeInventory(summary=summary, ledger_path=Path(ledger) if ledger is not None else None,
                                       rejected=listed), digests)


#: What the client keeps of each file's first pass (`_checked_file`); its accepted rows go to the shuffle.
FIRST_PASS_KEYS = ("columns", "order", "groups", "rejected", "refused", "read_by_library")


def _combined(groups: pd.DataFrame) -> pd.DataFrame:
    """The group sums of the files (`large.group_sums_sql`), added up per group."""
    return groups.groupby(_keys(groups), as_index=False, dropna=False, sort=False)[COUNT_COLUMNS].sum()


def _per_row_pass(files: list[Path], found: list[dict], verdicts: pd.DataFrame,
                  set_aside: pd.DataFrame, inventory, ledger: str | Path | None,
                  listing_priced_out: bool) -> list[pd.DataFrame]:
    """The second pass over the files, as the DuckDB engine's (`large._write_rows`), a task per file
    that has rows (`_file_rows`): each file's ledger, written by `large.write_ledger` into a part of
    its own, its ``input_row`` continuing from the files before it; the parts then joined in reading
    order into ``ledger`` (`_join_ledger`). Returns, when ``listing_priced_out``, each file's
    accepted rows in the groups pricing refused, with the reason it gave the group (`REJECTED_COLUMNS`).

    ``found`` is the first pass of each file (`_checked_file`), ``verdicts`` and ``inventory`` those
    of `large._summary`, and ``set_aside`` the rows the same-supply rule set aside (`SameSupply.rejected`).
    A file's ``input_row`` numbers start after the rows counted in the files before it: the rows
    its first pass accepted (`large.group_sums_sql`'s ``accepted``), less those the rule set aside."""
    import dask

    accepted = np.array([0 if part["groups"] is None else int(part["groups"]["accepted"].sum()) for part in found])
    aside_in = [set_aside["source_file"].astype(str).isin(part["order"]["source_file"]).to_numpy() for part in found]
    set_aside_counts = [len(set_aside[rows].drop_duplicates(PLACE_COLUMNS)) for rows in aside_in]
    first_rows = 1 + np.concatenate([[0], np.cumsum(accepted - np.array(set_aside_counts))[:-1]])
    shared = dask.delayed(verdicts, pure=True), dask.delayed(inventory, pure=True)  # one copy for every task
    with ExitStack() as stack:
        folder = None
        if ledger is not None:
            ledger = stack.enter_context(writing(ledger))
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix=".ledger-parts-", dir=ledger.parent)))
        suffix = ".parquet" if ledger is not None and ledger.suffix.lower() == ".parquet" else ".csv"
        tasks, ledger_parts = [], []
        for number, (file, part) in enumerate(zip(files, found)):
            if part["groups"] is None:  # refused as a whole: no rows
                continue
            ledger_part = None if folder is None else folder / f"part-{number:06d}{suffix}"
            ledger_parts.append(ledger_part)
            tasks.append(dask.delayed(_file_rows, pure=True)(
                str(file), part["read_by_library"], *shared, set_aside[aside_in[number]], ledger_part,
                int(first_rows[number]), listing_priced_out))
        priced_out = dask.compute(tasks)[0]
        if ledger is not None:
            _join_ledger(ledger_parts, ledger)
    return priced_out


def _file_rows(path: str, read_by_library: bool, verdicts: pd.DataFrame, inventory,
               set_aside: pd.DataFrame, ledger_part: Path | None, first_input_row: int,
               listing_priced_out: bool) -> pd.DataFrame:
    """The Dask task of the second pass over one input file (`_per_row_pass`): read and checked again
    as its first pass read it (`_on_file`, `_check_file`), with the verdicts and the file's rows set
    aside registered (`large.register_verdicts`); writes its ledger to ``ledger_part`` when given,
    numbered from ``first_input_row``, and returns its rows refused by pricing when
    ``listing_priced_out`` (else no rows)."""

    def rows_pass(connection, file: Path, read_here: set[Path]) -> pd.DataFrame:
        inputs = _register_inputs(connection, [file], read_here)
        _check_file(connection, inputs)
        keys, counted = register_verdicts(connection, verdicts, set_aside)
        if ledger_part is not None:
            write_ledger(connection, inventory, ledger_part, keys, counted, inputs.order, first_input_row)
        if not listing_priced_out:
            return pd.DataFrame(columns=REJECTED_COLUMNS)
        return connection.execute(PRICED_OUT_SQL.format(keys=keys, counted=counted)).df()

    return _on_file(path, rows_pass, read_by_library)


def _join_ledger(parts: list[Path], ledger: Path) -> None:
    """The ledger parts of the files (`large.write_ledger`), in reading order, as one file: a CSV
    file keeps the first part's header only; Parquet parts are copied by DuckDB, row for row in
    that order, into one Parquet file, written as every engine writes one (`columnar.write_ledger_batches`)."""
    if ledger.suffix.lower() != ".parquet":
        with open(ledger, "wb") as joined:
            for number, part in enumerate(parts):
                with open(part, "rb") as lines:
                    if number:
                        lines.readline()  # the header, written once
                    shutil.copyfileobj(lines, joined)
        return
    listed = ", ".join(sql_string(part) for part in parts)
    with connect() as connection:
        rows = connection.sql(f"""
            SELECT * EXCLUDE (filename, file_row_number)
            FROM read_parquet([{listed}], filename = true, file_row_number = true)
            ORDER BY filename, file_row_number""").to_arrow_reader(LEDGER_BATCH_ROWS)
        write_ledger_batches(rows, LEDGER_PARQUET_TYPES, ledger)


def _sorted_rejected(listed: list[pd.DataFrame]) -> pd.DataFrame:
    """The rejected rows in the DuckDB engine's order: by file, sheet and row, entries with no row
    (a file or sheet refused as a whole) after the rows of their sheet."""
    listed = [frame.astype({"source_row": "Int64"})[REJECTED_COLUMNS] for frame in listed if len(frame)]
    if not listed:
        return pd.DataFrame(columns=REJECTED_COLUMNS)
    return pd.concat(listed, ignore_index=True).sort_values(
        PLACE_COLUMNS, na_position="last", kind="stable").reset_index(drop=True)
