"""The generated losses on what users pass, not only on what the generator picks.

Keras's built-in losses line the ranks of ``y_true`` and ``y_pred`` up, raise a clear
``ValueError`` when the shapes cannot match, and compute float64 in float64. Every
generated form must do the same:

* inside ``model.evaluate``, targets of shape ``(N,)`` and ``(N, 1)`` (and integer labels
  where the spec takes class ids) give the same value with the three forms, the Keras
  twin, and the float64 NumPy evaluation of the spec on the model's predictions;
* shapes that cannot match raise ``ValueError`` naming the loss and both shapes;
* a vector or matrix parameter of the wrong shape raises ``ValueError`` naming it;
* float64 inputs, and ``keras.config.set_floatx("float64")``, are computed in float64
  (checked to 1e-9, which float32 arithmetic cannot meet) on TensorFlow; on JAX and
  PyTorch (``make test-backends``) they run and give float32-accurate values, since
  Keras 3.15.1 reduces float64 in float32 there (see ``FLOAT64_ON_BACKEND``).
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from conftest import SPECS, catalog_names

from generator.check import numeric, samples
from generator.check.harness import forms_of, import_path, model_for
from generator.codegen import lower
from generator.spec import shapes
from generator.spec.loader import load_spec

N = 16
TOL = 1e-6
"""The forms and the Keras twin against each other, inside ``evaluate``."""
REFERENCE_TOL = 1e-5
"""float32 values against the float64 evaluation of the spec."""
FLOAT64_TOL = 1e-9
"""float64 values against the float64 evaluation: float32 arithmetic is ~1e-7 off."""


def _forms(built, name):
    item = load_spec(SPECS / f"{name}.yaml")
    module = import_path(built / "code" / f"{name}.py", f"lossgen_user_inputs_{name}")
    return item, forms_of(module, item)


def _np(x) -> np.ndarray:
    import keras

    return np.asarray(keras.ops.convert_to_numpy(x), dtype="float64")


def _target_variants(item) -> dict[str, tuple[int, object]]:
    """``{label: (head width, targets of shape (N, 1) or None)}`` for the specs whose targets
    users give in more than one rank; empty for the others."""
    spec = item.spec
    kind, layout = spec.inputs.y_true.kind, lower.layout(spec)
    rng = np.random.default_rng(3)
    if layout == "labels":
        return {"labels": (samples.classes(spec), rng.integers(0, samples.classes(spec), (N, 1)))}
    if spec.inputs.pixels or spec.task == "ranking" or spec.inputs.y_pred.kind in ("embedding", "box"):
        return {}
    if layout in ("same", "broadcast", "double") and kind in shapes.ONE_COLUMN_TARGETS:
        has_vector = any(p.type == "vector" for p in spec.parameters.values())
        width = samples.classes(spec) if has_vector else 1
        column = samples.targets(spec, rng, batch=N, width=1)
        return {kind: (width, column)}
    return {}


USER_TARGET_NAMES = [n for n in catalog_names() if _target_variants(load_spec(SPECS / f"{n}.yaml"))]


def _evaluate(item, losses: dict, width, x, y, eager: bool) -> tuple[dict[str, float], np.ndarray]:
    """A fresh small model with one output per entry of ``losses`` (the same head, passed
    through an Identity layer named after the entry), each output compiled with its loss:
    every loss's ``evaluate`` value on ``(x, y)`` in one batch (batch-level losses see the
    whole batch), and the predictions. Keras wraps and reduces each output's loss as it does
    a one-output model's; one model, traced once, serves every form."""
    import keras

    keras.utils.set_random_seed(1)
    inputs = keras.Input((4,))
    head = model_for(item, {}, width, (4,))(inputs)
    outputs = {key: keras.layers.Identity(name=key)(head) for key in losses}
    model = keras.Model(inputs, outputs)
    model.compile(loss=losses, run_eagerly=eager)
    found = model.evaluate(x, dict.fromkeys(losses, y), batch_size=N, verbose=0, return_dict=True)
    values = {key: float(found[f"{key}_loss"]) for key in losses}
    return values, _np(model(x)[next(iter(losses))])


TWIN_LIMITS = {
    "generalized_crossentropy": ("(N, 1)", "Keras 3.15's class reads class ids of shape (batch,) only"),
}
"""Target variants a Keras twin gets wrong itself (the spec's note says so): not compared."""

TRACED = {"tensorflow": ("(N,)",), "jax": ("(N,)",), "torch": ("(N,)",)}
"""The target variants evaluated in a compiled model, per backend (the others run eagerly).
On TensorFlow every variant is traced, where the batch size is unknown while tracing. On
JAX and PyTorch, which see every shape as it is whether eager or compiled, only (N,)
targets are compiled (once per loss, so that a loss that cannot be jit-compiled still
fails here); compiling every variant was two thirds of this test's time on JAX."""


@pytest.mark.parametrize("name", USER_TARGET_NAMES)
def test_targets_of_either_rank_give_the_same_evaluate_value(built, name):
    import keras

    item, forms = _forms(built, name)
    params = samples.parameter_sets(item.spec)["defaults"]
    ((_, (width, column)),) = _target_variants(item).items()
    x = np.random.default_rng(4).normal(size=(N, 4)).astype("float32")
    variants = {"(N, 1)": column.astype("float32"), "(N,)": column[:, 0].astype("float32")}
    if item.spec.inputs.y_true.kind in ("labels", "binary"):
        variants["(N,) integers"] = column[:, 0].astype("int64")
    values = {}
    for variant, y in variants.items():
        losses = {
            "function": getattr(forms.module, forms.view_name),
            "factory": forms.factory(params),
            "subclass": forms.subclass_reduced(params),
        }
        if item.spec.keras is not None and TWIN_LIMITS.get(name, ("",))[0] != variant:
            losses["keras_twin"] = getattr(keras.losses, item.spec.keras.loss)(
                **samples.twin_arguments(item.spec, params)
            )
        eager = variant not in TRACED[keras.backend.backend()]
        found, predictions = _evaluate(item, losses, width, x, y, eager)
        values.update({(variant, form): value for form, value in found.items()})
    # The same seed gives the same model, so every run saw the same predictions.
    expected = float(np.mean(numeric.evaluate(item, column.astype("float64"), predictions, params)))
    for key, value in values.items():
        assert value == pytest.approx(expected, rel=REFERENCE_TOL, abs=TOL), (key, expected)
        assert value == pytest.approx(values["(N, 1)", "function"], rel=TOL, abs=TOL), (key, values)


def _mismatched(item) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """Input pairs whose shapes cannot fit the spec's layout."""
    params = samples.parameter_sets(item.spec)["defaults"]
    batch = samples.random_batch(item.spec, params, 0)
    y_true, y_pred = batch.y_true, batch.y_pred
    cases = [("one sample fewer in y_true", y_true[:-1], y_pred)]
    if lower.layout(item.spec) == "rows":  # any two widths fit, but not two ranks
        cases.append(("y_true with one more axis", y_true[..., None], y_pred))
    elif lower.layout(item.spec) != "labels":
        wider = np.concatenate([y_pred, y_pred[..., :1]], axis=-1)
        cases.append(("y_pred one column wider", y_true, wider))
    if lower.layout(item.spec) == "same" and y_true.shape[-1] > 1:
        cases.append(("y_true one column only", y_true[..., :1], y_pred))
    return cases


@pytest.mark.parametrize("name", catalog_names())
def test_shapes_that_cannot_match_raise_a_clear_value_error(built, name):
    item, forms = _forms(built, name)
    params = samples.parameter_sets(item.spec)["defaults"]
    for label, y_true, y_pred in _mismatched(item):
        for form in ("function", "factory", "subclass"):
            loss = getattr(forms, form)(params)
            with pytest.raises(ValueError) as raised:
                loss(y_true, y_pred)
            message = str(raised.value)
            assert name in message, (label, form, message)
            assert str(y_true.shape) in message and str(y_pred.shape) in message, (label, form, message)


ARRAY_NAMES = [
    n
    for n in catalog_names()
    if any(p.type in ("vector", "matrix") for p in load_spec(SPECS / f"{n}.yaml").spec.parameters.values())
]


@pytest.mark.parametrize("name", ARRAY_NAMES)
def test_a_parameter_of_the_wrong_shape_is_named(built, name):
    item, forms = _forms(built, name)
    params = samples.parameter_sets(item.spec)["defaults"]
    batch = samples.random_batch(item.spec, params, 0)
    for pname, param in item.spec.parameters.items():
        if param.type == "vector":
            wrong = [*param.default, 1.0]
        elif param.type == "matrix":
            wrong = [[*row, 1.0] for row in param.default]
        else:
            continue
        for form in ("function", "factory", "subclass"):
            with pytest.raises(ValueError, match=f"{name}: `{pname}`"):
                getattr(forms, form)({**params, pname: wrong})(batch.y_true, batch.y_pred)


BACKEND = os.environ.get("KERAS_BACKEND", "tensorflow")

FLOAT64_ON_BACKEND = {"tensorflow": FLOAT64_TOL, "jax": 1e-6, "torch": 1e-6}
"""How close float64 values come to the float64 evaluation, by backend. On JAX and PyTorch,
Keras 3.15.1 itself computes some float64 operations in float32: ``ops.mean`` promotes
with ``result_type(float64, "float32")``, which is float32 there (5e-8 off on both), JAX's
``ops.tanh`` returns float32, and PyTorch's ``ops.maximum`` with a Python number,
``ops.matmul`` and ``ops.cumsum`` return float32. There the check is that float64 runs and
gives float32-accurate values; TensorFlow computes every loss in float64."""


@pytest.fixture
def float64_arrays():
    """JAX computes in float32 unless 64-bit arrays are enabled; the pages say so."""
    if BACKEND == "jax":
        import jax

        jax.config.update("jax_enable_x64", True)
        yield
        jax.config.update("jax_enable_x64", False)
    else:
        yield


@pytest.mark.parametrize("name", catalog_names())
def test_float64_inputs_are_computed_in_float64(built, name, float64_arrays):
    import keras

    item, forms = _forms(built, name)
    tolerance = FLOAT64_ON_BACKEND[BACKEND]
    for label, params in samples.parameter_sets(item.spec).items():
        batch = samples.random_batch(item.spec, params, 2)
        y_true, y_pred = batch.y_true.astype("float64"), batch.y_pred.astype("float64")
        expected = numeric.evaluate(item, y_true, y_pred, params)
        calls = {
            "function": forms.function(params),
            "factory": forms.factory(params),
            "subclass": getattr(forms.module, forms.class_name)(**params, reduction=None, dtype="float64"),
        }
        for form, loss in calls.items():
            value = loss(y_true, y_pred)
            if BACKEND == "tensorflow":
                assert keras.backend.standardize_dtype(value.dtype) == "float64", (form, label)
            # Off TensorFlow, float32 accuracy: tiny values are compared with the largest.
            atol = 1e-12 if BACKEND == "tensorflow" else tolerance * float(np.max(np.abs(expected)))
            np.testing.assert_allclose(_np(value), expected, rtol=tolerance, atol=atol, err_msg=f"{form}, {label}")


@pytest.fixture
def floatx_float64(float64_arrays):
    import keras

    policy = keras.config.dtype_policy()
    keras.config.set_floatx("float64")
    keras.config.set_dtype_policy("float64")
    try:
        yield
    finally:
        keras.config.set_floatx("float32")
        keras.config.set_dtype_policy(policy)


@pytest.mark.parametrize("name", catalog_names())
def test_training_under_floatx_float64(built, name, floatx_float64):
    """A model built under ``set_floatx("float64")`` trains a step with the subclass form,
    and the loss it computes is the float64 evaluation of its predictions."""
    import keras

    item, forms = _forms(built, name)
    params = samples.parameter_sets(item.spec)["defaults"]
    rng = np.random.default_rng(6)
    y = samples.targets(item.spec, rng, batch=N)
    if item.spec.weighting.rule == "per_example":
        y = samples.pack(y, samples.tables(item.spec, rng, batch=N))
    x = rng.normal(size=(N, *samples.input_shape(item.spec, 4)))
    keras.utils.set_random_seed(1)
    model = model_for(item, params, samples.classes(item.spec), samples.input_shape(item.spec, 4))
    loss = forms.subclass_reduced(params)
    assert loss.dtype == "float64"
    tolerance = FLOAT64_ON_BACKEND[BACKEND]
    # Compiled on JAX, as JAX users train (jit): twice as fast there as an eager gradient
    # of the whole model. On TensorFlow tracing a graph costs more than the one eager step.
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss=loss, run_eagerly=BACKEND != "jax")
    predictions = model(x)
    assert keras.backend.standardize_dtype(predictions.dtype) == "float64"
    # The loss of the training step, computed on the predictions before the step updates
    # the weights: what the model trains on, without a separate eager call of the loss
    # (on JAX, a second compilation of every operation at float64).
    value = model.train_on_batch(x, y)
    expected = float(np.mean(numeric.evaluate(item, y.astype("float64"), _np(predictions), params)))
    assert value == pytest.approx(expected, rel=tolerance, abs=1e-12)
