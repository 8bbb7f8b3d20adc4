"""The checks that need a fresh Python process: other Keras backends, MirroredStrategy
on two CPUs, and save-and-reload. Each writes what the probe needs, runs
``python -m generator.check.probes.NAME`` and reads its JSON answer."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from generator.check import samples
from generator.check.harness import (
    Forms,
    as_numpy,
    forms_of,
    import_path,
    max_relative,
    model_per_form,
    quiet_tensorflow,
    training_data,
)
from generator.check.report import Result, died_of, one_line
from generator.check.tolerances import DISTRIBUTION_TOL, RTOL
from generator.spec.loader import LoadedSpec
from generator.spec.names import FORMS, names


def save_models(item: LoadedSpec, modules: dict[str, Path], directory: Path) -> dict:
    """Compile, fit one step and save one model whose outputs each use one form (the
    function with the default parameters, the factory and the subclass with changed ones);
    return the manifest for the probe.

    One model for the three forms: each form's loss is serialised and deserialised on its
    own, exactly as in a one-output model, while the model is built, traced, saved and
    loaded once instead of three times (this check's cost per spec). The model runs eagerly
    here (``run_eagerly=True``): tracing would be most of the cost of this side. The probe
    trains the reloaded model traced, as a user's model runs."""
    import keras

    quiet_tensorflow()

    sets = samples.parameter_sets(item.spec)
    generated = names(item.spec)
    params = {form: sets["defaults"] if form == "function" else sets["changed"] for form in FORMS}
    losses = {}
    for form in FORMS:
        module = import_path(modules[form], f"lossgen_check_{item.name}_{form}")
        if form == "function":
            losses[form] = getattr(module, generated.function)
        elif form == "factory":
            losses[form] = forms_of(module, item).factory(params[form])
        else:
            losses[form] = getattr(module, generated.cls)(**params[form])
    model = model_per_form(item, params)
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss=losses, run_eagerly=True)
    x, y = training_data(item, sets["defaults"])
    targets = dict.fromkeys(FORMS, y)
    model.fit(x, targets, batch_size=16, epochs=1, verbose=0, shuffle=False)
    values = model.evaluate(x, targets, batch_size=32, verbose=0, return_dict=True)
    path = directory / f"{item.name}.keras"
    model.save(path)
    np.save(directory / f"{item.name}_x.npy", x)
    np.save(directory / f"{item.name}_y.npy", y)
    return {
        "spec": item.name,
        "factory": generated.factory,
        "call": keras.saving.get_registered_name(losses["factory"]).partition(">")[2],
        "modules": {form: str(modules[form]) for form in FORMS},
        "model": str(path),
        "x": str(directory / f"{item.name}_x.npy"),
        "y": str(directory / f"{item.name}_y.npy"),
        "params": params,
        "defaults": sets["defaults"],
        "values": {form: float(values[f"{form}_loss"]) for form in FORMS},
    }


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
        command = [sys.executable, "-m", "generator.check.probes.backend", str(item.path), str(module)]
        done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
        if done.returncode != 0:
            last = died_of(done.stderr)
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
            ours = as_numpy(forms.function(params)(batch.y_true, batch.y_pred))
            theirs = np.asarray(theirs, dtype="float64")
            if theirs.shape != ours.shape:
                worst = np.inf
                break
            worst = max(worst, max_relative(theirs, ours))
        detail = f"max relative difference {worst:.1e} from TensorFlow (limit {RTOL:.0e})"
        results.append(Result(f"same values on {backend}", worst <= RTOL, detail))
    return results


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
    command = [sys.executable, "-m", "generator.check.probes.distribution", str(directory), "--specs", str(item.path)]
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    name = "MirroredStrategy over 2 devices equals 1 device"
    if done.returncode != 0 or not lines:
        return [Result(name, False, f"the distribution probe failed: {died_of(done.stderr)}")]
    found = json.loads(lines[-1])
    if "error" in found:
        return [Result(name, False, f"the loss fails under MirroredStrategy: {died_of(found['error'])}")]
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
    command = [sys.executable, "-m", "generator.check.probes.reload", str(path)]
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"the reload probe failed: {died_of(result.stderr)}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def reload_results(findings: list[dict]) -> list[Result]:
    results = []
    for f in findings:
        detail = f["detail"] if f["ok"] else one_line(f["detail"])
        results.append(Result(f"save and reload in a fresh process ({f['form']})", f["ok"], detail))
    return results
