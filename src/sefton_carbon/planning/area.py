"""Borough-wide emissions from the national statistics, as SCATTER approximates them.

Two forms of the DESNZ "UK local authority and regional greenhouse gas emissions" statistics are
read into one long table (`AREA_COLUMNS`: one row per authority, year, sector and sub-sector):

* the official long CSV (all greenhouse gases, kt CO2e): columns ``Local Authority, Local Authority
  Code, Calendar Year, LA GHG Sector, LA GHG Sub-sector, Greenhouse gas``, the territorial and the
  scope-of-influence emissions (the latter's header has two spellings), population and area; ``[x]``
  marks a value not available;
* the wide CO2-only form: mySociety's transformation of the 2005-2020 subset within the scope of
  influence of local authorities (``local_authority_emissions.csv``, CC BY 4.0, attribute mySociety),
  with ``<Sub-sector>:kt CO2`` columns, population and area.

The two bases differ (CO2 only or all gases; territorial or within the scope of influence): every
table records its basis and the outputs name it.
"""

from __future__ import annotations

import io
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sefton_carbon import resources
from sefton_carbon.config import load_config
from sefton_carbon.errors import DataError, UsageError
from sefton_carbon.io.spreadsheets import decode_text, refuse_long_cells
from sefton_carbon.planning.trajectory import compute_trajectory

AREA_COLUMNS = ["la_code", "la_name", "year", "sector", "subsector", "kt", "population_thousands", "area_km2",
                "basis", "source"]
WIDE_SOURCE = ("mySociety, UK local authority emissions data v1.2.0 (transformation of BEIS local authority "
               "CO2 emissions 2005-2020 within the scope of influence of local authorities), CC BY 4.0")
WIDE_BASIS = "kt CO2, within the scope of influence of local authorities"
#: Wide-form column -> (sector, sub-sector). Totals columns are not sub-sectors and are left out.
WIDE_SUBSECTORS = {
    "Industry Electricity": ("Industry", "Industry Electricity"), "Industry Gas": ("Industry", "Industry Gas"),
    "Large Industrial Installations": ("Industry", "Large Industrial Installations"),
    "Industrial Other Fuels": ("Industry", "Industrial Other Fuels"),
    "Commercial Electricity": ("Commercial", "Commercial Electricity"), "Commercial Gas": ("Commercial", "Commercial Gas"),
    "Commercial Other Fuels": ("Commercial", "Commercial Other Fuels"),
    "Public Sector Electricity": ("Public Sector", "Public Sector Electricity"),
    "Public Sector Gas": ("Public Sector", "Public Sector Gas"),
    "Public Sector Other Fuels": ("Public Sector", "Public Sector Other Fuels"),
    "Domestic Electricity": ("Domestic", "Domestic Electricity"), "Domestic Gas": ("Domestic", "Domestic Gas"),
    "Domestic Other Fuels": ("Domestic", "Domestic Other Fuels"),
    "Road Transport (A roads)": ("Transport", "Road Transport (A roads)"),
    "Road Transport (Minor roads)": ("Transport", "Road Transport (Minor roads)"),
    "Transport Other": ("Transport", "Transport Other"),
    "Agriculture Electricity": ("Agriculture", "Agriculture Electricity"), "Agriculture": ("Agriculture", "Agriculture"),
    "Agriculture 'Other'": ("Agriculture", "Agriculture 'Other'"),
    "Waste Management Other": ("Waste management", "Waste Management Other"),
}
LONG_REQUIRED = ["Local Authority", "Local Authority Code", "Calendar Year", "LA GHG Sector", "LA GHG Sub-sector",
                 "Territorial emissions (kt CO2e)", "Mid-year Population (thousands)", "Area (km2)"]
INFLUENCE_HEADERS = ("CO2 emissions within the scope of influence of LAs (kt CO2e)",
                     "Emissions within the scope of influence of LAs (kt CO2)")
#: A sub-sector that changes by more than this factor in one year is flagged as a likely series break.
BREAK_RATIO = 2.0
#: Sub-sectors below this [kt] in both years are too small for a ratio to mean anything.
BREAK_FLOOR_KT = 1.0
BUNDLE = "area/la-emissions.csv"
#: Columns stored in the project's own CSV; basis and source go in the YAML file beside it.
STORED_COLUMNS = [column for column in AREA_COLUMNS if column not in ("basis", "source")]


def _read_csv(path: Path, **options) -> pd.DataFrame:
    """A CSV file read by pandas after decoding it as every other input is (`decode_text`: UTF-8,
    UTF-16 or Windows-1252); a file that cannot be read is a `DataError` naming it."""
    try:
        frame = pd.read_csv(io.StringIO(decode_text(path)), **options)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        raise DataError(f"cannot be read as CSV ({error})", file=str(path)) from None
    refuse_long_cells(frame, path)
    return frame


def _numbers(series: pd.Series, path: Path, rows: pd.Series | np.ndarray | None = None) -> pd.Series:
    """A column of numbers as written (``1,234.5``; ``[x]`` or empty for not available, kept as
    missing, never zero); text that is not one is a DataError naming the file, row and column.
    ``rows``: each value's row in the file (default: its position after the header)."""
    cleaned = series.astype(str).str.strip().replace({"[x]": None, "": None}).str.replace(",", "", regex=False)
    parsed = pd.to_numeric(cleaned, errors="coerce")
    bad = parsed.isna() & cleaned.notna()
    if bad.any():
        position = int(np.flatnonzero(bad.to_numpy())[0])
        row = int(rows[position]) if rows is not None else position + 2
        raise DataError(f"'{series.iloc[position]}' is not a number or [x]", file=str(path), row=row,
                        column=str(series.name))
    return parsed.astype("float64")


#: Calendar years the national statistics can hold (they start in 2005).
AREA_YEARS = (1990, 2100)


def _checked(table: pd.DataFrame, path: Path) -> pd.DataFrame:
    """An area table whose numbers are sane: every year a whole calendar year in `AREA_YEARS`,
    emissions finite and 0 or more (or missing), population and area finite and above 0, and one
    row per authority, year and sub-sector. Anything else is a DataError naming the file."""
    year = table["year"]
    problems = [
        (year.isna() | (year != year.round()) | ~year.between(*AREA_YEARS), "year",
         f"a calendar year from {AREA_YEARS[0]} to {AREA_YEARS[1]}"),
        (~np.isfinite(table["kt"].fillna(0.0)) | (table["kt"] < 0), "kt", "emissions of 0 kt or more"),
        (~np.isfinite(table["population_thousands"]) | (table["population_thousands"] <= 0),
         "population_thousands", "a population above 0"),
        (~np.isfinite(table["area_km2"]) | (table["area_km2"] <= 0), "area_km2", "an area above 0 km2"),
    ]
    for bad, column, wanted in problems:
        if bad.any():
            first = table[bad].iloc[0]
            raise DataError(f"{column} is {first[column]:g} for {first['la_name']} {first['year']:g}: each row "
                            f"needs {wanted}", file=str(path), column=column)
    repeated = table.duplicated(["la_code", "year", "sector", "subsector"])
    if repeated.any():
        first = table[repeated].iloc[0]
        raise DataError(f"{first['la_name']} {int(first['year'])} {first['subsector']} is given twice: keep one row",
                        file=str(path))
    return table.astype({"year": int})


def read_wide(path: str | Path) -> pd.DataFrame:
    """Read mySociety's wide CO2 table into the long `AREA_COLUMNS` table."""
    path = Path(path)
    wide = _read_csv(path, dtype=str, keep_default_na=False)
    needed = ["Year", "local-authority-code", "official-name", "Population:000s", "Area:km2"]
    missing = [column for column in needed if column not in wide]
    if missing:
        raise DataError(f"missing column(s) {', '.join(missing)}: is this mySociety's local authority emissions "
                        "table?", file=str(path), row=1)
    columns = {f"{name}:kt CO2": value for name, value in WIDE_SUBSECTORS.items() if f"{name}:kt CO2" in wide}
    long = wide.melt(id_vars=needed, value_vars=list(columns), var_name="column", value_name="kt")
    long["sector"] = long["column"].map({column: names[0] for column, names in columns.items()})
    long["subsector"] = long["column"].map({column: names[1] for column, names in columns.items()})
    row_of = long.index % len(wide) + 2  # the melted rows keep their place in the file
    table = pd.DataFrame({
        "la_code": long["local-authority-code"], "la_name": long["official-name"],
        "year": _numbers(long["Year"], path, row_of), "sector": long["sector"], "subsector": long["subsector"],
        "kt": _numbers(long["kt"], path, row_of),
        "population_thousands": _numbers(long["Population:000s"], path, row_of),
        "area_km2": _numbers(long["Area:km2"], path, row_of), "basis": WIDE_BASIS, "source": WIDE_SOURCE})
    return table.sort_values(["la_code", "year", "sector", "subsector"], kind="stable").reset_index(drop=True)


def read_long(path: str | Path, measure: str = "influence") -> pd.DataFrame:
    """Read the official long CSV (all gases, kt CO2e) into `AREA_COLUMNS`, summing the gases.

    ``measure``: ``influence`` (within the scope of influence of local authorities, the SCATTER-like
    view) or ``territorial``. ``[x]`` (not available) counts as missing, never as zero.
    """
    path = Path(path)
    frame = _read_csv(path, dtype=str, keep_default_na=False)
    missing = [column for column in LONG_REQUIRED if column not in frame]
    if missing:
        raise DataError(f"missing column(s) {', '.join(missing)}: is this the DESNZ long-form local authority "
                        "emissions CSV?", file=str(path), row=1)
    if measure == "influence":
        column = next((name for name in INFLUENCE_HEADERS if name in frame), None)
        if column is None:
            raise DataError(f"no scope-of-influence column ({' or '.join(INFLUENCE_HEADERS)})", file=str(path), row=1)
        basis = "kt CO2e (all greenhouse gases), within the scope of influence of local authorities"
    elif measure == "territorial":
        column, basis = "Territorial emissions (kt CO2e)", "kt CO2e (all greenhouse gases), territorial"
    else:
        raise UsageError("measure is influence or territorial")

    table = pd.DataFrame({
        "la_code": frame["Local Authority Code"], "la_name": frame["Local Authority"],
        "year": _numbers(frame["Calendar Year"], path), "sector": frame["LA GHG Sector"],
        "subsector": frame["LA GHG Sub-sector"], "kt": _numbers(frame[column], path),
        "population_thousands": _numbers(frame["Mid-year Population (thousands)"], path),
        "area_km2": _numbers(frame["Area (km2)"], path)})
    keys = ["la_code", "la_name", "year", "sector", "subsector"]
    repeated = frame.duplicated(["Local Authority Code", "Calendar Year", "LA GHG Sub-sector"]
                                + (["Greenhouse gas"] if "Greenhouse gas" in frame else []))
    if repeated.any():
        position = int(np.flatnonzero(repeated.to_numpy())[0])
        raise DataError("repeats the authority, year, sub-sector and gas of an earlier row: keep one row",
                        file=str(path), row=position + 2)
    grouped = table.groupby(keys, as_index=False, dropna=False).agg(
        kt=("kt", lambda values: values.sum(min_count=1)), population_thousands=("population_thousands", "first"),
        area_km2=("area_km2", "first"))
    grouped["basis"] = basis
    grouped["source"] = f"DESNZ UK local authority and regional greenhouse gas emissions ({path.name}), OGL v3.0"
    return grouped[AREA_COLUMNS]


def read_area(path: str | Path | None = None) -> pd.DataFrame:
    """An area table in any of the three forms: official long, mySociety wide, or this project's own
    (`AREA_COLUMNS`, as bundled). Default: the bundled Sefton and comparison authorities."""
    path = Path(path) if path else resources.examples_dir() / BUNDLE
    if not path.is_file():
        raise UsageError(f"{path}: no such file")
    header = _read_csv(path, nrows=0).columns
    if "Local Authority Code" in header:
        return _checked(read_long(path), path)
    if "local-authority-code" in header:
        return _checked(read_wide(path), path)
    if set(STORED_COLUMNS) <= set(header):
        return _checked(read_own(path), path)
    raise DataError("is not a local authority emissions table (official long CSV, mySociety wide CSV or this "
                    "project's own)", file=str(path), row=1)


def write_own(table: pd.DataFrame, path: str | Path) -> Path:
    """Write an area table in the project's own form: the CSV, and its basis and source in a YAML
    file of the same name."""
    import yaml

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    table[STORED_COLUMNS].to_csv(path, index=False, lineterminator="\n")
    metadata = {"basis": str(table["basis"].iloc[0]), "source": str(table["source"].iloc[0])}
    path.with_suffix(".yaml").write_text(yaml.safe_dump(metadata, sort_keys=False, width=100), encoding="utf-8")
    return path


def read_own(path: str | Path) -> pd.DataFrame:
    """Read a table written by `write_own`."""

    path = Path(path)
    described = path.with_suffix(".yaml")
    metadata = load_config(described).mapping("basis, source") if described.is_file() else {}
    table = _read_csv(path, dtype=str, keep_default_na=False)
    for column in ("year", "kt", "population_thousands", "area_km2"):
        table[column] = _numbers(table[column], path)
    table["basis"] = metadata.get("basis", "not stated")
    table["source"] = metadata.get("source", "not stated")
    return table[AREA_COLUMNS]


def annual_cut_for_budget(first_year_kt: float, budget_kt: float, years: int) -> float:
    """The constant annual cut [%] whose cumulative emissions over ``years + 1`` years, starting at
    ``first_year_kt``, equal ``budget_kt`` (the Tyndall Centre's way of turning a budget into a
    pathway). Solved by bisection."""
    if budget_kt <= first_year_kt:
        raise UsageError(f"a budget of {budget_kt:,.0f} kt is less than one year's emissions ({first_year_kt:,.0f} kt)")
    if budget_kt >= first_year_kt * (years + 1):
        raise UsageError(f"a budget of {budget_kt:,.0f} kt needs no cut over {years + 1} years")
    low, high = 0.0, 1.0
    for _ in range(100):
        rate = (low + high) / 2
        total = first_year_kt * (1 - (1 - rate) ** (years + 1)) / rate
        low, high = (rate, high) if total > budget_kt else (low, rate)
    return 100 * (low + high) / 2


def find_authority(table: pd.DataFrame, query: str) -> tuple[str, str]:
    """The code and name of the authority a query names (code, or a unique part of the name)."""
    authorities = table[["la_code", "la_name"]].drop_duplicates()
    by_code = authorities[authorities["la_code"].str.lower() == query.strip().lower()]
    if len(by_code) == 1:
        return by_code.iloc[0]["la_code"], by_code.iloc[0]["la_name"]
    words = query.strip().lower()
    by_name = authorities[authorities["la_name"].str.lower().str.contains(re.escape(words))]
    if len(by_name) == 1:
        return by_name.iloc[0]["la_code"], by_name.iloc[0]["la_name"]
    if len(by_name) > 1:
        raise UsageError(f"'{query}' matches {len(by_name)} authorities ({', '.join(by_name['la_name'].head(5))}): "
                         "give the code")
    raise UsageError(f"no authority '{query}' in the data ({len(authorities)} authorities; pass --data FILE for "
                     "others)")


def yearly(table: pd.DataFrame, code: str) -> pd.DataFrame:
    """Per year for one authority: total [kt], per person [t], per km2 [kt], and kt by sector."""
    rows = table[table["la_code"] == code]
    sectors = rows.pivot_table(index="year", columns="sector", values="kt", aggfunc="sum")
    people = rows.groupby("year")["population_thousands"].first()
    area = rows.groupby("year")["area_km2"].first()
    result = pd.DataFrame({"total_kt": sectors.sum(axis=1)})
    result["per_person_t"] = result["total_kt"] / people
    result["per_km2_kt"] = result["total_kt"] / area
    return result.join(sectors)


def series_breaks(table: pd.DataFrame, code: str, ratio: float = BREAK_RATIO) -> pd.DataFrame:
    """Sub-sectors that jump or fall by more than ``ratio`` in one year (likely re-allocations)."""
    rows = table[table["la_code"] == code].pivot_table(index="year", columns="subsector", values="kt", aggfunc="sum")
    change = rows.where(rows >= BREAK_FLOOR_KT) / rows.shift(1).where(rows.shift(1) >= BREAK_FLOOR_KT)
    flagged = change.stack().rename("ratio").reset_index()
    flagged = flagged[(flagged["ratio"] > ratio) | (flagged["ratio"] < 1 / ratio)]
    return flagged.sort_values(["year", "subsector"]).reset_index(drop=True)


def similar_authorities(table: pd.DataFrame, code: str, count: int = 5) -> pd.DataFrame:
    """The authorities closest in per-person emissions and sector mix in the latest common year:
    distance over standardised per-person emissions and sector shares."""
    year = int(table.loc[table["la_code"] == code, "year"].max())
    latest = table[table["year"] == year]
    sectors = latest.pivot_table(index="la_code", columns="sector", values="kt", aggfunc="sum").fillna(0.0)
    totals = sectors.sum(axis=1)
    people = latest.groupby("la_code")["population_thousands"].first()
    features = sectors.div(totals, axis=0)
    features["per_person_t"] = totals / people
    features = features.replace([np.inf, -np.inf], np.nan).dropna()
    scaled = (features - features.mean()) / features.std(ddof=0).replace(0, 1)
    distance = np.sqrt(((scaled - scaled.loc[code]) ** 2).sum(axis=1)).drop(code).sort_values()
    names = latest.groupby("la_code")["la_name"].first()
    nearest = distance.head(count).index
    return pd.DataFrame({"la_code": nearest, "la_name": names.reindex(nearest).to_numpy(), "year": year,
                         "distance": distance.head(count).to_numpy(),
                         "per_person_t": features.loc[nearest, "per_person_t"].to_numpy(),
                         "total_kt": totals.reindex(nearest).to_numpy()})


@dataclass
class AreaProfile:
    """One authority's profile: years, breaks, comparators and, when asked, a pathway."""

    code: str
    name: str
    basis: str
    source: str
    years: pd.DataFrame
    breaks: pd.DataFrame
    similar: pd.DataFrame
    council_share: dict | None = None
    pathway: object | None = None

    def summary(self) -> dict:
        first, latest = self.years.index.min(), self.years.index.max()
        sectors = [column for column in self.years.columns if column not in ("total_kt", "per_person_t", "per_km2_kt")]
        recent = self.years.loc[max(first, latest - 5):latest, "total_kt"]
        trend = (recent.iloc[-1] / recent.iloc[0]) ** (1 / (len(recent) - 1)) - 1 if len(recent) > 1 else None
        return {
            "la": self.name, "code": self.code, "basis": self.basis, "source": self.source,
            "years": [{"year": int(year), "total_kt": float(row["total_kt"]), "per_person_t": float(row["per_person_t"]),
                       "per_km2_kt": float(row["per_km2_kt"]),
                       "sectors": {sector: float(row[sector]) for sector in sectors if not math.isnan(row[sector])}}
                      for year, row in self.years.iterrows()],
            "change_since_first_year": float(self.years.loc[latest, "total_kt"] / self.years.loc[first, "total_kt"] - 1),
            "first_year": int(first), "latest_year": int(latest),
            "trend_annual_change_pct": None if trend is None else 100 * trend,
            "trend": f"compound annual rate {max(first, latest - 5)} to {latest}",
            "series_breaks": [{"year": int(row.year), "subsector": row.subsector, "ratio": float(row.ratio)}
                              for row in self.breaks.itertuples(index=False)],
            "similar_authorities": self.similar.to_dict(orient="records"),
            "council_share": self.council_share,
            "pathway": None if self.pathway is None else _calendar_years(self.pathway.summary()),
        }


def _calendar_years(summary: dict) -> dict:
    """A trajectory summary computed on calendar years, relabelled from ``2019/20`` to ``2019``."""
    def year(label):
        return int(label[:4]) if isinstance(label, str) and re.fullmatch(r"\d{4}/\d{2}", label) else label

    summary = dict(summary, baseline_year=year(summary["baseline_year"]), target_year=year(summary["target_year"]))
    summary["years"] = [dict(record, year=year(record["year"])) for record in summary["years"]]
    summary["latest"] = dict(summary["latest"], latest_year=year(summary["latest"]["latest_year"]))
    summary["notes"] = []
    summary["activity_factor_split"] = []
    return summary


def area_profile(query: str, data: str | Path | None = None, *, council_tco2e: float | None = None,
                 council_year: str | None = None, annual_cut_pct: float | None = None,
                 budget_kt: float | None = None, baseline: int | None = None, target: int = 2050,
                 break_ratio: float = BREAK_RATIO) -> AreaProfile:
    """Everything `sefton-carbon area` shows for one authority (see the module docstring)."""
    for option, value in (("council_tco2e", council_tco2e), ("annual_cut_pct", annual_cut_pct),
                          ("budget_kt", budget_kt), ("break_ratio", break_ratio)):
        if value is not None and (not math.isfinite(value) or value < 0):
            raise UsageError(f"{option.replace('_', '-')} must be a finite number, 0 or more (got {value})")
    table = read_area(data)
    code, name = find_authority(table, query)
    years = yearly(table, code)
    rows = table[table["la_code"] == code]
    share = None
    if council_tco2e is not None:
        latest = years.index.max()
        public = years.loc[latest, "Public Sector"] if "Public Sector" in years else float("nan")
        share = {"council_tco2e": council_tco2e, "council_year": council_year, "area_year": int(latest),
                 "share_of_public_sector": council_tco2e / 1000 / public if public else None,
                 "share_of_total": council_tco2e / 1000 / years.loc[latest, "total_kt"],
                 "note": f"the two bases differ: the council's footprint is its own inventory (t CO2e, its "
                         f"boundary); the area figures are {rows['basis'].iloc[0]}, calendar year {latest}"}
    pathway = None
    if annual_cut_pct is not None and budget_kt is not None:
        raise UsageError("give an annual cut or a budget, not both")
    if annual_cut_pct is not None or budget_kt is not None:
        first = baseline or int(years.index.min())
        if first not in years.index:
            raise UsageError(f"no area emissions for the baseline year {first}")
        if budget_kt is not None:
            annual_cut_pct = annual_cut_for_budget(float(years.loc[first, "total_kt"]), budget_kt, target - first)
        budget_pathway = f"percent:{annual_cut_pct}"
        actuals = pd.DataFrame({"year": [f"{year}/{(year + 1) % 100:02d}" for year in years.index],
                                "tco2e": years["total_kt"].to_numpy() * 1000})
        pathway = compute_trajectory(actuals, f"{first}/{(first + 1) % 100:02d}",
                                     f"{target}/{(target + 1) % 100:02d}", budget_pathway)
    return AreaProfile(code=code, name=name, basis=rows["basis"].iloc[0], source=rows["source"].iloc[0], years=years,
                       breaks=series_breaks(table, code, break_ratio), similar=similar_authorities(table, code),
                       council_share=share, pathway=pathway)
