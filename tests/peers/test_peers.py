"""Every catalog loss against the same loss in the libraries users migrate from (a spec's
``peers``): both computed on the same random inputs, values and gradients compared within
the peer's tolerance (1e-5 relative unless the spec says otherwise).

The PyTorch libraries (MONAI, kornia, pytorch-metric-learning, torchmetrics) are compared in
make test's PyTorch pass (``KERAS_BACKEND=torch``), where the generated function computes
with PyTorch too and both gradients come from the same autograd. The Keras libraries
(KerasCV, Keras Recommenders) are compared in the TensorFlow pass, both gradients from
``tf.GradientTape``. Each case skips in the other pass. A peer's ``call`` is looked up by
name in its library; nothing in a spec is executed."""

from __future__ import annotations

import os

import numpy as np
import pytest
from conftest import SPECS, catalog_names

from generator.check import samples
from generator.check.harness import import_path
from generator.check.peers import (
    call_peer,
    gradient_as_peer_sees_it,
    hand_over_keras,
    is_keras_peer,
    ours_as_peer,
    peer_loss,
    peer_targets,
    resolve,
)
from generator.spec.loader import load_spec
from generator.spec.names import names

BACKEND = os.environ.get("KERAS_BACKEND", "tensorflow")
ON_TORCH = pytest.mark.skipif(BACKEND != "torch", reason="a PyTorch library: make test compares it in its PyTorch pass")
ON_TENSORFLOW = pytest.mark.skipif(
    BACKEND != "tensorflow", reason="a Keras library: make test compares it in its TensorFlow pass"
)


ITEMS = {name: load_spec(SPECS / f"{name}.yaml") for name in catalog_names()}
CASES = [
    pytest.param(
        name,
        i,
        id=f"{name}-{peer.call.rsplit('.', 1)[-1]}-{i}",
        marks=ON_TENSORFLOW if is_keras_peer(peer) else ON_TORCH,
    )
    for name, item in ITEMS.items()
    for i, peer in enumerate(item.spec.peers)
]
SEEDS = (0, 1, 2)


def compare(item, peer, module) -> None:
    """Both losses on random inputs (seeds 0 to 2): values, then gradients with respect to
    the prediction, within ``peer.tolerance`` relative (gradients: of the largest one)."""
    import torch

    ours_fn = getattr(module, names(item.spec).function)
    theirs_fn = peer_loss(peer)
    params = {**samples.parameter_sets(item.spec)["defaults"], **peer.params}

    for seed in SEEDS:
        batch = samples.random_batch(item.spec, params, seed)
        y_true = peer_targets(item, peer, torch.tensor(batch.y_true))
        ours_pred = torch.tensor(batch.y_pred, requires_grad=True)
        ours = ours_as_peer(peer, ours_fn(y_true, ours_pred, **params))
        (ours_grad,) = torch.autograd.grad(ours.sum(), ours_pred)
        theirs_pred = torch.tensor(batch.y_pred, requires_grad=True)
        theirs = call_peer(theirs_fn, peer, y_true, theirs_pred)
        theirs = theirs.reshape(ours.shape)
        (theirs_grad,) = torch.autograd.grad(theirs.sum(), theirs_pred)
        assert_equal_to_peer(
            peer.tolerance,
            seed,
            (ours.detach().numpy(), theirs.detach().numpy()),
            (gradient_as_peer_sees_it(peer, ours_grad.numpy(), batch.y_pred), theirs_grad.numpy()),
        )


def assert_equal_to_peer(tol: float, seed: int, values: tuple, gradients: tuple) -> None:
    """Ours against the peer's, as (ours, theirs) arrays: values within ``tol`` relative,
    gradients within ``tol`` of the peer's largest one."""
    value, expected = (np.asarray(v, dtype="float64") for v in values)
    np.testing.assert_allclose(value, expected, rtol=tol, atol=tol * 1e-2, err_msg=f"value, seed {seed}")
    ours_grad, theirs_grad = (np.asarray(g, dtype="float64") for g in gradients)
    scale = float(np.max(np.abs(theirs_grad))) or 1.0
    np.testing.assert_allclose(ours_grad, theirs_grad, rtol=tol, atol=tol * scale, err_msg=f"gradient, seed {seed}")


def compare_keras(item, peer, module) -> None:
    """As :func:`compare`, for a Keras library on the TensorFlow backend: both losses and
    their gradients with respect to the prediction, through ``tf.GradientTape``."""
    import tensorflow as tf

    ours_fn = getattr(module, names(item.spec).function)
    theirs_fn = peer_loss(peer)
    params = {**samples.parameter_sets(item.spec)["defaults"], **peer.params}

    for seed in SEEDS:
        batch = samples.random_batch(item.spec, params, seed)
        y_true = tf.constant(batch.y_true)
        if item.spec.inputs.y_true.kind == "labels":
            y_true = tf.cast(y_true, "int64")
        y_pred = tf.constant(batch.y_pred)
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(y_pred)
            ours = ours_as_peer(peer, ours_fn(y_true, y_pred, **params))
            theirs = theirs_fn(*hand_over_keras(peer, y_true, y_pred))
            theirs = tf.reshape(theirs, tf.shape(ours))
            ours_total, theirs_total = tf.reduce_sum(ours), tf.reduce_sum(theirs)
        gradients = (tape.gradient(ours_total, y_pred).numpy(), tape.gradient(theirs_total, y_pred).numpy())
        assert_equal_to_peer(peer.tolerance, seed, (ours.numpy(), theirs.numpy()), gradients)


@pytest.fixture(scope="module")
def imported(built):
    """The catalog's generated modules, imported once each."""
    cache = {}

    def module(name: str):
        if name not in cache:
            cache[name] = import_path(built / "code" / f"{name}.py", f"lossgen_peer_{name}")
        return cache[name]

    return module


@pytest.mark.parametrize("name, index", CASES)
def test_equals_its_peer(imported, name, index):
    item = ITEMS[name]
    peer = item.spec.peers[index]
    (compare_keras if is_keras_peer(peer) else compare)(item, peer, imported(name))


@ON_TORCH
def test_a_wrong_mapping_fails(imported):
    """The comparison can fail: MONAI's Dice with a smoothing of 1 below the fraction."""
    item = ITEMS["dice"]
    peer = next(p for p in item.spec.peers if p.call == "monai.losses.DiceLoss" and "batch" not in p.arguments)
    wrong = peer.model_copy(update={"arguments": {"smooth_nr": 0.0, "smooth_dr": 1.0}})
    with pytest.raises(AssertionError, match="value, seed 0"):
        compare(item, wrong, imported("dice"))


@ON_TENSORFLOW
def test_a_wrong_keras_mapping_fails(imported):
    """The TensorFlow comparison can fail too: KerasCV's CIoU against the paper's shape term."""
    item = ITEMS["ciou"]
    (peer,) = [p for p in item.spec.peers if p.call == "keras_cv.losses.CIoULoss"]
    wrong = peer.model_copy(update={"params": {**peer.params, "aspect_scale": 0.40528473456935109}})
    with pytest.raises(AssertionError, match="value, seed 0"):
        compare_keras(item, wrong, imported("ciou"))


@pytest.mark.skipif(BACKEND not in ("torch", "tensorflow"), reason="the peers run on PyTorch and TensorFlow")
def test_every_peer_names_a_callable_of_an_installed_library():
    """A typo in a spec's call would otherwise only show as a failing comparison; each
    pass looks up the libraries it compares."""
    for param in CASES:
        name, index = param.values
        peer = ITEMS[name].spec.peers[index]
        if is_keras_peer(peer) == (BACKEND == "tensorflow"):
            assert callable(resolve(peer.call)), peer.call


def test_the_log_predictions_projection_removes_only_what_the_peer_cannot_see():
    """A peer given log(y_pred) sees y_pred / sum(y_pred): lossgen's gradient is compared
    after removing its component along (1, ..., 1) per pixel, weighted by y_pred. That
    leaves a gradient the peer could give unchanged (applying it twice changes nothing),
    and removes exactly a per-pixel constant."""
    from types import SimpleNamespace

    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(4), size=(3, 5))
    g = rng.normal(size=(3, 5, 4))
    peer = SimpleNamespace(inputs=["log_predictions", "channels_first"])
    once = gradient_as_peer_sees_it(peer, g, p)
    np.testing.assert_allclose(gradient_as_peer_sees_it(peer, once, p), once, atol=1e-12)
    np.testing.assert_allclose(np.ptp(g - once, axis=-1), 0.0, atol=1e-12)
    assert not np.allclose(once, g)
    other = SimpleNamespace(inputs=["class_ids"])
    assert gradient_as_peer_sees_it(other, g, p) is g
