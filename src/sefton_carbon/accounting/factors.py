"""Emission factor tables: import of the DESNZ flat file, and the normalised tables per year.

Source: UK Government GHG Conversion Factors for Company Reporting, "flat file" for automatic
processing, sheet ``Factors by Category`` (BEIS to 2022, DESNZ from 2023). Crown copyright, Open
Government Licence v3.0.

The flat file has one row per factor per gas. The importer finds the header row by its names (it moved
from row 5 to row 6 in 2023, and the columns changed in 2022 and 2023), reads down to the ``END``
row, and writes one row per factor with its total and per-gas values side by side, all in
kg CO2e per unit, with the precision the file holds. Rows that are not emission factors (SECR kWh
rows, empty cells, text such as ``< 1``) are skipped and counted in the table's metadata.

The ``Outside of Scopes`` rows (biogenic CO2 of the biofuel share of pump fuels, wood, biogas...)
give only a CO2 value and no total: their total is that CO2 value, so that they are kept.

A value that is not a finite number (``inf``, ``nan``) or is negative is refused, naming the file,
row and column, whether in a flat file being imported or in a table of ``--factors-dir``: DESNZ
publishes no negative factor (none in the 2019 to 2025 tables; removals and avoided emissions are
not conversion factors), so a negative value is a typing or export error. A table of
``--factors-dir`` is checked as it is read: both files present, ``metadata.yaml`` plain YAML
mapping with its ``publication_year``, ``factors.csv`` with the columns `TABLE_COLUMNS`, numbers
where numbers belong and each factor key and DESNZ id once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from sefton_carbon import resources
from sefton_carbon.config import load_config
from sefton_carbon.errors import DataError, UsageError
from sefton_carbon.io.files import sha256
from sefton_carbon.io.spreadsheets import (
    CSV_SUFFIXES,
    SPREADSHEET_SUFFIXES,
    cell_text,
    read_csv_rows,
    read_sheet_rows,
    refuse_long_cells,
    sheet_names,
)

FACTOR_SHEET = "Factors by Category"
LICENCE = "Open Government Licence v3.0"
LICENCE_URL = "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"
TITLE = "UK Government GHG Conversion Factors for Company Reporting"

#: Normalised column -> header names it has had in the flat files (2016 to 2025).
HEADER_NAMES = {
    "desnz_id": ("ID",),
    "scope": ("Scope",),
    "level_1": ("Level 1",),
    "level_2": ("Level 2",),
    "level_3": ("Level 3",),
    "level_4": ("Level 4",),
    "column_text": ("Column Text",),
    "uom": ("UOM",),
    "ghg": ("GHG", "GHG/Unit"),
}
VALUE_HEADER = re.compile(r"^GHG Conversion Factor (\d{4})$", re.IGNORECASE)
LABEL_COLUMNS = ["scope", "level_1", "level_2", "level_3", "level_4", "column_text", "uom"]
VALUE_COLUMNS = ["kgco2e", "kgco2e_co2", "kgco2e_ch4", "kgco2e_n2o"]
#: The files of one year's table in a factors folder, as `write_factor_table` writes them.
TABLE_FILES = ("factors.csv", "metadata.yaml")
#: A value cell spelling "not a number", which pandas reads as a missing value rather than as text.
_NAN_TEXT = r"[+-]?nan"
#: Why a value is refused (see the module docstring).
NOT_FINITE = "is not a finite number: a factor is a number of kg CO2e per unit"
NEGATIVE = ("is negative: DESNZ publishes no negative factor (none in the 2019 to 2025 tables), so "
            "this is a typing or export error")
#: The scope label of the rows of biogenic CO2, folded by `fold_label`.
OUTSIDE_OF_SCOPES = "outside of scopes"
TABLE_COLUMNS = ["factor_key", "desnz_id", *LABEL_COLUMNS, *VALUE_COLUMNS, "source_row"]

#: Gas label in the flat file -> normalised value column. Component labels changed in 2022 and 2023;
#: in every year the components are already expressed in kg CO2e.
_GAS_PATTERNS = [
    (re.compile(r"^kg co2e$"), "kgco2e"),
    (re.compile(r"^kg co2( ?e of co2)?( per unit)?$"), "kgco2e_co2"),
    (re.compile(r"^kg (co2e of )?ch4( per unit)?$"), "kgco2e_ch4"),
    (re.compile(r"^kg (co2e of )?n2o( per unit)?$"), "kgco2e_n2o"),
]


def gwp_basis(year: int) -> str:
    """The global warming potentials behind a publication year's CO2e figures."""
    return ("IPCC AR5 100-year GWPs (from the 2023 factors)" if year >= 2023
            else "IPCC AR4 100-year GWPs (to the 2022 factors)")


#: The department that published the factors, by its short name: DESNZ took the work over from BEIS
#: when BEIS was split in February 2023, so the 2023 and later tables are DESNZ's.
PUBLISHERS = {"DESNZ": "Department for Energy Security and Net Zero (DESNZ)",
              "BEIS": "Department for Business, Energy & Industrial Strategy (BEIS)"}


def publisher_short_name(year: int) -> str:
    """``DESNZ`` for the 2023 and later factors, ``BEIS`` before."""
    return "DESNZ" if int(year) >= 2023 else "BEIS"


def publisher(year: int) -> str:
    """The department that published a year's factors."""
    return PUBLISHERS[publisher_short_name(year)]


def factor_set_label(year: int | None, version: object = None) -> str:
    """Short citation of a factor table, for instance ``DESNZ 2023 v1.1``."""
    body = publisher_short_name(year) if year else "BEIS"
    return f"{body} {year}" + (f" v{version}" if version else "")


def fold_label(text: object) -> str:
    """A label folded for comparison: lower case, white space collapsed, trailing ``*`` dropped."""
    return " ".join(str(text).lower().split()).rstrip("*").strip()


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _gas_column(label: str) -> str | None:
    folded = " ".join(label.lower().split())
    for pattern, column in _GAS_PATTERNS:
        if pattern.match(folded):
            return column
    return None


def _front_page_facts(path: Path, names: list[str]) -> dict[str, str]:
    """Version and update date from the workbook's front page, where it has one."""
    front = next((name for name in names if name.strip().lower() == "front page"), None)
    if front is None:
        return {}
    facts: dict[str, str] = {}
    for row in read_sheet_rows(path, front):
        cells = [cell_text(value).strip() for value in row]
        for position, cell in enumerate(cells[:-1]):
            label = cell.rstrip(":").strip().lower()
            value = next((c for c in cells[position + 1:] if c), "")
            if label == "version" and "version" not in facts and value:
                facts["version"] = value
            if label == "updated" and "updated" not in facts and value:
                facts["updated"] = value
    return facts


def _raw_rows(path: Path) -> tuple[list[list[object]], dict[str, str]]:
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        return read_csv_rows(path), {}
    if suffix in SPREADSHEET_SUFFIXES:
        names = sheet_names(path)
        sheet = next((name for name in names if name.strip().lower() == FACTOR_SHEET.lower()), None)
        if sheet is None:
            raise DataError(f"has no sheet '{FACTOR_SHEET}' (sheets: {', '.join(names)}): "
                            "is this the DESNZ flat file?", file=str(path))
        return read_sheet_rows(path, sheet), _front_page_facts(path, names)
    raise UsageError(f"{path}: unsupported file type '{suffix}': give the DESNZ flat file as "
                     ".xlsx, .xls or its CSV export")


def _find_header(rows: list[list[object]], path: Path) -> tuple[int, dict[str, int], str]:
    """The header row's index, the position of each column, and the value column's header
    (``GHG Conversion Factor 2024``)."""
    for index, row in enumerate(rows[:50]):
        cells = [cell_text(value).strip() for value in row]
        year_matches = [(position, VALUE_HEADER.match(cell)) for position, cell in enumerate(cells)]
        year_matches = [(position, match) for position, match in year_matches if match]
        if not year_matches or "Scope" not in cells:
            continue
        columns = {}
        for column, names in HEADER_NAMES.items():
            position = next((cells.index(name) for name in names if name in cells), None)
            if position is not None:
                columns[column] = position
        missing = [HEADER_NAMES[c][0] for c in HEADER_NAMES if c not in columns and c != "desnz_id"]
        if missing:
            raise DataError(f"header row lacks {', '.join(missing)}", file=str(path), row=index + 1)
        value_position, match = year_matches[0]
        columns["value"] = value_position
        return index, columns, match.group(0)
    raise DataError("no header row with 'Scope', 'Level 1' ... 'GHG Conversion Factor YYYY' in the "
                    "first 50 rows: is this the DESNZ flat file?", file=str(path))


@dataclass
class FactorTable:
    """One publication year's factors: one row per factor, values in kg CO2e per unit."""

    year: int
    table: pd.DataFrame
    metadata: dict = field(default_factory=dict)

    @cached_property
    def label_index(self) -> dict[tuple[str, str], set[int]]:
        """Row positions by (label column, label folded by `fold_label`), for matching catalogue
        entries; each distinct label is folded once."""
        index: dict[tuple[str, str], set[int]] = {}
        for column in LABEL_COLUMNS:
            labels = self.table[column].fillna("").astype(str)
            folded = labels.map({label: fold_label(label) for label in labels.unique()})
            for label, positions in folded.groupby(folded.to_numpy()).indices.items():
                index[(column, label)] = set(positions.tolist())
        return index

    @property
    def label(self) -> str:
        """Short citation, for instance ``DESNZ 2023 v1.1``."""
        return factor_set_label(self.year, self.metadata.get("version"))


def read_flat_file(path: str | Path) -> FactorTable:
    """Read a DESNZ flat file (.xls, .xlsx or the CSV export of its ``Factors by Category`` sheet).

    Returns the normalised table with its metadata (year, version, source file and sha256, licence,
    GWP basis, and the counts of rows read, kept and skipped by reason).
    """
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"{path}: no such file")
    rows, facts = _raw_rows(path)
    header_index, columns, value_header = _find_header(rows, path)
    year = int(VALUE_HEADER.match(value_header).group(1))
    records = []
    for offset, row in enumerate(rows[header_index + 1:], start=header_index + 2):
        cells = [cell_text(row[position]).strip() if position < len(row) else ""
                 for position in range(max(columns.values()) + 1)]
        if cells[columns["scope"]].upper() == "END" or cells[columns["level_1"]].upper() == "END":
            break
        records.append([offset] + [cells[columns[name]] if name in columns else ""
                                   for name in [*HEADER_NAMES, "value"]])
    raw = pd.DataFrame(records, columns=["source_row", *HEADER_NAMES, "value"])

    blank = (raw[LABEL_COLUMNS + ["ghg", "value"]] == "").all(axis=1)
    gas = raw["ghg"].map(_gas_column)
    numeric = pd.to_numeric(raw["value"], errors="coerce")
    secr = ~blank & gas.isna() & raw["ghg"].str.contains("kwh", case=False)
    unknown_gas = ~blank & gas.isna() & ~secr
    empty = ~blank & gas.notna() & (raw["value"] == "")
    text = ~blank & gas.notna() & (raw["value"] != "") & numeric.isna()
    kept = gas.notna() & numeric.notna()
    sheet = None if path.suffix.lower() in CSV_SUFFIXES else FACTOR_SHEET
    not_finite = (gas.notna() & (np.isinf(numeric) | raw["value"].str.fullmatch(_NAN_TEXT, case=False))).to_numpy()
    _refuse_first(raw["value"], not_finite, NOT_FINITE, path, raw["source_row"], value_header, sheet)
    _refuse_first(raw["value"], (kept & (numeric < 0)).to_numpy(), NEGATIVE, path, raw["source_row"],
                  value_header, sheet)

    values = raw[kept].assign(gas=gas[kept], number=numeric[kept])
    values["factor_key"] = values[LABEL_COLUMNS].apply(
        lambda labels: "/".join(_slug(label) for label in labels if label), axis=1)
    duplicated = values.duplicated(["factor_key", "gas"], keep=False)
    if duplicated.any():
        first = values[duplicated].iloc[0]
        raise DataError(f"two rows give {first['gas']} for the same factor '{first['factor_key']}'",
                        file=str(path), row=int(first["source_row"]))
    wide = values.pivot(index="factor_key", columns="gas", values="number")
    wide = wide.reindex(columns=VALUE_COLUMNS)
    firsts = values.sort_values("source_row").drop_duplicates("factor_key").set_index("factor_key")
    totals = values[values["gas"] == "kgco2e"].set_index("factor_key")["source_row"]
    table = firsts[["desnz_id", *LABEL_COLUMNS]].join(wide)
    table["source_row"] = totals.reindex(table.index)
    biogenic = (table["scope"].map(fold_label) == OUTSIDE_OF_SCOPES) & table["kgco2e"].isna()
    table.loc[biogenic, "kgco2e"] = table.loc[biogenic, "kgco2e_co2"]
    table.loc[biogenic, "source_row"] = firsts.loc[biogenic[biogenic].index, "source_row"]
    table["desnz_id"] = table["desnz_id"].str.replace(r"_\d+$", "", regex=True)
    without_total = int(table["kgco2e"].isna().sum())
    table = (table[table["kgco2e"].notna()].reset_index()
             .sort_values("source_row", kind="stable").reset_index(drop=True))
    table["source_row"] = table["source_row"].astype("int64")

    metadata = {
        "title": TITLE,
        "publisher": publisher(year),
        "publication_year": year,
        "version": facts.get("version"),
        "updated": facts.get("updated"),
        "sheet": FACTOR_SHEET,
        "source_file": path.name,
        "source_sha256": sha256(path),
        "licence": LICENCE,
        "licence_url": LICENCE_URL,
        "gwp_basis": gwp_basis(year),
        "units": "kg CO2e per unit of the factor's UOM; per-gas columns are kg CO2e of each gas",
        "rows_read": len(raw),
        "factors": len(table),
        "values_kept": int(kept.sum()),
        "outside_of_scopes_factors": int(biogenic.sum()),
        "skipped": {
            "blank_rows": int(blank.sum()),
            "secr_energy_rows": int(secr.sum()),
            "empty_values": int(empty.sum()),
            "text_values": int(text.sum()),
            "unknown_gas_labels": int(unknown_gas.sum()),
            "components_without_total": without_total,
        },
    }
    return FactorTable(year=year, table=table[TABLE_COLUMNS], metadata=metadata)


def write_factor_table(factor_table: FactorTable, output_dir: str | Path) -> Path:
    """Write a table as ``<output_dir>/<year>/factors.csv`` and ``metadata.yaml``; return the folder."""
    folder = Path(output_dir) / str(factor_table.year)
    folder.mkdir(parents=True, exist_ok=True)
    # Python's float repr is the shortest text that reads back to the same double: no rounding.
    factor_table.table.to_csv(folder / "factors.csv", index=False, lineterminator="\n")
    with open(folder / "metadata.yaml", "w", encoding="utf-8") as stream:
        yaml.safe_dump(factor_table.metadata, stream, sort_keys=False, allow_unicode=True)
    return folder


def import_flat_file(path: str | Path, output_dir: str | Path | None = None) -> FactorTable:
    """Import a DESNZ flat file into ``output_dir`` (default: the bundled factor tables)."""
    factor_table = read_flat_file(path)
    write_factor_table(factor_table, output_dir or resources.factors_dir())
    return factor_table


def _refuse_first(values: pd.Series, refused: np.ndarray, reason: str, path: Path, rows: pd.Series,
                  column: str, sheet: str | None = None) -> None:
    """A DataError for the first of the ``refused`` cells: its value, file row and column."""
    if refused.any():
        first = int(refused.nonzero()[0][0])
        raise DataError(f"'{values.iloc[first]}' {reason}", file=str(path), sheet=sheet,
                        row=int(rows.iloc[first]), column=column)


def _read_metadata(path: Path) -> dict:
    """A table's metadata.yaml, read as configuration (`config.load_config`): a mapping with the
    ``publication_year`` of its factors (which a folder named for another year may hold: the
    library then uses them for that year, and every output cites them by their own year)."""
    document = load_config(path)
    metadata = document.mapping("publication_year, version, gwp_basis... as 'sefton-carbon factors import' "
                                "writes them")
    year = metadata.get("publication_year")
    if isinstance(year, bool) or not isinstance(year, int):
        raise document.error("publication_year must be the year of the factors, such as 2024", "publication_year")
    return metadata


def _read_factors_csv(path: Path) -> pd.DataFrame:
    """A table's factors.csv, checked as described in the module docstring; row numbers in
    messages are the file's (the header is row 1)."""
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False, skip_blank_lines=False, encoding="utf-8")
    except UnicodeDecodeError:
        raise DataError("is not UTF-8 text: write it again with 'sefton-carbon factors import'", file=str(path)) from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        reason = str(error).strip().splitlines()[0]
        raise DataError(f"cannot be read as a factor table ({reason})", file=str(path)) from None
    if sorted(table.columns) != sorted(TABLE_COLUMNS):
        missing = [column for column in TABLE_COLUMNS if column not in table.columns]
        unknown = [str(column) for column in table.columns if column not in TABLE_COLUMNS]
        raise DataError("; ".join(part for part in (
            f"lacks column(s) {', '.join(missing)}" if missing else "",
            f"has unknown column(s) {', '.join(unknown)}" if unknown else "") if part)
            + f": a factor table has the columns {', '.join(TABLE_COLUMNS)}", file=str(path), row=1)
    table = table[TABLE_COLUMNS]
    refuse_long_cells(table, path)
    rows = pd.Series(np.arange(len(table)) + 2)
    for column in ("factor_key", "kgco2e", "source_row"):
        _refuse_first(table[column], (table[column].str.strip() == "").to_numpy(),
                      "is empty: every factor has a key, a total and its row in the flat file", path, rows, column)
    for column in ("factor_key", "desnz_id"):
        written = table[column].where(table[column] != "")
        repeated = (written.notna() & written.duplicated(keep=False)).to_numpy()
        if repeated.any():
            first, second = repeated.nonzero()[0][:2]
            raise DataError(f"'{table[column].iloc[first]}' is given twice, in rows {first + 2} and {second + 2}: "
                            "keep one", file=str(path), row=int(second + 2), column=column)
    for column in VALUE_COLUMNS:
        text = table[column].str.strip()
        numbers = pd.to_numeric(text.mask(text == ""), errors="coerce")
        _refuse_first(table[column], ((text != "") & ~np.isfinite(numbers)).to_numpy(), NOT_FINITE, path, rows,
                      column)
        _refuse_first(table[column], (numbers < 0).to_numpy(), NEGATIVE, path, rows, column)
        table[column] = numbers.astype("float64")
    source_rows = pd.to_numeric(table["source_row"], errors="coerce")
    _refuse_first(table["source_row"], ~(source_rows.ge(1) & (source_rows % 1 == 0)).to_numpy(),
                  "is not a row number of the flat file (a whole number from 1)", path, rows, "source_row")
    table["source_row"] = source_rows.astype("int64")
    return table


def read_factor_table(folder: str | Path) -> FactorTable:
    """Read one normalised table written by `write_factor_table`, checking it (see the module
    docstring): every problem is one error naming the file, and where it lies the row and column
    or the line and key."""
    folder = Path(folder)
    for name in TABLE_FILES:
        if not (folder / name).is_file():
            raise UsageError(f"{folder / name}: no such file: a factor table's folder holds "
                             f"{' and '.join(TABLE_FILES)}, as 'sefton-carbon factors import FILE --output DIR' "
                             "writes them")
    metadata = _read_metadata(folder / "metadata.yaml")
    table = _read_factors_csv(folder / "factors.csv")
    return FactorTable(year=metadata["publication_year"], table=table, metadata=metadata)


def _table_folders(directory: Path) -> dict[int, Path]:
    """The year folders of a factors folder: each folder named by digits, which must hold a table
    (`read_factor_table` says which file it lacks)."""
    return {int(child.name): child for child in sorted(directory.iterdir())
            if child.is_dir() and child.name.isdigit()}


class FactorLibrary:
    """The factor tables available to a run: bundled ones, overridden year by year by a user folder.

    Tables are read when first asked for.
    """

    def __init__(self, factors_dir: str | Path | None = None):
        self.folders = _table_folders(resources.factors_dir())
        self.user_dir = Path(factors_dir) if factors_dir else None
        if self.user_dir is not None:
            if not self.user_dir.is_dir():
                raise UsageError(f"--factors-dir {self.user_dir}: no such folder")
            self.folders.update(_table_folders(self.user_dir))
        self._tables: dict[int, FactorTable] = {}

    @property
    def years(self) -> list[int]:
        """Publication years available, oldest first."""
        return sorted(self.folders)

    def table(self, year: int) -> FactorTable:
        """The table of one publication year."""
        if year not in self.folders:
            raise UsageError(
                f"no factor table for {year}: available years are "
                f"{', '.join(map(str, self.years))}; import that year's DESNZ flat file with "
                "'sefton-carbon factors import FILE --output DIR' and pass --factors-dir DIR")
        if year not in self._tables:
            self._tables[year] = read_factor_table(self.folders[year])
        return self._tables[year]

    def search(self, text: str | None = None, year: int | None = None) -> pd.DataFrame:
        """Factor rows whose labels contain every word of ``text`` (case-insensitive)."""
        frames = []
        for table_year in ([year] if year else self.years):
            table = self.table(table_year).table
            selected = pd.Series(True, index=table.index)
            if text:
                haystack = table[LABEL_COLUMNS + ["factor_key", "desnz_id"]].fillna("").agg(
                    " ".join, axis=1).str.lower()
                for word in text.lower().split():
                    selected &= haystack.str.contains(word, regex=False)
            frames.append(table[selected].assign(factor_year=table_year))
        return pd.concat(frames, ignore_index=True)


def load_factors(factors_dir: str | Path | None = None) -> FactorLibrary:
    """The factor tables for a run: the bundled years, with ``factors_dir`` taking precedence."""
    return FactorLibrary(factors_dir)
