"""Where an output cannot be written, one line says which path and why (exit 2), never a traceback."""

import errno
import json

import pandas as pd
import pytest

from sefton_carbon.errors import UsageError
from sefton_carbon.io.files import write_csv, write_text

TABLE = pd.DataFrame({"a": [1]})


def test_an_output_under_a_file(tmp_path):
    (tmp_path / "file.csv").write_text("x\n")
    with pytest.raises(UsageError, match=r"file.csv/out.csv: cannot be written: .*file.csv is a file, not a folder"):
        write_csv(TABLE, tmp_path / "file.csv" / "out.csv")


def test_a_folder_given_as_the_output_file(tmp_path):
    with pytest.raises(UsageError, match=r"cannot be written \(Is a directory\)"):
        write_csv(TABLE, tmp_path)


def test_a_name_too_long(tmp_path):
    with pytest.raises(UsageError, match=r"cannot be written \(File name too long\)"):
        write_text("{}", tmp_path / ("x" * 300 + ".json"))


def test_a_full_disk(tmp_path, monkeypatch):
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_csv", full)
    with pytest.raises(UsageError, match=r"ledger.csv: cannot be written \(No space left on device\)"):
        write_csv(TABLE, tmp_path / "ledger.csv")


def test_the_cli_says_it_in_one_line_with_exit_2(run_cli, tmp_path):
    from sefton_carbon.outputs.demo import example_returns

    (tmp_path / "taken").write_text("a file\n")
    returns = next(iter(example_returns().values()))
    code, _, err = run_cli("inventory", returns, "--year", "2019/20", "--ledger", tmp_path / "taken" / "ledger.csv")
    assert code == 2 and "Traceback" not in err and "internal error" not in err
    assert f"taken/ledger.csv: cannot be written: {tmp_path / 'taken'} is a file, not a folder" in err


def test_outputs_never_overwrite_or_hide_the_returns(run_cli, tmp_path):
    import shutil

    from sefton_carbon.outputs.demo import example_returns

    returns = tmp_path / "returns"
    shutil.copytree(example_returns()[max(example_returns())], returns)
    first = sorted(returns.glob("*.csv"))[0]
    before = first.read_bytes()
    for option, target, fragment in (("--ledger", first, "would overwrite or be read back as an input"),
                                     ("--rejected", returns / "rejected.csv", "would overwrite or be read back"),
                                     ("--output", returns, "that folder holds an input of this run"),
                                     ("--output", tmp_path, "that folder holds an input of this run")):
        code, _, err = run_cli("inventory", returns, "--year", "2024/25", option, target)
        assert code == 2 and fragment in err, (option, err)
    assert first.read_bytes() == before and not (returns / "rejected.csv").exists()
    code, _, err = run_cli("inventory", returns, "--year", "2024/25", "--output", returns / "published")
    assert code == 0, err  # a folder of its own inside the returns is fine: it is never read back
    code, out, _ = run_cli("inventory", returns, "--year", "2024/25", "--format", "json")
    assert code == 0 and json.loads(out)["rows"]["read"] == 637
