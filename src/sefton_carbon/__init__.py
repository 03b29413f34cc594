"""sefton-carbon: greenhouse-gas accounting for a UK council's own operations.

The library mirrors the command line::

    from sefton_carbon import load_factors, read_activity, price_activity, compute_inventory

    inventory = compute_inventory("examples/example-council/returns/2023-24", "2023/24")
    inventory.summary()      # the figures, as plain data
    inventory.ledger         # one row per emission line, with its audit trail
    inventory.rejected       # every input row not counted, with its reason
"""

from .activity import ActivityData, read_activity
from .catalogue import load_catalogue
from .factors import FactorLibrary, FactorTable, import_flat_file, load_factors, read_flat_file
from .inventory import Inventory, compute_inventory, price_activity
from .years import ReportingYear

__version__ = "0.1.0"

__all__ = [
    "ActivityData", "FactorLibrary", "FactorTable", "Inventory", "ReportingYear", "compute_inventory",
    "import_flat_file", "load_catalogue", "load_factors", "price_activity", "read_activity",
    "read_flat_file", "__version__",
]
