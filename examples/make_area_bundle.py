"""Build examples/area/la-emissions.csv: Sefton and the authorities the area command compares it with.

Reads mySociety's wide local authority CO2 table (the reference copy beside the repository, or a
path given on the command line) with the project's own importer, keeps Sefton, its Liverpool City
Region neighbours and the authorities most similar to it by per-person emissions and sector mix,
and writes them in the project's long format with their source and licence (CC BY 4.0, mySociety).

Run from the repository root: ``python examples/make_area_bundle.py [PATH]``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from sefton_carbon.planning.area import read_wide, similar_authorities, write_own

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "reference" / "la-emissions" / "local_authority_emissions.csv"
SEFTON = "SFT"
CITY_REGION = ["LIV", "KWL", "STH", "WRL", "HAL"]  # Liverpool, Knowsley, St Helens, Wirral, Halton


def main() -> None:
    table = read_wide(sys.argv[1] if len(sys.argv) > 1 else DEFAULT)
    nearest = list(similar_authorities(table, SEFTON, count=12)["la_code"])
    keep = [SEFTON, *CITY_REGION, *[code for code in nearest if code not in CITY_REGION]]
    bundle = table[table["la_code"].isin(keep)]
    output = Path(__file__).parent / "area" / "la-emissions.csv"
    output.parent.mkdir(parents=True, exist_ok=True)
    write_own(bundle, output)
    print(f"{output}: {bundle['la_code'].nunique()} authorities, {len(bundle)} rows")


if __name__ == "__main__":
    main()
