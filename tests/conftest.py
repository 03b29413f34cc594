"""Shared fixtures: the reference data beside the repository, and small input files."""

from __future__ import annotations

import copy
import csv
import functools
import io
import shutil
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DATA = Path(__file__).parent / "data"
REFERENCE = REPO.parent / "shared" / "reference"
FLAT_FILES = REFERENCE / "desnz-flat-files"
HEADER = ["department", "site", "activity", "quantity", "unit", "period_start", "period_end",
          "data_quality", "notes"]


def pytest_collection_modifyitems(items):
    """Collect the tests marked slow first, in their order, then the others in theirs: with `make
    test`'s two workers, a long test never starts last while the other worker sits idle."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture(scope="session")
def demo_output(tmp_path_factory) -> tuple[str, Path]:
    """The bundled example council's demo, written once per test process into ``out/`` as `make
    demo` writes it (13 s): (what it prints, the folder). Tests read it as it is; a test that adds
    to it or changes it works on a `copy_demo`.

    It runs in a folder outside the repository, so its outputs name the example's returns
    ``bundled:...``: `verify` finds them the same from a test's own ``tmp_path``, not from the
    repository root (where they are ``examples/...``)."""
    from sefton_carbon.outputs.demo import run_demo

    working = tmp_path_factory.mktemp("demo")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(working)
        return run_demo("out"), working / "out"


def copy_demo(demo_folder: Path, destination: Path) -> Path:
    """A copy of the demo's ``out/`` at ``destination``, a test's ``tmp_path / "out"``.

    The manifests record the example council's registers relative to their own folder as well as
    given, and `verify` finds the working folder again from the two: the copy must sit as deep as the
    original (both are ``out/`` in a folder of pytest's base temporary folder) to name the same files.
    """
    assert len(destination.resolve().parts) == len(demo_folder.resolve().parts), (
        f"copy the demo to a folder as deep as {demo_folder}, not {destination}")
    shutil.copytree(demo_folder, destination)
    return destination


def flat_file_for(year: int) -> Path:
    """The reference DESNZ flat file of one year, or skip when ../shared is not beside the repo."""
    if not FLAT_FILES.is_dir():
        pytest.skip(f"reference flat files not found at {FLAT_FILES} (a user's clone has no "
                    "../shared; CI provides it)")
    matches = [path for path in FLAT_FILES.iterdir() if str(year) in path.name]
    assert len(matches) == 1, f"expected one flat file for {year}, found {matches}"
    return matches[0]


@functools.cache
def _imported_once(year: int):
    from sefton_carbon.accounting.factors import read_flat_file

    return read_flat_file(flat_file_for(year))


def imported_flat_file(year: int):
    """The reference flat file of ``year`` as `read_flat_file` imports it (1 s), imported once per
    test process for the several tests that check it; each caller gets a copy of its own."""
    return copy.deepcopy(_imported_once(year))


def write_rows(path: Path, rows: list[list[object]], header: list[str] | None = HEADER,
               encoding: str = "utf-8") -> Path:
    """Write an activity CSV (header first unless None) and return its path."""
    with open(path, "w", newline="", encoding=encoding) as stream:
        writer = csv.writer(stream, lineterminator="\n")
        if header is not None:
            writer.writerow(header)
        writer.writerows(rows)
    return path


def gas_row(quantity: object = 10000, unit: str = "kWh", start: str = "2023-04-01",
            end: str = "2023-04-30", activity: str = "natural_gas", department: str = "Corporate",
            site: str = "Town Hall", quality: str = "actual") -> list[object]:
    """One activity row, by default 10,000 kWh of natural gas in April 2023."""
    return [department, site, activity, quantity, unit, start, end, quality, ""]


@pytest.fixture
def run_cli(monkeypatch, capsys):
    """Run the command line in-process: returns (exit code, stdout, stderr)."""
    from sefton_carbon.cli.app import main

    def run(*args: object) -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "argv", ["sefton-carbon", *map(str, args)])
        with pytest.raises(SystemExit) as stopped:
            main()
        captured = capsys.readouterr()
        return stopped.value.code or 0, captured.out, captured.err

    return run


@pytest.fixture
def plans(monkeypatch) -> list[dict]:
    """The keyword arguments of each `activity.checked_sql` the large engines ran, in order."""
    from sefton_carbon.engines import large
    from sefton_carbon.returns.activity import checked_sql

    ran: list[dict] = []
    monkeypatch.setattr(large, "checked_sql", lambda *given, **plan: ran.append(plan) or checked_sql(*given, **plan))
    return ran


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
CHROMEDRIVER = shutil.which("chromedriver")


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium driven by Selenium, for tests of pages as a person sees them."""
    if not (CHROMIUM and CHROMEDRIVER):
        pytest.skip("no Chromium and chromedriver on this machine (.ci/run installs Debian's chromium and "
                    "chromium-driver; install them to run the browser test)")
    webdriver = pytest.importorskip("selenium.webdriver")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--disable-dev-shm-usage"):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=CHROMEDRIVER))
    yield driver
    driver.quit()


def xlsx_bytes(rows_by_sheet: dict[str, list[list]], merge: str | None = None,
               hidden: tuple[str, ...] = ()) -> bytes:
    """A workbook with a sheet per entry of ``rows_by_sheet`` (the sheets of ``hidden`` hidden, the
    cells of ``merge`` merged on each sheet), as the bytes of an .xlsx file."""
    openpyxl = pytest.importorskip("openpyxl")
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for name, rows in rows_by_sheet.items():
        sheet = workbook.create_sheet(name)
        for values in rows:
            sheet.append(values)
        if merge:
            sheet.merge_cells(merge)
        if name in hidden:
            sheet.sheet_state = "hidden"
    stream = io.BytesIO()
    workbook.save(stream)
    return stream.getvalue()
