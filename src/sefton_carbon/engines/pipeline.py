"""The inventory pipeline: files read and checked (`read_activity`), priced (`price_activity`)
and summed, for one year, for every year found, or under every boundary option; and the choice
of engine for the one-year inventory.

Every function here takes the `PricingInputs` as keyword arguments of the same names
(``factors_dir``, ``factor_year``, ``scope_option``, ``scopes_file``, ``sites``, ``contracts``,
``spend_factors``), so that ``**inputs.arguments()`` passes the bundle on unchanged.
"""

from __future__ import annotations

from dataclasses import replace
from importlib.util import find_spec
from pathlib import Path

import pandas as pd

from sefton_carbon.accounting.factors import FactorLibrary
from sefton_carbon.accounting.inventory import Inventory, compare_options, split_by_year
from sefton_carbon.engines.cluster import compute_dask_inventory
from sefton_carbon.engines.large import LargeInventory, compute_large_inventory
from sefton_carbon.errors import UsageError
from sefton_carbon.returns.activity import PARQUET_SUFFIX, expand_paths, read_activity
from sefton_carbon.returns.collection import PricingInputs
from sefton_carbon.years import ReportingYear

#: Values of ``--engine``: ``auto`` picks one with `choose_engine`; ``pandas`` is the in-memory path.
ENGINES = ("auto", "pandas", "duckdb", "dask")


def compute_inventory(paths: list[str | Path] | str | Path, reporting_year: str | ReportingYear,
                      factor_year: int | None = None, factors_dir: str | Path | None = None,
                      factors: FactorLibrary | None = None, *, scope_option: str | None = None,
                      scopes_file: str | Path | None = None, sites: str | Path | None = None,
                      contracts: str | Path | None = None,
                      spend_factors: str | Path | None = None) -> Inventory:
    """Read activity files and folders and compute the inventory of one reporting year.

    ``factor_year`` defaults to the calendar year in which the reporting year starts (2023/24 uses
    the 2023 factors). ``factors_dir`` adds tables imported with `import_flat_file`, which take
    precedence over the bundled ones for their years; ``factors``, a library already loaded, is
    used instead when given. ``scope_option`` names a boundary option of ``scopes_file`` (default:
    the bundled ``scopes.yaml`` and its default option). ``sites`` is a sites register (site tags
    and operational control), ``contracts`` an energy contracts file (market-based Scope 2),
    ``spend_factors`` a spend factor table (``spend:<category>`` lines).
    """
    year = ReportingYear.parse(reporting_year)
    pricing = PricingInputs(factors_dir=factors_dir, factor_year=factor_year, scope_option=scope_option,
                            scopes_file=scopes_file, sites=sites, contracts=contracts,
                            spend_factors=spend_factors).load()
    if factors is not None:
        pricing = replace(pricing, factors=factors)
    pricing.factors.table(factor_year or year.default_factor_year)  # fail on a missing year before reading
    return pricing.price(read_activity(paths), year)


def compare_inventories(paths: list[str | Path] | str | Path, reporting_year: str | ReportingYear, *,
                        scopes_file: str | Path | None = None, sites: str | Path | None = None,
                        contracts: str | Path | None = None, spend_factors: str | Path | None = None,
                        factors_dir: str | Path | None = None, factor_year: int | None = None,
                        scope_option: str | None = None, baseline_year: str | None = None,
                        baseline_paths: list[str | Path] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """`compare_options` from files: the comparison table and the rejected rows of both years.

    Every option is priced on the same returns; ``scope_option`` is the option the baseline of
    each other option is measured against (``baseline_shift``; default: the file's default option).
    ``factor_year`` applies to the reporting year; the baseline keeps its own default factor year.
    """
    pricing = PricingInputs(factors_dir=factors_dir, scope_option=scope_option, scopes_file=scopes_file,
                            sites=sites, contracts=contracts, spend_factors=spend_factors).load()
    options = pricing.boundary_options
    if scope_option is not None:
        options = replace(options, default=scope_option)
    inventory = pricing.price(read_activity(paths), reporting_year, factor_year)
    baseline = pricing.price(read_activity(baseline_paths), baseline_year) if baseline_year else None
    table = compare_options(inventory, options, pricing.sites, baseline)
    table.attrs["reporting_year"] = inventory.reporting_year.label
    table.attrs["reference_option"] = options.default
    rejected = pd.concat([inventory.rejected] + ([baseline.rejected] if baseline else []), ignore_index=True)
    return table, rejected


def compute_inventories(paths: list[str | Path] | str | Path, *, scope_option: str | None = None,
                        scopes_file: str | Path | None = None, sites: str | Path | None = None,
                        contracts: str | Path | None = None, spend_factors: str | Path | None = None,
                        factors_dir: str | Path | None = None,
                        factor_year: int | None = None) -> tuple[dict[ReportingYear, Inventory], pd.DataFrame]:
    """Inventories of every reporting year found in the returns (one folder per year, or files
    covering several years), each year on its own default factor year unless ``factor_year`` is
    given; and the rows rejected on reading, which belong to no year."""
    pricing = PricingInputs(factors_dir=factors_dir, factor_year=factor_year, scope_option=scope_option,
                            scopes_file=scopes_file, sites=sites, contracts=contracts,
                            spend_factors=spend_factors).load()
    activity = read_activity(paths)
    inventories = {year: pricing.price(data, year) for year, data in split_by_year(activity).items()}
    return inventories, activity.rejected


def restated_inventory(inventory: Inventory, on_factor_year: int, **pricing) -> Inventory:
    """The same rows priced again on the factor year ``on_factor_year``, with the `PricingInputs` given as keyword
    arguments (the baseline restated like-for-like on the latest year's factors)."""
    if inventory.activity is None:
        raise UsageError("this inventory does not hold the rows it was priced from, so it cannot be restated")
    return PricingInputs(**{**pricing, "factor_year": None}).load().price(
        inventory.activity, inventory.reporting_year, on_factor_year)


def all_rejected(inventories: dict[ReportingYear, Inventory], reading_rejected: pd.DataFrame) -> pd.DataFrame:
    """The rows rejected on reading and those rejected by each year's pricing, in one table."""
    return pd.concat([reading_rejected, *(inventory.rejected for inventory in inventories.values())],
                     ignore_index=True)


#: Inputs larger than this in all [bytes] go to the DuckDB engine under ``--engine auto``: about
#: 2.5 million CSV rows, which the in-memory path holds in about 1.5 GB (measured: 1,000,100 rows
#: of 81 MB peak at 0.6 GB); the DuckDB engine stays under its 700 MB memory limit at any size.
LARGE_INPUT_BYTES = 200_000_000


def choose_engine(paths: list[str | Path], engine: str = "auto") -> str:
    """The engine to run: ``auto`` means ``duckdb`` when any input is Parquet (or a folder holding
    Parquet) or the inputs come to more than `LARGE_INPUT_BYTES`, and ``pandas`` (in memory)
    otherwise; both read every kind of input and give the same figures and rows. Any other value
    is kept as given."""
    if engine not in ENGINES:
        raise UsageError(f"--engine is pandas, duckdb or dask (or auto, the default), not '{engine}'")
    if engine != "auto":
        return engine
    try:
        files = expand_paths(paths)  # the files every engine reads
    except UsageError:  # no activity files: the in-memory path says so
        return "pandas"
    if any(file.suffix.lower() == PARQUET_SUFFIX for file in files):
        return "duckdb"
    return "duckdb" if sum(file.stat().st_size for file in files) > LARGE_INPUT_BYTES else "pandas"


def compute_inventory_on_engine(paths: list[str | Path], reporting_year: str | ReportingYear, *,
                                engine: str = "auto", scheduler: str | None = None,
                                ledger: str | Path | None = None, rejected: str | Path | None = None,
                                factors_dir: str | Path | None = None,
                                factor_year: int | None = None, scope_option: str | None = None,
                                scopes_file: str | Path | None = None, sites: str | Path | None = None,
                                contracts: str | Path | None = None,
                                spend_factors: str | Path | None = None) -> Inventory | LargeInventory:
    """The inventory of one year on the engine `choose_engine` picks.

    The in-memory engine returns an `Inventory` (the caller writes its ledger and rejected rows:
    `outputs.runs.run_inventory`). The DuckDB and Dask engines return a `LargeInventory` and write
    ``ledger`` and ``rejected`` themselves while computing, the same bytes on both. An option the
    chosen engine cannot honour is refused (`UsageError`), never ignored.
    """
    chosen = choose_engine(paths, engine)
    if scheduler and chosen != "dask":
        raise UsageError("--scheduler is for --engine dask")
    if chosen == "pandas":
        return compute_inventory(paths, reporting_year, factor_year, factors_dir, scope_option=scope_option,
                                 scopes_file=scopes_file, sites=sites, contracts=contracts,
                                 spend_factors=spend_factors)
    pricing = dict(factors_dir=factors_dir, factor_year=factor_year, scope_option=scope_option,
                   scopes_file=scopes_file, sites=sites, contracts=contracts, spend_factors=spend_factors)
    if chosen == "duckdb":
        return compute_large_inventory(paths, reporting_year, ledger=ledger, rejected=rejected, **pricing)
    if find_spec("dask") is None:
        raise UsageError("--engine dask needs Dask: pip install 'sefton-carbon[cluster]'")
    return compute_dask_inventory(paths, reporting_year, scheduler=scheduler, ledger=ledger, rejected=rejected,
                                  **pricing)
