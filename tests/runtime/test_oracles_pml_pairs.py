"""Pair- and triplet-based metric-learning losses (the pytorch-metric-learning family)
against float64 NumPy references.

Each reference follows the definitions of the papers and of the pytorch-metric-learning
documentation: it normalises the embeddings, loops over every positive pair, negative
pair or triplet of the batch and computes that element's loss on its own, then shares
the batch loss out among the anchors. The library reduces the element losses of the
whole batch to one number (a mean over the elements, over the non-zero ones, or over a
divisor); the catalog returns each anchor's share of that number, the sum of the
anchor's own element losses over the same denominator, times the batch size, so that
the mean over the anchors is the library's value. Nothing here is derived from the
vectorised formulas of the specs.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import assert_matches_reference


def _unit(e: np.ndarray) -> np.ndarray:
    return np.array([row / max(np.linalg.norm(row), 1e-12) for row in e])


def _distance(z: np.ndarray, i: int, j: int) -> float:
    return float(np.linalg.norm(z[i] - z[j]))


def _cosine(z: np.ndarray, i: int, j: int) -> float:
    return float(np.dot(z[i], z[j]))


def _positives(labels: np.ndarray, a: int) -> list[int]:
    return [j for j in range(len(labels)) if j != a and labels[j] == labels[a]]


def _negatives(labels: np.ndarray, a: int) -> list[int]:
    return [j for j in range(len(labels)) if labels[j] != labels[a]]


def _log1p_sum_exp(values: list[float]) -> float:
    """log(1 + sum(exp(v))), with the largest exponent factored out."""
    peak = max([0.0, *values])
    return peak + math.log(math.exp(-peak) + sum(math.exp(v - peak) for v in values))


def _logsumexp(values: list[float]) -> float:
    """log(sum(exp(v))), 0 for no values (the library's convention for an empty set)."""
    if not values:
        return 0.0
    peak = max(values)
    return peak + math.log(sum(math.exp(v - peak) for v in values))


def _shares(per_anchor: list[list[float]], denominator: float) -> np.ndarray:
    """Each anchor's element losses summed over the batch's denominator, times the batch
    size: the mean of the result is the batch loss sum / denominator (0 when the
    denominator is 0, as every element loss is then 0 too)."""
    n = len(per_anchor)
    if denominator == 0:
        return np.zeros(n)
    return np.array([n * sum(terms) / denominator for terms in per_anchor])


def _nonzero(per_anchor: list[list[float]]) -> int:
    return sum(1 for terms in per_anchor for v in terms if v > 0)


def _count(per_anchor: list[list[float]]) -> int:
    return sum(len(terms) for terms in per_anchor)


def _pair_losses(labels, dist, pos_fn, neg_fn):
    """Per anchor: the losses of its positive pairs and of its negative pairs."""
    n = len(labels)
    pos = [[pos_fn(dist(a, p)) for p in _positives(labels, a)] for a in range(n)]
    neg = [[neg_fn(dist(a, k)) for k in _negatives(labels, a)] for a in range(n)]
    return pos, neg


def _two_margins(labels, dist, pos_margin, neg_margin):
    # A positive pair costs max(d - pos_margin, 0), a negative max(neg_margin - d, 0); the
    # positive and negative losses are each averaged over their non-zero pairs, then added.
    pos, neg = _pair_losses(labels, dist, lambda d: max(d - pos_margin, 0.0), lambda d: max(neg_margin - d, 0.0))
    return _shares(pos, _nonzero(pos)) + _shares(neg, _nonzero(neg))


def all_pairs_contrastive(labels, e, pos_margin=0.0, neg_margin=1.0):
    # Hadsell et al. with unsquared distances and two margins (the library's form).
    z = _unit(e)
    return _two_margins(labels, lambda i, j: _distance(z, i, j), pos_margin, neg_margin)


def _snr(z: np.ndarray, a: int, j: int) -> float:
    # Yuan et al.: the variance of the "noise" z_j - z_a over the variance of the signal
    # z_a (population variances; the ratio is the same with n - 1).
    return float(np.var(z[j] - z[a]) / max(np.var(z[a]), 1e-7))


def snr_contrastive(labels, e, pos_margin=0.0, neg_margin=1.0):
    # The same pair losses, with the signal-to-noise ratio in place of the distance.
    z = _unit(e)
    return _two_margins(labels, lambda i, j: _snr(z, i, j), pos_margin, neg_margin)


def all_triplets(labels, e, margin=0.05, smooth_loss=False, swap=False):
    # Every (anchor, positive, negative): max(d_ap - d_an + margin, 0), or its softplus;
    # with swap, d_an is replaced by d_pn when that is smaller. Averaged over non-zero
    # triplets.
    z = _unit(e)
    per_anchor = []
    for a in range(len(z)):
        terms = []
        for p in _positives(labels, a):
            for k in _negatives(labels, a):
                d_an = _distance(z, a, k)
                if swap:
                    d_an = min(d_an, _distance(z, p, k))
                v = _distance(z, a, p) - d_an + margin
                terms.append(math.log1p(math.exp(v)) if smooth_loss else max(v, 0.0))
        per_anchor.append(terms)
    return _shares(per_anchor, _nonzero(per_anchor))


def angular(labels, e, alpha=40.0):
    # Wang et al. (2017), eq. 8: for a positive pair (a, p) and each negative n,
    # f = 4 tan^2(alpha) (x_a + x_p)^T x_n - 2 (1 + tan^2(alpha)) x_a^T x_p, and the pair
    # costs log(1 + sum_n exp(f)). The anchors and positives are normalised; the negatives
    # enter as given (the library's choice; the same for unit-length embeddings). Averaged
    # over all positive pairs.
    z = _unit(e)
    t2 = math.tan(math.radians(alpha)) ** 2
    per_anchor = []
    for a in range(len(z)):
        terms = []
        for p in _positives(labels, a):
            negatives = _negatives(labels, a)
            f = [4 * t2 * float(np.dot(z[a] + z[p], e[k])) - 2 * (1 + t2) * _cosine(z, a, p) for k in negatives]
            terms.append(_log1p_sum_exp(f) if negatives else 0.0)
        per_anchor.append(terms)
    return _shares(per_anchor, _count(per_anchor))


def generalized_lifted_structure(labels, e, pos_margin=0.0, neg_margin=1.0):
    # Hermans et al. (2017), section 2: per anchor, a smooth maximum over its positives
    # plus a smooth maximum over its negatives, hinged at 0.
    z = _unit(e)
    out = []
    for a in range(len(z)):
        pos = _logsumexp([_distance(z, a, p) - pos_margin for p in _positives(labels, a)])
        neg = _logsumexp([neg_margin - _distance(z, a, k) for k in _negatives(labels, a)])
        out.append(max(pos + neg, 0.0))
    return np.array(out)


def multi_similarity(labels, e, alpha=2.0, beta=50.0, base=0.5):
    # Wang et al. (2019), eq. 12, over all pairs (no mining).
    z = _unit(e)
    out = []
    for a in range(len(z)):
        pos = [-alpha * (_cosine(z, a, p) - base) for p in _positives(labels, a)]
        neg = [beta * (_cosine(z, a, k) - base) for k in _negatives(labels, a)]
        out.append(_log1p_sum_exp(pos) / alpha + _log1p_sum_exp(neg) / beta)
    return np.array(out)


def margin(labels, e, alpha=0.2, beta=1.2):
    # Wu et al. (2017), eq. 3, over every triplet: the positive term max(d_ap - beta +
    # alpha, 0) and the negative term max(beta - d_an + alpha, 0), summed over the
    # triplets and divided by the number of non-zero terms.
    z = _unit(e)
    per_anchor, nonzero = [], 0
    for a in range(len(z)):
        terms = []
        for p in _positives(labels, a):
            for k in _negatives(labels, a):
                pos = max(_distance(z, a, p) - beta + alpha, 0.0)
                neg = max(beta - _distance(z, a, k) + alpha, 0.0)
                nonzero += (pos > 0) + (neg > 0)
                terms.append(pos + neg)
        per_anchor.append(terms)
    return _shares(per_anchor, nonzero)


def intra_pair_variance(labels, e, pos_eps=0.01, neg_eps=0.01):
    # Yu and Tao (2019), eq. 6: the cosines of positive pairs should not fall below
    # (1 - eps) times their batch mean, those of negative pairs not rise above (1 + eps)
    # times theirs; squared hinges, averaged over the positive and over the negative pairs.
    z = _unit(e)
    n = len(z)
    pos_cos = [[_cosine(z, a, p) for p in _positives(labels, a)] for a in range(n)]
    neg_cos = [[_cosine(z, a, k) for k in _negatives(labels, a)] for a in range(n)]
    mean_pos = np.mean([c for row in pos_cos for c in row]) if _count(pos_cos) else 0.0
    mean_neg = np.mean([c for row in neg_cos for c in row]) if _count(neg_cos) else 0.0
    pos = [[max((1 - pos_eps) * mean_pos - c, 0.0) ** 2 for c in row] for row in pos_cos]
    neg = [[max(c - (1 + neg_eps) * mean_neg, 0.0) ** 2 for c in row] for row in neg_cos]
    return _shares(pos, _count(pos)) + _shares(neg, _count(neg))


def tuplet_margin(labels, e, margin=5.73, scale=64.0):
    # Yu and Tao (2019), eq. 5: the angle of each positive pair is reduced by the margin
    # (given in degrees), and the pair costs log(1 + sum_n exp(s (cos theta_an -
    # cos(theta_ap - margin)))). Averaged over all positive pairs.
    z = _unit(e)
    m = math.radians(margin)
    per_anchor = []
    for a in range(len(z)):
        terms = []
        negatives = _negatives(labels, a)
        for p in _positives(labels, a):
            widened = math.cos(math.acos(min(_cosine(z, a, p), 1.0)) - m)
            f = [scale * (_cosine(z, a, k) - widened) for k in negatives]
            terms.append(_log1p_sum_exp(f) if negatives else 0.0)
        per_anchor.append(terms)
    return _shares(per_anchor, _count(per_anchor))


def instance(labels, e, gamma=64.0):
    # The batch form of Zheng et al.'s instance loss, as the library documents it: row i
    # of gamma times the cosine similarities (the diagonal included) is classified by a
    # softmax into column t_i, the rank of label i among the sorted distinct labels.
    z = _unit(e)
    distinct = sorted(set(labels.tolist()))
    out = []
    for i in range(len(z)):
        logits = [gamma * _cosine(z, i, j) for j in range(len(z))]
        out.append(_logsumexp(logits) - logits[distinct.index(labels[i])])
    return np.array(out)


REFERENCES = {
    "all_pairs_contrastive": all_pairs_contrastive,
    "all_triplets": all_triplets,
    "angular": angular,
    "generalized_lifted_structure": generalized_lifted_structure,
    "instance": instance,
    "intra_pair_variance": intra_pair_variance,
    "margin_based": margin,
    "multi_similarity": multi_similarity,
    "snr_contrastive": snr_contrastive,
    "tuplet_margin": tuplet_margin,
}


@pytest.mark.parametrize("params_label", ["defaults", "changed"])
@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_matches_numpy_reference(tmp_path, name, params_label):
    assert_matches_reference(tmp_path, name, params_label, REFERENCES[name])
