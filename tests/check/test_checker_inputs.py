"""`lossgen check` tries what users pass, and never prints a traceback.

The four rows "rank variants", "float64", "wrong shapes" and "wrong parameter shapes" are
called in-process: on catalog losses they pass, and on small hand-written loss modules
that break one promise each (a silent broadcast, float32 arithmetic, a constant rounded
to float32, another error than ValueError, a parameter nobody checks) they fail and say
why. The full command runs only on the two fixtures of tests/fixtures/failing/, specs that
are valid but cannot compute: each gives exit 1, failing rows and no traceback.
"""

from __future__ import annotations

import re
import textwrap

import numpy as np
import pytest
from conftest import ROOT, SKIP_FRESH, SPECS, spec_forms

from generator.check import checks, harness, hazards, report, runner, samples
from generator.codegen import lower
from generator.spec.loader import load_spec

pytestmark = pytest.mark.tensorflow_only

FAILING = ROOT / "tests" / "fixtures" / "failing"
NEW_ROWS = {
    "rank variants": checks.check_rank_variants,
    "float64": checks.check_float64,
    "wrong shapes": checks.check_wrong_shapes,
    "wrong parameter shapes": checks.check_wrong_parameter_shapes,
}


# ---------------------------------------------------------------- the command, on the fixtures


def _check(*args: str):
    """``lossgen check ARGS`` in this process (click's CliRunner): exit code and output."""
    from click.testing import CliRunner

    from generator.cli import cli

    result = CliRunner().invoke(cli, ["check", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def _rows(output: str) -> dict[str, str]:
    """The table's rows: check -> the whole line."""
    rows = {}
    for line in output.splitlines():
        if line.startswith(("ok  ", "FAIL", "skip")):
            rows[line[6:].split("  ")[0].strip()] = line
    return rows


@pytest.mark.slow
def test_steps_of_different_widths_fail_rows_without_a_traceback():
    """The spec's loss subtracts a 4-wide target from a 2-wide step: every check that
    computes the loss fails with the error in one line and its place in the formula, the
    others still run (the new shape rows pass: the inputs are refused before the
    formula), and save-and-reload is a failing row too. The other fresh-process checks are
    left out (--skip): they fail the same way, and cost seconds each."""
    code, output = _check(str(FAILING / "mismatched_widths.yaml"), "--skip", "backends", "--skip", "distribution")
    assert code == 1, output
    assert "Traceback" not in output
    rows = _rows(output)
    for check in ("forms agree", "finite at the edges", "float64", "save and reload in a fresh process"):
        assert rows[check].startswith("FAIL"), rows[check]
    assert (
        "`front` of shape (8, 2) and `y_true` of shape (8, 4) do not line up in `front - y_true`" in rows["forms agree"]
    )
    assert rows["wrong shapes"].startswith("ok"), rows["wrong shapes"]
    assert all("\n" not in line for line in rows.values())
    assert output.rstrip().endswith("failed")


@pytest.mark.slow
def test_a_vector_parameter_of_the_wrong_length_fails_rows_without_a_traceback():
    """`offsets` has 2 entries for 3 classes: the rows that compute the loss fail and name
    the parameter; the parameter-shape row still passes (each parameter made too long is
    refused by name)."""
    code, output = _check(str(FAILING / "two_vector_lengths.yaml"), *SKIP_FRESH)
    assert code == 1, output
    assert "Traceback" not in output
    rows = _rows(output)
    assert rows["forms agree"].startswith("FAIL")
    assert "parameter `offsets` has 2 entries, but y_pred has 3 classes" in rows["forms agree"]
    assert rows["wrong parameter shapes"].startswith("ok"), rows["wrong parameter shapes"]
    for name, title in report.FRESH_PROCESS_CHECKS.items():
        assert rows[title].split() == ["skip", *title.split(), "not", "run", "(--skip", f"{name})"], rows[title]
    assert re.fullmatch(r"\d+ passed, 3 skipped, [1-9]\d* failed", output.rstrip().splitlines()[-1]), output


# ---------------------------------------------------------------- the guard


def test_an_exception_in_a_check_is_one_failing_row_named_after_it():
    item = load_spec(FAILING / "mismatched_widths.yaml")
    (row,) = runner.guarded(item, "some check", lambda: [report.Result("x", True, "")][1])
    assert row.check == "some check" and not row.ok
    assert row.detail.startswith("IndexError: list index out of range; `front` of shape (8, 2)")
    item = load_spec(SPECS / "mse.yaml")
    (row,) = runner.guarded(item, "some check", lambda: 1 / 0)
    assert row.detail == "ZeroDivisionError: division by zero"  # nothing wrong with mse's formula


def test_errors_read_as_one_line():
    tf_error = (
        "tensorflow.python.framework.errors_impl.InvalidArgumentError: {{function_node __wrapped__Sub_device_"
        "/job:localhost/replica:0/task:0/device:CPU:0}} Incompatible shapes: [8,2] vs. [8,4] [Op:Sub] name: "
    )
    assert report.one_line(tf_error) == "InvalidArgumentError: Incompatible shapes: [8,2] vs. [8,4] [Op:Sub]"
    stderr = (
        'W0000 a warning\nTraceback (most recent call last):\n  File "x.py", line 1\n    f()\nValueError: bad\nmore\n'
    )
    assert report.died_of(stderr) == "ValueError: bad"
    assert report.died_of("") == "no output"
    assert report.error_line(ValueError("first line.\nsecond line")) == "ValueError: first line"


# ---------------------------------------------------------------- the new rows on catalog losses


@pytest.fixture(scope="session")
def catalog(tmp_path_factory):
    """Loaded specs and forms of a few catalog losses and the class-weighted fixture."""
    harness.quiet_tensorflow()
    tmp = tmp_path_factory.mktemp("catalog")
    paths = {
        "mse": SPECS / "mse.yaml",
        "sparse_categorical_crossentropy": SPECS / "sparse_categorical_crossentropy.yaml",
        "class_weighted": ROOT / "tests" / "fixtures" / "good" / "class_weighted_sparse_crossentropy.yaml",
    }
    return {name: (load_spec(path), spec_forms(tmp, path)) for name, path in paths.items()}


@pytest.mark.parametrize("name", ["mse", "sparse_categorical_crossentropy", "class_weighted"])
def test_the_new_rows_pass_on_losses_that_keep_the_contract(catalog, name):
    import keras

    item, forms = catalog[name]
    for title, check in NEW_ROWS.items():
        (row,) = check(item, forms)
        assert row.check == title
        assert row.ok, f"{title}: {row.detail}"
    # The float64 training step leaves Keras as it found it.
    assert keras.config.floatx() == "float32" and keras.config.dtype_policy().name == "float32"


def test_not_applicable_says_why(catalog):
    item, forms = catalog["mse"]
    (row,) = checks.check_wrong_parameter_shapes(item, forms)
    assert row.detail == "not applicable: no vector or matrix parameters"
    item = load_spec(SPECS / "categorical_crossentropy.yaml")
    (row,) = checks.check_rank_variants(item, forms)  # decided from the spec, before any call
    assert row.ok and row.detail == "not applicable: one-hot targets are rows with one entry per class"


def test_rank_variants_of_class_ids_cover_integers(catalog):
    item, forms = catalog["sparse_categorical_crossentropy"]
    (row,) = checks.check_rank_variants(item, forms)
    assert "class ids (32,) and (32, 1), floats and integers" in row.detail


# ---------------------------------------------------------------- the new rows can fail

SPEC = """\
name: {name}
title: Test loss
task: {task}
summary: A small loss for the checker's tests.
"""

ELEMENTWISE = "formula:\n  loss: square(y_pred - y_true)\n  reduce: mean\n"
WEIGHTED = (
    "parameters:\n  w: {type: vector, default: [1.0, 2.0, 0.5], min: 0.0, doc: One weight per column.}\n"
    "formula:\n  loss: w * square(y_pred - y_true)\n  reduce: mean\n"
)
LABELS = (
    "inputs:\n  y_true: {kind: labels}\n  y_pred: {kind: distribution}\n"
    "formula:\n  steps:\n    p: clip(y_pred, epsilon(), 1 - epsilon())\n"
    "  loss: -sum(one_hot(labels(y_true), num_classes()) * log(p))\n  reduce: none\n"
)

PREPARE = """\
def _prepare(y_true, y_pred):
    y_pred = ops.convert_to_tensor(y_pred)
    if ops.dtype(y_pred) != "float64":
        y_pred = ops.cast(y_pred, "float32")
    y_true = ops.cast(y_true, y_pred.dtype)
    shapes = (tuple(y_true.shape), tuple(y_pred.shape))
    if len(y_true.shape) + 1 == len(y_pred.shape) and y_pred.shape[-1] == 1:
        y_true = ops.expand_dims(y_true, -1)
    elif len(y_pred.shape) + 1 == len(y_true.shape) and y_true.shape[-1] == 1:
        y_pred = ops.expand_dims(y_pred, -1)
    if tuple(y_true.shape) != tuple(y_pred.shape):
        raise ValueError(f"{name}: y_true.shape={{shapes[0]}} cannot meet y_pred.shape={{shapes[1]}}")
    return y_true, y_pred
"""
BODY = "    return ops.mean(ops.square(y_pred - y_true), axis=-1)\n"
WEIGHTED_BODY = """\
    w = ops.cast(ops.convert_to_tensor(w), y_pred.dtype)
    if tuple(w.shape) != (y_pred.shape[-1],):
        raise ValueError(f"{name}: `w` needs {{y_pred.shape[-1]}} entries, got {{tuple(w.shape)}}")
    return ops.mean(w * ops.square(y_pred - y_true), axis=-1)
"""
LABELS_PREPARE = """\
def _prepare(y_true, y_pred):
    y_pred = ops.convert_to_tensor(y_pred)
    if ops.dtype(y_pred) != "float64":
        y_pred = ops.cast(y_pred, "float32")
    y_true = ops.cast(y_true, y_pred.dtype)
    shapes = (tuple(y_true.shape), tuple(y_pred.shape))
    if len(y_true.shape) == len(y_pred.shape) and y_true.shape[-1] == 1:
        y_true = ops.squeeze(y_true, -1)
    if tuple(y_true.shape) != tuple(y_pred.shape[:-1]):
        raise ValueError(f"{name}: y_true.shape={{shapes[0]}} cannot meet y_pred.shape={{shapes[1]}}")
    return y_true, y_pred
"""
LABELS_BODY = """\
    p = ops.clip(y_pred, keras.config.epsilon(), 1 - keras.config.epsilon())
    ids = ops.cast(y_true, "int32")
    return -ops.sum(ops.one_hot(ids, ops.shape(y_pred)[-1], dtype=y_pred.dtype) * ops.log(p), axis=-1)
"""


def _hand_written(tmp_path, spec_body: str, prepare: str, body: str, params: dict | None = None, name: str = "tiny"):
    """A spec, and a hand-written module with its three forms (names from the spec's view):
    ``prepare`` defines ``_prepare(y_true, y_pred)``; ``body`` computes the loss from the
    prepared inputs and ``params``."""
    path = tmp_path / f"{name}.yaml"
    path.write_text(SPEC.format(name=name, task="regression") + spec_body, encoding="utf-8")
    item = load_spec(path)
    view = lower.loss_view(item)
    params = params or {}
    signature = "".join(f", {p}={v!r}" for p, v in params.items())
    star = f", *{signature}" if params else ""
    keywords = "".join(f", {p}={p}" for p in params)
    attributes = "".join(f"\n        self.{p} = {p}" for p in params)
    own = "".join(f", {p}=self.{p}" for p in params)
    source = (
        "import keras\nfrom keras import ops\n\n\n"
        + prepare.format(name=name)
        + f"\n\ndef {view.name}(y_true, y_pred{star}):\n    y_true, y_pred = _prepare(y_true, y_pred)\n"
        + body.format(name=name)
        + f"\n\ndef {view.factory_name}({signature.removeprefix(', ')}):\n"
        + f"    def loss(y_true, y_pred):\n        return {view.name}(y_true, y_pred{keywords})\n\n    return loss\n"
        + f"\n\nclass {view.class_name}(keras.losses.Loss):\n"
        + f"    def __init__(self{signature}, reduction='sum_over_batch_size', name={name!r}, dtype=None):\n"
        + f"        super().__init__(name=name, reduction=reduction, dtype=dtype){attributes}\n\n"
        + f"    def call(self, y_true, y_pred):\n        return {view.name}(y_true, y_pred{own})\n"
    )
    module_path = tmp_path / f"{name}_hand_written.py"
    module_path.write_text(textwrap.dedent(source), encoding="utf-8")
    module = harness.import_path(module_path, f"lossgen_hand_written_{tmp_path.name}_{name}")
    return item, harness.forms_of(module, item)


def test_hand_written_losses_that_keep_the_contract_pass(tmp_path):
    """The reference for the failures below: the same modules, unbroken, pass every row."""
    cases = [
        (ELEMENTWISE, PREPARE, BODY, None, "tiny"),
        (WEIGHTED, PREPARE, WEIGHTED_BODY, {"w": (1.0, 2.0, 0.5)}, "tiny_weighted"),
        (LABELS, LABELS_PREPARE, LABELS_BODY, None, "tiny_labels"),
    ]
    for spec_body, prepare, body, params, name in cases:
        item, forms = _hand_written(tmp_path, spec_body, prepare, body, params, name)
        for title, check in NEW_ROWS.items():
            (row,) = check(item, forms)
            assert row.ok, f"{name}, {title}: {row.detail}"


NO_PREPARATION = """\
def _prepare(y_true, y_pred):
    y_pred = ops.convert_to_tensor(y_pred)
    return ops.cast(y_true, y_pred.dtype), y_pred
"""


def test_a_loss_that_broadcasts_silently_fails_rank_variants_and_wrong_shapes(tmp_path):
    item, forms = _hand_written(tmp_path, ELEMENTWISE, NO_PREPARATION, BODY)
    (row,) = checks.check_rank_variants(item, forms)
    assert not row.ok
    assert "the subclass in evaluate with targets (32,) gives" in row.detail  # (N,) against (N, 1): an N x N matrix
    assert "the subclass in evaluate with targets (32, 1)" not in row.detail
    (row,) = checks.check_wrong_shapes(item, forms)
    assert not row.ok
    assert "the function, factory and subclass with y_true (8, 1) and y_pred (8, 4) returned a value of shape (8,)" in (
        row.detail
    )


def test_class_ids_of_shape_n_1_not_lined_up_fail_rank_variants(tmp_path):
    prepare = LABELS_PREPARE.replace("        y_true = ops.squeeze(y_true, -1)\n", "        pass\n").replace(
        "    if tuple(y_true.shape) != tuple(y_pred.shape[:-1]):\n", "    if False:\n"
    )
    item, forms = _hand_written(tmp_path, LABELS, prepare, LABELS_BODY, name="tiny_labels")
    (row,) = checks.check_rank_variants(item, forms)
    assert not row.ok
    assert "the function with float32 class ids (32, 1) returns shape (32, 32), not (32,)" in row.detail


def test_float32_arithmetic_fails_the_float64_row(tmp_path):
    always_float32 = PREPARE.replace('    if ops.dtype(y_pred) != "float64":\n        y_pred', "    y_pred")
    item, forms = _hand_written(tmp_path, ELEMENTWISE, always_float32, BODY)
    (row,) = checks.check_float64(item, forms)
    assert not row.ok
    assert row.detail.startswith("the function and factory: returns float32")
    # Keras casts what the subclass returns to its dtype, float64: the values tell.
    assert "; the subclass: " in row.detail and "part of it is computed in lower precision" in row.detail


def test_a_constant_rounded_to_float32_fails_the_float64_row(tmp_path):
    """float64 in, float64 out, but one factor went through float32: about 1e-8 off, which
    only the tight tolerance sees."""
    rounded = BODY.replace(
        "axis=-1)", 'axis=-1) * ops.cast(ops.convert_to_tensor(0.1, "float32"), y_pred.dtype) * 10.0'
    )
    item, forms = _hand_written(tmp_path, ELEMENTWISE, PREPARE, rounded)
    (row,) = checks.check_float64(item, forms)
    assert not row.ok
    assert "relative from the float64 evaluation: part of it is computed in lower precision" in row.detail


def test_another_error_than_value_error_fails_wrong_shapes(tmp_path):
    item, forms = _hand_written(tmp_path, ELEMENTWISE, PREPARE.replace("raise ValueError", "raise TypeError"), BODY)
    (row,) = checks.check_wrong_shapes(item, forms)
    assert not row.ok
    assert "raised TypeError: tiny: y_true.shape=(8, 4) cannot meet y_pred.shape=(8, 5) instead of a ValueError" in (
        row.detail
    )
    unnamed = PREPARE.replace('f"{name}: y_true.shape=', 'f"y_true.shape=')
    item, forms = _hand_written(tmp_path, ELEMENTWISE, unnamed, BODY, name="tiny_unnamed")
    (row,) = checks.check_wrong_shapes(item, forms)
    assert not row.ok and "raised a ValueError that does not name `tiny_unnamed`" in row.detail


def test_an_unchecked_parameter_fails_wrong_parameter_shapes(tmp_path):
    unchecked = "    return ops.mean(ops.convert_to_tensor(w, y_pred.dtype) * ops.square(y_pred - y_true), axis=-1)\n"
    item, forms = _hand_written(tmp_path, WEIGHTED, PREPARE, unchecked, {"w": (1.0, 2.0, 0.5)}, "tiny_weighted")
    (row,) = checks.check_wrong_parameter_shapes(item, forms)
    assert not row.ok
    assert "the function, factory and subclass with `w` of shape (4,) raised InvalidArgumentError" in row.detail
    unnamed = WEIGHTED_BODY.replace("{name}: `w` needs", "{name}: the vector needs")
    item, forms = _hand_written(tmp_path, WEIGHTED, PREPARE, unnamed, {"w": (1.0, 2.0, 0.5)}, "tiny_weighted2")
    (row,) = checks.check_wrong_parameter_shapes(item, forms)
    assert not row.ok and "raised a ValueError that does not name `w`" in row.detail


def test_a_parameter_is_not_named_by_the_loss_name_that_contains_it(tmp_path):
    """`w` appears in the loss's name `tiny_weighted`: the message must name it elsewhere."""
    silent = WEIGHTED_BODY.replace("{name}: `w` needs", "{name} needs")
    item, forms = _hand_written(tmp_path, WEIGHTED, PREPARE, silent, {"w": (1.0, 2.0, 0.5)}, "tiny_weighted")
    (row,) = checks.check_wrong_parameter_shapes(item, forms)
    assert not row.ok, row.detail


# ---------------------------------------------------------------- inputs of the rows


def test_wrong_shape_cases_cannot_match_for_each_input_kind():
    """Every case has shapes the spec's kinds cannot accept: class ids get two columns
    instead of a wider y_pred (a wider y_pred is just more classes)."""
    for name in ("mse", "sparse_categorical_crossentropy", "gaussian_nll", "example_weighted_crossentropy", "diou"):
        item = load_spec(SPECS / f"{name}.yaml")
        params = samples.parameter_sets(item.spec)["defaults"]
        normal = samples.random_batch(item.spec, params, 3)
        for what, y_true, y_pred in checks._wrong_shape_cases(item, params):
            assert (y_true.shape, y_pred.shape) != (normal.y_true.shape, normal.y_pred.shape), (name, what)
            assert np.isfinite(y_true).all() and np.isfinite(y_pred).all()


def test_wrong_sizes_keep_the_values_of_the_default():
    assert checks._wrong_size([1.0, 2.0, 0.5], 4) == [1.0, 2.0, 0.5, 0.5]
    assert checks._wrong_size([1.0, 2.0], 1) == [1.0]
    assert checks._wrong_size([[1, 2], [3, 4]], 3) == [[1, 2, 2], [3, 4, 4], [3, 4, 4]]


def test_the_fixtures_are_valid_specs_whose_formula_cannot_compute():
    """They pass validation (exit 2 would be another test); the explainer finds why they fail."""
    for name, cause in (
        ("mismatched_widths", "`front` of shape (8, 2) and `y_true` of shape (8, 4) do not line up"),
        ("two_vector_lengths", "parameter `offsets` has 2 entries, but y_pred has 3 classes"),
    ):
        item = load_spec(FAILING / f"{name}.yaml")
        params = samples.parameter_sets(item.spec)["defaults"]
        batch = samples.random_batch(item.spec, params, 0)
        found = hazards.explain_error(item, batch.y_true, batch.y_pred, params)
        assert found is not None and cause in found, found
