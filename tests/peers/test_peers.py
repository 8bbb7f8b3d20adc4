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

import importlib
import os

import numpy as np
import pytest
from conftest import SPECS, catalog_names

from generator.check import samples
from generator.check.harness import import_path
from generator.spec.loader import load_spec
from generator.spec.names import KERAS_PEER_LIBRARIES, PEER_LIBRARIES, names

BACKEND = os.environ.get("KERAS_BACKEND", "tensorflow")
ON_TORCH = pytest.mark.skipif(BACKEND != "torch", reason="a PyTorch library: make test compares it in its PyTorch pass")
ON_TENSORFLOW = pytest.mark.skipif(
    BACKEND != "tensorflow", reason="a Keras library: make test compares it in its TensorFlow pass"
)


def is_keras_peer(peer) -> bool:
    """Whether the peer's library is built on Keras (compared on TensorFlow)."""
    return peer.call.partition(".")[0] in KERAS_PEER_LIBRARIES


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


def resolve(call: str):
    """The object a dotted name in a peer library names: the longest importable module
    prefix, then attributes."""
    parts = call.split(".")
    assert parts[0] in PEER_LIBRARIES, call
    for cut in range(len(parts), 0, -1):
        try:
            found = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attribute in parts[cut:]:
            found = getattr(found, attribute)
        return found
    raise ImportError(call)


def peer_loss(peer):
    """The peer as a callable of its inputs: a class built with the arguments, or a
    function given them."""
    target = resolve(peer.call)
    if "proxies" in peer.inputs:
        return with_identity_proxies(target, peer)
    if isinstance(target, type):
        return target(**tensor_matrices(peer.arguments))

    def call(*inputs):
        return target(*inputs, **tensor_matrices(peer.arguments))

    return call


def tensor_matrices(arguments: dict) -> dict:
    """The arguments with matrices (lists of rows, as YAML writes them) as tensors, since a
    peer may take a matrix as a tensor or array only (MONAI's ``dist_matrix``)."""
    import torch

    def is_matrix(value) -> bool:
        return isinstance(value, list) and bool(value) and all(isinstance(row, list) for row in value)

    return {k: torch.tensor(v) if is_matrix(v) else v for k, v in arguments.items()}


def with_identity_proxies(target, peer):
    """A pytorch-metric-learning proxy loss as a callable of ``(embeddings, labels)``, built
    for each call from ``y_pred``'s width: embedding size the width, one class per proxy
    (per ``centers_per_class`` proxies), an unnormalised dot product, and its proxy weights
    set to the identity, so that its similarities between embeddings and proxies are the
    embeddings themselves, that is ``y_pred``."""
    import inspect

    import torch
    from pytorch_metric_learning.distances import DotProductSimilarity

    def call(embeddings, labels):
        width = embeddings.shape[-1]
        sizes = {
            "embedding_size": width,
            "descriptors_dim": width,
            "num_classes": width // peer.arguments.get("centers_per_class", 1),
        }
        wanted = inspect.signature(target).parameters
        built = target(
            **{k: v for k, v in sizes.items() if k in wanted},
            **peer.arguments,
            distance=DotProductSimilarity(normalize_embeddings=False),
        )
        with torch.no_grad():
            for weights in built.parameters():
                weights.copy_(torch.eye(*weights.shape, dtype=weights.dtype))
        return built(embeddings, labels)

    return call


def hand_over(peer, y_true, y_pred) -> tuple:
    """The inputs in the peer's convention (schema.PeerInput)."""
    import torch

    order = "prediction_first"
    for step in peer.inputs:
        if step == "class_ids":
            y_true = torch.argmax(y_true, dim=-1)
        elif step == "channel_axis":
            y_true, y_pred = y_true.unsqueeze(1), y_pred.unsqueeze(1)
        elif step == "channels_first":
            if y_true.dim() == y_pred.dim():  # not a map of class ids (after class_ids)
                y_true = torch.movedim(y_true, -1, 1)
            y_pred = torch.movedim(y_pred, -1, 1)
        elif step == "flatten":
            y_true, y_pred = y_true.reshape(-1), y_pred.reshape(-1)
        elif step == "log_predictions":
            y_pred = torch.log(y_pred)
        elif step == "log_probabilities":
            y_true, y_pred = torch.log(y_true), torch.log(y_pred)
        elif step == "logits":
            y_pred = torch.logit(y_pred)
        elif step in ("per_sample", "positive_anchors"):
            pass  # handled by call_peer
        elif step == "proxies":
            order = "embeddings"  # the peer is built by with_identity_proxies
        elif step == "reference_embeddings":
            order = step
        elif step == "row_image":
            y_true, y_pred = y_true.unsqueeze(1), y_pred.unsqueeze(1).unsqueeze(1)
        elif step == "trailing_axis":
            y_true, y_pred = y_true.unsqueeze(-1), y_pred.unsqueeze(-1)
        else:
            order = step
    if order == "embeddings":
        return y_pred, y_true.reshape(-1).long()
    if order == "target_first":
        return y_true, y_pred
    if order == "two_views":
        half = y_pred.shape[0] // 2
        return y_pred[:half], y_pred[half:]
    if order == "reference_embeddings":
        return y_pred, None, None, y_true  # pytorch-metric-learning: (embeddings, labels, indices_tuple, ref_emb)
    return y_pred, y_true


def call_peer(theirs_fn, peer, y_true, y_pred):
    """The peer's output on the inputs in its convention; with ``per_sample``, one call
    per sample (each without its batch axis), stacked."""
    import torch

    def one(y_true, y_pred):
        out = theirs_fn(*hand_over(peer, y_true.clone(), y_pred))
        return out[0] if isinstance(out, tuple) else out  # some return (loss, extras)

    if "per_sample" in peer.inputs:
        return torch.stack([one(y_true[i], y_pred[i]) for i in range(y_true.shape[0])])
    if "positive_anchors" in peer.inputs:
        # The peer's mean over the anchors with another sample of their label, times their
        # share of the batch: the batch mean of a loss that is 0 for the other anchors.
        labels = y_true.reshape(-1)
        with_positive = (labels.unsqueeze(0) == labels.unsqueeze(1)).sum(dim=1) > 1
        return one(y_true, y_pred) * with_positive.sum() / labels.numel()
    return one(y_true, y_pred)


def compare(item, peer, module) -> None:
    """Both losses on random inputs (seeds 0 to 2): values, then gradients with respect to
    the prediction, within ``peer.tolerance`` relative (gradients: of the largest one)."""
    import torch

    ours_fn = getattr(module, names(item.spec).function)
    theirs_fn = peer_loss(peer)
    params = {**samples.parameter_sets(item.spec)["defaults"], **peer.params}

    def mean_nonzero(values):
        return values.sum() / torch.clamp((values > 0).sum(), min=1)

    reduce = {"mean": torch.mean, "sum": torch.sum, "none": torch.ravel, "mean_nonzero": mean_nonzero}[peer.reduction]
    for seed in SEEDS:
        batch = samples.random_batch(item.spec, params, seed)
        y_true = torch.tensor(batch.y_true)
        if "two_views" in peer.inputs:  # ids 0 .. N/2 - 1 twice: the halves are two views
            y_true = torch.arange(len(y_true)) % (len(y_true) // 2)
        if item.spec.inputs.y_true.kind == "labels":
            y_true = y_true.long()
        ours_pred = torch.tensor(batch.y_pred, requires_grad=True)
        ours = peer.scale * reduce(ours_fn(y_true, ours_pred, **params)) + peer.offset
        (ours_grad,) = torch.autograd.grad(ours.sum(), ours_pred)
        theirs_pred = torch.tensor(batch.y_pred, requires_grad=True)
        theirs = call_peer(theirs_fn, peer, y_true, theirs_pred)
        theirs = theirs.reshape(ours.shape)
        (theirs_grad,) = torch.autograd.grad(theirs.sum(), theirs_pred)
        assert_equal_to_peer(
            peer.tolerance,
            seed,
            (ours.detach().numpy(), theirs.detach().numpy()),
            (ours_grad.numpy(), theirs_grad.numpy()),
        )


def assert_equal_to_peer(tol: float, seed: int, values: tuple, gradients: tuple) -> None:
    """Ours against the peer's, as (ours, theirs) arrays: values within ``tol`` relative,
    gradients within ``tol`` of the peer's largest one."""
    value, expected = (np.asarray(v, dtype="float64") for v in values)
    np.testing.assert_allclose(value, expected, rtol=tol, atol=tol * 1e-2, err_msg=f"value, seed {seed}")
    ours_grad, theirs_grad = (np.asarray(g, dtype="float64") for g in gradients)
    scale = float(np.max(np.abs(theirs_grad))) or 1.0
    np.testing.assert_allclose(ours_grad, theirs_grad, rtol=tol, atol=tol * scale, err_msg=f"gradient, seed {seed}")


def hand_over_keras(peer, y_true, y_pred) -> tuple:
    """The inputs in a Keras peer's convention (schema.PeerInput), as TensorFlow tensors;
    ``target_first`` gives Keras's own order, ``peer(y_true, y_pred)``."""
    import tensorflow as tf

    order = "prediction_first"
    for step in peer.inputs:
        if step == "class_ids":
            y_true = tf.argmax(y_true, axis=-1)
        elif step == "flatten":
            y_true, y_pred = tf.reshape(y_true, [-1]), tf.reshape(y_pred, [-1])
        elif step == "logits":
            y_pred = tf.math.log(y_pred) - tf.math.log1p(-y_pred)
        elif step == "target_first":
            order = step
        elif step == "trailing_axis":
            y_true, y_pred = tf.expand_dims(y_true, -1), tf.expand_dims(y_pred, -1)
        else:
            raise NotImplementedError(f"the Keras peer test has no {step!r} convention yet")
    return (y_true, y_pred) if order == "target_first" else (y_pred, y_true)


def compare_keras(item, peer, module) -> None:
    """As :func:`compare`, for a Keras library on the TensorFlow backend: both losses and
    their gradients with respect to the prediction, through ``tf.GradientTape``."""
    import tensorflow as tf

    ours_fn = getattr(module, names(item.spec).function)
    theirs_fn = peer_loss(peer)
    params = {**samples.parameter_sets(item.spec)["defaults"], **peer.params}

    def mean_nonzero(values):
        return tf.reduce_sum(values) / tf.maximum(tf.reduce_sum(tf.cast(values > 0, values.dtype)), 1.0)

    def ravel(values):
        return tf.reshape(values, [-1])

    reduce = {"mean": tf.reduce_mean, "sum": tf.reduce_sum, "none": ravel, "mean_nonzero": mean_nonzero}[peer.reduction]
    for seed in SEEDS:
        batch = samples.random_batch(item.spec, params, seed)
        y_true = tf.constant(batch.y_true)
        if item.spec.inputs.y_true.kind == "labels":
            y_true = tf.cast(y_true, "int64")
        y_pred = tf.constant(batch.y_pred)
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(y_pred)
            ours = peer.scale * reduce(ours_fn(y_true, y_pred, **params)) + peer.offset
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
