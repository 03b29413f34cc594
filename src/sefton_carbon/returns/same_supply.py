"""Which rows are the same supply: the rule that counts each supply once, at every input size.

GHG Protocol Corporate Standard, chapter 8 ("Avoiding double counting" within a company's own
inventory): an emission source is counted once, whichever department reports it. Two kinds of
activity call for two rules (the ``metered`` flag of the activity catalogue):

* **Metered supplies** (electricity, gas, heat, water). When a row names a meter, the meter is the
  supply, whichever department or site name it comes under: an exact copy (same meter, activity,
  period, unit and quantity) is counted once and listed naming the original, and rows whose periods
  overlap on one meter are both refused, each naming the other; a correction (``data_quality``
  ``correction``) overlaps the bill it corrects and is no overlap, but is refused with a refused
  row it overlaps on its meter. When neither of two overlapping
  rows at one site names a meter, both are counted and both carry a warning ("possible double
  count: give the meter id"), since two unnamed meters at one site are as likely as one bill sent
  twice.
* **Quantities bought or travelled** (fuels, mileage, flights, rail, hotel nights, waste,
  refrigerant, spend) add up: several rows in one period are normal (a bulk tank and fuel cards at
  one depot) and all count. Only an exact copy (same department, site, meter, activity, period,
  unit and quantity) is counted once and listed naming the original.

`same_supply` applies the rule to a table of rows; both the in-memory reader and the large-input
engines call it, so the rule exists once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sefton_carbon.accounting.rows import REJECTED_COLUMNS

#: Days per group in the composite sort key (group x DAY_SPAN + day): more than any period's range.
DAY_SPAN = 1 << 20
NANOSECONDS_PER_DAY = 86_400 * 10**9
#: A row that overlaps many others names this many of them and counts the rest, so that one long
#: bill overlapped by thousands of daily ones gets a reason a person can read.
REASONS_NAMED = 5
#: The data quality of a row that corrects an earlier bill (it may be negative): its period overlaps
#: that bill's, so it is no overlap for the rule (a copy of it is still a copy).
CORRECTION = "correction"
#: The start of the warning on rows that may be one supply counted twice.
POSSIBLE_DOUBLE_COUNT = "possible double count"
#: The columns `same_supply` reads.
SUPPLY_COLUMNS = ["source_file", "source_sheet", "source_row", "department", "site", "meter", "activity",
                  "unit", "quantity", "period_start", "period_end", "data_quality"]


@dataclass
class SameSupply:
    """What the rule found. ``set_aside``: per row, whether it is not counted (a copy, or an
    overlap on one meter); ``rejected``: those rows with their reasons (`REJECTED_COLUMNS`);
    ``warnings``: per row, the possible-double-count warning, or "" (the row counts)."""

    set_aside: np.ndarray
    rejected: pd.DataFrame
    warnings: np.ndarray


def _group_code(rows: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """One int64 per row identifying its combination of the categorical ``columns``."""
    code = np.zeros(len(rows), dtype=np.int64)
    for column in columns:
        series = rows[column]
        code *= len(series.cat.categories) + 1
        code += series.cat.codes.to_numpy()
    return code


def _given(series: pd.Series) -> np.ndarray:
    """Per row of a categorical column, whether it holds text (not empty, not missing)."""
    written = np.append(np.asarray(series.cat.categories.astype(str)) != "", False)
    return written[series.cat.codes.to_numpy()]


def _compact(choice: np.ndarray, when_true: np.ndarray, when_false: np.ndarray) -> np.ndarray:
    """Group numbers 0..k-1 for rows grouped by ``when_true`` where ``choice`` holds and by
    ``when_false`` elsewhere (the two never share a group; ``when_false`` is not read when
    ``choice`` holds everywhere)."""
    keys = when_true * 2 if choice.all() else np.where(choice, when_true * 2, when_false * 2 + 1)
    return pd.factorize(keys)[0].astype(np.int64)


def _copies(content: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Positions of rows that repeat an earlier row of ``content`` exactly, and of those originals.

    One 64-bit hash per row finds the candidates quickly; only they are compared column by column.
    """
    mixed = np.zeros(len(content), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for number, column in enumerate(content.columns):
            values = content[column].to_numpy()
            bits = values.view(np.uint64) if values.dtype == np.float64 else values.astype(np.uint64)
            mixed = (mixed ^ bits) * np.uint64(0x9E3779B97F4A7C15 + 2 * number)
    candidates = np.flatnonzero(pd.Series(mixed).duplicated(keep=False).to_numpy())
    if not len(candidates):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    subset = content.iloc[candidates]
    repeated = subset.duplicated(keep="first").to_numpy()
    firsts = subset.reset_index().drop_duplicates(list(content.columns)).set_index(list(content.columns))
    copies = candidates[repeated]
    originals = firsts.loc[pd.MultiIndex.from_frame(subset[repeated]), "index"].to_numpy()
    return copies, originals


def _sharing_start(group: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Positions, in order, of the rows whose group and period start another row shares: only
    they can be exact copies. Found by sorting one composite key, which costs little on the
    sorted returns that meters' readings mostly are, where hashing every row costs more."""
    if not len(group):
        return np.zeros(0, dtype=np.int64)
    first = int(start.min())
    if int(group.max()) < (1 << 62) // DAY_SPAN and int(start.max()) - first < DAY_SPAN:
        key = group * DAY_SPAN
        key += start - first  # one number per (group, start)
        in_order = bool((key[1:] >= key[:-1]).all())  # a return in order (the usual case)
        order = np.arange(len(key)) if in_order else np.argsort(key)
        key = key if in_order else key[order]
        same = key[1:] == key[:-1]
    else:
        order = np.lexsort((start, group))
        same = (group[order][1:] == group[order][:-1]) & (start[order][1:] == start[order][:-1])
    sharing = np.zeros(len(group), dtype=bool)
    sharing[order[1:][same]] = True
    sharing[order[:-1][same]] = True
    return np.flatnonzero(sharing)


def _overlaps(group: np.ndarray, start: np.ndarray, end: np.ndarray, candidates: np.ndarray) -> list[tuple[int, int]]:
    """(later, earlier) positions of rows whose period overlaps an earlier-starting row of the same
    group: sorted by group then start, a row overlaps when it starts on or before the latest end so
    far, held by the earlier row. ``start`` and ``end`` are in days."""
    if not len(candidates):
        return []
    every = len(candidates) == len(group)  # candidates are then every position, in order
    key_group, key_start = (group, start) if every else (group[candidates], start[candidates])
    first = int(start.min())
    fast = int(key_group.max()) < (1 << 62) // DAY_SPAN and int(end.max()) - first < DAY_SPAN
    if fast:  # one composite integer key: sort once, running maximum with a per-group offset
        offset = key_group * DAY_SPAN
        key = offset + (key_start - first)
        if (key[1:] >= key[:-1]).all():  # a return in order (the usual case) is left as it is
            order, sorted_group, starts, ends = candidates, key_group, key_start, end if every else end[candidates]
        else:
            by_key = np.argsort(key, kind="stable")
            order, sorted_group, starts, offset = candidates[by_key], key_group[by_key], key_start[by_key], offset[by_key]
            ends = end[order]
        running = ends - first
        running += offset
        np.maximum.accumulate(running, out=running)
        running -= offset
        running += first
    else:
        order = candidates[np.lexsort((candidates, key_start, key_group))]
        sorted_group, starts, ends = group[order], start[order], end[order]
        runs = np.cumsum(np.r_[True, sorted_group[1:] != sorted_group[:-1]])
        running = pd.Series(ends).groupby(runs).cummax().to_numpy()
    same = np.r_[False, sorted_group[1:] == sorted_group[:-1]]
    overlapping = np.flatnonzero(same[1:] & (starts[1:] <= running[:-1])) + 1
    # The row holding the latest end so far: the last sorted position whose end equals the running
    # maximum (a group's first row always does), carried forward. One pass, so one long bill
    # overlapped by thousands of short ones costs O(n log n), not a walk back per row.
    positions = np.arange(len(order))
    holder = np.maximum.accumulate(np.where(ends == running, positions, 0))
    return list(zip(order[overlapping].tolist(), order[holder[overlapping - 1]].tolist()))


def _overlapping_refused(group: np.ndarray, start: np.ndarray, end: np.ndarray, refused: np.ndarray,
                         corrections: np.ndarray) -> list[tuple[int, int]]:
    """(correction, refused) positions: each of the ``corrections`` whose period overlaps one of the
    ``refused`` rows of its group, with a refused row it overlaps. One sort of the refused rows by
    group then start, and a search per correction for the last refused row of its group starting on
    or before its end: the row holding the latest end up to there overlaps the correction when that
    end is on or after the correction's start. ``start`` and ``end`` are in days."""
    if not len(refused) or not len(corrections):
        return []
    first = int(min(start[refused].min(), start[corrections].min()))
    span = int(max(end[refused].max(), end[corrections].max())) - first + 1
    order = refused[np.lexsort((start[refused], group[refused]))]
    key = group[order] * span + (start[order] - first)
    new_group = np.r_[True, group[order][1:] != group[order][:-1]]
    running = pd.Series(end[order]).groupby(np.cumsum(new_group)).cummax().to_numpy()
    holder = order[np.maximum.accumulate(np.where(end[order] == running, np.arange(len(order)), 0))]
    found = np.searchsorted(key, group[corrections] * span + (end[corrections] - first), side="right") - 1
    at = np.maximum(found, 0)
    hits = (found >= 0) & (group[order][at] == group[corrections]) & (running[at] >= start[corrections])
    return list(zip(corrections[hits].tolist(), holder[at][hits].tolist()))


def _joined(reasons: list[str]) -> str:
    """One row's reasons, the first `REASONS_NAMED` in full and the rest counted."""
    if len(reasons) <= REASONS_NAMED:
        return "; ".join(reasons)
    return "; ".join(reasons[:REASONS_NAMED]) + f"; and {len(reasons) - REASONS_NAMED:,} more"


def same_supply(rows: pd.DataFrame, metered: frozenset[str]) -> SameSupply:
    """Apply the rule of the module docstring to ``rows`` (`SUPPLY_COLUMNS`; the text columns
    categorical, the periods datetime64). ``metered``: the metered activities' names."""
    reasons: dict[int, list[str]] = {}
    warnings: dict[int, list[str]] = {}
    if len(rows) > 1:
        files = pd.Categorical(rows["source_file"])  # named per row only where a reason needs it
        file_codes, file_names = files.codes, list(files.categories)
        sheets = pd.Categorical(rows["source_sheet"])
        sheet_codes, sheet_names = sheets.codes, [*sheets.categories, ""]  # code -1 (none): ""
        source_rows = rows["source_row"].to_numpy()

        def where(position: int) -> str:
            """The file, the sheet of a workbook, and the row of the row at ``position``."""
            sheet = sheet_names[sheet_codes[position]]
            return (file_names[file_codes[position]] + (f", sheet '{sheet}'," if sheet else "")
                    + f" row {source_rows[position]}")

        is_metered = rows["activity"].isin(metered).to_numpy()
        on_meter = is_metered & _given(rows["meter"])
        by_meter = _group_code(rows, ["activity", "meter"])
        supply = _compact(on_meter, by_meter, by_meter if on_meter.all()  # not read: every row names its meter
                          else _group_code(rows, ["department", "site", "meter", "activity"]))
        start, end = (rows[column].to_numpy().astype("datetime64[ns]", copy=False).view(np.int64) // NANOSECONDS_PER_DAY
                      for column in ("period_start", "period_end"))
        sharing = _sharing_start(supply, start)  # the rows that can be copies, among them their originals
        copies, originals = _copies(pd.DataFrame({
            "supply": supply[sharing], "start": start[sharing], "end": end[sharing],
            "unit": rows["unit"].cat.codes.to_numpy()[sharing].astype(np.int64),
            "quantity": rows["quantity"].to_numpy()[sharing]}))
        copies, originals = sharing[copies], sharing[originals]
        for copy, original in zip(copies, originals):
            reasons.setdefault(copy, []).append(f"duplicate of {where(original)}: counted once")
        kept = np.ones(len(rows), dtype=bool)
        kept[copies] = False
        # A correction adjusts a bill of its own period: overlapping it is what it is for, unless
        # that bill is refused, which takes the correction with it.
        correction = kept & (rows["data_quality"] == CORRECTION).to_numpy()
        kept &= ~correction
        for later, earlier in _overlaps(supply, start, end, np.flatnonzero(kept & on_meter)):
            for mine, theirs in ((later, earlier), (earlier, later)):
                reasons.setdefault(mine, []).append(f"period overlaps {where(theirs)} on the same meter")
        refused_bills = np.array(sorted(reasons.keys() - set(copies.tolist())), dtype=np.int64)
        for mine, theirs in _overlapping_refused(supply, start, end, refused_bills,
                                                 np.flatnonzero(correction & on_meter)):
            reasons.setdefault(mine, []).append(f"corrects a bill that is refused: period overlaps {where(theirs)} "
                                                "on the same meter")
        # Metered rows with no meter: one group per site (per department where no site is named).
        unnamed = kept & is_metered & ~on_meter
        if unnamed.any():
            has_site = _given(rows["site"])
            at_site = _compact(has_site, _group_code(rows, ["site", "activity"]),
                               _group_code(rows, ["department", "activity"]))
            for later, earlier in _overlaps(at_site, start, end, np.flatnonzero(unnamed)):
                for mine, theirs in ((later, earlier), (earlier, later)):
                    warnings.setdefault(mine, []).append(where(theirs))
    set_aside = np.zeros(len(rows), dtype=bool)
    positions = np.array(sorted(reasons), dtype=np.int64)
    set_aside[positions] = True
    selected = rows.iloc[positions]
    rejected = pd.DataFrame({
        "source_file": selected["source_file"].astype(str).to_numpy(),
        "source_sheet": selected["source_sheet"].astype(str).to_numpy(),
        "source_row": selected["source_row"].to_numpy(), "column": "period_start",
        "value": (selected["period_start"].dt.strftime("%Y-%m-%d") + " to "
                  + selected["period_end"].dt.strftime("%Y-%m-%d")).to_numpy(),
        "reason": [_joined(reasons[position]) for position in positions]}, columns=REJECTED_COLUMNS)
    warned = np.full(len(rows), "", dtype=object)
    for position, others in warnings.items():
        warned[position] = (f"{POSSIBLE_DOUBLE_COUNT}: period overlaps " + _joined(others)
                            + " at the same site, and neither names a meter: give the meter id")
    return SameSupply(set_aside=set_aside, rejected=rejected, warnings=warned)
