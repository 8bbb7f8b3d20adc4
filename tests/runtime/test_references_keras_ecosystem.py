"""The catalog losses whose peers are Keras libraries (KerasCV, Keras Recommenders) or
TensorFlow Addons, against float64 NumPy references.

Each reference is written here from the paper's definition, with explicit loops over
boxes, pixels, list positions and pairs, not from the spec's vectorised formula: the boxes'
heights, widths and angles one by one for the IoU family, the sorted list for ListMLE, and
the sparsemax threshold found by walking down the sorted logits, as Martins and Astudillo
describe it. The comparison with the libraries themselves is tests/peers.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import assert_matches_reference, catalog_forms

EPS = 1e-7


# ------------------------------------------------------------------ boxes


def _box_geometry(t, p):
    """Per box pair: IoU, squared centre distance, squared enclosing diagonal, and the
    (height, width) of each box; boxes are (y_min, x_min, y_max, x_max)."""
    out = []
    for a, b in zip(t, p, strict=True):
        ha, wa = max(a[2] - a[0], 0.0), max(a[3] - a[1], 0.0)
        hb, wb = max(b[2] - b[0], 0.0), max(b[3] - b[1], 0.0)
        inter_h = max(min(a[2], b[2]) - max(a[0], b[0]), 0.0)
        inter_w = max(min(a[3], b[3]) - max(a[1], b[1]), 0.0)
        inter = inter_h * inter_w
        union = ha * wa + hb * wb - inter
        iou = inter / union if union > 0 else 0.0
        centre = ((a[0] + a[2]) / 2 - (b[0] + b[2]) / 2) ** 2 + ((a[1] + a[3]) / 2 - (b[1] + b[3]) / 2) ** 2
        enclosing = (max(a[2], b[2]) - min(a[0], b[0])) ** 2 + (max(a[3], b[3]) - min(a[1], b[1])) ** 2
        out.append((iou, centre, enclosing, (ha, wa), (hb, wb)))
    return out


def iou(t, p, exponent=1.0):
    return np.array([1.0 - g[0] ** exponent for g in _box_geometry(t, p)])


def log_iou(t, p):
    return np.array([-math.log(max(g[0], EPS)) for g in _box_geometry(t, p)])


def ciou(t, p, aspect_scale=4 / math.pi**2, constant_tradeoff=True):
    # Zheng et al. (2020): 1 - IoU + rho^2 / c^2 + alpha v, with
    # v = (4 / pi^2) (arctan(w_gt / h_gt) - arctan(w / h))^2 and alpha = v / ((1 - IoU) + v).
    # Holding alpha constant changes the gradient only, not the value.
    del constant_tradeoff
    out = []
    for overlap, centre, enclosing, (ht, wt), (hp, wp) in _box_geometry(t, p):
        v = aspect_scale * (math.atan(wt / ht) - math.atan(wp / hp)) ** 2
        alpha = v / ((1 - overlap) + v) if v > 0 else 0.0
        out.append(1 - overlap + centre / enclosing + alpha * v)
    return np.array(out)


# ------------------------------------------------------------------ heatmaps


def penalty_reduced_focal(t, p, alpha=2.0, beta=4.0, positive_threshold=0.99, from_logits=False, per_peak=True):
    # Zhou et al. (2019), equation 1: peaks pay -(1 - p)^alpha log p, the other pixels
    # -(1 - y)^beta p^alpha log(1 - p); the sum is divided by the number of peaks.
    out = []
    for targets, scores in zip(t, p, strict=True):
        total, peaks = 0.0, 0
        for y, s in zip(targets, scores, strict=True):
            y = min(max(y, 0.0), 1.0)
            q = 1 / (1 + math.exp(-s)) if from_logits else min(max(s, EPS), 1 - EPS)
            if y > positive_threshold:
                peaks += 1
                total += -((1 - q) ** alpha) * math.log(q)
            else:
                total += -((1 - y) ** beta) * q**alpha * math.log(1 - q)
        out.append(total / max(peaks, 1) if per_peak else total / len(targets))
    return np.array(out)


# ------------------------------------------------------------------ ranking


def listmle(t, p, temperature=1.0):
    # Xia et al. (2008): sort by label, highest first (ties keep their list order), then
    # -sum_i log(exp(s_pi(i)) / sum_{k >= i} exp(s_pi(k))).
    out = []
    for labels, scores in zip(t, p, strict=True):
        order = sorted(range(len(labels)), key=lambda k: -labels[k])
        s = [scores[k] / temperature for k in order]
        total = 0.0
        for i in range(len(s)):
            rest = s[i:]
            peak = max(rest)
            total += peak + math.log(sum(math.exp(x - peak) for x in rest)) - s[i]
        out.append(total)
    return np.array(out)


def pairwise_soft_zero_one(t, p, temperature=1.0, average_pairs=True):
    out = []
    for labels, scores in zip(t, p, strict=True):
        n = len(labels)
        terms = [
            1 - 1 / (1 + math.exp(-(scores[i] - scores[j]) / temperature))
            for i in range(n)
            for j in range(n)
            if labels[i] > labels[j]
        ]
        out.append(sum(terms) / max(len(terms), 1) if average_pairs else sum(terms) / n)
    return np.array(out)


def pairwise_mse(t, p, average_pairs=True):
    out = []
    for labels, scores in zip(t, p, strict=True):
        n = len(labels)
        terms = [((labels[i] - labels[j]) - (scores[i] - scores[j])) ** 2 for i in range(n) for j in range(n) if i != j]
        out.append(sum(terms) / len(terms) if average_pairs else sum(terms) / n)
    return np.array(out)


# ------------------------------------------------------------------ sparsemax


def _sparsemax(z):
    # Martins and Astudillo (2016), algorithm 1: sort, find the support size k(z), then
    # tau = (sum of the k largest - 1) / k.
    ordered = sorted(z, reverse=True)
    running, k, top = 0.0, 0, 0.0
    for j, value in enumerate(ordered, start=1):
        running += value
        if 1 + j * value > running:
            k, top = j, running
    tau = (top - 1) / k
    return np.array([max(value - tau, 0.0) for value in z]), tau


def sparsemax(t, p):
    # L(z; q) = -q.z + 1/2 sum_{j in S(z)} (z_j^2 - tau^2) + 1/2 ||q||^2.
    out = []
    for q, z in zip(t, p, strict=True):
        probs, tau = _sparsemax(z)
        support = sum(z_j**2 - tau**2 for z_j, pr in zip(z, probs, strict=True) if pr > 0)
        out.append(-np.dot(q, z) + 0.5 * support + 0.5 * np.dot(q, q))
    return np.array(out)


REFERENCES = {
    "ciou": ciou,
    "iou": iou,
    "log_iou": log_iou,
    "penalty_reduced_focal": penalty_reduced_focal,
    "listmle": listmle,
    "pairwise_soft_zero_one": pairwise_soft_zero_one,
    "pairwise_mse": pairwise_mse,
    "sparsemax": sparsemax,
}


@pytest.mark.parametrize("params_label", ["defaults", "changed"])
@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_matches_numpy_reference(tmp_path, name, params_label):
    assert_matches_reference(tmp_path, name, params_label, REFERENCES[name])


@pytest.mark.tensorflow_only
def test_sparsemax_gradient_is_sparsemax_minus_target_and_a_margin_of_one_costs_nothing(tmp_path):
    """The paper's two properties of the loss: its gradient with respect to the logits is
    sparsemax(z) - q, and a one-hot target whose logit leads the others by 1 or more costs 0."""
    import tensorflow as tf

    loss = catalog_forms(tmp_path, "sparsemax").function({})
    rng = np.random.default_rng(5)
    z = rng.normal(scale=2.0, size=(6, 5))
    q = np.eye(5)[rng.integers(0, 5, size=6)]
    q[0] = [0.5, 0.5, 0.0, 0.0, 0.0]  # a multi-label row
    logits = tf.constant(z, dtype="float64")
    with tf.GradientTape() as tape:
        tape.watch(logits)
        total = tf.reduce_sum(loss(tf.constant(q), logits))
    expected = np.array([_sparsemax(row)[0] for row in z]) - q
    np.testing.assert_allclose(tape.gradient(total, logits).numpy(), expected, atol=1e-12)
    margin = np.array([[3.0, 2.0, 1.5, -1.0]])
    np.testing.assert_allclose(loss(np.array([[1.0, 0, 0, 0]]), margin), [0.0], atol=1e-7)
    assert float(loss(np.array([[1.0, 0, 0, 0]]), np.array([[2.9, 2.0, 1.5, -1.0]]))[0]) > 0


def test_listmle_breaks_ties_by_list_order(tmp_path):
    """Tied labels are ranked in the order they appear in the list, as the reference's
    stable sort does; the result depends on that order."""
    import keras

    loss = catalog_forms(tmp_path, "listmle").function({})
    y_true = np.array([[1.0, 2.0, 1.0, 0.0, 2.0]])
    y_pred = np.array([[0.3, -1.2, 2.0, 0.5, 0.9]])
    ours = keras.ops.convert_to_numpy(loss(y_true, y_pred))
    np.testing.assert_allclose(ours, listmle(y_true, y_pred), rtol=1e-6)
    swapped = keras.ops.convert_to_numpy(loss(y_true[:, ::-1].copy(), y_pred[:, ::-1].copy()))
    assert abs(float(swapped[0]) - float(ours[0])) > 1e-3


@pytest.mark.tensorflow_only
def test_log_iou_equals_keras_cv_where_the_boxes_overlap(tmp_path):
    """KerasCV's `IoULoss(mode="log")` is no peer (it is infinite for boxes apart), but
    where the boxes overlap the two agree."""
    keras_cv = pytest.importorskip("keras_cv")
    from generator.check import samples

    rng = np.random.default_rng(7)
    y_true = samples.boxes(rng, 32)
    y_pred = y_true + rng.uniform(-0.05, 0.05, size=y_true.shape)
    peer = keras_cv.losses.IoULoss("yxyx", mode="log", axis="no_reduction", reduction=None)
    with pytest.warns(UserWarning, match="no_reduction"):
        theirs = np.asarray(peer(y_true.astype("float32"), y_pred.astype("float32")))
    ours = np.asarray(catalog_forms(tmp_path, "log_iou").function({})(y_true, y_pred.astype("float32")))
    np.testing.assert_allclose(ours, theirs, rtol=1e-4)
    np.testing.assert_allclose(ours, log_iou(y_true, y_pred), rtol=1e-5, atol=1e-6)


@pytest.mark.tensorflow_only
def test_ciou_holds_its_tradeoff_weight_constant_in_the_gradient(tmp_path):
    """With `constant_tradeoff` (the default) the gradient is that of
    1 - IoU + rho^2 / c^2 + alpha v with alpha frozen at its value; central differences of
    the float64 reference with alpha frozen give it."""
    import tensorflow as tf

    from generator.check import samples

    rng = np.random.default_rng(11)
    y_true, y_pred = samples.boxes(rng, 8), samples.boxes(rng, 8)
    frozen = []
    for overlap, _, _, (ht, wt), (hp, wp) in _box_geometry(y_true, y_pred):
        v = (4 / math.pi**2) * (math.atan(wt / ht) - math.atan(wp / hp)) ** 2
        frozen.append(v / ((1 - overlap) + v))

    def with_frozen_alpha(p):
        out = []
        for a, (overlap, centre, enclosing, (ht, wt), (hp, wp)) in zip(frozen, _box_geometry(y_true, p), strict=True):
            v = (4 / math.pi**2) * (math.atan(wt / ht) - math.atan(wp / hp)) ** 2
            out.append(1 - overlap + centre / enclosing + a * v)
        return np.array(out)

    step, expected = 1e-6, np.zeros_like(y_pred)
    for i in range(y_pred.shape[0]):
        for j in range(4):
            up, down = y_pred.copy(), y_pred.copy()
            up[i, j] += step
            down[i, j] -= step
            expected[i, j] = (with_frozen_alpha(up)[i] - with_frozen_alpha(down)[i]) / (2 * step)
    prediction = tf.constant(y_pred)
    with tf.GradientTape() as tape:
        tape.watch(prediction)
        total = tf.reduce_sum(catalog_forms(tmp_path, "ciou").function({})(tf.constant(y_true), prediction))
    np.testing.assert_allclose(tape.gradient(total, prediction).numpy(), expected, atol=1e-6)
