"""ArcFace, SphereFace and Barron's robust loss against float64 NumPy references.

Each reference is written here from the paper (and, where the paper leaves a choice
open, the authors' code), not by translating the spec's formula: ArcFace's
``cos(theta + m)`` by the addition formula, as InsightFace computes it; SphereFace's
``cos(m theta)`` as the Chebyshev polynomial of the cosine, as the authors' Caffe code
computes it, with ``k`` from ``np.floor``; Barron's loss with its limits as separate
cases on alpha and the power taken directly. The references receive ``y_true`` and
``y_pred`` as made by ``generator.check.samples`` for the spec's input kinds (cosines
drawn as normal reals, so many lie outside [-1, 1] and exercise the clip), and the
parameters as keywords. The cases pinned by hand follow.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import SPECS, assert_matches_reference, catalog_forms
from numpy.polynomial import chebyshev

EPS = 1e-7


CLIP = float(np.float32(1 - EPS))
"""The clip bound 1 - epsilon as a float32 number (1 - 1.19e-7), as SphereFace's float32
loss applies it: arccos is so steep there (slope about -2000) that the float64 bound
1 - 1e-7 would move the angle of a clipped cosine by 4e-5 radians."""


def _clip(cosine):
    return np.clip(cosine, -CLIP, CLIP)


def _rows(y_true):
    """Indices of the true classes of one-hot rows."""
    return np.argmax(y_true, axis=-1)


def _crossentropy(logits, y):
    """-log softmax(logits)[y] of one row, stably: logsumexp(logits) - logits[y]."""
    top = logits.max()
    return top + np.log(np.exp(logits - top).sum()) - logits[y]


def arcface(t, cos, scale=64.0, margin=0.5, easy_margin=False):
    # Deng et al. (2019), eq. (3): -log(e^{s cos(theta_y + m)} / (e^{s cos(theta_y + m)}
    # + sum_{j != y} e^{s cos theta_j})). InsightFace: cos(theta + m) = cos theta cos m -
    # sin theta sin m, with sin theta = sqrt(1 - cos^2) clamped (here to at least eps, so
    # that its slope is finite); where cos theta <= cos(pi - m) (theta + m past pi) the
    # target is cos theta - m sin(pi - m) instead, or, with easy_margin, the plain cosine
    # where cos theta <= 0.
    out = []
    for row, y in zip(cos, _rows(t), strict=True):
        c = row[y]
        sine = np.sqrt(np.clip(1 - c**2, EPS, 1.0))
        margined = c * np.cos(margin) - sine * np.sin(margin)
        if easy_margin:
            target = margined if c > 0 else c
        else:
            target = margined if c > np.cos(np.pi - margin) else c - margin * np.sin(np.pi - margin)
        logits = scale * row
        logits[y] = scale * target
        out.append(_crossentropy(logits, y))
    return np.array(out)


def sphereface(t, cos, scale=30.0, margin=4, blend=0.0):
    # Liu et al. (2017), A-Softmax: psi(theta) = (-1)^k cos(m theta) - 2k for theta in
    # [k pi / m, (k + 1) pi / m], k in 0..m-1, on the normalised features (s in place of
    # ||x||). cos(m theta) = T_m(cos theta), the Chebyshev polynomial, as in the authors'
    # Caffe code; their lambda mixes the cosine in: (lambda cos + psi) / (1 + lambda).
    out = []
    for row, y in zip(cos, _rows(t), strict=True):
        c = row[y]
        clipped = _clip(c)
        theta = np.arccos(clipped)
        k = min(int(np.floor(margin * theta / np.pi)), margin - 1)
        psi = (-1) ** k * chebyshev.chebval(clipped, [0] * margin + [1]) - 2 * k
        logits = scale * row
        logits[y] = scale * (blend * c + psi) / (1 + blend)
        out.append(_crossentropy(logits, y))
    return np.array(out)


def barron(t, p, alpha=1.0, scale=1.0):
    # Barron (2019), eq. (1): rho(x, alpha, c) = |alpha - 2| / alpha * (((x / c)^2 /
    # |alpha - 2| + 1)^(alpha / 2) - 1), with its limits at alpha = 2 (0.5 (x/c)^2) and
    # alpha = 0 (log(0.5 (x/c)^2 + 1)); averaged over the last axis.
    squared = ((p - t) / scale) ** 2
    if alpha == 2:
        rho = 0.5 * squared
    elif alpha == 0:
        rho = np.log(0.5 * squared + 1)
    else:
        b = abs(alpha - 2)
        rho = b / alpha * ((squared / b + 1) ** (alpha / 2) - 1)
    return rho.mean(axis=-1)


REFERENCES = {"arcface": arcface, "sphereface": sphereface, "barron": barron}


@pytest.mark.parametrize("params_label", ["defaults", "changed"])
@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_matches_numpy_reference(tmp_path, name, params_label):
    assert_matches_reference(tmp_path, name, params_label, REFERENCES[name])


def _matches_reference_with(tmp_path, name, params, seeds=4, rtol=1e-5, atol=1e-6):
    """As ``assert_matches_reference``, for parameters of the test's choosing."""
    import keras

    from generator.check import samples
    from generator.spec.loader import load_spec

    spec = load_spec(SPECS / f"{name}.yaml").spec
    forms = catalog_forms(tmp_path, name)
    for seed in range(seeds):
        batch = samples.random_batch(spec, params, seed)
        ours = keras.ops.convert_to_numpy(forms.subclass(params)(batch.y_true, batch.y_pred))
        expected = REFERENCES[name](batch.y_true.astype("float64"), batch.y_pred.astype("float64"), **params)
        np.testing.assert_allclose(ours, expected, rtol=rtol, atol=atol, err_msg=f"{name} {params}, seed {seed}")


@pytest.mark.parametrize(
    "params",
    [
        {"margin": 0.0},
        {"margin": 0.2, "scale": 30.0, "easy_margin": True},
        {"margin": 0.8, "scale": 16.0},
    ],
)
def test_arcface_other_parameters_match_the_reference(tmp_path, params):
    _matches_reference_with(tmp_path, "arcface", params)


@pytest.mark.parametrize(
    "params",
    [
        {"margin": 1},
        {"margin": 2, "blend": 5.0},
        {"margin": 3, "scale": 10.0},
        {"margin": 4, "blend": 1000.0, "scale": 64.0},
    ],
)
def test_sphereface_other_parameters_match_the_reference(tmp_path, params):
    _matches_reference_with(tmp_path, "sphereface", params)


@pytest.mark.parametrize("alpha", [-1000.0, -2.0, -0.5, 0.0, 1e-6, -1e-6, 0.5, 1.999999, 2.0])
@pytest.mark.parametrize("scale", [0.5, 3.0])
def test_barron_other_parameters_match_the_reference(tmp_path, alpha, scale):
    _matches_reference_with(tmp_path, "barron", {"alpha": alpha, "scale": scale})


# ---------------------------------------------------------------- cases pinned by hand


def _values(loss, y_true, y_pred):
    import keras

    return np.asarray(keras.ops.convert_to_numpy(loss(y_true, y_pred)), dtype="float64")


def _two_classes(true_cosines, other_cosine=0.0):
    """Rows [cos_true, cos_other] with the first class true."""
    y_pred = np.stack([np.asarray(true_cosines, dtype="float64"), np.full(len(true_cosines), other_cosine)], axis=-1)
    return np.tile(np.array([[1.0, 0.0]], "float32"), (len(true_cosines), 1)), y_pred.astype("float32")


def test_arcface_margin_on_both_sides_of_pi_minus_m(tmp_path):
    """Two classes, so the loss is softplus(s (cos_other - target)). m = 0.5 and
    cos(pi - 0.5) = -0.8776: -0.85 is inside (the angle grows by m), -0.9 and -1 past it
    (the cosine drops by m sin m instead)."""
    forms = catalog_forms(tmp_path, "arcface")
    s, m, other = 64.0, 0.5, 0.2
    y_true, y_pred = _two_classes([0.5, 0.0, -0.85, -0.9, -1.0], other)
    targets = [
        np.cos(np.pi / 3 + m),
        np.cos(np.pi / 2 + m),
        np.cos(np.arccos(-0.85) + m),
        -0.9 - m * np.sin(m),
        -1.0 - m * np.sin(m),
    ]
    expected = np.logaddexp(0.0, s * (other - np.array(targets)))
    np.testing.assert_allclose(_values(forms.subclass({}), y_true, y_pred), expected, rtol=1e-6)


def test_arcface_easy_margin_leaves_obtuse_angles_alone(tmp_path):
    forms = catalog_forms(tmp_path, "arcface")
    s, m, other = 64.0, 0.5, -0.1
    y_true, y_pred = _two_classes([0.3, -0.3, -0.95], other)
    targets = [np.cos(np.arccos(0.3) + m), -0.3, -0.95]
    expected = np.logaddexp(0.0, s * (other - np.array(targets)))
    ours = _values(forms.subclass({"easy_margin": True}), y_true, y_pred)
    np.testing.assert_allclose(ours, expected, rtol=1e-6)


def test_arcface_without_margin_is_scaled_cosine_crossentropy(tmp_path):
    import keras

    forms = catalog_forms(tmp_path, "arcface")
    rng = np.random.default_rng(3)
    y_true = np.eye(5, dtype="float32")[rng.integers(0, 5, size=12)]
    y_pred = rng.uniform(-0.99, 0.99, size=(12, 5)).astype("float32")
    crossentropy = keras.losses.CategoricalCrossentropy(from_logits=True, reduction=None)
    expected = _values(crossentropy, y_true, 30.0 * y_pred)
    ours = _values(forms.subclass({"margin": 0.0, "scale": 30.0}), y_true, y_pred)
    np.testing.assert_allclose(ours, expected, rtol=1e-5, atol=1e-6)


def test_sphereface_psi_at_multiples_of_pi_over_2m(tmp_path):
    """m = 4: psi(j pi / 8) = 1 - j for j = 0..7 (the interval ends, j even, and their
    midpoints, j odd), so it decreases over [0, pi]; with s = 1 and the other cosine 0
    the loss is softplus(-psi)."""
    forms = catalog_forms(tmp_path, "sphereface")
    j = np.arange(8)
    y_true, y_pred = _two_classes(np.cos(j * np.pi / 8))
    expected = np.logaddexp(0.0, -(1.0 - j))
    np.testing.assert_allclose(_values(forms.subclass({"scale": 1.0}), y_true, y_pred), expected, rtol=1e-5)


def test_sphereface_blend_mixes_the_cosine_in(tmp_path):
    """lambda = 5 at theta = 3 pi / 8: psi = -2, target (5 cos(3 pi / 8) - 2) / 6."""
    forms = catalog_forms(tmp_path, "sphereface")
    c = np.cos(3 * np.pi / 8)
    y_true, y_pred = _two_classes([c], 0.1)
    expected = np.logaddexp(0.0, 30.0 * (0.1 - (5 * c - 2) / 6))
    ours = _values(forms.subclass({"blend": 5.0}), y_true, y_pred)
    np.testing.assert_allclose(ours, expected, rtol=1e-5)


def test_sphereface_with_margin_one_is_scaled_cosine_crossentropy(tmp_path):
    import keras

    forms = catalog_forms(tmp_path, "sphereface")
    rng = np.random.default_rng(9)
    y_true = np.eye(5, dtype="float32")[rng.integers(0, 5, size=12)]
    y_pred = rng.uniform(-0.99, 0.99, size=(12, 5)).astype("float32")
    crossentropy = keras.losses.CategoricalCrossentropy(from_logits=True, reduction=None)
    expected = _values(crossentropy, y_true, 30.0 * y_pred)
    for blend in (0.0, 5.0):
        ours = _values(forms.subclass({"margin": 1, "blend": blend}), y_true, y_pred)
        np.testing.assert_allclose(ours, expected, rtol=1e-5, atol=1e-6)


_ERRORS = np.array([[0.0, 0.1, -0.5, 1.0, -2.0, 5.0, -30.0, 200.0]])


@pytest.mark.parametrize("scale", [1.0, 0.3, 4.0])
@pytest.mark.parametrize(
    "alpha, special_case",
    [
        (2.0, lambda z: 0.5 * z),  # L2
        (1.0, lambda z: np.sqrt(z + 1) - 1),  # Charbonnier / pseudo-Huber
        (0.0, lambda z: np.log(0.5 * z + 1)),  # Cauchy / Lorentzian
        (-2.0, lambda z: 2 * z / (z + 4)),  # Geman-McClure
    ],
    ids=["L2", "pseudo-Huber", "Cauchy", "Geman-McClure"],
)
def test_barron_special_cases_of_the_paper(tmp_path, alpha, special_case, scale):
    """Section 1 of the paper: alpha = 2, 1, 0 and -2 give these losses of z = (x / c)^2,
    exactly at alpha = 0 and 2 (where eq. (1) itself is 0 / 0)."""
    forms = catalog_forms(tmp_path, "barron")
    y_true = np.zeros_like(_ERRORS, dtype="float32")
    expected = special_case((_ERRORS / scale) ** 2).mean(axis=-1)
    ours = _values(forms.subclass({"alpha": alpha, "scale": scale}), y_true, _ERRORS.astype("float32"))
    np.testing.assert_allclose(ours, expected, rtol=1e-6)


def test_barron_is_continuous_in_alpha_at_0_and_2_and_tends_to_welsch(tmp_path):
    """Just off 0 and 2 the loss is within about |alpha - limit| of the limit's value
    (relatively); at -1000 it is within 0.002 of Welsch's 1 - exp(-z / 2)."""
    forms = catalog_forms(tmp_path, "barron")
    y_true = np.zeros_like(_ERRORS, dtype="float32")
    y_pred = _ERRORS.astype("float32")
    z = _ERRORS**2

    def loss(alpha):
        return _values(forms.subclass({"alpha": alpha}), y_true, y_pred)

    cauchy, l2 = np.log(0.5 * z + 1).mean(axis=-1), (0.5 * z).mean(axis=-1)
    for alpha in (1e-3, -1e-3):
        np.testing.assert_allclose(loss(alpha), cauchy, rtol=1e-2)
        assert not np.allclose(loss(alpha), cauchy, rtol=1e-7, atol=0)
    np.testing.assert_allclose(loss(2 - 1e-3), l2, rtol=1e-2)
    np.testing.assert_allclose(loss(-1000.0), (1 - np.exp(-0.5 * z)).mean(axis=-1), atol=0.002)


@pytest.mark.tensorflow_only
@pytest.mark.parametrize("alpha", [0.0, 2.0, 1.0, -2.0])
def test_barron_gradients_are_finite_and_match_the_paper_at_the_special_cases(tmp_path, alpha):
    """The paper's derivative, d rho / dx = x / c^2 * ((x / c)^2 / |alpha - 2| + 1)^(alpha / 2
    - 1), which is x / c^2 at alpha = 2 and x / c^2 / (0.5 (x / c)^2 + 1) at alpha = 0;
    divided by the 8 errors the mean runs over."""
    import tensorflow as tf

    forms = catalog_forms(tmp_path, "barron")
    scale = 2.0
    x = _ERRORS[0]
    variable = tf.Variable(_ERRORS.astype("float32"))
    with tf.GradientTape() as tape:
        value = forms.function({"alpha": alpha, "scale": scale})(tf.zeros_like(variable), variable)
    gradient = tape.gradient(value, variable).numpy()[0]
    z = (x / scale) ** 2
    if alpha == 2:
        slope = x / scale**2
    elif alpha == 0:
        slope = x / scale**2 / (0.5 * z + 1)
    else:
        slope = x / scale**2 * (z / abs(alpha - 2) + 1) ** (alpha / 2 - 1)
    np.testing.assert_allclose(gradient, slope / len(x), rtol=1e-5, atol=1e-9)
