"""Inputs and parameter values to exercise a loss with, derived from its spec.

Used by the checker and the tests. NumPy only (no Keras), seeded, deterministic. The
input shapes and output layers of a model for a spec are decided in ``shapes`` (no
NumPy, so the generator can use them too) and re-exported here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from generator.spec import shapes
from generator.spec.schema import LossSpec, Parameter, Part
from generator.spec.shapes import input_shape as input_shape  # re-exported: the checker's model
from generator.spec.shapes import output_layers as output_layers  # re-exported: the checker's model

BATCH = 8
FEATURES = 4


@dataclass(frozen=True)
class Batch:
    y_true: np.ndarray
    y_pred: np.ndarray
    logits: bool  # whether y_pred holds logits
    label: str  # what this batch is, for reports


def classes(spec: LossSpec) -> int:
    """The width of the last axis: the spec's fixed width (:func:`shapes.width`), else
    ``FEATURES``."""
    return shapes.width(spec, FEATURES)


def _alternative(param: Parameter) -> object:
    low = -np.inf if param.min is None else param.min
    high = np.inf if param.max is None else param.max

    def inside(value: float) -> float:
        return float(min(max(value, low), high))

    if param.type == "bool":
        return not param.default
    if param.type == "int":
        return int(param.default + 1 if param.default + 1 <= high else param.default - 1)
    if param.type == "float":
        d = float(param.default)
        if np.isfinite(high) and d != high:
            return (d + high) / 2 if np.isfinite(low) or d < high else d
        return inside(d * 1.5 + 0.5) if d * 1.5 + 0.5 != d else inside(d + 1.0)
    if param.type == "vector":
        return [inside(0.5 + 0.5 * i) for i in range(len(param.default))]
    n = len(param.default)
    return [[inside(1.0 + 0.5 * ((3 * i + j) % 4)) for j in range(len(param.default[0]))] for i in range(n)]


def parameter_sets(spec: LossSpec) -> dict[str, dict[str, object]]:
    """``defaults`` and ``changed`` (every parameter of :func:`shapes.tuned` moved off its
    default, within bounds; the class axis stays at its default)."""
    defaults = {n: p.default for n, p in spec.parameters.items()}
    tuned = shapes.tuned(spec)
    changed = {n: _alternative(p) if n in tuned else p.default for n, p in spec.parameters.items()}
    return {"defaults": defaults, "changed": changed}


def twin_arguments(spec: LossSpec, params: dict[str, object]) -> dict[str, object]:
    """The arguments of the spec's Keras twin class for these parameter values: the twin's
    fixed ``args`` plus the parameters, under the twin's names (``rename``); a parameter of
    ``when`` is replaced by the arguments it stands for when it is true."""
    twin = spec.keras
    if twin is None:
        raise ValueError(f"{spec.name} has no Keras twin")
    arguments = dict(twin.args)
    arguments.update({twin.rename.get(name, name): v for name, v in params.items() if name not in twin.when})
    for name, stands_for in twin.when.items():
        if params.get(name):
            arguments.update(stands_for)
    return arguments


def uses_logits(spec: LossSpec, params: dict[str, object]) -> bool:
    flag = spec.inputs.y_pred.logits_when
    return bool(flag and params.get(flag))


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _pixel_count(spec: LossSpec) -> int:
    return int(np.prod(shapes.spatial(spec)))


def _images(spec: LossSpec, rows: np.ndarray) -> np.ndarray:
    """Rows generated one per pixel, regrouped as ``(batch, height, width, classes)``;
    rows unchanged when the spec's inputs are neither per pixel nor images."""
    if not shapes.spatial(spec):
        return rows
    return rows.reshape(-1, *shapes.spatial(spec), rows.shape[-1])


def targets(spec: LossSpec, rng: np.random.Generator, batch: int = BATCH, width: int | None = None) -> np.ndarray:
    """Random ``y_true`` of the spec's kind (unpacked); ``width`` overrides the last axis."""
    return _images(spec, _target_rows(spec, rng, batch * _pixel_count(spec), width))


def _target_rows(spec: LossSpec, rng: np.random.Generator, batch: int, width: int | None = None) -> np.ndarray:
    c = width or shapes.target_width(spec, classes(spec))
    kind = spec.inputs.y_true.kind
    if kind == "real":
        return rng.normal(size=(batch, c))
    if kind == "nonnegative":
        return rng.uniform(0.0, 2.0, size=(batch, c))
    if kind == "binary":
        return rng.integers(0, 2, size=(batch, c)).astype(float)
    if kind == "signed":
        return rng.choice([-1.0, 1.0], size=(batch, c))
    if kind == "one_hot":
        return np.eye(c)[rng.integers(0, c, size=batch)]
    if kind == "labels":
        return rng.integers(0, c, size=(batch,)).astype(float)
    if kind == "box":
        return boxes(rng, batch)
    return _softmax(rng.normal(size=(batch, c)))


def predictions(
    spec: LossSpec, rng: np.random.Generator, logits: bool, batch: int = BATCH, width: int | None = None
) -> np.ndarray:
    """Random ``y_pred`` of the spec's kind; logits when ``logits``; ``width`` overrides the
    class count (the last axis, times the group size of a prediction grouped per class)."""
    return _images(spec, _prediction_rows(spec, rng, logits, batch * _pixel_count(spec), width))


def _prediction_rows(
    spec: LossSpec, rng: np.random.Generator, logits: bool, batch: int, width: int | None = None
) -> np.ndarray:
    c = (width or classes(spec)) * shapes.per_class(spec)  # several numbers per class, class after class
    kind = spec.inputs.y_pred.kind
    if spec.inputs.y_pred.parts:
        return np.concatenate([part_values(part, rng, (batch, c)) for _, part in shapes.parts(spec)], axis=-1)
    if logits or kind == "real":
        return rng.normal(scale=2.0, size=(batch, c))
    if kind == "mean_and_log_variance":
        return np.concatenate([rng.normal(size=(batch, c)), rng.normal(scale=1.5, size=(batch, c))], axis=-1)
    if kind == "nonnegative":
        return rng.uniform(0.0, 2.0, size=(batch, c))
    if kind == "probability":
        return rng.uniform(0.02, 0.98, size=(batch, c))
    if kind == "embedding":
        return unit_rows(rng.normal(size=(batch, c)))
    if kind == "box":
        return boxes(rng, batch)
    return _softmax(rng.normal(size=(batch, c)))


def part_values(part: Part, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Random values of one part of a packed prediction, inside its domain."""
    if part.greater_than is not None:
        return part.greater_than + rng.uniform(0.05, 3.0, size=shape)
    if part.kind == "real":
        return rng.normal(scale=2.0, size=shape)
    if part.kind == "positive":
        return rng.uniform(0.05, 3.0, size=shape)
    if part.kind == "nonnegative":
        return rng.uniform(0.0, 3.0, size=shape)
    return rng.uniform(0.02, 0.98, size=shape)


def part_edge(part: Part, target: np.ndarray, high: bool) -> np.ndarray:
    """One part at an edge of its domain, shaped like ``target``: the lower edge (just above
    0 or the bound, exactly 0 where 0 is allowed; a real part equal to the target), or a
    large value (1 for a probability, the target plus 1e3 for a real part)."""
    if part.kind == "real" and part.greater_than is None:
        return target + (1e3 if high else 0.0)
    if high:
        return np.full_like(target, 1.0 if part.kind == "probability" else 1e3)
    if part.greater_than is not None:
        return np.full_like(target, part.greater_than + 1e-4)
    return np.full_like(target, 1e-6 if part.kind == "positive" else 0.0)


def unit_rows(x: np.ndarray) -> np.ndarray:
    """Rows scaled to length one (zero rows stay zero)."""
    norm = np.linalg.norm(x, axis=-1, keepdims=True)
    return x / np.where(norm > 0, norm, 1.0)


def boxes(rng: np.random.Generator, batch: int = BATCH) -> np.ndarray:
    """Random boxes ``(y_min, x_min, y_max, x_max)`` with positive height and width."""
    corner = rng.uniform(0.0, 1.0, size=(batch, 2))
    size = rng.uniform(0.1, 1.0, size=(batch, 2))
    return np.concatenate([corner, corner + size], axis=-1)


def tables(spec: LossSpec, rng: np.random.Generator, batch: int = BATCH) -> np.ndarray:
    """Per-example weights for the ``per_example`` rule: a table per example, or one
    number (:func:`shapes.packed_weights`)."""
    if shapes.packed_weights(spec) == "number":
        return rng.uniform(0.5, 2.0, size=(batch,))
    c = classes(spec)
    return rng.uniform(0.5, 2.0, size=(batch, c, c))


def pack(y_true: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The layout the ``per_example`` rule expects: the targets, then each example's weight
    or flattened table."""
    y_true = np.asarray(y_true)
    rows = y_true.reshape(len(y_true), -1)
    return np.concatenate([rows, np.asarray(weights).reshape(len(y_true), -1)], axis=-1)


def random_batch(spec: LossSpec, params: dict[str, object], seed: int) -> Batch:
    rng = np.random.default_rng(seed)
    logits = uses_logits(spec, params)
    y_true = targets(spec, rng)
    y_pred = predictions(spec, rng, logits)
    if spec.weighting.rule == "per_example":
        y_true = pack(y_true, tables(spec, rng))
    return Batch(y_true.astype("float32"), y_pred.astype("float32"), logits, f"random (seed {seed})")


def edge_batches(spec: LossSpec, params: dict[str, object]) -> list[Batch]:
    """Inputs at the edges of the domain: exact 0 and 1 probabilities, logits of +-100,
    zero and large regression values, predictions equal to targets."""
    c = classes(spec) * shapes.per_class(spec)  # the width of y_pred
    logits = uses_logits(spec, params)
    rng = np.random.default_rng(0)
    rows = BATCH * _pixel_count(spec)  # one row per pixel when the loss is per pixel
    y_true = _target_rows(spec, rng, rows)
    kind = spec.inputs.y_pred.kind
    out: list[tuple[str, np.ndarray, np.ndarray]] = []
    if logits:
        signs = np.where(np.arange(c) % 2 == 0, 1.0, -1.0)
        out.append(("logits = +-100", y_true, np.tile(100.0 * signs, (rows, 1))))
        out.append(("logits = 0", y_true, np.zeros((rows, c))))
    elif kind == "probability":
        out.append(("y_pred = 0", y_true, np.zeros((rows, c))))
        out.append(("y_pred = 1", y_true, np.ones((rows, c))))
    elif kind == "embedding":
        same = np.tile(unit_rows(np.ones((1, c))), (rows, 1))
        out.append(("identical embeddings", y_true, same))
        out.append(("embeddings = 0", y_true, np.zeros((rows, c))))
    elif spec.inputs.y_pred.parts:
        for high, label in ((False, "parts at the low edge of their domains"), (True, "large parts")):
            parts = [part_edge(part, y_true, high) for _, part in shapes.parts(spec)]
            out.append((label, y_true, np.concatenate(parts, axis=-1)))
    elif kind == "mean_and_log_variance":
        for log_variance in (-30.0, 30.0):
            out.append(
                (
                    f"log-variance = {log_variance:g}",
                    y_true,
                    np.concatenate([y_true + 1, np.full_like(y_true, log_variance)], -1),
                )
            )
        out.append(("mean = y_true, log-variance = 0", y_true, np.concatenate([y_true, np.zeros_like(y_true)], -1)))
    elif kind == "box":
        out.append(("y_pred = y_true", y_true, y_true))
        far = y_true + np.array([5.0, 5.0, 5.0, 5.0])
        out.append(("boxes far apart", y_true, far))
        flat = np.concatenate([y_true[:, :2], y_true[:, :2]], axis=-1)
        out.append(("empty predicted boxes", y_true, flat))
        out.append(("empty boxes on both sides", flat, flat))
    elif kind == "distribution":
        hot = np.eye(c)[np.arange(rows) % c]
        out.append(("y_pred one-hot (zeros elsewhere)", y_true, hot))
        out.append(("y_pred one-hot on another class", y_true, np.roll(hot, 1, axis=-1)))
    else:
        zero_true = np.zeros_like(y_true) if spec.inputs.y_true.kind in ("real", "nonnegative") else y_true
        out.append(("y_pred = y_true = 0", zero_true, np.zeros((rows, c))))
        out.append(
            (
                "y_pred = y_true",
                y_true,
                np.array(y_true, dtype=float).reshape(rows, -1)[:, :c] if y_true.ndim == 2 else np.zeros((rows, c)),
            )
        )
        out.append(("y_pred = 1e3", y_true, np.full((rows, c), 1e3)))
    if shapes.spatial(spec) and spec.inputs.y_true.kind == "one_hot":
        # Images with a single class: the other classes are absent from the ground truth.
        out.append(("every pixel of class 0", np.eye(c)[np.zeros(rows, dtype=int)], out[0][2]))
    if spec.task == "metric" and spec.inputs.y_true.kind == "labels" and not spec.inputs.per_class:
        # Batch-level losses: anchors without a positive, or without a negative. (Scores
        # grouped per class are scores of classes: their ids index them, up to the class count.)
        out.append(("every label the same (no negatives)", np.zeros(BATCH), predictions(spec, rng, logits)))
        out.append(("every label different (no positives)", np.arange(BATCH, dtype=float), out[0][2]))
    batches = []
    for label, t, p in out:
        if spec.weighting.rule == "per_example":
            t = pack(t, tables(spec, rng))
        t, p = _images(spec, np.asarray(t, dtype="float32")), _images(spec, np.asarray(p, dtype="float32"))
        batches.append(Batch(t, p, logits, label))
    return batches
