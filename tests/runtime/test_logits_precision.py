"""From logits, every catalog loss is computed in float32 to a relative 1e-6.

For each catalog spec whose ``y_pred`` has ``logits_when``, with that flag true (and the
other parameters at their defaults, then all changed), float32 logits covering [-30, 30]
go through the generated function form, eagerly and as graph compilers run it (see
:func:`compiled`). The reference is the float64 evaluation of the spec
(``generator.check.numeric``) on the same float32 inputs cast to float64, with the float
parameters rounded to float32 as well, since that is all the float32 computation receives.
Every sample must satisfy ``|f32 - f64| <= 1e-6 * |f64|``. Differences below float32's
smallest normal number (about 1.2e-38) always pass: float32 holds values that small only
as subnormal numbers with fewer digits, or flushes them to zero (TensorFlow and JAX do on
CPU), so no float32 formula can do better there.

The float64 evaluation follows the spec's formula, so this test measures rounding only:
it fails when a formula cancels (``softplus(x) - x * y`` at y = 1, ``1 - sigmoid(x)``,
``1 - softmax``, ``log_softmax`` of the top class), rounds an intermediate that it then
amplifies (``x - max(x)`` in a softmax, a sigmoid raised to the power gamma), or clips at
a bound float32 does not hold (``1 - epsilon``).

One allowance, for ``asymmetric``: its definition subtracts the margin m from a
probability, ``max(p - m, 0)``. float32 holds p = sigmoid(x) only to about one unit in
the last place, and p - m carries that error multiplied by p / (p - m), then raised to
the power gamma_neg; no float32 formula avoids it. Where such a label counts, the limit
grows by that propagated rounding (see :func:`allowance`); elsewhere it is 1e-6.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pytest
from conftest import SPECS, catalog_forms, catalog_names

from generator.check import numeric, samples
from generator.spec.loader import load_spec

RTOL = 1e-6
TINY = float(np.finfo(np.float32).tiny)
"""float32's smallest normal number (about 1.2e-38)."""
ULP = float(np.finfo(np.float32).eps)
"""float32's unit in the last place at 1, 2**-23."""
GRID = (-30.0, -12.0, -8.0, -1.0, 0.0, 1.0, 8.0, 12.0, 30.0)
RANDOM_ROWS = 3000


def logits_specs() -> list[str]:
    return [n for n in catalog_names() if load_spec(SPECS / f"{n}.yaml").spec.inputs.y_pred.logits_when]


def logit_rows(width: int, seed: int = 0) -> np.ndarray:
    """Rows of ``width`` logits, float32: every combination of the grid values (so each
    value meets every other one, in every position), then rows uniform on [-30, 30], then
    rows of typical size (normal, scale 3)."""
    rng = np.random.default_rng(seed)
    grid = np.array(list(itertools.product(GRID, repeat=width)))
    uniform = rng.uniform(-30.0, 30.0, size=(RANDOM_ROWS, width))
    typical = rng.normal(scale=3.0, size=(RANDOM_ROWS // 3, width))
    return np.concatenate([grid, uniform, typical]).astype("float32")


def batch(spec, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``(y_true, y_pred)`` in float32: the logit rows, each repeated with targets of the
    spec's kind. Class targets (one-hot rows or integer labels): every class, for each
    row. Binary targets: all 0, all 1, random 0/1 (``generator.check.samples``) and random soft
    targets in [0, 1]. Nonnegative targets (heatmaps): all 0, all 1, random in [0, 1] and
    random in [0, 2] (``generator.check.samples``)."""
    rng = np.random.default_rng(seed)
    width = samples.classes(spec)
    logits = logit_rows(width, seed)
    n = len(logits)
    kind = spec.inputs.y_true.kind
    if kind in ("one_hot", "labels"):
        ids = np.repeat(np.arange(width), n)
        targets = np.eye(width)[ids] if kind == "one_hot" else ids.astype(float)
        preds = np.tile(logits, (width, 1))
    elif kind == "binary":
        targets = np.concatenate(
            [
                np.zeros((n, width)),
                np.ones((n, width)),
                samples.targets(spec, rng, batch=n),
                rng.uniform(0.0, 1.0, size=(n, width)),
            ]
        )
        preds = np.tile(logits, (4, 1))
    elif kind == "nonnegative":  # heatmaps (penalty_reduced_focal): 0, 1, soft, and above 1
        targets = np.concatenate(
            [
                np.zeros((n, width)),
                np.ones((n, width)),
                rng.uniform(0.0, 1.0, size=(n, width)),
                samples.targets(spec, rng, batch=n),
            ]
        )
        preds = np.tile(logits, (4, 1))
    else:
        raise AssertionError(f"{spec.name}: no logits test for targets of kind {kind}")
    return targets.astype("float32"), preds.astype("float32")


def as_float32(spec, params: dict) -> dict:
    """The parameters as the float32 computation receives them: numbers rounded to float32
    (``beta = 0.999`` is 0.99900001 there, so ``1 - beta`` is off by 1.3e-5 from 0.001)."""
    out = dict(params)
    for name, param in spec.parameters.items():
        if param.type in ("float", "vector", "matrix"):
            out[name] = np.asarray(params[name], dtype="float32").astype("float64").tolist()
    return out


def relative_errors(ours: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """``|ours - reference| / |reference|``; 0 where the difference is below ``TINY``;
    infinite where either value is not finite."""
    ours = np.asarray(ours, dtype="float64")
    difference = np.abs(ours - reference)
    errors = np.where(difference <= TINY, 0.0, difference / np.maximum(np.abs(reference), TINY))
    return np.where(np.isfinite(ours) & np.isfinite(reference), errors, np.inf)


def allowance(name: str, params: dict, y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """The relative error each sample may have beyond ``RTOL``: 0, except for
    ``asymmetric``, where a negative term depends on ``max(p - m, 0)``. There one ulp of
    rounding of p (and one of the result) becomes ``2 ulp * p / (p - m)`` in p - m, and
    ``gamma_neg + 2`` times that in the term (the power, the logarithm and the product);
    the largest over the sample's labels with a negative part and p above the margin."""
    if name != "asymmetric":
        return np.zeros(len(y_true))
    p = 1.0 / (1.0 + np.exp(-y_pred.astype("float64")))
    margin = params["margin"]
    counted = (1.0 - y_true > 0) & (p > margin)
    conditioning = np.where(counted, p / np.where(counted, p - margin, 1.0), 0.0)
    return (params["gamma_neg"] + 2) * ULP * conditioning.max(axis=-1)


@dataclass(frozen=True)
class Measured:
    errors: np.ndarray  # relative error of each sample
    limits: np.ndarray  # the largest relative error each sample may have
    y_true: np.ndarray
    y_pred: np.ndarray

    @property
    def worst(self) -> int:
        """The sample furthest over (or closest to) its limit."""
        return int(np.argmax(self.errors / self.limits))

    @property
    def failures(self) -> int:
        return int(np.sum(self.errors > self.limits))


def compiled(fn) -> dict[str, object]:
    """``fn`` as it runs eagerly and, on TensorFlow, also traced into a graph (as
    ``model.fit`` runs it) and compiled with XLA; on JAX, also under ``jax.jit``. Graph
    optimisers may reorder arithmetic: TensorFlow's constant folding turns ``1 + (a - b)``
    into ``(1 + a) - b``, which rounds away a small ``a - b``."""
    import keras

    modes = {"eager": fn}
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        modes["tf.function"] = tf.function(fn)
        modes["XLA"] = tf.function(fn, jit_compile=True)
    elif keras.backend.backend() == "jax":
        import jax

        modes["jax.jit"] = jax.jit(fn)
    return modes


def measure(tmp_path, name: str, params_label: str) -> Measured:
    """Catalog loss ``name`` from logits, float32 against float64, on :func:`batch`; the
    worst over the modes of :func:`compiled`."""
    import keras

    item = load_spec(SPECS / f"{name}.yaml")
    spec = item.spec
    params = dict(samples.parameter_sets(spec)[params_label])
    params[spec.inputs.y_pred.logits_when] = True
    forms = catalog_forms(tmp_path, name)
    y_true, y_pred = batch(spec)
    rounded = as_float32(spec, params)
    reference = numeric.evaluate(item, y_true.astype("float64"), y_pred.astype("float64"), rounded)
    assert np.all(np.isfinite(reference)), f"{name}: the float64 reference is not finite"
    errors = np.zeros(len(y_true))
    for mode, fn in compiled(forms.function(params)).items():
        ours = keras.ops.convert_to_numpy(fn(y_true, y_pred))
        assert ours.dtype == np.float32, f"{name} ({mode}) computed in {ours.dtype}"
        errors = np.maximum(errors, relative_errors(ours, reference))
    limits = RTOL + allowance(name, rounded, y_true, y_pred)
    return Measured(errors, limits, y_true, y_pred)


@pytest.mark.parametrize("params_label", ["defaults", "changed"])
@pytest.mark.parametrize("name", logits_specs())
def test_float32_from_logits_within_1e6_of_float64(tmp_path, name, params_label):
    measured = measure(tmp_path, name, params_label)
    i = measured.worst
    assert measured.failures == 0, (
        f"{name} ({params_label} parameters, from logits): {measured.failures} of {len(measured.errors)} samples"
        f" over the limit; the worst has relative error {measured.errors[i]:.2e} (limit {measured.limits[i]:.2e})"
        f" at y_true={measured.y_true[i].tolist()}, y_pred={measured.y_pred[i].tolist()}"
    )


def test_the_catalog_losses_with_logits_are_all_tested():
    # Pinned, so that a spec gaining or losing its logits path is noticed here.
    assert logits_specs() == [
        "asymmetric",
        "binary_crossentropy",
        "binary_focal",
        "categorical_crossentropy",
        "categorical_focal",
        "class_balanced",
        "penalty_reduced_focal",
        "poly1",
        "sigmoid_focal",
        "sparse_categorical_crossentropy",
        "sparse_categorical_focal",
        "symmetric_crossentropy",
        "weighted_crossentropy",
    ]


def test_the_criterion_fails_on_a_cancelling_formula():
    # softplus(x) - x at x = 12, binary crossentropy from logits of a confident right
    # answer as the catalog wrote it before, loses most of its digits in float32; the
    # criterion sees it.
    import keras

    x = np.float32(12.0)
    cancelling = keras.ops.convert_to_numpy(keras.ops.softplus(x) - x)
    exact = np.log1p(np.exp(-np.float64(x)))
    assert relative_errors(np.array([cancelling]), np.array([exact]))[0] > 1e-3
