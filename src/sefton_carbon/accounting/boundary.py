"""Boundary options (``scopes.yaml``): which emissions count towards the council's target.

Each option states in data its consolidation approach, the scopes and Scope 3 categories it
includes, the activities and site tags it leaves out, whether transmission-and-distribution and
well-to-tank lines count, and which Scope 2 method counts towards the target. `apply` turns an
option into two masks over an inventory: the rows (by activity, site tag and operational control)
and the priced lines (by scope, category and line type) that lie inside the boundary. Nothing outside
is dropped: it is reported as outside the boundary, with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sefton_carbon import resources
from sefton_carbon.accounting.catalogue import DESNZ_PREFIX, OUTSIDE_OF_SCOPES_NUMBER, load_catalogue
from sefton_carbon.accounting.ghg_protocol import SCOPE_3_CATEGORIES
from sefton_carbon.accounting.sites import KNOWN_TAGS, SitesRegister
from sefton_carbon.accounting.spend import SPEND_PREFIX
from sefton_carbon.config import ConfigDocument, load_config
from sefton_carbon.errors import UsageError

CONSOLIDATION = {
    "operational_control": "operational control: emissions from operations the council directs, "
                           "whoever owns the asset",
    "financial_control": "financial control: emissions from operations the council directs "
                         "financially, including contracts and leases it funds",
}
SCOPE_2_METHODS = ("location", "market")
OPTION_KEYS = {"label", "description", "consolidation", "scopes", "scope_3_categories",
               "exclude_activities", "exclude_site_tags", "transmission_distribution", "well_to_tank",
               "scope_2_method"}
TRANSMISSION_DISTRIBUTION = "transmission_distribution"
WELL_TO_TANK_LINES = ("well_to_tank", "well_to_tank_transmission_distribution")
#: Patterns an option may exclude besides catalogue names: every spend line, every DESNZ row named
#: directly.
ACTIVITY_PATTERNS = (SPEND_PREFIX + "*", DESNZ_PREFIX + "*")


def activity_matches(pattern: str, activity: str) -> bool:
    """Whether ``pattern`` names ``activity``: the activity's own name, or a prefix ending in ``*``
    (``spend:*`` names every spend activity)."""
    return activity.startswith(pattern[:-1]) if pattern.endswith("*") else activity == pattern


#: The usual significance threshold for recalculating a base year [% of the baseline]: 5% is the
#: threshold most companies set (GHG Protocol Corporate Standard, chapter 5, "Significance
#: thresholds for recalculations").
DEFAULT_SIGNIFICANCE_THRESHOLD_PCT = 5.0

@dataclass(frozen=True)
class BoundaryOption:
    """One named boundary option."""

    name: str
    label: str
    description: str
    consolidation: str
    scopes: frozenset[int]
    scope_3_categories: frozenset[int]
    exclude_activities: frozenset[str]
    exclude_site_tags: frozenset[str]
    transmission_distribution: bool
    well_to_tank: bool
    scope_2_method: str

    def excludes_activity(self, activity: str) -> bool:
        """Whether ``exclude_activities`` leaves this activity out of the boundary."""
        return any(activity_matches(pattern, activity) for pattern in self.exclude_activities)

    def statement(self) -> list[str]:
        """What is in and what is out, in plain words (like the scope sheet of the LGA tool)."""
        inside = [f"Scope {scope}" + (" (location-based and market-based; "
                                     f"{self.scope_2_method}-based counts towards the target)"
                                     if scope == 2 else "")
                  for scope in sorted(self.scopes)]
        lines = [f"Boundary option '{self.name}': {self.label}", f"  {self.description}",
                 f"  Consolidation: {CONSOLIDATION[self.consolidation]}",
                 f"  In: {', '.join(inside)}"]
        if 3 in self.scopes:
            lines += [f"    Scope 3 category {number}: {SCOPE_3_CATEGORIES[number]}"
                      for number in sorted(self.scope_3_categories)]
        lines.append(f"  Transmission and distribution losses: {'in' if self.transmission_distribution else 'out'}")
        lines.append(f"  Well-to-tank (upstream fuel and electricity supply): {'in' if self.well_to_tank else 'out'}")
        out = []
        out += [f"Scope {scope}" for scope in (1, 2, 3) if scope not in self.scopes]
        if 3 in self.scopes:
            out += [f"Scope 3 category {number} ({SCOPE_3_CATEGORIES[number]})"
                    for number in range(1, 16) if number not in self.scope_3_categories]
        out += [f"activity {name}" for name in sorted(self.exclude_activities)]
        out += [f"sites tagged {tag} ({KNOWN_TAGS[tag]})" for tag in sorted(self.exclude_site_tags)]
        if self.consolidation == "operational_control":
            out.append("sites the council does not operate (operational_control: no in the sites register)")
        lines.append("  Out: " + ("; ".join(out) if out else "nothing"))
        return lines


@dataclass(frozen=True)
class Scope2Market:
    """Settings for market-based Scope 2: the residual-mix factor [kg CO2e/kWh] and its source."""

    residual_mix_kgco2e_per_kwh: float | None
    residual_mix_source: str | None


@dataclass(frozen=True)
class BoundaryOptions:
    """The options of a ``scopes.yaml``, in file order, with the default named."""

    options: dict[str, BoundaryOption]
    default: str
    scope_2_market: Scope2Market
    source: Path
    #: A restated baseline that differs from the baseline as reported by more than this share [%]
    #: calls for a recalculation (``base_year_recalculation`` in scopes.yaml; GHG Protocol Corporate
    #: Standard, chapter 5).
    significance_threshold_pct: float = DEFAULT_SIGNIFICANCE_THRESHOLD_PCT
    #: Activities a restated baseline keeps as reported: their factor follows real change year by
    #: year (the grid's generation mix), not a change of method.
    keep_reported: tuple[str, ...] = ("electricity",)

    def get(self, name: str | None) -> BoundaryOption:
        """An option by name; the default when ``name`` is None."""
        name = name or self.default
        if name not in self.options:
            raise UsageError(f"unknown boundary option '{name}': options in {self.source} are "
                             f"{', '.join(self.options)}")
        return self.options[name]


def _int_set(document: ConfigDocument, value: object, allowed: range, *key: object) -> frozenset[int]:
    if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        raise document.error(f"must be a list of whole numbers from {allowed.start} to {allowed.stop - 1}", *key)
    wrong = [v for v in value if v not in allowed]
    if wrong:
        raise document.error(f"{', '.join(map(str, wrong))} not allowed: use numbers from "
                             f"{allowed.start} to {allowed.stop - 1}", *key)
    return frozenset(value)


def _name_set(document: ConfigDocument, value: object, known, what: str, *key: object) -> frozenset[str]:
    value = value or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise document.error(f"must be a list of {what} names", *key)
    patterns = ACTIVITY_PATTERNS if what == "activity" else ()
    unknown = [v for v in value if v not in known and v not in patterns
               and not (what == "activity" and v.startswith((DESNZ_PREFIX, SPEND_PREFIX)))]
    if unknown:
        raise document.error(f"unknown {what} {', '.join(map(repr, unknown))}: known are "
                             f"{', '.join([*sorted(known), *patterns])}", *key)
    return frozenset(value)


def _flag(document: ConfigDocument, body: dict, key: str, name: str) -> bool:
    value = body.get(key)
    if not isinstance(value, bool):
        raise document.error("must be true or false", "options", name, key)
    return value


def _option(document: ConfigDocument, name: str, body: object) -> BoundaryOption:
    if not isinstance(body, dict):
        raise document.error("each option must be a mapping of keys", "options", name)
    unknown = set(body) - OPTION_KEYS
    if unknown:
        raise document.error(f"unknown key(s) {', '.join(sorted(map(str, unknown)))}; allowed: "
                             f"{', '.join(sorted(OPTION_KEYS))}", "options", name, sorted(map(str, unknown))[0])
    missing = {"label", "description", "consolidation", "scopes", "transmission_distribution",
               "well_to_tank", "scope_2_method"} - set(body)
    if missing:
        raise document.error(f"missing key(s) {', '.join(sorted(missing))}", "options", name)
    for key in ("label", "description"):
        if not isinstance(body[key], str) or not body[key].strip():
            raise document.error("must be text", "options", name, key)
    if body["consolidation"] not in CONSOLIDATION:
        raise document.error(f"must be one of {', '.join(CONSOLIDATION)}", "options", name, "consolidation")
    if body["scope_2_method"] not in SCOPE_2_METHODS:
        raise document.error("must be location or market", "options", name, "scope_2_method")
    scopes = _int_set(document, body["scopes"], range(1, 4), "options", name, "scopes")
    categories = _int_set(document, body.get("scope_3_categories", []), range(1, 16),
                          "options", name, "scope_3_categories")
    if categories and 3 not in scopes:
        raise document.error("Scope 3 categories are listed but Scope 3 is not in 'scopes'",
                             "options", name, "scope_3_categories")
    option = BoundaryOption(
        name=name, label=body["label"].strip(), description=" ".join(body["description"].split()),
        consolidation=body["consolidation"], scopes=scopes, scope_3_categories=categories,
        exclude_activities=_name_set(document, body.get("exclude_activities"),
                                     load_catalogue().activities, "activity",
                                     "options", name, "exclude_activities"),
        exclude_site_tags=_name_set(document, body.get("exclude_site_tags"), KNOWN_TAGS, "tag",
                                    "options", name, "exclude_site_tags"),
        transmission_distribution=_flag(document, body, "transmission_distribution", name),
        well_to_tank=_flag(document, body, "well_to_tank", name),
        scope_2_method=body["scope_2_method"])
    if (option.transmission_distribution or option.well_to_tank) and 3 not in categories:
        raise document.error("T&D and well-to-tank lines are Scope 3 category 3: add 3 to "
                             "scope_3_categories or set them to false", "options", name)
    return option


def load_boundary_options(path: str | Path | None = None) -> BoundaryOptions:
    """Read and check ``scopes.yaml`` (default: the bundled one)."""
    document = load_config(path or resources.scopes_file())
    data = document.data
    if not isinstance(data, dict):
        raise document.error("must be a mapping with 'default' and 'options'")
    unknown = set(data) - {"default", "options", "scope_2_market", "base_year_recalculation"}
    if unknown:
        raise document.error(f"unknown top-level key(s) {', '.join(sorted(map(str, unknown)))}",
                             sorted(map(str, unknown))[0])
    if not isinstance(data.get("options"), dict) or not data["options"]:
        raise document.error("'options' must map option names to their settings", "options")
    options = {str(name): _option(document, str(name), body) for name, body in data["options"].items()}
    default = data.get("default")
    if default not in options:
        raise document.error(f"default '{default}' is not one of the options ({', '.join(options)})", "default")
    market = data.get("scope_2_market") or {}
    if not isinstance(market, dict) or set(market) - {"residual_mix_kgco2e_per_kwh", "residual_mix_source"}:
        raise document.error("may hold residual_mix_kgco2e_per_kwh and residual_mix_source only",
                             "scope_2_market")
    residual = market.get("residual_mix_kgco2e_per_kwh")
    if residual is not None and (isinstance(residual, bool) or not isinstance(residual, (int, float))
                                 or not 0 <= residual < 2):
        raise document.error("must be a number of kg CO2e per kWh between 0 and 2, or null",
                             "scope_2_market", "residual_mix_kgco2e_per_kwh")
    if residual is not None and not market.get("residual_mix_source"):
        raise document.error("give the source of the residual-mix factor", "scope_2_market",
                             "residual_mix_source")
    recalculation = data.get("base_year_recalculation") or {}
    if not isinstance(recalculation, dict) or set(recalculation) - {"significance_threshold_pct", "keep_reported"}:
        raise document.error("may hold significance_threshold_pct and keep_reported only",
                             "base_year_recalculation")
    keep_reported = recalculation.get("keep_reported", ["electricity"])
    if not isinstance(keep_reported, list) or not all(isinstance(name, str) for name in keep_reported):
        raise document.error("must be a list of catalogue activity names", "base_year_recalculation",
                             "keep_reported")
    threshold = recalculation.get("significance_threshold_pct", DEFAULT_SIGNIFICANCE_THRESHOLD_PCT)
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0 < threshold < 100:
        raise document.error("must be a percentage above 0 and below 100 (5 is usual)",
                             "base_year_recalculation", "significance_threshold_pct")
    return BoundaryOptions(options=options, default=default,
                           scope_2_market=Scope2Market(
                               None if residual is None else float(residual),
                               market.get("residual_mix_source")),
                           source=document.source, significance_threshold_pct=float(threshold),
                           keep_reported=tuple(keep_reported))


def line_mask(option: BoundaryOption, lines: pd.DataFrame) -> np.ndarray:
    """Which priced lines lie inside the option's boundary (by scope, category and line type).

    Biogenic CO2 lines (outside of scopes) come from burning fuel, so they are reported wherever
    Scope 1 is in the boundary; they never count in a scope or a total."""
    scope = lines["scope"].to_numpy()
    category = lines["category"].fillna(0).astype("int64").to_numpy()
    line = lines["line"].astype(str).to_numpy()
    inside = np.isin(scope, list(option.scopes)) | ((scope == OUTSIDE_OF_SCOPES_NUMBER) & (1 in option.scopes))
    inside &= (scope != 3) | np.isin(category, list(option.scope_3_categories))
    if not option.transmission_distribution:
        inside &= ~np.isin(line, [TRANSMISSION_DISTRIBUTION, WELL_TO_TANK_LINES[1]])
    if not option.well_to_tank:
        inside &= ~np.isin(line, WELL_TO_TANK_LINES)
    return inside


def missing_register_note(option: BoundaryOption) -> str | None:
    """What an option could not apply for want of a sites register (None if it needs none)."""
    wanted = []
    if option.exclude_site_tags:
        wanted.append(f"the site tags it leaves out ({', '.join(sorted(option.exclude_site_tags))})")
    if option.consolidation == "operational_control":
        wanted.append("operational control")
    if not wanted:
        return None
    return (f"no sites register was given (--sites FILE), so the boundary option '{option.name}' could not "
            f"apply {' nor '.join(wanted)}: every site was counted as inside the boundary")


def row_exclusions(option: BoundaryOption, rows: pd.DataFrame,
                   sites: SitesRegister | None) -> pd.Series:
    """Why each row lies outside the boundary (missing where it is inside).

    The consolidation approach is applied first (GHG Protocol Corporate Standard, chapter 3): a
    site the council does not operate is outside for that reason under operational control,
    whatever its tags; then the option's excluded activities and site tags."""
    reason = pd.Series(None, index=rows.index, dtype=object)
    activities = rows["activity"].cat.categories
    excluded = np.array([option.excludes_activity(str(activity)) for activity in activities] + [False])
    excluded_activity = excluded[rows["activity"].cat.codes.to_numpy()]
    if excluded_activity.any():
        reason[excluded_activity] = ("activity " + rows["activity"][excluded_activity].astype(str)
                                     + " is outside the boundary")
    if sites is not None:
        register = sites.table.set_index("site")
        site_names = rows["site"].cat.categories
        for site_name in site_names:
            if site_name not in register.index:
                continue
            entry = register.loc[site_name]
            tags = set(entry["tags"]) & option.exclude_site_tags
            why = None
            if option.consolidation == "operational_control" and not entry["operational_control"]:
                why = "site not under the council's operational control"
            elif tags:
                why = f"site tagged {', '.join(sorted(tags))}"
            if why:
                at_site = (rows["site"] == site_name).to_numpy() & reason.isna().to_numpy()
                reason[at_site] = why
    return reason
