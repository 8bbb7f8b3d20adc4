"""`lossgen new`: the starter's comments list every choice the schema allows, and the
starter loads as it is. No Keras is imported here."""

from __future__ import annotations

import re
from typing import get_args

import pytest

from generator.codegen import starter
from generator.spec.loader import load_spec
from generator.spec.schema import PredictionKind, TargetKind, Task


def _comments(text: str) -> str:
    return " ".join(line.strip().lstrip("#") for line in text.splitlines() if line.strip().startswith("#"))


@pytest.mark.parametrize(
    "values",
    [get_args(TargetKind), get_args(PredictionKind), get_args(Task)],
    ids=["target_kinds", "prediction_kinds", "tasks"],
)
def test_the_starter_lists_every_choice_of_the_schema(values):
    comments = _comments(starter.starter_spec("my_loss"))
    words = set(re.findall(r"[a-z_]+", comments))
    assert set(values) <= words, set(values) - words


def test_the_choices_come_from_the_schema():
    choices = starter.choices()
    assert "mean_and_log_variance" in choices["prediction_kinds"]
    assert choices["parameter_types"] == ("float", "int", "bool", "vector", "matrix")
    assert choices["reductions"] == ("mean", "sum", "none")
    assert choices["rules"] == ("value", "class", "confusion", "per_example")


def test_the_starter_loads(tmp_path):
    path = tmp_path / "my_loss.yaml"
    path.write_text(starter.starter_spec("my_loss"), encoding="utf-8")
    assert load_spec(path).name == "my_loss"
