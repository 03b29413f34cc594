"""Trajectory: where the council stands against its net zero target, year by year.

Pathways run from the baseline year's emissions to the target year (default 2030/31):

* ``linear``: a straight line from the baseline to the residual allowed in the target year
  (default zero).
* ``percent:R``: a constant R% cut of the previous year's pathway value each year (the Tyndall Centre
  carbon budget style; R = 13 is typical of those budgets).
* ``sbti``: the SBTi absolute contraction approach, a linear cut of 4.2% of base-year emissions each
  year (SBTi Corporate Near-Term Criteria, 1.5 C pathway).

The carbon budget of a pathway is its cumulative emissions from the baseline to the target year,
both included. Gross emissions, removals and offsets are kept apart; net = gross - removals -
offsets, derived, never an input.

The baseline is restated like-for-like on the latest year's factor table (`baseline_restatement`),
as the base-year recalculation policy of the GHG Protocol Corporate Standard (chapter 5) asks: the
same baseline rows priced as the latest year is priced. DESNZ methodology changes (the landfill
factor for commercial and industrial waste rose from 99.76 kg CO2e/t in 2019 to 520.33 in 2023;
homeworking is published only from 2022) then show as a change of the baseline, and the output
calls for a recalculation when the change passes the significance threshold of ``scopes.yaml``.

The year-on-year split into an activity effect and a factor effect uses, per activity and factor
unit, quantity Q [factor unit] and implied factor F = E / Q [t CO2e per unit]:
activity effect = (Q1 - Q0) x (F0 + F1) / 2 and factor effect = (F1 - F0) x (Q0 + Q1) / 2, which add
up exactly to E1 - E0 (the symmetric, Shapley split of a product).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sefton_carbon.accounting.boundary import load_boundary_options
from sefton_carbon.accounting.inventory import Inventory
from sefton_carbon.engines.pipeline import all_rejected, compute_inventories, restated_inventory
from sefton_carbon.errors import DataError, UsageError
from sefton_carbon.io.spreadsheets import read_register
from sefton_carbon.years import ReportingYear

#: SBTi absolute contraction: 4.2% of base-year emissions a year (1.5 C-aligned minimum ambition).
SBTI_ANNUAL_REDUCTION = 0.042
DEFAULT_TARGET = ReportingYear(2030)
#: The largest annual total accepted [t CO2e]: a billion tonnes, about twice the UK's territorial
#: emissions; anything larger is a typing error, and sums of such numbers overflow to infinity.
MAX_ANNUAL_TCO2E = 1e9
#: Years of recent history used for the trend (the compound rate between the latest year and the
#: year this many years before it, or the earliest year available).
TREND_YEARS = 3
#: The first factor year on the AR5 GWP basis (DESNZ 2023 factors onward).
FIRST_AR5_FACTOR_YEAR = 2023


@dataclass(frozen=True)
class Pathway:
    """A named pathway: ``linear``, ``percent`` with a rate [%], or ``sbti``."""

    kind: str
    rate_pct: float | None = None

    @classmethod
    def parse(cls, text: str) -> Pathway:
        text = text.strip().lower()
        if text in ("linear", "sbti"):
            return cls(text)
        match = re.fullmatch(r"percent:(\d+(?:\.\d+)?)", text)
        if match and 0 < float(match.group(1)) < 100:
            return cls("percent", float(match.group(1)))
        raise UsageError(f"pathway '{text}' is not one of linear, percent:R (0 < R < 100, e.g. percent:13) "
                         "or sbti")

    @property
    def name(self) -> str:
        return f"percent:{self.rate_pct:g}" if self.kind == "percent" else self.kind

    @property
    def description(self) -> str:
        if self.kind == "linear":
            return "straight line from the baseline to the residual in the target year"
        if self.kind == "percent":
            return f"constant {self.rate_pct:g}% cut each year from the baseline"
        return "SBTi absolute contraction: 4.2% of baseline emissions each year"

    def values(self, baseline_tco2e: float, years: int, residual_tco2e: float = 0.0) -> np.ndarray:
        """Pathway emissions [t CO2e] for the baseline year and the ``years`` after it."""
        steps = np.arange(years + 1, dtype=float)
        if self.kind == "linear":
            return baseline_tco2e - (baseline_tco2e - residual_tco2e) * steps / years if years else \
                np.array([baseline_tco2e])
        if self.kind == "percent":
            return baseline_tco2e * (1 - self.rate_pct / 100) ** steps
        return np.maximum(baseline_tco2e * (1 - SBTI_ANNUAL_REDUCTION * steps), 0.0)


@dataclass
class Trajectory:
    """The trajectory table and what follows from the latest year."""

    baseline_year: ReportingYear
    target_year: ReportingYear
    pathway: Pathway
    residual_tco2e: float
    years: pd.DataFrame
    latest: dict
    budget_tco2e: float
    notes: list[str] = field(default_factory=list)
    split: pd.DataFrame | None = None
    #: The baseline restated on the latest year's factors (`baseline_restatement`), when computed
    #: from returns (a totals file has no rows to restate).
    restatement: dict | None = None

    def summary(self) -> dict:
        """Plain data (the ``--format json`` output)."""
        def clean(value):
            if value is None or (isinstance(value, float) and math.isnan(value)):
                return None
            return value.item() if hasattr(value, "item") else value

        records = [{key: clean(value) for key, value in record.items()}
                   for record in self.years.to_dict(orient="records")]
        return {
            "baseline_year": self.baseline_year.label, "target_year": self.target_year.label,
            "pathway": self.pathway.name, "pathway_description": self.pathway.description,
            "residual_tco2e": self.residual_tco2e, "years": records,
            "budget_tco2e": self.budget_tco2e,
            "budget_used_tco2e": self.latest["budget_used_tco2e"],
            "budget_remaining_tco2e": self.latest["budget_remaining_tco2e"],
            "required_annual_reduction_pct": self.latest["required_annual_reduction_pct"],
            "latest": {key: clean(value) for key, value in self.latest.items()},
            "activity_factor_split": [] if self.split is None else [
                {key: clean(value) for key, value in record.items()}
                for record in self.split.to_dict(orient="records")],
            "baseline_restatement": self.restatement,
            "notes": self.notes,
        }


def _year_range(first: ReportingYear, last: ReportingYear) -> list[ReportingYear]:
    return [ReportingYear(start) for start in range(first.start_year, last.start_year + 1)]


def compute_trajectory(actuals: pd.DataFrame, baseline: str | ReportingYear,
                       target: str | ReportingYear = DEFAULT_TARGET, pathway: str | Pathway = "linear",
                       residual_tco2e: float = 0.0, factor_years: dict[str, int] | None = None,
                       split: pd.DataFrame | None = None) -> Trajectory:
    """Compare actual emissions with a pathway from the baseline to the target year.

    ``actuals``: one row per reporting year: ``year`` (``2019/20``), ``tco2e`` (gross), and
    optionally ``removals_tco2e`` and ``offsets_tco2e``. ``factor_years``: the factor year behind
    each actual year, to note a change of GWP basis. ``split``: the activity/factor split table of
    `activity_factor_split`, passed through for reporting.
    """
    baseline, target = ReportingYear.parse(baseline), ReportingYear.parse(target)
    pathway = Pathway.parse(pathway) if isinstance(pathway, str) else pathway
    if target <= baseline:
        raise UsageError(f"target year {target.label} must come after the baseline {baseline.label}")
    if not math.isfinite(residual_tco2e) or not 0 <= residual_tco2e <= MAX_ANNUAL_TCO2E:
        raise UsageError(f"the residual allowed in the target year must be a number of tonnes from 0 to "
                         f"{MAX_ANNUAL_TCO2E:,.0f}")
    frame = actuals.copy()
    frame["year"] = [ReportingYear.parse(year).label for year in frame["year"]]
    if frame["year"].duplicated().any():
        raise UsageError(f"year {frame.loc[frame['year'].duplicated(), 'year'].iloc[0]} is given twice")
    by_year = frame.set_index("year")
    if baseline.label not in by_year.index:
        raise UsageError(f"no emissions for the baseline year {baseline.label}; years given: "
                         f"{', '.join(by_year.index)}")
    base = float(by_year.loc[baseline.label, "tco2e"])
    years = _year_range(baseline, max(target, ReportingYear.parse(by_year.index.max())))
    horizon = target.start_year - baseline.start_year
    path = pathway.values(base, len(years) - 1, residual_tco2e)
    path[horizon + 1:] = residual_tco2e if pathway.kind == "linear" else path[horizon + 1:]
    table = pd.DataFrame({"year": [year.label for year in years], "pathway_tco2e": path})
    for column in ("tco2e", "removals_tco2e", "offsets_tco2e"):
        table[column] = table["year"].map(by_year[column]) if column in by_year else \
            np.where(table["year"].isin(by_year.index), 0.0, np.nan)
    table = table.rename(columns={"tco2e": "actual_tco2e"})
    table["net_tco2e"] = table["actual_tco2e"] - table["removals_tco2e"] - table["offsets_tco2e"]
    table["gap_tco2e"] = table["actual_tco2e"] - table["pathway_tco2e"]
    table["on_track"] = np.where(table["actual_tco2e"].isna(), None, table["gap_tco2e"] <= 1e-9)
    table["cumulative_actual_tco2e"] = table["actual_tco2e"].cumsum().where(table["actual_tco2e"].notna())
    table["cumulative_pathway_tco2e"] = table["pathway_tco2e"].cumsum()
    in_budget = table.index <= horizon
    budget = float(table.loc[in_budget, "pathway_tco2e"].sum())
    goal = max(float(path[horizon]), residual_tco2e)
    latest = _from_latest(table[table["actual_tco2e"].notna()], target, goal, budget)
    latest["goal_tco2e"] = goal
    latest["reaches_net_zero"] = bool(goal <= residual_tco2e + 1e-9)
    notes = _gwp_notes(factor_years or {})
    if pathway.kind != "linear" and path[horizon] > residual_tco2e + 1e-9:
        notes.append(f"the {pathway.name} pathway reaches {path[horizon]:,.0f} t CO2e in "
                     f"{target.label}, not the residual of {residual_tco2e:,.0f}: the rest needs removals "
                     "or offsets, or a steeper cut")
    return Trajectory(baseline, target, pathway, residual_tco2e,
                      table[["year", "actual_tco2e", "pathway_tco2e", "gap_tco2e", "on_track",
                             "cumulative_actual_tco2e", "cumulative_pathway_tco2e", "removals_tco2e",
                             "offsets_tco2e", "net_tco2e"]],
                      latest, budget, notes, split)


def _from_latest(actual: pd.DataFrame, target: ReportingYear, residual: float, budget: float) -> dict:
    """What it takes from the latest actual year to reach ``residual`` [t CO2e] in the target year
    (the pathway's value there: the residual for a pathway that reaches net zero), and where the
    trend leads."""
    latest_row = actual.iloc[-1]
    latest_year = ReportingYear.parse(latest_row["year"])
    latest = float(latest_row["actual_tco2e"])
    remaining_years = target.start_year - latest_year.start_year
    used = float(actual["actual_tco2e"].sum())
    result = {"latest_year": latest_year.label, "latest_tco2e": latest,
              "years_to_target": remaining_years, "budget_used_tco2e": used,
              "budget_remaining_tco2e": budget - used}
    if remaining_years > 0:
        cut = (latest - residual) / remaining_years
        result["required_annual_cut_tco2e"] = cut
        result["required_annual_reduction_pct"] = 100 * cut / latest if latest else 0.0
        result["required_compound_reduction_pct"] = (
            100 * (1 - (residual / latest) ** (1 / remaining_years)) if residual > 0 and latest else None)
    else:
        result.update(required_annual_cut_tco2e=0.0, required_annual_reduction_pct=0.0,
                      required_compound_reduction_pct=None)
    span = actual.tail(TREND_YEARS + 1)
    first = span.iloc[0]
    first_year = ReportingYear.parse(first["year"])
    gap = latest_year.start_year - first_year.start_year
    if gap > 0 and first["actual_tco2e"] > 0 and latest > 0:
        rate = (latest / float(first["actual_tco2e"])) ** (1 / gap) - 1
        expected = latest * (1 + rate) ** max(remaining_years, 0)
        result.update({
            "trend": f"compound annual rate from {first_year.label} to {latest_year.label}",
            "trend_annual_change_pct": 100 * rate,
            "expected_target_year_tco2e": expected,
            "offsets_or_removals_needed_tco2e": max(expected - residual, 0.0),
            "net_zero_year_on_trend": _year_reaching(latest, rate, latest_year, residual),
        })
    else:
        result.update({"trend": "not enough years for a trend", "trend_annual_change_pct": None,
                       "expected_target_year_tco2e": None, "offsets_or_removals_needed_tco2e": None,
                       "net_zero_year_on_trend": None})
    return result


#: A compound trend never reaches zero: net zero on the trend means falling to this share of the
#: latest year's emissions (the residual that offsets or removals would still have to cover).
NET_ZERO_SHARE = 0.05


def _year_reaching(latest: float, rate: float, latest_year: ReportingYear, residual: float) -> str | None:
    """The first year the compound trend falls to the residual (or 5% of the latest year when the
    residual is zero); None when emissions are not falling."""
    if rate >= 0:
        return None
    floor = residual if residual > 0 else NET_ZERO_SHARE * latest
    years = math.ceil(math.log(floor / latest) / math.log(1 + rate)) if floor < latest else 0
    return ReportingYear(latest_year.start_year + years).label


def _gwp_notes(factor_years: dict[str, int]) -> list[str]:
    ordered = sorted(factor_years.items())
    notes = []
    for (year_before, factor_before), (year, factor) in zip(ordered, ordered[1:]):
        if factor_before < FIRST_AR5_FACTOR_YEAR <= factor:
            notes.append(f"{year_before} to {year} crosses the change of GWP basis from IPCC AR4 (factors "
                         f"to 2022) to AR5 (from 2023): part of the change is the new GWPs (R410A, for "
                         "instance, 2088 -> 1924)")
    return notes


def activity_factor_split(quantities: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Split each year-on-year change by activity into an activity and a factor effect [t CO2e].

    ``quantities``: per year label, a table with ``activity``, ``factor_unit``, ``quantity`` [factor
    unit] and ``tco2e``. Returns one row per consecutive pair of years and activity: ``from_year``,
    ``to_year``, ``activity``, ``factor_unit``, ``tco2e_from``, ``tco2e_to``, ``change_tco2e``,
    ``activity_effect_tco2e``, ``factor_effect_tco2e``.
    """
    labels = sorted(quantities)
    parts = []
    for before, after in zip(labels, labels[1:]):
        joined = quantities[before].merge(quantities[after], on=["activity", "factor_unit"], how="outer",
                                          suffixes=("_0", "_1")).fillna(0.0)
        q0, q1, e0, e1 = (joined[column].to_numpy() for column in ("quantity_0", "quantity_1", "tco2e_0", "tco2e_1"))
        with np.errstate(divide="ignore", invalid="ignore"):
            f0 = np.where(q0 > 0, e0 / np.where(q0 > 0, q0, 1), 0.0)
            f1 = np.where(q1 > 0, e1 / np.where(q1 > 0, q1, 1), 0.0)
        # An activity that starts or stops has no factor on one side: all of its change is activity.
        f0 = np.where(q0 > 0, f0, f1)
        f1 = np.where(q1 > 0, f1, f0)
        parts.append(pd.DataFrame({
            "from_year": before, "to_year": after, "activity": joined["activity"],
            "factor_unit": joined["factor_unit"], "tco2e_from": e0, "tco2e_to": e1, "change_tco2e": e1 - e0,
            "activity_effect_tco2e": (q1 - q0) * (f0 + f1) / 2,
            "factor_effect_tco2e": (f1 - f0) * (q0 + q1) / 2}))
    columns = ["from_year", "to_year", "activity", "factor_unit", "tco2e_from", "tco2e_to", "change_tco2e",
               "activity_effect_tco2e", "factor_effect_tco2e"]
    return pd.concat(parts, ignore_index=True)[columns] if parts else pd.DataFrame(columns=columns)


def read_totals(path) -> pd.DataFrame:
    """A plain table of annual totals: CSV columns ``year,tco2e`` (years written ``2019/20``), and
    optionally ``removals_tco2e`` and ``offsets_tco2e``."""
    register = read_register(path, ["year", "tco2e"], "totals file", "removals_tco2e, offsets_tco2e")
    numeric = [column for column in ("tco2e", "removals_tco2e", "offsets_tco2e")
               if not register or column in register[0][1]]
    records = []
    for number, record in register:
        try:
            year = ReportingYear.parse(record["year"]).label
        except UsageError:
            raise DataError(f"year '{record['year']}' is not a financial year like 2019/20", file=str(path),
                            row=number, column="year") from None
        entry = {"year": year}
        for column in numeric:
            try:
                value = float(record.get(column, "") or 0.0) if column != "tco2e" else float(record[column])
            except ValueError:
                raise DataError(f"{column} '{record.get(column, '')}' is not a number", file=str(path),
                                row=number, column=column) from None
            if not math.isfinite(value) or not 0 <= value <= MAX_ANNUAL_TCO2E:
                raise DataError(f"{column} must be a number of tonnes from 0 to {MAX_ANNUAL_TCO2E:,.0f}",
                                file=str(path), row=number, column=column)
            entry[column] = value
        records.append(entry)
    if not records:
        raise DataError("has no years", file=str(path))
    return pd.DataFrame(records)


def baseline_restatement(reported: Inventory, repriced: Inventory, significance_threshold_pct: float,
                         keep_reported: tuple[str, ...] = ("electricity",)) -> dict:
    """The baseline as reported beside the baseline restated [t CO2e], per activity, and whether the
    change calls for a recalculation (more than ``significance_threshold_pct`` of the baseline as
    reported). ``repriced``: the baseline's rows priced on the latest year's factors; the restated
    baseline takes its figure for every activity but those of ``keep_reported``, which keep the
    figure as reported."""
    before, after = reported.by("activity"), repriced.by("activity")
    restated = {activity: before.get(activity, 0.0) if activity in keep_reported else after.get(activity, 0.0)
                for activity in sorted(set(before) | set(after))}
    changes = sorted(({"activity": activity, "reported_tco2e": before.get(activity, 0.0),
                       "restated_tco2e": value, "change_tco2e": value - before.get(activity, 0.0)}
                      for activity, value in restated.items()), key=lambda change: -abs(change["change_tco2e"]))
    change = sum(entry["change_tco2e"] for entry in changes)
    change_pct = 100 * change / reported.total_tco2e if reported.total_tco2e else None
    return {"baseline_year": reported.reporting_year.label, "reported_factor_year": reported.factor_year,
            "restated_factor_year": repriced.factor_year, "reported_tco2e": reported.total_tco2e,
            "restated_tco2e": reported.total_tco2e + change, "change_tco2e": change, "change_pct": change_pct,
            "significance_threshold_pct": significance_threshold_pct, "kept_as_reported": list(keep_reported),
            "recalculate": change_pct is not None and abs(change_pct) > significance_threshold_pct,
            "rows_accounted_reported": reported.rows_accounted, "rows_accounted_restated": repriced.rows_accounted,
            "by_activity": [entry for entry in changes if entry["change_tco2e"] != 0]}


def _restatement_note(restatement: dict) -> str:
    """One sentence on the restated baseline, naming the largest changes."""
    largest = ", ".join(f"{entry['activity']} {entry['change_tco2e']:+,.0f}"
                        for entry in restatement["by_activity"][:3])
    share = ("" if restatement["change_pct"] is None else f" ({restatement['change_pct']:+.1f}%)")
    verdict = ("more than the significance threshold of {0:g}%: recalculate the baseline (GHG Protocol "
               "Corporate Standard, chapter 5)" if restatement["recalculate"] else
               "within the significance threshold of {0:g}%: the baseline stands")
    kept = ", ".join(restatement["kept_as_reported"])
    return (f"baseline {restatement['baseline_year']} restated like-for-like on the "
            f"{restatement['restated_factor_year']} factors" + (f" ({kept} as reported)" if kept else "")
            + f": {restatement['restated_tco2e']:,.0f} t CO2e "
            f"against {restatement['reported_tco2e']:,.0f} as reported on the {restatement['reported_factor_year']} "
            f"factors{share}, " + verdict.format(restatement["significance_threshold_pct"])
            + (f"; largest changes: {largest}" if largest else ""))


def trajectory_of(inventories: dict, baseline: str | ReportingYear, target: str | ReportingYear = DEFAULT_TARGET,
                  pathway: str | Pathway = "linear", residual_tco2e: float = 0.0,
                  restated_baseline: Inventory | None = None, significance_threshold_pct: float = 5.0,
                  keep_reported: tuple[str, ...] = ("electricity",)) -> Trajectory:
    """The trajectory of inventories computed under one boundary option and factor policy; with
    ``restated_baseline`` (the baseline's rows priced on the latest year's factors), the baseline
    restatement and its note (`baseline_restatement`)."""
    actuals = pd.DataFrame({"year": [year.label for year in inventories],
                            "tco2e": [inventory.total_tco2e for inventory in inventories.values()]})
    factor_years = {year.label: inventory.factor_year for year, inventory in inventories.items()}
    split = activity_factor_split({year.label: inventory.activity_quantities()
                                   for year, inventory in inventories.items()})
    trajectory = compute_trajectory(actuals, baseline, target, pathway, residual_tco2e, factor_years, split)
    if restated_baseline is not None:
        trajectory.restatement = baseline_restatement(inventories[trajectory.baseline_year], restated_baseline,
                                                      significance_threshold_pct, keep_reported)
        trajectory.notes.append(_restatement_note(trajectory.restatement))
    return trajectory


def restated_trajectory(inventories: dict, baseline: str | ReportingYear,
                        target: str | ReportingYear = DEFAULT_TARGET, pathway: str | Pathway = "linear",
                        residual_tco2e: float = 0.0, **pricing) -> Trajectory:
    """`trajectory_of` with the baseline restated on the latest year's factor year, priced with the
    `PricingInputs` given as keyword arguments, under the threshold of their ``scopes_file``."""
    baseline = ReportingYear.parse(baseline)
    restated = None
    if baseline in inventories:
        restated = restated_inventory(inventories[baseline], inventories[max(inventories)].factor_year, **pricing)
    policy = load_boundary_options(pricing.get("scopes_file"))
    return trajectory_of(inventories, baseline, target, pathway, residual_tco2e, restated,
                         policy.significance_threshold_pct, policy.keep_reported)


def trajectory_from_returns(paths, baseline: str | ReportingYear, target: str | ReportingYear = DEFAULT_TARGET,
                            pathway: str | Pathway = "linear", residual_tco2e: float = 0.0,
                            **pricing) -> tuple[Trajectory, pd.DataFrame]:
    """The trajectory of every year found in the returns (one folder per year, or files covering
    several years), each priced with the `PricingInputs` given as keyword arguments, with the
    baseline restated on the latest year's factors; and every row rejected, on reading or by a
    year's pricing (the ``trajectory`` command's library twin)."""
    inventories, reading_rejected = compute_inventories(paths, **pricing)
    return (restated_trajectory(inventories, baseline, target, pathway, residual_tco2e, **pricing),
            all_rejected(inventories, reading_rejected))
