"""Provenance: what a published figure came from, and a check that it still follows.

Every output folder gets a ``manifest.json``: the project version, the command and its parameters,
the sha256 of every input (each activity file, the registers, ``scopes.yaml``, the activity
catalogue and the factor table used), the sha256 of every file published in the folder, and the
headline figures. Paths are stored as they were given and relative to the manifest, never as
absolute paths of the machine that wrote them, so a folder moved with its inputs still verifies
and the same run on another machine writes the same bytes.

`verify` fails (exit 3) on any difference, and names it: a published file edited, missing or added
since publication; an input whose bytes changed, even when no figure moves; and, recomputed from
the recorded inputs, a figure (relative tolerance 1e-9) or an output file that no longer matches.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
from dataclasses import dataclass, field, fields
from pathlib import Path

import pandas as pd

from sefton_carbon import __version__, resources
from sefton_carbon.accounting.inventory import Inventory
from sefton_carbon.engines.large import LargeInventory
from sefton_carbon.engines.pipeline import compute_inventory
from sefton_carbon.errors import DataError, UsageError
from sefton_carbon.io.files import MANIFEST_NAME, recorded_name, sha256, write_text, writing
from sefton_carbon.outputs.files import LARGE_ENGINES, write_inventory_outputs, write_large_inventory_outputs
from sefton_carbon.returns.activity import expand_paths
from sefton_carbon.returns.collection import PricingInputs, collect

MANIFEST = MANIFEST_NAME
RELATIVE_TOLERANCE = 1e-9
PARAMETERS = ("reporting_year", "factor_year", "scope_option", "scopes_file", "sites", "contracts",
              "spend_factors", "factors_dir", "strict", "engine")
#: The ``engine`` parameter of outputs computed by the DuckDB engine (`write_large_inventory_outputs`;
#: the Dask engine's is ``dask``); outputs with no engine recorded were computed in memory.
DUCKDB = "duckdb"
PATH_PARAMETERS = ("scopes_file", "sites", "contracts", "spend_factors", "factors_dir")
#: The parameters that are `PricingInputs`, passed as they are to the recomputation.
PRICING_PARAMETERS = tuple(field.name for field in fields(PricingInputs))
#: Keys every manifest has; a manifest without one of them cannot be verified.
MANIFEST_KEYS = ("command", "paths", "paths_from_manifest", "parameters", "inputs", "outputs", "figures")


def _relative(path: str | Path, folder: Path) -> str:
    """``path`` relative to ``folder``, with forward slashes on every system."""
    return Path(os.path.relpath(Path(path).resolve(), folder.resolve())).as_posix()


def _published_files(folder: Path) -> list[Path]:
    """The files published in ``folder``: every file in it and below, but the manifest itself,
    hidden files (a lock, an editor's backup) and folders with a manifest of their own (a year of
    the demo, a collection written inside it: each verified on its own)."""
    nested = {path.parent for path in folder.rglob(MANIFEST) if path.parent != folder}
    return sorted(path for path in folder.rglob("*") if path.is_file() and path.name != MANIFEST
                  and not any(part.startswith(".") for part in path.relative_to(folder).parts)
                  and not any(parent in nested for parent in path.parents))


def _summary_of(result: Inventory | LargeInventory) -> dict:
    """The summary of an in-memory inventory or of a large-input engine's, in one shape."""
    return result.summary() if isinstance(result, Inventory) else result.summary


def _figures(summary: dict) -> dict:
    """The headline figures a manifest records and `verify` compares."""
    return {"total_tco2e": summary["total_tco2e"], "by_scope": summary["by_scope"],
            "by_scope_3_category": summary["by_scope_3_category"], "by_department": summary["by_department"],
            "by_activity": summary["by_activity"], "rows": summary["rows"]}


def _inputs(paths: list, parameters: dict, result: Inventory | LargeInventory, folder: Path) -> list[dict]:
    """The manifest's inputs: every activity file read, the registers and the factor tables given,
    each with its digest."""
    files = [Path(path) for path in expand_paths(list(paths))]
    files += [Path(parameters[name]) for name in ("sites", "contracts", "spend_factors") if parameters.get(name)]
    files.append(Path(parameters.get("scopes_file") or resources.scopes_file()))
    files.append(resources.factors_dir() / "activities.yaml")
    factor_year = _summary_of(result)["factor_year"]
    factor_folder = Path(parameters.get("factors_dir") or resources.factors_dir()) / str(factor_year)
    if not (factor_folder / "factors.csv").is_file():
        factor_folder = resources.factors_dir() / str(factor_year)
    files.append(factor_folder / "factors.csv")
    # An activity file is recorded with the digest of the bytes that were read, not of the file as it
    # may be now.
    files_read = result.files if isinstance(result, Inventory) else pd.DataFrame(result.summary["files"])
    read = {}
    if "sha256" in files_read:
        read = dict(zip(files_read["source_file"].astype(str), files_read["sha256"]))
    return [{"path": _recorded_path(path, folder), "sha256": read.get(recorded_name(path)) or sha256(path),
             "bytes": path.stat().st_size} for path in files]


#: Prefix of an input that ships with sefton-carbon (the bundled factor tables, catalogue and
#: boundary options): recorded relative to the bundled data, wherever the package is installed.
BUNDLED = "bundled:"


def _recorded_path(path: Path, folder: Path) -> str:
    """An input's path as the manifest records it: ``bundled:...`` for the bundled data, else
    relative to the manifest's folder."""
    root = resources.data_root().resolve()
    if path.resolve().is_relative_to(root):
        return BUNDLED + path.resolve().relative_to(root).as_posix()
    return _relative(path, folder)


def _recorded_file(recorded: str, folder: Path) -> Path:
    """The file a manifest's input path names now."""
    if recorded.startswith(BUNDLED):
        return resources.data_root() / recorded.removeprefix(BUNDLED)
    return folder / recorded


def write_manifest(folder: str | Path, command: str, paths: list, parameters: dict,
                   result: Inventory | LargeInventory, outputs: dict[str, Path] | None = None) -> Path:
    """Record how the outputs in ``folder`` were made (see the module docstring).

    Every file in the folder is recorded, ``outputs`` (name -> path) or not, so that no published
    file escapes `verify`. Paths are recorded as given (the outputs name files that way) and
    relative to the manifest, for a folder moved together with its inputs.
    """
    folder = Path(folder)
    given = {name: (str(parameters[name]) if name in PATH_PARAMETERS and parameters.get(name) else parameters.get(name))
             for name in PARAMETERS}
    relative = {name: _relative(parameters[name], folder) for name in PATH_PARAMETERS if parameters.get(name)}
    published = set(_published_files(folder)) | {Path(path) for path in (outputs or {}).values()}
    manifest = {
        "sefton_carbon_version": __version__, "command": command,
        "paths": [str(path) for path in paths], "paths_from_manifest": [_relative(path, folder) for path in paths],
        "parameters": given, "parameters_from_manifest": relative,
        "inputs": _inputs(paths, parameters, result, folder),
        "outputs": {_relative(path, folder): sha256(path) for path in sorted(published)},
        "figures": _figures(_summary_of(result)),
    }
    return write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", folder / MANIFEST)


@contextlib.contextmanager
def publishing(folder: str | Path):
    """Hold ``folder`` for one run that writes its outputs and manifest: a second run into the same
    folder waits until the first has finished, so their files never interleave. The lock is a
    hidden file in the folder, left in place (it holds nothing) and not part of the publication."""
    folder = Path(folder)
    with writing(folder / ".lock") as lock_path:
        lock = open(lock_path, "w")
    with lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield folder
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def publish_inventory(inventory, folder: str | Path, command: str, paths: list, parameters: dict,
                      write=None) -> dict[str, Path]:
    """Write an inventory's output files and their manifest into ``folder``, one run at a time
    (`publishing`). ``write(folder)`` writes the files and returns them, name -> path (default:
    `write_inventory_outputs`; a collection adds its coverage and scoping register). Returns the
    files written, the manifest among them."""
    with publishing(folder) as held:
        written = write(held) if write is not None else write_inventory_outputs(inventory, held)
        written["manifest"] = write_manifest(held, command, paths, parameters, inventory, written)
    return written


def publish_large_inventory(paths: list, reporting_year: str, folder: str | Path, parameters: dict, *,
                            engine: str = DUCKDB, scheduler: str | None = None) -> LargeInventory:
    """Compute one year on a large-input engine into ``folder`` (`write_large_inventory_outputs`:
    ``engine`` is ``duckdb``, or ``dask`` on the cluster at ``scheduler`` or a local pool; with the
    `PricingInputs` among ``parameters``) and write its manifest, one run at a time
    (`publishing`). The manifest records the engine, which `verify` recomputes on; not the
    scheduler's address, which says where the figures were computed and not what from: `verify`
    recomputes Dask's outputs on a local pool, and they are the same bytes (a manifest names no
    machine)."""
    parameters = {**parameters, "reporting_year": reporting_year, "engine": engine}
    pricing = {name: parameters.get(name) for name in PRICING_PARAMETERS}
    # The engine writes into the folder as it computes: inputs it cannot use stop the run before
    # the folder is made, as on the in-memory path, which publishes once it has computed.
    expand_paths(paths)
    PricingInputs(**pricing).load()
    with publishing(folder) as held:
        result, written = write_large_inventory_outputs(paths, reporting_year, held, engine=engine,
                                                        scheduler=scheduler, **pricing)
        write_manifest(held, "inventory", paths, parameters, result, written)
    return result


@dataclass
class Verification:
    """The outcome of `verify`: ``ok`` when every figure, file and input still matches."""

    folder: Path
    checked: int
    differences: list[str] = field(default_factory=list)
    changed_inputs: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differences and not self.changed_inputs


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


def _read_manifest(path: Path) -> dict:
    """A manifest's contents; a DataError naming the file and the first key it lacks."""
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise DataError(f"is not a manifest this version can read ({error})", file=str(path)) from None
    if not isinstance(manifest, dict):
        raise DataError("is not a manifest this version can read (not a JSON object)", file=str(path))
    for key in MANIFEST_KEYS:
        if key not in manifest:
            raise DataError(f"is not a manifest this version can read: it has no '{key}'", file=str(path))
    return manifest


def _working_directory(manifest: dict, folder: Path) -> Path | None:
    """The folder the recorded paths were given from, found again from where they are now relative
    to the manifest; None when the paths do not agree on one (absolute paths that moved)."""
    candidates = set()
    for given, moved in zip(manifest["paths"], manifest["paths_from_manifest"]):
        now = (folder / moved).resolve()
        given_path = Path(given)
        if given_path.is_absolute():
            candidates.add(Path.cwd() if given_path.resolve() == now else None)
            continue
        parts = len(given_path.parts)
        base = now
        for _ in range(parts):
            base = base.parent
        candidates.add(base if (base / given_path).resolve() == now else None)
    return candidates.pop() if len(candidates) == 1 else None


def verify(folder: str | Path) -> Verification:
    """Recompute the outputs of ``folder`` from its manifest and say what no longer matches."""
    folder = Path(folder).resolve()
    path = folder / MANIFEST
    if not path.is_file():
        raise UsageError(f"{folder}: no {MANIFEST} here: only folders written by inventory --output, collect "
                         "or demo can be verified")
    manifest = _read_manifest(path)
    parameters = dict(manifest["parameters"])
    result = Verification(folder=folder, checked=0)
    for item in manifest["inputs"]:
        input_path = _recorded_file(item["path"], folder)
        if not input_path.is_file():
            result.changed_inputs.append(f"{item['path']} (missing)")
        elif sha256(input_path) != item["sha256"]:
            result.changed_inputs.append(item["path"])
    published = {_relative(file, folder): file for file in _published_files(folder)}
    for name, digest in sorted(manifest["outputs"].items()):
        result.checked += 1
        if name not in published:
            result.differences.append(f"{name}: the published file is missing")
        elif sha256(published[name]) != digest:
            result.differences.append(f"{name}: the published file was edited after it was written")
    result.differences += [f"{name}: not in the manifest (added after publication)"
                           for name in sorted(set(published) - set(manifest["outputs"]))]
    if manifest["command"] == "demo":
        return result  # files and inputs checked here; verify_all recomputes each year's folder
    working = _working_directory(manifest, folder)
    for name, moved in manifest.get("parameters_from_manifest", {}).items():
        parameters[name] = str(folder / moved) if working is None else os.path.relpath(folder / moved, working)
    paths = manifest["paths"] if working is not None else [str(folder / item) for item in manifest["paths_from_manifest"]]
    with contextlib.chdir(working or Path.cwd()):
        missing = [str(item) for item in paths if not Path(item).exists()]
        if missing:
            result.differences.append(f"inputs missing: {', '.join(missing)}")
            return result
        with tempfile.TemporaryDirectory() as scratch:
            summary, recomputed_files = _recompute(manifest["command"], paths, parameters, Path(scratch))
            result.checked += _compare(manifest["figures"], _figures(summary), "figures", result.differences)
            if working is None:
                return result  # absolute paths that moved: file names inside the outputs differ; the figures decide
            for recomputed in recomputed_files.values():
                if recomputed.name in manifest["outputs"]:
                    result.checked += 1
                    if sha256(recomputed) != manifest["outputs"][recomputed.name]:
                        result.differences.append(f"{recomputed.name}: recomputed contents differ from the "
                                                  "published file")
    return result


def verify_all(folder: str | Path) -> list[Verification]:
    """`verify` a published folder; for the demo's ``out/``, its own files and then each year's
    folder inside it (a folder of year folders without a manifest of its own is verified the
    same way, year by year)."""
    folder = Path(folder)
    results = [verify(folder)] if (folder / MANIFEST).is_file() else []
    if results and _read_manifest(folder / MANIFEST)["command"] != "demo":
        return results
    years = sorted(child for child in folder.iterdir() if (child / MANIFEST).is_file()) if folder.is_dir() else []
    if not results and not years:
        return [verify(folder)]  # the one-line usage error: no manifest here
    return results + [verify(child) for child in years]


def _recompute(command: str, paths: list[str], parameters: dict, scratch: Path) -> tuple[dict, dict[str, Path]]:
    """The summary and the inventory's output files computed again, on the engine recorded, into ``scratch``."""
    pricing = {name: parameters.get(name) for name in PRICING_PARAMETERS}
    if parameters.get("engine") in LARGE_ENGINES:  # Dask on a local pool (`publish_large_inventory`)
        result, written = write_large_inventory_outputs(paths, parameters["reporting_year"], scratch,
                                                        engine=parameters["engine"], **pricing)
        return result.summary, written
    if command == "collect":
        inventory = collect(paths[0], parameters["reporting_year"], strict=bool(parameters.get("strict")),
                            **pricing).inventory
    else:
        inventory = compute_inventory(paths, parameters["reporting_year"], **pricing)
    return inventory.summary(), write_inventory_outputs(inventory, scratch)
