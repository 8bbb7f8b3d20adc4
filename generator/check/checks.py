"""The checks that run in this process, one function each: they take the spec and its
forms and return :class:`~generator.check.report.Result` rows."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import numpy as np

from generator.check import hazards, samples
from generator.check.harness import (
    Forms,
    as_numpy,
    build_model,
    max_relative,
    model_for,
    nonfinite,
    reference_values,
    training_data,
    value_and_gradient,
)
from generator.check.report import Result, error_line, one_line
from generator.check.tolerances import ATOL, FLOAT64_RTOL, RANK_RTOL, RTOL, published_tolerance
from generator.spec.loader import LoadedSpec
from generator.spec.semantics import ROW_KINDS


def check_agreement(item: LoadedSpec, forms: Forms) -> list[Result]:
    results = []
    for label, params in samples.parameter_sets(item.spec).items():
        worst = 0.0
        problem = ""
        for seed in range(3):
            batch = samples.random_batch(item.spec, params, seed)
            values = {
                "function": as_numpy(forms.function(params)(batch.y_true, batch.y_pred)),
                "factory": as_numpy(forms.factory(params)(batch.y_true, batch.y_pred)),
                "subclass": as_numpy(forms.subclass(params)(batch.y_true, batch.y_pred)),
            }
            expected_shape = (samples.BATCH,)
            for form, value in values.items():
                if value.shape != expected_shape:
                    problem = f"{form} returned shape {value.shape}, expected one value per sample {expected_shape}"
            for form in ("factory", "subclass"):
                if values[form].shape == values["function"].shape:
                    worst = max(worst, max_relative(values[form], values["function"]))
        ok = not problem and worst <= RTOL
        detail = problem or f"max relative difference {worst:.1e} (limit {RTOL:.0e})"
        results.append(Result(f"forms agree ({label} parameters)", ok, detail))
    return results


def _explained(item: LoadedSpec, batch: samples.Batch, params: dict, what: str) -> str:
    """``what`` at the batch's input, with the formula's first unsafe operation there."""
    cause = hazards.explain(item, batch.y_true, batch.y_pred, params)
    return f"{what} at {batch.label}" + (f": {cause}" if cause else "")


def check_edges(item: LoadedSpec, forms: Forms) -> list[Result]:
    results = []
    for label, params in samples.parameter_sets(item.spec).items():
        bad = []
        for batch in samples.edge_batches(item.spec, params):
            value, grad = value_and_gradient(forms.function(params), batch.y_true, batch.y_pred)
            if not np.all(np.isfinite(value)):
                bad.append(_explained(item, batch, params, f"value is {nonfinite(value)}"))
            elif not np.all(np.isfinite(grad)):
                bad.append(_explained(item, batch, params, f"gradient is {nonfinite(grad)}"))
        detail = (
            "; ".join(bad)
            if bad
            else "values and gradients finite at " + ", ".join(b.label for b in samples.edge_batches(item.spec, params))
        )
        results.append(Result(f"finite at the edges ({label} parameters)", not bad, detail))
    return results


def batch_level(item: LoadedSpec, params: dict) -> bool:
    """Whether a sample's loss depends on the other samples of the batch (metric learning,
    batch statistics): changing sample 0's prediction changes another sample's loss."""
    batch = samples.random_batch(item.spec, params, 0)
    moved = np.array(batch.y_pred, dtype="float64")
    moved[0] = samples.random_batch(item.spec, params, 1).y_pred[0]
    before = reference_values(item, batch.y_true, batch.y_pred, params)
    after = reference_values(item, batch.y_true, moved, params)
    return not np.allclose(before[1:], after[1:], rtol=1e-12, atol=0.0)


def check_weights(item: LoadedSpec, forms: Forms) -> list[Result]:
    """``sample_weight`` through the subclass with Keras's default reduction: the value
    equals ``sum(w * loss) / batch`` from the float64 NumPy evaluation, and a zero weight
    removes its sample's gradient (for losses where samples are independent)."""
    params = samples.parameter_sets(item.spec)["defaults"]
    batch = samples.random_batch(item.spec, params, 5)
    weights = np.random.default_rng(5).uniform(0.0, 2.0, samples.BATCH).astype("float32")
    weights[0] = 0.0
    per_sample = reference_values(item, batch.y_true, batch.y_pred, params)
    expected = float(np.sum(weights * per_sample) / samples.BATCH)
    loss = forms.subclass_reduced(params)

    def weighted(y_true, y_pred):
        return loss(y_true, y_pred, sample_weight=weights)

    value, grad = value_and_gradient(weighted, batch.y_true, batch.y_pred)
    value = float(value)
    relative = abs(value - expected) / max(abs(expected), ATOL)
    results = [
        Result(
            "sample_weight matches sum(w * loss) / batch",
            relative <= RTOL,
            f"{value:.8g} against {expected:.8g} (float64 reference), relative difference {relative:.1e}",
        )
    ]
    if batch_level(item, params):
        detail = "not applicable: each sample's loss depends on the others, so a zero-weight sample still shapes them"
        results.append(Result("a zero sample_weight removes the sample's gradient", True, detail))
    else:
        leaked = float(np.max(np.abs(grad[0])))
        results.append(
            Result(
                "a zero sample_weight removes the sample's gradient",
                leaked == 0.0,
                f"largest gradient on the zero-weight sample: {leaked:.1e}",
            )
        )
    return results


STEPS = 3
"""Time steps of the sequences in the mask check."""


def _mask_problem(item: LoadedSpec, params: dict) -> str:
    """Why the mask check does not apply to this spec ("" when it does)."""
    spec = item.spec
    if spec.inputs.pixels:
        return "per-pixel inputs"
    if spec.inputs.image:
        return "image inputs"
    if spec.inputs.y_true.kind in ROW_KINDS or spec.inputs.y_pred.kind in ROW_KINDS:
        return f"{spec.inputs.y_true.kind} targets and {spec.inputs.y_pred.kind} predictions are not per time step"
    if spec.weighting.rule == "per_example":
        return "per-example weights are packed behind the targets"
    if batch_level(item, params):
        return "each sample's loss depends on the others"
    return ""


def check_mask(item: LoadedSpec, forms: Forms) -> list[Result]:
    """Sequences ``(batch, steps, classes)`` through a ``Masking`` layer: the model's loss
    is the mean of the per-step losses over the unmasked steps only, computed in float64."""
    import keras

    params = samples.parameter_sets(item.spec)["defaults"]
    name = "masked time steps are left out"
    why = _mask_problem(item, params)
    if why:
        return [Result(name, True, f"not applicable: {why}")]
    rng = np.random.default_rng(11)
    batch, width = samples.BATCH, samples.classes(item.spec)
    mask = rng.random((batch, STEPS)) < 0.6
    mask[:, 0] = True  # every sequence keeps at least one step
    x = rng.normal(size=(batch, STEPS, 5)).astype("float32") * mask[..., None]
    y = samples.targets(item.spec, rng, batch=batch * STEPS).reshape(batch, STEPS, -1).astype("float32")
    keras.utils.set_random_seed(1)
    model = model_for(item, params, width, (STEPS, 5), masking=True)
    model.compile(loss=forms.subclass_reduced(params), run_eagerly=True)
    value = float(model.evaluate(x, y, batch_size=batch, verbose=0))
    prediction = np.asarray(model.predict(x, batch_size=batch, verbose=0), dtype="float64")
    rows = reference_values(item, y.reshape(batch * STEPS, -1), prediction.reshape(batch * STEPS, -1), params)
    expected = float(np.sum(rows.reshape(batch, STEPS) * mask) / np.sum(mask))
    relative = abs(value - expected) / max(abs(expected), ATOL)
    detail = (
        f"{value:.8g} against {expected:.8g}, the float64 mean over the {int(mask.sum())} of"
        f" {mask.size} steps left unmasked (relative difference {relative:.1e})"
    )
    return [Result(name, relative <= RTOL, detail)]


RANK_BATCH = 32

_ROW_TARGETS = {
    "one_hot": "one-hot targets are rows with one entry per class",
    "distribution": "distribution targets are rows that sum to one",
    "box": "box targets are rows of four coordinates",
}
_ROW_PREDICTIONS = {
    "distribution": "distribution predictions are rows that sum to one",
    "embedding": "embedding predictions are rows of unit length",
    "box": "box predictions are rows of four coordinates",
    "mean_and_log_variance": "predictions hold a mean and a log-variance per target, two columns for one",
}


def _one_column_problem(item: LoadedSpec) -> str:
    """Why the spec's targets cannot be a single column ("" when they can: element-wise
    targets and predictions, the width set by no parameter)."""
    spec = item.spec
    if spec.inputs.pixels:
        return "per-pixel inputs"
    if spec.weighting.rule == "per_example":
        return "per-example weights are packed behind the targets"
    if spec.inputs.y_true.kind in _ROW_TARGETS:
        return _ROW_TARGETS[spec.inputs.y_true.kind]
    if spec.inputs.y_pred.kind in _ROW_PREDICTIONS:
        return _ROW_PREDICTIONS[spec.inputs.y_pred.kind]
    sized = [name for name, p in spec.parameters.items() if p.type in ("vector", "matrix")]
    if sized:
        return f"parameter `{sized[0]}` sets the width to {samples.classes(spec)} columns"
    if spec.task == "ranking":
        return "a list of one item has nothing to rank"
    return ""


def _compared(values: dict[str, float], references: dict[str, float], limit: float) -> tuple[float, list[str]]:
    """The largest relative difference of the values from the references, and a sentence
    for each value beyond ``limit`` from one of them (the first it misses)."""
    worst, bad = 0.0, []
    for what, value in values.items():
        for against, reference in references.items():
            if what == against:
                continue
            gap = abs(value - reference) / max(abs(reference), ATOL)
            worst = max(worst, gap) if np.isfinite(gap) else np.inf
            if not gap <= limit:
                bad.append(f"{what} gives {value:.8g} against {reference:.8g} from {against}")
                break
    return worst, bad


def check_rank_variants(item: LoadedSpec, forms: Forms) -> list[Result]:
    """The shapes of targets Keras accepts for the same data give the same value.
    Element-wise losses: a one-unit head in ``model.evaluate`` with targets ``(N,)`` and
    ``(N, 1)`` through the subclass, and the subclass called on ``(N, 1)`` targets with
    ``(N,)`` predictions, against the function form on ``(N, 1)`` targets and the float64
    evaluation. Class ids: ``(N,)`` and ``(N, 1)``, as floats and as integers, in
    ``model.evaluate`` and through the function form. Images: grayscale images with and
    without their channel axis (:func:`_image_rank_variants`)."""
    name = "rank variants"
    params = samples.parameter_sets(item.spec)["defaults"]
    if item.spec.inputs.y_true.kind == "labels":
        return [_label_rank_variants(item, forms, params)]
    if item.spec.inputs.image:
        return [_image_rank_variants(item, forms, params)]
    why = _one_column_problem(item)
    if why:
        return [Result(name, True, f"not applicable: {why}")]
    x, y, model, prediction, expected = _one_channel_model(item, forms, params)
    flat, column = (RANK_BATCH,), (RANK_BATCH, 1)
    values = {
        f"the subclass in evaluate with targets {flat}": float(model.evaluate(x, y[:, 0], verbose=0)),
        f"the subclass in evaluate with targets {column}": float(model.evaluate(x, y, verbose=0)),
    }
    problems = []
    calls = {f"the function on targets {column}": forms.function(params)(y, prediction)}
    one_column = prediction.shape[-1] == 1  # a packed prediction has one column per part
    if one_column:
        calls[f"the subclass on {column} targets and {flat} predictions"] = forms.subclass(params)(y, prediction[:, 0])
    for what, value in calls.items():
        value = as_numpy(value)
        if value.shape != flat:
            problems.append(f"{what} returns shape {value.shape}, not one value per sample {flat}")
        else:
            values[what] = float(np.mean(value))
    function = f"the function on targets {column}"
    references = {function: values[function]} if function in values else {}
    worst, bad = _compared(values, {**references, "the float64 evaluation": expected}, RANK_RTOL)
    problems += bad
    flat_predictions = f", the subclass on {column} targets and {flat} predictions," if one_column else ""
    detail = "; ".join(problems) or (
        f"{values[function]:.8g} from the subclass in evaluate with targets {flat} and {column}{flat_predictions}"
        f" and the function on {column} targets; {expected:.8g} from the float64 evaluation: max relative"
        f" difference {worst:.1e} (limit {RANK_RTOL:.0e})"
    )
    return [Result(name, not problems, detail)]


def _label_rank_variants(item: LoadedSpec, forms: Forms, params: dict) -> Result:
    """Class ids of shape ``(N,)`` and ``(N, 1)``, floats and integers: the subclass in
    ``model.evaluate`` and the function form give the float64 evaluation, the batch means
    within ``RANK_RTOL`` and the function's value per sample within ``RTOL`` (one sample's
    float32 rounding is not averaged away)."""
    rng = np.random.default_rng(13)
    model = build_model(item, params)
    x = rng.normal(size=(RANK_BATCH, *samples.input_shape(item.spec, 5))).astype("float32")
    ids = samples.targets(item.spec, rng, batch=RANK_BATCH)
    prediction = np.asarray(model.predict(x, batch_size=RANK_BATCH, verbose=0))
    rows = reference_values(item, ids, prediction, params)
    expected = float(np.mean(rows))
    variants = {
        f"{dtype} class ids {shape}": ids.reshape(shape).astype(dtype)
        for dtype in ("float32", "int32")
        for shape in ((RANK_BATCH,), (RANK_BATCH, 1))
    }
    model.compile(loss=forms.subclass_reduced(params), run_eagerly=True)
    values, problems = {}, []
    for what, y in variants.items():
        values[f"the subclass in evaluate with {what}"] = float(model.evaluate(x, y, verbose=0))
        per_sample = as_numpy(forms.function(params)(y, prediction))
        if per_sample.shape != rows.shape:
            problems.append(f"the function with {what} returns shape {per_sample.shape}, not {rows.shape}")
        elif not max_relative(per_sample, rows) <= RTOL:  # per sample, not a batch mean
            problems.append(
                f"the function with {what} differs from the float64 evaluation by {max_relative(per_sample, rows):.1e}"
            )
        else:
            values[f"the function with {what}"] = float(np.mean(per_sample))
    worst, bad = _compared(values, {"the float64 evaluation": expected}, RANK_RTOL)
    problems += bad
    detail = "; ".join(problems) or (
        f"{expected:.8g} (float64 evaluation) from the subclass in evaluate and the function, with class ids"
        f" {(RANK_BATCH,)} and {(RANK_BATCH, 1)}, floats and integers: max relative difference {worst:.1e}"
        f" (limit {RANK_RTOL:.0e}); each sample's value within {RTOL:.0e}"
    )
    return Result("rank variants", not problems, detail)


def _one_channel_model(item: LoadedSpec, forms: Forms, params: dict):
    """For the rank-variant rows: inputs ``x``, one-column (or one-channel) targets ``y``, a
    model with a one-wide head compiled with the subclass (eagerly), its predictions on
    ``x`` and the float64 evaluation of the loss on them."""
    import keras

    rng = np.random.default_rng(13)
    x = rng.normal(size=(RANK_BATCH, *samples.input_shape(item.spec, 5))).astype("float32")
    y = samples.targets(item.spec, rng, batch=RANK_BATCH, width=1).astype("float32")
    keras.utils.set_random_seed(1)
    model = model_for(item, params, 1, x.shape[1:])
    prediction = np.asarray(model.predict(x, batch_size=RANK_BATCH, verbose=0))
    expected = float(np.mean(reference_values(item, y, prediction, params)))
    model.compile(loss=forms.subclass_reduced(params), run_eagerly=True)
    return x, y, model, prediction, expected


def _image_rank_variants(item: LoadedSpec, forms: Forms, params: dict) -> Result:
    """Grayscale images, as a one-channel model predicts them and as datasets often give
    them, without a channel axis: targets ``(N, height, width)`` and ``(N, height, width,
    1)`` through the subclass in ``model.evaluate``, the function form on three-axis
    targets and predictions, and the subclass on four-axis targets with three-axis
    predictions, all against the float64 evaluation on four axes."""
    x, y, model, prediction, expected = _one_channel_model(item, forms, params)
    flat, full = y.shape[:-1], y.shape
    values = {
        f"the subclass in evaluate with targets {flat}": float(model.evaluate(x, y[..., 0], verbose=0)),
        f"the subclass in evaluate with targets {full}": float(model.evaluate(x, y, verbose=0)),
    }
    problems = []
    calls = {
        f"the function on {flat} targets and predictions": forms.function(params)(y[..., 0], prediction[..., 0]),
        f"the subclass on {full} targets and {flat} predictions": forms.subclass(params)(y, prediction[..., 0]),
    }
    for what, value in calls.items():
        value = as_numpy(value)
        if value.shape != (RANK_BATCH,):
            problems.append(f"{what} returns shape {value.shape}, not one value per sample {(RANK_BATCH,)}")
        else:
            values[what] = float(np.mean(value))
    worst, bad = _compared(values, {"the float64 evaluation": expected}, RANK_RTOL)
    problems += bad
    detail = "; ".join(problems) or (
        f"{expected:.8g} (float64 evaluation) from the subclass in evaluate with grayscale targets {flat} and"
        f" {full}, the function on {flat} targets and predictions, and the subclass on {full} targets with"
        f" {flat} predictions: max relative difference {worst:.1e} (limit {RANK_RTOL:.0e})"
    )
    return Result("rank variants", not problems, detail)


def check_float64(item: LoadedSpec, forms: Forms) -> list[Result]:
    """float64 inputs: the function, the factory and the subclass (``dtype="float64"``,
    which Keras's ``Loss`` needs to keep float64 inputs) return float64 and equal the
    float64 evaluation to ``FLOAT64_RTOL``; and one training step of a small model under
    ``keras.config.set_floatx("float64")`` gives a finite loss."""
    import keras

    found: dict[str, list[str]] = {}  # problem -> the forms that have it
    gaps = dict.fromkeys(("function", "factory", "subclass"), 0.0)
    for params in samples.parameter_sets(item.spec).values():
        batch = samples.random_batch(item.spec, params, 0)
        y_true, y_pred = batch.y_true.astype("float64"), batch.y_pred.astype("float64")
        expected = reference_values(item, y_true, y_pred, params)
        losses = {
            "function": forms.function(params),
            "factory": forms.factory(params),
            "subclass": forms.subclass_with(params, reduction=None, dtype="float64"),
        }
        for form, loss in losses.items():
            value = loss(y_true, y_pred)
            dtype = keras.backend.standardize_dtype(value.dtype)
            ours = as_numpy(value)
            if dtype != "float64":
                found.setdefault(f"returns {dtype}", []).append(form)
            elif ours.shape != expected.shape:
                found.setdefault(f"returns shape {ours.shape}, expected {expected.shape}", []).append(form)
            else:
                gap = max_relative(ours, expected)
                gaps[form] = max(gaps[form], gap) if np.isfinite(gap) else np.inf
    worst = max(gaps.values())
    for form, gap in gaps.items():
        if not gap <= FLOAT64_RTOL:
            problem = f"{gap:.1e} relative from the float64 evaluation: part of it is computed in lower precision"
            found.setdefault(problem, []).append(form)
    problems = [f"the {_listed(list(dict.fromkeys(names)))}: {problem}" for problem, names in found.items()]
    loss = _float64_step(item, forms)
    if not np.isfinite(loss):
        problems.append(f"one training step under set_floatx('float64') gives a loss of {loss}")
    detail = "; ".join(problems) or (
        f"the three forms return float64 and match the float64 evaluation within {worst:.1e} relative"
        f" (limit {FLOAT64_RTOL:.0e}); one training step under set_floatx('float64'): loss {loss:.6g}"
    )
    return [Result("float64", not problems, detail)]


def _listed(names: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _float64_step(item: LoadedSpec, forms: Forms) -> float:
    """The loss of one training step of a small model built and trained under
    ``set_floatx("float64")``, as a user sets it before building the model (the global
    dtype policy follows, as it does in a fresh process); both restored afterwards."""
    import keras

    params = samples.parameter_sets(item.spec)["defaults"]
    x, y = training_data(item, params)
    floatx, policy = keras.config.floatx(), keras.config.dtype_policy()
    try:
        keras.config.set_floatx("float64")
        keras.config.set_dtype_policy("float64")
        model = build_model(item, params)
        model.compile(optimizer=keras.optimizers.SGD(0.01), loss=forms.subclass_reduced(params), run_eagerly=True)
        return float(model.train_on_batch(x.astype("float64"), y.astype("float64")))
    finally:
        keras.config.set_floatx(floatx)
        keras.config.set_dtype_policy(policy)


def _value_error(make: Callable[[], object], y_true, y_pred, must_name: list[str]) -> str:
    """What the loss ``make()`` builds did on ``(y_true, y_pred)`` instead of raising (when
    built or called) a ValueError whose message names every string of ``must_name``; ""
    when it did. A string counts only outside the others that contain it (a parameter
    ``weights`` is not named by a loss ``class_weights_loss``)."""
    try:
        value = make()(y_true, y_pred)
    except ValueError as exc:
        missing = [f"`{text}`" for text in must_name if not _names(str(exc), text, must_name)]
        if missing:
            return f"raised a ValueError that does not name {' and '.join(missing)} ({one_line(str(exc))})"
        return ""
    except Exception as exc:  # noqa: BLE001 - raising anything else is the finding
        return f"raised {error_line(exc)} instead of a ValueError"
    return f"returned a value of shape {tuple(np.shape(as_numpy(value)))} instead of raising a ValueError"


def _names(message: str, text: str, others: list[str]) -> bool:
    for other in others:
        if other != text and text in other:
            message = message.replace(other, "")
    return text in message


def _wrong_shape_cases(item: LoadedSpec, params: dict) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """Inputs whose shapes cannot match for this spec: predictions one column wider (class
    ids: two columns of ids; targets of their own width: targets of one more axis), targets
    of one column (unless the spec lets one target column meet every prediction column),
    one more target row than predictions, and for images, predictions one pixel taller."""
    spec = item.spec
    batch = samples.random_batch(spec, params, 3)
    y_true, y_pred = batch.y_true, batch.y_pred
    cases = []
    if spec.inputs.y_true.kind == "labels":
        cases.append(("two columns of class ids", np.stack([y_true, y_true], axis=-1), y_pred))
    elif spec.inputs.y_true.own_width:  # any two widths fit: the ranks must
        cases.append(("y_true with one more axis", y_true[..., None], y_pred))
    else:
        cases.append(("y_pred one column wider", y_true, np.concatenate([y_pred, y_pred[..., :1]], axis=-1)))
        if y_true.shape[-1] > 1 and not getattr(spec.inputs.y_true, "broadcast", False):
            cases.append(("y_true of one column", y_true[..., :1], y_pred))
    cases.append(("one more sample in y_true", np.concatenate([y_true, y_true[:1]], axis=0), y_pred))
    if spec.inputs.image:
        cases.append(("y_pred one pixel taller", y_true, np.concatenate([y_pred, y_pred[:, :1]], axis=1)))
    return cases


def check_wrong_shapes(item: LoadedSpec, forms: Forms) -> list[Result]:
    """Inputs whose shapes cannot match must raise a ValueError naming the loss and both
    shapes, in every form: a value (a silent broadcast) or another error fails the row."""
    params = samples.parameter_sets(item.spec)["defaults"]
    problems, tried = [], []
    for what, y_true, y_pred in _wrong_shape_cases(item, params):
        shapes = [str(tuple(y_true.shape)), str(tuple(y_pred.shape))]
        tried.append(f"{what} ({shapes[0]} and {shapes[1]})")
        found: dict[str, list[str]] = {}  # what happened -> the forms it happened with
        for form in ("function", "factory", "subclass"):
            problem = _value_error(partial(getattr(forms, form), params), y_true, y_pred, [item.name, *shapes])
            if problem:
                found.setdefault(problem, []).append(form)
        problems += [
            f"the {_listed(names)} with y_true {shapes[0]} and y_pred {shapes[1]} {problem}"
            for problem, names in found.items()
        ]
    detail = "; ".join(problems) or (
        "every form raises a ValueError naming the loss and both shapes for " + ", ".join(tried)
    )
    return [Result("wrong shapes", not problems, detail)]


def _wrong_size(value: list, size: int) -> list:
    """``value`` (a vector or a matrix) stretched or cut to ``size`` entries per axis,
    repeating its last entries: the same numbers, so still within the parameter's bounds."""
    entries = [value[min(i, len(value) - 1)] for i in range(size)]
    return [_wrong_size(e, size) if isinstance(e, list) else e for e in entries]


def check_wrong_parameter_shapes(item: LoadedSpec, forms: Forms) -> list[Result]:
    """Each vector or matrix parameter given one entry too many per axis (the class count
    is ``samples.classes``) must raise a ValueError naming the loss and the parameter, at
    construction or at the first call, in every form."""
    name = "wrong parameter shapes"
    sized = {n: p for n, p in item.spec.parameters.items() if p.type in ("vector", "matrix")}
    if not sized:
        return [Result(name, True, "not applicable: no vector or matrix parameters")]
    defaults = samples.parameter_sets(item.spec)["defaults"]
    batch = samples.random_batch(item.spec, defaults, 0)
    classes = samples.classes(item.spec)
    problems, tried = [], []
    for param_name, param in sized.items():
        wrong = _wrong_size(list(param.default), classes + 1)
        shape = np.shape(wrong)
        tried.append(f"`{param_name}` of shape {shape}")
        params = {**defaults, param_name: wrong}
        found: dict[str, list[str]] = {}  # what happened -> the forms it happened with
        for form in ("function", "factory", "subclass"):
            make = partial(getattr(forms, form), params)
            problem = _value_error(make, batch.y_true, batch.y_pred, [item.name, param_name])
            if problem:
                found.setdefault(problem, []).append(form)
        problems += [f"the {_listed(names)} with `{param_name}` of shape {shape} {p}" for p, names in found.items()]
    detail = "; ".join(problems) or (
        f"every form raises a ValueError naming the loss and the parameter for {', '.join(tried)} ({classes} classes)"
    )
    return [Result(name, not problems, detail)]


HALF_MAX = 65504.0
"""The largest finite float16."""


def check_half_precision(item: LoadedSpec, forms: Forms) -> list[Result]:
    """The edge batches given as float16 and bfloat16 tensors, as a mixed-precision model
    hands them over: values must be finite, and gradients finite unless the exact
    (float32) gradient is itself beyond float16's range, which loss scaling handles by
    skipping the step."""
    import tensorflow as tf

    params = samples.parameter_sets(item.spec)["defaults"]
    bad: dict[str, list[str]] = {}  # message -> the dtypes it happened with
    overflow = []
    for dtype in ("float16", "bfloat16"):
        for batch in samples.edge_batches(item.spec, params):
            value, grad = value_and_gradient(forms.function(params), batch.y_true, batch.y_pred, dtype)
            problem = ""
            if not np.all(np.isfinite(value)):
                problem = f"value is {nonfinite(value)}"
            elif np.any(np.isnan(grad)):
                problem = "gradient is NaN"
            elif not np.all(np.isfinite(grad)):
                # The exact gradient at the same (rounded) input, computed in float32.
                rounded = tf.cast(tf.constant(batch.y_pred, dtype=dtype), "float32").numpy()
                _, exact = value_and_gradient(forms.function(params), batch.y_true, rounded)
                if np.all(np.isfinite(exact)) and np.max(np.abs(exact)) > HALF_MAX / 2:
                    overflow.append(f"{dtype} at {batch.label}")
                else:
                    problem = "gradient is infinite"
            if problem:
                bad.setdefault(_explained(item, batch, params, problem), []).append(dtype)
    messages = [f"{' and '.join(dtypes)}: {message}" for message, dtypes in bad.items()]
    detail = "; ".join(messages) if bad else "values and gradients finite at every edge input in float16 and bfloat16"
    if overflow and not bad:
        detail += " except where the exact gradient exceeds float16's range (" + ", ".join(overflow) + ")"
    return [Result("finite with float16 and bfloat16 inputs", not bad, detail)]


def check_mixed_precision(item: LoadedSpec, forms: Forms) -> list[Result]:
    """One training step of a small model under each mixed-precision policy: the loss and
    every updated weight must be finite."""
    import keras

    params = samples.parameter_sets(item.spec)["defaults"]
    x, y = training_data(item, params)
    results = []
    previous = keras.config.dtype_policy()
    for policy in ("mixed_float16", "mixed_bfloat16"):
        keras.config.set_dtype_policy(policy)
        try:
            model = build_model(item, params)
            model.compile(optimizer=keras.optimizers.SGD(0.01), loss=forms.subclass_reduced(params), run_eagerly=True)
            loss = float(model.train_on_batch(x, y))
            weights_ok = all(np.all(np.isfinite(as_numpy(w))) for w in model.weights)
        finally:
            keras.config.set_dtype_policy(previous)
        ok = bool(np.isfinite(loss)) and weights_ok
        detail = f"loss {loss:.6g}" + ("" if weights_ok else "; some updated weights are not finite")
        results.append(Result(f"one training step under {policy}", ok, detail))
    return results


def check_examples(item: LoadedSpec, forms: Forms) -> list[Result]:
    """The spec's published values, per sample or as the batch mean."""
    results = []
    for i, example in enumerate(item.spec.examples, start=1):
        params = {**samples.parameter_sets(item.spec)["defaults"], **example.params}
        y_true = np.asarray(example.y_true, dtype="float32")
        y_pred = np.asarray(example.y_pred, dtype="float32")
        values = as_numpy(forms.function(params)(y_true, y_pred))
        if example.expected is not None:
            expected, ours = np.asarray(example.expected, dtype="float64"), values
        else:
            expected, ours = np.asarray([example.expected_mean]), np.asarray([values.mean()])
        tolerance = np.asarray([published_tolerance(v) for v in expected])
        ok = ours.shape == expected.shape and bool(np.all(np.abs(ours - expected) <= tolerance))
        worst = float(np.max(np.abs(ours - expected) / tolerance)) if ours.shape == expected.shape else np.inf
        detail = (
            f"{', '.join(f'{v:.8g}' for v in ours)} against {', '.join(f'{v:.8g}' for v in expected)}"
            f" ({example.source.strip()}); worst difference {worst:.2f} of the tolerance"
        )
        results.append(Result(f"published values (example {i})", ok, detail))
    return results
