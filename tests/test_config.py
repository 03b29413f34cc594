"""Configuration is data: plain YAML, finite numbers, bounded nesting; each problem names file,
line and key."""

import pytest

from sefton_carbon.config import MAX_NESTING, load_config
from sefton_carbon.errors import DataError
from sefton_carbon.outputs.demo import example_council_dir
from sefton_carbon.planning.scenarios import load_scenarios


@pytest.mark.parametrize("written", [".nan", ".NaN", ".inf", "-.inf", ".Inf"])
def test_non_finite_numbers_are_refused_naming_the_key(tmp_path, written):
    path = tmp_path / "settings.yaml"
    path.write_text(f"settings:\n  discount_rate: {written}\n")
    with pytest.raises(DataError) as raised:
        load_config(path)
    message = str(raised.value)
    assert str(path) in message and "line 2" in message and "settings.discount_rate" in message
    assert f"'{written}' is not a finite number" in message


@pytest.mark.parametrize("key", ["discount_rate", "growth_pct"])
def test_scenarios_file_with_a_non_finite_setting_is_refused(tmp_path, key):
    text = (example_council_dir() / "scenarios.yaml").read_text()
    value = {"discount_rate": "0.035", "growth_pct": "0"}[key]
    path = tmp_path / "scenarios.yaml"
    path.write_text(text.replace(f"{key}: {value}", f"{key}: .inf", 1))
    with pytest.raises(DataError, match=f"settings.{key}"):
        load_scenarios(path)


def test_deep_nesting_is_refused_without_recursion(tmp_path):
    path = tmp_path / "deep.yaml"
    path.write_text("a: " + "[" * 500 + "]" * 500 + "\n")
    with pytest.raises(DataError, match=f"nested deeper than {MAX_NESTING} levels"):
        load_config(path)


def test_nesting_up_to_the_limit_is_read(tmp_path):
    path = tmp_path / "deep.yaml"
    path.write_text("[" * (MAX_NESTING - 1) + "1" + "]" * (MAX_NESTING - 1) + "\n")
    data = load_config(path).data
    for _ in range(MAX_NESTING - 2):
        data = data[0]
    assert data == [1]
