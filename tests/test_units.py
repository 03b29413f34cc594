"""Units: the allow-list of spellings, refusals, and conversions per distinct pair."""

import pytest

from sefton_carbon.accounting import units
from sefton_carbon.accounting.units import UnitError, conversion, parse_unit


@pytest.mark.parametrize("written, canonical", [
    ("kWh", "kWh"), ("KWH", "kWh"), (" kwh ", "kWh"), ("kilowatt hours", "kWh"), ("MWh", "MWh"),
    ("GWh", "GWh"), ("therms", "therm"), ("m3", "m3"), ("m³", "m3"), ("cubic metres", "m3"),
    ("Cubic Meters", "m3"), ("litres", "litre"), ("l", "litre"), ("Liters", "litre"),
    ("UK gallons", "uk_gallon"), ("imperial gallons", "uk_gallon"), ("gallons (UK)", "uk_gallon"),
    ("US gallons", "us_gallon"), ("tonnes", "tonne"), ("t", "tonne"), ("kg", "kg"), ("km", "km"),
    ("miles", "mile"), ("passenger.km", "passenger_km"), ("passenger km", "passenger_km"),
    ("FTE hours", "fte_hour"), ("FTE working hours", "fte_hour"), ("room nights", "room_night"),
    ("Room per night", "room_night"),
])
def test_accepted_spellings(written, canonical):
    assert parse_unit(written) == canonical


@pytest.mark.parametrize("written, fragment", [
    ("gallons", "UK gallons"), ("gal", "UK gallons"), ("tons", "tonnes"), ("short ton", "tonnes"),
    ("thermie", "therms"), ("kwhh", "did you mean 'kwh'"), ("bananas", "accepted units are"),
    ("", "empty"),
])
def test_refused_spellings_say_what_would_be_accepted(written, fragment):
    with pytest.raises(UnitError) as raised:
        parse_unit(written)
    assert fragment in str(raised.value)


@pytest.mark.parametrize("source, target, multiplier", [
    ("MWh", "kWh", 1000.0),
    ("GWh", "kWh", 1_000_000.0),
    # UK therm = 105,505,585.257348 J; 1 kWh = 3.6 MJ.
    ("therm", "kWh", 105505585.257348 / 3.6e6),
    ("uk_gallon", "litre", 4.54609),
    ("us_gallon", "litre", 3.785411784),
    ("mile", "km", 1.609344),
    ("tonne", "kg", 1000.0),
    ("litre", "m3", 0.001),
    ("km", "passenger_km", 1.0),
    ("mile", "passenger_km", 1.609344),
])
def test_conversion_multipliers(source, target, multiplier):
    assert conversion(source, target).multiplier == pytest.approx(multiplier, rel=1e-12)


def test_therm_is_29_3071_kwh():
    assert conversion("therm", "kWh").multiplier == pytest.approx(29.3071, abs=1e-4)


def test_passenger_conversion_is_noted():
    assert "one passenger" in conversion("mile", "passenger_km").note


@pytest.mark.parametrize("source, target", [("litre", "kWh"), ("kWh", "kg"), ("room_night", "km")])
def test_incompatible_units_raise(source, target):
    with pytest.raises(UnitError):
        conversion(source, target)


def test_conversion_is_computed_once_per_pair():
    conversion.cache_clear()
    for _ in range(1000):
        conversion("MWh", "kWh")
    assert conversion.cache_info().misses == 1


def test_every_canonical_unit_has_a_pint_expression_and_spellings():
    assert set(units.SPELLINGS) == set(units.PINT_EXPRESSIONS)
    spellings = [s for group in units.SPELLINGS.values() for s in group]
    assert len(spellings) == len(set(spellings)), "a spelling maps to two units"
    assert not set(spellings) & set(units.REFUSED)


def test_conversions_are_cached_as_pint_answered_them(tmp_path, monkeypatch):
    from sefton_carbon.accounting.units import ConversionCache, _convert_with_pint

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(ConversionCache, "_loaded", None)
    conversion.cache_clear()
    assert conversion("therm", "kWh").multiplier == pytest.approx(29.3071, abs=1e-4)
    with pytest.raises(UnitError):
        conversion("litre", "kWh")
    path = ConversionCache.location()
    assert path.is_relative_to(tmp_path) and path.is_file()
    monkeypatch.setattr(ConversionCache, "_loaded", None)
    conversion.cache_clear()
    cache = ConversionCache.load()
    assert cache.get("therm", "kWh") == _convert_with_pint("therm", "kWh")
    assert cache.get("litre", "kWh") == "incompatible"
    path.write_text("not json", encoding="utf-8")  # a damaged cache is ignored, not trusted
    monkeypatch.setattr(ConversionCache, "_loaded", None)
    conversion.cache_clear()
    assert conversion("MWh", "kWh").multiplier == 1000.0
