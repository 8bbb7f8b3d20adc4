"""Image losses (``inputs.image``) against float64 NumPy references and closed forms.

The reference is written here from Wang, Bovik, Sheikh and Simoncelli (2004): for every
image, channel and position where the window lies inside the image, the Gaussian-weighted
mean, variance and covariance of the two patches, and the index from them, with explicit
loops; none of it is derived from the spec's formula or the vocabulary's twin. Inputs
arrive as ``(batch, height, width, channels)``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import SPECS, assert_matches_reference, catalog_forms


def _gaussian_window(size: int, sigma: float) -> np.ndarray:
    """The paper's circular-symmetric Gaussian weights over a size-by-size patch, scaled
    to sum to one."""
    centre = (size - 1) / 2
    weights = np.empty((size, size))
    for u in range(size):
        for v in range(size):
            weights[u, v] = math.exp(-((u - centre) ** 2 + (v - centre) ** 2) / (2 * sigma**2))
    return weights / weights.sum()


def ssim(t, p, max_value=1.0, k1=0.01, k2=0.03, window=11, sigma=1.5):
    # Wang et al. (2004): weighted local statistics of each patch pair (the variances as
    # weighted means of squared deviations), SSIM = l * c * s with C3 = C2 / 2, and the
    # mean SSIM over the patches; here also over the channels. One minus it per image.
    w = _gaussian_window(window, sigma)
    c1, c2 = (k1 * max_value) ** 2, (k2 * max_value) ** 2
    batch, height, width, channels = t.shape
    out = []
    for b in range(batch):
        indices = []
        for c in range(channels):
            for i in range(height - window + 1):
                for j in range(width - window + 1):
                    x = t[b, i : i + window, j : j + window, c]
                    y = p[b, i : i + window, j : j + window, c]
                    mu_x, mu_y = np.sum(w * x), np.sum(w * y)
                    var_x = np.sum(w * (x - mu_x) ** 2)
                    var_y = np.sum(w * (y - mu_y) ** 2)
                    cov = np.sum(w * (x - mu_x) * (y - mu_y))
                    top = (2 * mu_x * mu_y + c1) * (2 * cov + c2)
                    indices.append(top / ((mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2)))
        out.append(1.0 - np.mean(indices))
    return np.array(out)


REFERENCES = {"ssim": ssim}


@pytest.mark.parametrize("params_label", ["defaults", "changed"])
@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_matches_numpy_reference(tmp_path, name, params_label):
    assert_matches_reference(tmp_path, name, params_label, REFERENCES[name])


def test_ssim_closed_forms_and_image_shapes(tmp_path):
    """Closed forms of the definition, through the three forms: an image against itself
    scores SSIM 1 (loss 0); two flat images of values a and b have no variance, so the
    contrast-structure term is c2 / c2 = 1 and SSIM is the luminance term alone,
    (2ab + c1) / (a^2 + b^2 + c1), whatever the window. Grayscale images come with or
    without their channel axis; images smaller than the window and images of different
    heights raise a ValueError that says so."""
    import keras

    forms = catalog_forms(tmp_path, "ssim")
    rng = np.random.default_rng(5)
    image = rng.uniform(0.0, 1.0, size=(2, 16, 16, 3)).astype("float32")
    flat_a = np.full((3, 12, 13, 2), 0.2, dtype="float32")
    flat_b = np.full((3, 12, 13, 2), 0.7, dtype="float32")
    c1 = (0.01 * 2.0) ** 2
    expected_flat = 1 - (2 * 0.2 * 0.7 + c1) / (0.2**2 + 0.7**2 + c1)
    gray_true, gray_pred = image[..., 0], image[::-1, ..., 0]
    for form in (forms.function, forms.factory, forms.subclass):
        loss = form({})
        np.testing.assert_allclose(keras.ops.convert_to_numpy(loss(image, image)), 0.0, atol=1e-6)
        flat = keras.ops.convert_to_numpy(form({"max_value": 2.0})(flat_a, flat_b))
        np.testing.assert_allclose(flat, np.full(3, expected_flat), rtol=1e-6)
        three_axes = keras.ops.convert_to_numpy(loss(gray_true, gray_pred))
        four_axes = keras.ops.convert_to_numpy(loss(gray_true[..., None], gray_pred[..., None]))
        np.testing.assert_allclose(three_axes, four_axes, rtol=1e-7)
        np.testing.assert_allclose(four_axes, ssim(gray_true[..., None], gray_pred[..., None]), rtol=1e-5)
        with pytest.raises(ValueError, match=r"window \(11 by 11 pixels\).*\(2, 10, 16, 3\)"):
            loss(image[:, :10], image[:, :10])
        with pytest.raises(ValueError, match=r"ssim.*\(2, 16, 16, 3\).*\(2, 17, 16, 3\)"):
            loss(image, np.concatenate([image, image[:, :1]], axis=1))


def test_ssim_window_hazards_are_explained():
    """Where the window cannot be built or does not fit, the checker's explainer says so
    at the first call of ``local_mean`` (NumPy only)."""
    from generator.check.hazards import explain
    from generator.spec.loader import load_spec

    item = load_spec(SPECS / "ssim.yaml")
    rng = np.random.default_rng(0)
    t, p = rng.normal(size=(2, 16, 16, 1)), rng.normal(size=(2, 16, 16, 1))
    assert "standard deviation 0 or less" in explain(item, t, p, {"sigma": 0.0})
    assert "does not fit images of shape (2, 8, 16, 1)" in explain(item, t[:, :8], p[:, :8], {})
    assert explain(item, t, p, {}) is None


@pytest.mark.tensorflow_only
def test_ssim_rank_variants_are_grayscale_images_with_and_without_a_channel_axis(tmp_path):
    """What users pass, for images: the checker's "rank variants" row gives a one-channel
    model grayscale targets ``(N, height, width)`` and ``(N, height, width, 1)`` in
    ``evaluate`` (and the forms three-axis predictions), and its "wrong shapes" row adds a
    prediction one pixel taller than the targets, which must raise."""
    from generator.check import checks
    from generator.spec.loader import load_spec

    item = load_spec(SPECS / "ssim.yaml")
    forms = catalog_forms(tmp_path, "ssim")
    (rank,) = checks.check_rank_variants(item, forms)
    assert rank.ok and "grayscale targets (32, 16, 16) and (32, 16, 16, 1)" in rank.detail, rank.detail
    (wrong,) = checks.check_wrong_shapes(item, forms)
    assert wrong.ok and "y_pred one pixel taller ((8, 16, 16, 4) and (8, 17, 16, 4))" in wrong.detail, wrong.detail
