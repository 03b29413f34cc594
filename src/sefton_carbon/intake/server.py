"""The intake served: the application on waitress (a multi-threaded WSGI server in pure Python),
and the links to hand out, one per department and the energy team's.

The server speaks plain HTTP on the address it is given (127.0.0.1 by default): TLS comes from the
council's reverse proxy in front of it, whose address ``public_url`` gives for the links.
"""

from __future__ import annotations

import logging
import socket
import threading
from dataclasses import dataclass, field
from pathlib import Path

from flask import Flask
from waitress import wasyncore
from waitress.server import create_server

from sefton_carbon.accounting.sites import read_sites
from sefton_carbon.errors import UsageError
from sefton_carbon.intake.app import MAX_REQUEST_BYTES, create_app
from sefton_carbon.intake.store import Intake, department_list, returns_folder
from sefton_carbon.returns.collection import PricingInputs
from sefton_carbon.years import ReportingYear

#: Requests handled at once; more wait their turn in the connection queue.
THREADS = 8
#: Connections waiting for a thread before the system refuses new ones.
BACKLOG = 1024


@dataclass
class IntakeServer:
    """A bound server: ``links``, (department, URL) in the list's order and then ("admin", the
    energy team's URL); ``run`` serves until interrupted, ``close`` stops. ``connections`` is the
    server's socket map: its listening socket and every open connection."""

    server: object
    links: list[tuple[str, str]]
    connections: dict
    serving: threading.Event = field(default_factory=threading.Event)

    @property
    def port(self) -> int:
        return self.server.effective_port

    def run(self) -> None:
        self.serving.set()
        try:
            self.server.run()
        finally:
            self.serving.clear()

    def close(self) -> None:
        """Close the listening socket and every open connection (a browser keeps one open between
        requests), so that `run` returns. While it runs, they are closed in its own thread, through
        the server's trigger: closing a socket another thread is waiting on is not safe."""
        if self.serving.is_set():
            self.server.trigger.pull_trigger(lambda: wasyncore.close_all(self.connections))
        else:
            wasyncore.close_all(self.connections)


def _base_url(host: str, port: int) -> str:
    """The address the links start with when no public URL is given."""
    if host in ("0.0.0.0", "::", ""):
        host = socket.getfqdn()
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def open_intake(returns_dir: str | Path, year: str | ReportingYear, **pricing) -> tuple[Intake, Flask]:
    """The intake of ``returns_dir`` for ``year`` and its WSGI application. The departments come
    from ``returns_dir/departments.csv`` or else the sites register; ``pricing`` are the
    `PricingInputs` every return is checked with, read here once so that a wrong option fails
    before anything is served."""
    inputs = PricingInputs(**pricing)
    inputs.load()
    sites = read_sites(inputs.sites) if inputs.sites else None
    intake = Intake(returns_dir, year, department_list(returns_folder(returns_dir), sites))
    return intake, create_app(intake, inputs, sites)


def intake_server(returns_dir: str | Path, year: str | ReportingYear, *, host: str = "127.0.0.1", port: int = 8765,
                  public_url: str | None = None, **pricing) -> IntakeServer:
    """`open_intake`, with its server bound to ``host``:``port`` (0: a free port).
    ``public_url``: the address departments reach the server at (the reverse proxy's), for the
    links."""
    intake, app = open_intake(returns_dir, year, **pricing)
    # Uploads waiting for a thread are expected under load, not a warning line each on stderr.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    try:
        connections: dict = {}
        server = create_server(app, map=connections, host=host, port=port, threads=THREADS,
                               backlog=BACKLOG, max_request_body_size=MAX_REQUEST_BYTES, ident="sefton-carbon")
    except OSError as error:
        raise UsageError(f"cannot listen on {host} port {port} ({error.strerror or error}): choose another "
                         "--port, or stop what is using it") from None
    base = (public_url or _base_url(host, server.effective_port)).rstrip("/")
    links = [(department.name, f"{base}/{department.token}/") for department in intake.departments]
    return IntakeServer(server=server, links=links + [("admin", f"{base}/{intake.admin_token}/")],
                        connections=connections)
