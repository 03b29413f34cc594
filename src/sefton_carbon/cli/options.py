"""Options shared by several commands, each declared once.

`with_pricing_inputs` appends the inputs that pricing needs (`PRICING_OPTIONS`) to a command's
signature and hands the command one ``pricing`` argument, a `PricingInputs`, which it passes on to
the library. Typer has no option groups; the decorator gives every pricing command the same
options, names and help. ``--format`` (`FormatOption`) means the same in every command that prints
data: ``table`` readable text, ``csv`` the command's table as CSV, ``json`` the whole result.
"""

from __future__ import annotations

import functools
import inspect
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer


class OutputFormat(str, Enum):
    table = "table"
    csv = "csv"
    json = "json"


FormatOption = Annotated[OutputFormat, typer.Option(
    "--format", "-f", help="table (readable text), csv (the table as CSV) or json (the whole result).")]
YearOption = Annotated[str, typer.Option("--year", "-y", help="Reporting year, e.g. 2023/24.")]
FactorsDirOption = Annotated[Optional[Path], typer.Option(
    "--factors-dir", help="Folder of factor tables written by 'factors import --output DIR'; they "
                          "replace the bundled tables for their years.")]
ScopesFileOption = Annotated[Optional[Path], typer.Option(
    "--scopes-file", help="Boundary options file (default: the bundled scopes.yaml).")]
SitesOption = Annotated[Optional[Path], typer.Option(
    "--sites", help="Sites register (CSV): site tags and operational control for the boundary.")]

#: The inputs that pricing needs: parameter name -> its option. The names are the fields of
#: `PricingInputs` and the keyword arguments of every library function that prices activity.
PRICING_OPTIONS = {
    "factors_dir": FactorsDirOption,
    "factor_year": Annotated[Optional[int], typer.Option(
        "--factor-year", help="Publication year of the factors (default: the year the reporting year starts).")],
    "scope_option": Annotated[Optional[str], typer.Option(
        "--scope-option", help="Boundary option from scopes.yaml (default: the file's default).")],
    "scopes_file": ScopesFileOption,
    "sites": SitesOption,
    "contracts": Annotated[Optional[Path], typer.Option(
        "--contracts", help="Energy contracts (CSV) for market-based Scope 2.")],
    "spend_factors": Annotated[Optional[Path], typer.Option(
        "--spend-factors", help="Spend factor table (CSV) for spend:<category> lines.")],
}


def with_pricing_inputs(command):
    """Give ``command`` the options of `PRICING_OPTIONS`, gathered into its ``pricing`` argument."""
    signature = inspect.signature(command, eval_str=True)
    own = [parameter for name, parameter in signature.parameters.items() if name != "pricing"]
    added = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=option)
             for name, option in PRICING_OPTIONS.items()]

    @functools.wraps(command)
    def with_inputs(*args, **kwargs):
        from sefton_carbon.returns.collection import PricingInputs

        pricing = PricingInputs(**{name: kwargs.pop(name) for name in PRICING_OPTIONS})
        return command(*args, pricing=pricing, **kwargs)

    with_inputs.__signature__ = signature.replace(parameters=own + added)
    with_inputs.__annotations__ = {parameter.name: parameter.annotation for parameter in own + added}
    return with_inputs
