"""Shared fixtures: the reference data beside the repository, and small input files."""

from __future__ import annotations

import csv
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


def flat_file_for(year: int) -> Path:
    """The reference DESNZ flat file of one year, or skip when ../shared is not beside the repo."""
    if not FLAT_FILES.is_dir():
        pytest.skip(f"reference flat files not found at {FLAT_FILES} (a user's clone has no "
                    "../shared; CI provides it)")
    matches = [path for path in FLAT_FILES.iterdir() if str(year) in path.name]
    assert len(matches) == 1, f"expected one flat file for {year}, found {matches}"
    return matches[0]


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
