"""Scenarios: avoid, reduce, switch, supply, offset and remove, with what they cost and save.

A projection starts from the latest actual year's inventory, split into segments (activity,
department, site and site tags) with their quantity [the factor unit of the activity] and implied
factor [t CO2e per unit, all lines counted by the boundary: direct, T&D, well-to-tank]. Business as
usual holds each quantity flat, or grows it by ``growth_pct`` a year; factors stay at the latest
year's, except electricity, which follows ``electricity_factor_projection`` when one is given
(scaling all its lines by the grid factor's change; see below).

Measures apply in the order given, so they interact: a heat pump that switches gas to electricity
adds electricity that a later renewable tariff then covers, and an LED saving is worth less as the
grid decarbonises. A measure's saving in a year is the scenario's emissions before it minus after it.

Finance (HM Treasury Green Book conventions):

* capital recovery factor CRF = r(1+r)^n / ((1+r)^n - 1), r the discount rate (default 3.5%, the
  Green Book rate) and n the lifetime in years;
* cost per tCO2e = (capex x CRF + annual opex change - annual energy cost saving) / annual tCO2e
  saved, the tCO2e averaged over the measure's whole life;
* NPV = discounted energy cost savings - discounted opex change - discounted capex, each cash flow
  in year Y discounted by (1 + r)^(Y - latest actual year), from the capex to the end of the
  measure's life, whatever ``horizon_year`` says (the projection runs on for as long as a measure
  lives; ``horizon_year`` only bounds the years shown).

The grid factor of a projected year is interpolated linearly between the latest actual year and
the years of ``electricity_factor_projection``, and held after the last of them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sefton_carbon.accounting.boundary import line_mask
from sefton_carbon.accounting.catalogue import load_catalogue, resolve
from sefton_carbon.accounting.factors import FactorLibrary, FactorTable, load_factors
from sefton_carbon.accounting.inventory import Inventory
from sefton_carbon.accounting.sites import KNOWN_TAGS
from sefton_carbon.config import ConfigDocument, load_config
from sefton_carbon.engines.pipeline import compute_inventory
from sefton_carbon.errors import DataError, UsageError
from sefton_carbon.returns.collection import PricingInputs
from sefton_carbon.years import ReportingYear

#: HM Treasury Green Book discount rate (3.5% a year for the first 30 years).
GREEN_BOOK_DISCOUNT_RATE = 0.035
MEASURE_TYPES = ("avoid", "reduce", "switch", "supply", "offset", "removal")
#: Measure types that change nothing the council emits: offsets bought and removals are reported
#: apart from abatement (GHG Protocol Corporate Standard, chapter 8), never as bars of a cost curve.
NOT_ABATEMENT = ("offset", "removal")
COMMON_KEYS = {"name", "type", "start", "ramp_years", "capex_gbp", "opex_change_gbp", "lifetime_years",
               "activity", "department", "site", "site_tag", "description"}
TYPE_KEYS = {
    "avoid": {"energy_price_gbp_per_unit"},
    "reduce": {"percent", "quantity", "energy_price_gbp_per_unit"},
    "switch": {"to_activity", "ratio", "boiler_efficiency", "cop", "percent", "energy_price_gbp_per_unit",
               "new_energy_price_gbp_per_unit"},
    "supply": {"renewable_share", "onsite_kwh", "energy_price_gbp_per_unit"},
    "offset": {"tco2e", "share_of_residual", "price_gbp_per_tco2e"},
    "removal": {"tco2e"},
}
#: The longest name a scenario or a measure may have [characters]: a name labels a table row, a
#: chart title or a legend entry, and is never part of a file name.
MAX_NAME_CHARACTERS = 100
#: Control characters (C0 and C1), which would break a name's line in a table or a message.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
SETTINGS_KEYS = {"discount_rate", "target_year", "horizon_year", "growth_pct", "offset_price_gbp_per_tco2e",
                 "electricity_factor_projection", "carbon_values_gbp_per_tco2e"}


def capital_recovery_factor(rate: float, years: int) -> float:
    """CRF = r(1+r)^n / ((1+r)^n - 1): the annual payment that repays 1 over n years at rate r."""
    if rate == 0:
        return 1 / years
    growth = (1 + rate) ** years
    return rate * growth / (growth - 1)


@dataclass(frozen=True)
class Measure:
    """One measure of a scenario, as validated from the file."""

    name: str
    type: str
    start: ReportingYear
    ramp_years: int = 1
    capex_gbp: float = 0.0
    opex_change_gbp: float = 0.0
    lifetime_years: int = 20
    activity: str | None = None
    department: str | None = None
    site: str | None = None
    site_tag: str | None = None
    options: dict = field(default_factory=dict)

    def effect(self, year: ReportingYear) -> float:
        """Share of the measure in force in a year: 0 before its start, ramping linearly to 1."""
        step = year.start_year - self.start.start_year
        if step < 0 or step >= self.lifetime_years:
            return 0.0
        return min((step + 1) / self.ramp_years, 1.0)


@dataclass
class ScenarioFile:
    """A validated scenarios file."""

    settings: dict
    scenarios: dict[str, list[Measure]]
    descriptions: dict[str, str]
    source: Path


def _number(document: ConfigDocument, value: object, *key, minimum: float | None = None,
            maximum: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise document.error("must be a number", *key)
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise document.error(f"must be between {minimum} and {maximum}", *key)
    return float(value)


def _name(document: ConfigDocument, value: object, *key, is_key: bool = False) -> str:
    """A scenario's or a measure's name: text of up to `MAX_NAME_CHARACTERS`, on one line. Any other
    character is allowed (``/`` and ``..`` too): a name is shown, never made into a path. A problem
    with a name that is a key (``is_key``, a scenario's) names the key above it, not the name."""
    name = str(value)
    problem = ("a name must not be empty" if not name.strip()
               else f"a name of {len(name):,} characters, over the {MAX_NAME_CHARACTERS} allowed: shorten it, "
                    "and say more in its description" if len(name) > MAX_NAME_CHARACTERS
               else "a name must be one line of text, without control characters"
               if _CONTROL_CHARACTERS.search(name) else None)
    if problem is None:
        return name
    error = document.error(problem, *key)
    if is_key:
        raise DataError(problem, file=error.file, line=error.line, key=".".join(map(str, key[:-1])))
    raise error


def _year(document: ConfigDocument, value: object, *key) -> ReportingYear:
    try:
        return ReportingYear.parse(str(value))
    except UsageError:
        raise document.error(f"'{value}' is not a financial year like 2025/26", *key) from None


def _measure(document: ConfigDocument, body: object, *key) -> Measure:
    if not isinstance(body, dict):
        raise document.error("each measure must be a mapping of keys", *key)
    kind = body.get("type")
    if kind not in MEASURE_TYPES:
        raise document.error(f"type must be one of {', '.join(MEASURE_TYPES)}", *key, "type")
    allowed = COMMON_KEYS | TYPE_KEYS[kind]
    unknown = sorted(set(map(str, body)) - allowed)
    if unknown:
        raise document.error(f"unknown key(s) {', '.join(unknown)} for a {kind} measure; allowed: "
                             f"{', '.join(sorted(allowed))}", *key, unknown[0])
    if not isinstance(body.get("name"), str) or not body["name"].strip():
        raise document.error("every measure needs a name", *key, "name")
    measure_name = _name(document, body["name"].strip(), *key, "name")
    catalogue = load_catalogue()
    for activity_key in ("activity", "to_activity"):
        if activity_key in body and body[activity_key] not in catalogue.activities:
            raise document.error(f"unknown activity '{body[activity_key]}'", *key, activity_key)
    if body.get("site_tag") is not None and body["site_tag"] not in KNOWN_TAGS:
        raise document.error(f"unknown site tag '{body['site_tag']}': known are {', '.join(KNOWN_TAGS)}",
                             *key, "site_tag")
    needs_activity = kind in ("avoid", "reduce", "switch")
    if needs_activity and "activity" not in body:
        raise document.error(f"a {kind} measure needs the activity it acts on", *key)
    options = {}
    for name in TYPE_KEYS[kind] - {"to_activity"}:
        if name in body:
            options[name] = _number(document, body[name], *key, name, minimum=0)
    if "to_activity" in body:
        options["to_activity"] = body["to_activity"]
    if kind == "reduce" and ("percent" in options) == ("quantity" in options):
        raise document.error("a reduce measure needs either percent or quantity", *key)
    if kind == "reduce" and options.get("percent", 0) > 100:
        raise document.error("percent must be at most 100", *key, "percent")
    if kind == "switch":
        if "to_activity" not in options:
            raise document.error("a switch measure needs to_activity", *key)
        if "ratio" not in options and not {"boiler_efficiency", "cop"} <= set(options):
            raise document.error("a switch measure needs ratio, or boiler_efficiency and cop", *key)
        if "ratio" not in options:
            if options["cop"] <= 0:
                raise document.error("cop must be above 0", *key, "cop")
            options["ratio"] = options["boiler_efficiency"] / options["cop"]
    if kind == "supply" and not {"renewable_share", "onsite_kwh"} & set(options):
        raise document.error("a supply measure needs renewable_share or onsite_kwh", *key)
    if kind == "supply" and options.get("renewable_share", 0) > 1:
        raise document.error("renewable_share is a share from 0 to 1", *key, "renewable_share")
    if kind == "offset" and ("tco2e" in options) == ("share_of_residual" in options):
        raise document.error("an offset measure needs either tco2e or share_of_residual", *key)
    if kind == "removal" and "tco2e" not in options:
        raise document.error("a removal measure needs tco2e removed a year", *key)
    ramp = body.get("ramp_years", 1)
    lifetime = body.get("lifetime_years", 20)
    for name, value in (("ramp_years", ramp), ("lifetime_years", lifetime)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise document.error("must be a whole number of years, 1 or more", *key, name)
    if "start" not in body:
        raise document.error("every measure needs a start year", *key)
    return Measure(
        name=measure_name, type=kind, start=_year(document, body["start"], *key, "start"),
        ramp_years=ramp, lifetime_years=lifetime,
        capex_gbp=_number(document, body.get("capex_gbp", 0), *key, "capex_gbp", minimum=0),
        opex_change_gbp=_number(document, body.get("opex_change_gbp", 0), *key, "opex_change_gbp"),
        activity=body.get("activity"), department=body.get("department"), site=body.get("site"),
        site_tag=body.get("site_tag"), options=options)


def load_scenarios(path: str | Path) -> ScenarioFile:
    """Read and check a scenarios file; every problem names the file, line and key."""
    document = load_config(path)
    data = document.data
    if not isinstance(data, dict) or not isinstance(data.get("scenarios"), dict) or not data["scenarios"]:
        raise document.error("needs 'scenarios': a mapping of scenario names to their measures")
    unknown = sorted(set(map(str, data)) - {"settings", "scenarios"})
    if unknown:
        raise document.error(f"unknown top-level key(s) {', '.join(unknown)}", unknown[0])
    raw = data.get("settings") or {}
    if not isinstance(raw, dict):
        raise document.error("must be a mapping", "settings")
    unknown = sorted(set(map(str, raw)) - SETTINGS_KEYS)
    if unknown:
        raise document.error(f"unknown setting(s) {', '.join(unknown)}; allowed: {', '.join(sorted(SETTINGS_KEYS))}",
                             "settings", unknown[0])
    settings = {"discount_rate": _number(document, raw.get("discount_rate", GREEN_BOOK_DISCOUNT_RATE),
                                         "settings", "discount_rate", minimum=0, maximum=0.5),
                "target_year": _year(document, raw.get("target_year", "2030/31"), "settings", "target_year"),
                "growth_pct": _number(document, raw.get("growth_pct", 0), "settings", "growth_pct",
                                      minimum=-50, maximum=50)}
    settings["horizon_year"] = _year(document, raw.get("horizon_year", settings["target_year"].label),
                                     "settings", "horizon_year")
    if settings["horizon_year"] < settings["target_year"]:
        raise document.error("horizon_year must not come before target_year", "settings", "horizon_year")
    price = raw.get("offset_price_gbp_per_tco2e", 0)
    prices = price if isinstance(price, list) else [price]
    if not 1 <= len(prices) <= 2:
        raise document.error("a price, or a range [low, high]", "settings", "offset_price_gbp_per_tco2e")
    settings["offset_prices"] = [_number(document, value, "settings", "offset_price_gbp_per_tco2e", minimum=0)
                                 for value in prices]
    for series_key in ("electricity_factor_projection", "carbon_values_gbp_per_tco2e"):
        series = raw.get(series_key) or {}
        if not isinstance(series, dict):
            raise document.error("must map years (2025/26) to numbers", "settings", series_key)
        settings[series_key] = {_year(document, year, "settings", series_key, year).start_year:
                                _number(document, value, "settings", series_key, year, minimum=0)
                                for year, value in series.items()}
    scenarios, descriptions = {}, {}
    for name, body in data["scenarios"].items():
        if not isinstance(body, dict) or not isinstance(body.get("measures", []), list):
            raise document.error("a scenario is a mapping with 'description' and a list 'measures'", "scenarios", name)
        scenario_name = _name(document, name, "scenarios", name, is_key=True)
        descriptions[scenario_name] = str(body.get("description", ""))
        scenarios[scenario_name] = [_measure(document, measure, "scenarios", name, "measures", index)
                                    for index, measure in enumerate(body.get("measures") or [])]
        names = [measure.name for measure in scenarios[scenario_name]]
        repeated = next((index for index, measure in enumerate(names) if measure in names[:index]), None)
        if repeated is not None:
            raise document.error(f"measure name '{names[repeated]}' is used twice in this scenario: each measure's "
                                 "savings and costs are reported under its name", "scenarios", name, "measures",
                                 repeated, "name")
    return ScenarioFile(settings=settings, scenarios=scenarios, descriptions=descriptions, source=document.source)


def segments(inventory: Inventory, site_tags: dict[str, tuple[str, ...]] | None = None) -> pd.DataFrame:
    """The latest year inside the boundary, by activity, department and site: quantity [factor unit
    of the activity's direct line] and factor [t CO2e per unit, all its lines counted]."""
    rows = inventory.rows[inventory.outside.isna().to_numpy()]
    pairs = inventory.pair_of_row[inventory.outside.isna().to_numpy()]
    lines = inventory.lines[inventory.line_inside]
    direct = lines[lines["line"] == "direct"].set_index("pair_id")
    per_unit = lines.groupby("pair_id")["tco2e_coefficient"].sum()
    conversion = direct["unit_conversion"].reindex(pairs).to_numpy()
    emissions = rows["quantity"].to_numpy() * per_unit.reindex(pairs).to_numpy()
    if inventory.scope_2_method == "market":  # contracts already in place (REGO tariffs) stay
        emissions = emissions + inventory.market_delta[inventory.outside.isna().to_numpy()] * (
            direct["scope"].reindex(pairs).to_numpy() == 2)
    frame = pd.DataFrame({
        "activity": rows["activity"].astype(str).to_numpy(), "department": rows["department"].astype(str).to_numpy(),
        "site": rows["site"].astype(str).to_numpy(), "unit": direct["factor_unit"].astype(str).reindex(pairs).to_numpy(),
        "quantity": rows["quantity"].to_numpy() * conversion, "tco2e": emissions})
    frame = frame[~np.isnan(frame["quantity"])]
    grouped = frame.groupby(["activity", "department", "site", "unit"], as_index=False)[["quantity", "tco2e"]].sum()
    grouped["factor"] = grouped["tco2e"] / grouped["quantity"].where(grouped["quantity"] != 0)
    tags = site_tags or {}
    grouped["tags"] = grouped["site"].map(lambda site: ";".join(tags.get(site, ())))
    return grouped


@dataclass
class ScenarioResult:
    """A scenario projected: emissions per year and per measure, and the finance."""

    name: str
    description: str
    years: pd.DataFrame
    measures: pd.DataFrame
    target_year: ReportingYear
    offset_prices: list[float]
    notes: list[str]
    savings: dict[str, list[tuple[str, float]]] = field(default_factory=dict)

    def at_target(self) -> pd.Series:
        return self.years.set_index("year").loc[self.target_year.label]

    def summary(self) -> dict:
        target = self.at_target()
        offset_cost = [float(target["offsets_needed_tco2e"] * price) for price in self.offset_prices]

        def clean(value):
            return None if isinstance(value, float) and np.isnan(value) else value

        return {
            "name": self.name, "description": self.description, "target_year": self.target_year.label,
            "bau_tco2e": float(target["bau_tco2e"]), "scenario_tco2e": float(target["scenario_tco2e"]),
            "removals_tco2e": float(target["removals_tco2e"]), "offsets_bought_tco2e": float(target["offsets_tco2e"]),
            "residual_tco2e": float(target["residual_tco2e"]),
            "offsets_needed_tco2e": float(target["offsets_needed_tco2e"]),
            "offset_cost_gbp": offset_cost[0] if len(offset_cost) == 1 else offset_cost,
            "offset_price_gbp_per_tco2e": self.offset_prices[0] if len(self.offset_prices) == 1 else self.offset_prices,
            "reaches_net_zero": bool(target["offsets_needed_tco2e"] <= 1e-9),
            "total_capex_gbp": float(self.measures["capex_gbp"].sum()),
            "npv_gbp": float(self.measures["npv_gbp"].sum()),
            "years": [{key: clean(value) for key, value in record.items()}
                      for record in self.years.to_dict(orient="records")],
            "measures": [{key: clean(value) for key, value in record.items()}
                         for record in self.measures.to_dict(orient="records")],
            "notes": self.notes,
        }


def _matches(table: pd.DataFrame, measure: Measure, activity: str | None = None) -> np.ndarray:
    mask = np.ones(len(table), dtype=bool)
    if activity or measure.activity:
        mask &= (table["activity"] == (activity or measure.activity)).to_numpy()
    if measure.department:
        mask &= (table["department"] == measure.department).to_numpy()
    if measure.site:
        mask &= (table["site"] == measure.site).to_numpy()
    if measure.site_tag:
        mask &= table["tags"].str.split(";").map(lambda tags: measure.site_tag in tags).to_numpy()
    return mask


def _apply(table: pd.DataFrame, measure: Measure, year: ReportingYear) -> pd.DataFrame:
    """The segments after one measure in one year (quantities changed; rows added by switches)."""
    share = measure.effect(year)
    if share == 0 or measure.type in NOT_ABATEMENT:
        return table
    table = table.copy()
    if measure.type == "supply":
        electricity = _matches(table, measure, "electricity")
        if "onsite_kwh" in measure.options and electricity.any():
            kwh = table.loc[electricity, "quantity"]
            cut = min(measure.options["onsite_kwh"] * share, kwh.sum())
            table.loc[electricity, "quantity"] = kwh - cut * kwh / kwh.sum() if kwh.sum() else kwh
        if "renewable_share" in measure.options:
            table.loc[electricity, "market_share_renewable"] = (
                table.loc[electricity, "market_share_renewable"] + measure.options["renewable_share"] * share).clip(upper=1)
        return table
    selected = _matches(table, measure)
    before = table.loc[selected, "quantity"]
    if "percent" in measure.options:
        removed = before * measure.options["percent"] / 100 * share
    elif "quantity" in measure.options:
        total = before.sum()
        removed = before * (min(measure.options["quantity"] * share, total) / total if total else 0)
    else:  # avoid, or switch all of it
        removed = before * share
    table.loc[selected, "quantity"] = before - removed
    if measure.type == "switch":
        target = measure.options["to_activity"]
        added = table.loc[selected, ["department", "site", "tags"]].assign(
            quantity=(removed * measure.options["ratio"]).to_numpy(), activity=target)
        added["unit"] = load_catalogue().activities[target].units[0]
        added["factor"] = np.nan  # priced from the activity's factor below
        added["market_share_renewable"] = 0.0
        table = pd.concat([table, added], ignore_index=True)
    return table


def _emissions(table: pd.DataFrame, factors: dict[str, float], electricity_scale: float,
               direct_electricity_factor: float, market: bool) -> float:
    """Emissions of the segments [t CO2e]: each activity at its factor, electricity scaled to the
    year's grid factor; market-based, the renewable share of electricity's direct line counts 0."""
    factor = table["factor"].fillna(table["activity"].map(factors)).to_numpy()
    electricity = (table["activity"] == "electricity").to_numpy()
    factor = np.where(electricity, factor * electricity_scale, factor)
    total = float(np.nansum(table["quantity"].to_numpy() * factor))
    if market and electricity.any():
        renewable = table.loc[electricity, "quantity"] * table.loc[electricity, "market_share_renewable"]
        total -= float(renewable.sum()) * direct_electricity_factor * electricity_scale
    return total


def project(inventory: Inventory, scenario_file: ScenarioFile, name: str,
            site_tags: dict[str, tuple[str, ...]] | None = None,
            factors: FactorLibrary | None = None) -> ScenarioResult:
    """Project one scenario from an inventory (see the module docstring). ``factors``: the factor
    library the inventory was priced with (default: the bundled tables), for the grid factor and
    the activities a switch adds."""
    if name not in scenario_file.scenarios:
        raise UsageError(f"no scenario '{name}' in {scenario_file.source}: scenarios are "
                         f"{', '.join(scenario_file.scenarios)}")
    settings = scenario_file.settings
    measures = scenario_file.scenarios[name]
    factor_table = (factors or load_factors()).table(inventory.factor_year)
    base = segments(inventory, site_tags)
    base["market_share_renewable"] = 0.0
    sums = base.groupby("activity")[["tco2e", "quantity"]].sum()
    unit_factors = (sums["tco2e"] / sums["quantity"].where(sums["quantity"] != 0)).fillna(0.0).to_dict()
    catalogue_factors = _catalogue_factors(inventory, factor_table, [m.options.get("to_activity") for m in measures])
    for activity, value in catalogue_factors.items():
        unit_factors.setdefault(activity, value)
    latest = inventory.reporting_year
    grid_now = _grid_factor(factor_table)
    market = inventory.scope_2_method == "market"
    projection = settings["electricity_factor_projection"]
    # Years shown run to the horizon; savings are projected on to the end of the longest-lived
    # measure, so that every measure's NPV and cost per tCO2e cover its whole life.
    horizon = settings["horizon_year"].start_year
    last_year = max([horizon] + [measure.start.start_year + measure.lifetime_years - 1 for measure in measures])
    years = [ReportingYear(year) for year in range(latest.start_year + 1, last_year + 1)]
    rate, growth = settings["discount_rate"], settings["growth_pct"] / 100
    notes = []
    if market is False and any(m.type == "supply" and "renewable_share" in m.options for m in measures):
        notes.append("renewable tariffs save nothing under a location-based boundary option: choose an "
                     "option with scope_2_method: market to count them")
    records, savings = [], {measure.name: [] for measure in measures}
    for year in years:
        scale = _grid_factor_in(projection, year, latest, grid_now) / grid_now if grid_now else 1.0
        table = base.assign(quantity=base["quantity"] * (1 + growth) ** (year.start_year - latest.start_year))
        direct_electricity = unit_factors.get("electricity_direct", grid_now / 1000)
        bau = _emissions(table, unit_factors, scale, direct_electricity, market)
        current = bau
        removals = offsets = 0.0
        for measure in measures:
            table = _apply(table, measure, year)
            after = _emissions(table, unit_factors, scale, direct_electricity, market)
            saved = current - after
            if measure.type == "removal":
                saved = measure.options["tco2e"] * measure.effect(year)  # removed, kept apart from gross
                removals += saved
            savings[measure.name].append((year, saved))
            current = after
        for measure in measures:
            if measure.type == "offset" and measure.effect(year):
                bought = measure.effect(year) * (measure.options["tco2e"] if "tco2e" in measure.options
                                                 else measure.options["share_of_residual"] * max(current - removals, 0))
                savings[measure.name][-1] = (year, bought)
                offsets += bought
        residual = max(current - removals, 0.0)
        if year.start_year > horizon:
            continue
        records.append({"year": year.label, "bau_tco2e": bau, "scenario_tco2e": current, "removals_tco2e": removals,
                        "offsets_tco2e": offsets, "residual_tco2e": residual,
                        "net_tco2e": current - removals - offsets,
                        "offsets_needed_tco2e": max(residual - offsets, 0.0)})
    table = pd.DataFrame(records)
    finance = [_finance(measure, savings[measure.name], base, unit_factors, rate, latest, settings)
               for measure in measures]
    return ScenarioResult(name=name, description=scenario_file.descriptions[name], years=table,
                          measures=pd.DataFrame(finance, columns=MEASURE_COLUMNS),
                          target_year=settings["target_year"], offset_prices=settings["offset_prices"], notes=notes,
                          savings={measure: [(year.label, value) for year, value in values]
                                   for measure, values in savings.items()})


MEASURE_COLUMNS = ["name", "type", "start", "capex_gbp", "tco2e_saved_annual", "tco2e_saved_lifetime",
                   "annual_energy_saving_gbp", "opex_change_gbp", "crf", "cost_per_tco2e_gbp", "npv_gbp",
                   "carbon_value_gbp"]


def _grid_factor_in(projection: dict[int, float], year: ReportingYear, latest: ReportingYear, grid_now: float) -> float:
    """The grid electricity factor of a projected year [kg CO2e/kWh]: interpolated linearly between
    the latest actual year's factor and the years the projection gives, and held after the last."""
    points = {latest.start_year: grid_now, **projection}
    known = sorted(points)
    return float(np.interp(year.start_year, known, [points[key] for key in known]))


def _grid_factor(factor_table: FactorTable) -> float:
    """The direct UK electricity factor of the inventory's factor table [kg CO2e/kWh]."""
    return resolve(load_catalogue(), "electricity", "kWh", factor_table)[0].kgco2e


def _catalogue_factors(inventory: Inventory, table: FactorTable, activities: list[str | None]) -> dict[str, float]:
    """Factors [t CO2e per factor unit, lines the boundary counts] of activities a switch adds,
    from the factor table the inventory was priced with."""
    result = {}
    for activity in {name for name in activities if name} | {"electricity"}:
        unit = load_catalogue().activities[activity].units[0]
        lines = resolve(load_catalogue(), activity, unit, table)
        frame = pd.DataFrame([line.__dict__ for line in lines])
        inside = line_mask(inventory.boundary, frame) if inventory.boundary else np.ones(len(frame), dtype=bool)
        result[activity] = float((frame["kgco2e"] * frame["unit_conversion"])[inside].sum() / 1000)
        if activity == "electricity":
            result["electricity_direct"] = lines[0].kgco2e / 1000
    return result


def _finance(measure: Measure, saved: list, base: pd.DataFrame, factors: dict, rate: float,
             latest: ReportingYear, settings: dict) -> dict:
    """Cost per tCO2e, NPV and lifetime savings of one measure (see the module docstring)."""
    in_life = [(year, value) for year, value in saved if measure.effect(year) > 0]
    annual_saved = float(np.mean([value for _, value in in_life])) if in_life else 0.0
    price = measure.options.get("energy_price_gbp_per_unit", 0.0)
    steady = _steady_quantity_change(measure, base)
    energy_saving = steady * price
    if measure.type == "switch":
        energy_saving -= steady * measure.options["ratio"] * measure.options.get("new_energy_price_gbp_per_unit", 0.0)
    if measure.type == "supply" and "onsite_kwh" in measure.options:
        energy_saving = measure.options["onsite_kwh"] * price
    crf = capital_recovery_factor(rate, measure.lifetime_years)
    def discount(year: ReportingYear) -> float:
        return (1 + rate) ** (year.start_year - latest.start_year)

    if measure.type == "offset":  # 'saved' holds the tCO2e bought each year
        price = measure.options.get("price_gbp_per_tco2e", 0.0)
        cost_per = price
        npv = -sum(bought * price / discount(year) for year, bought in in_life)
    else:
        annual_cost = measure.capex_gbp * crf + measure.opex_change_gbp - energy_saving
        cost_per = annual_cost / annual_saved if annual_saved else None
        npv = -measure.capex_gbp / discount(measure.start) + sum(
            (energy_saving - measure.opex_change_gbp) * measure.effect(year) / discount(year) for year, _ in in_life)
    carbon_values = settings["carbon_values_gbp_per_tco2e"]
    carbon_value = sum(value * carbon_values.get(year.start_year, 0.0) for year, value in in_life) if carbon_values else None
    return {"name": measure.name, "type": measure.type, "start": measure.start.label, "capex_gbp": measure.capex_gbp,
            "tco2e_saved_annual": annual_saved, "tco2e_saved_lifetime": float(sum(value for _, value in in_life)),
            "annual_energy_saving_gbp": energy_saving, "opex_change_gbp": measure.opex_change_gbp, "crf": crf,
            "cost_per_tco2e_gbp": cost_per, "npv_gbp": npv, "carbon_value_gbp": carbon_value}


def _steady_quantity_change(measure: Measure, base: pd.DataFrame) -> float:
    """Quantity the measure removes at full effect from the latest year's segments [factor unit]."""
    if measure.type not in ("avoid", "reduce", "switch"):
        return 0.0
    selected = base.loc[_matches(base, measure), "quantity"].sum()
    if measure.type == "avoid":
        return float(selected)
    if "percent" in measure.options:
        return float(selected * measure.options["percent"] / 100)
    if "quantity" in measure.options:
        return float(min(measure.options["quantity"], selected))
    return float(selected)


def run_scenarios(inventory: Inventory, scenario_file: ScenarioFile,
                  site_tags: dict[str, tuple[str, ...]] | None = None,
                  factors: FactorLibrary | None = None) -> list[ScenarioResult]:
    """Every scenario of the file, projected from the same inventory (``factors``: as `project`)."""
    return [project(inventory, scenario_file, name, site_tags, factors) for name in scenario_file.scenarios]


@dataclass
class ScenarioRun:
    """The scenarios of a file projected from the latest year's returns, with that year's inventory
    (its rejected rows are the run's data problems)."""

    inventory: Inventory
    results: list[ScenarioResult]

    def measures(self) -> pd.DataFrame:
        """Every measure of every scenario, one row each, with its scenario's name."""
        return pd.concat([result.measures.assign(scenario=result.name) for result in self.results],
                         ignore_index=True)

    def scenarios(self) -> pd.DataFrame:
        """One row per scenario: its target-year figures and finance (`ScenarioResult.summary`)."""
        return pd.DataFrame([{key: value for key, value in result.summary().items()
                              if key not in ("years", "measures", "notes")} for result in self.results])


def scenarios_from_returns(file: str | Path, paths, reporting_year: str | ReportingYear, *,
                           factors_dir: str | Path | None = None, factor_year: int | None = None,
                           scope_option: str | None = None, scopes_file: str | Path | None = None,
                           sites: str | Path | None = None, contracts: str | Path | None = None,
                           spend_factors: str | Path | None = None) -> ScenarioRun:
    """Every scenario of a file projected from the inventory of the latest actual year, priced with
    the `PricingInputs` given; the projection uses the same factor library as the inventory."""
    scenario_file = load_scenarios(file)
    pricing = PricingInputs(factors_dir=factors_dir, factor_year=factor_year, scope_option=scope_option,
                            scopes_file=scopes_file, sites=sites, contracts=contracts,
                            spend_factors=spend_factors).load()
    inventory = compute_inventory(paths, reporting_year, factor_year, factors=pricing.factors,
                                  scope_option=scope_option, scopes_file=scopes_file, sites=sites,
                                  contracts=contracts, spend_factors=spend_factors)
    tags = pricing.sites.site_tags() if pricing.sites else None
    return ScenarioRun(inventory=inventory, results=run_scenarios(inventory, scenario_file, tags, pricing.factors))
