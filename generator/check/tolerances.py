"""Every tolerance the checker applies, in one place, with why it is what it is."""

from __future__ import annotations

RTOL = 1e-5
"""The three forms against each other, other backends against TensorFlow, sample_weight
and masks against the float64 evaluation, and per-sample values in the rank variants:
float32 arithmetic in different orders of operations."""
ATOL = 1e-6
"""The smallest denominator of a relative difference, so that values near 0 are compared
absolutely."""

RANK_RTOL = 1e-6
"""Rank variants against the float64 evaluation: float32 arithmetic, a batch mean."""
FLOAT64_RTOL = 1e-10
"""float64 against the float64 evaluation: far below float32's rounding (about 6e-8), so
meeting it proves the loss computed in float64."""


def published_tolerance(value: float) -> float:
    """Half a unit in the last digit of ``value`` as written (its shortest repr), and never
    tighter than ``RTOL`` relative: published values are mostly float32 printouts, whose
    last digits carry the rounding of the publisher's own float32 arithmetic."""
    mantissa, _, exponent = repr(float(value)).partition("e")
    decimals = len(mantissa.partition(".")[2]) - int(exponent or 0)
    return max(0.5 * 10.0**-decimals, RTOL * abs(value))


DISTRIBUTION_TOL = 1e-6
"""MirroredStrategy against one device: absolute plus relative (to the value, or to the
largest entry of a weight tensor)."""
