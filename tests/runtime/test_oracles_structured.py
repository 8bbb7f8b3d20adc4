"""Boxes, ordinal agreement, the Lovász extension and a Gaussian likelihood, against
float64 NumPy references written from their definitions (loops and sets, not the
vectorised formulas of the specs), plus values worked out by hand.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import assert_matches_reference, catalog_forms


def _area(box) -> float:
    return max(box[2] - box[0], 0.0) * max(box[3] - box[1], 0.0)


def _overlap(a, b) -> float:
    height = max(min(a[2], b[2]) - max(a[0], b[0]), 0.0)
    width = max(min(a[3], b[3]) - max(a[1], b[1]), 0.0)
    return height * width


def _iou(a, b) -> float:
    union = _area(a) + _area(b) - _overlap(a, b)
    return _overlap(a, b) / union if union > 0 else 0.0


def giou(t, p, generalized=True):
    out = []
    for a, b in zip(t, p, strict=True):
        value = _iou(a, b)
        if generalized:
            hull = _area((min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])))
            union = _area(a) + _area(b) - _overlap(a, b)
            value -= (hull - union) / hull if hull > 0 else 0.0
        out.append(1.0 - value)
    return np.array(out)


def diou(t, p):
    out = []
    for a, b in zip(t, p, strict=True):
        centre_a = np.array([(a[0] + a[2]) / 2, (a[1] + a[3]) / 2])
        centre_b = np.array([(b[0] + b[2]) / 2, (b[1] + b[3]) / 2])
        corner_low = np.minimum(a[:2], b[:2])
        corner_high = np.maximum(a[2:], b[2:])
        diagonal = float(np.sum((corner_high - corner_low) ** 2))
        gap = float(np.sum((centre_a - centre_b) ** 2))
        out.append(1.0 - _iou(a, b) + (gap / diagonal if diagonal > 0 else 0.0))
    return np.array(out)


def weighted_kappa(t, p, linear=False, eps=1e-6):
    n, classes = t.shape
    i, j = np.meshgrid(np.arange(classes), np.arange(classes), indexing="ij")
    weights = np.abs(i - j) if linear else (i - j) ** 2
    observed = t.T @ p  # soft confusion matrix: true class by predicted class
    expected = np.outer(t.sum(axis=0), p.sum(axis=0)) / n  # from the two marginals
    value = np.log((weights * observed).sum() / (weights * expected).sum() + eps)
    return np.full(n, value)


def _jaccard_loss(truth: set[int], mistakes: set[int]) -> float:
    """1 - |truth kept| / |truth or mistakes|: the Jaccard loss when ``mistakes`` are wrong."""
    union = truth | mistakes
    return 1.0 - len(truth - mistakes) / len(union) if union else 0.0


def lovasz_hinge(t, logits):
    out = []
    for labels, scores in zip(t, logits, strict=True):
        errors = 1.0 - scores * (2.0 * labels - 1.0)
        order = sorted(range(len(errors)), key=lambda k: -errors[k])
        truth = {k for k in range(len(labels)) if labels[k] == 1}
        total, previous = 0.0, 0.0
        for position in range(len(order)):
            current = _jaccard_loss(truth, set(order[: position + 1]))
            total += max(errors[order[position]], 0.0) * (current - previous)
            previous = current
        out.append(total)
    return np.array(out)


def lovasz_softmax(t, p, all_classes=False):
    """Per image: for each class present in the truth (every class with ``all_classes``),
    the Lovász extension of its Jaccard loss over the pixels' errors |truth - probability|;
    then the mean over those classes."""
    out = []
    for labels, probabilities in zip(t, p, strict=True):
        labels = labels.reshape(-1, labels.shape[-1])  # pixels by classes, any image shape
        probabilities = probabilities.reshape(labels.shape)
        per_class = []
        for c in range(labels.shape[-1]):
            truth = {k for k in range(len(labels)) if labels[k, c] == 1}
            if not truth and not all_classes:
                continue
            errors = np.abs(labels[:, c] - probabilities[:, c])
            order = sorted(range(len(errors)), key=lambda k: -errors[k])
            total, previous = 0.0, 0.0
            for position in range(len(order)):
                current = _jaccard_loss(truth, set(order[: position + 1]))
                total += errors[order[position]] * (current - previous)
                previous = current
            per_class.append(total)
        out.append(sum(per_class) / len(per_class))
    return np.array(out)


def gaussian_nll(t, p, full=False):
    d = t.shape[-1]
    mean, variance = p[:, :d], np.exp(p[:, d:])
    nll = 0.5 * np.log(2 * math.pi * variance) + (t - mean) ** 2 / (2 * variance)
    if not full:
        nll -= 0.5 * math.log(2 * math.pi)
    return nll.mean(axis=-1)


REFERENCES = {
    "giou": giou,
    "diou": diou,
    "weighted_kappa": weighted_kappa,
    "lovasz_hinge": lovasz_hinge,
    "lovasz_softmax": lovasz_softmax,
    "gaussian_nll": gaussian_nll,
}


@pytest.mark.parametrize("params_label", ["defaults", "changed"])
@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_matches_numpy_reference(tmp_path, name, params_label):
    assert_matches_reference(tmp_path, name, params_label, REFERENCES[name])


def _loss(tmp_path, name, **params):
    loss = catalog_forms(tmp_path, name).subclass(params)

    def values(y_true, y_pred):
        import keras

        y_true, y_pred = np.asarray(y_true, "float32"), np.asarray(y_pred, "float32")
        return keras.ops.convert_to_numpy(loss(y_true, y_pred))

    return values


UNIT = [0.0, 0.0, 1.0, 1.0]


def test_box_losses_by_hand(tmp_path):
    """Target: the unit square. Shifted right by 0.5: IoU 0.5 / 1.5 = 1/3, enclosing box
    1.5, GIoU loss 2/3; centres 0.5 apart, enclosing diagonal^2 1 + 2.25, DIoU loss 2/3 +
    0.25 / 3.25. Touching on an edge: GIoU loss 1. Apart by one width: enclosing box 3,
    union 2, GIoU -1/3, loss 4/3. Identical boxes: 0 for both."""
    giou_loss, diou_loss = _loss(tmp_path, "giou"), _loss(tmp_path, "diou")
    targets = [UNIT] * 4
    predictions = [[0.0, 0.5, 1.0, 1.5], [0.0, 1.0, 1.0, 2.0], [0.0, 2.0, 1.0, 3.0], UNIT]
    np.testing.assert_allclose(giou_loss(targets, predictions), [2 / 3, 1.0, 4 / 3, 0.0], atol=1e-6)
    assert diou_loss([UNIT], [predictions[0]])[0] == pytest.approx(2 / 3 + 0.25 / 3.25, abs=1e-6)
    assert diou_loss([UNIT], [UNIT])[0] == pytest.approx(0.0, abs=1e-6)
    iou_loss = _loss(tmp_path, "giou", generalized=False)
    np.testing.assert_allclose(iou_loss(targets, predictions), [2 / 3, 1.0, 1.0, 0.0], atol=1e-6)


def test_lovasz_hinge_is_twice_one_minus_iou_for_unit_logits(tmp_path):
    """Mask (1, 1, 0, 0) predicted as (1, 0, 1, 0) with logits +-1: one true positive, one
    missed, one spurious pixel, IoU 1/3; every wrong pixel has hinge error 2, so the
    loss is 2 * (1 - 1/3)."""
    loss = _loss(tmp_path, "lovasz_hinge")
    value = loss([[1.0, 1.0, 0.0, 0.0]], [[1.0, -1.0, 1.0, -1.0]])[0]
    assert value == pytest.approx(4 / 3, abs=1e-6)


def test_lovasz_softmax_is_one_minus_iou_for_hard_predictions(tmp_path):
    """Hard one-hot predictions make every error 0 or 1, so the extension is exact.
    Image 1 (2x2, classes 0 0 / 1 2, predicted 0 1 / 1 1): IoU of class 0 is 1/2, of
    class 1 is 1/3, of class 2 is 0; the loss is the mean of 1/2, 2/3 and 1. Image 2 (all
    class 0, one pixel predicted as class 1): class 1 is absent from the truth and does
    not count, so the loss is 1 - 3/4."""
    loss = _loss(tmp_path, "lovasz_softmax")
    hot = np.eye(3)
    truth = [hot[[[0, 0], [1, 2]]], hot[[[0, 0], [0, 0]]]]
    predicted = [hot[[[0, 1], [1, 1]]], hot[[[0, 0], [0, 1]]]]
    np.testing.assert_allclose(loss(truth, predicted), [(1 / 2 + 2 / 3 + 1) / 3, 1 / 4], atol=1e-6)


def test_weighted_kappa_is_log_eps_for_perfect_agreement(tmp_path):
    """Perfect predictions have no weighted disagreement: log(0 + eps)."""
    loss = _loss(tmp_path, "weighted_kappa")
    hot = np.eye(3)[[0, 1, 2, 1]]
    np.testing.assert_allclose(loss(hot, hot), np.full(4, math.log(1e-6)), rtol=1e-5)


def test_gaussian_nll_full_is_the_normal_log_density(tmp_path):
    """Mean 0, log-variance 0 (unit normal) and target 1: -log(exp(-1/2) / sqrt(2 pi))."""
    loss = _loss(tmp_path, "gaussian_nll", full=True)
    assert loss([[1.0]], [[0.0, 0.0]])[0] == pytest.approx(0.5 + 0.5 * math.log(2 * math.pi), rel=1e-6)
