"""Every command in README.md, the tutorials and the how-to guides runs as typed, with the exit code
and output shown.

A page's ```sh blocks are commands run from the repository root after `make demo`; each must exit 0
unless its line says `# exits 3`. In ```console blocks, a line `$ COMMAND` is followed by (part of) its
output: each line shown must appear in the real output, in order, and JSON shown must have the keys
the real JSON has. Commands on a user's own files are shown in ```text blocks and are not run. The
commands of one page run in order in one folder that holds `examples/`, as the repository root does,
and the demo's `out/` once a command names it.
"""

import json
import re
import shlex

import pytest

from conftest import REPO, copy_demo

DOCS = REPO / "docs"
PAGES = [REPO / "README.md",
         *sorted([*DOCS.glob("tutorials/*.md"), *DOCS.glob("how-to/*.md"), DOCS / "reference" / "json-outputs.md"])]
BLOCK = re.compile(r"^```(sh|console)\n(.*?)^```", re.MULTILINE | re.DOTALL)
#: Commands that set up the repository (`make demo`, `source .venv/bin/activate`), not run here.
SET_UP = ("make", "source")


def _join_continued(lines):
    """Join lines ending in a backslash with the line after them."""
    joined, pending = [], ""
    for line in lines:
        if line.endswith("\\"):
            pending += line[:-1] + " "
        else:
            joined.append(pending + line)
            pending = ""
    return joined


def documented_commands(page):
    """(command line, expected exit code, expected output lines) for each command of a page, in order."""
    commands = []
    for kind, body in BLOCK.findall(page.read_text(encoding="utf-8")):
        if kind == "sh":
            for line in _join_continued(body.splitlines()):
                if line.strip() and not line.lstrip().startswith("#"):
                    commands.append((line, []))
        else:
            for line in _join_continued(body.splitlines()):
                if line.startswith("$ "):
                    commands.append((line[2:], []))
                else:
                    commands[-1][1].append(line)
    return [(line, 3 if re.search(r"#\s*exits 3", line) else 0, output) for line, output in commands]


def _key_shape(expected, actual, where):
    """Every key shown in the documented JSON is in the real JSON, at every level."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{where}: documented an object, got {actual!r:.80}"
        missing = sorted(set(expected) - set(actual))
        assert not missing, f"{where}: keys documented but not output: {missing}"
        for key, value in expected.items():
            _key_shape(value, actual[key], f"{where}.{key}")
    elif isinstance(expected, list) and expected and actual:
        _key_shape(expected[0], actual[0], f"{where}[0]")


def _check_output(command, expected_lines, out, err):
    shown = "\n".join(expected_lines).strip()
    if not shown:
        return
    if shown.startswith("{"):
        _key_shape(json.loads(shown), json.loads(out), command)
        return
    actual = [line.rstrip() for line in (out + err).splitlines()]
    position = 0
    for line in (line.rstrip() for line in expected_lines):
        if not line.strip() or line.strip() == "...":
            continue
        try:
            position = actual.index(line, position) + 1
        except ValueError:
            pytest.fail(f"{command}\n  documented output line not in the real output (in order):\n  {line!r}\n"
                        f"real output:\n{out}{err}")


def _page_id(page):
    return page.relative_to(REPO).as_posix()


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES, ids=_page_id)
def test_documented_commands_run_as_typed(page, tmp_path, monkeypatch, run_cli, request):
    (tmp_path / "examples").symlink_to(REPO / "examples")
    monkeypatch.chdir(tmp_path)
    results = {}  # a command shown twice (to run, then with its output) runs once
    for line, expected_code, expected_output in documented_commands(page):
        words = shlex.split(line, comments=True)
        if words[0] in SET_UP:  # the make targets have their own tests; the environment is this one
            continue
        assert words[0] == "sefton-carbon", (
            f"{page.name}: `{line}` is not a sefton-carbon command: show it in a ```text block")
        if not (tmp_path / "out").exists() and any(word == "out" or word.startswith("out/") for word in words):
            # What `make demo` leaves in the repository: the demo written once for the test run, copied.
            copy_demo(request.getfixturevalue("demo_output")[1], tmp_path / "out")
        if tuple(words) not in results:
            results[tuple(words)] = run_cli(*words[1:])
        code, out, err = results[tuple(words)]
        assert code == expected_code, f"{page.name}: `{line}` exited {code}, not {expected_code}:\n{err[-2000:]}"
        _check_output(line, expected_output, out, err)


def test_the_pages_show_commands():
    """The extraction finds the commands, so that the test above cannot pass on nothing."""
    counts = {_page_id(page): len(documented_commands(page)) for page in PAGES}
    tutorials = {name: count for name, count in counts.items() if name.startswith("docs/tutorials/")}
    assert len(tutorials) == 2 and min(tutorials.values()) >= 5, counts
    assert counts["README.md"] >= 20 and sum(counts.values()) >= 60, counts


PYTHON_BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


@pytest.mark.parametrize("page", [page for page in PAGES if "```python" in page.read_text(encoding="utf-8")],
                         ids=_page_id)
def test_documented_python_runs(page, tmp_path, monkeypatch):
    (tmp_path / "examples").symlink_to(REPO / "examples")
    monkeypatch.chdir(tmp_path)
    for block in PYTHON_BLOCK.findall(page.read_text(encoding="utf-8")):
        exec(compile(block, str(page), "exec"), {})
