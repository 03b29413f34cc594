"""``sefton-carbon serve``: the returns intake, a web page per department to send its return and
see at once what is wrong, and one for the energy team (`sefton_carbon.intake`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sefton_carbon.cli.options import YearOption, with_pricing_inputs
from sefton_carbon.errors import UsageError


@with_pricing_inputs
def serve(
    returns_dir: Annotated[Path, typer.Argument(
        help="The year's returns folder: received returns are kept in it, with departments.csv (a "
             "'department' column) listing who gets a link unless --sites does.")],
    year: YearOption,
    port: Annotated[int, typer.Option(help="Port to listen on (0: a free one).")] = 8765,
    host: Annotated[str, typer.Option(
        help="Address to listen on; keep 127.0.0.1 behind the council's reverse proxy.")] = "127.0.0.1",
    public_url: Annotated[str | None, typer.Option(
        help="The address departments reach the server at, e.g. the reverse proxy's "
             "https://carbon.example.gov.uk, for the links (default: http://HOST:PORT).")] = None,
    *, pricing,
) -> None:
    """Run the returns intake: print one private link per department and the energy team's, then
    serve until stopped (Ctrl-C). Each department downloads its template and sends its return,
    which is checked as 'validate' checks it and kept when it has no errors."""
    try:
        from sefton_carbon.intake.server import intake_server
    except ImportError as missing:
        raise UsageError(f"the returns intake needs Flask and waitress ({missing.name} is missing): "
                         "pip install 'sefton-carbon[serve]'") from None

    server = intake_server(returns_dir, year, host=host, port=port, public_url=public_url, **pricing.arguments())
    for name, url in server.links:
        typer.echo(f"{name}\t{url}")
    typer.echo(f"serving {returns_dir} for {year}: stop with Ctrl-C", err=True)
    try:
        server.run()
    except KeyboardInterrupt:
        server.close()
