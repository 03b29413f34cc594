"""The inventory: activity rows priced with one year's factors, with an audited ledger.

Data flows one way: `read_activity` (read and check) -> resolve factors once per distinct
(activity, unit) pair -> multiply -> group. Each resolved line carries a coefficient

    coefficient [t CO2e per reported unit] = unit_conversion x kgco2e_per_unit / 1000

so every figure is ``quantity x coefficient`` summed over rows. Totals by a row attribute
(department, file...) and a line attribute (scope, category...) are computed from the quantities
summed per (group, pair) and the coefficients: no per-line table is needed for the figures.

The ledger (`Inventory.ledger`) has one row per emission line with its audit trail: source file,
sheet and row; factor key, DESNZ ID, factor-table row, factor year, value [kg CO2e per factor unit];
the unit conversion; and tco2e with its parts per gas (`gases.GASES`, and the part no gas is named
for). A fuel with a biogenic share has an ``outside_of_scopes`` line, whose ``tco2_biogenic`` [t CO2]
is reported apart and whose ``tco2e`` is zero. The ledger is built when first asked for, since a
large input makes it several times larger than the input itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property

import numpy as np
import pandas as pd

from sefton_carbon.accounting.boundary import (
    BoundaryOption,
    BoundaryOptions,
    line_mask,
    load_boundary_options,
    missing_register_note,
    row_exclusions,
)
from sefton_carbon.accounting.catalogue import (
    DIRECT,
    NOT_PRICED,
    OUTSIDE_OF_SCOPES_NUMBER,
    Catalogue,
    ResolutionError,
    load_catalogue,
    resolve,
    unpriced_spend_line,
)
from sefton_carbon.accounting.contracts import GRID_FALLBACK, MARKET_BASES, Contracts, market_factors
from sefton_carbon.accounting.factors import FactorLibrary, FactorTable, factor_set_label, load_factors
from sefton_carbon.accounting.gases import GAS_LABELS, GASES, UNATTRIBUTED, UNATTRIBUTED_LABEL
from sefton_carbon.accounting.rows import (
    FILES_COLUMNS,
    REJECTED_COLUMNS,
    SUPPLY_WARNING,
    ActivityData,
    refused_whole_records,
)
from sefton_carbon.accounting.sites import SitesRegister
from sefton_carbon.accounting.spend import SPEND_PREFIX, SpendFactors
from sefton_carbon.years import ReportingYear

KG_PER_TONNE = 1000.0
#: Each line's value columns [kg per factor unit]: kg CO2e, its parts per gas, and biogenic kg CO2.
FACTOR_VALUES = ["kgco2e", *(f"kgco2e_{gas}" for gas in (*GASES, UNATTRIBUTED)), "kgco2_biogenic"]
#: The figures summed from them [t]: t CO2e, its parts per gas, and biogenic t CO2.
VALUES = ["tco2e", *(f"tco2e_{gas}" for gas in (*GASES, UNATTRIBUTED)), "tco2_biogenic"]
RESOLUTION_COLUMNS = [
    "line", "scope", "category", "factor_key", "desnz_id", "factor_source_row", "factor_unit",
    "factor_uom", *FACTOR_VALUES, "unit_conversion", "unit_conversion_note", "factor_set"]
#: A column of `Inventory.rows` priced from rows summed per group (the large-input engines): how
#: many input rows the group holds, so that rows are counted as input rows (`Inventory.row_weights`).
ROWS_IN_GROUP = "rows_in_group"
#: A ledger line's ``outside_reason`` when its row is inside the boundary and the line is not.
LINE_OUTSIDE_REASON = "line type, scope or category outside the boundary"
LEDGER_COLUMNS = [
    "input_row", "line", "parent_line", "source_file", "source_sheet", "source_row", "department",
    "site", "activity", "activity_as_written", "quantity_reported", "share_in_year", "quantity", "unit",
    "unit_as_written", "period_start", "period_end", "data_quality", "scope", "category", "factor_year",
    "factor_set", "factor_key",
    "desnz_id", "factor_source_row", "factor_uom", "factor_unit",
    *(f"{value}_per_unit" for value in FACTOR_VALUES), "unit_conversion",
    "unit_conversion_note", "quantity_in_factor_unit", *VALUES,
    "market_kgco2e_per_kwh", "market_basis", "tco2e_market", "in_boundary", "outside_reason"]
#: Each ledger column's type in a Parquet ledger (Arrow's names), the same on every engine and
#: whether or not the ledger has lines: row numbers, scope and category as whole numbers, text,
#: days, the factor year, the boundary flag; every other column (quantities, factors, t CO2e) a double.
LEDGER_PARQUET_TYPES = {
    column: "int64" if column in ("input_row", "source_row", "scope", "category", "factor_source_row")
    else "string" if column in ("line", "parent_line", "source_file", "source_sheet", "department", "site",
                                "activity", "activity_as_written", "unit", "unit_as_written", "data_quality",
                                "factor_set", "factor_key", "desnz_id", "factor_uom", "factor_unit",
                                "unit_conversion_note", "market_basis", "outside_reason")
    else "date32" if column in ("period_start", "period_end") else "int32" if column == "factor_year"
    else "bool" if column == "in_boundary" else "double" for column in LEDGER_COLUMNS}


@dataclass
class Inventory:
    """An inventory for one reporting year, under one boundary option.

    ``rows``: the accepted input rows; ``pair_of_row``: each row's (activity, unit) pair id;
    ``lines``: the priced lines of each pair, with coefficients [t CO2e per reported unit].
    ``outside``: why each row lies outside the boundary (missing where inside);
    ``line_inside``: which lines the boundary includes. Rows and lines outside are still accounted
    for and reported, but not counted in the figures.
    ``market_delta``: per row, market-based minus location-based Scope 2 [t CO2e] (electricity).
    ``rejected``: one row per input row not counted, with file, sheet, row, column, value, reason.
    ``files``: per input file, rows read, accounted, rejected and blank, and t CO2e.
    ``sites_given``: whether a sites register was applied.
    """

    reporting_year: ReportingYear
    factor_year: int
    factor_metadata: dict
    rows: pd.DataFrame
    pair_of_row: np.ndarray
    lines: pd.DataFrame
    rejected: pd.DataFrame
    pairs: pd.DataFrame | None = None
    boundary: BoundaryOption | None = None
    outside: pd.Series | None = None
    line_inside: np.ndarray | None = None
    market_delta: np.ndarray | None = None
    files: pd.DataFrame = field(default_factory=pd.DataFrame)
    notes: list[str] = field(default_factory=list)
    sites_given: bool = True
    #: The engine whose figures these are: ``pandas`` (in memory), or the large-input engine that
    #: summed the rows per group and priced the groups (its summary names it).
    engine: str = "pandas"
    #: The rows this inventory was priced from (accepted and not), to price them again on another
    #: factor year (a restated baseline).
    activity: ActivityData | None = None

    def __post_init__(self) -> None:
        if self.outside is None:
            self.outside = pd.Series(None, index=self.rows.index, dtype=object)
        if self.line_inside is None:
            self.line_inside = np.ones(len(self.lines), dtype=bool)
        if self.market_delta is None:
            self.market_delta = np.zeros(len(self.rows))

    @property
    def factor_set(self) -> str:
        """The factor table cited, for instance ``DESNZ 2023 v1.1``."""
        return factor_set_label(self.factor_metadata.get("publication_year"), self.factor_metadata.get("version"))

    @property
    def scope_2_method(self) -> str:
        """The Scope 2 method that counts towards the total: the boundary's, else location."""
        return self.boundary.scope_2_method if self.boundary else "location"

    @property
    def rows_read(self) -> int:
        return int(self.files["rows_read"].sum())

    @property
    def row_weights(self) -> np.ndarray:
        """How many input rows each row of `rows` stands for: one, or, for an inventory priced from
        rows summed per group by a large-input engine, the group's rows (column `ROWS_IN_GROUP`)."""
        if ROWS_IN_GROUP in self.rows:
            return self.rows[ROWS_IN_GROUP].to_numpy(dtype=np.int64)
        return np.ones(len(self.rows), dtype=np.int64)

    @property
    def rows_accounted(self) -> int:
        return int(self.row_weights.sum())

    @property
    def possible_double_counts(self) -> pd.DataFrame:
        """Counted rows that may be one supply counted twice (overlapping metered rows at one site,
        neither naming a meter): file, sheet, row and the warning."""
        if SUPPLY_WARNING not in self.rows:
            return pd.DataFrame(columns=["source_file", "source_sheet", "source_row", "warning"])
        warned = self.rows[(self.rows[SUPPLY_WARNING] != "").to_numpy()]
        return pd.DataFrame({"source_file": warned["source_file"].astype(str),
                             "source_sheet": warned["source_sheet"].astype(str),
                             "source_row": warned["source_row"],
                             "warning": warned[SUPPLY_WARNING].astype(str)}).reset_index(drop=True)

    @property
    def ledger_lines(self) -> int:
        """Lines of the ledger: each accounted row once per line of its (activity, unit) pair (`ledger`)."""
        lines_of_pair = self.lines.groupby("pair_id").size()
        return int((self.row_weights * lines_of_pair.reindex(self.pair_of_row, fill_value=0).to_numpy()).sum())

    @property
    def rows_outside_boundary(self) -> int:
        return int(self.row_weights[~self._row_inside].sum())

    @property
    def rows_rejected(self) -> int:
        """Input rows rejected (a file that could not be read at all is listed, but has no rows)."""
        return int(self.files["rows_rejected"].sum())

    def totals(self, row_column: str | None = None, line_column: str | None = None,
               value: str = "tco2e", lines: np.ndarray | None = None, method: str | None = None,
               inside: bool = True) -> pd.Series:
        """Emissions [t CO2e] summed by a row attribute, a line attribute, or both.

        ``row_column``: a categorical column of `rows` (department, site, activity, source_file,
        data_quality...), giving only the values that occur. ``line_column``: a column of `lines`
        (scope, category, line, factor_key...). ``value``: ``tco2e`` or a per-gas part such as
        ``tco2e_ch4``. ``lines``: an optional mask selecting lines. ``method``: the Scope 2 method
        (default: the boundary's). ``inside``: count only what lies inside the boundary (True) or
        only what lies outside it (False). With neither column, one total.
        """
        groups, quantity, delta, quantity_inside, present = self._sums_by_pair(row_column, inside)
        pairs = quantity.shape[1]
        selected_lines = self.line_inside if inside else np.ones(len(self.lines), dtype=bool)
        mask = selected_lines if lines is None else selected_lines & lines
        selected = self.lines[mask & (self.lines["pair_id"] < pairs).to_numpy()]
        pair_ids = selected["pair_id"].to_numpy()
        contributions = quantity[:, pair_ids] * selected[f"{value}_coefficient"].to_numpy()
        if (method or self.scope_2_method) == "market" and value == "tco2e":
            scope_2_direct = ((selected["scope"] == 2) & (selected["line"] == DIRECT)).to_numpy()
            contributions = contributions + delta[:, pair_ids] * scope_2_direct
        if not inside:  # a row outside counts all its lines; a row inside counts its lines outside
            lines_outside = self.lines[~self.line_inside & (self.lines["pair_id"] < pairs).to_numpy()]
            if lines is not None:
                lines_outside = lines_outside[lines[lines_outside.index]]
            extra = (quantity_inside[:, lines_outside["pair_id"].to_numpy()]
                     * lines_outside[f"{value}_coefficient"].to_numpy())
            selected = pd.concat([selected, lines_outside])
            contributions = np.concatenate([contributions, extra], axis=1)
        line_keys = selected[line_column].to_numpy() if line_column else np.zeros(len(selected))
        line_codes, line_groups = pd.factorize(line_keys, sort=True)
        summed = np.zeros((len(groups), len(line_groups)))
        np.add.at(summed, (slice(None), line_codes), contributions)
        table = pd.DataFrame(summed[present], index=groups[present], columns=line_groups)
        if line_column is None:
            return table.sum(axis=1) if len(line_groups) else pd.Series(0.0, index=table.index)
        if row_column is None:
            return table.sum(axis=0)
        return table.stack(future_stack=True)

    @cached_property
    def _row_inside(self) -> np.ndarray:
        return self.outside.isna().to_numpy()

    def _sums_by_pair(self, row_column: str | None, inside: bool):
        """Per (row group, pair): quantity [reported unit] and market-minus-location Scope 2
        [t CO2e] of the rows counted, quantity of the rows inside, and which groups have rows
        counted. Cached: several figures group by the same column."""
        key = (row_column, inside)
        cache = self.__dict__.setdefault("_pair_sums", {})
        if key not in cache:
            pairs = int(self.pair_of_row.max(initial=-1)) + 1
            if row_column is None:  # one group: a row's cell is its pair
                row_codes, groups, cells = None, pd.Index(["all"]), self.pair_of_row
            else:
                column = self.rows[row_column]
                row_codes, groups = column.cat.codes.to_numpy().astype(np.int64), column.cat.categories
                cells = row_codes * pairs + self.pair_of_row
            shape, size = (len(groups), pairs), len(groups) * pairs
            quantity_all = self.rows["quantity"].to_numpy()
            counted = self._row_inside if inside else ~self._row_inside

            def summed(weights: np.ndarray) -> np.ndarray:
                return np.bincount(cells, weights=weights, minlength=size).reshape(shape)

            def only(values: np.ndarray, rows: np.ndarray) -> np.ndarray:
                """``values`` of the ``rows`` given, zero elsewhere (the values themselves when
                every row is given: multiplying by one changes no value)."""
                return values if rows.all() else values * rows

            if row_codes is None:
                present = np.array([counted.any() if inside else len(self.rows) > 0])
            else:  # groups with rows counted; with every row counted, groups with any row
                present = np.bincount(row_codes, weights=counted if inside and not counted.all() else None,
                                      minlength=len(groups)) > 0
            cache[key] = (groups, summed(only(quantity_all, counted)),
                          summed(only(self.market_delta, counted)) if self.market_delta.any() else np.zeros(shape),
                          None if inside else summed(only(quantity_all, self._row_inside)), present)
        return cache[key]

    @property
    def total_tco2e(self) -> float:
        """Total inside the boundary [t CO2e], Scope 2 by the boundary's method."""
        return float(self.totals().sum())

    def by_scope(self) -> dict[str, float]:
        """Totals per GHG Protocol scope [t CO2e]: ``scope_2`` by the boundary's method, and both
        Scope 2 methods side by side."""
        location = self.totals(line_column="scope", method="location")
        market = self.totals(line_column="scope", method="market")
        return {"scope_1": float(location.get(1, 0.0)),
                "scope_2": float((market if self.scope_2_method == "market" else location).get(2, 0.0)),
                "scope_2_location": float(location.get(2, 0.0)),
                "scope_2_market": float(market.get(2, 0.0)),
                "scope_3": float(location.get(3, 0.0))}

    def by_scope_3_category(self) -> dict[int, float]:
        """Scope 3 total per category (1-15) [t CO2e]."""
        scope_3 = (self.lines["scope"] == 3).to_numpy()
        sums = self.totals(line_column="category", lines=scope_3)
        return {int(category): float(value) for category, value in sums.items()}

    def by(self, column: str) -> dict[str, float]:
        """Total per value of a row column (department, activity, site...) [t CO2e], largest first,
        equal totals by name (so that the order does not depend on the order rows were read in)."""
        sums = self.totals(row_column=column)
        sums = sums.iloc[np.lexsort((sums.index.astype(str), -sums.to_numpy()))]
        return {str(key): float(value) for key, value in sums.items()}

    def by_gas(self) -> dict[str, float]:
        """Scope 1 and Scope 2 (location-based) inside the boundary, per gas [t CO2e]: ``tco2e_<gas>``
        for each gas of `GASES`, and ``tco2e_unattributed`` for what the factor rows do not split
        into them. All eight add up to ``scope_1 + scope_2_location``."""
        scope_1_2 = self.lines["scope"].isin([1, 2]).to_numpy()
        return {f"tco2e_{gas}": float(self.totals(value=f"tco2e_{gas}", lines=scope_1_2).sum())
                for gas in (*GASES, UNATTRIBUTED)}

    def gas_table(self) -> pd.DataFrame:
        """`by_gas` as a table for reports: gas, label and t CO2e, one row per gas of `GASES`, then
        the part not split by gas."""
        by_gas = self.by_gas()
        labels = {**GAS_LABELS, UNATTRIBUTED: UNATTRIBUTED_LABEL}
        return pd.DataFrame([(gas, labels[gas], by_gas[f"tco2e_{gas}"]) for gas in (*GASES, UNATTRIBUTED)],
                            columns=["gas", "label", "tco2e"])

    @property
    def biogenic_co2_tonnes(self) -> float:
        """Biogenic CO2 [t CO2] of the rows inside the boundary (DESNZ "Outside of scopes"): the CO2
        of burning the biofuel share of pump fuels, wood, biogas... Part of no scope and no total."""
        return float(self.totals(value="tco2_biogenic").sum())

    def activity_quantities(self) -> pd.DataFrame:
        """Inside the boundary, per activity and factor unit: quantity [factor unit of the direct
        line] and t CO2e of all its lines (Scope 2 by the boundary's method)."""
        _, quantity, delta, _, _ = self._sums_by_pair(None, True)
        pairs = quantity.shape[1]
        inside = self.lines[self.line_inside & (self.lines["pair_id"] < pairs).to_numpy()]
        emissions = np.bincount(inside["pair_id"], weights=quantity[0, inside["pair_id"]]
                                * inside["tco2e_coefficient"].to_numpy(), minlength=pairs)
        direct = _direct_line_of_pair(self.lines, pairs)
        if self.scope_2_method == "market":
            counted = direct["scope"].eq(2).to_numpy() & np.isin(np.arange(pairs), inside["pair_id"])
            emissions = emissions + delta[0] * counted
        frame = pd.DataFrame({"activity": self.pairs["activity"].to_numpy()[:pairs],
                              "factor_unit": direct["factor_unit"].astype(str).to_numpy(),
                              "quantity": quantity[0] * direct["unit_conversion"].to_numpy(),
                              "tco2e": emissions})
        frame = frame.groupby(["activity", "factor_unit"], as_index=False)[["quantity", "tco2e"]].sum()
        return frame[(frame["quantity"] != 0) | (frame["tco2e"] != 0)].reset_index(drop=True)

    def outside_boundary(self) -> dict:
        """What the boundary leaves out: rows and t CO2e (location-based), by reason."""
        outside = ~self._row_inside
        counts = pd.Series(self.row_weights[outside]).groupby(self.outside[outside].to_numpy(), sort=False).sum()
        counts = counts.iloc[np.lexsort((counts.index.astype(str), -counts.to_numpy()))]  # equal counts by reason
        by_reason = {str(reason): int(count) for reason, count in counts.items()}
        excluded = self.totals(line_column="scope", inside=False, method="location")
        excluded = excluded[excluded.index != OUTSIDE_OF_SCOPES_NUMBER]
        return {"rows": self.rows_outside_boundary, "rows_by_reason": by_reason,
                "tco2e": float(excluded.sum()),
                "tco2e_by_scope": {f"scope_{int(scope)}": float(value) for scope, value in excluded.items()}}

    def summary(self) -> dict:
        """The inventory as plain data (the ``--format json`` output), figures unrounded."""
        by_quality = self.totals(row_column="data_quality")
        total = self.total_tco2e
        return {
            "engine": self.engine,
            "reporting_year": self.reporting_year.label,
            "factor_year": self.factor_year,
            "factor_set": self.factor_set,
            "gwp_basis": self.factor_metadata.get("gwp_basis"),
            "scope_option": self.boundary.name if self.boundary else None,
            "scope_option_label": self.boundary.label if self.boundary else None,
            "scope_2_method": self.scope_2_method,
            "total_tco2e": total,
            "by_scope": self.by_scope(),
            "by_scope_3_category": {str(k): v for k, v in self.by_scope_3_category().items()},
            "by_department": self.by("department"),
            "by_activity": self.by("activity"),
            "by_gas": self.by_gas(),
            "biogenic_co2_tonnes": self.biogenic_co2_tonnes,
            "estimated_share": float(by_quality.get("estimated", 0.0) / total) if total else 0.0,
            "rows": {"read": self.rows_read, "accounted": self.rows_accounted,
                     "rejected": self.rows_rejected, "outside_boundary": self.rows_outside_boundary},
            "ledger_lines": self.ledger_lines,
            "possible_double_counts": len(self.possible_double_counts),
            "outside_boundary": self.outside_boundary(),
            "boundary": self.boundary.statement() if self.boundary else [],
            "files": self.files.to_dict(orient="records"),
            "notes": self.notes,
            "refused_whole": refused_whole_records(self.activity.refused_whole if self.activity else None),
        }

    def under(self, option: BoundaryOption, sites: SitesRegister | None = None) -> Inventory:
        """The same priced inventory seen through another boundary option (nothing is re-read)."""
        view = replace(self, boundary=option,
                       outside=_row_exclusions(option, self.rows, sites, self.pair_of_row, self.lines),
                       line_inside=line_mask(option, self.lines), sites_given=sites is not None)
        for cached in ("ledger", "_row_inside", "_pair_sums"):
            view.__dict__.pop(cached, None)
        view.notes = _notes(view)
        return view

    @cached_property
    def ledger(self) -> pd.DataFrame:
        """One row per emission line, with its audit trail (`LEDGER_COLUMNS`), ordered by input row
        then line (direct first). Lines outside the boundary are listed with ``in_boundary`` false."""
        row_positions, line_positions = _expand(self.pair_of_row, self.lines)
        ledger = self.rows.iloc[row_positions].reset_index(drop=True)
        lines = self.lines.iloc[line_positions].reset_index(drop=True)
        lines = lines.rename(columns={value: f"{value}_per_unit" for value in FACTOR_VALUES})
        ledger = pd.concat([ledger, lines[[column for column in lines if column in LEDGER_COLUMNS]]], axis=1)
        ledger["parent_line"] = pd.Categorical.from_codes(
            (ledger["line"] != DIRECT).to_numpy().astype(np.int8), categories=["", DIRECT])
        ledger["factor_year"] = self.factor_year
        ledger["quantity_in_factor_unit"] = ledger["quantity"] * ledger["unit_conversion"]
        for value, factor in zip(VALUES, FACTOR_VALUES):
            ledger[value] = ledger["quantity_in_factor_unit"] * ledger[f"{factor}_per_unit"] / KG_PER_TONNE
        market_line = ((ledger["scope"] == 2) & (ledger["line"] == DIRECT)).to_numpy()
        ledger["tco2e_market"] = ledger["tco2e"] + np.where(market_line, self.market_delta[row_positions], 0.0)
        outside = self.outside.to_numpy()[row_positions]
        ledger["in_boundary"] = pd.isna(outside) & self.line_inside[line_positions]
        ledger["outside_reason"] = np.where(pd.isna(outside), np.where(
            self.line_inside[line_positions], "", LINE_OUTSIDE_REASON),
            outside)
        return ledger[LEDGER_COLUMNS]


def resolve_pairs(pairs: pd.DataFrame, catalogue: Catalogue, factor_table: FactorTable,
                 spend: SpendFactors | None = None,
                 option: BoundaryOption | None = None) -> tuple[pd.DataFrame, dict[int, str]]:
    """Priced lines per distinct (activity, unit) pair, ordered by pair then line, with their
    coefficients [t CO2e per reported unit]; and the reason for each pair that cannot be priced.

    Spend that ``option`` leaves out needs no spend table: without one, it gets an unpriced line
    (`unpriced_spend_line`) and is accounted for as outside the boundary, not rejected."""
    records, failures = [], {}
    for pair_id, activity, unit in pairs[["pair_id", "activity", "unit"]].itertuples(index=False):
        try:
            resolved = resolve(catalogue, activity, unit, factor_table, spend)
        except ResolutionError as error:
            left_out = (spend is None and option is not None and activity.startswith(SPEND_PREFIX)
                        and option.excludes_activity(activity))
            resolved = [unpriced_spend_line(unit)] if left_out else [None]
            if resolved[0] is None:
                failures[pair_id] = str(error)
                continue
        for line in resolved:
            records.append({"pair_id": pair_id, **line.__dict__, **line.values()})
    lines = pd.DataFrame(records, columns=["pair_id", *RESOLUTION_COLUMNS])
    lines = lines.astype({"pair_id": "int64", "scope": "int64", "category": "Int64",
                          "factor_source_row": "int64"})
    for column in ["line", "factor_key", "desnz_id", "factor_unit", "factor_uom", "unit_conversion_note"]:
        lines[column] = lines[column].astype("category")
    for value, factor in zip(VALUES, FACTOR_VALUES):
        lines[f"{value}_coefficient"] = lines["unit_conversion"] * lines[factor] / KG_PER_TONNE
    return lines, failures


def _pair_ids(rows: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame]:
    """A pair id per row for its distinct (activity, unit), and the table of distinct pairs."""
    activities, units_ = rows["activity"].cat.categories, rows["unit"].cat.categories
    radix = len(units_) + 1
    combined = (rows["activity"].cat.codes.to_numpy().astype(np.int64) * radix
                + rows["unit"].cat.codes.to_numpy())
    pair_of_row, distinct = pd.factorize(combined)
    pairs = pd.DataFrame({"pair_id": np.arange(len(distinct)),
                          "activity": [str(activities[code // radix]) for code in distinct],
                          "unit": [str(units_[code % radix]) for code in distinct]})
    return pair_of_row.astype(np.int64), pairs


def _expand(pair_of_row: np.ndarray, lines: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Row and line positions of every ledger line: each row repeated once per line of its pair.

    ``lines`` is ordered by pair id, then by line, so the result is ordered by row, then line.
    """
    pair_ids = lines["pair_id"].to_numpy()
    lines_per_pair = np.bincount(pair_ids, minlength=pair_of_row.max(initial=-1) + 1)
    first_line = np.concatenate([[0], np.cumsum(lines_per_pair)[:-1]])
    repeats = lines_per_pair[pair_of_row]
    row_positions = np.repeat(np.arange(len(pair_of_row)), repeats)
    starts = np.repeat(first_line[pair_of_row], repeats)
    within = np.arange(len(row_positions)) - np.repeat(np.cumsum(repeats) - repeats, repeats)
    return row_positions, starts + within


def _apportion(rows: pd.DataFrame, year: ReportingYear) -> tuple[np.ndarray, np.ndarray]:
    """Which rows lie wholly outside the reporting year, and the share of each row's period that
    falls inside it (by days, both ends included): a bill from 15 March to 14 April counts 14/31
    in the year that starts on 1 April."""
    first = np.datetime64(year.first_day, "ns")
    last = np.datetime64(year.last_day, "ns")
    start, end = rows["period_start"].to_numpy(), rows["period_end"].to_numpy()
    if ((start >= first) & (end <= last)).all():  # every row wholly inside: its share is one
        return np.zeros(len(rows), dtype=bool), np.ones(len(rows))
    day = np.timedelta64(1, "D")
    inside_days = (np.minimum(end, last) - np.maximum(start, first)) / day + 1
    all_days = (end - start) / day + 1
    outside = inside_days <= 0
    return outside, np.where(outside, 0.0, inside_days / all_days)


def _reject(rows: pd.DataFrame, mask: np.ndarray, column: str, values, reasons) -> pd.DataFrame:
    """Rejected-row records for the rows under ``mask``; ``values`` and ``reasons`` are functions of
    the selected rows, so nothing is computed for rows that pass."""
    selected = rows[mask]
    return pd.DataFrame({
        "source_file": selected["source_file"].astype(str).to_numpy(),
        "source_sheet": selected["source_sheet"].astype(str).to_numpy(),
        "source_row": selected["source_row"].to_numpy(), "column": column,
        "value": np.asarray(values(selected), dtype=object),
        "reason": np.asarray(reasons(selected), dtype=object)})[REJECTED_COLUMNS]


def _direct_line_of_pair(lines: pd.DataFrame, pairs: int) -> pd.DataFrame:
    """The direct line of each pair, indexed by pair id (pairs that failed have none)."""
    return lines[lines["line"] == DIRECT].set_index("pair_id").reindex(range(pairs))


def _market_based(rows: pd.DataFrame, pair_of_row: np.ndarray, lines: pd.DataFrame,
                  contracts: Contracts | None, residual_mix: float | None) -> tuple[np.ndarray, pd.DataFrame]:
    """Market-based minus location-based Scope 2 per row [t CO2e], and the market factor and its
    basis per row (electricity rows only)."""
    direct = _direct_line_of_pair(lines, int(pair_of_row.max(initial=-1)) + 1)
    electricity = (rows["activity"] == "electricity").to_numpy()
    delta = np.zeros(len(rows))
    factor = np.full(len(rows), np.nan)
    basis = np.zeros(len(rows), dtype=np.int8)
    if electricity.any():
        grid = direct["kgco2e"].to_numpy()[pair_of_row[electricity]]
        conversion = direct["unit_conversion"].to_numpy()[pair_of_row[electricity]]
        market, market_basis, _ = market_factors(
            rows["site"][electricity],
            rows["period_start"].to_numpy()[electricity], rows["period_end"].to_numpy()[electricity],
            contracts, residual_mix, grid)
        kilowatt_hours = rows["quantity"].to_numpy()[electricity] * conversion
        delta[electricity] = kilowatt_hours * (market - grid) / KG_PER_TONNE
        factor[electricity], basis[electricity] = market, market_basis
    return delta, pd.DataFrame({"market_kgco2e_per_kwh": factor,
                                "market_basis": pd.Categorical.from_codes(basis, MARKET_BASES)},
                               index=rows.index)


def price_activity(activity: ActivityData, reporting_year: str | ReportingYear,
                   factor_year: int | None = None, factors: FactorLibrary | None = None,
                   catalogue: Catalogue | None = None, *,
                   scope_option: str | BoundaryOption | None = None,
                   boundary_options: BoundaryOptions | None = None, sites: SitesRegister | None = None,
                   contracts: Contracts | None = None, spend: SpendFactors | None = None) -> Inventory:
    """Price activity rows already read (see `compute_inventory`)."""
    year = ReportingYear.parse(reporting_year)
    factors = factors or load_factors()
    catalogue = catalogue or load_catalogue()
    boundary_options = boundary_options or load_boundary_options()
    option = scope_option if isinstance(scope_option, BoundaryOption) else boundary_options.get(scope_option)
    factor_year = factor_year or year.default_factor_year
    factor_table = factors.table(factor_year)
    rows = activity.rows
    rejected_parts = [activity.rejected]

    outside, share = _apportion(rows, year)
    if outside.any():
        where = (f"the reporting year {year.label} ({year.first_day.isoformat()} to "
                 f"{year.last_day.isoformat()})")
        rejected_parts.append(_reject(
            rows, outside, "period_start",
            lambda selected: selected["period_start"].dt.strftime("%Y-%m-%d") + " to "
            + selected["period_end"].dt.strftime("%Y-%m-%d"),
            lambda selected: [f"period lies outside {where}"] * len(selected)))
        rows, share = rows[~outside], share[~outside]
    if (share < 1).any():
        rows = rows.copy()
        rows["quantity_reported"] = rows["quantity"]
        rows["share_in_year"] = share
        rows["quantity"] = rows["quantity"] * share
    else:
        rows = rows.assign(quantity_reported=rows["quantity"], share_in_year=1.0)

    pair_of_row, pairs = _pair_ids(rows)
    lines, failures = resolve_pairs(pairs, catalogue, factor_table, spend, option)
    lines["factor_set"] = lines["factor_set"].replace("", factor_table.label)
    lines["factor_set"] = lines["factor_set"].astype("category")
    failed = np.isin(pair_of_row, list(failures))
    if failed.any():
        rejected_parts.append(_reject(
            rows, failed, "unit",
            lambda selected: selected["activity"].astype(str) + " in "
            + selected["unit_as_written"].astype(str),
            lambda selected: [failures[pair] for pair in pair_of_row[failed]]))
        rows, pair_of_row = rows[~failed], pair_of_row[~failed]
    rows = rows.reset_index(drop=True)

    market_delta, market = _market_based(rows, pair_of_row, lines, contracts,
                                         boundary_options.scope_2_market.residual_mix_kgco2e_per_kwh)
    for column in market:
        rows[column] = market[column]
    rejected = pd.concat(rejected_parts, ignore_index=True)
    rejected["source_row"] = rejected["source_row"].astype("Int64")
    rejected = rejected.sort_values(["source_file", "source_sheet", "source_row"],
                                    kind="stable").reset_index(drop=True)
    inventory = Inventory(
        reporting_year=year, factor_year=factor_year, factor_metadata=dict(factor_table.metadata),
        rows=rows, pair_of_row=pair_of_row, lines=lines, rejected=rejected, pairs=pairs, boundary=option,
        outside=_row_exclusions(option, rows, sites, pair_of_row, lines), line_inside=line_mask(option, lines),
        market_delta=market_delta, sites_given=sites is not None, activity=activity)
    inventory.files = _reconcile(inventory, activity.files)
    inventory.notes = _notes(inventory)
    return inventory


def _reconcile(inventory: Inventory, files: pd.DataFrame) -> pd.DataFrame:
    """Per file: rows read, accounted, rejected and blank, and t CO2e; checks read = accounted +
    rejected for every file."""
    def per_file(series: pd.Series) -> dict[str, float]:
        return {str(name): value for name, value in series.items()}

    rejected = inventory.rejected
    files = files.copy()
    files["rows_accounted"] = files["source_file"].map(
        per_file(inventory.rows["source_file"].value_counts())).fillna(0).astype("int64")
    unreadable = set(files.loc[files["unreadable"], "source_file"])
    row_rejections = rejected[rejected["source_row"].notna() & ~rejected["source_file"].isin(unreadable)]
    # a sheet refused as a whole is an entry among the rejected but holds no row read
    sheets_refused = files["sheets_refused"] if "sheets_refused" in files else 0
    files["rows_rejected"] = files["source_file"].map(
        per_file(row_rejections["source_file"].value_counts())).fillna(0).astype("int64") - sheets_refused
    files["tco2e"] = files["source_file"].map(per_file(inventory.totals(row_column="source_file"))).fillna(0.0)
    unbalanced = files[files["rows_read"] != files["rows_accounted"] + files["rows_rejected"]]
    if not unbalanced.empty:
        raise AssertionError(f"reconciliation failed for {unbalanced.to_dict(orient='records')}")
    return files[[column for column in FILES_COLUMNS if column in files]]


def _unpriced_rows(pair_of_row: np.ndarray, lines: pd.DataFrame) -> np.ndarray:
    """Which rows have an unpriced spend line (`unpriced_spend_line`)."""
    return np.isin(pair_of_row, lines.loc[lines["factor_uom"] == NOT_PRICED, "pair_id"].to_numpy())


def _row_exclusions(option: BoundaryOption, rows: pd.DataFrame, sites: SitesRegister | None,
                    pair_of_row: np.ndarray, lines: pd.DataFrame) -> pd.Series:
    """`row_exclusions`, and unpriced spend rows outside under every option, since nothing prices
    them: an option that includes spend says so in their reason."""
    reason = row_exclusions(option, rows, sites)
    unpriced = _unpriced_rows(pair_of_row, lines)
    if unpriced.any():
        unpriced &= reason.isna().to_numpy()
    if unpriced.any():
        reason[unpriced] = ("activity " + rows["activity"][unpriced].astype(str)
                            + f" is in this boundary but {NOT_PRICED}")
    return reason


def _notes(inventory: Inventory) -> list[str]:
    year, factor_year = inventory.reporting_year, inventory.factor_year
    notes = []
    if factor_year != year.default_factor_year:
        notes.append(f"factor year {factor_year} chosen instead of the default "
                     f"{year.default_factor_year} for {year.label}")
    if factor_year == 2025 and (inventory.rows["activity"] == "water_supply").any():
        notes.append("2025 water supply factor 0.19130 kg CO2e/m3 is taken from the DESNZ flat file; "
                     "one third-party page quotes 0.17088 (the treatment factor) for supply")
    fallback = inventory.rows["market_basis"].isin([base for base in MARKET_BASES if GRID_FALLBACK in base])
    if fallback.any():
        notes.append(f"market-based Scope 2: {int(inventory.row_weights[fallback.to_numpy()].sum()):,} electricity row(s) have no contract "
                     "evidence and no residual-mix factor is set in scopes.yaml, so the location-based "
                     "grid factor was used for them (set residual_mix_kgco2e_per_kwh and residual_mix_source "
                     "under scope_2_market in scopes.yaml, or give --contracts)")
    unregistered = None if inventory.sites_given or inventory.boundary is None else missing_register_note(
        inventory.boundary)
    if unregistered:
        notes.append(unregistered)
    unpriced = int(inventory.row_weights[_unpriced_rows(inventory.pair_of_row, inventory.lines)].sum())
    if unpriced:
        notes.append(f"{unpriced:,} spend row(s) are accounted for as outside the boundary, without a figure "
                     "since no spend factor table was given (--spend-factors FILE)")
    return notes


#: A change of boundary option that moves the baseline by more than this share is reported.
BASELINE_SHIFT_THRESHOLD = 0.05


def compare_options(inventory: Inventory, options: BoundaryOptions, sites: SitesRegister | None = None,
                    baseline: Inventory | None = None,
                    threshold: float = BASELINE_SHIFT_THRESHOLD) -> pd.DataFrame:
    """One row per boundary option, in file order, on the same priced inventory [t CO2e].

    Columns: name, label, scope_1, scope_2_location, scope_2_market, scope_2_method, scope_3,
    total_tco2e (Scope 2 by the option's method), estimated_share, added_tco2e (against the option
    before), rows_outside_boundary; with a ``baseline`` inventory (priced with the same factor
    policy), baseline_tco2e, change_since_baseline and baseline_shift (the baseline under the
    option against the baseline under the default option, flagged past ``threshold``).
    """
    records = []
    default_baseline = baseline.under(options.get(None), sites).total_tco2e if baseline else None
    for option in options.options.values():
        view = inventory.under(option, sites)
        scopes = view.by_scope()
        total = view.total_tco2e
        estimated = view.totals(row_column="data_quality").get("estimated", 0.0)
        record = {"name": option.name, "label": option.label, "scope_1": scopes["scope_1"],
                  "scope_2_location": scopes["scope_2_location"], "scope_2_market": scopes["scope_2_market"],
                  "scope_2_method": option.scope_2_method, "scope_3": scopes["scope_3"],
                  "total_tco2e": total, "estimated_share": float(estimated / total) if total else 0.0,
                  "rows_outside_boundary": view.rows_outside_boundary}
        if baseline is not None:
            base = baseline.under(option, sites).total_tco2e
            shift = base / default_baseline - 1 if default_baseline else 0.0
            record.update({"baseline_year": baseline.reporting_year.label, "baseline_tco2e": base,
                           "change_since_baseline": total / base - 1 if base else None,
                           "baseline_shift": shift, "baseline_shift_flagged": abs(shift) > threshold})
        records.append(record)
    table = pd.DataFrame(records)
    table.insert(8, "added_tco2e", table["total_tco2e"].diff().fillna(table["total_tco2e"]))
    return table


def split_by_year(activity: ActivityData) -> dict[ReportingYear, ActivityData]:
    """Activity rows grouped by financial year: a row goes to every year its period touches (a bill
    from March to April to both; each year then counts its share of the days).

    Rows rejected on reading are not in any year: they stay in ``activity.rejected``.
    """
    def financial_year(dates: pd.Series) -> np.ndarray:
        return (dates.dt.year - (dates.dt.month < 4)).to_numpy()

    first_years = financial_year(activity.rows["period_start"])
    last_years = financial_year(activity.rows["period_end"])
    by_year = {}
    empty_rejected = activity.rejected.iloc[0:0]
    for start_year in range(int(first_years.min(initial=0)), int(last_years.max(initial=-1)) + 1):
        touches = (first_years <= start_year) & (last_years >= start_year)
        if not touches.any():
            continue
        rows = activity.rows[touches].reset_index(drop=True)
        counts = rows["source_file"].astype(str).value_counts()
        files = pd.DataFrame({"source_file": counts.index, "rows_read": counts.to_numpy(),
                              "blank_rows": 0, "unreadable": False})
        if "sha256" in activity.files:
            files["sha256"] = files["source_file"].map(activity.files.set_index("source_file")["sha256"])
        by_year[ReportingYear(start_year)] = ActivityData(rows=rows, rejected=empty_rejected, files=files)
    return by_year


