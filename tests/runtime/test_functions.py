"""Each trigonometric and special function of the vocabulary, in generated code, against
SciPy and NumPy in float64, on random inputs inside its domain, on every backend
(``make test-backends`` runs this folder under JAX and PyTorch too).

The references are SciPy's and NumPy's own functions, called here directly, not the
checker's evaluator: ``lgamma``, ``digamma`` and ``log_i0`` are written by lossgen as
helper functions of ``keras.ops`` (Keras has none of them), so they need a reference
lossgen did not write.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
import scipy.special
from conftest import spec_forms

from generator.formula.vocabulary import PUBLIC_FUNCTIONS

SPEC = """\
name: {name}
title: One function
task: regression
summary: The mean of one function of the predictions, for the vocabulary tests.
formula:
  loss: {formula}
"""

N = 512
TOL = 1e-6
"""float32 values against float64 references, relative (and absolute near 0)."""
ATOL = {"lgamma": 1e-5}
"""lgamma near its zeros at 1 and 2 in float32: log Gamma(x + 8) and the sum of the logs
of the eight factors are each about 10.6, so their difference carries an absolute error of
a few float32 units of 10.6 (up to 4.5e-6 measured, on PyTorch). Elsewhere it meets
``TOL`` relative."""
FLOAT64_TOL = 1e-10
"""float64 values against float64 references on TensorFlow: far below float32 rounding."""


def _uniform(low: float, high: float):
    def draw(rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.uniform(low, high, size=(n, 1))

    return draw


def _gamma_arguments(rng: np.random.Generator, n: int) -> np.ndarray:
    """Arguments of lgamma and digamma from 1e-3 to 1e3, evenly in log scale, with the
    zeros of lgamma (1 and 2) and the minimum of Gamma (about 1.4616) among them."""
    x = np.exp(rng.uniform(np.log(1e-3), np.log(1e3), size=(n, 1)))
    x[:3, 0] = [1.0, 2.0, 1.4616321449683623]
    return x


# function -> (formula over y_pred (and y_true), float64 reference, inputs inside the domain)
CASES = {
    "sin": ("sin(y_pred)", np.sin, _uniform(-10, 10)),
    "cos": ("cos(y_pred)", np.cos, _uniform(-10, 10)),
    "tan": ("tan(y_pred)", np.tan, _uniform(-1.4, 1.4)),
    "arcsin": ("arcsin(y_pred)", np.arcsin, _uniform(-0.999, 0.999)),
    "arccos": ("arccos(y_pred)", np.arccos, _uniform(-0.999, 0.999)),
    "arctan": ("arctan(y_pred)", np.arctan, _uniform(-50, 50)),
    "sinh": ("sinh(y_pred)", np.sinh, _uniform(-20, 20)),
    "cosh": ("cosh(y_pred)", np.cosh, _uniform(-20, 20)),
    "tanh": ("tanh(y_pred)", np.tanh, _uniform(-5, 5)),
    "erf": ("erf(y_pred)", scipy.special.erf, _uniform(-4, 4)),
    "erfinv": ("erfinv(y_pred)", scipy.special.erfinv, _uniform(-0.99, 0.99)),
    "lgamma": ("lgamma(y_pred)", scipy.special.gammaln, _gamma_arguments),
    "digamma": ("digamma(y_pred)", scipy.special.digamma, _gamma_arguments),
    "log_i0": ("log_i0(y_pred)", lambda x: np.log(scipy.special.i0e(x)) + x, _gamma_arguments),
    "pi": ("pi * y_pred", lambda x: np.pi * x, _uniform(-3, 3)),
}
TWO_ARGUMENTS = {"arctan2": ("arctan2(y_pred, y_true)", np.arctan2)}

NEW_FUNCTIONS = set(CASES) | set(TWO_ARGUMENTS)


def test_every_trigonometric_and_special_function_is_tested_here():
    """The issue's list of functions is in the vocabulary, and each one has a case above."""
    wanted = {"sin", "cos", "tan", "arcsin", "arccos", "arctan", "arctan2", "sinh", "cosh", "tanh"}
    wanted |= {"lgamma", "digamma", "erf", "erfinv", "pi", "log_i0"}
    assert wanted <= set(PUBLIC_FUNCTIONS)
    assert wanted == NEW_FUNCTIONS


def _loss(tmp_path, name: str, formula: str):
    path = tmp_path / f"{name}.yaml"
    path.write_text(SPEC.format(name=f"{name}_probe", formula=formula), encoding="utf-8")
    return spec_forms(tmp_path, path)


def _assert_forms_match(forms, y_true, y_pred, expected, tol, atol=None):
    """The three forms on these inputs; the class computes in the inputs' dtype (a Loss
    casts its inputs to its own ``dtype``, ``floatx()`` unless given)."""
    import keras

    subclass = forms.subclass_with({}, reduction=None, dtype=str(y_pred.dtype))
    for form, loss in (("function", forms.function({})), ("factory", forms.factory({})), ("class", subclass)):
        got = np.asarray(keras.ops.convert_to_numpy(loss(y_true, y_pred)), dtype="float64")
        np.testing.assert_allclose(got, expected, rtol=tol, atol=tol if atol is None else atol, err_msg=form)


@pytest.mark.parametrize("fn", sorted(CASES))
def test_function_matches_its_float64_reference(tmp_path, fn):
    formula, reference, draw = CASES[fn]
    forms = _loss(tmp_path, fn, formula)
    x = draw(np.random.default_rng(7), N).astype("float32")
    expected = reference(x.astype("float64"))[:, 0]
    _assert_forms_match(forms, np.zeros_like(x), x, expected, TOL, ATOL.get(fn))


def test_arctan2_matches_its_float64_reference(tmp_path):
    formula, reference = TWO_ARGUMENTS["arctan2"]
    forms = _loss(tmp_path, "arctan2", formula)
    rng = np.random.default_rng(7)
    y, x = rng.normal(size=(N, 1)), rng.normal(size=(N, 1))
    _assert_forms_match(forms, x.astype("float32"), y.astype("float32"), reference(y, x)[:, 0], TOL)


@pytest.mark.skipif(os.environ.get("KERAS_BACKEND") != "tensorflow", reason="float64 is computed in float64 on TF")
@pytest.mark.parametrize("fn", ["lgamma", "digamma", "log_i0"])
def test_helpers_are_float64_accurate(tmp_path, fn):
    """The helpers are accurate far below float32 rounding: lossgen's own lgamma, digamma
    and log_i0 do not limit a float64 loss."""
    formula, reference, draw = CASES[fn]
    forms = _loss(tmp_path, fn, formula)
    x = draw(np.random.default_rng(11), N)
    _assert_forms_match(forms, np.zeros_like(x), x, reference(x)[:, 0], FLOAT64_TOL)


@pytest.mark.tensorflow_only
def test_gradient_of_lgamma_is_digamma(tmp_path):
    """The slope of the lgamma helper, by automatic differentiation, is SciPy's digamma."""
    import tensorflow as tf

    forms = _loss(tmp_path, "lgamma", "lgamma(y_pred)")
    x = _gamma_arguments(np.random.default_rng(3), N)
    y_pred = tf.Variable(x.astype("float32"))
    with tf.GradientTape() as tape:
        total = tf.reduce_sum(forms.function({})(np.zeros_like(x, "float32"), y_pred))
    slope = tape.gradient(total, y_pred).numpy().astype("float64")
    np.testing.assert_allclose(slope, scipy.special.digamma(x), rtol=1e-5, atol=1e-5)


@pytest.mark.skipif(os.environ.get("KERAS_BACKEND") != "tensorflow", reason="float64 is computed in float64 on TF")
def test_a_branch_of_parameters_alone_computes_in_float64(tmp_path):
    """``where(alpha == 2, 1.0, abs(alpha - 2))``: the branch that calls a function of the
    parameter alone is cast to the inputs' dtype too (it used to be a float32 tensor, which
    lost the digits of ``2 - 1e-6`` that a float64 loss keeps)."""
    path = tmp_path / "branch.yaml"
    path.write_text(
        SPEC.format(name="branch_probe", formula="where(alpha == 2, 1.0, abs(alpha - 2)) * y_pred")
        + "parameters:\n  alpha: {type: float, default: 1.0e-6, doc: A shape.}\n",
        encoding="utf-8",
    )
    forms = spec_forms(tmp_path, path)
    x = np.random.default_rng(0).normal(size=(N, 1))
    _assert_forms_match(forms, np.zeros_like(x), x, (2 - 1e-6) * x[:, 0], FLOAT64_TOL)
