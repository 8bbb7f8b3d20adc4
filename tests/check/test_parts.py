"""Packed predictions (``y_pred: {parts: ...}``): the checker samples each part inside its
domain at the declared width, the model it builds has one head per part, and a head of the
wrong width gets a ValueError that names the parts."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import SPECS, catalog_forms

from generator.check import harness, samples
from generator.spec import shapes
from generator.spec.loader import load_spec

PARTS = ("gamma", "nu", "alpha", "beta")


@pytest.fixture(scope="module")
def item():
    return load_spec(SPECS / "evidential_regression.yaml")


def test_sampled_parts_are_inside_their_domains_at_the_declared_width(item):
    spec = item.spec
    assert [name for name, _ in shapes.parts(spec)] == list(PARTS)
    width = samples.classes(spec)
    for seed in range(5):
        batch = samples.random_batch(spec, samples.parameter_sets(spec)["defaults"], seed)
        assert batch.y_pred.shape == (samples.BATCH, 4 * width)
        assert batch.y_true.shape == (samples.BATCH, width)
        gamma, nu, alpha, beta = np.split(batch.y_pred, 4, axis=-1)
        assert (nu > 0).all() and (alpha > 1).all() and (beta > 0).all()
        assert (gamma < 0).any(), "gamma is real: negative values are sampled too"
    for edge in samples.edge_batches(spec, {}):
        _, nu, alpha, beta = np.split(edge.y_pred, 4, axis=-1)
        assert (nu > 0).all() and (alpha > 1).all() and (beta > 0).all(), edge.label


def test_the_checker_model_has_one_head_per_part_in_its_domain(item):
    model = harness.build_model(item, {})
    x = np.random.default_rng(0).normal(size=(64, 5)).astype("float32") * 10
    out = np.asarray(model.predict(x, verbose=0))
    width = samples.classes(item.spec)
    assert out.shape == (64, 4 * width)
    _, nu, alpha, beta = np.split(out, 4, axis=-1)
    assert (nu >= 0).all() and (alpha >= 1).all() and (beta >= 0).all()


def test_a_head_of_the_wrong_width_gets_an_error_naming_the_parts(tmp_path):
    import keras

    forms = catalog_forms(tmp_path, "evidential_regression")
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="softplus")])
    model.compile(loss=forms.subclass_reduced({}))
    x, y = np.ones((8, 3), "float32"), np.ones((8, 1), "float32")
    with pytest.raises(ValueError, match=r"4 parts per target \(gamma, nu, alpha, beta\)") as caught:
        model.fit(x, y, verbose=0)
    assert "evidential_regression" in str(caught.value)
