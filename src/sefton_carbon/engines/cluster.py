"""The inventory on a Dask cluster: each worker runs the DuckDB engine's plan on its partitions.

Each partition's rows go through the library's cell lookups and row rules (`activity.checked_sql`,
in DuckDB over the partition) and the accepted ones are summed per group (`large.group_columns`);
the client adds the partitions up and prices the sums with `large._summary`, as the DuckDB engine
does, so both give the same figures and the same counts of rows.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from sefton_carbon.engines.large import (
    COUNT_COLUMNS,
    _check_rows,
    _keys,
    _load_pricing,
    _missing_columns,
    _summary,
    group_columns,
    group_sql,
)
from sefton_carbon.returns.activity import column_for_header
from sefton_carbon.returns.collection import PricingInputs
from sefton_carbon.years import ReportingYear


def group_partition(frame: pd.DataFrame, by_site: bool = False) -> pd.DataFrame:
    """One partition's rows checked by the library's row rules (`activity.checked_sql`, in DuckDB
    over the partition) and the accepted ones summed per group (`group_columns`, with
    ``COUNT_COLUMNS``): the per-partition step of the Dask engine (no I/O); `_combined` adds the
    partitions up."""
    import duckdb

    connection = duckdb.connect()
    connection.execute("SET enable_progress_bar = false")
    connection.register("partition_rows", frame)
    connection.execute("CREATE TEMP VIEW numbered AS SELECT *, CAST(NULL AS VARCHAR) AS source_file, "
                       "CAST(NULL AS BIGINT) AS source_row FROM partition_rows")
    columns = {name: kind for name, kind, *_ in connection.execute("DESCRIBE partition_rows").fetchall()}
    _check_rows(connection, "numbered", columns, by_site)
    groups = connection.execute(group_sql(by_site)).df()
    connection.close()
    return groups.astype({"read": "int64", "accepted": "int64", "quantity": "float64"})


def compute_dask_inventory(paths: list[str | Path], reporting_year: str | ReportingYear, *,
                           scheduler: str | None = None, **pricing_inputs) -> dict:
    """The inventory of partitioned Parquet inputs computed on Dask (a local process pool, or the
    cluster at ``scheduler``). Each worker checks and sums its partitions with `group_partition`;
    the client adds the sums and prices them as the DuckDB engine does, so both give the same
    figures and the same rows rejected. ``pricing_inputs`` are the `PricingInputs`. Returns the
    summary figures."""
    import dask
    import dask.dataframe as dd

    year = ReportingYear.parse(reporting_year)
    pricing = _load_pricing(year, PricingInputs(**pricing_inputs))
    by_site = pricing.sites is not None or pricing.contracts is not None
    frames = dd.read_parquet([str(path) for path in paths])
    frames = frames.rename(columns={written: column_for_header(written) or written for written in frames.columns})
    _missing_columns(frames.columns, "Dask")
    meta = pd.DataFrame({**{column: pd.Series(dtype="datetime64[ns]" if column.startswith("period_") else object)
                            for column in group_columns(by_site)},
                         "read": pd.Series(dtype="int64"), "accepted": pd.Series(dtype="int64"),
                         "quantity": pd.Series(dtype="float64")})
    partials = frames.map_partitions(group_partition, by_site, meta=meta)
    if scheduler:
        from distributed import Client

        with Client(scheduler) as client:
            result = client.compute(partials).result()
    else:
        with dask.config.set(scheduler="processes"):
            result = partials.compute()
    return _summary(_combined(result), year, pricing, engine="dask")[0]


def _combined(partitions: pd.DataFrame) -> pd.DataFrame:
    """The sums of `group_partition` over all partitions, per group."""
    return partitions.groupby(_keys(partitions), as_index=False, dropna=False, sort=False)[COUNT_COLUMNS].sum()
