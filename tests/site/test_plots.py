"""What the reference pages' plots show, from :func:`generator.site.plots.analyse` (NumPy
only): a straight line's slope is drawn as an exact constant, a loss of a whole row or
batch is scanned from a perfect prediction away (``plot: {along: mix}``), and a spec's
``plot`` block picks the parameter values drawn. The whole catalog's plots are checked on
the built plot gallery (tests/site/test_site.py)."""

from __future__ import annotations

import numpy as np
from conftest import SPECS

from generator.site.plots import analyse
from generator.spec.loader import load_spec


def _pearson(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """1 - Pearson's r of each row, from its textbook definition."""
    t = y_true - y_true.mean(axis=-1, keepdims=True)
    p = y_pred - y_pred.mean(axis=-1, keepdims=True)
    return 1.0 - (t * p).sum(-1) / np.sqrt((t * t).sum(-1) * (p * p).sum(-1))


def test_a_straight_line_has_an_exact_constant_slope_and_a_curve_does_not():
    mae = analyse(load_spec(SPECS / "mae.yaml"))
    loss, slope = mae.panels
    assert not loss.constant and not slope.constant  # |x - 1| bends at 1
    minkowski = analyse(load_spec(SPECS / "minkowski.yaml"))  # a norm of t * noise: linear in t
    assert minkowski.panels[1].constant
    for values in minkowski.panels[1].values:
        assert np.ptp(values) == 0.0  # no round-off drawn
    assert "slope: constant" in minkowski.findings()


def test_a_row_loss_is_scanned_from_the_targets_away():
    """Pearson correlation along ``mix``: 0 at t = 0 (the prediction is the target), then
    the batch mean of 1 - r of the target plus t times noise, which the test recomputes."""
    plot = analyse(load_spec(SPECS / "pearson_correlation.yaml"))
    (curve,) = plot.lines
    assert curve.x[0] == 0.0 and curve.x[-1] == 1.0
    assert abs(curve.loss[0]) < 1e-12
    assert not plot.panels[0].constant
    # The same scan, by hand: at t = 1 the prediction is the target plus the noise pattern.
    from generator.check import samples

    spec = load_spec(SPECS / "pearson_correlation.yaml").spec
    rng = np.random.default_rng(0)
    y_true = samples.targets(spec, rng, batch=8).astype("float64")
    y_pred = y_true + rng.normal(size=y_true.shape)
    np.testing.assert_allclose(curve.loss[-1], _pearson(y_true, y_pred).mean(), rtol=1e-9)


def test_the_spec_picks_the_parameter_values_drawn():
    """poisson_nll draws max_log_rate = 1, 2 and 30 (its ``plot`` block): beyond the log-rate
    1 and 2 the loss continues as a straight line, so the three curves part."""
    plot = analyse(load_spec(SPECS / "poisson_nll.yaml"))
    assert [curve.label for curve in plot.lines] == ["max_log_rate = 1", "max_log_rate = 2", "max_log_rate = 30"]
    assert not plot.close_values
    low, _, high = (curve.loss for curve in plot.lines)
    assert high[-1] > 2 * low[-1]


def test_curves_that_cannot_be_told_apart_are_said_to_be():
    """ciou's shape term is zero for boxes of the same shape, which its scan moves: the
    values of aspect_scale draw one line, and the plot says so."""
    plot = analyse(load_spec(SPECS / "ciou.yaml"))
    assert plot.close_values
    assert "differ too little to see" in plot.footer
