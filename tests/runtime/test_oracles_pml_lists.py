"""List- and ranking-based metric-learning losses (the ones pytorch-metric-learning ships)
against float64 NumPy references.

Each reference is written from the paper's definition, with explicit loops over anchors,
pairs, bins or dimensions, and shares nothing with the vectorised formulas of the specs:
distances come from ``np.linalg.norm``, ranks from counting, histograms from binning each
value between its two neighbouring nodes.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import assert_matches_reference


def _unit(e: np.ndarray) -> np.ndarray:
    """Rows of length one (a zero row stays zero)."""
    norm = np.linalg.norm(e, axis=-1, keepdims=True)
    return e / np.where(norm > 0, norm, 1.0)


def _sigmoid(x: float) -> float:
    return 0.5 * (1.0 + math.tanh(0.5 * x))


def _groups(labels: np.ndarray, a: int) -> tuple[list[int], list[int]]:
    """The other samples of anchor ``a``'s label, and the samples of other labels."""
    positives = [j for j in range(len(labels)) if j != a and labels[j] == labels[a]]
    negatives = [j for j in range(len(labels)) if labels[j] != labels[a]]
    return positives, negatives


def nca(labels, e, softmax_scale=1.0):
    z = _unit(e)
    out = []
    for a in range(len(z)):
        positives, _ = _groups(labels, a)
        others = [j for j in range(len(z)) if j != a]
        if not positives:
            out.append(0.0)
            continue
        weight = {j: math.exp(-softmax_scale * np.linalg.norm(z[a] - z[j]) ** 2) for j in others}
        out.append(-math.log(sum(weight[j] for j in positives) / sum(weight.values())))
    return np.array(out)


def _soft_bins(value: float, low: float, width: float, count: int) -> np.ndarray:
    """``value`` split between the two nodes ``low + r * width`` around it (of ``count``
    nodes), each share proportional to the closeness to the other node."""
    shares = np.zeros(count)
    position = (value - low) / width
    r = min(max(int(math.floor(position)), 0), count - 2)
    upper = position - r
    shares[r] += 1.0 - upper
    shares[r + 1] += upper
    return shares


def fastap(labels, e, num_bins=10):
    z = _unit(e)
    width = 4.0 / num_bins
    out = []
    for a in range(len(z)):
        positives, negatives = _groups(labels, a)
        if not positives:
            out.append(0.0)
            continue
        hits, misses = np.zeros(num_bins + 1), np.zeros(num_bins + 1)
        for j in positives:
            hits += _soft_bins(np.linalg.norm(z[a] - z[j]) ** 2, 0.0, width, num_bins + 1)
        for j in negatives:
            misses += _soft_bins(np.linalg.norm(z[a] - z[j]) ** 2, 0.0, width, num_bins + 1)
        total = 0.0
        for b in range(num_bins + 1):
            hits_so_far, seen_so_far = hits[: b + 1].sum(), (hits + misses)[: b + 1].sum()
            if hits[b] > 0:
                total += hits[b] * hits_so_far / seen_so_far
        out.append(1.0 - total / len(positives))
    return np.array(out)


def histogram(labels, e, num_bins=100, anchored_negatives=False):
    z = _unit(e)
    n = len(z)
    width = 2.0 / num_bins
    has_classmate = [bool(_groups(labels, i)[0]) for i in range(n)]
    positive_pairs, negative_pairs = [], []
    for i in range(n):
        for j in range(i + 1, n):
            if labels[i] == labels[j]:
                positive_pairs.append((i, j))
            elif not anchored_negatives or has_classmate[i] or has_classmate[j]:
                negative_pairs.append((i, j))
    if not positive_pairs or not negative_pairs:
        return np.zeros(n)

    def density(pairs):
        counts = sum(_soft_bins(float(z[i] @ z[j]), -1.0, width, num_bins + 1) for i, j in pairs)
        return counts / len(pairs)

    positive, negative = density(positive_pairs), density(negative_pairs)
    # P(s_negative > s_positive): each negative node against the positive mass at or below it.
    value = sum(negative[r] * positive[: r + 1].sum() for r in range(num_bins + 1))
    return np.full(n, value)


def pnp(labels, e, anneal=0.01, decreasing=False, alpha=1.0):
    z = _unit(e)
    s = z @ z.T
    out = []
    for a in range(len(z)):
        positives, negatives = _groups(labels, a)
        if not positives:
            out.append(0.0)
            continue
        terms = []
        for j in [a, *positives]:  # the anchor ranks itself too, as in the authors' code
            ahead = sum(_sigmoid((s[a, k] - s[a, j]) / anneal) for k in negatives)
            terms.append((1.0 + ahead) ** -alpha if decreasing else ahead)
        out.append(1.0 - np.mean(terms) if decreasing else np.mean(terms))
    return np.array(out)


def ranked_list(labels, e, margin=0.4, alpha=1.2, imbalance=0.5, t_positive=0.0, t_negative=10.0, smoothing=0.0):
    z = _unit(e)
    n = len(z)
    out = []
    for a in range(n):
        positives, negatives = _groups(labels, a)
        d = {j: np.linalg.norm(z[a] - z[j]) for j in range(n)}
        far = [j for j in positives if d[j] > alpha - margin]
        near = [k for k in negatives if d[k] < alpha]
        w_far = [math.exp(t_positive * (d[j] - (alpha - margin))) for j in far]
        w_near = [math.exp(t_negative * (alpha - d[k])) for k in near]
        top = sum(w * (d[j] - (alpha - margin)) for w, j in zip(w_far, far, strict=True))
        bottom = sum(w * (alpha - d[k]) for w, k in zip(w_near, near, strict=True))
        part_positive = top / (sum(w_far) + n * smoothing) if far or smoothing else 0.0
        part_negative = bottom / (sum(w_near) + n * smoothing) if near or smoothing else 0.0
        out.append((1 - imbalance) * part_positive + imbalance * part_negative)
    return np.array(out)


def smooth_ap(labels, e, temperature=0.01, include_query=False):
    z = _unit(e)
    s = z @ z.T
    n = len(z)
    out = []
    for q in range(n):
        listed = list(range(n)) if include_query else [j for j in range(n) if j != q]
        relevant = [j for j in listed if labels[j] == labels[q]]
        if not relevant:
            out.append(0.0)
            continue
        precision = 0.0
        for i in relevant:
            among_relevant = 1 + sum(_sigmoid((s[q, j] - s[q, i]) / temperature) for j in relevant if j != i)
            among_listed = 1 + sum(_sigmoid((s[q, j] - s[q, i]) / temperature) for j in listed if j != i)
            precision += among_relevant / among_listed
        out.append(1.0 - precision / len(relevant))
    return np.array(out)


def threshold_consistent_margin(labels, e, lambda_plus=1.0, lambda_minus=1.0, margin_plus=0.9, margin_minus=0.5):
    z = _unit(e)
    n = len(z)
    pulled, pushed = [], []
    for i in range(n):
        for j in range(i + 1, n):
            s = float(z[i] @ z[j])
            if labels[i] == labels[j] and s <= margin_plus:
                pulled.append(margin_plus - s)
            elif labels[i] != labels[j] and s >= margin_minus:
                pushed.append(s - margin_minus)
    value = lambda_plus * (np.mean(pulled) if pulled else 0.0) + lambda_minus * (np.mean(pushed) if pushed else 0.0)
    return np.full(n, value)


def vicreg(other, e, invariance_lambda=25.0, variance_mu=25.0, covariance_v=1.0, gamma=1.0, eps=1e-4):
    n, d = e.shape

    def variance(x):
        return np.mean([max(0.0, gamma - math.sqrt(np.var(x[:, k], ddof=1) + eps)) for k in range(d)])

    def covariance(x):
        c = np.cov(x, rowvar=False, ddof=1).reshape(d, d)
        return sum(c[k, m] ** 2 for k in range(d) for m in range(d) if k != m) / d

    batch_terms = variance_mu * (variance(e) + variance(other)) / 2 + covariance_v * (covariance(e) + covariance(other))
    return np.array([invariance_lambda * np.mean((e[i] - other[i]) ** 2) + batch_terms for i in range(n)])


REFERENCES = {
    "fastap": fastap,
    "histogram": histogram,
    "nca": nca,
    "pnp": pnp,
    "ranked_list": ranked_list,
    "smooth_ap": smooth_ap,
    "threshold_consistent_margin": threshold_consistent_margin,
    "vicreg": vicreg,
}


@pytest.mark.parametrize("params_label", ["defaults", "changed"])
@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_matches_numpy_reference(tmp_path, name, params_label):
    assert_matches_reference(tmp_path, name, params_label, REFERENCES[name])
