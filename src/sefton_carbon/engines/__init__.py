"""The inventory pipeline: files read, checked, priced and summed, in memory or in DuckDB or Dask."""
