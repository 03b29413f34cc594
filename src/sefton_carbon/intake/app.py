"""The intake's web pages (Flask): one per department and one for the energy team, each reached
only through its private link, ``/<token>/``.

Department link:

* ``GET``: the page: the template to download, the upload form, the department's receipts. With
  ``Accept: application/json``: ``{"department", "year", "csrf_token"}``, for a script.
* ``POST`` (multipart field ``file``, with the form's ``csrf_token`` field or an
  ``X-CSRF-Token`` header): check the return and keep it when it has no error. The answer is the
  page with the receipt and the problems row by row, or with ``Accept: application/json``
  ``{"accepted", "rows": {"read", "accounted", "rejected"}, "errors": [{"row", "column",
  "message"}], "warnings": [...], "sha256"}``; status 201 when kept, 422 when not.
* ``GET template.xlsx`` and ``template.csv``: the department's template.

Energy team link: ``GET`` the page; ``GET coverage`` (JSON with ``Accept: application/json``);
``POST collect`` and ``POST report``; ``GET versions/<receipt>`` and ``GET runs/<run>/<file>`` to
download.

Refusals: 404 for an unknown or missing token (the same page whatever the token), 403 for a form
without a valid CSRF token, 413 for an upload over 20 MB, 415 for one that is not CSV or Excel;
each a short page, or ``{"error": message}`` with ``Accept: application/json``.
Every value is escaped (Jinja2 autoescape); the Content Security Policy allows no script at all
and only the page's own style sheet; no page is cached or sends a referrer (the links are secret).
"""

from __future__ import annotations

import base64
import hashlib
import tempfile
from pathlib import Path

from flask import Flask, Response, abort, jsonify, redirect, render_template, request, send_file
from markupsafe import Markup
from werkzeug.exceptions import HTTPException, UnsupportedMediaType

from sefton_carbon.accounting.sites import SitesRegister
from sefton_carbon.errors import SeftonCarbonError
from sefton_carbon.intake.admin import YearView, month_labels, run_collect, run_report
from sefton_carbon.intake.checks import RETURN_SIGNATURES, check_return, looks_like, return_suffix, shown_name
from sefton_carbon.intake.store import MAX_UPLOAD_BYTES, Department, Intake, Receipt, UploadTooLarge
from sefton_carbon.returns.collection import PricingInputs
from sefton_carbon.returns.template import template_csv, template_file_name, write_template

#: Room for the form's other fields and the multipart framing around a return [bytes].
FORM_OVERHEAD_BYTES = 64_000
#: The largest request body read at all [bytes]; a return over `MAX_UPLOAD_BYTES` inside it is
#: refused as it is written.
MAX_REQUEST_BYTES = MAX_UPLOAD_BYTES + FORM_OVERHEAD_BYTES
ACCEPTED_TYPES = ", ".join(RETURN_SIGNATURES)
#: The one answer to every address that leads nowhere: an unknown token, a missing one, a wrong path.
NOT_FOUND = "There is no page here. Check the address you were sent."
TOO_LARGE = (f"The return is over {MAX_UPLOAD_BYTES / 1e6:,.0f} MB: send the year's rows only, or split it "
             "in two.")
SCOPING_FIELDS = ["department", "source_type", "data_exists", "data_holder", "measurement", "included_in_options",
                  "data_arrived"]


def _wants_json() -> bool:
    return request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json"


def receipt_answer(receipt: Receipt) -> dict:
    """A receipt as the JSON answer to an upload (see the module docstring)."""
    def listed(severity: str) -> list[dict]:
        return [{"row": problem["row"], "column": problem["column"], "message": problem["message"]}
                for problem in receipt.problems if problem["severity"] == severity]

    return {"accepted": receipt.accepted,
            "rows": {"read": receipt.rows_read, "accounted": receipt.rows_accounted, "rejected": receipt.rows_rejected},
            "errors": listed("error"), "warnings": listed("warning"), "sha256": receipt.sha256}


def create_app(intake: Intake, pricing: PricingInputs, sites: SitesRegister | None = None) -> Flask:
    """The intake's WSGI application over ``intake``; returns are checked with ``pricing`` (the
    inputs ``validate`` and ``collect`` take), templates list the sites of ``sites``."""
    app = Flask(__name__)
    app.config.update(MAX_CONTENT_LENGTH=MAX_REQUEST_BYTES)
    app.json.sort_keys = False
    app.jinja_env.autoescape = True
    css = (Path(app.root_path) / "templates" / "intake.css").read_text(encoding="utf-8")
    style_hash = base64.b64encode(hashlib.sha256(css.encode("utf-8")).digest()).decode("ascii")
    policy = (f"default-src 'none'; style-src 'sha256-{style_hash}'; img-src 'self'; form-action 'self'; "
              "base-uri 'none'; frame-ancestors 'none'")
    year_view = YearView(intake, pricing)

    @app.context_processor
    def _page_context() -> dict:
        return {"css": Markup(css), "year": intake.year.label}

    @app.after_request
    def _security_headers(response: Response) -> Response:
        response.headers.update({
            "Content-Security-Policy": policy, "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
            "Referrer-Policy": "no-referrer", "Cache-Control": "no-store"})
        return response

    @app.errorhandler(HTTPException)
    def _refusal(error: HTTPException):
        """Every refusal as one short message, the same whatever was asked: a 404 says nothing
        about which tokens exist."""
        message = {404: NOT_FOUND, 413: TOO_LARGE}.get(error.code, error.description)
        if _wants_json():
            return jsonify({"error": message}), error.code
        return render_template("message.html.j2", title=error.name, message=message), error.code

    def department_of(token: str) -> Department:
        department = intake.department_for(token)
        if department is None:
            abort(404, NOT_FOUND)
        return department

    def admin_check(token: str) -> None:
        if not intake.is_admin(token):
            abort(404, NOT_FOUND)

    def csrf_check(token: str) -> None:
        if not intake.csrf_valid(token, request.form.get("csrf_token") or request.headers.get("X-CSRF-Token")):
            abort(403, "This form has expired or did not come from this page: reload the page and send it again.")

    @app.get("/")
    def _no_token():
        abort(404, NOT_FOUND)

    @app.route("/<token>/", methods=["GET", "POST"])
    def link(token: str):
        department = intake.department_for(token)
        if department is None:
            admin_check(token)
            if request.method == "POST":
                abort(405, "The energy team's page takes no upload.")
            return admin_page(token)
        if request.method == "POST":
            return upload(department)
        if _wants_json():
            return jsonify({"department": department.name, "year": intake.year.label,
                            "csrf_token": intake.csrf_token(department.token)})
        return department_page(department)

    def department_page(department: Department, receipt: Receipt | None = None, status: int = 200):
        register_sites = [] if sites is None else sorted(
            sites.table.loc[sites.table["department"] == department.name, "site"])
        return render_template("department.html.j2", department=department, receipt=receipt,
                               receipts=intake.receipts(department.name), sites=register_sites,
                               csrf=intake.csrf_token(department.token), accepted_types=ACCEPTED_TYPES), status

    def upload(department: Department):
        if request.mimetype != "multipart/form-data":
            raise UnsupportedMediaType(f"Send the return as a multipart form with the field 'file' ({ACCEPTED_TYPES}).")
        csrf_check(department.token)
        sent = request.files.get("file")
        if sent is None or not sent.filename:
            abort(400, "No file: choose the return to send (multipart field 'file').")
        suffix = return_suffix(sent.filename)
        if suffix is None:
            raise UnsupportedMediaType(f"'{shown_name(sent.filename)}' is not a return: send CSV or Excel "
                                       f"({ACCEPTED_TYPES}).")
        try:
            with intake.staged(sent.stream, suffix, shown_name(sent.filename)) as staged:
                with staged.path.open("rb") as stream:
                    head = stream.read(4096)
                if not looks_like(suffix, head):
                    raise UnsupportedMediaType(f"'{staged.sent_as}' is not a {suffix} file inside: save it "
                                               f"again as CSV or Excel ({ACCEPTED_TYPES}).")
                check = check_return(staged.path, department.name, intake.year, pricing, staged.sent_as)
                receipt = intake.record(department, staged, check)
        except UploadTooLarge:
            abort(413, TOO_LARGE)
        status = 201 if receipt.accepted else 422
        if _wants_json():
            return jsonify(receipt_answer(receipt)), status
        return department_page(department, receipt, status)

    @app.get("/<token>/template.xlsx")
    def template_workbook(token: str):
        department = department_of(token)
        name = template_file_name(department.name)
        with tempfile.TemporaryDirectory(dir=intake.incoming, prefix=".template-") as folder:
            content = write_template(department.name, Path(folder) / name, intake.year, sites).read_bytes()
        return Response(content, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})

    @app.get("/<token>/template.csv")
    def template_text(token: str):
        department = department_of(token)
        name = template_file_name(department.name).with_suffix(".csv").name
        return Response(template_csv(department.name), mimetype="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})

    def admin_page(token: str):
        problem, coverage, scoping = None, None, []
        try:
            coverage = year_view.coverage()
            collection = year_view.collection()
            if collection is not None and len(collection.scoping):
                scoping = collection.scoping.reindex(columns=SCOPING_FIELDS).fillna("").to_dict(orient="records")
        except SeftonCarbonError as error:
            problem = str(error)
        receipts = intake.receipts()
        history = {department.name: [receipt for receipt in receipts if receipt.department == department.name]
                   for department in intake.departments}
        latest = {name: next((receipt for receipt in listed if receipt.version is not None), None)
                  for name, listed in history.items()}
        return render_template("admin.html.j2", departments=intake.departments, history=history, latest=latest,
                               coverage=coverage, months=month_labels(intake), scoping=scoping, problem=problem,
                               runs=intake.runs(), csrf=intake.csrf_token(token))

    @app.get("/<token>/coverage")
    def coverage(token: str):
        admin_check(token)
        if _wants_json():
            try:
                return jsonify(year_view.coverage())
            except SeftonCarbonError as error:
                abort(409, f"The returns folder cannot be collected now: {error}")
        return admin_page(token)

    def run_answer(run):
        if _wants_json():
            return jsonify({"run": run.id, "command": run.command, "outcome": run.outcome, "files": run.files()})
        return redirect("./#runs", 303)

    @app.post("/<token>/collect")
    def collect_now(token: str):
        admin_check(token)
        csrf_check(token)
        return run_answer(run_collect(intake, pricing))

    @app.post("/<token>/report")
    def report_now(token: str):
        admin_check(token)
        csrf_check(token)
        return run_answer(run_report(intake, pricing))

    @app.get("/<token>/versions/<int:receipt_id>")
    def version_file(token: str, receipt_id: int):
        admin_check(token)
        receipt = intake.receipt(receipt_id)
        path = intake.stored_file(receipt) if receipt is not None else None
        if path is None or not path.is_file():
            abort(404, NOT_FOUND)
        return send_file(path, as_attachment=True, download_name=f"{path.parent.name}-{path.name.lstrip('.')}")

    @app.get("/<token>/runs/<int:run_id>/<name>")
    def run_file(token: str, run_id: int, name: str):
        admin_check(token)
        run = intake.run(run_id)
        if run is None or name not in run.files():
            abort(404, NOT_FOUND)
        return send_file(run.folder / name, as_attachment=True, download_name=name)

    return app
