"""Likelihood losses on packed predictions, against SciPy's own distributions in float64.

The references are written from the papers' definitions of the marginal distributions, and
computed with ``scipy.stats``, not by translating the specs' formulas.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats
from conftest import assert_matches_reference


def evidential_regression(t, p, coefficient=0.01):
    # Amini et al. (2020): the Normal-Inverse-Gamma evidence gives a Student-t marginal
    # with 2 alpha degrees of freedom, location gamma, scale^2 = beta (1 + nu) / (nu alpha);
    # the regulariser is |y - gamma| (2 nu + alpha).
    gamma, nu, alpha, beta = np.split(p, 4, axis=-1)
    scale = np.sqrt(beta * (1 + nu) / (nu * alpha))
    nll = -scipy.stats.t.logpdf(t, df=2 * alpha, loc=gamma, scale=scale)
    return np.mean(nll + coefficient * np.abs(t - gamma) * (2 * nu + alpha), axis=-1)


@pytest.mark.parametrize("params", ["defaults", "changed"])
def test_evidential_regression_is_the_student_t_likelihood(tmp_path, params):
    assert_matches_reference(tmp_path, "evidential_regression", params, evidential_regression)


def von_mises_nll(t, p, full=True):
    # The von Mises density exp(kappa cos(y - mu)) / (2 pi I0(kappa)); without `full`,
    # the constant log(2 pi) is left out.
    mu, kappa = np.split(p, 2, axis=-1)
    nll = -scipy.stats.vonmises.logpdf(t, kappa, loc=mu)
    return np.mean(nll if full else nll - np.log(2 * np.pi), axis=-1)


@pytest.mark.parametrize("params", ["defaults", "changed"])
def test_von_mises_nll_is_the_von_mises_likelihood(tmp_path, params):
    assert_matches_reference(tmp_path, "von_mises_nll", params, von_mises_nll)


def student_t_nll(t, p, df=3.0):
    location, scale = np.split(p, 2, axis=-1)
    return np.mean(-scipy.stats.t.logpdf(t, df=df, loc=location, scale=scale), axis=-1)


@pytest.mark.parametrize("params", ["defaults", "changed"])
def test_student_t_nll_is_the_student_t_likelihood(tmp_path, params):
    assert_matches_reference(tmp_path, "student_t_nll", params, student_t_nll)


def test_von_mises_nll_ignores_whole_turns(tmp_path):
    """Adding 2 pi to every target angle leaves the loss unchanged."""
    import keras
    from conftest import catalog_forms

    forms = catalog_forms(tmp_path, "von_mises_nll")
    rng = np.random.default_rng(5)
    t = rng.uniform(-np.pi, np.pi, size=(16, 1)).astype("float32")
    p = np.concatenate([rng.normal(size=(16, 1)), rng.uniform(0.1, 20, size=(16, 1))], -1).astype("float32")
    loss = forms.subclass({})
    same = keras.ops.convert_to_numpy(loss(t + 2 * np.pi, p))
    np.testing.assert_allclose(same, keras.ops.convert_to_numpy(loss(t, p)), rtol=1e-5, atol=2e-5)


REFERENCES = {
    "evidential_regression": evidential_regression,
    "student_t_nll": student_t_nll,
    "von_mises_nll": von_mises_nll,
}
"""The catalog losses this file checks against a reference (read by test_published)."""
