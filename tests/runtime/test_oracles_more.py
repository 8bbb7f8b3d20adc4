"""More catalog losses without a Keras twin, against float64 NumPy references.

Each reference is written here from the loss's published definition (the paper or the
library named in the spec), not by translating the spec's formula: per-class weights are
looked up by index, margins are applied to the true class's entry, pairs are counted in
plain loops. The references receive ``y_true`` and ``y_pred`` as made by
``generator.check.samples`` for the spec's input kinds, and the parameters as keywords.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import SPECS, assert_matches_reference, catalog_forms

EPS = 1e-7


def _softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _log_softmax(x):
    shifted = x - x.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _rows(y_true):
    """Indices of the true classes of one-hot rows."""
    return np.argmax(y_true, axis=-1)


def class_balanced(t, p, samples_per_class=(100.0, 20.0, 5.0), beta=0.999, from_logits=False):
    # Cui et al. (2019), eq. (8) and the text after it: weight 1 / E_n with the effective
    # number E_n = (1 - beta^n) / (1 - beta), normalised to sum to the number of classes.
    n = np.asarray(samples_per_class, dtype=float)
    effective_number = (1.0 - beta**n) / (1.0 - beta)
    weights = 1.0 / effective_number
    weights = weights * len(n) / weights.sum()
    if from_logits:
        log_p = _log_softmax(p)
    else:
        log_p = np.log(np.clip(p / p.sum(axis=-1, keepdims=True), EPS, 1 - EPS))
    y = _rows(t)
    picked = log_p[np.arange(len(y)), y]
    return -weights[y] * picked


def asymmetric(t, p, gamma_pos=0.0, gamma_neg=4.0, margin=0.05, detach_weights=False, from_logits=False):
    # Ridnik et al. (2021), eqs. (6)-(7): L+ = (1 - p)^g+ log(p), L- = p_m^g- log(1 - p_m)
    # with p_m = max(p - m, 0); the loss of a sample sums -L over its labels.
    # detach_weights changes gradients only, not values.
    prob = _sigmoid(p) if from_logits else p
    shifted = np.maximum(prob - margin, 0.0)
    positive = (1.0 - prob) ** gamma_pos * np.log(prob)
    negative = shifted**gamma_neg * np.log(1.0 - shifted)
    return -np.where(t == 1, positive, negative).sum(axis=-1)


def ldam(t, z, samples_per_class=(100.0, 20.0, 5.0), max_margin=0.5, scale=30.0):
    # Cao et al. (2019), eq. (13): margin_j = C / n_j^(1/4), C so that the largest margin
    # is max_margin; the true class's logit loses its margin, then everything is scaled.
    n = np.asarray(samples_per_class, dtype=float)
    margins = 1.0 / n**0.25
    margins = margins * max_margin / margins.max()
    out = []
    for row, y in zip(z, _rows(t), strict=True):
        logits = row.copy()
        logits[y] -= margins[y]
        logits = scale * logits
        top = logits.max()
        out.append(top + np.log(np.exp(logits - top).sum()) - logits[y])
    return np.array(out)


def smooth_l1(t, p, beta=1.0):
    # PyTorch's SmoothL1Loss definition, averaged over the last axis.
    x = np.abs(p - t)
    return np.mean(np.where(x < beta, 0.5 * x**2 / beta, x - 0.5 * beta), axis=-1)


def sparse_categorical_focal(t, p, alpha=0.25, gamma=2.0, from_logits=False):
    # Lin et al. (2017), FL(p_t) = -alpha (1 - p_t)^gamma log(p_t) for the true class,
    # with Keras's renormalising and clipping of the probabilities.
    probs = _softmax(p) if from_logits else p / p.sum(axis=-1, keepdims=True)
    labels = t.astype(int).reshape(-1)
    p_t = np.clip(probs[np.arange(len(labels)), labels], EPS, 1 - EPS)
    return -alpha * (1.0 - p_t) ** gamma * np.log(p_t)


def poly1(t, p, epsilon_1=1.0, from_logits=False):
    # Leng et al. (2022), eq. (3): L = -log(P_t) + epsilon_1 (1 - P_t), with the
    # crossentropy and P_t of (possibly smoothed) targets as in the paper's code listing.
    probs = _softmax(p) if from_logits else p / p.sum(axis=-1, keepdims=True)
    crossentropy = -(t * np.log(probs)).sum(axis=-1)
    p_t = (t * probs).sum(axis=-1)
    return crossentropy + epsilon_1 * (1.0 - p_t)


def symmetric_crossentropy(t, p, alpha=0.1, beta=1.0, from_logits=False):
    # Wang et al. (2019): alpha * CE + beta * RCE, where RCE = -sum_k p(k) log q(k) with
    # log 0 replaced by the constant A = log(1e-4) of the authors' code.
    probs = _softmax(p) if from_logits else p
    crossentropy = -(t * np.log(probs)).sum(axis=-1)
    log_target = np.where(t > 0, np.log(np.where(t > 0, t, 1.0)), np.log(1e-4))
    reverse = -(probs * log_target).sum(axis=-1)
    return alpha * crossentropy + beta * reverse


def soft_margin(t, x):
    # PyTorch's SoftMarginLoss: mean of log(1 + exp(-y x)).
    return np.mean(np.log1p(np.exp(-t * x)), axis=-1)


def cosface(t, cos, scale=30.0, margin=0.35):
    # Wang et al. (2018), eq. (4): -log(e^{s(cos_y - m)} / (e^{s(cos_y - m)} + sum_{j!=y} e^{s cos_j})).
    out = []
    for row, y in zip(cos, _rows(t), strict=True):
        target = np.exp(scale * (row[y] - margin))
        others = sum(np.exp(scale * row[j]) for j in range(len(row)) if j != y)
        out.append(-np.log(target / (target + others)))
    return np.array(out)


def js_divergence(t, p):
    # Lin (1991): JS(P, Q) = (KL(P || M) + KL(Q || M)) / 2 with M = (P + Q) / 2.
    m = (t + p) / 2

    def kl(a, b):
        return (a * np.log(a / b)).sum(axis=-1)

    return 0.5 * kl(t, m) + 0.5 * kl(p, m)


def listnet(t, s, linear_target=False):
    # Cao et al. (2007), top-one probabilities with phi = exp; TF-Ranking's SoftmaxLoss
    # normalises the labels by their sum instead.
    if linear_target:
        target = t / t.sum(axis=-1, keepdims=True)
    else:
        target = np.exp(t) / np.exp(t).sum(axis=-1, keepdims=True)
    predicted = np.exp(s) / np.exp(s).sum(axis=-1, keepdims=True)
    return -(target * np.log(predicted)).sum(axis=-1)


def _pairwise(t, s, cost, average_pairs=True):
    out = []
    for grades, scores in zip(t, s, strict=True):
        costs = [
            cost(scores[i] - scores[j]) for i in range(len(grades)) for j in range(len(grades)) if grades[i] > grades[j]
        ]
        if not average_pairs:  # Keras Recommenders: the sum over pairs divided by the list size
            out.append(sum(costs) / len(grades))
        else:
            out.append(np.mean(costs) if costs else 0.0)
    return np.array(out)


def ranknet(t, s, average_pairs=True):
    # Burges et al. (2005): crossentropy of sigmoid(s_i - s_j) against target 1 for every
    # pair with y_i > y_j, averaged over those pairs.
    return _pairwise(t, s, lambda d: np.log1p(np.exp(-d)), average_pairs)


def pairwise_hinge(t, s, margin=1.0, average_pairs=True):
    return _pairwise(t, s, lambda d: max(0.0, margin - d), average_pairs)


def log_cosh_dice(t, p):
    # Jadon (2020): log(cosh(DL)), DL the Dice loss with epsilon in the denominator.
    dice_loss = 1.0 - 2.0 * (t * p).sum(axis=-1) / (t.sum(axis=-1) + p.sum(axis=-1) + EPS)
    return np.log(np.cosh(dice_loss))


def berhu(t, p, threshold=0.2):
    # Owen (2007): |x| for |x| <= c, (x^2 + c^2) / (2c) beyond.
    x = np.abs(p - t)
    return np.mean(np.where(x <= threshold, x, (x**2 + threshold**2) / (2 * threshold)), axis=-1)


REFERENCES = {
    "class_balanced": class_balanced,
    "asymmetric": asymmetric,
    "ldam": ldam,
    "smooth_l1": smooth_l1,
    "sparse_categorical_focal": sparse_categorical_focal,
    "poly1": poly1,
    "symmetric_crossentropy": symmetric_crossentropy,
    "soft_margin": soft_margin,
    "cosface": cosface,
    "js_divergence": js_divergence,
    "listnet": listnet,
    "ranknet": ranknet,
    "pairwise_hinge": pairwise_hinge,
    "log_cosh_dice": log_cosh_dice,
    "berhu": berhu,
}


@pytest.mark.parametrize("params_label", ["defaults", "changed"])
@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_matches_numpy_reference(tmp_path, name, params_label):
    assert_matches_reference(tmp_path, name, params_label, REFERENCES[name])


# ---------------------------------------------------------------- cases pinned by hand


def _values(loss, y_true, y_pred):
    import keras

    return np.asarray(keras.ops.convert_to_numpy(loss(y_true, y_pred)), dtype="float64")


@pytest.mark.parametrize("name", ["ranknet", "pairwise_hinge"])
def test_pairwise_losses_by_hand(tmp_path, name):
    """Grades (2, 1, 0): three ordered pairs. Equal scores cost log 2 (ranknet) or the
    margin (hinge) per pair; a list with equal grades has no pair and costs 0."""
    forms = catalog_forms(tmp_path, name)
    y_true = np.array([[2.0, 1.0, 0.0], [2.0, 1.0, 0.0], [1.0, 1.0, 1.0]], dtype="float32")
    y_pred = np.array([[0.0, 0.0, 0.0], [3.0, 2.0, 1.0], [5.0, -3.0, 0.0]], dtype="float32")
    ours = _values(forms.subclass({}), y_true, y_pred)
    if name == "ranknet":
        separated = np.mean([np.log1p(np.exp(-1.0)), np.log1p(np.exp(-2.0)), np.log1p(np.exp(-1.0))])
        expected = [np.log(2.0), separated, 0.0]
    else:
        expected = [1.0, 0.0, 0.0]  # differences of 1, 2 and 1 all meet the margin of 1
    np.testing.assert_allclose(ours, expected, rtol=1e-6, atol=1e-7)


def test_listnet_linear_target_gives_zero_for_a_list_without_relevant_items(tmp_path):
    forms = catalog_forms(tmp_path, "listnet")
    y_true = np.array([[0.0, 0.0, 0.0], [0.0, 3.0, 1.0]], dtype="float32")
    y_pred = np.array([[1.0, -2.0, 0.5], [0.0, 2.0, 1.0]], dtype="float32")
    ours = _values(forms.subclass({"linear_target": True}), y_true, y_pred)
    expected = [0.0, listnet(y_true[1:].astype(float), y_pred[1:].astype(float), linear_target=True)[0]]
    np.testing.assert_allclose(ours, expected, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("beta", [0.5, 1.0, 2.0])
def test_smooth_l1_times_beta_is_keras_huber(tmp_path, beta):
    import keras

    forms = catalog_forms(tmp_path, "smooth_l1")
    rng = np.random.default_rng(11)
    y_true = rng.normal(size=(16, 5)).astype("float32")
    y_pred = (y_true + rng.normal(scale=2.0, size=(16, 5))).astype("float32")
    ours = _values(forms.subclass({"beta": beta}), y_true, y_pred)
    huber = _values(keras.losses.Huber(delta=beta, reduction=None), y_true, y_pred)
    np.testing.assert_allclose(beta * ours, huber, rtol=1e-5, atol=1e-6)


def test_soft_margin_is_binary_crossentropy_from_logits(tmp_path):
    import keras

    forms = catalog_forms(tmp_path, "soft_margin")
    rng = np.random.default_rng(5)
    signed = rng.choice([-1.0, 1.0], size=(16, 4)).astype("float32")
    scores = rng.normal(scale=3.0, size=(16, 4)).astype("float32")
    binary = (signed + 1) / 2
    bce = _values(keras.losses.BinaryCrossentropy(from_logits=True, reduction=None), binary, scores)
    np.testing.assert_allclose(_values(forms.subclass({}), signed, scores), bce, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(_values(forms.subclass({}), binary, scores), bce, rtol=1e-5, atol=1e-6)


def test_log_cosh_dice_is_log_cosh_of_keras_dice(tmp_path):
    import keras

    forms = catalog_forms(tmp_path, "log_cosh_dice")
    rng = np.random.default_rng(2)
    y_true = rng.integers(0, 2, size=(8, 50)).astype("float32")
    y_pred = rng.uniform(size=(8, 50)).astype("float32")
    dice = _values(keras.losses.Dice(axis=-1, reduction=None), y_true, y_pred)
    np.testing.assert_allclose(_values(forms.subclass({}), y_true, y_pred), np.log(np.cosh(dice)), rtol=1e-5)


@pytest.mark.parametrize("params", [{}, {"alpha": 0.6, "gamma": 0.5, "from_logits": True}])
def test_sparse_categorical_focal_is_keras_focal_on_one_hot_labels(tmp_path, params):
    import keras

    forms = catalog_forms(tmp_path, "sparse_categorical_focal")
    rng = np.random.default_rng(8)
    labels = rng.integers(0, 5, size=12)
    logits = rng.normal(scale=2.0, size=(12, 5))
    y_pred = (logits if params.get("from_logits") else _softmax(logits)).astype("float32")
    keras_focal = keras.losses.CategoricalFocalCrossentropy(**params, reduction=None)
    expected = _values(keras_focal, np.eye(5, dtype="float32")[labels], y_pred)
    for y_true in (labels.astype("float32"), labels.reshape(-1, 1).astype("int64")):
        np.testing.assert_allclose(_values(forms.subclass(params), y_true, y_pred), expected, rtol=1e-5, atol=1e-6)


def test_generalized_crossentropy_reads_both_label_shapes_and_floors_p(tmp_path):
    """(batch,) and (batch, 1) labels agree with Keras on (batch,); a zero probability on
    the true class costs (1 - epsilon^q) / q, not 1 / q (see the spec's notes)."""
    import keras

    forms = catalog_forms(tmp_path, "generalized_crossentropy")
    rng = np.random.default_rng(4)
    labels = rng.integers(0, 3, size=10)
    y_pred = _softmax(rng.normal(size=(10, 3))).astype("float32")
    keras_gce = keras.losses.CategoricalGeneralizedCrossEntropy(q=0.7, reduction=None)
    expected = _values(keras_gce, labels.astype("float32"), y_pred)
    for y_true in (labels.astype("float32"), labels.reshape(-1, 1).astype("int64")):
        np.testing.assert_allclose(_values(forms.subclass({"q": 0.7}), y_true, y_pred), expected, rtol=1e-5)
    zero = _values(forms.subclass({"q": 0.5}), np.array([1.0], "float32"), np.array([[1.0, 0.0, 0.0]], "float32"))
    np.testing.assert_allclose(zero, [(1 - EPS**0.5) / 0.5], rtol=1e-5)


def test_class_balanced_with_beta_zero_is_crossentropy(tmp_path):
    import keras

    forms = catalog_forms(tmp_path, "class_balanced")
    rng = np.random.default_rng(6)
    y_true = np.eye(3, dtype="float32")[rng.integers(0, 3, size=10)]
    y_pred = _softmax(rng.normal(size=(10, 3))).astype("float32")
    plain = _values(keras.losses.CategoricalCrossentropy(reduction=None), y_true, y_pred)
    ours = _values(forms.subclass({"beta": 0.0}), y_true, y_pred)
    np.testing.assert_allclose(ours, plain, rtol=1e-5)


@pytest.mark.tensorflow_only
@pytest.mark.parametrize("margin", [0.0, 0.05])
def test_asymmetric_from_large_logits_is_exact_and_has_finite_gradients(tmp_path, margin):
    """Logits of +-30 are far beyond where a clipped log(sigmoid) saturates (about 16)."""
    import tensorflow as tf

    forms = catalog_forms(tmp_path, "asymmetric")
    params = {"gamma_pos": 0.0, "gamma_neg": 0.0, "margin": margin, "from_logits": True}
    y_true = np.array([[0.0, 1.0, 0.0, 1.0]], "float32")
    y_pred = np.array([[30.0, -30.0, -30.0, 30.0]], "float32")
    # By hand, without 1 - sigmoid(30) (which loses precision even in float64): the
    # positives cost softplus(30) + softplus(-30); the negative at -30 costs
    # softplus(-30) when m = 0 and nothing otherwise (its p is below m); the one at 30
    # costs -log(sigmoid(-30) + m).
    softplus = np.logaddexp(0.0, [30.0, -30.0])
    negatives = softplus.sum() if margin == 0 else -np.log(1 / (1 + np.exp(30.0)) + margin)
    expected = [softplus.sum() + negatives]
    np.testing.assert_allclose(_values(forms.subclass(params), y_true, y_pred), expected, rtol=1e-6)
    variable = tf.Variable(np.array([[100.0, -100.0, -100.0, 100.0]], "float32"))
    with tf.GradientTape() as tape:
        value = forms.function({**params, "gamma_pos": 0.5, "gamma_neg": 0.5})(y_true, variable)
    assert np.all(np.isfinite(tape.gradient(value, variable).numpy()))


def _tversky_paper(t, p, alpha, beta):
    # Salehi et al. (2017), eq. (3): T = sum(p0 g0) / (sum(p0 g0) + alpha sum(p0 g1) +
    # beta sum(p1 g0)), with p0 the predicted and g0 the true foreground, p1 = 1 - p0 and
    # g1 = 1 - g0: alpha weights the false positives, beta the false negatives.
    true_positives = (p * t).sum(axis=-1)
    false_positives = (p * (1 - t)).sum(axis=-1)
    false_negatives = ((1 - p) * t).sum(axis=-1)
    return 1 - true_positives / (true_positives + alpha * false_positives + beta * false_negatives + EPS)


@pytest.mark.parametrize("alpha, beta", [(0.3, 0.7), (0.9, 0.1), (0.0, 1.0)])
def test_tversky_follows_the_paper_and_keras_3_15_1_with_alpha_and_beta_swapped(tmp_path, alpha, beta):
    """The spec's parameters as in the paper; Keras 3.15.1's ``Tversky`` gives the same
    value with alpha and beta swapped (``keras.rename`` in the spec, as test_agreement
    uses it; its changed parameters are equal, so they would not notice the swap)."""
    import keras

    from generator.check import samples
    from generator.spec.loader import load_spec

    spec = load_spec(SPECS / "tversky.yaml").spec
    forms = catalog_forms(tmp_path, "tversky")
    rng = np.random.default_rng(11)
    y_true = rng.integers(0, 2, size=(8, 30)).astype("float32")
    y_pred = rng.uniform(size=(8, 30)).astype("float32")
    params = {"alpha": alpha, "beta": beta}
    ours = _values(forms.subclass(params), y_true, y_pred)
    expected = _tversky_paper(y_true.astype("float64"), y_pred.astype("float64"), alpha, beta)
    np.testing.assert_allclose(ours, expected, rtol=1e-5, atol=1e-6)
    assert samples.twin_arguments(spec, params) == {"axis": -1, "alpha": beta, "beta": alpha}
    twin = keras.losses.Tversky(**samples.twin_arguments(spec, params), reduction=None)
    np.testing.assert_allclose(ours, _values(twin, y_true, y_pred), rtol=1e-5, atol=1e-6)


def test_tversky_alpha_weighs_false_positives(tmp_path):
    """Spurious foreground only: the loss grows with alpha and does not depend on beta."""
    forms = catalog_forms(tmp_path, "tversky")
    y_true = np.array([[1.0, 1.0, 0.0, 0.0]], "float32")
    y_pred = np.array([[1.0, 1.0, 1.0, 0.0]], "float32")  # one false positive, no false negative

    def loss(alpha, beta):
        return float(_values(forms.subclass({"alpha": alpha, "beta": beta}), y_true, y_pred)[0])

    assert loss(0.9, 0.1) > loss(0.1, 0.1)
    np.testing.assert_allclose(loss(0.5, 0.1), loss(0.5, 0.9), rtol=1e-6)
    np.testing.assert_allclose(loss(0.5, 0.5), 1 - 2 / (2 + 0.5), rtol=1e-6)
