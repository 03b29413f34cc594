"""``python -m sefton_carbon``: the same as the ``sefton-carbon`` command."""

from .cli import main

main()
