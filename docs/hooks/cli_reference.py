"""MkDocs hook: show the generated CLI reference's placeholders such as `spend:<category>` as text.

typer writes help text into the page as it is; Markdown would read `<category>` outside a code span
as an HTML tag and the browser would hide it. The committed page stays exactly as typer wrote it
(tests/test_docs.py compares it), and only the site escapes the angle brackets.
"""

import html
import re

CLI_PAGE = "reference/cli.md"
CODE_SPAN = re.compile(r"(`[^`]*`)")


def _escape_outside_code_spans(line: str) -> str:
    parts = CODE_SPAN.split(line)
    return "".join(part if index % 2 else html.escape(html.unescape(part), quote=False)
                   for index, part in enumerate(parts))


def on_page_markdown(markdown: str, page, **_) -> str:
    if page.file.src_uri != CLI_PAGE:
        return markdown
    lines, in_fence = [], False
    for line in markdown.splitlines():
        if line.startswith("```"):
            in_fence = not in_fence
        lines.append(line if in_fence or line.startswith("```") else _escape_outside_code_spans(line))
    return "\n".join(lines) + "\n"
