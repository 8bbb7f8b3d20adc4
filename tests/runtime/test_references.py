"""Catalog losses without a Keras twin, against float64 NumPy references.

Each reference is written here from the loss's definition (the seed documents and the
papers named in the specs), not from the spec's formula.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import ROOT, assert_matches_reference, catalog_forms, spec_forms

EPS = 1e-7


def _crossentropy(t, p):
    p = p / p.sum(axis=-1, keepdims=True)
    return -(t * np.log(np.clip(p, EPS, 1 - EPS))).sum(axis=-1)


def amplitude_weighted_mse(t, p, alpha=5.0):
    return np.mean(np.exp(alpha * t) * (p - t) ** 2, axis=-1)


def temperature_scaled_mse(t, p, temperature=1.0):
    return np.mean((p - t) ** 2 * temperature, axis=-1)


def contrastive(t, d, margin=1.0):
    return np.mean(t * d**2 + (1 - t) * np.maximum(margin - d, 0) ** 2, axis=-1)


def misclassification_weighted_crossentropy(t, p, weights=None):
    table = np.ones((t.shape[-1],) * 2) if weights is None else np.asarray(weights, dtype=float)
    picked = np.array([table[i, j] for i, j in zip(t.argmax(-1), p.argmax(-1), strict=True)])
    return _crossentropy(t, p) * picked


def example_weighted_crossentropy(packed, p):
    c = p.shape[-1]
    t, tables = packed[:, :c], packed[:, c:].reshape(-1, c, c)
    picked = np.array([tables[k, i, j] for k, (i, j) in enumerate(zip(t.argmax(-1), p.argmax(-1), strict=True))])
    return _crossentropy(t, p) * picked


def binary_focal(t, p, gamma=2.0, alpha=0.25, from_logits=False, apply_class_balancing=True, label_smoothing=0.0):
    # Lin et al. (2017), with Keras's label smoothing (targets moved towards 1/2 first,
    # then used as soft labels throughout) and its switch for the alpha weights.
    t = t * (1 - label_smoothing) + 0.5 * label_smoothing
    prob = 1 / (1 + np.exp(-p)) if from_logits else p
    q = np.clip(prob, EPS, 1 - EPS)
    bce = -(t * np.log(q) + (1 - t) * np.log(1 - q))
    p_t = t * prob + (1 - t) * (1 - prob)
    alpha_t = t * alpha + (1 - t) * (1 - alpha) if apply_class_balancing else 1.0
    return np.mean(alpha_t * (1 - p_t) ** gamma * bce, axis=-1)


def pinball(t, p, tau=0.5):
    e = t - p
    return np.mean(np.where(e >= 0, tau * e, (tau - 1) * e), axis=-1)


def quantile(t, p, quantiles=(0.1, 0.5, 0.9)):
    q = np.asarray(quantiles)
    e = t - p
    return np.mean(np.where(e >= 0, q * e, (q - 1) * e), axis=-1)


def charbonnier(t, p, smoothing=0.001):
    return np.mean(np.sqrt((p - t) ** 2 + smoothing**2), axis=-1)


def wing(t, p, width=10.0, curvature=2.0):
    x = np.abs(p - t)
    c = width - width * np.log(1 + width / curvature)
    return np.mean(np.where(x < width, width * np.log(1 + x / curvature), x - c), axis=-1)


def tweedie(t, p, rho=1.5):
    mu = np.maximum(p, EPS)
    return np.mean(-t * mu ** (1 - rho) / (1 - rho) + mu ** (2 - rho) / (2 - rho), axis=-1)


def poisson_nll(t, log_rate, max_log_rate=30.0):
    # PyTorch's loss; above the cap, exp continues as its tangent line at the cap.
    rate = np.where(
        log_rate <= max_log_rate,
        np.exp(np.minimum(log_rate, max_log_rate)),
        np.exp(max_log_rate) * (1.0 + log_rate - max_log_rate),
    )
    return np.mean(rate - t * log_rate, axis=-1)


def sigmoid_focal(t, p, alpha=0.25, gamma=2.0, from_logits=False):
    return binary_focal(t, p, gamma=gamma, alpha=alpha, from_logits=from_logits) * t.shape[-1]


def weighted_crossentropy(t, p, pos_weight=1.0, from_logits=False):
    prob = 1 / (1 + np.exp(-p)) if from_logits else np.clip(p, EPS, 1 - EPS)
    return np.mean(-(pos_weight * t * np.log(prob) + (1 - t) * np.log(1 - prob)), axis=-1)


def jaccard(t, p, smooth=0.0):
    inter = (t * p).sum(-1)
    union = t.sum(-1) + p.sum(-1) - inter
    return 1 - (inter + smooth) / np.maximum(union + smooth, EPS)


def _dice(t, p):
    return 1 - 2 * (t * p).sum(-1) / (t.sum(-1) + p.sum(-1) + EPS)


def bce_dice(t, p, dice_weight=1.0):
    q = np.clip(p, EPS, 1 - EPS)
    bce = np.mean(-(t * np.log(q) + (1 - t) * np.log(1 - q)), axis=-1)
    return bce + dice_weight * _dice(t, p)


def focal_tversky(t, p, alpha=0.7, beta=0.3, gamma=0.75):
    tp = (t * p).sum(-1)
    fn = (t * (1 - p)).sum(-1)
    fp = ((1 - t) * p).sum(-1)
    index = (tp + EPS) / (tp + alpha * fn + beta * fp + EPS)
    return np.maximum(1 - index, EPS) ** gamma


def cauchy(t, p, scale=1.0):
    # Black and Anandan's Lorentzian, Barron's alpha = 0: log(1 + (x / c)^2 / 2).
    x = (p - t) / scale
    return np.mean(np.log(1 + x**2 / 2), axis=-1)


def geman_mcclure(t, p, scale=1.0):
    # Barron's alpha = -2: 2 x^2 / (x^2 + 4 c^2).
    x = p - t
    return np.mean(2 * x**2 / (x**2 + 4 * scale**2), axis=-1)


def welsch(t, p, scale=1.0):
    # Barron's limit alpha -> -infinity: 1 - exp(-(x / c)^2 / 2).
    return np.mean(1 - np.exp(-(((p - t) / scale) ** 2) / 2), axis=-1)


def smape(t, p):
    # Absolute error over the mean of |target| and |prediction|, in percent.
    return 100 * np.mean(np.abs(p - t) / ((np.abs(t) + np.abs(p)) / 2), axis=-1)


def wmape(t, p):
    # Total absolute error over total absolute target, in percent.
    return 100 * np.abs(p - t).sum(-1) / np.abs(t).sum(-1)


def minkowski(t, pred, p=2.0):
    return np.array([np.linalg.norm(row, ord=p) for row in pred - t])


def relative_squared_error(t, p):
    # 1 - R^2 of each row, with R^2 = 1 - SS_res / SS_tot and SS_tot = n var(y).
    ss_res = ((t - p) ** 2).sum(-1)
    ss_tot = t.shape[-1] * t.var(axis=-1)
    return 1 - (1 - ss_res / ss_tot)


def concordance_correlation(t, p):
    # Lin (1989): 2 s_xy / (s_x^2 + s_y^2 + (mean_x - mean_y)^2), moments dividing by n.
    out = []
    for x, y in zip(p, t, strict=True):
        s_xy = np.cov(x, y, bias=True)[0, 1]
        rho_c = 2 * s_xy / (x.var() + y.var() + (x.mean() - y.mean()) ** 2)
        out.append(1 - rho_c)
    return np.array(out)


def pearson_correlation(t, p):
    return np.array([1 - np.corrcoef(x, y)[0, 1] for x, y in zip(p, t, strict=True)])


def psnr(t, p, max_value=1.0):
    mse = ((p - t) ** 2).mean(-1)
    return -10 * np.log10(max_value**2 / mse)


REFERENCES = {
    "amplitude_weighted_mse": amplitude_weighted_mse,
    "temperature_scaled_mse": temperature_scaled_mse,
    "contrastive": contrastive,
    "misclassification_weighted_crossentropy": misclassification_weighted_crossentropy,
    "example_weighted_crossentropy": example_weighted_crossentropy,
    "binary_focal": binary_focal,
    "pinball": pinball,
    "quantile": quantile,
    "charbonnier": charbonnier,
    "wing": wing,
    "tweedie": tweedie,
    "poisson_nll": poisson_nll,
    "sigmoid_focal": sigmoid_focal,
    "weighted_crossentropy": weighted_crossentropy,
    "jaccard": jaccard,
    "bce_dice": bce_dice,
    "focal_tversky": focal_tversky,
    "cauchy": cauchy,
    "geman_mcclure": geman_mcclure,
    "welsch": welsch,
    "smape": smape,
    "wmape": wmape,
    "minkowski": minkowski,
    "relative_squared_error": relative_squared_error,
    "concordance_correlation": concordance_correlation,
    "pearson_correlation": pearson_correlation,
    "psnr": psnr,
}


@pytest.mark.parametrize("params_label", ["defaults", "changed"])
@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_matches_numpy_reference(tmp_path, name, params_label):
    assert_matches_reference(tmp_path, name, params_label, REFERENCES[name])


def test_misclassification_table_changes_the_loss_where_it_should(tmp_path):
    """A table that is 1 except at (true 0, predicted 2) scales only those samples."""
    import keras

    forms = catalog_forms(tmp_path, "misclassification_weighted_crossentropy")
    table = [[1.0, 1.0, 3.0], [1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]
    y_true = np.eye(3, dtype="float32")[[0, 0, 1]]
    y_pred = np.array([[0.2, 0.1, 0.7], [0.7, 0.1, 0.2], [0.2, 0.1, 0.7]], dtype="float32")
    plain = _crossentropy(y_true.astype(float), y_pred.astype(float))
    ours = keras.ops.convert_to_numpy(forms.factory({"weights": table})(y_true, y_pred))
    np.testing.assert_allclose(ours, plain * np.array([3.0, 1.0, 1.0]), rtol=1e-6)


def test_class_weighting_rule_picks_the_weight_of_the_true_class(tmp_path):
    import keras

    forms = spec_forms(tmp_path, ROOT / "tests" / "fixtures" / "good" / "class_weighted_sparse_crossentropy.yaml")
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 3, size=16)
    logits = rng.normal(size=(16, 3))
    probs = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    weights = np.array([0.3, 1.7, 2.9])
    expected = -np.log(np.clip(probs[np.arange(16), labels], EPS, 1 - EPS)) * weights[labels]
    for form in (forms.function, forms.factory, forms.subclass):
        for y_true in (labels.astype("float32"), labels.reshape(-1, 1).astype("int64")):
            ours = keras.ops.convert_to_numpy(form({"class_weights": list(weights)})(y_true, probs.astype("float32")))
            np.testing.assert_allclose(ours, expected, rtol=1e-5)


@pytest.mark.tensorflow_only
def test_poisson_nll_stays_finite_and_pulls_back_above_its_cap(tmp_path):
    """At a log-rate of 1000 plain exp overflows float32. With the cap at 30 the loss is
    e^30 * (1 + 1000 - 30) - y * 1000, and its slope e^30 - y is positive: gradient descent
    lowers the prediction."""
    import tensorflow as tf

    loss = catalog_forms(tmp_path, "poisson_nll").function({})
    prediction = tf.constant([[1000.0], [2.0]])
    with tf.GradientTape() as tape:
        tape.watch(prediction)
        value = loss(tf.constant([[3.0], [3.0]]), prediction)
    grad = tape.gradient(value, prediction).numpy()[:, 0]
    np.testing.assert_allclose(value.numpy(), [math.exp(30) * 971 - 3000, math.exp(2) - 6], rtol=1e-5)
    np.testing.assert_allclose(grad, [math.exp(30) - 3, math.exp(2) - 3], rtol=1e-5)
