"""Segmentation losses (MONAI's family) and Barlow Twins against float64 NumPy references.

Each reference is written here from the paper's definition (and, where the paper leaves a
choice open, MONAI's documented convention, named in the spec's notes), with explicit
loops over samples, classes and pixels; none is derived from the specs' formulas.
Per-pixel inputs arrive as ``(batch, height, width, classes)``.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import assert_matches_reference

EPS = 1e-7


def _per_pixel(t, p):
    """Targets and predictions as ``(batch, pixels, classes)``."""
    return t.reshape(len(t), -1, t.shape[-1]), p.reshape(len(p), -1, p.shape[-1])


def generalized_dice(t, p):
    # Sudre et al. (2017), eq. 4: w_c = 1 / (sum_n r_cn)^2; a class absent from the
    # sample takes the largest weight among the present ones (MONAI's rule).
    t, p = _per_pixel(t, p)
    out = []
    for r, q in zip(t, p, strict=True):
        classes = r.shape[-1]
        sizes = [sum(r[n, c] for n in range(len(r))) for c in range(classes)]
        present = [1.0 / s**2 for s in sizes if s > 0]
        weights = [1.0 / s**2 if s > 0 else max(present) for s in sizes]
        top = sum(weights[c] * sum(r[n, c] * q[n, c] for n in range(len(r))) for c in range(classes))
        bottom = sum(weights[c] * sum(r[n, c] + q[n, c] for n in range(len(r))) for c in range(classes))
        out.append(1 - 2 * top / (bottom + EPS))
    return np.array(out)


def _dice_per_class(r, q):
    """Milletari et al.'s Dice loss of each class (column) of one sample, with Keras's
    smoothing (epsilon in the denominator only)."""
    out = []
    for c in range(r.shape[-1]):
        overlap = sum(r[n, c] * q[n, c] for n in range(len(r)))
        total = sum(r[n, c] for n in range(len(r))) + sum(q[n, c] for n in range(len(r)))
        out.append(1 - 2 * overlap / (total + EPS))
    return out


def _sigmoid_focal(r, q, gamma):
    """Lin et al.'s focal loss of one sample's binary pixels, averaged over every pixel and
    channel: -(1 - p_t)^gamma log(p_t), with p_t the probability of the right answer."""
    terms = []
    for n in range(len(r)):
        for c in range(r.shape[-1]):
            p_t = q[n, c] if r[n, c] == 1 else 1 - q[n, c]
            terms.append(-((1 - p_t) ** gamma) * np.log(np.clip(p_t, EPS, 1 - EPS)))
    return float(np.mean(terms))


def dice_focal(t, p, gamma=2.0, lambda_dice=1.0, lambda_focal=1.0):
    t, p = _per_pixel(t, p)
    return np.array(
        [
            lambda_dice * np.mean(_dice_per_class(r, q)) + lambda_focal * _sigmoid_focal(r, q, gamma)
            for r, q in zip(t, p, strict=True)
        ]
    )


def generalized_dice_focal(t, p, gamma=2.0, lambda_gdl=1.0, lambda_focal=1.0):
    gdl = generalized_dice(t, p)
    t, p = _per_pixel(t, p)
    focal = np.array([_sigmoid_focal(r, q, gamma) for r, q in zip(t, p, strict=True)])
    return lambda_gdl * gdl + lambda_focal * focal


def dice_ce(t, p, lambda_dice=1.0, lambda_ce=1.0, label_smoothing=0.0):
    # Dice of each class averaged over the classes, plus the crossentropy of each pixel
    # (PyTorch's label smoothing: the targets mixed with the uniform distribution) averaged
    # over the pixels.
    t, p = _per_pixel(t, p)
    out = []
    for r, q in zip(t, p, strict=True):
        q = q / q.sum(axis=-1, keepdims=True)
        classes = r.shape[-1]
        pixel_losses = []
        for n in range(len(r)):
            soft = [r[n, c] * (1 - label_smoothing) + label_smoothing / classes for c in range(classes)]
            pixel_losses.append(-sum(soft[c] * np.log(np.clip(q[n, c], EPS, 1 - EPS)) for c in range(classes)))
        out.append(lambda_dice * np.mean(_dice_per_class(r, q)) + lambda_ce * np.mean(pixel_losses))
    return np.array(out)


def mcc(t, p):
    # Abhishek and Hamarneh (2021): 1 - MCC from soft confusion counts; a prediction with
    # no false positive or negative costs 0.
    out = []
    for r, q in zip(t, p, strict=True):
        tp = sum(a * b for a, b in zip(r, q, strict=True))
        tn = sum((1 - a) * (1 - b) for a, b in zip(r, q, strict=True))
        fp = sum((1 - a) * b for a, b in zip(r, q, strict=True))
        fn = sum(a * (1 - b) for a, b in zip(r, q, strict=True))
        if fp == 0 and fn == 0:
            out.append(0.0)
            continue
        coefficient = (tp * tn - fp * fn) / np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn) + EPS)
        out.append(1 - coefficient)
    return np.array(out)


def asymmetric_unified_focal(t, p, lambda_tversky=0.5, delta=0.6, gamma=0.5):
    # Yeung et al. (2022), as their reference code computes it: two classes per pixel
    # (background 0, foreground 1); an asymmetric focal crossentropy (the focal factor on
    # the background only, summed over the two classes, averaged over the pixels) and an
    # asymmetric focal Tversky loss (the focal power on the foreground only, averaged over
    # the two classes), mixed by lambda.
    out = []
    for r, q in zip(t, p, strict=True):
        truth = np.stack([1 - r, r], axis=-1)
        prob = np.clip(np.stack([1 - q, q], axis=-1), EPS, 1 - EPS)
        crossentropy = []
        for n in range(len(r)):
            back = -(1 - delta) * max(1 - prob[n, 0], EPS) ** gamma * truth[n, 0] * np.log(prob[n, 0])
            fore = -delta * truth[n, 1] * np.log(prob[n, 1])
            crossentropy.append(back + fore)
        indices = []
        for c in (0, 1):
            tp = sum(truth[n, c] * prob[n, c] for n in range(len(r)))
            fn = sum(truth[n, c] * (1 - prob[n, c]) for n in range(len(r)))
            fp = sum((1 - truth[n, c]) * prob[n, c] for n in range(len(r)))
            indices.append((tp + EPS) / (tp + delta * fn + (1 - delta) * fp + EPS))
        tversky = ((1 - indices[0]) + max(1 - indices[1], EPS) ** (1 - gamma)) / 2
        out.append(lambda_tversky * tversky + (1 - lambda_tversky) * np.mean(crossentropy))
    return np.array(out)


def generalized_wasserstein_dice(t, p, distances=None):
    # Fidon et al. (2017): per pixel the Wasserstein distance between the predicted
    # distribution and the one-hot truth under M; true positives weighted 0 for the
    # background (class 0) and 1 for the other classes.
    m = np.asarray(distances, dtype=float)
    t, p = _per_pixel(t, p)
    out = []
    for r, q in zip(t, p, strict=True):
        q = q / q.sum(axis=-1, keepdims=True)
        true_positives = errors = 0.0
        for n in range(len(r)):
            label = int(np.argmax(r[n]))
            distance = sum(m[label, c] * q[n, c] for c in range(len(q[n])))
            errors += distance
            if label != 0:
                true_positives += 1 - distance
        out.append(1 - 2 * true_positives / (2 * true_positives + errors + EPS))
    return np.array(out)


def barlow_twins(t, p, off_diagonal_weight=0.005):
    # Zbontar et al. (2021), eq. 1, with each feature standardised over the batch as MONAI
    # does (the n - 1 standard deviation, plus 1e-6); one value for the batch, given to
    # every sample.
    n, d = p.shape

    def standardised(x):
        return (x - x.mean(axis=0)) / (x.std(axis=0, ddof=1) + 1e-6)

    a, b = standardised(p), standardised(t)
    total = 0.0
    for i in range(d):
        for j in range(d):
            c_ij = sum(a[k, i] * b[k, j] for k in range(n)) / n
            total += (1 - c_ij) ** 2 if i == j else off_diagonal_weight * c_ij**2
    return np.full(n, total)


REFERENCES = {
    "asymmetric_unified_focal": asymmetric_unified_focal,
    "barlow_twins": barlow_twins,
    "dice_ce": dice_ce,
    "dice_focal": dice_focal,
    "generalized_dice": generalized_dice,
    "generalized_dice_focal": generalized_dice_focal,
    "generalized_wasserstein_dice": generalized_wasserstein_dice,
    "mcc": mcc,
}


@pytest.mark.parametrize("params_label", ["defaults", "changed"])
@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_matches_numpy_reference(tmp_path, name, params_label):
    assert_matches_reference(tmp_path, name, params_label, REFERENCES[name])
