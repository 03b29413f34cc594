"""sefton-carbon: greenhouse-gas accounting for a UK council's own operations.

The library mirrors the command line::

    from sefton_carbon import load_factors, read_activity, price_activity, compute_inventory

    inventory = compute_inventory("examples/example-council/returns/2023-24", "2023/24")
    inventory.summary()      # the figures, as plain data
    inventory.ledger         # one row per emission line, with its audit trail
    inventory.rejected       # every input row not counted, with its reason
"""

import importlib

__version__ = "0.1.0"

#: Public name -> module that defines it. Imported on first use, so that ``sefton-carbon --help``
#: does not pay for pandas and pint. Each command's library twin is here:
#: inventory -> `run_inventory` (`compute_inventory` in memory); validate ->
#: `validate_returns`; collect -> `collect`; scope compare -> `compare_inventories`; trajectory ->
#: `compute_inventories` and `trajectory_of` (or `read_totals` and `compute_trajectory`); scenario
#: run and compare -> `scenarios_from_returns`; report -> `build_report`; area -> `area_profile`;
#: meters -> `aggregate`; verify -> `verify`; template -> `write_template`; factors import ->
#: `import_flat_file`; factors show -> `explain_activity`; scope list and explain ->
#: `load_boundary_options`; demo -> `run_demo`. `PricingInputs` bundles what pricing needs.
_EXPORTS = {
    "ActivityData": "accounting.rows", "read_activity": "returns.activity",
    "load_catalogue": "accounting.catalogue", "explain_activity": "accounting.catalogue",
    "FactorLibrary": "accounting.factors", "FactorTable": "accounting.factors",
    "import_flat_file": "accounting.factors", "load_factors": "accounting.factors",
    "read_flat_file": "accounting.factors",
    "load_boundary_options": "accounting.boundary",
    "Inventory": "accounting.inventory", "price_activity": "accounting.inventory",
    "PricingInputs": "returns.collection", "validate_returns": "returns.collection",
    "collect": "returns.collection", "write_template": "returns.template",
    "compute_inventory": "engines.pipeline", "compute_inventories": "engines.pipeline",
    "compare_inventories": "engines.pipeline", "compute_inventory_on_engine": "engines.pipeline",
    "choose_engine": "engines.pipeline", "run_inventory": "outputs.runs",
    "compute_large_inventory": "engines.large", "compute_dask_inventory": "engines.cluster",
    "trajectory_of": "planning.trajectory", "compute_trajectory": "planning.trajectory",
    "read_totals": "planning.trajectory", "trajectory_from_returns": "planning.trajectory",
    "load_scenarios": "planning.scenarios", "run_scenarios": "planning.scenarios",
    "scenarios_from_returns": "planning.scenarios",
    "area_profile": "planning.area", "aggregate": "planning.meters",
    "build_report": "outputs.html_report", "verify": "outputs.manifest", "run_demo": "outputs.demo",
    "ReportingYear": "years",
}

__all__ = [*_EXPORTS, "__version__"]


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
