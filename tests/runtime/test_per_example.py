"""Per-example weights for any task (``weighting: {rule: per_example}`` on real targets):
the generated ``pack_<name>`` helper puts one weight behind each example's targets, and the
loss then equals Keras's own ``MeanSquaredError`` given the same weights as
``sample_weight``, on every backend."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import ROOT, spec_forms

SPEC = ROOT / "tests" / "fixtures" / "good" / "per_example_mse.yaml"
N = 24


@pytest.fixture(scope="module")
def forms(tmp_path_factory):
    return spec_forms(tmp_path_factory.mktemp("per_example"), SPEC)


def _np(x) -> np.ndarray:
    import keras

    return np.asarray(keras.ops.convert_to_numpy(x), dtype="float64")


@pytest.mark.parametrize("width", [1, 3])
def test_pack_puts_one_weight_behind_each_example(forms, width):
    rng = np.random.default_rng(0)
    y = rng.normal(size=(N, width)).astype("float32")
    w = rng.uniform(0.5, 2.0, N).astype("float32")
    packed = forms.module.pack_per_example_mse(y, w)
    assert isinstance(packed, np.ndarray) and packed.shape == (N, width + 1)
    np.testing.assert_array_equal(packed[:, :width], y)
    np.testing.assert_array_equal(packed[:, width], w)
    if width == 1:  # (N,) targets, as a Dense(1) head's users pass them, pack the same way
        np.testing.assert_array_equal(forms.module.pack_per_example_mse(y[:, 0], w), packed)


@pytest.mark.parametrize("width", [1, 3])
def test_packed_weights_equal_keras_sample_weight(forms, width):
    import keras

    rng = np.random.default_rng(1)
    y = rng.normal(size=(N, width)).astype("float32")
    p = rng.normal(size=(N, width)).astype("float32")
    w = rng.uniform(0.0, 2.0, N).astype("float32")
    packed = forms.module.pack_per_example_mse(y, w)
    expected = _np(keras.losses.MeanSquaredError()(y, p, sample_weight=w))
    per_sample = _np(keras.losses.MeanSquaredError(reduction=None)(y, p)) * w
    for name, loss in (("function", forms.function({})), ("factory", forms.factory({}))):
        np.testing.assert_allclose(_np(loss(packed, p)), per_sample, rtol=1e-6, atol=1e-7, err_msg=name)
    np.testing.assert_allclose(_np(forms.subclass_reduced({})(packed, p)), expected, rtol=1e-6, err_msg="class")


def test_a_model_fits_on_packed_targets_as_with_sample_weight(forms):
    """Inside ``evaluate``, packed targets give what ``sample_weight`` gives Keras's MSE."""
    import keras

    rng = np.random.default_rng(2)
    x = rng.normal(size=(N, 4)).astype("float32")
    y = rng.normal(size=(N,)).astype("float32")
    w = rng.uniform(0.0, 2.0, N).astype("float32")
    keras.utils.set_random_seed(3)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    model.compile(loss=forms.subclass_reduced({}))
    ours = model.evaluate(x, forms.module.pack_per_example_mse(y, w), batch_size=N, verbose=0)
    model.compile(loss=keras.losses.MeanSquaredError())
    theirs = model.evaluate(x, y, sample_weight=w, batch_size=N, verbose=0)
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)
