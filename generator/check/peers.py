"""Calling the losses of the libraries users migrate from (a spec's ``peers``) on lossgen's
inputs: finding the call by name, building it with the spec's arguments, and handing the
targets and predictions over in the peer's convention (``schema.PeerInput``). Shared by the
peer tests (``tests/peers``), which compare values and gradients, and ``tools/bench.py``,
which times both. PyTorch and TensorFlow are imported inside the functions; nothing in a
spec is executed, a ``call`` is only looked up."""

from __future__ import annotations

import importlib

from generator.spec.names import KERAS_PEER_LIBRARIES, PEER_LIBRARIES


def is_keras_peer(peer) -> bool:
    """Whether the peer's library is built on Keras (compared on TensorFlow)."""
    return peer.call.partition(".")[0] in KERAS_PEER_LIBRARIES


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
    if "batch_hard" in peer.inputs:
        return with_batch_hard_miner(target, peer)
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
    at the first call of each width from ``y_pred``'s width: embedding size the width, one class per proxy
    (per ``centers_per_class`` proxies), an unnormalised dot product, and its proxy weights
    set to the identity, so that its similarities between embeddings and proxies are the
    embeddings themselves, that is ``y_pred``."""
    import inspect

    import torch
    from pytorch_metric_learning.distances import DotProductSimilarity

    built_for = {}  # by width and dtype: the weights stay the identity (nothing trains them)

    def call(embeddings, labels):
        width = embeddings.shape[-1]
        key = (width, embeddings.dtype)
        if key not in built_for:
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
            ).to(embeddings.dtype)
            with torch.no_grad():
                for weights in built.parameters():
                    weights.copy_(torch.eye(*weights.shape, dtype=weights.dtype))
            built_for[key] = built
        return built_for[key](embeddings, labels)

    return call


def with_batch_hard_miner(target, peer):
    """A pytorch-metric-learning tuple loss as a callable of ``(embeddings, labels)`` that
    is given the triplets of its ``BatchHardMiner``; both measure plain Euclidean distances,
    without normalising the embeddings first (the loss compared does not)."""
    from pytorch_metric_learning.distances import LpDistance
    from pytorch_metric_learning.miners import BatchHardMiner

    loss = target(distance=LpDistance(normalize_embeddings=False), **tensor_matrices(peer.arguments))
    miner = BatchHardMiner(distance=LpDistance(normalize_embeddings=False))

    def call(embeddings, labels):
        return loss(embeddings, labels, miner(embeddings, labels))

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
        elif step in ("proxies", "batch_hard"):
            order = "embeddings"  # the peer is built by with_identity_proxies or with_batch_hard_miner
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


def peer_targets(item, peer, y_true):
    """``y_true`` (a PyTorch tensor) as the comparison gives it to both sides: class ids as
    integers; for ``two_views`` and ``batch_hard``, the ids ``0 .. N/2 - 1`` twice, so that
    the batch's halves are two views of the same samples, each with one classmate."""
    import torch

    if "two_views" in peer.inputs or "batch_hard" in peer.inputs:
        y_true = torch.arange(len(y_true)) % (len(y_true) // 2)
    if item.spec.inputs.y_true.kind == "labels":
        y_true = y_true.long()
    return y_true


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


def ours_as_peer(peer, values):
    """lossgen's per-sample ``values`` in the peer's terms: reduced as the peer reduces
    (``peer.reduction``), then scaled and offset (``peer.scale``, ``peer.offset``). With
    ``keras.ops``, so on the backend's own tensors and differentiable by its autograd."""
    from keras import ops

    if peer.reduction == "mean":
        reduced = ops.mean(values)
    elif peer.reduction == "sum":
        reduced = ops.sum(values)
    elif peer.reduction == "none":
        reduced = ops.reshape(values, [-1])
    elif peer.reduction == "mean_nonzero":
        count = ops.sum(ops.cast(ops.greater(values, 0), values.dtype))
        reduced = ops.sum(values) / ops.maximum(count, 1)
    else:
        raise ValueError(f"unknown peer reduction {peer.reduction!r}")
    return peer.scale * reduced + peer.offset


def gradient_as_peer_sees_it(peer, gradient, y_pred):
    """lossgen's gradient with respect to ``y_pred`` (NumPy, classes last) as the peer can
    compute it. With ``log_predictions`` the peer applies a softmax to ``log(y_pred)``,
    which is ``y_pred / sum(y_pred)``: it cannot see a change of every class of a pixel by
    the same factor, and its gradient is ``g - (g . p)`` along the classes. The same
    projection is applied to lossgen's gradient. It changes nothing for a loss that
    normalises ``y_pred`` itself, and through a softmax layer both give the same gradient
    with respect to the logits. Other conventions leave the gradient as it is."""
    import numpy as np

    if "log_predictions" not in peer.inputs:
        return gradient
    gradient, y_pred = np.asarray(gradient, dtype="float64"), np.asarray(y_pred, dtype="float64")
    return gradient - np.sum(gradient * y_pred, axis=-1, keepdims=True)
