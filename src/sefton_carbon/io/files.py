"""Files written and hashed: CSV that is safe to open in a spreadsheet, and SHA-256 digests."""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pandas as pd

from sefton_carbon import resources
from sefton_carbon.errors import UsageError

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
#: The file that marks a folder as published outputs (written by outputs.manifest): readers of
#: returns never read such a folder as input.
MANIFEST_NAME = "manifest.json"
#: The department list of the returns intake (`sefton-carbon serve`), kept at the top of the
#: returns folder: a list of names, not a return.
DEPARTMENT_LIST_NAME = "departments.csv"


def input_files(folder: Path, suffixes: frozenset[str] | set[str]) -> list[Path]:
    """The files with one of ``suffixes`` inside a folder, sorted, recursively: not hidden files
    nor anything in a hidden folder (the returns intake keeps its log, its runs and superseded versions so),
    not Office lock files (``~$...``), not the intake's `DEPARTMENT_LIST_NAME` at the top, and
    nothing inside a published output folder (one holding a `MANIFEST_NAME`), so that outputs
    written inside a returns folder are never read back."""
    published = {manifest.parent for manifest in folder.rglob(MANIFEST_NAME)}
    return sorted(child for child in folder.rglob("*") if child.is_file() and child.suffix.lower() in suffixes
                  and not any(part.startswith(".") for part in child.relative_to(folder).parts)
                  and not child.name.startswith("~$") and child != folder / DEPARTMENT_LIST_NAME
                  and not published.intersection(child.parents))


def defuse_text(value: object) -> object:
    """Text that a spreadsheet would run as a formula, made inert with a leading apostrophe.

    Cells starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return are prefixed (OWASP CSV
    injection guidance). Numbers are left alone.
    """
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def defuse_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of a table with every text column defused; numeric columns untouched."""
    safe = frame.copy()
    for column in safe.columns:
        series = safe[column]
        if isinstance(series.dtype, pd.CategoricalDtype):
            safe[column] = series.cat.rename_categories(
                [defuse_text(str(c)) if isinstance(c, str) else c for c in series.cat.categories])
        elif series.dtype == object:
            safe[column] = series.map(defuse_text)
        elif pd.api.types.is_string_dtype(series.dtype):
            formula = series.str.startswith(FORMULA_PREFIXES, na=False)
            safe[column] = series.mask(formula, "'" + series)
    return safe


def refuse_writing_over_inputs(inputs: list[str | Path], files: dict[str, str | Path | None],
                               folders: dict[str, str | Path | None] | None = None) -> None:
    """A UsageError when an output would overwrite an input or be read back as one: an output
    file (``option -> path``) that is an input file or lies inside an input folder, or an output
    folder that is an input folder or holds an input."""
    given = [Path(path).resolve() for path in inputs]
    for option, path in files.items():
        if path is None:
            continue
        target = Path(path).resolve()
        if target in given or any(folder.is_dir() and folder in target.parents for folder in given):
            raise UsageError(f"{option} {path}: that would overwrite or be read back as an input: "
                             "write it outside the returns")
    for option, path in (folders or {}).items():
        if path is None:
            continue
        target = Path(path).resolve()
        if any(target == item or target in item.parents for item in given):
            raise UsageError(f"{option} {path}: that folder holds an input of this run (returns or a register): "
                             "write the outputs to a folder of their own")


@contextlib.contextmanager
def writing(path: str | Path):
    """Create ``path``'s folder and write it in the block; when the system refuses (the folder is
    a file, the path is a folder, the name is too long, the disk is full), a one-line UsageError
    naming the path and the system's reason, not a traceback."""
    path = Path(path)
    existing = next((folder for folder in path.parents if folder.exists()), None)
    if existing is not None and not existing.is_dir():
        raise UsageError(f"{path}: cannot be written: {existing} is a file, not a folder: choose another place")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        yield path
    except OSError as error:
        raise UsageError(f"{path}: cannot be written ({error.strerror or error}): choose another place") from None


def write_csv(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write a table as UTF-8 CSV, safe to open in a spreadsheet, with full numeric precision."""
    with writing(path) as path:
        defuse_frame(frame).to_csv(path, index=False, lineterminator="\n", date_format="%Y-%m-%d")
    return path


def write_text(text: str, path: str | Path) -> Path:
    """Write UTF-8 text (a JSON summary, an HTML report), with `writing`'s one-line errors."""
    with writing(path) as path:
        path.write_text(text, encoding="utf-8")
    return path


def recorded_name(path: Path) -> str:
    """How outputs (ledgers, rejected rows, summaries) name an input file, so that the same inputs
    give the same outputs on any machine: relative to the working folder for a file inside it, as
    ``bundled:<path>`` for data that ships with sefton-carbon (the example council), else as given."""
    # The working folder is compared without following links, so that a path through a linked
    # folder inside it keeps the name it was given.
    absolute, working = Path(os.path.abspath(path)), Path(os.path.abspath(Path.cwd()))
    if absolute.is_relative_to(working):
        return absolute.relative_to(working).as_posix()
    resolved = Path(path).resolve()
    if resolved.is_relative_to(resources.data_root()):
        return "bundled:" + resolved.relative_to(resources.data_root()).as_posix()
    return str(path)


def each_once(files) -> list[Path]:
    """``files`` in order, each once however often it is named (twice, or as a file and inside a
    folder also named; compared as resolved paths), by the name it is first given."""
    first_named: dict[Path, Path] = {}
    for file in files:
        first_named.setdefault(Path(file).resolve(), Path(file))
    return list(first_named.values())


def sha256(path: str | Path) -> str:
    """The file's SHA-256 digest [hex], read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sha256_in_background(path: str | Path) -> Future:
    """`sha256` of a file computed in a thread of its own while the caller goes on (reading and
    hashing let other threads run): the digest is the future's result."""
    hashing = ThreadPoolExecutor(max_workers=1)
    digest = hashing.submit(sha256, path)
    hashing.shutdown(wait=False)
    return digest


def digests_when_idle(files: list[Path]) -> Future:
    """`sha256` of each file, as ``{recorded_name: digest}`` (the future's result), computed in a
    thread of its own that yields the processor to the caller's threads (on Linux, at the lowest
    priority, nice 19): an engine that keeps every core busy reading the same files is slowed by
    less than the run-to-run spread (measured on a 784 MiB CSV file, which takes 0.7 s to hash on
    one core)."""
    digests: Future = Future()

    def hashed() -> None:
        if sys.platform == "linux":  # a thread's own priority: Linux only (elsewhere the whole process's)
            with contextlib.suppress(OSError):
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
        try:
            digests.set_result({recorded_name(file): sha256(file) for file in files})
        except BaseException as error:  # the caller meets it in digests.result()
            digests.set_exception(error)

    # a daemon: a run that fails before it asks for the digests does not wait for them to exit
    threading.Thread(target=hashed, name="digests", daemon=True).start()
    return digests
