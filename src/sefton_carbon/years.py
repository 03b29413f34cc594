"""Reporting years: UK financial years, written ``2023/24`` (1 April 2023 to 31 March 2024)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sefton_carbon.errors import UsageError

_PATTERN = re.compile(r"^\s*(\d{4})\s*[/\-]\s*(\d{2}|\d{4})\s*$")


@dataclass(frozen=True, order=True)
class ReportingYear:
    """A UK financial year, identified by the calendar year in which it starts."""

    start_year: int

    @classmethod
    def parse(cls, text: str | ReportingYear) -> ReportingYear:
        """Read ``2023/24`` (also ``2023-24`` and ``2023/2024``)."""
        if isinstance(text, ReportingYear):
            return text
        match = _PATTERN.match(str(text))
        if match:
            start, end = int(match.group(1)), match.group(2)
            end_year = int(end) if len(end) == 4 else (start // 100) * 100 + int(end)
            if end_year == start + 1 or (len(end) == 2 and int(end) == (start + 1) % 100):
                return cls(start)
        raise UsageError(f"reporting year '{text}' is not a UK financial year: write it as 2023/24 "
                         "(1 April 2023 to 31 March 2024)")

    @property
    def label(self) -> str:
        """``2023/24``."""
        return f"{self.start_year}/{(self.start_year + 1) % 100:02d}"

    @property
    def first_day(self) -> dt.date:
        return dt.date(self.start_year, 4, 1)

    @property
    def last_day(self) -> dt.date:
        return dt.date(self.start_year + 1, 3, 31)

    @property
    def default_factor_year(self) -> int:
        """The factor set used by default: the calendar year in which the reporting year starts."""
        return self.start_year

    def __str__(self) -> str:
        return self.label
