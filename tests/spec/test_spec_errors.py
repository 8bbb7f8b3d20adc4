"""Malformed specs: exit status 2, one exact message per problem (file, line, column,
field, plain words), no traceback, and the previous output of `lossgen build` untouched.

Each fixture in tests/fixtures/bad/ is one kind of mistake. No Keras is imported here.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
from conftest import ROOT, SPECS, run_cli

FIXTURES = ROOT / "tests" / "fixtures"
ALLOWED_FUNCTIONS = (
    "abs, all, arange, arccos, arcsin, arctan, arctan2, argmax, argsort, at, batch_size, clip, cos, cosh, "
    "cumsum, digamma, epsilon, erf, erfinv, every_sample, exp, exp_diff, expand_dims, expm1, eye, first_half,"
    " indicator, labels, lgamma, local_mean, log, log1p, log_i0, log_sigmoid, log_softmax, logical_and, logical_not, "
    "logical_or, logsumexp, matmul, max, maximum, mean, min, minimum, normalize, num_classes, one_hot, pi, "
    "power, relu, second_half, sigmoid, sign, sin, sinh, softmax, softplus, sort, sparse_crossentropy, sqrt, "
    "square, stop_gradient, sum, take_along_axis, tan, tanh, transpose, where"
)
TOP_KEYS = (
    "name, class_name, title, task, summary, avoid_when, inputs, parameters, formula, weighting, latex, notes, "
    "keras, peers, checked_against, references, examples, plot"
)

# fixture -> the exact message(s), after "error: <path>:"
EXPECTED = {
    "yaml_syntax": [
        "3:5: YAML syntax error: expected ',' or ']', but got ':'; "
        'if `title` (line 2) is meant as text, put it in quotes: title: "[unclosed"'
    ],
    "empty": ["1: spec file is empty"],
    "only_comment": ["1: spec file is empty"],
    "not_a_mapping": ["1:1: a spec must be a mapping of fields, got a list"],
    "unknown_key": ["7:3: formula.reduc: unknown key `reduc` (allowed: steps, loss, reduce)"],
    "unknown_top_key": [f"7:1: author: unknown key `author` (allowed: {TOP_KEYS})"],
    "missing_field": ["1:1: summary: missing required field `summary`"],
    "wrong_param_type": ["6:33: parameters.scale.default: a float parameter needs a number as default, got 'abc'"],
    "wrong_bool_type": ["6:31: parameters.flag.default: a bool parameter needs true or false as default, got 3"],
    "unknown_param_type": [
        "6:17: parameters.scale.type: must be one of 'float', 'int', 'bool', 'vector' or 'matrix', got text 'double'"
    ],
    "default_below_min": ["8:14: parameters.scale.default: default -1.0 is below the minimum 0.0"],
    "default_above_max": ["6:33: parameters.share.default: default 1.5 is above the maximum 1.0"],
    "matrix_ragged": ["11:5: parameters.weights.default: matrix rows must have equal lengths, got 2, 1"],
    "matrix_not_square": [
        "11:5: parameters.weights.default: a confusion table must be square (classes x classes), got 2x3"
    ],
    "undefined_name": [
        "7:21: formula.steps.error: undefined name `y_ture`; did you mean `y_true`? (known here: y_pred, y_true)"
    ],
    "unknown_function": [
        f"6:9: formula.loss: unknown function `clamp`; did you mean `clip`? (allowed: {ALLOWED_FUNCTIONS})"
    ],
    "attribute_access": [
        "6:9: formula.loss: attribute access not allowed in a formula; call a function by its plain name"
    ],
    "attribute_walk": [
        "6:9: formula.loss: attribute access not allowed in a formula; call a function by its plain name"
    ],
    "import_statement": ["6:9: formula.loss: a formula is one expression; statements such as `import` are not allowed"],
    "dunder_call": ["6:9: formula.loss: name `__import__` is not allowed (names starting with `__` are reserved)"],
    "lambda": ["6:11: formula.loss: lambda not allowed in a formula"],
    "eval_call": [f"6:9: formula.loss: unknown function `eval` (allowed: {ALLOWED_FUNCTIONS})"],
    "open_call": [f"6:9: formula.loss: unknown function `open` (allowed: {ALLOWED_FUNCTIONS})"],
    "name_not_identifier": ["1:7: name: name `2fast` is not a valid Python identifier"],
    "name_keyword": ["1:7: name: name `lambda` is a Python keyword"],
    "param_keyword": ["6:3: parameters.class: parameter name `class` is a Python keyword"],
    "bool_in_arithmetic": ["8:9: formula.loss: boolean parameter `flag` can only be used as `a if flag else b`"],
    "string_constant": ["6:35: formula.loss: only numbers are allowed as constants, not 'two'"],
    "unused_step": ["8:13: formula.steps.unused: step `unused` is never used"],
    "plot_wrong": ["11:17: plot.values[1]: -2.0 is below the minimum 0.0 of `scale`"],
    "plot_mix_labels": [
        "13:10: plot.along: `mix` moves the predictions from the targets themselves: y_true and y_pred must have the"
        " same shape",
        "14:9: plot.vary: `flag` has type bool; the plot draws float parameters",
    ],
    "peer_unknown_param": [
        "11:14: peers[0].params.scael: `scael` is not a parameter of this spec",
        "13:56: examples[0].params.sacle: `sacle` is not a parameter of this spec",
    ],
    "keras_when_not_bool": [
        "12:10: keras.when.axis: `axis` has type int; `when` takes bool parameters",
        "12:30: keras.when.pool: `pool` is not a parameter of this spec",
    ],
    "example_two_expectations": ["8:5: examples[0]: give exactly one of `expected` (per sample) or `expected_mean`"],
    "param_builtin": [
        "6:3: parameters.float: parameter name `float` is a Python built-in that the generated code uses",
        "7:3: parameters.param_builtin: parameter name `param_builtin` is a name the module defines",
    ],
    "class_axis_wrong": [
        "6:15: inputs.class_axis: `axis` is not an int parameter of this spec with default -1",
        "6:15: inputs.class_axis: `embedding` predictions have no class axis to move",
    ],
    "per_class_wrong": [
        "6:14: inputs.per_class: `centers` is not an int parameter of this spec with `min: 1` or more",
        "6:14: inputs.per_class: numbers grouped per class pair with class ids (`y_true` of kind `labels`), whose"
        " width does not depend on the group size",
        "6:14: inputs.per_class: numbers can be grouped per class only where y_pred is one row of scores per sample",
    ],
    "own_width_wrong": [
        "6:37: inputs.y_true.own_width: `labels` targets have a shape of their kind's; `own_width` is for rows of"
        " values",
        "6:37: inputs.y_true.own_width: targets of their own width pair with one row of predictions per sample,"
        " without broadcast, pixels, images, a class axis, grouped or packed predictions, or weighting rules",
    ],
    "image_with_pixels": [
        "6:18: inputs.y_pred.kind: `embedding` inputs have no class axis to pair with pixels; use one_hot, binary or"
        " distribution targets and vector predictions",
        "6:18: inputs.y_pred.kind: `embedding` inputs are not values per pixel and channel, as images are; use real,"
        " nonnegative, binary or probability images",
        "7:10: inputs.image: `image` keeps height and width, `pixels` flattens them into one axis: declare one of them",
    ],
    "local_mean_misused": [
        "8:9: formula.loss: `local_mean` slides a window over the height and width of images: declare"
        " `inputs.image: true`, so that the inputs keep them",
        "8:9: formula.loss: local_mean(): size must be a whole number or an int parameter: the code builds the"
        " window before it sees the data",
    ],
    "pixels_with_labels": [
        "6:18: inputs.y_true.kind: `labels` inputs have no class axis to pair with pixels; use one_hot, binary or"
        " distribution targets and vector predictions"
    ],
    "three_errors": [
        "6:80: parameters.alpha.or how slow: unknown key `or how slow` (allowed: type, default, doc, min, max); "
        'if it is part of the text of `doc`, put that text in quotes: doc: "How fast the weight grows, or how slow"',
        f"8:9: formula.loss: unknown function `clamp`; did you mean `clip`? (allowed: {ALLOWED_FUNCTIONS})",
        "9:3: formula.reduc: unknown key `reduc` (allowed: steps, loss, reduce)",
    ],
    "unknown_rule": [
        "8:9: weighting.rule: unknown rule 'sample'; "
        "expected one of 'none', 'value', 'class', 'confusion', 'per_example'"
    ],
}


def test_every_fixture_has_an_expected_message():
    assert sorted(p.stem for p in (FIXTURES / "bad").glob("*.yaml")) == sorted(EXPECTED)


def _tree(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.rglob("*") if p.is_file()
    }


@pytest.fixture(scope="module")
def previous_output(tmp_path_factory) -> tuple[Path, Path]:
    """A folder of specs with one good spec, and the output of a successful build of it."""
    root = tmp_path_factory.mktemp("errors")
    good = root / "good_specs"
    good.mkdir()
    shutil.copy(SPECS / "mse.yaml", good)
    out = root / "out"
    result = run_cli("build", "--specs", str(good), "--out", str(out))
    assert result.returncode == 0, result.stderr
    return good, out


def _expected_stderr(path: Path, messages: list[str]) -> str:
    lines = [f"error: {path}:{m}" for m in messages]
    if len(messages) > 1:
        lines.append(f"{len(messages)} errors; nothing was written.")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("fixture", sorted(EXPECTED))
def test_malformed_spec_is_reported_and_nothing_is_written(fixture, previous_output, tmp_path):
    good, out = previous_output
    specs = tmp_path / "specs"
    shutil.copytree(good, specs)
    bad = specs / f"{fixture}.yaml"
    shutil.copy(FIXTURES / "bad" / f"{fixture}.yaml", bad)
    before = _tree(out)
    result = run_cli("build", "--specs", str(specs), "--out", str(out))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr == _expected_stderr(bad, EXPECTED[fixture])
    assert result.stdout == ""
    assert _tree(out) == before


def test_generate_reports_the_same_message_with_the_path_given():
    result = run_cli("generate", "tests/fixtures/bad/unknown_key.yaml")
    assert result.returncode == 2
    assert result.stderr == _expected_stderr(Path("tests/fixtures/bad/unknown_key.yaml"), EXPECTED["unknown_key"])


def test_duplicate_spec_names_point_at_the_second_file(previous_output):
    _, out = previous_output
    before = _tree(out)
    folder = FIXTURES / "duplicate"
    result = run_cli("build", "--specs", str(folder), "--out", str(out))
    assert result.returncode == 2
    expected = f"error: {folder / 'b.yaml'}:1:7: name: duplicate spec name `twin`: also used by {folder / 'a.yaml'}\n"
    assert result.stderr == expected
    assert _tree(out) == before


def test_all_errors_of_a_folder_are_reported_at_once(tmp_path):
    for name in ("unknown_key", "empty", "lambda"):
        shutil.copy(FIXTURES / "bad" / f"{name}.yaml", tmp_path)
    result = run_cli("build", "--specs", str(tmp_path), "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    assert result.stderr.count("error: ") == 3
    assert result.stderr.endswith("3 errors; nothing was written.\n")
    assert not (tmp_path / "out").exists()
