"""The inventory: activity rows priced with one year's factors, as an audited ledger.

Data flows one way: `read_activity` (read and check) -> resolve factors per distinct (activity, unit)
-> one vectorised multiply -> summaries. Every ledger line keeps its audit trail: source file, sheet
and row; factor key, DESNZ ID, factor-table row, factor year and value [kg CO2e per factor unit];
and the unit conversion from the reported unit to the factor's unit, so that

    tco2e = quantity x unit_conversion x kgco2e_per_unit / 1000

can be recomputed by hand for any line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .activity import REJECTED_COLUMNS, ActivityData, read_activity
from .catalogue import DIRECT, Catalogue, ResolutionError, load_catalogue, resolve
from .factors import FactorLibrary, FactorTable, load_factors
from .years import ReportingYear

KG_PER_TONNE = 1000.0
GASES = ["co2", "ch4", "n2o"]
RESOLUTION_COLUMNS = [
    "line", "scope", "category", "factor_key", "desnz_id", "factor_source_row", "factor_unit",
    "factor_uom", "kgco2e", "kgco2e_co2", "kgco2e_ch4", "kgco2e_n2o", "unit_conversion",
    "unit_conversion_note"]
LEDGER_COLUMNS = [
    "input_row", "line", "parent_line", "source_file", "source_sheet", "source_row", "department",
    "site", "activity", "activity_as_written", "quantity", "unit", "unit_as_written", "period_start",
    "period_end", "data_quality", "scope", "category", "factor_year", "factor_set", "factor_key",
    "desnz_id", "factor_source_row", "factor_uom", "factor_unit", "kgco2e_per_unit",
    "kgco2e_co2_per_unit", "kgco2e_ch4_per_unit", "kgco2e_n2o_per_unit", "unit_conversion",
    "unit_conversion_note", "quantity_in_factor_unit", "tco2e", "tco2e_co2", "tco2e_ch4", "tco2e_n2o"]
LINE_ORDER = {DIRECT: 0, "transmission_distribution": 1, "well_to_tank": 2,
              "well_to_tank_transmission_distribution": 3}


@dataclass
class Inventory:
    """An inventory for one reporting year.

    ``ledger``: one row per emission line (`LEDGER_COLUMNS`), figures in t CO2e, unrounded.
    ``rejected``: one row per input row not counted, with file, sheet, row, column, value, reason.
    ``files``: per input file, rows read, accounted, rejected and blank.
    """

    reporting_year: ReportingYear
    factor_year: int
    factor_metadata: dict
    ledger: pd.DataFrame
    rejected: pd.DataFrame
    files: pd.DataFrame
    rows_read: int
    rows_accounted: int
    rows_rejected: int
    notes: list[str] = field(default_factory=list)

    @property
    def total_tco2e(self) -> float:
        return float(self.ledger["tco2e"].sum())

    def by_scope(self) -> dict[str, float]:
        """Total per GHG Protocol scope [t CO2e]; every scope present, zero when empty."""
        sums = self.ledger.groupby("scope", observed=True)["tco2e"].sum()
        return {f"scope_{scope}": float(sums.get(scope, 0.0)) for scope in (1, 2, 3)}

    def by_scope_3_category(self) -> dict[int, float]:
        """Scope 3 total per category (1-15) [t CO2e]."""
        scope_3 = self.ledger[self.ledger["scope"] == 3]
        sums = scope_3.groupby("category", observed=True)["tco2e"].sum()
        return {int(category): float(value) for category, value in sums.items()}

    def by(self, column: str) -> dict[str, float]:
        """Total per value of a ledger column (department, activity, site...) [t CO2e], largest first."""
        sums = self.ledger.groupby(column, observed=True)["tco2e"].sum().sort_values(ascending=False)
        return {str(key): float(value) for key, value in sums.items()}

    def by_gas(self) -> dict[str, float]:
        """Per-gas totals [t CO2e] over the lines whose factors give them."""
        return {f"tco2e_{gas}": float(self.ledger[f"tco2e_{gas}"].sum()) for gas in GASES}

    def summary(self) -> dict:
        """The inventory as plain data (the ``--format json`` output)."""
        estimated = self.ledger.loc[self.ledger["data_quality"] == "estimated", "tco2e"].sum()
        total = self.total_tco2e
        return {
            "reporting_year": self.reporting_year.label,
            "factor_year": self.factor_year,
            "factor_set": _factor_set_label(self.factor_metadata),
            "gwp_basis": self.factor_metadata.get("gwp_basis"),
            "total_tco2e": total,
            "by_scope": self.by_scope(),
            "by_scope_3_category": {str(k): v for k, v in self.by_scope_3_category().items()},
            "by_department": self.by("department"),
            "by_activity": self.by("activity"),
            "by_gas": self.by_gas(),
            "estimated_share": float(estimated / total) if total else 0.0,
            "rows": {"read": self.rows_read, "accounted": self.rows_accounted,
                     "rejected": self.rows_rejected},
            "files": self.files.to_dict(orient="records"),
            "notes": self.notes,
        }


def _factor_set_label(metadata: dict) -> str:
    year = metadata.get("publication_year")
    version = metadata.get("version")
    body = "DESNZ" if year and int(year) >= 2023 else "BEIS"
    return f"{body} {year}" + (f" v{version}" if version else "")


def _resolutions(pairs: pd.DataFrame, catalogue: Catalogue,
                 factor_table: FactorTable) -> tuple[pd.DataFrame, dict[int, str]]:
    """Priced lines per distinct (activity, unit) pair, and the reason for each pair that fails."""
    records, failures = [], {}
    for pair_id, activity, unit in pairs[["pair_id", "activity", "unit"]].itertuples(index=False):
        try:
            for line in resolve(catalogue, activity, unit, factor_table):
                records.append({"pair_id": pair_id, **line.__dict__})
        except ResolutionError as error:
            failures[pair_id] = str(error)
    resolution = pd.DataFrame(records, columns=["pair_id", *RESOLUTION_COLUMNS])
    return resolution.astype({"pair_id": "int64", "scope": "int64", "category": "Int64"}), failures


def _period_checks(rows: pd.DataFrame, year: ReportingYear) -> pd.Series:
    """The reason a row's period does not fit the reporting year; missing where it fits."""
    first, last = pd.Timestamp(year.first_day), pd.Timestamp(year.last_day)
    start, end = rows["period_start"], rows["period_end"]
    outside = (end < first) | (start > last)
    straddles = ~outside & ((start < first) | (end > last))
    where = (f"the reporting year {year.label} ({year.first_day.isoformat()} to "
             f"{year.last_day.isoformat()})")
    reason = pd.Series(pd.NA, index=rows.index, dtype=object)
    reason[outside] = f"period lies outside {where}"
    reason[straddles] = (f"period straddles the edge of {where}: split it at the year boundary "
                         "or send one row per year")
    return reason


def _reject(rows: pd.DataFrame, mask: pd.Series, column: str, values: pd.Series,
            reasons: pd.Series) -> pd.DataFrame:
    selected = rows[mask]
    return pd.DataFrame({
        "source_file": selected["source_file"].astype(str), "source_sheet": selected["source_sheet"].astype(str),
        "source_row": selected["source_row"], "column": column,
        "value": values[mask].astype(str), "reason": reasons[mask].astype(str)})[REJECTED_COLUMNS]


def price_activity(activity: ActivityData, reporting_year: str | ReportingYear,
                   factor_year: int | None = None, factors: FactorLibrary | None = None,
                   catalogue: Catalogue | None = None) -> Inventory:
    """Price activity rows already read (see `compute_inventory`)."""
    year = ReportingYear.parse(reporting_year)
    factors = factors or load_factors()
    catalogue = catalogue or load_catalogue()
    factor_year = factor_year or year.default_factor_year
    factor_table = factors.table(factor_year)
    rows = activity.rows

    period_reason = _period_checks(rows, year)
    in_year = period_reason.isna()
    rejected_parts = [activity.rejected,
                      _reject(rows, ~in_year, "period_start",
                              rows["period_start"].dt.strftime("%Y-%m-%d") + " to "
                              + rows["period_end"].dt.strftime("%Y-%m-%d"), period_reason)]
    rows = rows[in_year]

    pairs = rows[["activity", "unit"]].drop_duplicates().astype(str).reset_index(drop=True)
    pairs["pair_id"] = np.arange(len(pairs))
    resolution, failures = _resolutions(pairs, catalogue, factor_table)
    rows = rows.merge(pairs.astype({"activity": rows["activity"].dtype, "unit": rows["unit"].dtype}),
                      on=["activity", "unit"], how="left", sort=False)
    failed = rows["pair_id"].isin(list(failures))
    rejected_parts.append(_reject(rows, failed, "unit", rows["activity"].astype(str) + " in "
                                  + rows["unit_as_written"].astype(str),
                                  rows["pair_id"].map(failures)))
    rows = rows[~failed]

    ledger = rows.merge(resolution, on="pair_id", how="inner", sort=False)
    ledger = ledger.rename(columns={f"kgco2e{suffix}": f"kgco2e{suffix}_per_unit"
                                    for suffix in ["", "_co2", "_ch4", "_n2o"]})
    ledger["parent_line"] = np.where(ledger["line"] == DIRECT, "", DIRECT)
    ledger["factor_year"] = factor_year
    ledger["factor_set"] = _factor_set_label(factor_table.metadata)
    ledger["quantity_in_factor_unit"] = ledger["quantity"] * ledger["unit_conversion"]
    ledger["tco2e"] = ledger["quantity_in_factor_unit"] * ledger["kgco2e_per_unit"] / KG_PER_TONNE
    for gas in GASES:
        ledger[f"tco2e_{gas}"] = (ledger["quantity_in_factor_unit"]
                                  * ledger[f"kgco2e_{gas}_per_unit"] / KG_PER_TONNE)
    ledger["line_order"] = ledger["line"].map(LINE_ORDER).fillna(len(LINE_ORDER))
    ledger = ledger.sort_values(["input_row", "line_order"], kind="stable").reset_index(drop=True)
    for column in ["line", "parent_line", "factor_set", "factor_key", "desnz_id", "factor_uom",
                   "factor_unit", "unit_conversion_note"]:
        ledger[column] = ledger[column].astype("category")
    ledger = ledger[LEDGER_COLUMNS]

    rejected = pd.concat(rejected_parts, ignore_index=True)
    rejected["source_row"] = rejected["source_row"].astype("Int64")
    rejected = rejected.sort_values(["source_file", "source_sheet", "source_row"], kind="stable")
    return _assemble(year, factor_year, factor_table, ledger, rejected, activity.files)


def _assemble(year: ReportingYear, factor_year: int, factor_table: FactorTable, ledger: pd.DataFrame,
              rejected: pd.DataFrame, files: pd.DataFrame) -> Inventory:
    accounted_rows = ledger.loc[ledger["line"] == DIRECT, "source_file"].astype(str).value_counts()
    rejected_rows = rejected[rejected["source_row"].notna()]["source_file"].value_counts()
    files = files.copy()
    files["rows_accounted"] = files["source_file"].map(accounted_rows).fillna(0).astype("int64")
    files["rows_rejected"] = files["source_file"].map(rejected_rows).fillna(0).astype("int64")
    files["tco2e"] = files["source_file"].map(
        ledger.groupby(ledger["source_file"].astype(str))["tco2e"].sum()).fillna(0.0)
    rows_read = int(files["rows_read"].sum())
    accounted = int(files["rows_accounted"].sum())
    rejected_count = int(files["rows_rejected"].sum())
    if rows_read != accounted + rejected_count:
        raise AssertionError(f"reconciliation failed: {rows_read} read != {accounted} accounted + "
                             f"{rejected_count} rejected")
    notes = []
    if factor_year != year.default_factor_year:
        notes.append(f"factor year {factor_year} chosen instead of the default "
                     f"{year.default_factor_year} for {year.label}")
    if (ledger["activity"].astype(str) == "water_supply").any() and factor_year == 2025:
        notes.append("2025 water supply factor 0.19130 kg CO2e/m3 is taken from the DESNZ flat file; "
                     "one third-party page quotes 0.17088 (the treatment factor) for supply")
    return Inventory(
        reporting_year=year, factor_year=factor_year,
        factor_metadata={k: v for k, v in factor_table.metadata.items()},
        ledger=ledger, rejected=rejected.reset_index(drop=True), files=files,
        rows_read=rows_read, rows_accounted=accounted, rows_rejected=rejected_count, notes=notes)


def compute_inventory(paths: list[str | Path] | str | Path, reporting_year: str | ReportingYear,
                      factor_year: int | None = None, factors_dir: str | Path | None = None,
                      factors: FactorLibrary | None = None) -> Inventory:
    """Read activity files and folders and compute the inventory of one reporting year.

    ``factor_year`` defaults to the calendar year in which the reporting year starts (2023/24 uses
    the 2023 factors). ``factors_dir`` adds tables imported with `import_flat_file`, which take
    precedence over the bundled ones for their years.
    """
    year = ReportingYear.parse(reporting_year)
    factors = factors or load_factors(factors_dir)
    factors.table(factor_year or year.default_factor_year)  # fail on a missing year before reading
    return price_activity(read_activity(paths), year, factor_year, factors)
