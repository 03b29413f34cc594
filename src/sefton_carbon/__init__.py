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
#: does not pay for pandas and pint.
_EXPORTS = {
    "ActivityData": "accounting.rows", "read_activity": "returns.activity",
    "load_catalogue": "accounting.catalogue",
    "FactorLibrary": "accounting.factors", "FactorTable": "accounting.factors",
    "import_flat_file": "accounting.factors", "load_factors": "accounting.factors",
    "read_flat_file": "accounting.factors",
    "Inventory": "accounting.inventory", "price_activity": "accounting.inventory",
    "compute_inventory": "engines.pipeline",
    "ReportingYear": "years",
}

__all__ = [*_EXPORTS, "__version__"]


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
