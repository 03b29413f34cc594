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
    "ActivityData": "activity", "read_activity": "activity",
    "load_catalogue": "catalogue",
    "FactorLibrary": "factors", "FactorTable": "factors", "import_flat_file": "factors",
    "load_factors": "factors", "read_flat_file": "factors",
    "Inventory": "inventory", "compute_inventory": "inventory", "price_activity": "inventory",
    "ReportingYear": "years",
}

__all__ = [*_EXPORTS, "__version__"]


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
