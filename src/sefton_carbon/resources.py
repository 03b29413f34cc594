"""Where the bundled data lives: factor tables, boundary options and the example council.

In an installed wheel they sit in ``sefton_carbon/data/`` (see ``force-include`` in pyproject.toml); in a
checkout or an editable install they are the repository's top-level ``emission_factors/``,
``scopes.yaml`` and ``examples/``.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def data_root() -> Path:
    """The folder that holds ``emission_factors/``, ``scopes.yaml`` and ``examples/``."""
    for candidate in (_PACKAGE_DIR / "data", _PACKAGE_DIR.parents[1]):
        if (candidate / "emission_factors").is_dir():
            return candidate
    raise FileNotFoundError(
        f"bundled data not found under {_PACKAGE_DIR / 'data'} or {_PACKAGE_DIR.parents[1]}: "
        "reinstall sefton-carbon")


def factors_dir() -> Path:
    """The bundled factor tables, one folder per publication year."""
    return data_root() / "emission_factors"


def scopes_file() -> Path:
    """The bundled boundary options."""
    return data_root() / "scopes.yaml"


def examples_dir() -> Path:
    """The bundled example council."""
    return data_root() / "examples"
