"""Provenance: what a published figure came from, and a check that it still follows.

Every output folder gets a ``manifest.json``: the project version, the command and its parameters,
the sha256 of every input (each activity file, the registers, ``scopes.yaml``, the activity
catalogue and the factor table used) and of every output, and the headline figures. Paths are stored
relative to the manifest, so a folder moved with its inputs still verifies.

`verify` recomputes from the recorded inputs and compares figure by figure (relative tolerance
1e-9) and file by file (sha256 of the ledger, rejected rows and summary). When something differs it
names the figure, and the input files whose contents changed.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from sefton_carbon import __version__, resources
from sefton_carbon.engines.pipeline import compute_inventory
from sefton_carbon.errors import DataError, UsageError
from sefton_carbon.io.files import sha256
from sefton_carbon.outputs.files import write_inventory_outputs
from sefton_carbon.returns.activity import expand_paths
from sefton_carbon.returns.collection import collect

MANIFEST = "manifest.json"
RELATIVE_TOLERANCE = 1e-9
PARAMETERS = ("reporting_year", "factor_year", "scope_option", "scopes_file", "sites", "contracts",
              "spend_factors", "factors_dir", "strict")
PATH_PARAMETERS = ("scopes_file", "sites", "contracts", "spend_factors", "factors_dir")


def _relative(path: str | Path, folder: Path) -> str:
    return os.path.relpath(Path(path).resolve(), folder.resolve())


def _figures(inventory) -> dict:
    summary = inventory.summary()
    return {"total_tco2e": summary["total_tco2e"], "by_scope": summary["by_scope"],
            "by_scope_3_category": summary["by_scope_3_category"], "by_department": summary["by_department"],
            "by_activity": summary["by_activity"], "rows": summary["rows"]}


def _inputs(paths: list, parameters: dict, inventory, folder: Path) -> list[dict]:

    files = [Path(path) for path in expand_paths(list(paths))]
    files += [Path(parameters[name]) for name in ("sites", "contracts", "spend_factors") if parameters.get(name)]
    files.append(Path(parameters.get("scopes_file") or resources.scopes_file()))
    files.append(resources.factors_dir() / "activities.yaml")
    factor_folder = Path(parameters.get("factors_dir") or resources.factors_dir()) / str(inventory.factor_year)
    if not (factor_folder / "factors.csv").is_file():
        factor_folder = resources.factors_dir() / str(inventory.factor_year)
    files.append(factor_folder / "factors.csv")
    return [{"path": _relative(path, folder), "sha256": sha256(path), "bytes": path.stat().st_size} for path in files]


def write_manifest(folder: str | Path, command: str, paths: list, parameters: dict, inventory,
                   outputs: dict[str, Path]) -> Path:
    """Record how the outputs in ``folder`` were made (see the module docstring).

    Paths are recorded as given (the outputs name files that way) with the working directory, and
    relative to the manifest, for a folder moved together with its inputs.
    """
    folder = Path(folder)
    given = {name: (str(parameters[name]) if name in PATH_PARAMETERS and parameters.get(name) else parameters.get(name))
             for name in PARAMETERS}
    relative = {name: _relative(parameters[name], folder) for name in PATH_PARAMETERS if parameters.get(name)}
    manifest = {
        "sefton_carbon_version": __version__, "command": command, "working_directory": os.getcwd(),
        "paths": [str(path) for path in paths], "paths_from_manifest": [_relative(path, folder) for path in paths],
        "parameters": given, "parameters_from_manifest": relative,
        "inputs": _inputs(paths, parameters, inventory, folder),
        "outputs": {Path(path).name: sha256(path) for name, path in sorted(outputs.items())
                    if Path(path).suffix in (".csv", ".json")},
        "figures": _figures(inventory),
    }
    path = folder / MANIFEST
    path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


@dataclass
class Verification:
    """The outcome of `verify`: ``differences`` is empty when every figure and file still matches."""

    folder: Path
    checked: int
    differences: list[str] = field(default_factory=list)
    changed_inputs: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differences


def _compare(published, now, name: str, differences: list[str]) -> int:
    if isinstance(published, dict):
        count = 0
        for key in sorted(set(published) | set(now or {})):
            if key not in published or key not in (now or {}):
                differences.append(f"{name}.{key}: {'published' if key in published else 'now'} only")
                count += 1
                continue
            count += _compare(published[key], now[key], f"{name}.{key}", differences)
        return count
    if isinstance(published, (int, float)) and isinstance(now, (int, float)):
        if abs(published - now) > RELATIVE_TOLERANCE * max(abs(published), abs(now), 1e-12):
            differences.append(f"{name}: published {published:,.6f}, now {now:,.6f}")
    elif published != now:
        differences.append(f"{name}: published {published!r}, now {now!r}")
    return 1


def verify(folder: str | Path) -> Verification:
    """Recompute the outputs of ``folder`` from its manifest and say what no longer matches."""
    import contextlib
    import tempfile


    folder = Path(folder).resolve()
    path = folder / MANIFEST
    if not path.is_file():
        raise UsageError(f"{folder}: no {MANIFEST} here: only folders written by inventory --output, collect "
                         "or demo can be verified")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        parameters = dict(manifest["parameters"])
    except (ValueError, KeyError, TypeError) as error:
        raise DataError(f"is not a manifest this version can read ({error})", file=str(path)) from None
    result = Verification(folder=folder, checked=0)
    for item in manifest["inputs"]:
        input_path = folder / item["path"]
        if not input_path.is_file():
            result.changed_inputs.append(f"{item['path']} (missing)")
        elif sha256(input_path) != item["sha256"]:
            result.changed_inputs.append(item["path"])
    # Recompute from where the run was made when the inputs are still there (so that file names in
    # the outputs read the same); otherwise from the paths relative to the manifest.
    working = Path(manifest.get("working_directory", ""))
    same_place = working.is_dir() and all(
        (working / given).resolve() == (folder / moved).resolve()
        for given, moved in zip(manifest["paths"], manifest["paths_from_manifest"]))
    if same_place:
        paths = manifest["paths"]
    else:
        paths = [str(folder / item) for item in manifest["paths_from_manifest"]]
        for name, moved in manifest.get("parameters_from_manifest", {}).items():
            parameters[name] = str(folder / moved)
    with contextlib.chdir(working if same_place else Path.cwd()):
        missing = [str(item) for item in paths if not Path(item).exists()]
        if missing:
            result.differences.append(f"inputs missing: {', '.join(missing)}")
            return result
        inventory = _recompute(manifest["command"], paths, parameters)
        result.checked += _compare(manifest["figures"], _figures(inventory), "figures", result.differences)
        with tempfile.TemporaryDirectory() as scratch:
            write_inventory_outputs(inventory, scratch)
            for name in ("ledger.csv", "rejected.csv", "summary.json"):
                if name not in manifest["outputs"] or not same_place:
                    continue  # moved folders: file names inside the outputs differ; the figures decide
                result.checked += 1
                now = sha256(Path(scratch) / name)
                published = folder / name
                if now != manifest["outputs"][name]:
                    result.differences.append(f"{name}: recomputed contents differ from the published file")
                elif published.is_file() and sha256(published) != now:
                    result.differences.append(f"{name}: the published file was edited after it was written")
    return result


def _recompute(command: str, paths: list[str], parameters: dict):

    if command == "collect":

        return collect(paths[0], parameters["reporting_year"], parameters.get("sites"),
                       scope_option=parameters.get("scope_option"), scopes_file=parameters.get("scopes_file"),
                       contracts=parameters.get("contracts"), spend_factors=parameters.get("spend_factors"),
                       strict=bool(parameters.get("strict"))).inventory
    return compute_inventory(paths, parameters["reporting_year"], parameters.get("factor_year"),
                             parameters.get("factors_dir"), scope_option=parameters.get("scope_option"),
                             scopes_file=parameters.get("scopes_file"), sites=parameters.get("sites"),
                             contracts=parameters.get("contracts"), spend_factors=parameters.get("spend_factors"))
