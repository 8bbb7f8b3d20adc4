"""The three forms agree, return one value per sample, and match an independent oracle.

Oracles: the ``keras.losses`` twin named in the spec (compared on random inputs), or a
float64 NumPy reference written here from the loss's published definition, independent
of the spec's formula.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import SPECS, catalog_names, keras_twin_names

from generator.check import samples
from generator.check.harness import forms_of, import_path
from generator.spec.loader import load_spec

RTOL = 1e-5
ATOL = 1e-6


def _forms(built, name) -> tuple:
    item = load_spec(SPECS / f"{name}.yaml")
    module = import_path(built / "code" / f"{name}.py", f"lossgen_test_{name}")
    return item, forms_of(module, item)


def _np(x):
    import keras

    return np.asarray(keras.ops.convert_to_numpy(x), dtype="float64")


def _batches(item, params):
    return [samples.random_batch(item.spec, params, seed) for seed in range(3)] + samples.edge_batches(
        item.spec, params
    )


@pytest.mark.parametrize("params_label", ["defaults", "changed"])
@pytest.mark.parametrize("name", catalog_names())
def test_forms_agree_and_return_one_value_per_sample(built, name, params_label):
    item, forms = _forms(built, name)
    params = samples.parameter_sets(item.spec)[params_label]
    for batch in _batches(item, params):
        function = _np(forms.function(params)(batch.y_true, batch.y_pred))
        factory = _np(forms.factory(params)(batch.y_true, batch.y_pred))
        subclass = _np(forms.subclass(params)(batch.y_true, batch.y_pred))
        assert function.shape == (samples.BATCH,), batch.label
        np.testing.assert_allclose(factory, function, rtol=RTOL, atol=ATOL, err_msg=batch.label)
        np.testing.assert_allclose(subclass, function, rtol=RTOL, atol=ATOL, err_msg=batch.label)
    if params_label == "defaults":
        # The function form at its defaults is what `loss=<name>` compiles to.
        plain = getattr(forms.module, forms.view_name)
        batch = samples.random_batch(item.spec, params, 0)
        np.testing.assert_allclose(
            _np(plain(batch.y_true, batch.y_pred)), _np(forms.function(params)(batch.y_true, batch.y_pred))
        )


@pytest.mark.parametrize("params_label", ["defaults", "changed"])
@pytest.mark.parametrize("name", keras_twin_names())
def test_matches_keras_twin(built, name, params_label):
    import keras

    item, forms = _forms(built, name)
    params = samples.parameter_sets(item.spec)[params_label]
    twin = getattr(keras.losses, item.spec.keras.loss)
    reference = twin(**samples.twin_arguments(item.spec, params), reduction=None)
    for seed in range(5):
        batch = samples.random_batch(item.spec, params, seed)
        ours = _np(forms.subclass(params)(batch.y_true, batch.y_pred))
        theirs = _np(reference(batch.y_true, batch.y_pred))
        np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=ATOL, err_msg=f"seed {seed}")


KERAS_MODES = [
    ("binary_focal", {"apply_class_balancing": False}),
    ("binary_focal", {"label_smoothing": 0.2}),
    ("binary_focal", {"label_smoothing": 0.1, "from_logits": True}),
    ("sparse_categorical_crossentropy", {"ignore_class": 0}),
    ("sparse_categorical_crossentropy", {"ignore_class": 2, "from_logits": True}),
    ("categorical_focal", {"label_smoothing": 0.2}),
    ("categorical_focal", {"label_smoothing": 0.1, "from_logits": True}),
    ("dice", {"pool_batch": True}),
    ("tversky", {"pool_batch": True}),
    ("tversky", {"pool_batch": True, "alpha": 0.3, "beta": 0.7}),
]
"""Keras's documented modes, one at a time on top of the defaults (``changed`` moves every
parameter at once)."""


@pytest.mark.parametrize(("name", "mode"), KERAS_MODES, ids=lambda v: v if isinstance(v, str) else repr(v))
def test_keras_modes_match_the_builtin_with_the_same_arguments(built, name, mode):
    import keras

    item, forms = _forms(built, name)
    params = {**samples.parameter_sets(item.spec)["defaults"], **mode}
    reference = getattr(keras.losses, item.spec.keras.loss)(**samples.twin_arguments(item.spec, params), reduction=None)
    # Random batches, as for the twins: at logits of +-100 Keras's own focal loss clips the
    # sigmoid on JAX and PyTorch (and not on TensorFlow), where lossgen's stays exact.
    for batch in (samples.random_batch(item.spec, params, seed) for seed in range(5)):
        ours = _np(forms.subclass(params)(batch.y_true, batch.y_pred))
        np.testing.assert_allclose(
            ours, _np(reference(batch.y_true, batch.y_pred)), rtol=RTOL, atol=ATOL, err_msg=batch.label
        )


def class_axis_names() -> list[str]:
    """The catalog losses whose spec takes Keras's ``axis`` (``inputs.class_axis``)."""
    return [n for n in keras_twin_names() if load_spec(SPECS / f"{n}.yaml").spec.inputs.class_axis]


def _channels_first(item, params) -> tuple[np.ndarray, np.ndarray]:
    """Three random batches side by side on a new last axis, so that the classes (or
    features) sit on axis 1: ``(batch, classes, 3)``; class ids become ``(batch, 3)``."""
    batches = [samples.random_batch(item.spec, params, seed) for seed in range(3)]
    return np.stack([b.y_true for b in batches], axis=-1), np.stack([b.y_pred for b in batches], axis=-1)


@pytest.mark.parametrize("params_label", ["defaults", "changed"])
@pytest.mark.parametrize("name", class_axis_names())
def test_class_axis_matches_the_builtin(built, name, params_label):
    """``axis=1`` on channels-first inputs: all three forms against Keras's built-in with
    ``axis=1`` and with the classes moved last, and the float64 evaluator too."""
    import keras

    from generator.check.numeric import evaluate

    item, forms = _forms(built, name)
    params = samples.parameter_sets(item.spec)[params_label]
    first = {**params, item.spec.inputs.class_axis: 1}
    y_true, y_pred = _channels_first(item, params)
    assert len(y_true.shape) == 3 or item.spec.inputs.y_true.kind == "labels"
    twin = getattr(keras.losses, item.spec.keras.loss)
    last_true = np.moveaxis(y_true, 1, -1) if y_true.ndim == y_pred.ndim else y_true
    theirs = _np(
        twin(**samples.twin_arguments(item.spec, params), reduction=None)(last_true, np.moveaxis(y_pred, 1, -1))
    )
    assert theirs.shape == (samples.BATCH, 3)
    # Keras's sparse loss takes only axis=-1 on TensorFlow. Keras 3.15.1's categorical
    # losses smooth labels with the size of the last axis as the class count, whatever the
    # axis (losses.py: `ops.shape(y_true)[-1]`); lossgen uses the class axis's size.
    smoothing = params.get("label_smoothing") and y_true.shape[1] != y_true.shape[-1]
    if item.spec.inputs.y_true.kind != "labels" and not (smoothing and item.spec.inputs.y_true.kind == "one_hot"):
        direct = _np(twin(**samples.twin_arguments(item.spec, first), reduction=None)(y_true, y_pred))
        np.testing.assert_allclose(direct, theirs, rtol=RTOL, atol=ATOL)
    for form in (forms.function, forms.factory, forms.subclass):
        np.testing.assert_allclose(_np(form(first)(y_true, y_pred)), theirs, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(evaluate(item, y_true, y_pred, first), theirs, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("name", class_axis_names())
def test_class_axis_out_of_range_is_a_value_error(built, name):
    item, forms = _forms(built, name)
    params = samples.parameter_sets(item.spec)["defaults"]
    y_true, y_pred = _channels_first(item, params)
    with pytest.raises(ValueError, match=rf"{name}: axis=3 is not an axis of y_pred"):
        forms.subclass({**params, item.spec.inputs.class_axis: 3})(y_true, y_pred)


def test_keras_twins_are_not_trivially_equal_to_mse(built):
    """Guard against an oracle test that cannot fail: different losses give different values."""
    import keras

    batch = samples.random_batch(load_spec(SPECS / "mse.yaml").spec, {}, 0)
    mse = _np(keras.losses.MeanSquaredError(reduction=None)(batch.y_true, batch.y_pred))
    mae = _np(keras.losses.MeanAbsoluteError(reduction=None)(batch.y_true, batch.y_pred))
    assert not np.allclose(mse, mae)


@pytest.mark.parametrize("name", catalog_names())
def test_numpy_evaluator_used_for_plots_agrees_with_generated_code(built, name):
    """The plots are drawn from the formula evaluated with NumPy; they must show the same
    numbers as the generated Keras code."""
    from generator.check.numeric import evaluate

    item, forms = _forms(built, name)
    params = samples.parameter_sets(item.spec)["defaults"]
    for seed in range(2):
        batch = samples.random_batch(item.spec, params, seed)
        ours = _np(forms.function(params)(batch.y_true, batch.y_pred))
        plotted = evaluate(item, batch.y_true, batch.y_pred, params)
        np.testing.assert_allclose(plotted, ours, rtol=1e-4, atol=1e-6)
