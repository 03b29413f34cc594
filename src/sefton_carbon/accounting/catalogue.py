"""The activity catalogue: names councils report, mapped to factor rows that are stable across years.

The catalogue lives in ``emission_factors/activities.yaml`` (see the comments at its top). `resolve`
turns one (activity, unit, factor table) into the ledger lines that activity produces: its direct
line and its derived lines (T&D losses, well-to-tank, and the biogenic CO2 reported outside the
scopes), each with its factor row, its parts per gas (`gases`) and the unit conversion from the
reported unit to the factor's unit.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd
import yaml

from sefton_carbon import resources
from sefton_carbon.accounting import units
from sefton_carbon.accounting.factors import LABEL_COLUMNS, FactorTable, fold_label
from sefton_carbon.accounting.gases import GASES, UNATTRIBUTED, gas_parts
from sefton_carbon.accounting.spend import SPEND_PREFIX, SpendFactors, fold_category
from sefton_carbon.config import SAFE_LOADER
from sefton_carbon.errors import DataError, UsageError

DESNZ_PREFIX = "desnz:"
MATCH_FIELDS = frozenset(LABEL_COLUMNS)
DIRECT = "direct"
#: The line of biogenic CO2 (DESNZ "Outside of scopes" rows), and the scope number it carries: it
#: is part of no scope and of no total (GHG Protocol Corporate Standard, chapters 4 and 9).
OUTSIDE_OF_SCOPES = "outside_of_scopes"
OUTSIDE_OF_SCOPES_NUMBER = 0
OUTSIDE_OF_SCOPES_LEVEL_1 = "outside of scopes"


class ResolutionError(ValueError):
    """An activity in a unit that no factor row of the chosen year can price."""


@dataclass(frozen=True)
class FactorSpec:
    """One factor row an activity uses, in one unit, identified by its labels."""

    unit: str
    row: tuple[tuple[str, tuple[str, ...]], ...]


@dataclass(frozen=True)
class LineSpec:
    """One ledger line an activity produces: its own (``direct``) or a derived one."""

    line: str
    scope: int
    category: int | None
    factors: tuple[FactorSpec, ...]


@dataclass(frozen=True)
class Activity:
    """A catalogue entry."""

    name: str
    label: str
    aliases: tuple[str, ...]
    lines: tuple[LineSpec, ...]
    accepts: tuple[str, ...] = ()
    #: A supply read from a meter (electricity, gas, heat, water): rows naming one meter are one
    #: supply whichever department reports them. Other activities are quantities bought or
    #: travelled, where several rows in one period are normal and all count.
    metered: bool = False

    @property
    def scope(self) -> int:
        return self.lines[0].scope

    @property
    def category(self) -> int | None:
        return self.lines[0].category

    @property
    def units(self) -> tuple[str, ...]:
        """Canonical units of the activity's own factor rows."""
        return tuple(spec.unit for spec in self.lines[0].factors)

    def accepts_unit(self, unit: str) -> bool:
        """Whether a reported unit is allowed: listed in ``accepts``, or else convertible."""
        if self.accepts:
            return unit in self.accepts
        return any(units.compatible(unit, target) for target in self.units)


@dataclass(frozen=True)
class ResolvedLine:
    """A ledger line priced: the factor row, its values [kg CO2e per factor unit], the conversion.

    ``gases``: kg CO2e of each gas of `GASES` per factor unit, and `UNATTRIBUTED` for the rest;
    together they make ``kgco2e``. ``kgco2_biogenic``: kg of biogenic CO2 per factor unit, on
    the outside-of-scopes line only (its ``kgco2e`` is zero).
    """

    line: str
    scope: int
    category: int | None
    factor_key: str
    desnz_id: str
    factor_source_row: int
    factor_unit: str
    factor_uom: str
    kgco2e: float
    gases: dict[str, float]
    unit_conversion: float
    unit_conversion_note: str
    factor_set: str = ""
    kgco2_biogenic: float = 0.0

    def values(self) -> dict[str, float]:
        """The line's values as columns: ``kgco2e``, ``kgco2e_<gas>`` for every gas of `GASES` and
        `UNATTRIBUTED` (zero for a gas it does not emit), and ``kgco2_biogenic``."""
        return {"kgco2e": self.kgco2e,
                **{f"kgco2e_{gas}": self.gases.get(gas, 0.0) for gas in (*GASES, UNATTRIBUTED)},
                "kgco2_biogenic": self.kgco2_biogenic}


def fold_activity(text: object) -> str:
    """An activity name as written in a return, folded for lookup: ``Natural Gas`` -> ``natural_gas``."""
    return re.sub(r"[\s\-]+", "_", str(text).strip().lower())


class Catalogue:
    """The loaded activity catalogue."""

    def __init__(self, activities: dict[str, Activity], desnz_row_categories: dict[str, int],
                 source: Path):
        self.activities = activities
        self.desnz_row_categories = desnz_row_categories
        self.source = source
        self._lookup = {name: name for name in activities}
        for name, activity in activities.items():
            for alias in activity.aliases:
                self._lookup[fold_activity(alias)] = name

    @property
    def metered(self) -> frozenset[str]:
        """Names of the metered activities (see `Activity.metered`)."""
        return frozenset(name for name, activity in self.activities.items() if activity.metered)

    def canonical_name(self, written: str) -> str | None:
        """The catalogue name for an activity as written, or None when unknown."""
        folded = fold_activity(written)
        for prefix in (DESNZ_PREFIX, SPEND_PREFIX):
            if folded.startswith(prefix):
                return prefix + folded[len(prefix):].strip("_")
        return self._lookup.get(folded)

    def unknown_activity_message(self, written: str) -> str:
        """A plain message for an activity the catalogue does not know, with the closest names."""
        close = difflib.get_close_matches(fold_activity(written), list(self._lookup), n=1, cutoff=0.6)
        hint = f": did you mean '{self._lookup[close[0]]}'?" if close else ""
        return (f"unknown activity '{written}'{hint} (see 'sefton-carbon factors list' for the "
                "catalogue, name a 2023+ DESNZ row as desnz:<ID>, or spend as spend:<category>)")

    def accepted_units(self, activity: str) -> list[str]:
        """Canonical units an activity can be reported in."""
        entry = self.activities[activity]
        return [unit for unit in units.PINT_EXPRESSIONS if entry.accepts_unit(unit)]

    def table(self) -> pd.DataFrame:
        """The catalogue as a table: activity, scope, Scope 3 category, accepted units, label (the
        ``factors list`` output)."""
        return pd.DataFrame([{"activity": name, "scope": entry.scope, "category": entry.category or "",
                              "units": ", ".join(self.accepted_units(name)), "label": entry.label}
                             for name, entry in self.activities.items()])

    def matching(self, text: str) -> list[str]:
        """Catalogue activities whose name, label or aliases contain every word of ``text``."""
        words = text.lower().split()
        found = []
        for name, entry in self.activities.items():
            haystack = " ".join([name.replace("_", " "), entry.label, *entry.aliases]).lower()
            if words and all(word in haystack for word in words):
                found.append(name)
        return found


#: Words people search for -> the words DESNZ uses for the same thing in its factor labels.
DESNZ_WORDS = {"recycling": "closed-loop", "recycled": "closed-loop", "recycle": "closed-loop",
               "incineration": "combustion", "efw": "combustion", "train": "rail", "plane": "flights",
               "flight": "flights", "power": "electricity",
               "heating oil": "burning oil", "kerosene": "burning oil", "red diesel": "gas oil",
               "lorry": "hgv", "van": "vans", "food waste": "food and drink waste"}


def search_hint(text: str, catalogue: Catalogue) -> str:
    """What to try when a search of the factor labels finds nothing: the words DESNZ uses, and the
    catalogue activities that match."""
    folded = " ".join(text.lower().split())
    hints = []
    word = next((word for word in sorted(DESNZ_WORDS, key=len, reverse=True) if word in folded), None)
    if word is not None:
        desnz = DESNZ_WORDS[word]
        hints.append(f"DESNZ calls it '{desnz}': try --search \"{folded.replace(word, desnz)}\"")
    matches = catalogue.matching(text)
    if matches:
        hints.append(f"catalogue activities: {', '.join(matches)}")
    return "; ".join(hints) or "try fewer or shorter words, or 'sefton-carbon factors list' for the catalogue"


def _alternatives(value: object, where: str) -> tuple[str, ...]:
    values = value if isinstance(value, list) else [value]
    if not all(isinstance(item, (str, int, float)) for item in values):
        raise DataError(f"match values must be text or lists of text ({where})")
    return tuple(fold_label("" if item is None else item) for item in values)


def _factor_specs(entries: object, where: str) -> tuple[FactorSpec, ...]:
    if not isinstance(entries, list) or not entries:
        raise DataError(f"'factors' must be a non-empty list ({where})")
    specs = []
    for entry in entries:
        if not isinstance(entry, dict) or set(entry) != {"unit", "row"}:
            raise DataError(f"each factor needs exactly 'unit' and 'row' ({where})")
        if entry["unit"] not in units.PINT_EXPRESSIONS:
            raise DataError(f"unknown unit '{entry['unit']}' ({where}); use one of "
                            f"{', '.join(units.PINT_EXPRESSIONS)}")
        row = entry["row"]
        if not isinstance(row, dict) or not set(row) <= MATCH_FIELDS:
            raise DataError(f"'row' may only match {', '.join(sorted(MATCH_FIELDS))} ({where})")
        specs.append(FactorSpec(entry["unit"], tuple(
            (field, _alternatives(value, where)) for field, value in sorted(row.items()))))
    return tuple(specs)


def _category(value: object, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 15:
        raise DataError(f"category must be a whole number from 1 to 15 ({where})")
    return value


def _activity(name: str, body: object, source: Path) -> Activity:
    where = f"{source}, activity '{name}'"
    allowed = {"label", "scope", "category", "aliases", "accepts", "metered", "factors", "derived"}
    if not isinstance(body, dict) or not set(body) <= allowed:
        raise DataError(f"keys must be among {', '.join(sorted(allowed))} ({where})")
    scope = body.get("scope")
    if scope not in (1, 2, 3):
        raise DataError(f"scope must be 1, 2 or 3 ({where})")
    category = _category(body.get("category"), where)
    if (scope == 3) != (category is not None):
        raise DataError(f"a Scope 3 activity needs a category, and only Scope 3 has one ({where})")
    lines = [LineSpec(DIRECT, scope, category, _factor_specs(body.get("factors"), where))]
    for derived in body.get("derived") or []:
        if isinstance(derived, dict) and derived.get("line") == OUTSIDE_OF_SCOPES:
            if set(derived) != {"line", "factors"}:
                raise DataError(f"an {OUTSIDE_OF_SCOPES} line needs only 'line' and 'factors' ({where})")
            lines.append(LineSpec(OUTSIDE_OF_SCOPES, OUTSIDE_OF_SCOPES_NUMBER, None,
                                  _factor_specs(derived["factors"], where)))
            continue
        if not isinstance(derived, dict) or set(derived) != {"line", "category", "factors"}:
            raise DataError(f"each derived line needs 'line', 'category' and 'factors' ({where})")
        lines.append(LineSpec(str(derived["line"]), 3, _category(derived["category"], where),
                              _factor_specs(derived["factors"], where)))
    accepts = tuple(body.get("accepts") or ())
    unknown = [unit for unit in accepts if unit not in units.PINT_EXPRESSIONS]
    if unknown:
        raise DataError(f"unknown unit(s) {', '.join(unknown)} in 'accepts' ({where})")
    metered = body.get("metered", False)
    if not isinstance(metered, bool):
        raise DataError(f"metered must be true or false ({where})")
    return Activity(name, str(body.get("label", name)), tuple(body.get("aliases") or ()),
                    tuple(lines), accepts, metered)


@lru_cache(maxsize=4)
def load_catalogue(path: str | Path | None = None) -> Catalogue:
    """Read and check the activity catalogue (default: the bundled ``activities.yaml``)."""
    source = Path(path) if path else resources.factors_dir() / "activities.yaml"
    try:
        document = yaml.load(source.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
    except (OSError, yaml.YAMLError) as error:
        raise DataError(f"cannot read the activity catalogue ({error})", file=str(source)) from None
    if not isinstance(document, dict) or not isinstance(document.get("activities"), dict):
        raise DataError("needs a mapping 'activities'", file=str(source))
    activities = {str(name): _activity(str(name), body, source)
                  for name, body in document["activities"].items()}
    categories = {str(prefix): _category(value, f"{source}, desnz_row_categories")
                  for prefix, value in (document.get("desnz_row_categories") or {}).items()}
    return Catalogue(activities, categories, source)


def _match(spec: FactorSpec, factor_table: FactorTable) -> pd.Series:
    index = factor_table.label_index
    positions: set[int] | None = None  # None: no condition yet, every row
    for field, alternatives in spec.row:
        found = set().union(*(index.get((field, value), set()) for value in alternatives))
        positions = found if positions is None else positions & found
    matches = factor_table.table if positions is None else factor_table.table.iloc[sorted(positions)]
    if len(matches) != 1:
        wanted = ", ".join(f"{field}={'|'.join(values)}" for field, values in spec.row)
        raise ResolutionError(f"{len(matches)} rows of the {factor_table.year} factors match "
                              f"[{wanted}]; the catalogue needs exactly one")
    return matches.iloc[0]


def _resolved(line: LineSpec, spec: FactorSpec, row: pd.Series, unit: str,
              factor_table: FactorTable) -> ResolvedLine:
    conversion = units.conversion(unit, spec.unit)
    outside = line.line == OUTSIDE_OF_SCOPES
    return ResolvedLine(
        line=line.line, scope=line.scope, category=line.category, factor_key=row["factor_key"],
        desnz_id=row["desnz_id"] if isinstance(row["desnz_id"], str) else "",
        factor_source_row=int(row["source_row"]), factor_unit=spec.unit, factor_uom=row["uom"],
        kgco2e=0.0 if outside else float(row["kgco2e"]),
        gases={} if outside else gas_parts(row, factor_table.table),
        kgco2_biogenic=float(row["kgco2e"]) if outside else 0.0,
        unit_conversion=conversion.multiplier, unit_conversion_note=conversion.note)


def _choose(specs: tuple[FactorSpec, ...], unit: str) -> FactorSpec | None:
    exact = [spec for spec in specs if spec.unit == unit]
    if exact:
        return exact[0]
    return next((spec for spec in specs if units.compatible(unit, spec.unit)), None)


def desnz_row(factor_table: FactorTable, wanted: str) -> pd.Series:
    """The factor row with a DESNZ ID, given with or without its gas suffix (``_1`` = total)."""
    table = factor_table.table
    rows = table[table["desnz_id"].isin([wanted, re.sub(r"_\d$", "", wanted)])]
    if len(rows) != 1:
        raise ResolutionError(f"no row with DESNZ ID '{wanted}' in the {factor_table.year} factors "
                              "(IDs exist from 2023)")
    return rows.iloc[0]


def desnz_row_unit(row: pd.Series) -> str:
    """The canonical unit of a factor row's UOM (``kWh (Gross CV)`` -> ``kWh``)."""
    uom = re.sub(r"\s*\((gross|net) cv\)", "", str(row["uom"]), flags=re.IGNORECASE)
    try:
        return units.parse_unit(uom)
    except units.UnitError:
        raise ResolutionError(f"DESNZ row '{row['desnz_id']}' is in '{row['uom']}', a unit not "
                              "supported here") from None


def _resolve_desnz_row(catalogue: Catalogue, activity: str, unit: str,
                       factor_table: FactorTable) -> list[ResolvedLine]:
    wanted = activity[len(DESNZ_PREFIX):]
    row = desnz_row(factor_table, wanted)
    factor_unit = desnz_row_unit(row)
    if not units.compatible(unit, factor_unit):
        raise ResolutionError(f"DESNZ row '{wanted}' is per '{row['uom']}'; {unit} cannot convert "
                              "to it")
    scope_text = str(row["scope"]).lower()
    if scope_text not in ("scope 1", "scope 2", "scope 3"):
        raise ResolutionError(f"DESNZ row '{wanted}' is '{row['scope']}', not an emission scope")
    scope = int(scope_text[-1])
    category = None
    if scope == 3:
        category = next((value for prefix, value in catalogue.desnz_row_categories.items()
                         if str(row["level_1"]).startswith(prefix)), None)
        if category is None:
            raise ResolutionError(f"DESNZ row '{wanted}' ({row['level_1']}) has no Scope 3 category "
                                  "in desnz_row_categories")
    line = LineSpec(DIRECT, scope, category, ())
    resolved = [_resolved(line, FactorSpec(factor_unit, ()), row, unit, factor_table)]
    biogenic = _outside_of_scopes_row(factor_table, row) if scope == 1 else None
    if biogenic is not None:
        outside = LineSpec(OUTSIDE_OF_SCOPES, OUTSIDE_OF_SCOPES_NUMBER, None, ())
        resolved.append(_resolved(outside, FactorSpec(factor_unit, ()), biogenic, unit, factor_table))
    return resolved


def _outside_of_scopes_row(factor_table: FactorTable, row: pd.Series) -> pd.Series | None:
    """The "Outside of scopes" row of the same fuel and unit as a Scope 1 DESNZ row, if DESNZ
    publishes one: its ID ends in the same item and unit numbers (``1_101_1011_8`` ->
    ``99_604_1011_8``)."""
    table = factor_table.table
    item_and_unit = "_" + "_".join(str(row["desnz_id"]).split("_")[-2:])
    outside = table[(table["level_1"].map(fold_label) == OUTSIDE_OF_SCOPES_LEVEL_1)
                    & table["desnz_id"].fillna("").str.endswith(item_and_unit)]
    return outside.iloc[0] if len(outside) == 1 else None


def _resolve_spend(activity: str, unit: str, spend: SpendFactors | None) -> list[ResolvedLine]:
    category = fold_category(activity[len(SPEND_PREFIX):])
    if spend is None:
        raise ResolutionError("spend lines need a spend factor table (--spend-factors FILE)")
    if category not in spend.table.index:
        raise ResolutionError(f"procurement category '{category}' is not in {spend.source.name}: "
                              f"known are {', '.join(spend.table.index)}")
    if unit != "GBP":
        raise ResolutionError(f"spend must be in GBP, not {unit}")
    row = spend.table.loc[category]
    base = f"GBP ({row['price_base_year']} prices)"
    return [ResolvedLine(
        line=DIRECT, scope=3, category=int(row["scope_3_category"]), factor_key=f"spend/{category}",
        desnz_id="", factor_source_row=int(row["source_row"]), factor_unit="GBP", factor_uom=base,
        kgco2e=float(row["kgco2e_per_gbp"]), gases={UNATTRIBUTED: float(row["kgco2e_per_gbp"])},
        unit_conversion=1.0, unit_conversion_note="none",
        factor_set=f"{row['source']} ({spend.source.name})")]


#: The factor unit of a spend line that is not priced (see `unpriced_spend_line`).
NOT_PRICED = "not priced: no spend factor table given (--spend-factors FILE)"


def unpriced_spend_line(unit: str) -> ResolvedLine | None:
    """The line of a ``spend:<category>`` row that the boundary leaves out and that no spend factor
    table prices: accounted for as outside the boundary, at zero, with `NOT_PRICED` as its unit.
    None for a unit that is not GBP (such a row is rejected whatever the boundary)."""
    if unit != "GBP":
        return None
    return ResolvedLine(line=DIRECT, scope=3, category=None, factor_key="", desnz_id="",
                        factor_source_row=0, factor_unit="GBP", factor_uom=NOT_PRICED, kgco2e=0.0,
                        gases={}, unit_conversion=1.0, unit_conversion_note="none")


def resolve(catalogue: Catalogue, activity: str, unit: str, factor_table: FactorTable,
            spend: SpendFactors | None = None) -> list[ResolvedLine]:
    """The priced ledger lines of one activity reported in one canonical unit.

    ``spend`` prices ``spend:<category>`` activities. Raises `ResolutionError` with a plain reason
    when the activity cannot be priced in that unit or year.
    """
    if activity.startswith(SPEND_PREFIX):
        return _resolve_spend(activity, unit, spend)
    if activity.startswith(DESNZ_PREFIX):
        return _resolve_desnz_row(catalogue, activity, unit, factor_table)
    entry = catalogue.activities[activity]
    resolved = []
    for line in entry.lines:
        spec = _choose(line.factors, unit) if entry.accepts_unit(unit) else None
        if spec is None:
            raise ResolutionError(
                f"{activity} cannot be measured in {unit}: accepted units are "
                f"{', '.join(catalogue.accepted_units(activity))}")
        try:
            row = _match(spec, factor_table)
        except ResolutionError as error:
            if line.line == DIRECT:
                raise ResolutionError(f"no {activity} factor in {spec.unit} in the "
                                      f"{factor_table.year} factors ({error})") from None
            raise
        resolved.append(_resolved(line, spec, row, unit, factor_table))
    return resolved


def explain_activity(name: str, year: int, factors) -> pd.DataFrame:
    """The factor rows an activity uses in one year: one row per (unit, line), with values.

    ``factors`` is a `FactorLibrary`; ``name`` is a catalogue name, an alias or ``desnz:<ID>``.
    """
    catalogue = load_catalogue()
    canonical = catalogue.canonical_name(name)
    if canonical is None:
        raise UsageError(catalogue.unknown_activity_message(name))
    factor_table = factors.table(year)
    units_to_show = ([None] if canonical.startswith(DESNZ_PREFIX)
                     else list(catalogue.activities[canonical].units))
    records = []
    for unit in units_to_show:
        try:
            if unit is None:
                unit = desnz_row_unit(desnz_row(factor_table, canonical[len(DESNZ_PREFIX):]))
            lines = resolve(catalogue, canonical, unit, factor_table)
        except ResolutionError as error:
            records.append({"activity": canonical, "unit": unit, "line": DIRECT, "note": str(error)})
            continue
        records += [{"activity": canonical, "unit": unit, "line": line.line, "scope": line.scope,
                     "category": line.category or "", "factor_year": year,
                     "desnz_id": line.desnz_id, "factor_uom": line.factor_uom,
                     "kgco2e_per_unit": line.kgco2e,
                     **{name: value for name, value in line.values().items() if name != "kgco2e"},
                     "factor_source_row": line.factor_source_row, "factor_key": line.factor_key}
                    for line in lines]
    frame = pd.DataFrame(records)
    parts = [column for column in frame if column.startswith(("kgco2e_", "kgco2_")) and column != "kgco2e_per_unit"]
    return frame.drop(columns=[column for column in parts if not frame[column].fillna(0).any()])
