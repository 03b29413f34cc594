"""``python -m sefton_carbon``: the same as the ``sefton-carbon`` command."""

from sefton_carbon.cli.app import command

command()
