"""The returns intake: a small web application where each department sends its return and sees at
once what `validate` says about it, and the energy team follows the year (``sefton-carbon serve``).

* `store`: the department list, the private links, the log of uploads and receipts (SQLite), and
  the returns kept as versions in the returns folder.
* `checks`: what an upload is (CSV or Excel) and `validate`'s verdict on it, row by row.
* `admin`: the energy team's view: coverage, scoping register, and ``collect`` and ``report`` runs.
* `app`: the web pages and their answers (Flask), with their limits and security headers.
* `server`: the application served by waitress, and the links to hand out.

Needs the ``serve`` extra: ``pip install 'sefton-carbon[serve]'`` (Flask and waitress).
"""
