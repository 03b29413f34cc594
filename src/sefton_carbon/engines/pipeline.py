"""The inventory pipeline: files read and checked (`read_activity`), priced (`price_activity`)
and summed, for one year, for every year found, or under every boundary option."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from sefton_carbon.accounting.boundary import load_boundary_options
from sefton_carbon.accounting.contracts import read_contracts
from sefton_carbon.accounting.factors import FactorLibrary, load_factors
from sefton_carbon.accounting.inventory import Inventory, compare_options, price_activity, split_by_year
from sefton_carbon.accounting.sites import read_sites
from sefton_carbon.accounting.spend import read_spend_factors
from sefton_carbon.returns.activity import read_activity
from sefton_carbon.years import ReportingYear


def compute_inventory(paths: list[str | Path] | str | Path, reporting_year: str | ReportingYear,
                      factor_year: int | None = None, factors_dir: str | Path | None = None,
                      factors: FactorLibrary | None = None, *, scope_option: str | None = None,
                      scopes_file: str | Path | None = None, sites: str | Path | None = None,
                      contracts: str | Path | None = None,
                      spend_factors: str | Path | None = None) -> Inventory:
    """Read activity files and folders and compute the inventory of one reporting year.

    ``factor_year`` defaults to the calendar year in which the reporting year starts (2023/24 uses
    the 2023 factors). ``factors_dir`` adds tables imported with `import_flat_file`, which take
    precedence over the bundled ones for their years. ``scope_option`` names a boundary option of
    ``scopes_file`` (default: the bundled ``scopes.yaml`` and its default option). ``sites`` is a
    sites register (site tags and operational control), ``contracts`` an energy contracts file
    (market-based Scope 2), ``spend_factors`` a spend factor table (``spend:<category>`` lines).
    """
    year = ReportingYear.parse(reporting_year)
    factors = factors or load_factors(factors_dir)
    factors.table(factor_year or year.default_factor_year)  # fail on a missing year before reading
    options = load_boundary_options(scopes_file)
    options.get(scope_option)
    return price_activity(
        read_activity(paths), year, factor_year, factors, scope_option=scope_option,
        boundary_options=options, sites=read_sites(sites) if sites else None,
        contracts=read_contracts(contracts) if contracts else None,
        spend=read_spend_factors(spend_factors) if spend_factors else None)


def compare_inventories(paths: list[str | Path] | str | Path, reporting_year: str | ReportingYear, *,
                        scopes_file: str | Path | None = None, sites: str | Path | None = None,
                        contracts: str | Path | None = None, spend_factors: str | Path | None = None,
                        factors_dir: str | Path | None = None, baseline_year: str | None = None,
                        baseline_paths: list[str | Path] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """`compare_options` from files: the comparison table and the rejected rows of both years."""
    options = load_boundary_options(scopes_file)
    register = read_sites(sites) if sites else None
    common = dict(factors=load_factors(factors_dir), boundary_options=options, sites=register,
                  contracts=read_contracts(contracts) if contracts else None,
                  spend=read_spend_factors(spend_factors) if spend_factors else None)
    inventory = price_activity(read_activity(paths), reporting_year, **common)
    baseline = (price_activity(read_activity(baseline_paths), baseline_year, **common)
                if baseline_year else None)
    table = compare_options(inventory, options, register, baseline)
    table.attrs["reporting_year"] = inventory.reporting_year.label
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
    options = load_boundary_options(scopes_file)
    options.get(scope_option)
    common = dict(factors=load_factors(factors_dir), boundary_options=options, scope_option=scope_option,
                  sites=read_sites(sites) if sites else None,
                  contracts=read_contracts(contracts) if contracts else None,
                  spend=read_spend_factors(spend_factors) if spend_factors else None)
    activity = read_activity(paths)
    inventories = {year: price_activity(data, year, factor_year, **common)
                   for year, data in split_by_year(activity).items()}
    return inventories, activity.rejected
