"""A wheel built from the repository works on its own, outside the repository."""

import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from conftest import REPO

pytestmark = pytest.mark.slow


def run(command, cwd, timeout=900):
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                            env=environment)
    assert result.returncode == 0, f"{command} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


def test_wheel_installs_and_runs_the_demo_outside_the_repo(tmp_path):
    run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(tmp_path / "dist"),
         str(REPO)], cwd=tmp_path)
    wheel = next((tmp_path / "dist").glob("sefton_carbon-*.whl"))
    environment = tmp_path / "venv"
    venv.create(environment, with_pip=True)
    python = environment / "bin" / "python"
    run([str(python), "-m", "pip", "install", "--quiet", str(wheel)], cwd=tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = run([str(environment / "bin" / "sefton-carbon"), "demo", "--output", "out"], cwd=elsewhere)
    assert "Greenhouse gas inventory 2024/25" in result.stdout
    assert (elsewhere / "out" / "2019-20" / "summary.json").is_file()
    located = run([str(python), "-c", "from sefton_carbon import resources; "
                   "print(resources.factors_dir()); print(resources.scopes_file().is_file())"],
                  cwd=elsewhere).stdout.split()
    assert Path(located[0]).is_relative_to(environment) and located[1] == "True"
