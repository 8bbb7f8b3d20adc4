"""Run by ``lossgen check`` and tests/check/test_distribution.py in a fresh process: one SGD step
of a spec's subclass form (default parameters, default ``sum_over_batch_size`` reduction)
on one device, and under ``tf.distribute.MirroredStrategy`` over two logical CPU devices.

Usage: ``python -m generator.check.probes.distribution DIRECTORY [--fit NAME ...] [--specs SPEC ...]``
(every catalog spec unless ``--specs``; a SPEC is a catalog name or a path). Generated
modules go to DIRECTORY; stdout gets one JSON line per spec with the raw measurements, or
with ``error`` when the spec could not be probed; the checker and the test compare them.
The two logical devices must exist before TensorFlow initialises, hence a process of its
own.

How the distributed step is run. ``model.fit`` splits the global batch of 32 into two
contiguous halves of 16 (``experimental_distribute_dataset``) and calls the model's
``train_function`` on those per-replica values; but it builds multi-device iterators
several times per call, about 0.6 s a fit. Here the same halves are handed to
``train_on_batch`` as per-replica values (``experimental_distribute_values_from_function``),
which runs the very same ``train_function`` without the iterators. The ``--fit`` specs also
run the public ``model.fit`` path (traced, not eager), which the test requires to give the
same numbers. Note that ``train_on_batch``/``test_on_batch`` given plain NumPy arrays
under a strategy do *not* split the batch: every replica gets all 32 samples (recorded here
as ``unsplit_loss``).
"""

from __future__ import annotations

import argparse
import json
import os
import time
import traceback
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
REPLICAS = 2

import tensorflow as tf  # noqa: E402 - the environment above must be set first

# Before anything initialises TensorFlow's devices: two logical CPUs, one per replica.
_CPU = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(_CPU, [tf.config.LogicalDeviceConfiguration()] * REPLICAS)

import keras  # noqa: E402
import numpy as np  # noqa: E402

from generator.check import samples  # noqa: E402
from generator.check.harness import build_model, import_path, quiet_tensorflow, training_data  # noqa: E402
from generator.codegen.pipeline import generate, resolve  # noqa: E402
from generator.resources import specs_dir  # noqa: E402
from generator.spec.loader import load_directory  # noqa: E402
from generator.spec.names import names  # noqa: E402

BATCH = 32
"""The global batch: all the data, one step, split 16 + 16 over the replicas."""
HALVES = [slice(0, BATCH // REPLICAS), slice(BATCH // REPLICAS, BATCH)]
LEARNING_RATE = 1.0
"""One SGD step then moves every weight by exactly minus its gradient: comparing the weights
after the step compares the gradients."""


def sample_weights() -> np.ndarray:
    """Random positive weights, one of them zero (sample 5, in the first replica's half)."""
    weights = np.random.default_rng(11).uniform(0.5, 2.0, size=BATCH).astype("float32")
    weights[5] = 0.0
    return weights


def _loss_class(item, directory: Path):
    path = directory / f"{item.name}_class.py"
    path.write_text(generate(item, "class"), encoding="utf-8")
    module = import_path(path, f"lossgen_distribution_{item.name}")
    return getattr(module, names(item.spec).cls)


def _compiled(item, params, loss_class, run_eagerly: bool):
    model = build_model(item, params)
    model.compile(
        optimizer=keras.optimizers.SGD(LEARNING_RATE), loss=loss_class(), run_eagerly=run_eagerly, jit_compile=False
    )
    return model


def _weights(model) -> list[list]:
    return [w.astype("float64").tolist() for w in model.get_weights()]


def batch_dependence(loss_class, model, x, y) -> float:
    """The largest relative change of a per-sample loss value when it is computed on its
    replica's half of the batch instead of on the whole batch: 0 for per-sample losses."""
    per_sample = loss_class(reduction=None)
    prediction = model(x)
    whole = keras.ops.convert_to_numpy(per_sample(y, prediction)).astype("float64")
    halves = np.concatenate([keras.ops.convert_to_numpy(per_sample(y[h], prediction[h])) for h in HALVES])
    return float(np.max(np.abs(whole - halves) / np.maximum(np.abs(whole), 1e-6)))


def per_replica_expectation(model, loss, x, y, weights) -> tuple[list[float], list[list]]:
    """On one device: the loss of each half of the batch on its own, and the weights after
    one step on the mean of the two halves' losses (what two replicas should compute)."""
    with tf.GradientTape() as tape:
        values = [loss(y[h], model(x[h]), None if weights is None else weights[h]) for h in HALVES]
        mean = (values[0] + values[1]) / REPLICAS
    gradients = tape.gradient(mean, model.trainable_weights)
    after = [
        (w.numpy().astype("float64") - LEARNING_RATE * g.numpy().astype("float64")).tolist()
        for w, g in zip(model.trainable_weights, gradients, strict=True)
    ]
    return [float(v) for v in values], after


def per_replica(strategy, array):
    """``array`` split into contiguous halves, one per replica, as ``fit`` splits a batch."""
    if array is None:
        return None
    return strategy.experimental_distribute_values_from_function(
        lambda context: tf.constant(array[HALVES[context.replica_id_in_sync_group]])
    )


def replica_loss_values(strategy, loss, model, x, y, weights) -> list[float]:
    """The Loss object called in each replica's context on that replica's half."""

    def step(xs, ys, ws):
        return loss(ys, model(xs), ws)

    args = tuple(per_replica(strategy, a) for a in (x, y, weights))
    return [float(v) for v in strategy.experimental_local_results(strategy.run(step, args=args))]


def probe(item, strategy, directory: Path, fit: bool) -> dict:
    params = samples.parameter_sets(item.spec)["defaults"]  # what the model's output layer needs
    loss_class = _loss_class(item, directory)
    x, y = training_data(item, params)
    single = _compiled(item, params, loss_class, run_eagerly=True)
    initial = single.get_weights()
    with strategy.scope():
        mirrored = _compiled(item, params, loss_class, run_eagerly=True)
    mirrored.set_weights(initial)
    result = {
        "spec": item.name,
        "dependence": batch_dependence(loss_class, single, x, y),
        # Builds the mirrored model; NumPy arrays are not split: each replica gets all 32.
        "unsplit_loss": float(mirrored.test_on_batch(x, y)),
        "cases": {},
    }
    for label, weights in (("unweighted", None), ("weighted", sample_weights())):
        single.set_weights(initial)
        mirrored.set_weights(initial)
        half_losses, half_weights = per_replica_expectation(single, loss_class(), x, y, weights)
        case = {
            "loss_object": float(loss_class()(y, single(x), weights)),
            "half_losses": half_losses,
            "half_weights": half_weights,
            "replica_losses": replica_loss_values(strategy, loss_class(), mirrored, x, y, weights),
            "single_loss": float(single.train_on_batch(x, y, sample_weight=weights)),
            "single_weights": _weights(single),
            "mirrored_loss": float(
                mirrored.train_on_batch(
                    per_replica(strategy, x), per_replica(strategy, y), sample_weight=per_replica(strategy, weights)
                )
            ),
            "mirrored_weights": _weights(mirrored),
        }
        if fit:
            with strategy.scope():
                fitted = _compiled(item, params, loss_class, run_eagerly=False)
            fitted.set_weights(initial)
            history = fitted.fit(x, y, sample_weight=weights, batch_size=BATCH, epochs=1, verbose=0, shuffle=False)
            case["fit_loss"] = float(history.history["loss"][-1])
            case["fit_weights"] = _weights(fitted)
        result["cases"][label] = case
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("directory", type=Path)
    parser.add_argument("--fit", nargs="*", default=[], help="specs to run through model.fit as well")
    parser.add_argument("--specs", nargs="*", default=None, help="specs to probe (default: the catalog)")
    args = parser.parse_args()
    quiet_tensorflow()
    items = [resolve(spec) for spec in args.specs] if args.specs else load_directory(specs_dir())
    strategy = tf.distribute.MirroredStrategy([f"/cpu:{i}" for i in range(REPLICAS)])
    assert strategy.num_replicas_in_sync == REPLICAS, strategy.num_replicas_in_sync
    for item in items:
        start = time.perf_counter()
        try:
            result = probe(item, strategy, args.directory, item.name in args.fit)
        except Exception:  # noqa: BLE001 - reported, so that the other specs still run
            result = {"spec": item.name, "error": traceback.format_exc()}
        result["seconds"] = round(time.perf_counter() - start, 3)
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
