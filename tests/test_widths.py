"""Every table and text a command prints fits 100 columns (`TABLE_WIDTH`), wrapping where it must.

Each command that prints a table runs on the bundled example council (validate and collect also
on the messy returns, for their problem listings), as the docs type them in the repository
root; its longest line, on stdout and on stderr, is at most 100 characters. (`demo` prints the
inventory, comparison and trajectory tables checked here.) JSON and CSV are not checked: scripts
read them, not people.
"""

import pytest
from conftest import REPO
from typer.testing import CliRunner

from sefton_carbon.cli.app import app
from sefton_carbon.outputs.text import TABLE_WIDTH

EXAMPLE = "examples/example-council"
MESSY = "examples/messy-returns"
REGISTERS = ["--sites", f"{EXAMPLE}/sites.csv", "--contracts", f"{EXAMPLE}/contracts.csv",
             "--spend-factors", f"{EXAMPLE}/spend-factors.csv"]
SCENARIOS = [f"{EXAMPLE}/scenarios.yaml", "--from", f"{EXAMPLE}/returns/2024-25", "--year", "2024/25", *REGISTERS]

#: The commands, by the name a failure shows.
COMMANDS = {
    "inventory": ["inventory", f"{EXAMPLE}/returns/2024-25", "--year", "2024/25", *REGISTERS],
    "validate": ["validate", f"{EXAMPLE}/returns/2024-25", "--previous", f"{EXAMPLE}/returns/2023-24", *REGISTERS],
    "validate (messy returns)": ["validate", f"{MESSY}/2023-24", "--sites", f"{MESSY}/sites.csv"],
    "collect": ["collect", f"{EXAMPLE}/returns/2024-25", "--year", "2024/25", *REGISTERS, "-o", "output"],
    "collect (messy returns)": ["collect", f"{MESSY}/2023-24", "--year", "2023/24", "--sites", f"{MESSY}/sites.csv",
                                "-o", "output"],
    "trajectory": ["trajectory", *(f"{EXAMPLE}/returns/{year}" for year in ("2019-20", "2023-24", "2024-25")),
                   "--baseline", "2019/20", "--pathway", "percent:13", "--sites", f"{EXAMPLE}/sites.csv"],
    "trajectory --totals": ["trajectory", "--totals", f"{EXAMPLE}/totals.csv", "--baseline", "2019/20"],
    "scope list": ["scope", "list"],
    "scope explain own_operations": ["scope", "explain", "own_operations"],
    "scope explain full_footprint_with_procurement": ["scope", "explain", "full_footprint_with_procurement"],
    "scope compare": ["scope", "compare", f"{EXAMPLE}/returns/2024-25", "--year", "2024/25", *REGISTERS,
                      "--baseline", "2019/20", "--baseline-from", f"{EXAMPLE}/returns/2019-20"],
    "scenario run": ["scenario", "run", *SCENARIOS],
    "scenario compare": ["scenario", "compare", *SCENARIOS],
    "area": ["area", "--la", "Sefton", "--council-tco2e", "9093", "--council-year", "2024/25", "--budget-kt", "8000",
             "--baseline", "2020"],
    "factors list": ["factors", "list"],
    "factors list --search": ["factors", "list", "--search", "natural gas", "--year", "2024"],
    "factors show": ["factors", "show", "electricity", "--year", "2024"],
}


@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_table_fits_100_columns(name, tmp_path, monkeypatch):
    (tmp_path / "examples").symlink_to(REPO / "examples")  # a folder laid out as the repository is
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, COMMANDS[name])
    expected = 3 if "messy" in name else 0  # the messy returns have errors, by design
    assert result.exit_code == expected, f"{name}: exit {result.exit_code}\n{result.output[-2000:]}"
    assert len(result.stdout.splitlines()) > 1, f"{name}: printed no table"
    widest = max((result.stdout + result.stderr).splitlines(), key=len)
    assert len(widest) <= TABLE_WIDTH, f"{name}: a line of {len(widest)} columns:\n{widest}"
