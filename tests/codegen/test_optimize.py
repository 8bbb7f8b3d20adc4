"""The optimiser's rewrites: each one fires where it should, leaves alone what it must, and
the optimised program computes what the spec's program computes, for every catalog loss."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pytest
from conftest import SPECS, catalog_names

from generator.check import samples
from generator.check.numeric import environment, value
from generator.codegen.optimize import optimize
from generator.formula import emit
from generator.spec.loader import load_spec
from generator.spec.program import program

HEADER = """\
name: probe
title: Probe
task: multiclass
summary: A loss to test the optimiser with.
avoid_when: Never use it.
"""
PARAMS = {
    "from_logits": "{type: bool, default: false, doc: Logits.}",
    "smoothing": "{type: float, default: 0.0, min: 0.0, max: 1.0, doc: Smoothing.}",
    "scale": "{type: float, default: 2.0, min: 0.0, doc: Scale.}",
}


def _optimised(tmp_path: Path, formula: str) -> tuple[list[tuple[str, str]], str]:
    """Load a spec with ``formula`` (the YAML under ``formula:``) and the parameters of
    PARAMS it reads; return its optimised steps and result as code."""
    formula = textwrap.dedent(formula)
    used = [name for name in PARAMS if name in formula]
    logits = ", logits_when: from_logits" if "from_logits" in used else ""
    text = HEADER + "inputs:\n  y_true: {kind: one_hot}\n"
    text += f"  y_pred: {{kind: distribution{logits}}}\n"
    if used:
        text += "parameters:\n" + "".join(f"  {name}: {PARAMS[name]}\n" for name in used)
    text += "formula:\n" + textwrap.indent(formula, "  ") + "  reduce: none\n"
    return _optimised_spec(tmp_path, text)


def _optimised_spec(tmp_path: Path, text: str) -> tuple[list[tuple[str, str]], str]:
    """The optimised steps and result, as code, of the spec ``text``."""
    path = tmp_path / "probe.yaml"
    path.write_text(text, encoding="utf-8")
    item = load_spec(path)
    steps, result = optimize(*program(item), item.spec)
    return [(name, emit.code(node)) for name, node in steps], emit.code(result)


def test_negation_leaves_a_sum(tmp_path):
    _, result = _optimised(tmp_path, "loss: sum(-(y_true * log(y_pred)))\n")
    assert result == "-ops.sum(y_true * ops.log(y_pred), axis=-1)"


@pytest.mark.parametrize(
    "loss, code",
    [
        ("sum(-y_true * log(y_pred))", "-ops.sum(y_true * ops.log(y_pred), axis=-1)"),
        ("mean(y_true / -y_pred)", "-ops.mean(y_true / y_pred, axis=-1)"),
        # negating a scalar costs nothing: left where it is
        ("sum(-scale * y_pred)", "ops.sum(-scale * y_pred, axis=-1)"),
    ],
)
def test_negation_leaves_a_sum_from_a_factor(tmp_path, loss, code):
    _, result = _optimised(tmp_path, f"loss: {loss}\n")
    assert result == code


def test_a_reduction_of_a_conditional_becomes_a_conditional_of_reductions(tmp_path):
    _, result = _optimised(
        tmp_path,
        "loss: mean(y_pred if from_logits else -(y_true * log(y_pred)))\n",
    )
    assert result == "ops.mean(y_pred, axis=-1) if from_logits else -ops.mean(y_true * ops.log(y_pred), axis=-1)"


def test_a_step_read_once_in_a_branch_moves_into_it(tmp_path):
    steps, result = _optimised(
        tmp_path,
        """\
        steps:
          p: clip(y_pred, epsilon(), 1 - epsilon())
        loss: -sum(y_true * log_softmax(y_pred)) if from_logits else -sum(y_true * log(p))
        """,
    )
    assert steps == []
    assert "ops.clip(" in result.split(" else ")[1]


@pytest.mark.parametrize(
    "formula",
    [
        # read twice: moving it would compute it twice
        "steps:\n  p: clip(y_pred, epsilon(), 1)\nloss: -sum(y_true * log(p)) if from_logits else -sum(p)\n",
        # read once, but outside any conditional: nothing is saved
        "steps:\n  p: clip(y_pred, epsilon(), 1)\nloss: -sum(y_true * log(p))\n",
    ],
)
def test_steps_that_gain_nothing_stay(tmp_path, formula):
    steps, _ = _optimised(tmp_path, formula)
    assert [name for name, _ in steps] == ["p"]


def test_a_term_that_vanishes_at_a_zero_default_is_skipped(tmp_path):
    steps, _ = _optimised(
        tmp_path,
        """\
        steps:
          target: y_true * (1 - smoothing) + smoothing / num_classes()
        loss: -sum(target * log(y_pred))
        """,
    )
    assert dict(steps)["target"] == "y_true * (1 - smoothing) + smoothing / num_classes if smoothing else y_true"


@pytest.mark.parametrize(
    "step",
    [
        # the default is not 0
        "y_true * (1 - scale) + scale / num_classes()",
        # scalar arithmetic only: nothing to save on a tensor
        "1 - smoothing",
        # s * y_pred is 0 * tensor at s = 0: folding it would change the shape (and 0 * inf)
        "y_true + smoothing * y_pred",
        # 0 / d is not 0 when d can be 0
        "y_true + smoothing / y_pred",
    ],
)
def test_no_specialisation_where_it_would_not_be_exact_or_would_not_pay(tmp_path, step):
    steps, _ = _optimised(
        tmp_path,
        f"steps:\n  t: {step}\nloss: -sum(t * log(y_pred))\n",
    )
    assert " if smoothing" not in dict(steps)["t"]


def _run(item, steps, result, y_true, y_pred, params) -> np.ndarray:
    env = environment(item, y_true, y_pred, params)
    with np.errstate(all="ignore"):
        for name, node in steps:
            env[name] = value(node, env)
        return np.asarray(value(result, env), dtype="float64")


@pytest.mark.parametrize("name", catalog_names())
def test_the_optimised_program_computes_the_same_values(name):
    """Float64, both parameter sets, a random and every edge batch: the optimised program
    equals the spec's to the last bit but for summation order (1e-12)."""
    item = load_spec(SPECS / f"{name}.yaml")
    original = program(item)
    optimised = optimize(*original, item.spec)
    for params in samples.parameter_sets(item.spec).values():
        batches = [samples.random_batch(item.spec, params, 0), *samples.edge_batches(item.spec, params)]
        for batch in batches:
            before = _run(item, *original, batch.y_true, batch.y_pred, params)
            after = _run(item, *optimised, batch.y_true, batch.y_pred, params)
            np.testing.assert_allclose(after, before, rtol=1e-12, atol=0, equal_nan=True, err_msg=batch.label)


def _box_program(tmp_path: Path, loss: str) -> tuple[list[tuple[str, str]], str]:
    text = HEADER.replace("multiclass", "detection") + "inputs:\n  y_true: {kind: box}\n  y_pred: {kind: box}\n"
    text += f"formula:\n  loss: {loss}\n  reduce: none\n"
    return _optimised_spec(tmp_path, text)


def test_boxes_read_entry_by_entry_are_taken_apart_once(tmp_path):
    steps, result = _box_program(tmp_path, "at(y_true, 2) - at(y_true, 0) + at(y_pred, 3)")
    assert steps == [("y_true_columns", "ops.unstack(y_true, num=4, axis=-1)")]
    assert result == "y_true_columns[2] - y_true_columns[0] + y_pred[..., 3]"  # one read: left as a slice


def test_entries_of_inputs_of_any_width_stay_slices(tmp_path):
    _, result = _optimised(tmp_path, "loss: at(y_pred, 0) - at(y_pred, 1)\n")
    assert result == "y_pred[..., 0] - y_pred[..., 1]"


def test_a_descending_sort_and_its_gather_become_one_top_k(tmp_path):
    steps, result = _optimised(
        tmp_path,
        """\
        steps:
          e: abs(y_true - y_pred)
          order: argsort(-e)
          e_sorted: take_along_axis(e, order)
          t_sorted: take_along_axis(y_true, order)
        loss: sum(e_sorted * cumsum(t_sorted))
        """,
    )
    assert steps == [
        ("e", "ops.abs(y_true - y_pred)"),
        ("e_descending", "_sort_descending(e, axis=-1)"),
        ("order", "e_descending[1]"),
        ("e_sorted", "e_descending[0]"),
        ("t_sorted", "ops.take_along_axis(y_true, order, axis=-1)"),  # another key: still a gather
    ]
    assert result == "ops.sum(e_sorted * ops.cumsum(t_sorted, axis=-1), axis=-1)"


@pytest.mark.parametrize(
    "order, gather",
    [
        ("argsort(e)", "take_along_axis(e, order)"),  # ascending: top_k sorts the other way
        ("argsort(-e, axis=-2)", "take_along_axis(e, order)"),  # another axis
        ("argsort(-e)", "take_along_axis(y_pred, order)"),  # sorted by e, but y_pred gathered
    ],
)
def test_sorts_that_top_k_does_not_give_stay_as_written(tmp_path, order, gather):
    steps, _ = _optimised(
        tmp_path,
        f"""\
        steps:
          e: abs(y_true - y_pred)
          order: {order}
          e_sorted: {gather}
        loss: sum(e_sorted)
        """,
    )
    assert [name for name, _ in steps] == ["e", "order", "e_sorted"]
    assert "_sort_descending" not in "".join(code for _, code in steps)


@pytest.mark.parametrize(
    "parameters, first_step",
    [
        (
            "parameters:\n  e_descending: {type: float, default: 1.0, doc: Taken.}\n",
            "e: abs(y_true - y_pred) * e_descending",
        ),
        ("", "e_descending: abs(y_true - y_pred)\n    e: e_descending"),
    ],
    ids=["parameter", "step"],
)
def test_a_sort_whose_pair_name_is_taken_stays_as_written(tmp_path, parameters, first_step):
    text = HEADER + "inputs:\n  y_true: {kind: one_hot}\n  y_pred: {kind: distribution}\n" + parameters
    text += f"formula:\n  steps:\n    {first_step}\n    order: argsort(-e)\n    e_sorted: take_along_axis(e, order)\n"
    text += "  loss: sum(e_sorted)\n  reduce: none\n"
    steps, _ = _optimised_spec(tmp_path, text)
    assert "_sort_descending" not in "".join(code for _, code in steps)
    assert dict(steps)["e_sorted"] == "ops.take_along_axis(e, order, axis=-1)"


@pytest.mark.parametrize(
    "formula, code",
    [
        # a tensor to a parameter, and to arithmetic on parameters: Python's operator
        ("loss: sum(power(1 - y_pred, scale) * y_true)\n", "ops.sum((1 - y_pred) ** scale * y_true, axis=-1)"),
        ("loss: sum(power(y_pred, 1 / scale))\n", "ops.sum(y_pred ** (1 / scale), axis=-1)"),
        # a step that is a tensor on either branch
        (
            "steps:\n  p: y_pred if from_logits else 1 - y_pred\nloss: sum(power(p, scale))\n",
            "ops.sum(p ** scale, axis=-1)",
        ),
    ],
    ids=["parameter", "arithmetic", "tensor-either-branch"],
)
def test_a_power_of_a_tensor_to_a_number_uses_the_operator(tmp_path, formula, code):
    _, result = _optimised(tmp_path, formula)
    assert result == code


@pytest.mark.parametrize(
    "formula",
    [
        # a tensor exponent
        "loss: sum(power(scale, y_pred))\n",
        "loss: sum(power(y_pred, y_true))\n",
        # a base that is a Python number when from_logits is true: 0 ** p would be a number
        "steps:\n  p: 0 if from_logits else y_pred\nloss: sum(power(p, scale) * y_true)\n",
        # the batch size is a tensor while Keras traces a batch of unknown size
        "steps:\n  n: batch_size() - 1\nloss: sum(power(y_pred, n) * y_true)\n",
    ],
    ids=["number-base", "tensor-exponent", "number-on-a-branch", "batch-size"],
)
def test_other_powers_stay_ops_power(tmp_path, formula):
    _, result = _optimised(tmp_path, formula)
    assert "ops.power(" in result and "**" not in result


def _flag_spec(flags: int, base: str) -> str:
    """A spec with ``flags`` boolean parameters, each choosing a branch of its own step, and
    the power of ``base``: the rewrite must look at them without trying all 2**flags
    combinations."""
    params = "".join(f"  f{i}: {{type: bool, default: false, doc: Flag.}}\n" for i in range(flags))
    steps = "".join(f"    s{i}: y_pred if f{i} else 1 - y_pred\n" for i in range(1, flags))
    text = HEADER + "inputs:\n  y_true: {kind: one_hot}\n  y_pred: {kind: distribution}\n"
    text += "parameters:\n" + params + "  scale: {type: float, default: 2.0, min: 0.0, doc: Scale.}\n"
    text += "formula:\n  steps:\n" + steps
    text += "    p: 0 if f0 else y_pred\n"
    text += "    q: y_true / y_pred if f0 else 1 - p\n"
    uses = " + q" + "".join(f" + s{i}" for i in range(1, flags))
    text += f"  loss: sum(power({base}, scale){uses})\n  reduce: none\n"
    return text


def test_a_power_under_many_flags_is_looked_at_branch_by_branch(tmp_path):
    # q is a tensor on both of its branches, but 1 - p is a number when f0 is true: read
    # branch by branch, with f0 true q is y_true / y_pred. Few flags: every combination.
    _, result = _optimised_spec(tmp_path, _flag_spec(3, "q"))
    assert result.startswith("ops.sum(q ** scale + q + s1")
    # 12 flags, over the limit of 8: each conditional with either branch; q keeps ops.power,
    # a step that is a tensor on both branches still gets the operator.
    _, result = _optimised_spec(tmp_path, _flag_spec(12, "q"))
    assert result.startswith("ops.sum(ops.power(q, scale) + q + s1")
    _, result = _optimised_spec(tmp_path, _flag_spec(12, "s1"))
    assert result.startswith("ops.sum(s1 ** scale + q + s1")
