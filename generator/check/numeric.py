"""Evaluate a spec's formula with NumPy (float64), for plots and for explaining where a
formula fails: no Keras, no code execution.

The formula tree is walked node by node; each whitelisted function's NumPy twin is
declared with it in ``formula/vocabulary.py``; the few that read the inputs' shapes are
computed here. The checker and tests compare the generated Keras code against independent
references, not against this evaluator.
"""

from __future__ import annotations

import numpy as np
import scipy.special

from generator.formula.tree import Binary, Call, Compare, Cond, Node, Num, Ref, Unary
from generator.formula.vocabulary import FUNCTIONS, READS_INPUTS
from generator.spec.loader import LoadedSpec
from generator.spec.program import program

_COMPARE = {
    "<": np.less,
    "<=": np.less_equal,
    ">": np.greater,
    ">=": np.greater_equal,
    "==": np.equal,
    "!=": np.not_equal,
}
_BINARY = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide, "**": np.power}


CLASS_AXIS = "(class axis)"
"""The key under which the environment keeps the axis of ``y_pred`` that counts the
classes: -1, or -2 when ``y_pred`` is grouped per class. Not a formula name (it has a
space), so no step or parameter can shadow it."""


def environment(item: LoadedSpec, y_true: np.ndarray, y_pred: np.ndarray, params: dict) -> dict[str, object]:
    """The names a formula starts from: the inputs in float64 (per-pixel inputs flattened
    to ``(batch, pixels, classes)``, and grayscale images ``(batch, height, width)`` given
    their channel axis, as the generated code does) and the parameters."""
    y_true, y_pred = np.asarray(y_true, dtype="float64"), np.asarray(y_pred, "float64")
    if item.spec.inputs.image:
        y_true = y_true[..., None] if y_true.ndim == 3 else y_true
        y_pred = y_pred[..., None] if y_pred.ndim == 3 else y_pred
    axis = params.get(item.spec.inputs.class_axis, -1) if item.spec.inputs.class_axis else -1
    if axis != -1 and axis % y_pred.ndim != y_pred.ndim - 1:  # classes go last, as the generated code puts them
        y_true = np.moveaxis(y_true, axis, -1) if y_true.ndim == y_pred.ndim else y_true
        y_pred = np.moveaxis(y_pred, axis, -1)
    if item.spec.inputs.pixels:
        y_pred = y_pred.reshape(len(y_pred), -1, y_pred.shape[-1])
        y_true = y_true.reshape(y_pred.shape)
    env: dict[str, object] = {"y_true": y_true, "y_pred": y_pred, CLASS_AXIS: -1}
    for name, param in item.spec.parameters.items():
        given = params.get(name, param.default)
        env[name] = np.asarray(given, dtype="float64") if param.type in ("vector", "matrix") else given
    if item.spec.inputs.per_class:  # (batch, classes * k) -> (batch, classes, k), as the generated code
        env["y_pred"] = y_pred.reshape(*y_pred.shape[:-1], -1, env[item.spec.inputs.per_class])
        env[CLASS_AXIS] = -2
    return env


def evaluate(item: LoadedSpec, y_true: np.ndarray, y_pred: np.ndarray, params: dict) -> np.ndarray:
    """The per-sample loss of a spec, computed in float64 with NumPy."""
    env = environment(item, y_true, y_pred, params)
    steps, result = program(item)
    with np.errstate(all="ignore"):
        for name, node in steps:
            env[name] = value(node, env)
        return np.asarray(value(result, env), dtype="float64")


def value(node: Node, env: dict) -> object:
    """The value of one formula node, given the values of the names it reads."""
    match node:
        case Num(value=number):
            return number
        case Ref(name=name):
            return env[name]
        case Unary(op=op, operand=x):
            inner = value(x, env)
            return -inner if op == "-" else inner
        case Binary(op=op, left=a, right=b):
            return _BINARY[op](value(a, env), value(b, env))
        case Compare(op=op, left=a, right=b):
            return _COMPARE[op](value(a, env), value(b, env))
        case Cond(flag=flag, body=a, orelse=b):
            return value(a, env) if env[flag] else value(b, env)
        case Call(fn=fn, args=args, keywords=keywords):
            return _call(fn, [value(a, env) for a in args], dict(keywords), env)
    raise TypeError(f"not a formula node: {node!r}")


def _labels(x: object, shape: tuple[int, ...]) -> np.ndarray:
    """Integer class ids reshaped to ``shape`` (labels of shape (batch,) or (batch, 1))."""
    return np.asarray(x).reshape(shape).astype(int)


def _call(fn: str, args: list, keywords: dict, env: dict) -> object:
    twin = FUNCTIONS[fn].twin
    if twin == READS_INPUTS:
        return _reading_inputs(fn, args, env["y_pred"], env[CLASS_AXIS])
    if callable(twin):
        return twin(np, *args, **keywords)
    module, _, name = twin.rpartition(".")
    return getattr(scipy.special if module == "special" else np, name)(*args, **keywords)


def _reading_inputs(fn: str, args: list, y_pred: np.ndarray, class_axis: int) -> object:
    """The twins of the functions whose value depends on the inputs' shapes; the classes
    are on ``class_axis`` of ``y_pred``, -1 or -2 (:data:`CLASS_AXIS`)."""
    if fn == "num_classes":
        return y_pred.shape[class_axis]
    if fn == "batch_size":
        return y_pred.shape[0]
    if fn == "every_sample":
        return np.broadcast_to(args[0], y_pred.shape[:1])
    if fn == "labels":
        return _labels(args[0], y_pred.shape[:class_axis])
    if fn == "sparse_crossentropy":
        logits = np.asarray(args[1])
        labels = _labels(args[0], logits.shape[:-1])
        log_probabilities = FUNCTIONS["log_softmax"].twin(np, logits)
        return -np.take_along_axis(log_probabilities, labels[..., None], axis=-1)[..., 0]
    raise KeyError(f"{fn} is marked READS_INPUTS but has no twin here")
