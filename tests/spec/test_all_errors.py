"""One run reports every mistake of a spec: schema errors together with the semantic
checks of the rest, every unknown function of a formula, and a hint to quote text that
YAML misread. Problems that may only come from a field the schema rejected are left out.

No Keras is imported here.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ROOT

from generator.spec.errors import SpecErrors
from generator.spec.loader import load_spec

THREE_ERRORS = ROOT / "tests" / "fixtures" / "bad" / "three_errors.yaml"

HEAD = """\
name: demo
title: Demo
task: regression
summary: A spec for the tests.
"""


def _errors(tmp_path: Path, text: str) -> list[str]:
    """Every error of spec ``text``, as ``line:column: field: message``."""
    path = tmp_path / "spec.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SpecErrors) as info:
        load_spec(path)
    return [str(error).removeprefix(f"{path}:") for error in info.value.errors]


def test_three_independent_errors_are_reported_in_one_load():
    with pytest.raises(SpecErrors) as info:
        load_spec(THREE_ERRORS)
    errors = info.value.errors
    assert [(e.line, e.column, e.field) for e in errors] == [
        (6, 80, "parameters.alpha.or how slow"),
        (8, 9, "formula.loss"),
        (9, 3, "formula.reduc"),
    ]
    assert "put that text in quotes: doc: " in errors[0].message
    assert errors[1].message.startswith("unknown function `clamp`; did you mean `clip`?")
    assert errors[2].message.startswith("unknown key `reduc`")


def test_a_schema_error_and_a_semantic_error_are_reported_together(tmp_path):
    errors = _errors(tmp_path, HEAD + "author: me\nformula:\n  loss: y_pred + zz\n  reduce: average\n")
    assert [e.split(": ")[0] for e in errors] == ["5:1", "7:18", "8:11"]
    assert "unknown key `author`" in errors[0]
    assert "undefined name `zz`" in errors[1]
    assert "must be one of 'mean', 'sum' or 'none'" in errors[2]


def test_a_missing_top_level_text_does_not_hide_the_formula(tmp_path):
    errors = _errors(tmp_path, "name: demo\ntitle: Demo\ntask: regression\nformula:\n  loss: clamp(y_pred)\n")
    assert errors[0] == "1:1: summary: missing required field `summary`"
    assert errors[1].startswith("5:9: formula.loss: unknown function `clamp`")
    assert len(errors) == 2


def test_a_missing_formula_reports_the_schema_errors_only(tmp_path):
    errors = _errors(tmp_path, HEAD + "parameters:\n  a: {type: float, default: 1.0, doc: d, mni: 0}\n")
    assert errors == [
        "1:1: formula: missing required field `formula`",
        "6:42: parameters.a.mni: unknown key `mni` (allowed: type, default, doc, min, max)",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # The parameter is rejected, so `a` is unknown to the formula: no "undefined name".
        (
            HEAD + "parameters:\n  a: {type: float, default: 1.0}\nformula:\n  loss: a * y_pred\n",
            ["6:3: parameters.a.doc: missing required field `doc`"],
        ),
        # A misspelt `logits_when`: the flag it names is not reported as unused.
        (
            HEAD + "inputs:\n  y_pred: {kind: probability, logits_wen: flag}\n"
            "parameters:\n  flag: {type: bool, default: false, doc: d}\nformula:\n  loss: y_pred\n",
            ["6:31: inputs.y_pred.logits_wen: unknown key `logits_wen` (allowed: kind, doc, logits_when"],
        ),
        # A wrong kind falls back to the default, `real`: the class rule is not blamed for it.
        (
            HEAD + "inputs:\n  y_true: {kind: onehot}\nparameters:\n  w: {type: vector, default: [1.0, 2.0], doc: d}\n"
            "formula:\n  loss: y_pred\nweighting: {rule: class, weights: w}\n",
            ["6:18: inputs.y_true.kind: must be one of 'real', "],
        ),
        # A misspelt `parameters`: the names it declared are not reported as undefined.
        (
            HEAD + "paramters:\n  a: {type: float, default: 1.0, doc: d}\nformula:\n  loss: y_pred + a\n",
            ["5:1: paramters: unknown key `paramters`"],
        ),
        # A rejected `expected`: the example is not said to lack one.
        (
            HEAD
            + "formula:\n  loss: y_pred\nexamples:\n  - {y_true: [1.0], y_pred: [2.0], expected: [abc], source: s}\n",
            ["8:47: examples[0].expected[0]: must be a number, got text 'abc'"],
        ),
        # A rejected step: no "undefined name" where the loss reads it.
        (
            HEAD + "formula:\n  steps:\n    s: 3\n  loss: s * y_pred\n",
            ["7:8: formula.steps.s: must be text, got 3"],
        ),
    ],
    ids=["dropped_parameter", "misspelt_logits_when", "wrong_kind", "misspelt_parameters", "bad_example", "bad_step"],
)
def test_no_problem_is_reported_that_only_a_rejected_field_causes(tmp_path, text, expected):
    errors = _errors(tmp_path, text)
    assert len(errors) == len(expected), errors
    for error, start in zip(errors, expected, strict=True):
        assert error.startswith(start), error


def test_every_unknown_function_is_named_at_its_column(tmp_path):
    errors = _errors(tmp_path, HEAD + "formula:\n  loss: clamp(y_pred) + foo(y_true) * bar(1)\n")
    assert [e.split(": ")[0] for e in errors] == ["6:9", "6:25", "6:39"]
    assert "unknown function `clamp`; did you mean `clip`? (allowed: abs, " in errors[0]
    assert errors[1].endswith("unknown function `foo` (allowed: see the list above)")
    assert errors[2].endswith("unknown function `bar` (allowed: see the list above)")


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("summary: Note: this is text", 'put it in quotes: summary: "Note: this is text"'),
        ("summary: [draft] a loss", 'put it in quotes: summary: "[draft] a loss"'),
        ("summary: `code` first", 'put it in quotes: summary: "`code` first"'),
        ("latex: \\frac{a}{b}: c", "put it in quotes: latex: '\\frac{a}{b}: c'"),
    ],
    ids=["colon", "bracket", "backtick", "latex"],
)
def test_a_yaml_error_in_unquoted_text_suggests_quotes(tmp_path, line, expected):
    (error,) = _errors(tmp_path, HEAD + line + "\nformula:\n  loss: y_pred\n")
    assert error.startswith("5:") and "YAML syntax error: " in error
    key = line.split(":")[0]
    assert error.endswith(f"; if `{key}` is meant as text, {expected}")


def test_the_quote_hint_names_the_line_of_an_unclosed_bracket(tmp_path):
    (error,) = _errors(tmp_path, HEAD.replace("title: Demo", "title: [unclosed"))
    assert error.endswith('; if `title` (line 2) is meant as text, put it in quotes: title: "[unclosed"')


def test_a_colon_in_a_flow_mapping_doc_suggests_quotes(tmp_path):
    text = (
        HEAD + "parameters:\n  a: {type: float, default: 1.0, doc: Weight: higher is stronger}\nformula:\n  loss: a\n"
    )
    (error,) = _errors(tmp_path, text)
    assert error.endswith('; if `doc` is meant as text, put it in quotes: doc: "Weight: higher is stronger"')


def test_a_comma_in_a_flow_mapping_doc_suggests_quotes(tmp_path):
    text = HEAD + "parameters:\n  a: {type: float, default: 1.0, doc: Fast, or slow, or neither}\nformula:\n  loss: a\n"
    errors = _errors(tmp_path, text)
    hint = '; if it is part of the text of `doc`, put that text in quotes: doc: "Fast, or slow, or neither"'
    assert [e.split(": ")[0] for e in errors] == ["6:45", "6:54"]
    assert all(e.endswith(hint) for e in errors)


def test_a_misspelt_key_gets_no_quote_hint(tmp_path):
    text = HEAD + "parameters:\n  a: {type: float, default: 1.0, doc: d, mni: 0}\nformula:\n  loss: a\n"
    (error,) = _errors(tmp_path, text)
    assert error.endswith("unknown key `mni` (allowed: type, default, doc, min, max)")


def test_the_quoted_text_the_hint_suggests_loads(tmp_path):
    path = tmp_path / "spec.yaml"
    quoted = 'summary: "Note: a spec, with [brackets]"\n'
    path.write_text(HEAD.replace("summary: A spec for the tests.\n", quoted) + "formula:\n  loss: y_pred\n")
    assert load_spec(path).spec.summary == "Note: a spec, with [brackets]"


def test_mistakes_in_the_parts_of_y_pred_are_reported_once_each(tmp_path):
    """A part is a word or a mapping; each mistake is reported for the reading that was
    written, with the part's own keys, together with the semantic problems of the parts."""
    errors = _errors(
        tmp_path,
        HEAD
        + "inputs:\n  y_pred:\n    parts:\n"
        + "      mu: reel\n"
        + "      kappa: {kind: positive, lower: 1}\n"
        + "      nu: {kind: positive, greater_than: 2}\n"
        + "      exp: nonnegative\n"
        + "formula:\n  loss: kappa * nu * square(y_true - mu)\n",
    )
    assert errors == [
        "8:11: inputs.y_pred.parts.mu: must be one of 'real', 'nonnegative', 'positive' or 'probability',"
        " got text 'reel'",
        "9:31: inputs.y_pred.parts.kappa.lower: unknown key `lower` (allowed: kind, greater_than, doc)",
        "10:18: inputs.y_pred.parts.nu.kind: a part with `greater_than` is real above that bound; leave out `kind`",
        "11:7: inputs.y_pred.parts.exp: part name `exp` is the name of a formula function",
    ]
