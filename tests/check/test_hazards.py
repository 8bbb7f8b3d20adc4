"""The plain-words explanation of a non-finite value or gradient names the operation,
where it is in the formula, and a fix. NumPy only: no Keras here."""

from __future__ import annotations

import numpy as np
import pytest

from generator.check.hazards import explain, explain_error
from generator.spec.loader import load_spec

HEADER = """\
name: {name}
title: Test
task: regression
summary: A spec for the hazard tests.
"""


def _spec(tmp_path, name: str, body: str):
    path = tmp_path / f"{name}.yaml"
    path.write_text(HEADER.format(name=name) + body, encoding="utf-8")
    return load_spec(path)


CASES = [
    (
        "formula:\n  loss: -log(y_pred)\n",
        [[1.0]],
        [[0.0]],
        "log of zero in `log(y_pred)` (in the loss); clip its input",
    ),
    (
        "formula:\n  steps:\n    error: y_pred - y_true\n  loss: sqrt(square(error))\n",
        [[1.0]],
        [[1.0]],
        "square root at 0 in `sqrt(ops.square(error))`".replace("ops.", ""),
    ),
    (
        "formula:\n  steps:\n    ratio: y_true / y_pred\n  loss: square(ratio)\n",
        [[1.0]],
        [[0.0]],
        "division by zero in `y_true / y_pred` (in step `ratio`)",
    ),
    (
        "formula:\n  loss: where(y_pred > 0, log(maximum(y_pred, 1)), -y_pred)\n",
        [[1.0]],
        [[0.5]],
        None,  # every branch finite: nothing to report
    ),
    (
        "formula:\n  loss: where(y_pred > 0, log(y_pred), 0)\n",
        [[1.0]],
        [[-1.0]],
        "log of a negative number",  # in the branch where() does not pick: its gradient is still NaN
    ),
    (
        "formula:\n  loss: exp(y_pred)\n",
        [[1.0]],
        [[100.0]],
        "exp above 88 overflows float32 in `exp(y_pred)`",
    ),
    (
        "formula:\n  loss: arccos(y_pred)\n",
        [[1.0]],
        [[1.0]],
        "`arccos(y_pred)` at -1 or 1, where its slope is infinite (in the loss);"
        " clip its input to [-1 + epsilon(), 1 - epsilon()]",
    ),
    (
        "formula:\n  loss: arcsin(y_pred)\n",
        [[1.0]],
        [[1.5]],
        "`arcsin(y_pred)` of a number outside [-1, 1], where it is undefined",
    ),
    (
        "formula:\n  loss: erfinv(y_pred)\n",
        [[1.0]],
        [[-1.0]],
        "`erfinv(y_pred)` at -1 or 1, where it is infinite",
    ),
    (
        "formula:\n  loss: tan(y_pred)\n",
        [[1.0]],
        [[np.pi / 2]],
        "tan at pi / 2 + k pi in `tan(y_pred)`",
    ),
    (
        "formula:\n  loss: arctan2(y_pred, y_true)\n",
        [[0.0]],
        [[0.0]],
        "`arctan2(y_pred, y_true)` at (0, 0)",
    ),
    (
        "formula:\n  loss: cosh(y_pred)\n",
        [[0.0]],
        [[-95.0]],
        "`cosh(y_pred)` of a number beyond +-88 overflows float32",
    ),
    (
        "formula:\n  loss: lgamma(y_pred)\n",
        [[0.0]],
        [[0.0]],
        "`lgamma(y_pred)` of 0 or a negative number",
    ),
    (
        "formula:\n  loss: digamma(y_pred - y_true)\n",
        [[1.0]],
        [[0.5]],
        "`digamma(y_pred - y_true)` of 0 or a negative number",
    ),
    (
        "formula:\n  loss: log_i0(y_pred)\n",
        [[0.0]],
        [[-2.0]],
        "`log_i0(y_pred)` of a negative number",
    ),
    (
        "formula:\n  loss: lgamma(y_pred) + sin(pi * y_pred)\n",
        [[0.0]],
        [[0.5]],
        None,  # inside every domain
    ),
    (
        "formula:\n  loss: power(abs(y_pred - y_true), 0.5)\n",
        [[1.0]],
        [[1.0]],
        "power of 0 with an exponent below 1",
    ),
]


@pytest.mark.parametrize(("body", "y_true", "y_pred", "expected"), CASES)
def test_explain_names_the_unsafe_operation(tmp_path, body, y_true, y_pred, expected):
    item = _spec(tmp_path, "hazard", body)
    found = explain(item, np.array(y_true), np.array(y_pred), {})
    if expected is None:
        assert found is None
    else:
        assert found is not None and expected in found, found


def test_where_with_an_infinite_unused_branch_is_explained(tmp_path):
    """At y_pred = 0 the chosen branch is 0, but 1 / y_pred is infinite: the division is
    found first; with a branch that is infinite without a division, the where is named."""
    item = _spec(tmp_path, "branch", "formula:\n  loss: where(y_pred > 1, 0, exp(y_pred * 1000))\n")
    found = explain(item, np.array([[1.0]]), np.array([[0.5]]), {})
    assert found is not None and "exp above 88" in found
    item = _spec(tmp_path, "branch2", "formula:\n  loss: where(y_pred < 1, 0, y_pred)\n")
    assert explain(item, np.array([[1.0]]), np.array([[0.5]]), {}) is None


def test_every_catalog_loss_is_safe_at_its_edge_inputs():
    """The explainer finds nothing unsafe in the catalog's formulas at their edge batches."""
    from conftest import SPECS, catalog_names

    from generator.check import samples

    for name in catalog_names():
        item = load_spec(SPECS / f"{name}.yaml")
        for params in samples.parameter_sets(item.spec).values():
            for batch in samples.edge_batches(item.spec, params):
                assert explain(item, batch.y_true, batch.y_pred, params) is None, (name, batch.label)


def test_explain_error_names_the_operation_whose_operands_do_not_line_up(tmp_path):
    """Steps of different widths: NumPy cannot compute the formula; the explanation names
    the operation, the shapes of both sides and the step it is in."""
    body = "formula:\n  steps:\n    front: first_half(y_pred)\n    gap: front - y_true\n  loss: square(gap)\n"
    item = _spec(tmp_path, "widths", body)
    found = explain_error(item, np.zeros((2, 4)), np.zeros((2, 4)), {})
    assert found == (
        "`front` of shape (2, 2) and `y_true` of shape (2, 4) do not line up in `front - y_true` (in step `gap`);"
        " give both sides the same width"
    )
    assert explain_error(item, np.zeros((2, 2)), np.zeros((2, 4)), {}) is None  # these inputs fit


def test_explain_error_names_a_parameter_of_the_wrong_size(tmp_path):
    body = (
        "parameters:\n"
        "  w: {type: vector, default: [1.0, 2.0], doc: Weights.}\n"
        "  table: {type: matrix, default: [[1.0, 0.0], [0.0, 1.0]], doc: A table.}\n"
        "formula:\n  loss: w * y_pred + sum(matmul(y_pred, table))\n"
    )
    item = _spec(tmp_path, "sizes", body)
    found = explain_error(item, np.zeros((2, 3)), np.zeros((2, 3)), {})
    assert found == (
        "parameter `w` has 2 entries, but y_pred has 3 classes (its last axis), so it needs as many entries;"
        " parameter `table` has shape (2, 2), but y_pred has 3 classes (its last axis), so it needs shape (3, 3)"
    )
    assert explain_error(item, np.zeros((2, 2)), np.zeros((2, 2)), {}) is None


def test_every_vocabulary_entry_declares_a_twin_and_a_known_hazard_rule():
    """A function is added in one place, its vocabulary entry: its float64 NumPy twin is
    declared there, and its hazard names one of check/hazards.py's rules."""
    import numpy as np
    import scipy.special

    from generator.check import hazards, numeric
    from generator.formula.vocabulary import FUNCTIONS, READS_INPUTS

    y_pred = np.zeros((2, 3))
    for fn in FUNCTIONS.values():
        assert fn.twin, f"{fn.name} has no NumPy twin"
        if fn.twin == READS_INPUTS:
            numeric._reading_inputs(fn.name, [np.zeros(2), y_pred], y_pred, -1)  # raises KeyError if missing
        elif isinstance(fn.twin, str) and fn.twin.startswith("special."):
            assert callable(getattr(scipy.special, fn.twin[8:], None)), f"{fn.name}: scipy.{fn.twin} does not exist"
        elif isinstance(fn.twin, str):
            assert callable(getattr(np, fn.twin, None)), f"{fn.name}: numpy.{fn.twin} does not exist"
        if fn.hazard:
            assert fn.hazard in hazards.RULES, f"{fn.name}: no hazard rule {fn.hazard!r}"
