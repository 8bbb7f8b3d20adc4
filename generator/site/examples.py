"""The worked example on each reference page: a few samples, and the per-sample losses the
float64 NumPy evaluation (:mod:`generator.check.numeric`) gives for them at build time.
The page shows them as a program that prints the generated function's values next to
these; the site tests run it and compare."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from generator.check import samples
from generator.check.numeric import evaluate
from generator.spec.loader import LoadedSpec

SEED = 11
ROWS = 4
DECIMALS = 2  # inputs are shown, and evaluated, rounded to this many decimals
DIGITS = 4  # significant digits of the losses shown


@dataclass(frozen=True)
class WorkedExample:
    y_true: str  # Python literal of the targets
    y_pred: str
    values: str  # the float64 losses, as NumPy prints an array


def _literal(array: np.ndarray, integers: bool) -> str:
    if integers:
        return repr([int(v) for v in array.reshape(len(array), -1)[:, 0]])
    rows = [", ".join(f"{v:g}" for v in row) for row in array.reshape(len(array), -1)]
    return "[\n" + "".join(f"    [{row}],\n" for row in rows) + "]"


def worked_example(item: LoadedSpec) -> WorkedExample | None:
    """Four samples of the checker's random inputs (rounded) and their losses with the
    default parameters; None for per-pixel and image inputs, which do not fit on a page."""
    spec = item.spec
    if spec.inputs.pixels or spec.inputs.image:
        return None
    params = samples.parameter_sets(spec)["defaults"]
    batch = samples.random_batch(spec, params, SEED)
    labels = spec.inputs.y_true.kind == "labels"
    y_true = np.asarray(batch.y_true[:ROWS], dtype="float64")
    if labels:  # two samples of each of two classes, so that every sample has a positive
        y_true = (np.arange(ROWS) // 2).astype("float64").reshape(y_true.shape)
    y_pred = np.round(np.asarray(batch.y_pred[:ROWS], dtype="float64"), DECIMALS)
    if not labels:
        y_true = np.round(y_true, DECIMALS)
    values = evaluate(item, y_true, y_pred, params)
    if not np.all(np.isfinite(values)):
        return None
    shown = "[" + " ".join(f"{v + 0.0:.{DIGITS}g}" for v in values.reshape(-1)) + "]"
    return WorkedExample(_literal(y_true, labels), _literal(y_pred, False), shown)
