"""Departmental returns: checking them, seeing what is missing, and collecting a year.

* `validate_returns` reports every problem in one pass: errors (the row cannot be counted: the
  reasons of `read_activity` and of pricing) and warnings (the row counts, but deserves a look:
  estimated data, a quantity of zero, an unusual period length, a site missing from the register,
  a site's use more than five times or less than a fifth of the previous year's).
* `coverage` says which departments and sites returned which activities for which months of the
  year, and which months or whole returns are missing.
* `scoping_register` gathers the Scoping sheets of the returned workbooks: every source the
  departments declared, which boundary options would include it, and whether data for it arrived.
* `collect` does all of this for a folder of returns, read and priced once.

Both price rows with the `PricingInputs` (factor tables, factor year, boundary option, registers),
the one bundle of inputs that every command and library function that prices activity takes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sefton_carbon.accounting.boundary import BoundaryOptions, activity_matches, load_boundary_options
from sefton_carbon.accounting.catalogue import load_catalogue
from sefton_carbon.accounting.contracts import Contracts, read_contracts
from sefton_carbon.accounting.factors import FactorLibrary, load_factors
from sefton_carbon.accounting.ghg_protocol import SOURCE_TYPES
from sefton_carbon.accounting.inventory import Inventory, price_activity, split_by_year
from sefton_carbon.accounting.rows import NAME_WARNING, SUPPLY_WARNING, ActivityData
from sefton_carbon.accounting.sites import SitesRegister, read_sites
from sefton_carbon.accounting.spend import SpendFactors, read_spend_factors
from sefton_carbon.accounting.units import conversion
from sefton_carbon.returns.activity import expand_paths, read_activity
from sefton_carbon.returns.template import read_scoping
from sefton_carbon.years import ReportingYear

PROBLEM_COLUMNS = ["severity", "source_file", "source_sheet", "source_row", "column", "value", "message"]
#: A site's annual use outside this ratio to its previous year's is flagged (issue: 5x or a fifth).
CHANGE_RATIO = 5.0
#: Periods shorter or longer than this [days] are flagged as unusual (bills are monthly to annual).
USUAL_PERIOD_DAYS = (25, 370)
STRICT_REASON = "site is not in the sites register (--strict)"


@dataclass
class Validation:
    """Every problem found: ``problems`` has one row per problem (`PROBLEM_COLUMNS`)."""

    problems: pd.DataFrame
    rows_read: int

    @property
    def errors(self) -> pd.DataFrame:
        return self.problems[self.problems["severity"] == "error"]

    @property
    def warnings(self) -> pd.DataFrame:
        return self.problems[self.problems["severity"] == "warning"]

    @property
    def rows_with_errors(self) -> int:
        errors = self.errors
        return int(errors[errors["source_row"].notna()][["source_file", "source_sheet", "source_row"]]
                   .drop_duplicates().shape[0])

    def summary(self) -> dict:
        return {"rows_read": self.rows_read, "rows_with_errors": self.rows_with_errors,
                "errors": len(self.errors), "warnings": len(self.warnings),
                "problems": self.problems.astype(object).where(self.problems.notna(), None)
                .to_dict(orient="records")}


def _problems(frame: pd.DataFrame, severity: str) -> pd.DataFrame:
    frame = frame.rename(columns={"reason": "message"})
    frame.insert(0, "severity", severity)
    return frame[PROBLEM_COLUMNS]


def _row_warnings(rows: pd.DataFrame, mask: np.ndarray, column: str, values, message: str) -> pd.DataFrame:
    selected = rows[mask]
    return pd.DataFrame({"severity": "warning", "source_file": selected["source_file"].astype(str),
                         "source_sheet": selected["source_sheet"].astype(str),
                         "source_row": selected["source_row"], "column": column,
                         "value": np.asarray(values(selected), dtype=object), "message": message})[PROBLEM_COLUMNS]


def _annual_use(rows: pd.DataFrame) -> pd.DataFrame:
    """Quantity per site and activity [the activity's first factor unit], over the rows given."""
    catalogue = load_catalogue()
    frame = rows[rows["site"].astype(str) != ""][["site", "activity", "unit", "quantity"]].astype(
        {"site": str, "activity": str, "unit": str})
    grouped = frame.groupby(["site", "activity", "unit"], as_index=False)["quantity"].sum()
    target = [catalogue.activities[activity].units[0] if activity in catalogue.activities else unit
              for activity, unit in zip(grouped["activity"], grouped["unit"])]
    grouped["in_unit"] = target
    grouped["quantity"] = [quantity * conversion(unit, goal).multiplier
                           for quantity, unit, goal in zip(grouped["quantity"], grouped["unit"], target)]
    return grouped.groupby(["site", "activity", "in_unit"], as_index=False)["quantity"].sum()


def _change_warnings(rows: pd.DataFrame, previous: pd.DataFrame) -> pd.DataFrame:
    now, before = _annual_use(rows), _annual_use(previous)
    joined = now.merge(before, on=["site", "activity", "in_unit"], suffixes=("", "_previous"))
    ratio = joined["quantity"] / joined["quantity_previous"].where(joined["quantity_previous"] > 0)
    flagged = joined[(ratio > CHANGE_RATIO) | (ratio < 1 / CHANGE_RATIO)]
    ratio = ratio[flagged.index]
    return pd.DataFrame({
        "severity": "warning", "source_file": "", "source_sheet": "", "source_row": pd.NA,
        "column": "quantity", "value": flagged["site"] + " / " + flagged["activity"],
        "message": [f"{site} {activity}: {now_quantity:,.0f} {unit} this year is {change:.1f} times last "
                    f"year's {before_quantity:,.0f} {unit}: check for a missing or doubled bill"
                    for site, activity, now_quantity, unit, change, before_quantity in zip(
                        flagged["site"], flagged["activity"], flagged["quantity"], flagged["in_unit"], ratio,
                        flagged["quantity_previous"])]})[PROBLEM_COLUMNS]


def row_warnings(rows: pd.DataFrame, sites: SitesRegister | None = None,
                 previous: pd.DataFrame | None = None) -> pd.DataFrame:
    """Warnings on accepted rows (see the module docstring)."""
    days = ((rows["period_end"] - rows["period_start"]).dt.days + 1).to_numpy()
    parts = [
        _row_warnings(rows, (rows["data_quality"] == "estimated").to_numpy(), "data_quality",
                      lambda selected: ["estimated"] * len(selected),
                      "estimated value: replace it with a meter reading or invoice when there is one"),
        _row_warnings(rows, (rows["quantity"] == 0).to_numpy(), "quantity",
                      lambda selected: ["0"] * len(selected), "quantity is zero: check the row is needed"),
        _row_warnings(rows, (days < USUAL_PERIOD_DAYS[0]) | (days > USUAL_PERIOD_DAYS[1]), "period_end",
                      lambda selected: ((selected["period_end"] - selected["period_start"]).dt.days + 1)
                      .astype(str) + " days",
                      "period length is unusual (bills are usually monthly, quarterly or annual)"),
    ]
    for warning_column, column in ((SUPPLY_WARNING, "meter"), (NAME_WARNING, "department")):
        if warning_column in rows:
            warned = (rows[warning_column] != "").to_numpy()
            parts.append(_row_warnings(rows, warned, column, lambda selected, column=column:
                                       selected[column].astype(str), "")
                         .assign(message=rows.loc[warned, warning_column].astype(str).to_numpy()))
    if sites is not None:
        known = set(sites.table["site"])
        unknown = (~rows["site"].astype(str).isin(known) & (rows["site"].astype(str) != "")).to_numpy()
        parts.append(_row_warnings(rows, unknown, "site", lambda selected: selected["site"].astype(str),
                                   "site is not in the sites register: add it, or correct the name"))
    if previous is not None and len(previous):
        parts.append(_change_warnings(rows, previous))
    return pd.concat(parts, ignore_index=True)


@dataclass(frozen=True)
class PricingInputs:
    """What pricing needs besides the returns, named as every command and library function names it.

    ``factors_dir``: tables from `import_flat_file`, taking precedence over the bundled ones for
    their years; ``factor_year``: the publication year of the factors (default: the year the
    reporting year starts); ``scope_option`` and ``scopes_file``: the boundary option and its file
    (default: the bundled ``scopes.yaml`` and its default option); ``sites``: the sites register;
    ``contracts``: energy contracts (market-based Scope 2); ``spend_factors``: a spend factor table.
    """

    factors_dir: str | Path | None = None
    factor_year: int | None = None
    scope_option: str | None = None
    scopes_file: str | Path | None = None
    sites: str | Path | None = None
    contracts: str | Path | None = None
    spend_factors: str | Path | None = None

    def arguments(self) -> dict:
        """The inputs as keyword arguments of the library functions that price activity."""
        return asdict(self)

    def load(self) -> Pricing:
        """Read the factor library and the registers once; an unknown option fails here, before
        any return is read."""
        options = load_boundary_options(self.scopes_file)
        options.get(self.scope_option)
        return Pricing(factors=load_factors(self.factors_dir), factor_year=self.factor_year,
                       scope_option=self.scope_option, boundary_options=options,
                       sites=read_sites(self.sites) if self.sites else None,
                       contracts=read_contracts(self.contracts) if self.contracts else None,
                       spend=read_spend_factors(self.spend_factors) if self.spend_factors else None)


@dataclass(frozen=True)
class Pricing:
    """`PricingInputs` read: the factor library, the boundary options and the registers."""

    factors: FactorLibrary
    factor_year: int | None
    scope_option: str | None
    boundary_options: BoundaryOptions
    sites: SitesRegister | None
    contracts: Contracts | None
    spend: SpendFactors | None

    def price(self, activity: ActivityData, year: str | ReportingYear,
              factor_year: int | None = None) -> Inventory:
        """`price_activity` with these inputs (``factor_year`` overrides the inputs' own)."""
        return price_activity(activity, year, factor_year or self.factor_year, self.factors,
                              scope_option=self.scope_option, boundary_options=self.boundary_options,
                              sites=self.sites, contracts=self.contracts, spend=self.spend)


def validate_returns(paths, year: str | ReportingYear | None = None, sites: str | Path | None = None,
                     previous: list | None = None, strict: bool = False,
                     spend_factors: str | Path | None = None, *, factors_dir: str | Path | None = None,
                     factor_year: int | None = None, scope_option: str | None = None,
                     scopes_file: str | Path | None = None, contracts: str | Path | None = None) -> Validation:
    """Check returns in one pass (see the module docstring). With ``year``, rows outside it are
    errors; without, each row is checked against the year its period falls in (priced on that
    year's factors unless ``factor_year`` is given). ``previous``: the previous year's returns, for
    the five-times check. ``strict``: a site missing from the register is an error. The other
    arguments are the `PricingInputs`, so that a row is checked as the inventory would price it."""
    pricing = PricingInputs(factors_dir=factors_dir, factor_year=factor_year, scope_option=scope_option,
                            scopes_file=scopes_file, sites=sites, contracts=contracts,
                            spend_factors=spend_factors).load()
    activity = read_activity(paths)
    if year is not None:
        errors = [pricing.price(activity, year).rejected]
    else:
        errors = [activity.rejected]
        for data_year, data in split_by_year(activity).items():
            wanted = factor_year or data_year.default_factor_year
            if wanted in pricing.factors.years:
                errors.append(pricing.price(data, data_year).rejected)
            else:
                errors.append(pd.DataFrame({
                    "source_file": data.rows["source_file"].astype(str), "source_sheet": data.rows["source_sheet"].astype(str),
                    "source_row": data.rows["source_row"], "column": "period_start",
                    "value": data.rows["period_start"].dt.strftime("%Y-%m-%d"),
                    "reason": f"no factor table for {wanted} ({data_year.label}): import that "
                              "year's DESNZ flat file with 'sefton-carbon factors import'"}))
    previous_rows = read_activity(previous).rows if previous else None
    return _validation(activity, errors, pricing.sites, previous_rows, strict)


def _validation(activity: ActivityData, errors: list[pd.DataFrame], register: SitesRegister | None,
                previous_rows: pd.DataFrame | None, strict: bool) -> Validation:
    """The errors found by reading and pricing, with the warnings on the accepted rows."""
    warnings = row_warnings(activity.rows, register, previous_rows)
    if strict and register is not None:
        missing_site = warnings["message"].str.startswith("site is not in the sites register")
        warnings.loc[missing_site, "severity"] = "error"
    problems = pd.concat([_problems(pd.concat(errors, ignore_index=True), "error"), warnings], ignore_index=True)
    problems = problems.sort_values(["source_file", "source_sheet", "source_row", "severity"], kind="stable",
                                    na_position="last").reset_index(drop=True)
    return Validation(problems=problems, rows_read=int(activity.files["rows_read"].sum()))


def coverage(rows: pd.DataFrame, year: ReportingYear, sites: SitesRegister | None = None) -> pd.DataFrame:
    """Months of the reporting year covered per department, site and activity, and what is missing.

    Columns: department, site, activity, months_covered (0-12), months_missing (``May 2023, ...``),
    complete. Sites in the register with no rows at all appear with activity ``(no return)``.
    """
    first_month = year.start_year * 12 + 3  # April, counting months from year 0
    start = rows["period_start"]
    end = rows["period_end"]
    start_index = np.clip(start.dt.year.to_numpy() * 12 + start.dt.month.to_numpy() - 1 - first_month, 0, 11)
    end_index = np.clip(end.dt.year.to_numpy() * 12 + end.dt.month.to_numpy() - 1 - first_month, -1, 11)
    bits = np.where(end_index >= start_index,
                    (np.left_shift(1, end_index + 1) - 1) ^ (np.left_shift(1, start_index) - 1), 0)
    frame = pd.DataFrame({"department": rows["department"].astype(str), "site": rows["site"].astype(str),
                          "activity": rows["activity"].astype(str), "bits": bits})
    grouped = frame.groupby(["department", "site", "activity"], as_index=False)["bits"].agg(np.bitwise_or.reduce)
    month_names = [pd.Timestamp(year.start_year + (3 + offset) // 12, (3 + offset) % 12 + 1, 1).strftime("%b %Y")
                   for offset in range(12)]
    grouped["months_covered"] = [bin(int(value)).count("1") for value in grouped["bits"]]
    grouped["months_missing"] = [", ".join(name for offset, name in enumerate(month_names)
                                           if not int(value) >> offset & 1) for value in grouped["bits"]]
    if sites is not None:
        silent = sites.table[~sites.table["site"].isin(set(grouped["site"]))]
        grouped = pd.concat([grouped, pd.DataFrame({
            "department": silent["department"], "site": silent["site"], "activity": "(no return)",
            "bits": 0, "months_covered": 0, "months_missing": ", ".join(month_names)})], ignore_index=True)
    grouped["complete"] = grouped["months_covered"] == 12
    return grouped.drop(columns="bits").sort_values(["department", "site", "activity"]).reset_index(drop=True)


def _options_including(source_type: str, options: BoundaryOptions) -> list[str]:
    catalogue = load_catalogue()
    names = []
    for option in options.options.values():
        if source_type == "contracts_and_outsourced_services":
            included = "outsourced" not in option.exclude_site_tags
        elif source_type == "procurement_categories":
            included = (3 in option.scopes and bool({1, 2} & option.scope_3_categories)
                        and "spend:*" not in option.exclude_activities)
        else:
            included = any(
                not option.excludes_activity(name) and catalogue.activities[name].scope in option.scopes
                and (catalogue.activities[name].scope != 3
                     or catalogue.activities[name].category in option.scope_3_categories)
                for name in SOURCE_TYPES[source_type][1])
        if included:
            names.append(option.name)
    return names


def scoping_register(paths, rows: pd.DataFrame, options: BoundaryOptions | None = None) -> pd.DataFrame:
    """Every source declared in the Scoping sheets of the returns (see the module docstring)."""
    options = options or load_boundary_options()
    declared = pd.concat([read_scoping(path) for path in expand_paths(list(paths))], ignore_index=True)
    if declared.empty:
        return declared.assign(department="", included_in_options="", data_arrived="")
    departments = rows.groupby(rows["source_file"].astype(str), observed=True)["department"].first().astype(str)
    activities = rows.groupby(rows["source_file"].astype(str), observed=True)["activity"].agg(
        lambda values: set(values.astype(str)))
    declared.insert(0, "department", declared["source_file"].map(departments).fillna(""))

    def arrived(record) -> str:
        wanted = SOURCE_TYPES[record["source_type"]][1]
        sent = activities.get(record["source_file"], set())
        if not wanted:
            return "not measured as activity data"
        hit = any(activity_matches(name, activity) for name in wanted for activity in sent)
        return "yes" if hit else "no"

    declared["included_in_options"] = declared["source_type"].map(
        lambda source_type: ", ".join(_options_including(source_type, options)))
    declared["data_arrived"] = [arrived(record) for record in declared.to_dict(orient="records")]
    return declared


@dataclass
class Collection:
    """A year collected from a folder of returns."""

    inventory: Inventory
    validation: Validation
    coverage: pd.DataFrame
    scoping: pd.DataFrame


def collect(folder, year: str | ReportingYear, sites: str | Path | None = None, *,
            scope_option: str | None = None, scopes_file: str | Path | None = None,
            contracts: str | Path | None = None, spend_factors: str | Path | None = None,
            factors_dir: str | Path | None = None, factor_year: int | None = None,
            previous: list | None = None, strict: bool = False) -> Collection:
    """Validate and compute the inventory of one year from a folder of returns, with its coverage
    and scoping register, reading and pricing the folder once. Every input row ends up in the
    inventory or among the rejected rows. The keyword arguments but the last two are the
    `PricingInputs`."""
    year = ReportingYear.parse(year)
    pricing = PricingInputs(factors_dir=factors_dir, factor_year=factor_year, scope_option=scope_option,
                            scopes_file=scopes_file, sites=sites, contracts=contracts,
                            spend_factors=spend_factors).load()
    activity = read_activity(folder)
    counted = activity
    if strict and pricing.sites is not None:
        counted = _drop_unregistered_sites(activity, pricing.sites)
    inventory = pricing.price(counted, year)
    # A row refused by --strict is an error of the validation already, as a promoted warning.
    errors = inventory.rejected[inventory.rejected["reason"] != STRICT_REASON]
    previous_rows = read_activity(previous).rows if previous else None
    validation = _validation(activity, [errors], pricing.sites, previous_rows, strict)
    return Collection(inventory=inventory, validation=validation,
                      coverage=coverage(inventory.rows, year, pricing.sites),
                      scoping=scoping_register([folder], inventory.rows, pricing.boundary_options))


def _drop_unregistered_sites(activity: ActivityData, register: SitesRegister) -> ActivityData:
    rows = activity.rows
    unknown = (~rows["site"].astype(str).isin(set(register.table["site"])) & (rows["site"].astype(str) != ""))
    rejected = pd.DataFrame({"source_file": rows.loc[unknown, "source_file"].astype(str),
                             "source_sheet": rows.loc[unknown, "source_sheet"].astype(str),
                             "source_row": rows.loc[unknown, "source_row"], "column": "site",
                             "value": rows.loc[unknown, "site"].astype(str),
                             "reason": STRICT_REASON})
    return ActivityData(rows=rows[~unknown].reset_index(drop=True),
                        rejected=pd.concat([activity.rejected, rejected], ignore_index=True), files=activity.files)


