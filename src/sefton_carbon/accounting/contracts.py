"""Energy contracts: the evidence behind market-based Scope 2 (GHG Protocol Scope 2 Guidance).

CSV columns: ``site, supplier, tariff, period_start, period_end, kgco2e_per_kwh, evidence`` and
optionally ``meter``. A contract's factor [kg CO2e/kWh] counts only with evidence (for instance
``REGO certificates 2023/24, supplier statement ref ...``); a REGO-backed renewable tariff has
factor 0. Electricity with no contract, or a contract with no evidence, uses the residual-mix factor
from ``scopes.yaml``, or else the location-based grid factor, and says so.

Each electricity row takes the contract for its site whose period contains the middle day of the
row's period. Contracts for the same site must not overlap.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sefton_carbon.errors import DataError
from sefton_carbon.io.cells import DATE_WINDOW, in_date_window, parse_date
from sefton_carbon.io.spreadsheets import read_register

REQUIRED = ["site", "supplier", "tariff", "period_start", "period_end", "kgco2e_per_kwh", "evidence"]
GRID_FALLBACK = "no residual-mix factor set: location-based grid factor"
#: The basis of a market-based factor, by code (`market_factors` returns codes into this list).
MARKET_BASES = ["", "contract", "contract without evidence: residual mix", "residual mix",
                GRID_FALLBACK, "contract without evidence: " + GRID_FALLBACK]
CONTRACT, WITHOUT_EVIDENCE, RESIDUAL_MIX, GRID, WITHOUT_EVIDENCE_GRID = range(1, 6)


@dataclass
class Contracts:
    """The contracts as a table, dates as timestamps and factors as numbers [kg CO2e/kWh]."""

    table: pd.DataFrame
    source: Path


def read_contracts(path: str | Path) -> Contracts:
    """Read and check an energy contracts file; problems raise `DataError` with file, row, column."""
    path = Path(path)
    records = []
    for number, record in read_register(path, REQUIRED, "contracts file", "meter"):
        def fail(column: str, message: str) -> DataError:
            return DataError(message, file=str(path), row=number, column=column)

        if not record.get("site"):
            raise fail("site", "site is empty")
        start, end = parse_date(record.get("period_start", "")), parse_date(record.get("period_end", ""))
        if start is None or end is None:
            column = "period_start" if start is None else "period_end"
            raise fail(column, f"'{record.get(column, '')}' is not a date: write 2023-04-01 or 01/04/2023")
        for column, day in (("period_start", start), ("period_end", end)):
            if not in_date_window(day):
                raise fail(column, f"'{record[column]}' is outside the dates a contract may hold "
                                   f"({DATE_WINDOW[0]} to {DATE_WINDOW[1]}): check the year")
        if end < start:
            raise fail("period_end", "period ends before it starts")
        factor_text = record.get("kgco2e_per_kwh", "")
        try:
            factor = float(factor_text)
        except ValueError:
            raise fail("kgco2e_per_kwh", f"'{factor_text}' is not a number of kg CO2e per kWh "
                                         "(write 0 for a REGO-backed renewable tariff)") from None
        if not 0 <= factor < 2:
            raise fail("kgco2e_per_kwh", f"{factor} kg CO2e/kWh is outside 0 to 2: check the unit")
        records.append({"site": record["site"], "meter": record.get("meter", ""),
                        "supplier": record.get("supplier", ""), "tariff": record.get("tariff", ""),
                        "period_start": pd.Timestamp(start), "period_end": pd.Timestamp(end),
                        "kgco2e_per_kwh": factor, "evidence": record.get("evidence", ""),
                        "source_row": number})
    table = pd.DataFrame(records, columns=["site", "meter", "supplier", "tariff", "period_start",
                                           "period_end", "kgco2e_per_kwh", "evidence", "source_row"])
    for site, group in table.groupby("site"):
        ordered = group.sort_values("period_start")
        overlapping = ordered["period_start"].to_numpy()[1:] <= ordered["period_end"].to_numpy()[:-1]
        if overlapping.any():
            first = int(np.flatnonzero(overlapping)[0])
            rows_named = ordered["source_row"].to_numpy()[[first, first + 1]]
            raise DataError(f"contracts for site '{site}' overlap (rows {rows_named[0]} and "
                            f"{rows_named[1]}): a site has one contract at a time", file=str(path),
                            row=int(rows_named[1]), column="period_start")
    return Contracts(table=table, source=path)


def market_factors(site: np.ndarray, start: np.ndarray, end: np.ndarray, contracts: Contracts | None,
                   residual_mix: float | None,
                   grid_factor: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Market-based factor [kg CO2e/kWh] per electricity row, its basis (codes into `MARKET_BASES`),
    and the contracts-file row used (0 for none).

    ``site``, ``start`` and ``end`` describe the rows (dates as datetime64); ``grid_factor`` is each
    row's location-based factor, used when there is no residual mix.
    """
    count = len(grid_factor)
    factor = np.full(count, np.nan)
    basis = np.zeros(count, dtype=np.int8)
    contract_row = np.zeros(count, dtype=np.int64)
    if contracts is not None and len(contracts.table) and count:
        middle = start + (end - start) / 2
        for contract in contracts.table.itertuples(index=False):
            covered = ((site == contract.site) & (middle >= np.datetime64(contract.period_start))
                       & (middle <= np.datetime64(contract.period_end)))
            if contract.evidence:
                factor[covered] = contract.kgco2e_per_kwh
                basis[covered] = CONTRACT
            else:
                basis[covered] = WITHOUT_EVIDENCE
            contract_row[covered] = contract.source_row
    unpriced = np.isnan(factor)
    without_evidence = basis == WITHOUT_EVIDENCE
    if residual_mix is not None:
        factor[unpriced] = residual_mix
        basis[unpriced & ~without_evidence] = RESIDUAL_MIX
    else:
        factor[unpriced] = grid_factor[unpriced]
        basis[unpriced] = np.where(without_evidence[unpriced], WITHOUT_EVIDENCE_GRID, GRID)
    return factor, basis, contract_row
