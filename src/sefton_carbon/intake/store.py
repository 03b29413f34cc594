"""The intake's state: departments and their private links, the log of uploads and receipts, and
the returns kept as versions in the returns folder.

Layout of the returns folder (``RETURNS_DIR``, one reporting year):

* ``departments.csv``: the department list (a ``department`` column), unless the sites register
  gives it.
* ``<department>/<received>-v<N>.<csv|xlsx|xlsm|xls>``: each department's current return, the
  latest version it sent. The folder name comes from the department list, never from an upload,
  and the file name is the server's.
* ``<department>/.<received>-v<N>.<ext>``: the versions it superseded, hidden so that ``collect
  RETURNS_DIR`` reads the current one only. A version's bytes are never changed or overwritten.
* ``.intake/``: the log ``intake.sqlite3`` (standard library `sqlite3`, readable by its owner
  only: it holds the links), the uploads being checked (``incoming/``) and the outputs of the
  energy team's runs (``runs/``). Readers of returns skip hidden files and folders.

Links carry tokens from `secrets.token_urlsafe`, kept in the log, so a link stays the same across
restarts; tokens are compared in constant time (`hmac.compare_digest`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import hmac
import json
import os
import re
import secrets
import sqlite3
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from sefton_carbon.accounting.sites import SitesRegister
from sefton_carbon.errors import DataError, UsageError
from sefton_carbon.intake.checks import ReturnCheck
from sefton_carbon.io.files import DEPARTMENT_LIST_NAME
from sefton_carbon.io.spreadsheets import read_register
from sefton_carbon.years import ReportingYear

INTAKE_FOLDER = ".intake"
DATABASE_NAME = "intake.sqlite3"
#: Largest return accepted [bytes]: 20 MB, decimal as the readers' own limits are.
MAX_UPLOAD_BYTES = 20_000_000
#: Bytes of randomness in a link's token (`secrets.token_urlsafe`: 43 characters).
TOKEN_BYTES = 32
#: How long a form's CSRF token is accepted [s]: a working day and the night after it.
CSRF_LIFETIME_S = 24 * 3600
#: How long a request waits for another to finish writing the log [s].
DATABASE_TIMEOUT_S = 60

SCHEMA = """
CREATE TABLE IF NOT EXISTS settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS departments (
    name TEXT PRIMARY KEY, folder TEXT NOT NULL UNIQUE, token TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS receipts (
    id INTEGER PRIMARY KEY, department TEXT NOT NULL, year TEXT NOT NULL, received TEXT NOT NULL,
    sent_as TEXT NOT NULL, bytes INTEGER NOT NULL, sha256 TEXT NOT NULL, accepted INTEGER NOT NULL,
    rows_read INTEGER NOT NULL, rows_accounted INTEGER NOT NULL, rows_rejected INTEGER NOT NULL,
    errors INTEGER NOT NULL, warnings INTEGER NOT NULL, problems TEXT NOT NULL,
    version INTEGER, stored TEXT, UNIQUE (department, version));
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY, command TEXT NOT NULL, started TEXT NOT NULL, folder TEXT NOT NULL,
    outcome TEXT);
"""


class UploadTooLarge(Exception):
    """An upload over `MAX_UPLOAD_BYTES`."""


@dataclass(frozen=True)
class Department:
    """A department of the list: its name, its folder in the returns folder and its link's token."""

    name: str
    folder: str
    token: str


@dataclass(frozen=True)
class Upload:
    """An upload written to the intake's incoming folder, not yet checked: where it is, what it
    was called when sent (shown, never used as a path), its size [bytes] and sha256 [hex]."""

    path: Path
    sent_as: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Receipt:
    """One upload as the log records it. ``version`` and ``stored`` (the file's path relative to
    the returns folder) are set for an accepted return only; ``problems`` are `ReturnCheck.records`."""

    id: int
    department: str
    year: str
    received: str
    sent_as: str
    size: int
    sha256: str
    accepted: bool
    rows_read: int
    rows_accounted: int
    rows_rejected: int
    errors: int
    warnings: int
    problems: list[dict]
    version: int | None
    stored: str | None

    @property
    def received_text(self) -> str:
        """The time received, as people read it: ``2025-04-30 09:15:02 UTC``."""
        return self.received[:19].replace("T", " ") + " UTC"


@dataclass(frozen=True)
class Run:
    """A ``collect`` or ``report`` run of the energy team's page: its outputs are in ``folder``;
    ``outcome`` is None while it runs, then one line."""

    id: int
    command: str
    started: str
    folder: Path
    outcome: str | None

    def files(self) -> list[str]:
        """The names of the outputs written, for download."""
        if not self.folder.is_dir():
            return []
        return sorted(path.name for path in self.folder.iterdir() if path.is_file() and not path.name.startswith("."))


def folder_name(department: str) -> str:
    """A department's folder: its name in lower-case letters, digits and hyphens, so that no name
    can reach outside the returns folder or be hidden (``../x`` gives ``x``)."""
    return re.sub(r"[^a-z0-9]+", "-", department.lower()).strip("-") or "department"


def returns_folder(path: str | Path) -> Path:
    """The returns folder, which must exist (the intake makes only its own folders inside it)."""
    path = Path(path)
    if not path.is_dir():
        raise UsageError(f"{path}: no such folder: make the year's returns folder first")
    return path


def department_list(returns_dir: Path, sites: SitesRegister | None = None) -> list[str]:
    """The departments that get a link: the ``department`` column of ``RETURNS_DIR/departments.csv``
    when there is one, else the departments of the sites register, in the order first listed."""
    listed = returns_dir / DEPARTMENT_LIST_NAME
    if listed.is_file():
        names: dict[str, int] = {}
        for row, record in read_register(listed, ["department"], "department list"):
            name = record["department"]
            if not name:
                raise DataError("department is empty", file=str(listed), row=row, column="department")
            if name in names:
                raise DataError(f"'{name}' is listed twice (rows {names[name]} and {row}): keep one",
                                file=str(listed), row=row, column="department")
            names[name] = row
        found = list(names)
    elif sites is not None:
        found = list(dict.fromkeys(name for name in sites.table["department"] if name))
    else:
        raise UsageError(f"{listed}: no department list: write one with a 'department' column, or give "
                         "--sites with the sites register")
    if not found:
        raise UsageError(f"no departments in {listed if listed.is_file() else sites.source}: list at least one")
    return found


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Intake:
    """A year's returns intake over a returns folder (see the module docstring): the department
    list and links, the receipts, the versions kept and the energy team's runs.

    Safe to share between the server's threads. ``files_lock`` is held while the current versions
    change, and by whoever must read them all as one (``collect``, ``report``)."""

    def __init__(self, returns_dir: str | Path, year: str | ReportingYear, departments: list[str]):
        self.returns_dir = returns_folder(returns_dir)
        self.year = ReportingYear.parse(year)
        self.folder = self.returns_dir / INTAKE_FOLDER
        self.incoming = self.folder / "incoming"
        self.runs_folder = self.folder / "runs"
        for folder in (self.folder, self.incoming, self.runs_folder):
            folder.mkdir(mode=0o700, exist_ok=True)
        self.database = self.folder / DATABASE_NAME
        os.close(os.open(self.database, os.O_CREAT | os.O_WRONLY, 0o600))
        self.files_lock = threading.RLock()
        connection = sqlite3.connect(self.database, timeout=DATABASE_TIMEOUT_S)
        try:  # readers do not wait for a writer, nor a writer for readers
            connection.execute("PRAGMA journal_mode=WAL")
        finally:
            connection.close()
        with self._transaction() as db:
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    db.execute(statement)
            self.departments = self._enrol(db, departments)
            self.admin_token = self._setting(db, "admin_token", lambda: secrets.token_urlsafe(TOKEN_BYTES))
            self._csrf_key = self._setting(db, "csrf_key", lambda: secrets.token_hex(32)).encode()

    # -- the log ----------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _transaction(self):
        """A connection of its own holding the log's write lock (``BEGIN IMMEDIATE``), committed at
        the end of the block, rolled back on an error. Writers from other threads or processes
        wait their turn."""
        connection = sqlite3.connect(self.database, timeout=DATABASE_TIMEOUT_S, isolation_level=None)
        connection.row_factory = sqlite3.Row
        try:
            connection.execute("BEGIN IMMEDIATE")
            yield connection
            connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise
        finally:
            connection.close()

    def _query(self, sql: str, parameters: tuple = ()) -> list[sqlite3.Row]:
        connection = sqlite3.connect(self.database, timeout=DATABASE_TIMEOUT_S)
        connection.row_factory = sqlite3.Row
        try:
            return connection.execute(sql, parameters).fetchall()
        finally:
            connection.close()

    @staticmethod
    def _setting(db: sqlite3.Connection, name: str, make) -> str:
        row = db.execute("SELECT value FROM settings WHERE name = ?", (name,)).fetchone()
        if row is not None:
            return row["value"]
        value = make()
        db.execute("INSERT INTO settings (name, value) VALUES (?, ?)", (name, value))
        return value

    @staticmethod
    def _enrol(db: sqlite3.Connection, names: list[str]) -> list[Department]:
        """The departments with their folder and token: those already in the log keep theirs; a new
        one gets a new token and a folder no other department has."""
        known = {row["name"]: Department(row["name"], row["folder"], row["token"])
                 for row in db.execute("SELECT name, folder, token FROM departments")}
        taken = {department.folder for department in known.values()}
        for name in names:
            if name in known:
                continue
            base = folder_name(name)
            folder = next(candidate for candidate in (base if number == 1 else f"{base}-{number}"
                                                      for number in range(1, len(taken) + 2))
                          if candidate not in taken)
            taken.add(folder)
            known[name] = Department(name, folder, secrets.token_urlsafe(TOKEN_BYTES))
            db.execute("INSERT INTO departments (name, folder, token) VALUES (?, ?, ?)",
                       (name, folder, known[name].token))
        return [known[name] for name in names]

    # -- links and forms --------------------------------------------------------------------------

    def department_for(self, token: str) -> Department | None:
        """The department whose link carries ``token``, or None; every token is compared in full,
        in constant time."""
        given = token.encode("utf-8")
        found = None
        for department in self.departments:
            if hmac.compare_digest(given, department.token.encode("ascii")):
                found = department
        return found

    def is_admin(self, token: str) -> bool:
        """Whether ``token`` is the energy team's."""
        return hmac.compare_digest(token.encode("utf-8"), self.admin_token.encode("ascii"))

    def _csrf_mac(self, link_token: str, issued: int) -> str:
        return hmac.new(self._csrf_key, f"{link_token}:{issued}".encode(), hashlib.sha256).hexdigest()

    def csrf_token(self, link_token: str) -> str:
        """A form's CSRF token for one link: ``<issued, s since 1970>.<HMAC-SHA256>``, good for
        `CSRF_LIFETIME_S` and for that link only."""
        issued = int(time.time())
        return f"{issued}.{self._csrf_mac(link_token, issued)}"

    def csrf_valid(self, link_token: str, value: str | None) -> bool:
        """Whether a form's CSRF token was issued for this link, by this intake, and is still good."""
        issued, _, mac = (value or "").partition(".")
        if not issued.isdigit() or not 0 <= time.time() - int(issued) <= CSRF_LIFETIME_S:
            return False
        return hmac.compare_digest(mac.encode("utf-8"), self._csrf_mac(link_token, int(issued)).encode("ascii"))

    # -- uploads ----------------------------------------------------------------------------------

    @contextlib.contextmanager
    def staged(self, stream, suffix: str, sent_as: str):
        """Write an upload from ``stream`` to a hidden file of its own in the incoming folder,
        hashing it as it goes, and remove that file at the end of the block (an accepted return is
        linked into place before then). `UploadTooLarge` past `MAX_UPLOAD_BYTES`."""
        handle, name = tempfile.mkstemp(prefix=".upload-", suffix=suffix, dir=self.incoming)
        path = Path(name)
        try:
            digest, size = hashlib.sha256(), 0
            with os.fdopen(handle, "wb") as output:
                for block in iter(lambda: stream.read(1 << 20), b""):
                    size += len(block)
                    if size > MAX_UPLOAD_BYTES:
                        raise UploadTooLarge(f"over {MAX_UPLOAD_BYTES / 1e6:,.0f} MB")
                    digest.update(block)
                    output.write(block)
            yield Upload(path=path, sent_as=sent_as, size=size, sha256=digest.hexdigest())
        finally:
            path.unlink(missing_ok=True)

    def record(self, department: Department, upload: Upload, check: ReturnCheck) -> Receipt:
        """Log an upload and its check. An accepted return becomes the department's new version,
        ``<department>/<received>-v<N><suffix>``: the version it supersedes is hidden (renamed
        with a leading dot, its bytes unchanged), and no existing file is ever overwritten (the new
        file is a hard link that fails if the name exists). Returns the receipt."""
        received = _now()
        fields = {"department": department.name, "year": self.year.label,
                  "received": received.isoformat(timespec="microseconds").replace("+00:00", "Z"),
                  "sent_as": upload.sent_as, "bytes": upload.size, "sha256": upload.sha256,
                  "accepted": int(check.accepted), "rows_read": check.rows_read,
                  "rows_accounted": check.rows_accounted, "rows_rejected": check.rows_rejected,
                  "errors": len(check.errors), "warnings": len(check.warnings),
                  "problems": json.dumps(check.records()), "version": None, "stored": None}
        with self.files_lock, self._transaction() as db:
            if check.accepted:
                current = db.execute("SELECT id, version, stored FROM receipts WHERE department = ? "
                                     "AND version IS NOT NULL ORDER BY version DESC LIMIT 1",
                                     (department.name,)).fetchone()
                version = (current["version"] if current else 0) + 1
                folder = self.returns_dir / department.folder
                folder.mkdir(exist_ok=True)
                target = folder / f"{received.strftime('%Y%m%dT%H%M%SZ')}-v{version}{upload.path.suffix}"
                superseded = self.returns_dir / current["stored"] if current is not None else None
                hidden = self._supersede(superseded) if superseded is not None else None
                try:
                    os.link(upload.path, target)
                except OSError:
                    if hidden is not None:  # the superseded version stays current
                        self._supersede(hidden, superseded)
                    raise
                if hidden is not None:
                    db.execute("UPDATE receipts SET stored = ? WHERE id = ?",
                               (hidden.relative_to(self.returns_dir).as_posix(), current["id"]))
                fields.update(version=version, stored=target.relative_to(self.returns_dir).as_posix())
            cursor = db.execute(f"INSERT INTO receipts ({', '.join(fields)}) VALUES "
                                f"({', '.join('?' * len(fields))})", tuple(fields.values()))
            receipt_id = cursor.lastrowid
        return self.receipt(receipt_id)

    @staticmethod
    def _supersede(path: Path, renamed: Path | None = None) -> Path:
        """Hide a superseded version (``x.csv`` -> ``.x.csv``), or give it the name ``renamed``,
        without overwriting anything: a new link that fails if the name exists, then the old name
        removed. Returns the new name."""
        renamed = renamed or path.with_name("." + path.name)
        with contextlib.suppress(FileNotFoundError):  # removed by hand: nothing left to hide
            os.link(path, renamed)
            path.unlink()
        return renamed

    @staticmethod
    def _receipt(row: sqlite3.Row) -> Receipt:
        return Receipt(id=row["id"], department=row["department"], year=row["year"], received=row["received"],
                       sent_as=row["sent_as"], size=row["bytes"], sha256=row["sha256"],
                       accepted=bool(row["accepted"]), rows_read=row["rows_read"],
                       rows_accounted=row["rows_accounted"], rows_rejected=row["rows_rejected"],
                       errors=row["errors"], warnings=row["warnings"], problems=json.loads(row["problems"]),
                       version=row["version"], stored=row["stored"])

    def receipt(self, receipt_id: int) -> Receipt | None:
        rows = self._query("SELECT * FROM receipts WHERE id = ?", (receipt_id,))
        return self._receipt(rows[0]) if rows else None

    def receipts(self, department: str | None = None) -> list[Receipt]:
        """Every upload logged, or one department's, newest first."""
        if department is None:
            rows = self._query("SELECT * FROM receipts ORDER BY id DESC")
        else:
            rows = self._query("SELECT * FROM receipts WHERE department = ? ORDER BY id DESC", (department,))
        return [self._receipt(row) for row in rows]

    def stored_file(self, receipt: Receipt) -> Path | None:
        """Where an accepted version is kept now (None for a rejected upload)."""
        return self.returns_dir / receipt.stored if receipt.stored else None

    # -- the energy team's runs -------------------------------------------------------------------

    def start_run(self, command: str) -> Run:
        """Log a run of ``command`` and make its output folder, ``.intake/runs/<started>-<command>-<id>``."""
        started = _now()
        with self._transaction() as db:
            run_id = db.execute("INSERT INTO runs (command, started, folder) VALUES (?, ?, '')",
                                (command, started.isoformat(timespec="seconds").replace("+00:00", "Z"))).lastrowid
            folder = self.runs_folder / f"{started.strftime('%Y%m%dT%H%M%SZ')}-{command}-{run_id}"
            db.execute("UPDATE runs SET folder = ? WHERE id = ?", (folder.name, run_id))
        folder.mkdir()
        return self.run(run_id)

    def finish_run(self, run_id: int, outcome: str) -> None:
        with self._transaction() as db:
            db.execute("UPDATE runs SET outcome = ? WHERE id = ?", (outcome, run_id))

    def _run(self, row: sqlite3.Row) -> Run:
        return Run(id=row["id"], command=row["command"], started=row["started"],
                   folder=self.runs_folder / row["folder"], outcome=row["outcome"])

    def run(self, run_id: int) -> Run | None:
        rows = self._query("SELECT * FROM runs WHERE id = ?", (run_id,))
        return self._run(rows[0]) if rows else None

    def runs(self) -> list[Run]:
        """Every run, newest first."""
        return [self._run(row) for row in self._query("SELECT * FROM runs ORDER BY id DESC")]
