"""Evaluate a spec's formula with NumPy (float64), for plots and for explaining where a
formula fails: no Keras, no code execution.

The formula tree is walked node by node; each whitelisted function has a NumPy twin
here. The checker and tests compare the generated Keras code against independent
references, not against this evaluator.
"""

from __future__ import annotations

import numpy as np

from generator.formula.tree import Binary, Call, Compare, Cond, Node, Num, Ref, Unary
from generator.spec.loader import LoadedSpec
from generator.spec.program import program

EPSILON = 1e-7


def _softmax(x, axis=-1):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def _log_softmax(x, axis=-1):
    shifted = x - np.max(x, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def _logsumexp(x, axis=-1, keepdims=False):
    peak = np.max(x, axis=axis, keepdims=True)
    out = peak + np.log(np.sum(np.exp(x - peak), axis=axis, keepdims=True))
    return out if keepdims else np.squeeze(out, axis=axis)


def _normalize(x, axis=-1):
    norm = np.sqrt(np.maximum(np.sum(x * x, axis=axis, keepdims=True), EPSILON))
    return x / norm


_TWINS = {
    "exp": np.exp,
    "exp_diff": lambda x, y: np.exp(np.subtract(x, y)),
    "log": np.log,
    "log1p": np.log1p,
    "expm1": np.expm1,
    "sqrt": np.sqrt,
    "square": np.square,
    "abs": np.abs,
    "sign": np.sign,
    "tanh": np.tanh,
    "sigmoid": lambda x: 1.0 / (1.0 + np.exp(-x)),
    "softplus": lambda x: np.logaddexp(0.0, x),
    "log_sigmoid": lambda x: -np.logaddexp(0.0, -x),
    "relu": lambda x: np.maximum(x, 0.0),
    "power": np.power,
    "maximum": np.maximum,
    "minimum": np.minimum,
    "clip": np.clip,
    "where": np.where,
    "stop_gradient": lambda x: x,
    "logical_and": np.logical_and,
    "logical_or": np.logical_or,
    "logical_not": np.logical_not,
    "all": np.all,
    "indicator": lambda x: np.asarray(x, dtype="float64"),
    "sort": np.sort,
    "argsort": lambda x, axis=-1: np.argsort(x, axis=axis, kind="stable"),
    "take_along_axis": np.take_along_axis,
    "cumsum": np.cumsum,
    "at": lambda x, i: np.asarray(x)[..., int(i)],
    "eye": lambda n: np.eye(int(n)),
    "arange": lambda n: np.arange(int(n), dtype="float64"),
    "softmax": _softmax,
    "log_softmax": _log_softmax,
    "logsumexp": _logsumexp,
    "normalize": _normalize,
    "sum": np.sum,
    "mean": np.mean,
    "max": np.max,
    "min": np.min,
    "argmax": np.argmax,
    "expand_dims": np.expand_dims,
    "matmul": np.matmul,
    "transpose": np.transpose,
}
_COMPARE = {
    "<": np.less,
    "<=": np.less_equal,
    ">": np.greater,
    ">=": np.greater_equal,
    "==": np.equal,
    "!=": np.not_equal,
}
_BINARY = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide, "**": np.power}


def environment(item: LoadedSpec, y_true: np.ndarray, y_pred: np.ndarray, params: dict) -> dict[str, object]:
    """The names a formula starts from: the inputs in float64 (per-pixel inputs flattened
    to ``(batch, pixels, classes)``, as the generated code does) and the parameters."""
    y_true, y_pred = np.asarray(y_true, dtype="float64"), np.asarray(y_pred, "float64")
    if item.spec.inputs.pixels:
        y_pred = y_pred.reshape(len(y_pred), -1, y_pred.shape[-1])
        y_true = y_true.reshape(y_pred.shape)
    env: dict[str, object] = {"y_true": y_true, "y_pred": y_pred}
    for name, param in item.spec.parameters.items():
        given = params.get(name, param.default)
        env[name] = np.asarray(given, dtype="float64") if param.type in ("vector", "matrix") else given
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
    y_pred = env["y_pred"]
    if fn == "epsilon":
        return EPSILON
    if fn == "num_classes":
        return y_pred.shape[-1]
    if fn == "batch_size":
        return y_pred.shape[0]
    if fn == "every_sample":
        return np.broadcast_to(args[0], y_pred.shape[:1])
    if fn == "first_half":
        return args[0][..., : args[0].shape[-1] // 2]
    if fn == "second_half":
        return args[0][..., args[0].shape[-1] // 2 :]
    if fn == "labels":
        return _labels(args[0], y_pred.shape[:-1])
    if fn == "sparse_crossentropy":
        logits = np.asarray(args[1])
        labels = _labels(args[0], logits.shape[:-1])
        return -np.take_along_axis(_log_softmax(logits), labels[..., None], axis=-1)[..., 0]
    if fn == "one_hot":
        return np.eye(int(args[1]))[np.asarray(args[0], dtype=int)]
    if fn == "head":
        return args[0][..., : int(args[1])]
    if fn == "tail":
        return args[0][..., int(args[1]) :]
    if fn == "square_table":
        n = int(args[1])
        return np.reshape(args[0], (-1, n, n))
    return _TWINS[fn](*args, **keywords)
