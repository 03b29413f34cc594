"""Cell values as people write them in returns and registers: dates and numbers.

Dates are ISO (2023-04-01), UK day-first (01/04/2023, so 03/04/2023 is 3 April), or Excel serial
day numbers; a return's dates must also lie in `DATE_WINDOW`. Quantities are what Python's ``float``
reads (which includes full-width digits and surrounding non-breaking spaces), and may carry
thousands separators (1,234.5). No cell holds more than `MAX_CELL_CHARACTERS`.
"""

from __future__ import annotations

import datetime as dt
import re

#: Excel's day zero for serial dates (1900 date system, after its 1900 leap-year quirk).
EXCEL_EPOCH = dt.date(1899, 12, 30)

#: The dates a return may hold, first and last day included: a council's own reporting runs from the
#: 1990 Kyoto base year to the end of the century. Anything outside is a typing error (2607 for
#: 2023), refused before it reaches pandas, whose nanosecond dates end in 2262.
DATE_WINDOW = (dt.date(1990, 1, 1), dt.date(2100, 12, 31))

#: The most characters a cell of any table read may hold: four times the 32,767 that Excel lets a
#: cell hold, and the field limit Python's csv module applies by default. A longer cell is pasted
#: text or an attack, never a figure, a name or a note of a return or register.
MAX_CELL_CHARACTERS = 131_072

#: An ISO date, or a midnight on it as a date-time column writes it (``2023-04-01 00:00:00``; Parquet
#: timestamps with a time zone, ``2023-04-01 00:00:00+00``): the day as written.
_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})([ T]00:00(:00(\.0+)?)? ?(Z|[+-]\d{2}(:?\d{2})?)?)?$")
#: A date with a time of day that is not midnight: a period is made of whole days.
DATE_AND_TIME = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}[ T](?!0?0:00(:00(\.0+)?)?( ?(Z|[+-]\S*))?$)\d{1,2}:\d{2}")

_UK_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")

_SERIAL_DATE = re.compile(r"^\d{5}$")

_THOUSANDS = re.compile(r"^-?\d{1,3}(,\d{3})+(\.\d+)?$")


def parse_date(text: str) -> dt.date | None:
    """A date as written in a return, or None when it is not a real date."""
    text = text.strip()
    try:
        if match := _ISO_DATE.match(text):
            return dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        if match := _UK_DATE.match(text):
            return dt.date(int(match.group(3)), int(match.group(2)), int(match.group(1)))
        if _SERIAL_DATE.match(text):
            return EXCEL_EPOCH + dt.timedelta(days=int(text))
    except ValueError:
        return None
    return None


def parse_quantity(text: str) -> float | None:
    """A quantity as written: digits with an optional sign, decimal point and thousands separators."""
    cleaned = text.strip()
    if _THOUSANDS.match(cleaned):
        cleaned = cleaned.replace(",", "")
    try:
        return float(cleaned)
    except ValueError:
        return None


def in_date_window(day: dt.date) -> bool:
    """Whether a date lies in `DATE_WINDOW`."""
    return DATE_WINDOW[0] <= day <= DATE_WINDOW[1]


def long_cell_reason(length: int) -> str:
    """Why a cell of ``length`` characters, over `MAX_CELL_CHARACTERS`, is refused."""
    return (f"cell holds {length:,} characters, over the {MAX_CELL_CHARACTERS:,} a cell may hold: "
            "keep long text out of the table")
