"""Proxy-based metric-learning, signal and normalised-error losses against float64 NumPy
references.

Each reference is written here from the paper's (or the library documentation's)
definition, not translated from the spec's formula: the class of a sample is looked up by
index, proxies are visited in plain loops, the softmax denominators are summed term by
term. The references receive ``y_true`` and ``y_pred`` as ``generator.check.samples``
makes them for the spec's input kinds, and the parameters as keywords.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import assert_matches_reference, catalog_forms

EPS = 1e-7


def _log_sum_exp(values) -> float:
    values = np.asarray(values, dtype="float64")
    top = values.max()
    return float(top + math.log(np.exp(values - top).sum()))


def normalized_softmax(t, p, temperature=0.05):
    # Zhai and Wu (2019): -log(exp(cos_y / T) / sum_j exp(cos_j / T)).
    out = []
    for row, target in zip(p, t, strict=True):
        y = int(np.argmax(target))
        logits = [row[j] / temperature for j in range(len(row))]
        out.append(_log_sum_exp(logits) - logits[y])
    return np.array(out)


def proxy_nca(t, p, scale=1.0, include_positive=False):
    # Movshovitz-Attias et al. (2017): -log(exp(-d(x, p_y)) / sum_{z != y} exp(-d(x, p_z)))
    # with d the squared distance of unit vectors, |x - p|^2 = 2 - 2 cos.
    out = []
    for row, target in zip(p, t, strict=True):
        y = int(np.argmax(target))
        scores = {j: -scale * (2.0 - 2.0 * row[j]) for j in range(len(row))}
        denominator = [s for j, s in scores.items() if include_positive or j != y]
        out.append(_log_sum_exp(denominator) - scores[y])
    return np.array(out)


def proxy_anchor(t, p, margin=0.1, alpha=32.0):
    # Kim et al. (2020): for each proxy, log(1 + sum over its positives of
    # exp(-alpha (s - margin))) averaged over the proxies with positives in the batch, plus
    # log(1 + sum over its negatives of exp(alpha (s + margin))) averaged over all proxies.
    labels = np.argmax(t, axis=-1)
    classes = p.shape[-1]
    positive_sum, with_positives, negative_sum = 0.0, 0, 0.0
    for c in range(classes):
        positives = [i for i in range(len(p)) if labels[i] == c]
        negatives = [i for i in range(len(p)) if labels[i] != c]
        if positives:
            with_positives += 1
            positive_sum += math.log1p(sum(math.exp(-alpha * (p[i, c] - margin)) for i in positives))
        negative_sum += math.log1p(sum(math.exp(alpha * (p[i, c] + margin)) for i in negatives))
    value = positive_sum / max(with_positives, 1) + negative_sum / classes
    return np.full(len(p), value)


def p2sgrad(t, p):
    # Zhang et al. (2019), eq. 11: the gradient with respect to cos_j is cos_j - [j == y],
    # that of the mean over the classes of (cos_j - [j == y])^2 (up to its constant 2 / C).
    out = []
    for row, target in zip(p, t, strict=True):
        y = int(np.argmax(target))
        out.append(np.mean([(row[j] - (1.0 if j == y else 0.0)) ** 2 for j in range(len(row))]))
    return np.array(out)


def soft_triple(t, p, scale=20.0, gamma=0.1, margin=0.01, centers=2):
    # Qian et al. (2019): S_c = sum_k softmax_k(s_ck / gamma) s_ck over the centres of class
    # c, then -log(exp(lambda (S_y - delta)) / (exp(lambda (S_y - delta)) + sum_{c != y} exp(lambda S_c))).
    out = []
    for row, label in zip(p, t, strict=True):
        y = int(label)
        classes = len(row) // centers
        logits = []
        for c in range(classes):
            cosines = [row[c * centers + k] for k in range(centers)]
            weights = [math.exp((s - max(cosines)) / gamma) for s in cosines]
            similarity = sum(w * s for w, s in zip(weights, cosines, strict=True)) / sum(weights)
            logits.append(scale * (similarity - (margin if c == y else 0.0)))
        out.append(_log_sum_exp(logits) - logits[y])
    return np.array(out)


def si_snr(t, p, zero_mean=True, eps=1.1920929e-07):
    # Le Roux et al. (2019): s = (<e, t> / <t, t>) t, SI-SDR = 10 log10(|s|^2 / |e - s|^2);
    # SI-SNR on zero-mean waveforms; eps in both inner products and both energies.
    out = []
    for target, estimate in zip(t, p, strict=True):
        if zero_mean:
            target = target - target.mean()
            estimate = estimate - estimate.mean()
        gain = (np.dot(estimate, target) + eps) / (np.dot(target, target) + eps)
        projection = gain * target
        noise = estimate - projection
        ratio = (np.dot(projection, projection) + eps) / (np.dot(noise, noise) + eps)
        out.append(-10.0 * math.log10(ratio))
    return np.array(out)


def normalized_rmse(t, p, normalization=0):
    # RMSE of the sample's row over a measure of its targets' size: their mean, range,
    # population standard deviation or L2 norm (torchmetrics' "mean", "range", "std", "l2").
    out = []
    for target, prediction in zip(t, p, strict=True):
        rmse = math.sqrt(np.mean((prediction - target) ** 2))
        size = {
            0: np.mean(target),
            1: np.max(target) - np.min(target),
            2: np.std(target),
            3: np.linalg.norm(target),
        }[normalization]
        out.append(rmse / max(size, EPS))
    return np.array(out)


REFERENCES = {
    "normalized_softmax": normalized_softmax,
    "proxy_nca": proxy_nca,
    "proxy_anchor": proxy_anchor,
    "p2sgrad": p2sgrad,
    "soft_triple": soft_triple,
    "si_snr": si_snr,
    "normalized_rmse": normalized_rmse,
}


@pytest.mark.parametrize("params_label", ["defaults", "changed"])
@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_matches_numpy_reference(tmp_path, name, params_label):
    assert_matches_reference(tmp_path, name, params_label, REFERENCES[name])


def test_soft_triple_with_three_centres_per_class(tmp_path):
    """The group size is a layout setting, left at its default by the checker's parameter
    sets: here three centres for each of four classes, a (batch, 12) y_pred, against the
    reference; and a width that is not a multiple of three, or no centres, raise a ValueError."""
    import keras

    forms = catalog_forms(tmp_path, "soft_triple")
    rng = np.random.default_rng(5)
    y_true = rng.integers(0, 4, size=(16, 1)).astype("float32")
    y_pred = rng.uniform(-1.0, 1.0, size=(16, 12)).astype("float32")
    params = {"scale": 16.0, "gamma": 0.2, "margin": 0.1, "centers": 3}
    for form in (forms.function(params), forms.factory(params), forms.subclass(params)):
        ours = keras.ops.convert_to_numpy(form(y_true, y_pred))
        expected = soft_triple(y_true[:, 0], y_pred.astype("float64"), **params)
        np.testing.assert_allclose(ours, expected, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match=r"soft_triple expects a y_pred width that is a multiple of centers"):
        forms.subclass(params)(y_true, y_pred[:, :10])
    with pytest.raises(ValueError, match=r"soft_triple: centers must be at least 1"):
        forms.function({**params, "centers": 0})(y_true, y_pred)
