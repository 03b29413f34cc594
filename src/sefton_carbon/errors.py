"""Errors that carry enough context to be printed as one plain line.

A `DataError` is a problem with a user's file (exit code 3); a `UsageError` is a problem with how a
command or function was called (exit code 2). Neither is ever shown as a traceback by the CLI.
"""

from __future__ import annotations


class SeftonCarbonError(Exception):
    """Base class of every error this package raises on purpose."""

    exit_code = 1


class UsageError(SeftonCarbonError):
    """The call itself is wrong: an unknown option value, a missing file, a year with no factors."""

    exit_code = 2


class DataError(SeftonCarbonError):
    """A file's content cannot be used.

    The message names the place: file, and where known sheet, row, line, column or key.
    """

    exit_code = 3

    def __init__(self, message: str, *, file: str | None = None, sheet: str | None = None,
                 row: int | None = None, column: str | None = None, key: str | None = None,
                 line: int | None = None):
        self.reason = message
        self.file, self.sheet, self.row, self.column, self.key, self.line = (
            file, sheet, row, column, key, line)
        super().__init__(self._render())

    def _render(self) -> str:
        place = []
        if self.file:
            place.append(str(self.file))
        if self.sheet:
            place.append(f"sheet '{self.sheet}'")
        if self.line is not None:
            place.append(f"line {self.line}")
        if self.row is not None:
            place.append(f"row {self.row}")
        if self.column:
            place.append(f"column '{self.column}'")
        if self.key:
            place.append(f"key '{self.key}'")
        return f"{', '.join(place)}: {self.reason}" if place else self.reason
