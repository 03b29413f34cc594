"""The sites register: every site the council reports on, with its department and tags.

CSV columns: ``site, department, tags, operational_control, floor_area_m2`` and optionally
``meter_ids``. ``tags`` and ``meter_ids`` hold several values separated by ``;`` (for instance
``maintained_school;leased_out``). ``operational_control`` is ``yes`` or ``no``. ``meter_ids`` is
kept for the record only: rows take their site's tags by the site they name.

Tags are what boundary options include or exclude (see `boundary`); `KNOWN_TAGS` lists those the
options may name, and a register using another tag is refused so that a typo cannot silently move a
site across the boundary.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sefton_carbon.errors import DataError
from sefton_carbon.io.spreadsheets import read_register

#: Tags a site may carry, and what each means for the boundary.
KNOWN_TAGS = {
    "maintained_school": "a maintained school: the council is the employer, the governing body runs it",
    "leased_out": "a building the council owns but has leased to another organisation",
    "outsourced": "a service the council pays a contractor to run (for instance a leisure or waste contract)",
    "street_lighting": "unmetered street lighting and illuminated signs",
    "fleet": "vehicle fleet and plant",
}
REQUIRED = ["site", "department", "tags", "operational_control", "floor_area_m2"]
YES_NO = {"yes": True, "y": True, "true": True, "no": False, "n": False, "false": False}


@dataclass
class SitesRegister:
    """The register as a table: one row per site, ``tags`` a tuple of tag names."""

    table: pd.DataFrame
    source: Path

    def site_tags(self) -> dict[str, tuple[str, ...]]:
        """Site name -> its tags."""
        return dict(zip(self.table["site"], self.table["tags"]))

    def sites_tagged(self, tag: str) -> set[str]:
        """The names of the sites carrying a tag (for instance ``street_lighting``)."""
        return {site for site, tags in zip(self.table["site"], self.table["tags"]) if tag in tags}


def _split(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.replace("|", ";").split(";") if part.strip())


def read_sites(path: str | Path) -> SitesRegister:
    """Read and check a sites register; problems raise `DataError` naming file, row and column."""
    path = Path(path)
    records = []
    for number, record in read_register(path, REQUIRED, "sites register", "meter_ids"):
        site = record.get("site", "")
        if not site:
            raise DataError("site is empty", file=str(path), row=number, column="site")
        tags = _split(record.get("tags", ""))
        unknown = [tag for tag in tags if tag not in KNOWN_TAGS]
        if unknown:
            raise DataError(f"unknown tag(s) {', '.join(unknown)}: known tags are "
                            f"{', '.join(KNOWN_TAGS)}", file=str(path), row=number, column="tags")
        control = YES_NO.get(record.get("operational_control", "").lower())
        if control is None:
            raise DataError(f"operational_control '{record.get('operational_control', '')}' must be "
                            "yes or no", file=str(path), row=number, column="operational_control")
        area_text = record.get("floor_area_m2", "").replace(",", "")
        try:
            area = float(area_text) if area_text else None
        except ValueError:
            raise DataError(f"floor_area_m2 '{area_text}' is not a number", file=str(path), row=number,
                            column="floor_area_m2") from None
        records.append({"site": site, "department": record.get("department", ""), "tags": tags,
                        "operational_control": control, "floor_area_m2": area,
                        "meter_ids": _split(record.get("meter_ids", "")), "source_row": number})
    table = pd.DataFrame(records, columns=["site", "department", "tags", "operational_control",
                                           "floor_area_m2", "meter_ids", "source_row"])
    duplicated = table[table["site"].duplicated(keep=False)]
    if not duplicated.empty:
        raise DataError(f"site '{duplicated.iloc[0]['site']}' is listed more than once (rows "
                        f"{', '.join(map(str, duplicated['source_row']))})", file=str(path),
                        row=int(duplicated.iloc[1]["source_row"]), column="site")
    return SitesRegister(table=table, source=path)
