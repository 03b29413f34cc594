"""The documentation cannot drift: the CLI reference is the commands' own, and the site builds strictly."""

import importlib.util
import os
import re
import subprocess
import sys

import pytest
import typer
from conftest import REPO

import sefton_carbon
from sefton_carbon.cli.app import app

CLI_REFERENCE = REPO / "docs" / "reference" / "cli.md"


def _generate_cli_reference(output):
    """Run typer's own docs generator on the app, as `make docs-reference` does."""
    subprocess.run(
        [sys.executable, "-m", "typer", "sefton_carbon.cli.app", "utils", "docs", "--name", "sefton-carbon",
         "--output", str(output)],
        check=True, capture_output=True, cwd=REPO)
    return output.read_text(encoding="utf-8")


def test_cli_reference_is_generated_from_the_current_commands(tmp_path):
    generated = _generate_cli_reference(tmp_path / "cli.md")
    assert generated == CLI_REFERENCE.read_text(encoding="utf-8"), (
        "docs/reference/cli.md differs from the commands' help: run `make docs-reference` and commit it")


def test_cli_reference_has_a_section_for_every_command():
    reference = CLI_REFERENCE.read_text(encoding="utf-8")
    group = typer.main.get_group(app)
    names = []
    for name, command in group.commands.items():
        names += [f"{name} {sub}" for sub in command.commands] if hasattr(command, "commands") else [name]
    missing = [name for name in names if f"## `sefton-carbon {name}`" not in reference]
    assert not missing and len(names) >= 17, missing


@pytest.mark.skipif(importlib.util.find_spec("mkdocs") is None,
                    reason="mkdocs is not installed: `make docs` installs the docs extra")
def test_site_builds_in_strict_mode(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "--site-dir", str(tmp_path / "site")],
        capture_output=True, text=True, cwd=REPO, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert result.returncode == 0, result.stderr
    pages = {path.relative_to(tmp_path / "site").as_posix() for path in (tmp_path / "site").rglob("index.html")}
    assert {"tutorials/first-inventory/index.html", "reference/cli/index.html",
            "reference/python-api/index.html", "explanation/boundary-decision/index.html"} <= pages
    api = (tmp_path / "site" / "reference" / "python-api" / "index.html").read_text(encoding="utf-8")
    documented = {anchor.rsplit(".", 1)[-1] for anchor in re.findall(r'id="(sefton_carbon\.[\w.]+)"', api)}
    missing = sorted(set(sefton_carbon.__all__) - {"__version__"} - documented)
    assert not missing, f"exported but not on docs/reference/python-api.md: {missing}"
    # Placeholders such as spend:<category> in help text show as text, not as hidden HTML tags.
    prose = re.sub(r"```.*?```|`[^`]*`", "", CLI_REFERENCE.read_text(encoding="utf-8"), flags=re.DOTALL)
    cli_page = (tmp_path / "site" / "reference" / "cli" / "index.html").read_text(encoding="utf-8")
    hidden = [word for word in set(re.findall(r"<(\w+)>", prose)) if f"&lt;{word}&gt;" not in cli_page]
    assert not hidden, f"placeholders hidden as HTML tags on the CLI page: {hidden}"
