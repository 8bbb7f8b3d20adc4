"""Every catalog loss against the same loss in the libraries users migrate from (a spec's
``peers``): both computed on the same random inputs with PyTorch, values and gradients
compared within the peer's tolerance (1e-5 relative unless the spec says otherwise).

The peers are PyTorch libraries, so these tests run in make test's PyTorch pass
(``KERAS_BACKEND=torch``), where the generated function computes with PyTorch too and both
gradients come from the same autograd. A peer's ``call`` is looked up by name in its
library; nothing in a spec is executed."""

from __future__ import annotations

import importlib
import os

import numpy as np
import pytest
from conftest import SPECS, catalog_names

from generator.check import samples
from generator.check.harness import import_path
from generator.spec.loader import load_spec
from generator.spec.names import PEER_LIBRARIES, names

pytestmark = pytest.mark.skipif(
    os.environ.get("KERAS_BACKEND") != "torch",
    reason="the peers are PyTorch libraries; make test runs these in its PyTorch pass",
)

ITEMS = {name: load_spec(SPECS / f"{name}.yaml") for name in catalog_names()}
CASES = [
    pytest.param(name, i, id=f"{name}-{peer.call.rsplit('.', 1)[-1]}-{i}")
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
    if isinstance(target, type):
        return target(**peer.arguments)

    def call(*inputs):
        return target(*inputs, **peer.arguments)

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
            y_true, y_pred = torch.movedim(y_true, -1, 1), torch.movedim(y_pred, -1, 1)
        elif step == "flatten":
            y_true, y_pred = y_true.reshape(-1), y_pred.reshape(-1)
        elif step == "log_probabilities":
            y_true, y_pred = torch.log(y_true), torch.log(y_pred)
        elif step == "logits":
            y_pred = torch.logit(y_pred)
        elif step == "per_sample":
            pass  # handled by call_peer
        elif step == "row_image":
            y_true, y_pred = y_true.unsqueeze(1), y_pred.unsqueeze(1).unsqueeze(1)
        else:
            order = step
    if order == "embeddings":
        return y_pred, y_true.reshape(-1).long()
    if order == "target_first":
        return y_true, y_pred
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
        if item.spec.inputs.y_true.kind == "labels":
            y_true = y_true.long()
        ours_pred = torch.tensor(batch.y_pred, requires_grad=True)
        ours = peer.scale * reduce(ours_fn(y_true, ours_pred, **params)) + peer.offset
        (ours_grad,) = torch.autograd.grad(ours.sum(), ours_pred)
        theirs_pred = torch.tensor(batch.y_pred, requires_grad=True)
        theirs = call_peer(theirs_fn, peer, y_true, theirs_pred)
        theirs = theirs.reshape(ours.shape)
        (theirs_grad,) = torch.autograd.grad(theirs.sum(), theirs_pred)
        value, expected = ours.detach().double().numpy(), theirs.detach().double().numpy()
        tol = peer.tolerance
        np.testing.assert_allclose(value, expected, rtol=tol, atol=tol * 1e-2, err_msg=f"value, seed {seed}")
        ours_grad, theirs_grad = ours_grad.double().numpy(), theirs_grad.double().numpy()
        scale = float(np.max(np.abs(theirs_grad))) or 1.0
        np.testing.assert_allclose(ours_grad, theirs_grad, rtol=tol, atol=tol * scale, err_msg=f"gradient, seed {seed}")


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
    compare(item, item.spec.peers[index], imported(name))


def test_a_wrong_mapping_fails(imported):
    """The comparison can fail: MONAI's Dice with a smoothing of 1 below the fraction."""
    item = ITEMS["dice"]
    (peer,) = [p for p in item.spec.peers if p.call == "monai.losses.DiceLoss"]
    wrong = peer.model_copy(update={"arguments": {"smooth_nr": 0.0, "smooth_dr": 1.0}})
    with pytest.raises(AssertionError, match="value, seed 0"):
        compare(item, wrong, imported("dice"))


def test_every_peer_names_a_callable_of_an_installed_library():
    """A typo in a spec's call would otherwise only show as a failing comparison."""
    for param in CASES:
        name, index = param.values
        peer = ITEMS[name].spec.peers[index]
        assert callable(resolve(peer.call)), peer.call
