"""``lossgen check``: prove a spec's generated code agrees with itself, stays finite at
the edges (also in float16 and bfloat16, and for one mixed-precision training step),
weighs samples as Keras documents, reproduces its published values and survives a save
and reload in a fresh process. Failures are explained by :mod:`generator.hazards`.

This is the only part of the package that imports Keras (and TensorFlow, for gradients).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from generator import hazards, lower, numeric, pipeline, samples
from generator.loader import LoadedSpec
from generator.render import FORMS
from generator.semantics import ROW_KINDS

RTOL = 1e-5
ATOL = 1e-6


@dataclass
class Result:
    check: str
    ok: bool
    detail: str


@dataclass
class Report:
    spec: str
    results: list[Result] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)

    def table(self) -> str:
        width = max(len(r.check) for r in self.results)
        lines = [f"lossgen check {self.spec}", ""]
        for r in self.results:
            lines.append(f"{'ok  ' if r.ok else 'FAIL'}  {r.check:<{width}}  {r.detail}")
        failed = sum(not r.ok for r in self.results)
        lines += ["", f"{len(self.results) - failed} passed, {failed} failed"]
        return "\n".join(lines)


def import_path(path: Path, module_name: str) -> ModuleType:
    """Import a generated module from a file."""
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


def write_modules(item: LoadedSpec, directory: Path) -> dict[str, Path]:
    """Write the combined module and one module per form; return their paths by form."""
    paths = {}
    for form in ("all", *FORMS):
        filename = f"{item.name}.py" if form == "all" else f"{item.name}_{form}.py"
        path = directory / filename
        path.write_text(pipeline.generate(item, form), encoding="utf-8")
        paths[form] = path
    return paths


@dataclass(frozen=True)
class Forms:
    """The three callables of one module, for one parameter set."""

    module: ModuleType
    view_name: str
    class_name: str
    factory_name: str

    def function(self, params: dict) -> object:
        fn = getattr(self.module, self.view_name)

        def bound(y_true, y_pred):
            return fn(y_true, y_pred, **params)

        return bound

    def factory(self, params: dict) -> object:
        return getattr(self.module, self.factory_name)(**params)

    def subclass(self, params: dict) -> object:
        return getattr(self.module, self.class_name)(**params, reduction=None)

    def subclass_reduced(self, params: dict) -> object:
        """The subclass with Keras's default reduction, as a user compiles it."""
        return getattr(self.module, self.class_name)(**params)


def forms_of(module: ModuleType, item: LoadedSpec) -> Forms:
    view = lower.loss_view(item)
    return Forms(module, view.name, view.class_name, view.factory_name)


def _numpy(x) -> np.ndarray:
    import keras

    return np.asarray(keras.ops.convert_to_numpy(x), dtype="float64")


def _max_rel(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), ATOL))) if a.size else 0.0


def check_agreement(item: LoadedSpec, forms: Forms) -> list[Result]:
    results = []
    for label, params in samples.parameter_sets(item.spec).items():
        worst = 0.0
        problem = ""
        for seed in range(3):
            batch = samples.random_batch(item.spec, params, seed)
            values = {
                "function": _numpy(forms.function(params)(batch.y_true, batch.y_pred)),
                "factory": _numpy(forms.factory(params)(batch.y_true, batch.y_pred)),
                "subclass": _numpy(forms.subclass(params)(batch.y_true, batch.y_pred)),
            }
            expected_shape = (samples.BATCH,)
            for form, value in values.items():
                if value.shape != expected_shape:
                    problem = f"{form} returned shape {value.shape}, expected one value per sample {expected_shape}"
            for form in ("factory", "subclass"):
                if values[form].shape == values["function"].shape:
                    worst = max(worst, _max_rel(values[form], values["function"]))
        ok = not problem and worst <= RTOL
        detail = problem or f"max relative difference {worst:.1e} (limit {RTOL:.0e})"
        results.append(Result(f"forms agree ({label} parameters)", ok, detail))
    return results


def _gradient(fn, y_true: np.ndarray, y_pred: np.ndarray, dtype: str = "float32") -> tuple[np.ndarray, np.ndarray]:
    """``fn(y_true, y_pred)`` and its gradient with respect to ``y_pred``, given to ``fn``
    as a ``dtype`` tensor; both returned in float64."""
    import tensorflow as tf

    # A watched constant, as in training: y_pred reaches a loss as a tensor, not a variable.
    prediction = tf.constant(y_pred, dtype=dtype)
    with tf.GradientTape() as tape:
        tape.watch(prediction)
        value = fn(tf.constant(y_true), prediction)
    grad = tape.gradient(value, prediction)
    grad_np = np.zeros(np.shape(y_pred)) if grad is None else tf.cast(grad, "float64").numpy()
    return tf.cast(value, "float64").numpy(), grad_np


def _explained(item: LoadedSpec, batch: samples.Batch, params: dict, what: str) -> str:
    """``what`` at the batch's input, with the formula's first unsafe operation there."""
    cause = hazards.explain(item, batch.y_true, batch.y_pred, params)
    return f"{what} at {batch.label}" + (f": {cause}" if cause else "")


def check_edges(item: LoadedSpec, forms: Forms) -> list[Result]:
    results = []
    for label, params in samples.parameter_sets(item.spec).items():
        bad = []
        for batch in samples.edge_batches(item.spec, params):
            value, grad = _gradient(forms.function(params), batch.y_true, batch.y_pred)
            if not np.all(np.isfinite(value)):
                bad.append(_explained(item, batch, params, f"value is {_nonfinite(value)}"))
            elif not np.all(np.isfinite(grad)):
                bad.append(_explained(item, batch, params, f"gradient is {_nonfinite(grad)}"))
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
    before = numeric.evaluate(item, batch.y_true, batch.y_pred, params)
    after = numeric.evaluate(item, batch.y_true, moved, params)
    return not np.allclose(before[1:], after[1:], rtol=1e-12, atol=0.0)


def check_weights(item: LoadedSpec, forms: Forms) -> list[Result]:
    """``sample_weight`` through the subclass with Keras's default reduction: the value
    equals ``sum(w * loss) / batch`` from the float64 NumPy evaluation, and a zero weight
    removes its sample's gradient (for losses where samples are independent)."""
    params = samples.parameter_sets(item.spec)["defaults"]
    batch = samples.random_batch(item.spec, params, 5)
    weights = np.random.default_rng(5).uniform(0.0, 2.0, samples.BATCH).astype("float32")
    weights[0] = 0.0
    per_sample = numeric.evaluate(item, batch.y_true, batch.y_pred, params)
    expected = float(np.sum(weights * per_sample) / samples.BATCH)
    loss = forms.subclass_reduced(params)

    def weighted(y_true, y_pred):
        return loss(y_true, y_pred, sample_weight=weights)

    value, grad = _gradient(weighted, batch.y_true, batch.y_pred)
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
    if spec.inputs.y_true.kind in ROW_KINDS or spec.inputs.y_pred.kind in ROW_KINDS:
        return f"{spec.inputs.y_true.kind} targets and {spec.inputs.y_pred.kind} predictions are not per time step"
    if spec.weighting.rule == "per_example":
        return "weight tables are packed behind the targets"
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
    model = keras.Sequential([keras.Input((STEPS, 5)), keras.layers.Masking(0.0), *_output(item, params, width)])
    model.compile(loss=forms.subclass_reduced(params), run_eagerly=True)
    try:
        value = float(model.evaluate(x, y, batch_size=batch, verbose=0))
    except Exception as exc:  # noqa: BLE001 - any failure is the finding; report it, not a traceback
        return [Result(name, False, f"the loss fails on masked sequences: {type(exc).__name__}: {exc}"[:400])]
    prediction = np.asarray(model.predict(x, batch_size=batch, verbose=0), dtype="float64")
    rows = numeric.evaluate(item, y.reshape(batch * STEPS, -1), prediction.reshape(batch * STEPS, -1), params)
    expected = float(np.sum(rows.reshape(batch, STEPS) * mask) / np.sum(mask))
    relative = abs(value - expected) / max(abs(expected), ATOL)
    detail = (
        f"{value:.8g} against {expected:.8g}, the float64 mean over the {int(mask.sum())} of"
        f" {mask.size} steps left unmasked (relative difference {relative:.1e})"
    )
    return [Result(name, relative <= RTOL, detail)]


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
            value, grad = _gradient(forms.function(params), batch.y_true, batch.y_pred, dtype)
            problem = ""
            if not np.all(np.isfinite(value)):
                problem = f"value is {_nonfinite(value)}"
            elif np.any(np.isnan(grad)):
                problem = "gradient is NaN"
            elif not np.all(np.isfinite(grad)):
                # The exact gradient at the same (rounded) input, computed in float32.
                rounded = tf.cast(tf.constant(batch.y_pred, dtype=dtype), "float32").numpy()
                _, exact = _gradient(forms.function(params), batch.y_true, rounded)
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
    x, y = _data(item, params)
    results = []
    previous = keras.config.dtype_policy()
    for policy in ("mixed_float16", "mixed_bfloat16"):
        keras.config.set_dtype_policy(policy)
        try:
            model = _model(item, params)
            model.compile(optimizer=keras.optimizers.SGD(0.01), loss=forms.subclass_reduced(params), run_eagerly=True)
            loss = float(model.train_on_batch(x, y))
            weights_ok = all(np.all(np.isfinite(_numpy(w))) for w in model.weights)
        finally:
            keras.config.set_dtype_policy(previous)
        ok = bool(np.isfinite(loss)) and weights_ok
        detail = f"loss {loss:.6g}" + ("" if weights_ok else "; some updated weights are not finite")
        results.append(Result(f"one training step under {policy}", ok, detail))
    return results


def published_tolerance(value: float) -> float:
    """Half a unit in the last digit of ``value`` as written (its shortest repr), and never
    tighter than ``RTOL`` relative: published values are mostly float32 printouts, whose
    last digits carry the rounding of the publisher's own float32 arithmetic."""
    mantissa, _, exponent = repr(float(value)).partition("e")
    decimals = len(mantissa.partition(".")[2]) - int(exponent or 0)
    return max(0.5 * 10.0**-decimals, RTOL * abs(value))


def check_examples(item: LoadedSpec, forms: Forms) -> list[Result]:
    """The spec's published values, per sample or as the batch mean."""
    results = []
    for i, example in enumerate(item.spec.examples, start=1):
        params = {**samples.parameter_sets(item.spec)["defaults"], **example.params}
        y_true = np.asarray(example.y_true, dtype="float32")
        y_pred = np.asarray(example.y_pred, dtype="float32")
        values = _numpy(forms.function(params)(y_true, y_pred))
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


def _nonfinite(x: np.ndarray) -> str:
    return "NaN" if np.isnan(x).any() else "infinite"


# ---------------------------------------------------------------- save and reload


def _output(item: LoadedSpec, params: dict, width: int) -> list:
    """The output layers (:func:`samples.output_layers`) built as Keras layers."""
    import keras

    logits = samples.uses_logits(item.spec, params)
    return [getattr(keras.layers, name)(**kwargs) for name, kwargs in samples.output_layers(item.spec, width, logits)]


def _model(item: LoadedSpec, params: dict):
    import keras

    keras.utils.set_random_seed(1)
    return keras.Sequential(
        [keras.Input(shape=samples.input_shape(item.spec, 5)), *_output(item, params, samples.classes(item.spec))]
    )


def _data(item: LoadedSpec, params: dict) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    x = rng.normal(size=(32, *samples.input_shape(item.spec, 5))).astype("float32")
    y = samples.targets(item.spec, rng, batch=32)
    if item.spec.weighting.rule == "per_example":
        y = samples.pack(y, samples.tables(item.spec, rng, batch=32))
    return x, y.astype("float32")


def quiet_tensorflow() -> None:
    """Silence TensorFlow's retracing warnings: the checker builds many small models."""
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")


def save_models(item: LoadedSpec, modules: dict[str, Path], directory: Path) -> dict:
    """Compile, fit one step and save a model per form; return the manifest for the probe."""
    import keras

    quiet_tensorflow()

    sets = samples.parameter_sets(item.spec)
    view = lower.loss_view(item)
    manifest = {"spec": item.name, "factory": view.factory_name, "class": view.class_name, "cases": []}
    for form in FORMS:
        module = import_path(modules[form], f"lossgen_check_{item.name}_{form}")
        forms = forms_of(module, item)
        params = sets["defaults"] if form == "function" else sets["changed"]
        if form == "function":
            loss = getattr(module, view.name)
        elif form == "factory":
            loss = forms.factory(params)
        else:
            loss = getattr(module, view.class_name)(**params)
        model = _model(item, params)
        model.compile(optimizer=keras.optimizers.SGD(0.01), loss=loss)
        x, y = _data(item, params)
        model.fit(x, y, batch_size=16, epochs=1, verbose=0, shuffle=False)
        value = float(model.evaluate(x, y, batch_size=32, verbose=0))
        path = directory / f"{item.name}_{form}.keras"
        model.save(path)
        np.save(directory / f"{item.name}_{form}_x.npy", x)
        np.save(directory / f"{item.name}_{form}_y.npy", y)
        registered = keras.saving.get_registered_name(loss) if form == "factory" else ""
        config = loss.get_config() if form == "class" else {}
        manifest["cases"].append(
            {
                "form": form,
                "call": registered.partition(">")[2],
                "config": {k: config[k] for k in params} if config else {},
                "module": str(modules[form]),
                "model": str(path),
                "x": str(directory / f"{item.name}_{form}_x.npy"),
                "y": str(directory / f"{item.name}_{form}_y.npy"),
                "params": params,
                "defaults": sets["defaults"],
                "value": value,
            }
        )
    return manifest


OTHER_BACKENDS = ("jax", "torch")


def check_backends(item: LoadedSpec, forms: Forms, module: Path) -> list[Result]:
    """The function and subclass forms on every other installed Keras backend, in a fresh
    process each, against the TensorFlow values of the function form (``RTOL``)."""
    results = []
    for backend in OTHER_BACKENDS:
        if importlib.util.find_spec(backend) is None:
            results.append(Result(f"same values on {backend}", True, f"skipped: {backend} is not installed"))
            continue
        env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3")
        command = [sys.executable, "-m", "generator.backend_probe", str(item.path), str(module)]
        done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            results.append(Result(f"same values on {backend}", False, f"the loss failed on {backend}: {last}"))
            continue
        found = json.loads(done.stdout.strip().splitlines()[-1])
        if found["backend"] != backend:
            results.append(Result(f"same values on {backend}", False, f"the probe ran on {found['backend']}"))
            continue
        values = found["values"]
        worst = 0.0
        for key, theirs in values.items():
            label, seed, _ = key.split("/")
            params = samples.parameter_sets(item.spec)[label]
            batch = samples.random_batch(item.spec, params, int(seed))
            ours = _numpy(forms.function(params)(batch.y_true, batch.y_pred))
            theirs = np.asarray(theirs, dtype="float64")
            if theirs.shape != ours.shape:
                worst = np.inf
                break
            worst = max(worst, _max_rel(theirs, ours))
        detail = f"max relative difference {worst:.1e} from TensorFlow (limit {RTOL:.0e})"
        results.append(Result(f"same values on {backend}", worst <= RTOL, detail))
    return results


DISTRIBUTION_TOL = 1e-6
"""MirroredStrategy against one device: absolute plus relative (to the value, or to the
largest entry of a weight tensor)."""


def _loss_gap(a: float, b: float) -> float:
    """How far ``a`` is from ``b``, in units of the tolerance (1 or less passes)."""
    return abs(a - b) / (DISTRIBUTION_TOL + DISTRIBUTION_TOL * abs(b))


def _weights_gap(a: list, b: list) -> float:
    gaps = [0.0]
    for x, y in zip(a, b, strict=True):
        x, y = np.asarray(x, dtype="float64"), np.asarray(y, dtype="float64")
        if y.size:
            gaps.append(float(np.max(np.abs(x - y))) / (DISTRIBUTION_TOL + DISTRIBUTION_TOL * float(np.max(np.abs(y)))))
    return max(gaps)


def check_distribution(item: LoadedSpec, directory: Path) -> list[Result]:
    """One training step of the subclass under MirroredStrategy over two logical CPUs, in
    a fresh process, with and without sample_weight. A per-sample loss must give the
    single-device loss and weights; a batch-level one cannot (no replica sees the whole
    batch) and must give the mean of what each half of the batch gives on its own."""
    env = dict(os.environ, KERAS_BACKEND="tensorflow", TF_CPP_MIN_LOG_LEVEL="3")
    command = [sys.executable, "-m", "generator.distribution_probe", str(directory), "--specs", str(item.path)]
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    name = "MirroredStrategy over 2 devices equals 1 device"
    if done.returncode != 0 or not lines:
        return [Result(name, False, f"the distribution probe failed: {done.stderr.strip()[-300:]}")]
    found = json.loads(lines[-1])
    if "error" in found:
        return [
            Result(name, False, f"the loss fails under MirroredStrategy: {found['error'].strip().splitlines()[-1]}")
        ]
    batch_level = found["dependence"] > DISTRIBUTION_TOL
    gaps = []
    for case in found["cases"].values():
        if batch_level:
            gaps.append(_loss_gap(case["mirrored_loss"], sum(case["half_losses"]) / len(case["half_losses"])))
            gaps.append(_weights_gap(case["mirrored_weights"], case["half_weights"]))
        else:
            gaps.append(_loss_gap(case["mirrored_loss"], case["single_loss"]))
            gaps.append(_weights_gap(case["mirrored_weights"], case["single_weights"]))
    worst = max(gaps)
    if batch_level:
        detail = (
            "batch-level loss: each replica computes its half of the batch, so it cannot equal one device;"
            f" the step is the mean of the halves, worst difference {worst:.2f} of the tolerance"
        )
    else:
        detail = f"loss and step with and without sample_weight, worst difference {worst:.2f} of the tolerance (1e-6)"
    return [Result(name, worst <= 1.0, detail)]


def run_probe(manifests: list[dict], directory: Path) -> list[dict]:
    """Load every saved model in one fresh Python process; return its findings."""
    path = directory / "manifest.json"
    path.write_text(json.dumps(manifests), encoding="utf-8")
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    command = [sys.executable, "-m", "generator.reload_probe", str(path)]
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"reload probe failed:\n{result.stderr[-4000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def reload_results(findings: list[dict]) -> list[Result]:
    results = []
    for f in findings:
        results.append(Result(f"save and reload in a fresh process ({f['form']})", f["ok"], f["detail"]))
    return results


def run(item: LoadedSpec, reload: bool = True) -> Report:
    """Every check for one spec."""
    report = Report(item.name)
    with tempfile.TemporaryDirectory(prefix="lossgen-check-") as tmp:
        directory = Path(tmp)
        modules = write_modules(item, directory)
        combined = import_path(modules["all"], f"lossgen_check_{item.name}")
        forms = forms_of(combined, item)
        report.results += check_agreement(item, forms)
        report.results += check_edges(item, forms)
        report.results += check_half_precision(item, forms)
        report.results += check_mixed_precision(item, forms)
        report.results += check_weights(item, forms)
        report.results += check_mask(item, forms)
        report.results += check_examples(item, forms)
        report.results += check_backends(item, forms, modules["all"])
        report.results += check_distribution(item, directory)
        if reload:
            manifest = save_models(item, modules, directory)
            report.results += reload_results(run_probe([manifest], directory))
    return report
