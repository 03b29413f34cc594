"""The seven greenhouse gases of the GHG Protocol, and which of them a factor row emits.

The GHG Protocol Corporate Standard (revised edition, chapter 4; the 2013 amendment adds NF3) asks for
Scope 1 and Scope 2 emissions of each of the seven Kyoto gases: CO2, CH4, N2O, HFCs, PFCs, SF6 and
NF3. `GASES` is the one list every part of the package uses.

The DESNZ tables split fuel and electricity factors into CO2, CH4 and N2O (kg CO2e of each). A row of
``Refrigerant & other`` gives one value: the gas it is named after (``HFC-134a``,
``Perfluoroethane (PFC-116)``, ``Sulphur hexafluoride (SF6)``...), or, for a blend, the gases it is
made of. Blends are HFCs except those in `PFC_BLENDS`, whose Kyoto part is split by mass fraction x
GWP, the GWPs read from the same table's rows of pure gases. What is not one of the seven gases
(CFCs, HCFCs, HFEs, HFOs) or that DESNZ does not split (bioenergy's CH4 and N2O together) is
`UNATTRIBUTED`, never guessed.
"""

from __future__ import annotations

import re

import pandas as pd

#: The seven Kyoto gases, in the Corporate Standard's order; values are kg or t CO2e of each gas.
GASES = ("co2", "ch4", "n2o", "hfcs", "pfcs", "sf6", "nf3")
GAS_LABELS = {"co2": "Carbon dioxide (CO2)", "ch4": "Methane (CH4)", "n2o": "Nitrous oxide (N2O)",
              "hfcs": "Hydrofluorocarbons (HFCs)", "pfcs": "Perfluorocarbons (PFCs)",
              "sf6": "Sulphur hexafluoride (SF6)", "nf3": "Nitrogen trifluoride (NF3)"}
#: Scope 1 and 2 emissions whose factor row gives no split into the seven gases.
UNATTRIBUTED = "unattributed"
UNATTRIBUTED_LABEL = "Not split by gas in the DESNZ tables, or not a Kyoto gas"
#: The factor-table columns that DESNZ itself splits by gas.
SPLIT_BY_DESNZ = ("co2", "ch4", "n2o")

REFRIGERANT_LEVEL_1 = "refrigerant & other"
#: Pure gases of ``Refrigerant & other``, by the start of their Level 3 label (folded to lower case).
PURE_GAS_PATTERNS = [
    (re.compile(r"^carbon dioxide"), "co2"), (re.compile(r"^methane"), "ch4"),
    (re.compile(r"^nitrous oxide"), "n2o"), (re.compile(r"^hfc-"), "hfcs"),
    (re.compile(r"^(perfluoro|pfc-)"), "pfcs"), (re.compile(r"^sulphur hexafluoride"), "sf6"),
    (re.compile(r"^nitrogen trifluoride"), "nf3"),
]
BLEND = re.compile(r"^r[45]\d\d[a-z]?$")
KYOTO_ONLY = "emissions including only kyoto products"
WITH_NON_KYOTO = "total emissions including non-kyoto products"
#: Level 2 labels of blends whose single value is their Kyoto part (the 2019 to 2021 tables).
KYOTO_BLEND_GROUPS = ("kyoto protocol- blends", "kyoto protocol - blends")

#: Blends with a Kyoto part that is not all HFCs: mass fraction of each Kyoto component, by the Level 3
#: label of the pure gas. Source: ASHRAE Standard 34 refrigerant designations (the other components
#: are HCFCs, CFCs, hydrocarbons or HFOs, none of them Kyoto gases).
PFC_BLENDS = {
    "r403a": {"Perfluoropropane (PFC-218)": 0.20},
    "r403b": {"Perfluoropropane (PFC-218)": 0.39},
    "r405a": {"HFC-152a": 0.07, "Perfluorocyclobutane (PFC-318)": 0.425},
    "r412a": {"Perfluoropropane (PFC-218)": 0.05},
    "r413a": {"Perfluoropropane (PFC-218)": 0.09, "HFC-134a": 0.88},
    "r445a": {"Carbon dioxide": 0.06, "HFC-134a": 0.09},
    "r508a": {"HFC-23": 0.39, "Perfluoroethane (PFC-116)": 0.61},
    "r508b": {"HFC-23": 0.46, "Perfluoroethane (PFC-116)": 0.54},
    "r509a": {"Perfluoropropane (PFC-218)": 0.56},
}
#: A blend's components may sum to this much less than the published value (rounded GWPs) before the
#: difference is taken for non-Kyoto gases the value includes (as in the 2019 to 2021 tables).
BLEND_TOLERANCE = 0.005


def _fold(text: object) -> str:
    return "" if pd.isna(text) else " ".join(str(text).lower().split()).rstrip("*")


def pure_gas(label: object) -> str | None:
    """The gas a pure refrigerant row is named after (``HFC-32`` -> ``hfcs``), or None."""
    folded = _fold(label)
    return next((gas for pattern, gas in PURE_GAS_PATTERNS if pattern.match(folded)), None)


def _component_gwps(table: pd.DataFrame) -> dict[str, float]:
    """kg CO2e per kg of each pure gas of ``Refrigerant & other`` (its GWP), by folded label."""
    refrigerants = table[table["level_1"].map(_fold) == REFRIGERANT_LEVEL_1]
    return {_fold(label): float(value)
            for label, value in zip(refrigerants["level_3"], refrigerants["kgco2e"])
            if pure_gas(label)}


def _blend_parts(name: str, value: float, table: pd.DataFrame) -> dict[str, float]:
    composition = PFC_BLENDS.get(name)
    if composition is None:
        return {"hfcs": value}
    gwps = _component_gwps(table)
    parts = {gas: 0.0 for gas in GASES}
    for component, fraction in composition.items():
        parts[pure_gas(component)] += fraction * gwps[_fold(component)]
    computed = sum(parts.values())
    if computed >= value * (1 - BLEND_TOLERANCE):  # the value is the Kyoto part: scale to it
        return {gas: part * value / computed for gas, part in parts.items() if part}
    return {**{gas: part for gas, part in parts.items() if part}, UNATTRIBUTED: value - computed}


def gas_parts(row: pd.Series, table: pd.DataFrame) -> dict[str, float]:
    """kg CO2e of each gas per unit of a factor row of ``table``: the keys of `GASES` that it emits,
    and `UNATTRIBUTED` for any part that is not one of them or that the table does not split."""
    split = {gas: row.get(f"kgco2e_{gas}") for gas in SPLIT_BY_DESNZ}
    if all(pd.notna(value) for value in split.values()):
        return {gas: float(value) for gas, value in split.items()}
    value = float(row["kgco2e"])
    if _fold(row["level_1"]) == REFRIGERANT_LEVEL_1:
        name, column_text = _fold(row["level_3"]), _fold(row.get("column_text"))
        gas = pure_gas(name)
        if gas:
            return {gas: value}
        kyoto_part = column_text == KYOTO_ONLY or (not column_text and _fold(row["level_2"]) in KYOTO_BLEND_GROUPS)
        if BLEND.match(name) and kyoto_part:
            return _blend_parts(name, value, table)
        if BLEND.match(name) and column_text == WITH_NON_KYOTO:  # the Kyoto part is its own row
            kyoto = table[(table["level_1"].map(_fold) == REFRIGERANT_LEVEL_1) & (table["level_3"].map(_fold) == name)
                          & (table["column_text"].map(_fold) == KYOTO_ONLY)]
            if len(kyoto) == 1:
                kyoto_value = float(kyoto.iloc[0]["kgco2e"])
                parts = _blend_parts(name, kyoto_value, table)
                rest = value - kyoto_value + parts.pop(UNATTRIBUTED, 0.0)
                return {**parts, UNATTRIBUTED: rest} if rest else parts
    return {UNATTRIBUTED: value}
