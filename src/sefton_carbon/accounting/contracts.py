"""Energy contracts: the evidence behind market-based Scope 2 (GHG Protocol Scope 2 Guidance).

CSV columns: ``site, supplier, tariff, period_start, period_end, kgco2e_per_kwh, evidence`` and
optionally ``meter``. A contract's factor [kg CO2e/kWh] counts only with evidence (for instance
``REGO certificates 2023/24, supplier statement ref ...``); a REGO-backed renewable tariff has
factor 0. Electricity with no contract, or a contract with no evidence, uses the residual-mix factor
from ``scopes.yaml``, or else the location-based grid factor, and says so.

Each electricity row takes the contract for its site whose period contains the middle day of the
row's period, whatever its meter (``meter`` is kept for the record only). Contracts for the same
site must not overlap.
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
    ordered = table.sort_values(["site", "period_start"], kind="stable")
    same_site = ordered["site"].to_numpy()[1:] == ordered["site"].to_numpy()[:-1]
    overlapping = same_site & (ordered["period_start"].to_numpy()[1:] <= ordered["period_end"].to_numpy()[:-1])
    if overlapping.any():  # the first site in order holding two contracts that overlap
        first = int(np.flatnonzero(overlapping)[0])
        rows_named = ordered["source_row"].to_numpy()[[first, first + 1]]
        raise DataError(f"contracts for site '{ordered['site'].iloc[first]}' overlap (rows {rows_named[0]} and "
                        f"{rows_named[1]}): a site has one contract at a time", file=str(path),
                        row=int(rows_named[1]), column="period_start")
    return Contracts(table=table, source=path)


def market_factors(site, start: np.ndarray, end: np.ndarray, contracts: Contracts | None,
                   residual_mix: float | None,
                   grid_factor: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Market-based factor [kg CO2e/kWh] per electricity row, its basis (codes into `MARKET_BASES`),
    and the contracts-file row used (0 for none).

    ``site`` (text, or categorical), ``start`` and ``end`` describe the rows (dates as
    datetime64); ``grid_factor`` is each row's location-based factor, used when there is no
    residual mix.
    """
    count = len(grid_factor)
    factor = np.full(count, np.nan)
    basis = np.zeros(count, dtype=np.int8)
    contract_row = np.zeros(count, dtype=np.int64)
    if contracts is not None and len(contracts.table) and count:
        table = contracts.table
        covering = covering_contract(site, start + (end - start) / 2, table)
        covered = covering >= 0
        chosen = covering[covered]
        evidence = (table["evidence"] != "").to_numpy()[chosen]
        with_evidence = np.flatnonzero(covered)[evidence]
        factor[with_evidence] = table["kgco2e_per_kwh"].to_numpy()[chosen[evidence]]
        basis[covered] = np.where(evidence, CONTRACT, WITHOUT_EVIDENCE)
        contract_row[covered] = table["source_row"].to_numpy()[chosen]
    unpriced = np.isnan(factor)
    without_evidence = basis == WITHOUT_EVIDENCE
    if residual_mix is not None:
        factor[unpriced] = residual_mix
        basis[unpriced & ~without_evidence] = RESIDUAL_MIX
    else:
        factor[unpriced] = grid_factor[unpriced]
        basis[unpriced] = np.where(without_evidence[unpriced], WITHOUT_EVIDENCE_GRID, GRID)
    return factor, basis, contract_row


#: Nanoseconds in a day: a row's middle is compared by its day (a noon is on the day it falls on).
DAY_NS = 24 * 3600 * 10**9


def covering_contract(site, middle: np.ndarray, table: pd.DataFrame) -> np.ndarray:
    """Per row, the position in ``table`` (`Contracts.table`) of the contract for its ``site``
    whose period contains the day of ``middle`` (datetime64: the middle of the row's period, so a
    bill of 30 September to 1 October falls on 30 September), or -1 for none: at most one does,
    since a site's contracts never overlap (`read_contracts`).

    One sorted search, not a pass per contract: each (site, day) is one integer, the site's
    number times a span longer than every day's distance from the earliest, so that sorting by it
    sorts by site, then day; a row's candidate is the last contract starting on or before its key,
    and it covers the row when it is of the row's site and ends on or after the row's day."""
    sites = pd.Index(table["site"].unique())
    rows = pd.Categorical(site)
    row_site = np.append(sites.get_indexer(rows.categories), -1)[rows.codes]  # -1: no contract for the site
    contract_site = sites.get_indexer(table["site"])

    def days(instants) -> np.ndarray:
        return np.asarray(instants, dtype="datetime64[ns]").view(np.int64) // DAY_NS

    row_time = days(middle)
    starts, ends = days(table["period_start"]), days(table["period_end"])
    earliest = min(int(row_time.min()), int(starts.min()))
    span = max(int(row_time.max()), int(ends.max())) - earliest + 1
    contract_key = contract_site * span + (starts - earliest)
    order = np.argsort(contract_key, kind="stable")
    candidate = np.searchsorted(contract_key[order], row_site * span + (row_time - earliest), side="right") - 1
    contract = order[np.maximum(candidate, 0)]
    covers = (row_site >= 0) & (candidate >= 0) & (contract_site[contract] == row_site) & (row_time <= ends[contract])
    return np.where(covers, contract, -1)
