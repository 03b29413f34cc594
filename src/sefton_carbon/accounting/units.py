"""Units: one pint registry for the project, and the spellings of units found in council data.

Design decisions a reader should know:

* Council returns spell units many ways (``kWh``, ``KWH``, ``kwh``, ``cubic metres``...). They are matched
  against an explicit allow-list (`SPELLINGS`), never guessed. Each spelling maps to one canonical unit
  name (``kWh``, ``m3``, ``uk_gallon``...), and each canonical name to a pint expression.
* Bare ``gallons`` is refused: pint's ``gallon`` is the US gallon (3.785411784 l), while a UK return
  almost always means the imperial gallon (4.54609 l). Bare ``ton`` is refused for the same reason
  (long ton 1016 kg, short ton 907 kg, tonne 1000 kg). ``thermie`` (1 Mcal) is refused because it is
  easily confused with the gas-billing therm.
* Conversions are computed once per distinct (reported unit, factor unit) pair by `conversion` and
  applied to whole columns by the caller: no pint Quantity is ever built per row.
"""

from __future__ import annotations

import difflib
import hashlib
import importlib.metadata
import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

#: The UK therm [J] (see `registry`).
UK_THERM_JOULES = 105505585.257348


@lru_cache(maxsize=None)
def registry():
    """The project's single unit registry, created on first use.

    pint caches its parsed default definitions in the user's cache folder, which cuts the creation
    time from about 0.4 s to 0.02 s after the first run.
    """
    import pint

    units = pint.UnitRegistry(cache_folder=":auto:")
    # The UK therm: 100,000 British thermal units (IT) = 105,505,585.257348 J, as defined in the
    # Units of Measurement Regulations 1995 (SI 1995/1804) and used on UK gas bills
    # (1 therm = 29.3071 kWh).
    units.define(f"uk_therm = {UK_THERM_JOULES} * joule")
    # Activity dimensions that are not physical: a travelling passenger, a hotel room for one night,
    # and one full-time-equivalent working hour (the DESNZ homeworking factor unit).
    units.define("passenger = [passenger]")
    units.define("room_night = [room_night]")
    units.define("fte_hour = [fte_hour]")
    # Money, for spend-based Scope 3 lines: pounds sterling only, never converted.
    units.define("GBP = [currency]")
    return units


#: Canonical unit name -> pint expression.
PINT_EXPRESSIONS: dict[str, str] = {
    "kWh": "kilowatt_hour",
    "MWh": "megawatt_hour",
    "GWh": "gigawatt_hour",
    "therm": "uk_therm",
    "m3": "meter ** 3",
    "litre": "liter",
    "uk_gallon": "imperial_gallon",
    "us_gallon": "gallon",
    "tonne": "metric_ton",
    "kg": "kilogram",
    "km": "kilometer",
    "mile": "mile",
    "passenger_km": "passenger * kilometer",
    "passenger_mile": "passenger * mile",
    "tonne_km": "metric_ton * kilometer",
    "fte_hour": "fte_hour",
    "room_night": "room_night",
    "GBP": "GBP",
}

#: Canonical unit name -> the spellings accepted for it (compared after `normalise_spelling`).
SPELLINGS: dict[str, tuple[str, ...]] = {
    "kWh": ("kwh", "kw h", "kw.h", "kwhr", "kwhs", "kilowatt hour", "kilowatt hours", "kilowatt-hour",
            "kilowatt-hours", "kwh (gross cv)", "kwh gross cv", "kwh (gross)"),
    "MWh": ("mwh", "mw h", "megawatt hour", "megawatt hours", "megawatt-hour", "megawatt-hours"),
    "GWh": ("gwh", "gw h", "gigawatt hour", "gigawatt hours", "gigawatt-hour", "gigawatt-hours"),
    "therm": ("therm", "therms", "uk therm", "uk therms"),
    "m3": ("m3", "m^3", "m**3", "cubic metre", "cubic metres", "cubic meter", "cubic meters", "cu m",
           "cu. m", "cu.m"),
    "litre": ("l", "litre", "litres", "liter", "liters", "ltr", "ltrs", "lt"),
    "uk_gallon": ("uk gallon", "uk gallons", "imperial gallon", "imperial gallons", "gallon (uk)",
                  "gallons (uk)", "gal (uk)", "uk gal", "imp gal", "imp. gal"),
    "us_gallon": ("us gallon", "us gallons", "gallon (us)", "gallons (us)", "gal (us)", "us gal"),
    "tonne": ("t", "tonne", "tonnes", "metric ton", "metric tons", "metric tonne", "metric tonnes"),
    "kg": ("kg", "kgs", "kilogram", "kilograms", "kilogramme", "kilogrammes", "kilo", "kilos"),
    "km": ("km", "kms", "kilometre", "kilometres", "kilometer", "kilometers"),
    "mile": ("mile", "miles", "mi"),
    "passenger_km": ("passenger.km", "passenger km", "passenger-km", "passenger kilometre",
                     "passenger kilometres", "passenger kilometer", "passenger kilometers", "pkm", "p.km"),
    "passenger_mile": ("passenger.mile", "passenger.miles", "passenger mile", "passenger miles",
                       "passenger-mile", "passenger-miles"),
    "tonne_km": ("tonne.km", "tonne km", "tonne-km", "tkm"),
    "fte_hour": ("fte hour", "fte hours", "fte working hour", "fte working hours", "per fte working hour",
                 "fte_hour"),
    "room_night": ("room night", "room nights", "room per night", "rooms per night", "room-night",
                   "room-nights"),
    "GBP": ("gbp", "\u00a3", "pounds", "pounds sterling", "gbp (\u00a3)"),
}

#: Spellings that are refused on purpose, with the reason given to the user.
REFUSED: dict[str, str] = {
    **dict.fromkeys(("gallon", "gallons", "gal", "gals"),
                    "is ambiguous: write 'UK gallons' (imperial, 4.54609 litres) or 'US gallons' "
                    "(3.785411784 litres)"),
    **dict.fromkeys(("ton", "tons"),
                    "is ambiguous: write 'tonnes' (1,000 kg); long tons (1,016 kg) and short tons "
                    "(907 kg) are not accepted"),
    **dict.fromkeys(("short ton", "short tons", "long ton", "long tons"),
                    "is not accepted: convert to 'tonnes' (1,000 kg)"),
    **dict.fromkeys(("thermie", "thermies"),
                    "is not a gas-billing unit (a thermie is 4.1868 MJ): write 'therms' (UK therm, "
                    "29.3071 kWh) or 'kWh'"),
}

_SPELLING_TO_UNIT = {spelling: unit for unit, spellings in SPELLINGS.items() for spelling in spellings}


class UnitError(ValueError):
    """A unit that cannot be used: unknown, ambiguous, or of the wrong dimension."""


def normalise_spelling(text: str) -> str:
    """Lower-case a unit as written, fold white space and superscripts, drop a trailing full stop."""
    folded = " ".join(str(text).replace("\u00b3", "3").replace("\u00b2", "2").lower().split())
    return folded.rstrip(".")


def parse_unit(text: str) -> str:
    """Canonical unit name for a unit as written in council data.

    Raises `UnitError` naming the accepted spellings when the text is unknown or ambiguous.
    """
    spelling = normalise_spelling(text)
    if not spelling:
        raise UnitError("unit is empty")
    if spelling in _SPELLING_TO_UNIT:
        return _SPELLING_TO_UNIT[spelling]
    if spelling in REFUSED:
        raise UnitError(f"unit '{text}' {REFUSED[spelling]}")
    close = difflib.get_close_matches(spelling, list(_SPELLING_TO_UNIT), n=1, cutoff=0.75)
    hint = f"did you mean '{close[0]}'? " if close else ""
    raise UnitError(f"unknown unit '{text}': {hint}accepted units are {', '.join(SPELLINGS)}")


@dataclass(frozen=True)
class Conversion:
    """How a quantity in one unit becomes a quantity in a factor's unit.

    ``multiplier`` is dimensionless-in-effect: quantity [from_unit] x multiplier = quantity [to_unit].
    """

    from_unit: str
    to_unit: str
    multiplier: float
    note: str


def _quantity(unit: str):
    return registry().Quantity(1.0, PINT_EXPRESSIONS[unit])


def compatible(from_unit: str, to_unit: str) -> bool:
    """Whether a quantity in ``from_unit`` can be expressed in ``to_unit`` (see `conversion`)."""
    try:
        conversion(from_unit, to_unit)
    except UnitError:
        return False
    return True


@lru_cache(maxsize=None)
def conversion(from_unit: str, to_unit: str) -> Conversion:
    """The multiplier from one canonical unit to another, computed once per pair.

    A plain distance converts to a passenger distance as the journey of one passenger (a member of
    staff reporting the miles of a train journey travelled them as one passenger). Pairs pint has
    answered before are read from `ConversionCache`, so that pint is imported only for new pairs.
    """
    if from_unit == to_unit:
        return Conversion(from_unit, to_unit, 1.0, "none")
    cache = ConversionCache.load()
    known = cache.get(from_unit, to_unit)
    if known is None:
        known = _convert_with_pint(from_unit, to_unit)
        cache.put(from_unit, to_unit, known)
    if known == "incompatible":
        raise UnitError(f"cannot convert {from_unit} to {to_unit}")
    multiplier, note = known
    return Conversion(from_unit, to_unit, multiplier, note)


def _convert_with_pint(from_unit: str, to_unit: str) -> tuple[float, str] | str:
    source, target = _quantity(from_unit), _quantity(to_unit)
    note_suffix = ""
    if source.dimensionality != target.dimensionality:
        as_one_passenger = source * registry().passenger
        if as_one_passenger.dimensionality != target.dimensionality:
            return "incompatible"
        source, note_suffix = as_one_passenger, " (one passenger)"
    multiplier = float(source.to(PINT_EXPRESSIONS[to_unit]).magnitude)
    return multiplier, f"1 {from_unit} = {multiplier:.12g} {to_unit}{note_suffix}"


class ConversionCache:
    """Answers pint gave for pairs of canonical units, kept as JSON in the user's cache folder.

    Importing pint takes about a third of a second; the answers for the few unit pairs a council uses
    never change for a given pint version and set of definitions, which the file name records. A
    cache that cannot be read or written is simply not used.
    """

    _loaded: ConversionCache | None = None

    def __init__(self, path: Path | None, entries: dict):
        self.path, self.entries = path, entries

    @classmethod
    def load(cls) -> ConversionCache:
        if cls._loaded is None:
            path = cls.location()
            entries = {}
            if path is not None and path.is_file():
                try:
                    entries = json.loads(path.read_text(encoding="utf-8"))
                except (OSError, ValueError):
                    entries = {}
            cls._loaded = cls(path, entries if isinstance(entries, dict) else {})
        return cls._loaded

    @staticmethod
    def location() -> Path | None:
        try:
            version = importlib.metadata.version("pint")
        except importlib.metadata.PackageNotFoundError:
            return None
        definitions = hashlib.sha256(json.dumps([PINT_EXPRESSIONS, UK_THERM_JOULES]).encode()).hexdigest()[:12]
        root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
        return root / "sefton-carbon" / f"unit-conversions-pint-{version}-{definitions}.json"

    def get(self, from_unit: str, to_unit: str):
        value = self.entries.get(f"{from_unit}->{to_unit}")
        if value == "incompatible":
            return value
        if isinstance(value, list) and len(value) == 2 and isinstance(value[0], float):
            return value[0], str(value[1])
        return None

    def put(self, from_unit: str, to_unit: str, value) -> None:
        self.entries[f"{from_unit}->{to_unit}"] = list(value) if isinstance(value, tuple) else value
        if self.path is None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            partial = self.path.with_suffix(f".{os.getpid()}.tmp")
            partial.write_text(json.dumps(self.entries, sort_keys=True), encoding="utf-8")
            partial.replace(self.path)
        except OSError:
            self.path = None
