"""Explain, in plain words, why a formula gives a non-finite value or gradient.

When the checker finds NaN or infinity at some input, this walks the spec's formula at
that input (in float64, with the NumPy evaluator) and names the first operation that is
unsafe there: a log of zero, a division by zero, a square root at zero, an overflowing
exp, a ``where`` whose unused branch is not finite. The message says where it is and
what usually fixes it. When the loss raises instead (steps of different widths, a vector
parameter of the wrong length), :func:`explain_error` names the operation whose operands
do not line up, or the parameter. NumPy only; nothing is executed.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from generator.check.numeric import environment, value
from generator.formula import emit
from generator.formula.tree import Binary, Call, Compare, Cond, Node, Num, Ref, children
from generator.formula.vocabulary import FUNCTIONS
from generator.spec.loader import LoadedSpec
from generator.spec.program import program
from generator.spec.shapes import PARAMETER_AXES, parameter_shape

EXP_LIMIT = 88.0
"""exp(x) overflows float32 above about 88.7."""
POLE_DISTANCE = 1e-6
"""How close to 0 cos(x) must come for tan(x) to count as at its pole: float32 gives about
1.7e7 there, and its slope is the square of that."""
UNIT_CLIP = "clip its input to [-1 + epsilon(), 1 - epsilon()]"
"""The fix for arcsin, arccos and erfinv at the ends of their domain."""


def formula_text(node: Node) -> str:
    """A node as the spec author would write it, in the formula language."""
    return emit.text(node)


def explain(item: LoadedSpec, y_true: np.ndarray, y_pred: np.ndarray, params: dict) -> str | None:
    """The first unsafe operation of the formula at these inputs, in plain words, or
    None when every operation is safe there (then the problem is elsewhere, e.g. float32
    rounding)."""
    env = environment(item, y_true, y_pred, params)
    steps, result = program(item)
    live = _live(steps, result, env)
    with np.errstate(all="ignore"):
        for name, node in [*steps, ("", result)]:
            if name and name not in live:
                continue  # computed, but the result does not use it with these parameters
            found = _first_hazard(node, env)
            if found:
                problem, _, advice = found.partition("; ")
                where = f"step `{name}`" if name else "the loss"
                return f"{problem} (in {where})" + (f"; {advice}" if advice else "")
            if name:
                env[name] = value(node, env)
    return None


def _live(steps: list[tuple[str, Node]], result: Node, env: dict) -> set[str]:
    """The steps the result depends on, following only the branches that the boolean
    parameters select."""
    definitions = dict(steps)
    live: set[str] = set()
    pending = [result]
    while pending:
        node = pending.pop()
        if isinstance(node, Ref):
            if node.name in definitions and node.name not in live:
                live.add(node.name)
                pending.append(definitions[node.name])
        elif isinstance(node, Cond):
            pending.append(node.body if env[node.flag] else node.orelse)
        else:
            pending.extend(children(node))
    return live


def _innermost(node: Node, env: dict, describe: Callable[[Node, dict], str | None]) -> str | None:
    """What ``describe`` says of the innermost operation of ``node`` it says anything of,
    children before parents, following only the branch of a conditional that runs."""
    if isinstance(node, Cond):
        return _innermost(node.body if env[node.flag] else node.orelse, env, describe)
    for child in children(node):
        found = _innermost(child, env, describe)
        if found:
            return found
    return describe(node, env)


def _first_hazard(node: Node, env: dict) -> str | None:
    return _innermost(node, env, _hazard)


def _hazard(node: Node, env: dict) -> str | None:
    text = f"`{formula_text(node)}`"
    if isinstance(node, Binary) and node.op == "/":
        if np.any(_array(value(node.right, env)) == 0):
            return f"division by zero in {text}; keep the denominator away from 0, e.g. maximum(d, epsilon())"
    if isinstance(node, Binary) and node.op == "**":
        return _power_hazard(text, value(node.left, env), value(node.right, env))
    if not isinstance(node, Call):
        return None
    rule = RULES.get(FUNCTIONS[node.fn].hazard)
    if rule is None:
        return None
    return rule(text, [value(a, env) for a in node.args])


def _log_rule(text: str, args: list) -> str | None:
    x = _array(args[0])
    if np.any(x == 0):
        return f"log of zero in {text}; clip its input to [epsilon(), ...] or use the logits form"
    if np.any(x < 0):
        return f"log of a negative number in {text}; clip its input to [epsilon(), ...]"
    return None


def _log1p_rule(text: str, args: list) -> str | None:
    if np.any(_array(args[0]) <= -1):
        return f"log1p of -1 or less in {text}; keep its input above -1"
    return None


def _sqrt_rule(text: str, args: list) -> str | None:
    x = _array(args[0])
    if np.any(x < 0):
        return f"square root of a negative number in {text}"
    if np.any(x == 0):
        return f"square root at 0 in {text}, where its slope is infinite; add epsilon() inside the root"
    return None


def _power_rule(text: str, args: list) -> str | None:
    return _power_hazard(text, args[0], args[1])


def _exp_rule(text: str, args: list) -> str | None:
    if np.any(_array(args[0]) > EXP_LIMIT):
        return f"exp above {EXP_LIMIT:g} overflows float32 in {text}; clip its input or use softplus/logsumexp"
    return None


def _exp_diff_rule(text: str, args: list) -> str | None:
    if np.any(_array(args[0]) - _array(args[1]) > EXP_LIMIT):
        return f"x - y above {EXP_LIMIT:g}: exp overflows float32 in {text}; subtract the maximum, as softmax does"
    return None


def _where_rule(text: str, args: list) -> str | None:
    for branch in args[1:]:
        b = _array(branch)
        if not np.all(np.isfinite(b)):
            kind = "NaN" if np.any(np.isnan(b)) else "infinite"
            return (
                f"{text} picks a finite branch, but the other branch is {kind} here and its gradient"
                " is NaN; make both branches finite (clip their inputs)"
            )
    return None


def _tan_rule(text: str, args: list) -> str | None:
    if np.any(np.abs(np.cos(_array(args[0]))) < POLE_DISTANCE):
        return f"tan at pi / 2 + k pi in {text}, where it is infinite; keep its input inside (-pi / 2, pi / 2)"
    return None


def _outside_unit_interval(text: str, args: list, at_ends: str) -> str | None:
    """A function defined on [-1, 1] only, which is ``at_ends`` (infinite, or infinitely
    steep) at -1 and 1."""
    x = np.abs(_array(args[0]))
    if np.any(x > 1):
        return f"{text} of a number outside [-1, 1], where it is undefined; {UNIT_CLIP}"
    if np.any(x == 1):
        return f"{text} at -1 or 1, where {at_ends}; {UNIT_CLIP}"
    return None


def _unit_interval_rule(text: str, args: list) -> str | None:
    return _outside_unit_interval(text, args, "its slope is infinite")


def _open_unit_interval_rule(text: str, args: list) -> str | None:
    return _outside_unit_interval(text, args, "it is infinite")


def _arctan2_rule(text: str, args: list) -> str | None:
    if np.any((_array(args[0]) == 0) & (_array(args[1]) == 0)):
        return f"{text} at (0, 0), where the angle has no slope (its gradient is NaN); keep the point off the origin"
    return None


def _hyperbolic_rule(text: str, args: list) -> str | None:
    if np.any(np.abs(_array(args[0])) > EXP_LIMIT):
        return f"{text} of a number beyond +-{EXP_LIMIT:g} overflows float32; clip its input"
    return None


def _positive_argument_rule(text: str, args: list) -> str | None:
    if np.any(_array(args[0]) <= 0):
        return (
            f"{text} of 0 or a negative number: it is defined here for inputs above 0 only; keep its input"
            " above 0, e.g. softplus(x) + epsilon()"
        )
    return None


def _nonnegative_argument_rule(text: str, args: list) -> str | None:
    if np.any(_array(args[0]) < 0):
        return f"{text} of a negative number: it is defined here for inputs of 0 or more; I0 is even, so use abs(x)"
    return None


def _window_rule(text: str, args: list) -> str | None:
    x, size, sigma = np.shape(args[0]), int(np.asarray(args[1])), _array(args[2])
    if np.any(sigma <= 0):
        return f"a window of standard deviation 0 or less in {text}: its weights are NaN; keep sigma above 0"
    if len(x) != 4 or size < 1 or min(x[1:3]) < size:
        return (
            f"a window of {size} by {size} pixels in {text} does not fit images of shape {x}; give images"
            " (batch, height, width, channels) at least as large as the window"
        )
    return None


RULES: dict[str, Callable[[str, list], str | None]] = {
    "log": _log_rule,
    "log1p": _log1p_rule,
    "sqrt": _sqrt_rule,
    "power": _power_rule,
    "exp": _exp_rule,
    "exp_diff": _exp_diff_rule,
    "where": _where_rule,
    "tan": _tan_rule,
    "unit_interval": _unit_interval_rule,
    "open_unit_interval": _open_unit_interval_rule,
    "arctan2": _arctan2_rule,
    "hyperbolic": _hyperbolic_rule,
    "positive_argument": _positive_argument_rule,
    "nonnegative_argument": _nonnegative_argument_rule,
    "window": _window_rule,
}
"""The domain rules a vocabulary entry names in its ``hazard`` field: each takes the call
as the spec wrote it and its argument values, and says what goes wrong there, or None."""


def _power_hazard(text: str, base: object, exponent: object) -> str | None:
    b, e = _array(base), _array(exponent)
    if np.any((b == 0) & (e < 1)):
        return (
            f"power of 0 with an exponent below 1 in {text}: infinite or undefined slope; keep the base above epsilon()"
        )
    if np.any((b < 0) & (e != np.round(e))):
        return f"fractional power of a negative number in {text}"
    return None


def _array(x: object) -> np.ndarray:
    return np.asarray(x, dtype="float64") if not isinstance(x, Num) else np.asarray(x.value)


# ---------------------------------------------------------------- operations that fail


def explain_error(item: LoadedSpec, y_true: np.ndarray, y_pred: np.ndarray, params: dict) -> str | None:
    """Why the formula cannot be computed at these inputs, in plain words: a vector or
    matrix parameter whose size is not the class count, or the first operation whose
    operands do not line up (steps of different widths, say). None when every operation
    computes (the problem is then elsewhere). NumPy only, in float64."""
    env = environment(item, y_true, y_pred, params)
    wrong = _wrong_parameter_sizes(item, env)
    steps, result = program(item)
    with np.errstate(all="ignore"):
        for name, node in [*steps, ("", result)]:
            found = _first_failure(node, env)
            if found:
                problem, _, advice = found.partition("; ")
                where = f"step `{name}`" if name else "the loss"
                # A parameter of the wrong size is the cause, whichever operation shows it.
                return "; ".join(wrong) or f"{problem} (in {where}); {advice}".removesuffix("; ")
            if name:
                env[name] = value(node, env)
    return "; ".join(wrong) or None


def _wrong_parameter_sizes(item: LoadedSpec, env: dict) -> list[str]:
    """A sentence for each vector or matrix parameter whose size is not the class count
    (the last axis of ``y_pred``)."""
    classes = np.shape(env["y_pred"])[-1]
    found = []
    for name, param in item.spec.parameters.items():
        if param.type not in PARAMETER_AXES:
            continue
        shape = np.shape(env[name])
        expected = parameter_shape(param.type, classes)
        if shape != expected:
            size = f"{shape[0]} entries" if param.type == "vector" else f"shape {shape}"
            found.append(
                f"parameter `{name}` has {size}, but y_pred has {classes} classes (its last axis), so it needs"
                f" {'as many entries' if param.type == 'vector' else f'shape {expected}'}"
            )
    return found


def _first_failure(node: Node, env: dict) -> str | None:
    """The innermost operation of ``node`` that raises when computed, described."""
    return _innermost(node, env, _raises)


def _raises(node: Node, env: dict) -> str | None:
    try:
        value(node, env)
    except Exception as exc:  # noqa: BLE001 - NumPy's reason becomes the explanation
        return _failure(node, env, exc)
    return None


def _failure(node: Node, env: dict, exc: Exception) -> str:
    text = f"`{formula_text(node)}`"
    operands = children(node)
    shapes = [np.shape(value(child, env)) for child in operands]
    if isinstance(node, Binary | Compare) and len(shapes) == 2:
        left, right = (formula_text(child) for child in operands)
        return (
            f"`{left}` of shape {shapes[0]} and `{right}` of shape {shapes[1]} do not line up in {text};"
            " give both sides the same width"
        )
    reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    listed = ", ".join(str(s) for s in shapes)
    return f"{text} cannot be computed with operands of shapes {listed} ({reason.replace('; ', ', ')})"
