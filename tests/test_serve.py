"""The returns intake (`sefton-carbon serve`): private links, uploads checked as `validate` checks
them, versions never overwritten, the energy team's page, the limits and the security headers;
through Flask's test client, and on the real server (the command, 50 concurrent uploads, and
Chromium through Selenium)."""

import datetime as dt
import hashlib
import io
import json
import secrets
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

pytest.importorskip("flask")
pytest.importorskip("waitress")

from sefton_carbon.intake.server import intake_server, open_intake
from sefton_carbon.intake.store import MAX_UPLOAD_BYTES
from sefton_carbon.io.files import sha256
from sefton_carbon.outputs.demo import example_council_dir
from sefton_carbon.outputs.manifest import verify
from sefton_carbon.returns.collection import collect, validate_returns

EXAMPLE = example_council_dir()
SITES = EXAMPLE / "sites.csv"
RETURNS = EXAMPLE / "returns" / "2024-25"
YEAR = "2024/25"
DEPARTMENTS = ["Corporate Resources", "Communities", "Adult Social Care", "Operational In-House Services",
               "Education", "Highways and Public Protection"]  # as the sites register first lists them
JSON = {"Accept": "application/json"}


def example_return(name: str = "corporate-resources.csv") -> bytes:
    return (RETURNS / name).read_bytes()


def short_return(name: str, rows: int, quantity: int) -> bytes:
    """The example's title line, header and first ``rows`` rows, the first row's quantity set to
    ``quantity`` (so that every upload of a load test has bytes of its own)."""
    lines = example_return(name).decode("utf-8").splitlines(keepends=True)
    first = lines[2].split(",")
    first[3] = str(quantity)
    return "".join(lines[:2] + [",".join(first)] + lines[3:2 + rows]).encode("utf-8")


@pytest.fixture
def returns_dir(tmp_path):
    folder = tmp_path / "returns-2024-25"
    folder.mkdir()
    return folder


@pytest.fixture
def intake(returns_dir):
    """The intake of an empty returns folder, departments from the example council's register."""
    intake, app = open_intake(returns_dir, YEAR, sites=SITES)
    return intake, app.test_client()


def token_of(intake, name: str) -> str:
    return next(department.token for department in intake.departments if department.name == name)


def send(client, intake, token: str, content: bytes, sent_as: str = "return.csv", csrf: str | None = None,
         headers: dict | None = None):
    """Upload ``content`` through a link as the page's form does, answered as JSON by default."""
    form = {"file": (io.BytesIO(content), sent_as), "csrf_token": csrf if csrf is not None else intake.csrf_token(token)}
    return client.post(f"/{token}/", data=form, headers=JSON if headers is None else headers)


def visible_files(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir() if not path.name.startswith(".")) if folder.is_dir() else []


def test_departments_get_links_that_stay_the_same_across_restarts(returns_dir):
    first, _ = open_intake(returns_dir, YEAR, sites=SITES)
    assert [department.name for department in first.departments] == DEPARTMENTS
    tokens = {department.token for department in first.departments} | {first.admin_token}
    assert len(tokens) == 7 and all(len(token) >= 43 for token in tokens)
    (returns_dir / "departments.csv").write_text("department\nCommunities\nA&B\nA B\nCorporate Resources\n")
    again, _ = open_intake(returns_dir, YEAR, sites=SITES)  # the list now comes from departments.csv
    assert [department.name for department in again.departments] == ["Communities", "A&B", "A B", "Corporate Resources"]
    assert token_of(again, "Communities") == token_of(first, "Communities")
    assert token_of(again, "Corporate Resources") == token_of(first, "Corporate Resources")
    assert again.admin_token == first.admin_token
    assert [department.folder for department in again.departments[1:3]] == ["a-b", "a-b-2"]  # never shared
    assert (again.database.stat().st_mode & 0o777) == 0o600  # the links are in it


def test_missing_returns_folder_or_department_list_is_exit_2(tmp_path, run_cli):
    code, out, err = run_cli("serve", tmp_path / "nowhere", "--year", YEAR)
    assert code == 2 and out == "" and err.strip() == f"error: {tmp_path / 'nowhere'}: no such folder: make the " \
                                                      "year's returns folder first"
    code, out, err = run_cli("serve", tmp_path, "--year", YEAR)
    assert code == 2 and len(err.strip().splitlines()) == 1 and "departments.csv: no department list" in err
    (tmp_path / "departments.csv").write_text("department\nCommunities\nCommunities\n")
    code, _, err = run_cli("serve", tmp_path, "--year", YEAR)
    assert code == 3 and "row 3, column 'department': 'Communities' is listed twice (rows 2 and 3): keep one" in err


def test_unknown_or_missing_token_is_404_and_says_nothing(intake):
    intake, client = intake
    real = token_of(intake, "Education")
    asked = [client.get("/"), client.get(f"/{secrets.token_urlsafe(32)}/"), client.get(f"/{real[:-1]}/"),
             client.get(f"/{real}x/template.xlsx"), client.get(f"/{real}/coverage"),  # a department is not admin
             client.get(f"/{real}/versions/1"), client.get("/no/such/path"),
             client.post(f"/{secrets.token_urlsafe(32)}/", data={"file": (io.BytesIO(b"x"), "a.csv")})]
    assert [answer.status_code for answer in asked] == [404] * len(asked)
    bodies = {answer.data for answer in asked}
    assert len(bodies) == 1
    body = bodies.pop().decode()
    assert real not in body and intake.admin_token not in body and "Education" not in body
    assert "There is no page here" in body


def test_accepted_return_receipt_matches_validate_and_the_stored_file(intake, returns_dir):
    intake, client = intake
    content = example_return()
    answer = send(client, intake, token_of(intake, "Corporate Resources"), content, "Corporate Resources 2024-25.csv")
    assert answer.status_code == 201
    document = answer.json
    assert list(document) == ["accepted", "rows", "errors", "warnings", "sha256"]
    assert list(document["rows"]) == ["read", "accounted", "rejected"]
    validation = validate_returns([RETURNS / "corporate-resources.csv"], YEAR, sites=SITES)
    assert document["accepted"] is True and document["errors"] == []
    assert document["rows"] == {"read": validation.rows_read, "accounted": validation.rows_read, "rejected": 0}
    assert document["rows"]["read"] == 140
    warnings = validation.warnings
    assert document["warnings"] == [{"row": int(row), "column": column, "message": message} for row, column, message
                                    in zip(warnings["source_row"], warnings["column"], warnings["message"])]
    assert len(document["warnings"]) == 6  # the rows marked 'estimated'
    folder = returns_dir / "corporate-resources"
    [stored] = visible_files(folder)
    assert stored.endswith("-v1.csv") and stored != "Corporate Resources 2024-25.csv"
    assert document["sha256"] == sha256(folder / stored) == hashlib.sha256(content).hexdigest()
    assert (folder / stored).read_bytes() == content
    [receipt] = intake.receipts()
    assert (receipt.version, receipt.stored, receipt.sha256) == (1, f"corporate-resources/{stored}", document["sha256"])
    collected = collect(returns_dir, YEAR, sites=SITES).inventory.files  # collect RETURNS_DIR counts the same rows
    assert collected[["rows_read", "rows_accounted", "rows_rejected"]].values.tolist() == [[140, 140, 0]]


def test_return_with_errors_is_not_kept_and_lists_validates_messages(intake, returns_dir, tmp_path):
    intake, client = intake
    content = example_return().replace(b"natural_gas", b"natral gas", 1).replace(b"41005,kWh", b"41005,gallons")
    answer = send(client, intake, token_of(intake, "Corporate Resources"), content)
    assert answer.status_code == 422
    document = answer.json
    (tmp_path / "same.csv").write_bytes(content)
    validation = validate_returns([tmp_path / "same.csv"], YEAR, sites=SITES)
    expected = validation.errors
    assert document["accepted"] is False
    assert document["errors"] == [{"row": int(row), "column": column, "message": message} for row, column, message
                                  in zip(expected["source_row"], expected["column"], expected["message"])]
    assert [(error["row"], error["column"]) for error in document["errors"]] == [(3, "activity"), (4, "unit")]
    assert "did you mean 'natural_gas'" in document["errors"][0]["message"]
    assert document["rows"] == {"read": 140, "accounted": 138, "rejected": validation.rows_with_errors}
    assert document["sha256"] == hashlib.sha256(content).hexdigest()
    assert not (returns_dir / "corporate-resources").exists()
    assert list((returns_dir / ".intake" / "incoming").iterdir()) == []
    [receipt] = intake.receipts()  # logged, not kept
    assert receipt.accepted is False and receipt.version is None and receipt.stored is None


def test_the_page_shows_each_problem_row_by_row_and_escapes_it(intake):
    intake, client = intake
    content = example_return().replace(b"natural_gas", b"<b>natural_gas</b>", 1)
    page = send(client, intake, token_of(intake, "Corporate Resources"), content, "../<i>typo.csv", headers={})
    assert page.status_code == 422 and page.mimetype == "text/html"
    text = page.data.decode()
    assert "Not received: the return has 1 error(s)" in text
    assert "<td>&lt;i&gt;typo.csv</td>" in text and "<i>" not in text and ".." not in text
    assert "<td>&lt;b&gt;natural_gas&lt;/b&gt;</td>" in text and "<b>natural" not in text
    assert '<dd id="rows-read">140</dd>' in text and '<dd id="rows-rejected">1</dd>' in text


def test_versions_are_kept_never_overwritten_and_collect_reads_the_latest(intake, returns_dir):
    intake, client = intake
    token = token_of(intake, "Adult Social Care")
    first, second = example_return("adult-social-care.csv"), short_return("adult-social-care.csv", 5, 1234)
    sent = [send(client, intake, token, content).json for content in (first, second)]
    assert [document["accepted"] for document in sent] == [True, True]
    folder = returns_dir / "adult-social-care"
    [current] = visible_files(folder)
    [superseded] = [path for path in folder.iterdir() if path.name.startswith(".")]
    assert current.endswith("-v2.csv") and superseded.name.endswith("-v1.csv")
    assert (folder / current).read_bytes() == second and superseded.read_bytes() == first
    receipts = {receipt.version: receipt for receipt in intake.receipts()}
    assert receipts[1].stored == f"adult-social-care/{superseded.name}" and receipts[1].sha256 == sha256(superseded)
    assert receipts[2].sha256 == sha256(folder / current)
    (returns_dir / "departments.csv").write_text("department\nAdult Social Care\n")  # not a return either
    files = collect(returns_dir, YEAR, sites=SITES).inventory.files
    assert [Path(name).name for name in files["source_file"]] == [current] and files["rows_read"].tolist() == [5]
    admin = intake.admin_token
    assert client.get(f"/{admin}/versions/{receipts[1].id}").data == first
    assert client.get(f"/{admin}/versions/{receipts[2].id}").data == second


def test_a_link_sends_returns_for_its_own_department_only(intake, returns_dir):
    intake, client = intake
    answer = send(client, intake, token_of(intake, "Adult Social Care"), example_return("communities.csv"))
    assert answer.status_code == 422
    errors = answer.json["errors"]
    assert answer.json["rows"]["rejected"] == answer.json["rows"]["read"] == len(errors) > 0
    assert {error["column"] for error in errors} == {"department"}
    assert errors[0]["message"].startswith("this link sends returns for 'Adult Social Care' only")
    assert not (returns_dir / "adult-social-care").exists() and not (returns_dir / "communities").exists()


def test_an_upload_over_20_mb_is_413(intake, returns_dir):
    intake, client = intake
    token = token_of(intake, "Education")
    just_over = send(client, intake, token, b"x" * (MAX_UPLOAD_BYTES + 1))
    far_over = send(client, intake, token, b"x" * (MAX_UPLOAD_BYTES + 1_000_000))
    assert (just_over.status_code, far_over.status_code) == (413, 413)
    assert "over 20 MB" in just_over.json["error"]
    assert intake.receipts() == [] and list((returns_dir / ".intake" / "incoming").iterdir()) == []


def test_a_file_that_is_not_csv_or_excel_is_415(intake):
    intake, client = intake
    token = token_of(intake, "Education")
    workbook_bytes = b"PK\x03\x04" + b"\x00" * 100
    asked = [send(client, intake, token, b"%PDF-1.4", "return.pdf"),
             send(client, intake, token, example_return("education.csv"), "return.xlsx"),  # text named .xlsx
             send(client, intake, token, workbook_bytes, "return.csv"),  # a workbook named .csv
             client.post(f"/{token}/", data=example_return("education.csv"), content_type="text/csv",
                         headers={**JSON, "X-CSRF-Token": intake.csrf_token(token)})]
    assert [answer.status_code for answer in asked] == [415] * 4
    assert "send CSV or Excel (.csv, .xlsx, .xlsm, .xls)" in asked[0].json["error"]
    assert intake.receipts() == []


def test_forms_without_a_valid_csrf_token_are_refused(intake):
    intake, client = intake
    token, other = token_of(intake, "Education"), token_of(intake, "Communities")
    expired = f"{int(time.time()) - 2 * 86400}.0"
    good = intake.csrf_token(token)
    altered = good[:-1] + ("1" if good.endswith("0") else "0")
    for csrf in ("", "nonsense", intake.csrf_token(other), expired, altered):
        assert send(client, intake, token, example_return("education.csv"), csrf=csrf).status_code == 403
    admin = intake.admin_token
    assert client.post(f"/{admin}/collect", data={"csrf_token": intake.csrf_token(token)}).status_code == 403
    assert intake.receipts() == [] and intake.runs() == []
    page = client.get(f"/{token}/").data.decode()
    assert '<input type="hidden" name="csrf_token" value="' in page
    assert send(client, intake, token, example_return("education.csv")).status_code == 201


def test_content_security_policy_allows_no_script_and_names_are_escaped(returns_dir):
    (returns_dir / "departments.csv").write_text('department\n<script>alert("x")</script>\n')
    intake, app = open_intake(returns_dir, YEAR)
    client = app.test_client()
    [department] = intake.departments
    for path in (f"/{department.token}/", f"/{intake.admin_token}/"):
        page = client.get(path)
        text = page.data.decode()
        assert "<script" not in text and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in text
        policy = page.headers["Content-Security-Policy"]
        assert "default-src 'none'" in policy and "script-src" not in policy and "unsafe" not in policy
        style = text[text.index("<style>") + len("<style>"):text.index("</style>")]
        digest = __import__("base64").b64encode(hashlib.sha256(style.encode()).digest()).decode()
        assert f"style-src 'sha256-{digest}'" in policy
        assert page.headers["Referrer-Policy"] == "no-referrer" and page.headers["Cache-Control"] == "no-store"
        assert page.headers["X-Content-Type-Options"] == "nosniff" and page.headers["X-Frame-Options"] == "DENY"
    assert department.folder == "script-alert-x-script"


def test_templates_carry_the_department_year_and_sites(intake):
    from python_calamine import CalamineWorkbook

    intake, client = intake
    token = token_of(intake, "Adult Social Care")
    workbook = client.get(f"/{token}/template.xlsx")
    assert workbook.status_code == 200
    assert 'filename="return-adult-social-care.xlsx"' in workbook.headers["Content-Disposition"]
    book = CalamineWorkbook.from_filelike(io.BytesIO(workbook.data))
    entry = book.get_sheet_by_name("Entry").to_python()
    assert entry[0][0].startswith("Greenhouse gas return: Adult Social Care, 2024/25") and entry[2][0] == "Adult Social Care"
    lists = book.get_sheet_by_name("Lists").to_python()
    site_column = lists[0].index("site")
    assert sorted(row[site_column] for row in lists[1:] if row[site_column]) == [
        "Beechwood Care Home", "Oakfield Care Home", "Willow Court Care Home"]
    text = client.get(f"/{token}/template.csv")
    assert text.data.decode().splitlines()[1].startswith("Adult Social Care,")


def filled_template(client, token: str, measurement: str) -> bytes:
    """The department's Excel template with two gas bills entered and one Scoping line answered."""
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.load_workbook(io.BytesIO(client.get(f"/{token}/template.xlsx").data))
    bills = [("Beechwood Care Home", 5000), ("Oakfield Care Home", 7000)]
    for row, (site, quantity) in enumerate(bills, start=3):
        for column, value in enumerate([site, "", "natural_gas", quantity, "kWh", dt.datetime(2024, 4, 1),
                                        dt.datetime(2024, 4, 30), "actual"], start=2):
            book["Entry"].cell(row, column, value)
    book["Scoping"].cell(3, 3, "yes")
    book["Scoping"].cell(3, 5, measurement)
    saved = io.BytesIO()
    book.save(saved)
    return saved.getvalue()


def test_an_excel_return_from_the_template_is_checked_and_kept_with_its_scoping(intake, returns_dir, monkeypatch):
    intake, client = intake
    token = token_of(intake, "Adult Social Care")
    wrong = send(client, intake, token, filled_template(client, token, "sometimes"), "care.xlsx")
    assert wrong.status_code == 422 and wrong.json["errors"] == [{
        "row": 3, "column": "measurement", "message": "measurement 'sometimes' is not one of meter, invoice, "
                                                       "estimate, none"}]
    workbook = filled_template(client, token, "meter")
    monkeypatch.setenv("SEFTON_CARBON_MAX_UNZIPPED_MB", "0")  # the readers' limits apply
    refused = send(client, intake, token, workbook, "care.xlsx").json
    assert refused["accepted"] is False and refused["rows"] == {"read": 0, "accounted": 0, "rejected": 0}
    assert refused["errors"][0]["row"] is None and "over the limit of 0 MB" in refused["errors"][0]["message"]
    monkeypatch.delenv("SEFTON_CARBON_MAX_UNZIPPED_MB")
    kept = send(client, intake, token, workbook, "care.xlsx")
    assert kept.status_code == 201 and kept.json["rows"] == {"read": 2, "accounted": 2, "rejected": 0}
    [stored] = visible_files(returns_dir / "adult-social-care")
    assert stored.endswith("-v1.xlsx")
    page = client.get(f"/{intake.admin_token}/").data.decode()
    scoping = page[page.index('id="scoping"'):page.index('id="runs"')]
    assert "<tr><td>Adult Social Care</td><td>buildings</td><td>yes</td>" in scoping
    assert len(intake.receipts()) == 3


def test_coverage_json_lists_every_department(intake, returns_dir):
    intake, client = intake
    assert send(client, intake, token_of(intake, "Communities"), example_return("communities.csv")).status_code == 201
    answer = client.get(f"/{intake.admin_token}/coverage", headers=JSON)
    assert answer.status_code == 200
    document = answer.json
    assert document["year"] == YEAR and len(document["months"]) == 12 and document["months"][0] == "Apr 2024"
    assert [entry["department"] for entry in document["departments"]] == DEPARTMENTS
    versions = {entry["department"]: entry["version"] for entry in document["departments"]}
    assert versions == {name: 1 if name == "Communities" else None for name in DEPARTMENTS}
    expected = collect(returns_dir, YEAR, sites=SITES).coverage
    for entry in document["departments"]:
        mine = expected[expected["department"] == entry["department"]]
        assert [(row["site"], row["activity"], row["months_covered"]) for row in entry["coverage"]] == list(
            zip(mine["site"], mine["activity"], mine["months_covered"]))
        assert all(sum(row["months"]) == row["months_covered"] for row in entry["coverage"])
    silent = next(entry for entry in document["departments"] if entry["department"] == "Education")
    assert {row["activity"] for row in silent["coverage"]} == {"(no return)"}
    page = client.get(f"/{intake.admin_token}/").data.decode()
    assert page.count("no return yet") == 5 and '<a href="versions/1">version 1</a>' in page


def test_the_energy_team_runs_collect_and_report_on_what_was_received(intake, returns_dir):
    intake, client = intake
    assert send(client, intake, token_of(intake, "Education"), example_return("education.csv")).status_code == 201
    admin, csrf = intake.admin_token, intake.csrf_token(intake.admin_token)
    ran = client.post(f"/{admin}/collect", data={"csrf_token": csrf}, headers=JSON).json
    assert {"ledger.csv", "rejected.csv", "coverage.csv", "scoping_register.csv", "manifest.json"} <= set(ran["files"])
    run = intake.run(ran["run"])
    assert verify(run.folder).ok
    expected = collect(returns_dir, YEAR, sites=SITES).inventory
    summary = json.loads(client.get(f"/{admin}/runs/{run.id}/summary.json").data)
    assert summary["total_tco2e"] == pytest.approx(expected.total_tco2e, rel=1e-9)
    assert summary["rows"]["read"] == int(expected.files["rows_read"].sum())
    assert client.get(f"/{admin}/runs/{run.id}/..%2Fintake.sqlite3").status_code == 404
    report = client.post(f"/{admin}/report", data={"csrf_token": csrf})
    assert report.status_code == 303 and report.headers["Location"] == "./#runs"
    [latest, _] = intake.runs()
    assert latest.command == "report" and latest.files() == ["report.html", "report.xlsx"]
    assert client.get(f"/{admin}/runs/{latest.id}/report.html").data.startswith(b"<!DOCTYPE html>")
    # The runs' outputs and the log live inside the returns folder, and are never read as returns.
    assert intake.receipts()[0].stored.startswith("education/") and len(list(run.folder.parent.iterdir())) == 2
    again = collect(returns_dir, YEAR, sites=SITES).inventory.files
    assert [Path(name).parent.name for name in again["source_file"]] == ["education"]


@pytest.fixture
def running(returns_dir):
    """The intake on the real server, on a free port of 127.0.0.1, stopped at the end."""
    server = intake_server(returns_dir, YEAR, port=0, sites=SITES)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield server
    server.close()
    thread.join(timeout=10)


def multipart(content: bytes, sent_as: str) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{sent_as}"\r\n'
            "Content-Type: text/csv\r\n\r\n").encode() + content + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def post_return(url: str, csrf: str, content: bytes, sent_as: str) -> tuple[int, dict]:
    body, content_type = multipart(content, sent_as)
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": content_type, "Accept": "application/json", "X-CSRF-Token": csrf})
    try:
        with urllib.request.urlopen(request, timeout=120) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as refused:
        return refused.code, json.loads(refused.read())


@pytest.mark.slow
def test_50_concurrent_uploads_are_all_kept_and_never_mixed(running, returns_dir):
    """The load test: two departments send 25 returns each, all at once, on loopback."""
    links = dict(running.links)
    senders = {"Corporate Resources": "corporate-resources.csv", "Adult Social Care": "adult-social-care.csv"}
    csrf = {name: json.loads(urllib.request.urlopen(urllib.request.Request(links[name], headers=JSON),
                                                    timeout=30).read())["csrf_token"] for name in senders}
    uploads = [(name, short_return(file, 4, 1000 + number)) for number in range(25) for name, file in senders.items()]
    with ThreadPoolExecutor(max_workers=len(uploads)) as pool:
        answers = list(pool.map(lambda upload: post_return(links[upload[0]], csrf[upload[0]], upload[1], "r.csv"),
                                uploads))
    assert [status for status, _ in answers] == [201] * 50
    assert all(document["accepted"] and document["rows"]["read"] == 4 for _, document in answers)
    intake, _ = open_intake(returns_dir, YEAR, sites=SITES)
    receipts = intake.receipts()
    assert len(receipts) == 50
    for name, file in senders.items():
        mine = [receipt for receipt in receipts if receipt.department == name]
        sent = {hashlib.sha256(content).hexdigest() for sender, content in uploads if sender == name}
        assert sorted(receipt.version for receipt in mine) == list(range(1, 26))
        assert {receipt.sha256 for receipt in mine} == sent
        assert {sha256(intake.stored_file(receipt)) for receipt in mine} == sent
        folder = returns_dir / file.removesuffix(".csv")
        assert len(visible_files(folder)) == 1 and len(list(folder.iterdir())) == 25
        for path in folder.iterdir():  # every version in the folder is this department's own
            departments = {line.split(",")[0] for line in path.read_text().splitlines()[2:]}
            assert departments == {name}
    assert {document["sha256"] for _, document in answers} == {receipt.sha256 for receipt in receipts}


def test_the_command_prints_the_links_then_serves(returns_dir):
    command = [sys.executable, "-m", "sefton_carbon", "serve", str(returns_dir), "--year", YEAR, "--port", "0",
               "--sites", str(SITES)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = [process.stdout.readline() for _ in range(len(DEPARTMENTS) + 1)]
        printed = [line.rstrip("\n").split("\t") for line in lines]
        assert [name for name, _ in printed] == DEPARTMENTS + ["admin"]
        intake, _ = open_intake(returns_dir, YEAR, sites=SITES)  # the links are those kept in the log
        tokens = [department.token for department in intake.departments] + [intake.admin_token]
        assert [url.split("/")[3] for _, url in printed] == tokens
        assert all(url.startswith("http://127.0.0.1:") and url.endswith("/") for _, url in printed)
        with urllib.request.urlopen(printed[0][1], timeout=30) as page:
            assert page.status == 200 and "Greenhouse gas return: Corporate Resources, 2024/25" in page.read().decode()
    finally:
        process.terminate()
        process.wait(timeout=30)


def send_in_browser(browser, path: Path) -> None:
    """Choose a file in the page's form, send it, and wait for the answer's page."""
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.wait import WebDriverWait

    page = browser.find_element(By.TAG_NAME, "html")
    browser.find_element(By.ID, "file").send_keys(str(path))
    browser.find_element(By.ID, "send-button").click()

    def replaced(_) -> bool:
        """The page sent from is gone: Chrome says so as a stale element, or, while the new page
        loads, as a node that no longer belongs to the document."""
        try:
            page.is_enabled()
        except StaleElementReferenceException:
            return True
        except WebDriverException as error:
            if "does not belong to the document" not in str(error):
                raise
            return True
        return False

    WebDriverWait(browser, 60).until(replaced)


def test_a_department_fixes_its_return_in_a_real_browser(running, browser, tmp_path):
    from selenium.webdriver.common.by import By

    link = dict(running.links)["Corporate Resources"]
    typo = tmp_path / "typo" / "corporate-resources.csv"
    fixed = tmp_path / "fixed" / "corporate-resources.csv"
    for path, content in ((typo, example_return().replace(b"natural_gas", b"natral gas", 1)),
                          (fixed, example_return())):
        path.parent.mkdir()
        path.write_bytes(content)
    browser.get(link)
    assert browser.title == "Greenhouse gas return: Corporate Resources, 2024/25"
    assert browser.execute_script("return getComputedStyle(document.body).maxWidth") == "1024px"  # CSS allowed
    send_in_browser(browser, typo)
    verdict = browser.find_element(By.ID, "receipt")
    assert "Not received: the return has 1 error(s)" in verdict.text
    first_error = browser.find_element(By.CSS_SELECTOR, "#problems tr.error")
    assert "natral gas" in first_error.text and "did you mean 'natural_gas'" in first_error.text
    assert [cell.text for cell in first_error.find_elements(By.TAG_NAME, "td")][3:5] == ["3", "activity"]
    send_in_browser(browser, fixed)
    assert browser.find_element(By.CSS_SELECTOR, "#receipt h2").text == "Received: version 1 of your return is kept"
    assert browser.find_element(By.ID, "sha256").text == sha256(fixed)
    assert [browser.find_element(By.ID, name).text for name in ("rows-read", "rows-accounted", "rows-rejected")] == [
        "140", "140", "0"]
