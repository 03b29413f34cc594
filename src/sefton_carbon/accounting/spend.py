"""Spend-based Scope 3 factors: kg CO2e per GBP by procurement category (categories 1 and 2).

The DESNZ conversion factors have no spend factors, so the council supplies a table, CSV columns
``procurement_category, scope_3_category, kgco2e_per_gbp, source, price_base_year``. A return names a
category as the activity ``spend:<procurement_category>`` with the unit ``GBP``. Spend should be in
the prices of the table's base year (deflate it first when it is not): the ledger records the
table's source and price base year on every spend line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sefton_carbon.errors import DataError
from sefton_carbon.io.spreadsheets import read_register

SPEND_PREFIX = "spend:"
REQUIRED = ["procurement_category", "scope_3_category", "kgco2e_per_gbp", "source", "price_base_year"]


@dataclass
class SpendFactors:
    """The spend factor table, indexed by folded procurement category."""

    table: pd.DataFrame
    source: Path


def fold_category(text: str) -> str:
    """A procurement category folded for lookup: lower case, spaces as underscores."""
    return "_".join(str(text).strip().lower().replace("-", " ").split())


def read_spend_factors(path: str | Path) -> SpendFactors:
    """Read and check a spend factor table; problems raise `DataError` with file, row and column."""
    path = Path(path)
    records = []
    for number, record in read_register(path, REQUIRED, "spend factor table"):
        category = fold_category(record["procurement_category"])
        if not category:
            raise DataError("procurement_category is empty", file=str(path), row=number,
                            column="procurement_category")
        if record["scope_3_category"] not in ("1", "2"):
            raise DataError(f"scope_3_category '{record['scope_3_category']}' must be 1 (purchased goods "
                            "and services) or 2 (capital goods)", file=str(path), row=number,
                            column="scope_3_category")
        try:
            factor = float(record["kgco2e_per_gbp"])
            base_year = int(record["price_base_year"])
        except ValueError:
            raise DataError("kgco2e_per_gbp must be a number and price_base_year a year",
                            file=str(path), row=number) from None
        if not 0 <= factor < 100:
            raise DataError(f"{factor} kg CO2e per GBP is outside 0 to 100: check the unit", file=str(path),
                            row=number, column="kgco2e_per_gbp")
        if not record["source"]:
            raise DataError("source is empty: name the publication the factor comes from",
                            file=str(path), row=number, column="source")
        records.append({"procurement_category": category, "scope_3_category": int(record["scope_3_category"]),
                        "kgco2e_per_gbp": factor, "source": record["source"], "price_base_year": base_year,
                        "source_row": number})
    table = pd.DataFrame(records)
    if table.empty:
        raise DataError("has no factor rows", file=str(path))
    duplicated = table[table["procurement_category"].duplicated()]
    if not duplicated.empty:
        raise DataError(f"procurement category '{duplicated.iloc[0]['procurement_category']}' is listed "
                        "twice", file=str(path), row=int(duplicated.iloc[0]["source_row"]))
    return SpendFactors(table=table.set_index("procurement_category"), source=path)
