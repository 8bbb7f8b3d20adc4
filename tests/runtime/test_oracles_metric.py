"""Batch-level metric-learning losses against float64 NumPy references.

Each reference loops over anchors, positives and negatives as the papers describe them,
with distances taken directly (``np.linalg.norm``), independently of the vectorised
formulas of the specs.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import assert_matches_reference, catalog_forms


def _distances(e: np.ndarray, squared: bool = False) -> np.ndarray:
    n = len(e)
    d = np.array([[np.linalg.norm(e[i] - e[j]) for j in range(n)] for i in range(n)])
    return d**2 if squared else d


def _groups(labels: np.ndarray, a: int) -> tuple[list[int], list[int]]:
    """Positives (same label, not the anchor) and negatives of anchor ``a``."""
    positives = [j for j in range(len(labels)) if j != a and labels[j] == labels[a]]
    negatives = [j for j in range(len(labels)) if labels[j] != labels[a]]
    return positives, negatives


def triplet_hard(labels, e, margin=1.0, soft=False, squared=False):
    d = _distances(e, squared)
    out = []
    for a in range(len(e)):
        positives, negatives = _groups(labels, a)
        hardest_positive = max((d[a, p] for p in positives), default=0.0)
        hardest_negative = min(d[a, n] for n in negatives) if negatives else d[a].max()
        gap = hardest_positive - hardest_negative
        out.append(np.log1p(np.exp(gap)) if soft else max(gap + margin, 0.0))
    return np.array(out)


def triplet_semihard(labels, e, margin=1.0, squared=False):
    d = _distances(e, squared)
    out = []
    for a in range(len(e)):
        positives, negatives = _groups(labels, a)
        terms = []
        for p in positives:
            further = [d[a, n] for n in negatives if d[a, n] > d[a, p]]
            if further:
                negative = min(further)
            else:
                # No semi-hard negative: the furthest negative (the anchor's nearest
                # distance, 0, when there are no negatives at all).
                negative = max(d[a, n] for n in negatives) if negatives else d[a].min()
            terms.append(max(margin + d[a, p] - negative, 0.0))
        out.append(np.mean(terms) if terms else 0.0)
    return np.array(out)


def lifted_structure(labels, e, margin=1.0):
    d = _distances(e)
    out = []
    for a in range(len(e)):
        positives, negatives_a = _groups(labels, a)
        terms = []
        for j in positives:
            _, negatives_j = _groups(labels, j)
            total = sum(np.exp(margin - d[a, k]) for k in negatives_a)
            total += sum(np.exp(margin - d[j, k]) for k in negatives_j)
            terms.append(max(np.log(total) + d[a, j], 0.0) ** 2 if total > 0 else 0.0)
        out.append(0.5 * np.mean(terms) if terms else 0.0)
    return np.array(out)


def _log_softmax_over_others(scores: np.ndarray, a: int) -> dict[int, float]:
    others = [j for j in range(len(scores)) if j != a]
    values = np.array([scores[j] for j in others])
    peak = values.max()
    log_total = peak + np.log(np.exp(values - peak).sum())
    return {j: scores[j] - log_total for j in others}


def npairs(labels, e, l2_reg=0.002):
    out = []
    for a in range(len(e)):
        positives, _ = _groups(labels, a)
        log_prob = _log_softmax_over_others(e @ e[a], a)
        crossentropy = -np.mean([log_prob[p] for p in positives]) if positives else 0.0
        out.append(crossentropy + l2_reg * np.sum(e[a] ** 2))
    return np.array(out)


def npairs_multilabel(t, e, l2_reg=0.002):
    # Sohn's N-pair crossentropy over the other samples, the target of sample j being the
    # number of labels it shares with the anchor, normalised over the anchor's row.
    out = []
    for a in range(len(e)):
        label_set = {k for k in range(t.shape[1]) if t[a, k] == 1}
        shared = {j: sum(1 for k in label_set if t[j, k] == 1) for j in range(len(e)) if j != a}
        total = sum(shared.values())
        log_prob = _log_softmax_over_others(e @ e[a], a)
        crossentropy = -sum(count / total * log_prob[j] for j, count in shared.items()) if total else 0.0
        out.append(crossentropy + l2_reg * np.sum(e[a] ** 2))
    return np.array(out)


def supervised_contrastive(labels, e, temperature=0.07, base_temperature=0.07):
    z = e / np.linalg.norm(e, axis=-1, keepdims=True)
    out = []
    for a in range(len(e)):
        positives, _ = _groups(labels, a)
        log_prob = _log_softmax_over_others(z @ z[a] / temperature, a)
        mean = np.mean([log_prob[p] for p in positives]) if positives else 0.0
        out.append(-(temperature / base_temperature) * mean)
    return np.array(out)


def nt_xent(ids, e, temperature=0.5):
    return supervised_contrastive(ids, e, temperature=temperature, base_temperature=temperature)


REFERENCES = {
    "triplet_hard": triplet_hard,
    "triplet_semihard": triplet_semihard,
    "lifted_structure": lifted_structure,
    "npairs": npairs,
    "npairs_multilabel": npairs_multilabel,
    "supervised_contrastive": supervised_contrastive,
    "nt_xent": nt_xent,
}


@pytest.mark.parametrize("params_label", ["defaults", "changed"])
@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_matches_numpy_reference(tmp_path, name, params_label):
    assert_matches_reference(tmp_path, name, params_label, REFERENCES[name])


def _subclass(tmp_path, name, **params):
    return catalog_forms(tmp_path, name).subclass(params)


def test_triplet_hard_by_hand(tmp_path):
    """Points 0, 1 and 3 on a line, labels (0, 0, 1), margin 2. Anchor 0: hardest positive
    1, hardest negative 3, loss max(1 - 3 + 2, 0) = 0. Anchor 1: 1 and 2, loss 1. Anchor 2
    has no positive (0) and negatives at 3 and 2: loss max(0 - 2 + 2, 0) = 0."""
    import keras

    loss = _subclass(tmp_path, "triplet_hard", margin=2.0)
    labels = np.array([0.0, 0.0, 1.0], dtype="float32")
    points = np.array([[0.0], [1.0], [3.0]], dtype="float32")
    np.testing.assert_allclose(keras.ops.convert_to_numpy(loss(labels, points)), [0.0, 1.0, 0.0], atol=1e-6)


def test_semihard_picks_the_nearest_negative_beyond_the_positive(tmp_path):
    """Anchor at 0, positive at 2, negatives at 1 (closer: not semi-hard) and 3 and 5: the
    negative used is 3, so the loss is max(1 + 2 - 3, 0) = 0 for margin 1 and 1 for
    margin 2."""
    import keras

    labels = np.array([0.0, 0.0, 1.0, 1.0, 1.0], dtype="float32")
    points = np.array([[0.0], [2.0], [1.0], [3.0], [5.0]], dtype="float32")
    for margin, expected in ((1.0, 0.0), (2.0, 1.0)):
        loss = _subclass(tmp_path, "triplet_semihard", margin=margin)
        anchor = keras.ops.convert_to_numpy(loss(labels, points))[0]
        assert anchor == pytest.approx(expected, abs=1e-6)


def test_npairs_multilabel_on_one_label_per_sample_is_npairs(tmp_path):
    """One-hot rows hold one label per sample: the label-overlap targets are then npairs'
    same-label targets, so the two losses agree on the same embeddings (here with
    classes that have no other member as well, whose anchors keep only the L2 term)."""
    import keras

    rng = np.random.default_rng(3)
    ids = np.array([0, 0, 1, 2, 2, 2, 3, 1, 4, 0], dtype="float32")
    embeddings = rng.normal(size=(10, 6)).astype("float32")
    multi_hot = np.eye(5, dtype="float32")[ids.astype(int)]
    single = catalog_forms(tmp_path, "npairs").function({"l2_reg": 0.01})
    multi = catalog_forms(tmp_path, "npairs_multilabel").function({"l2_reg": 0.01})
    expected = keras.ops.convert_to_numpy(single(ids, embeddings))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(multi(multi_hot, embeddings)), expected, rtol=1e-6)
