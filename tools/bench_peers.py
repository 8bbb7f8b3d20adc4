"""Time every catalog loss that has a peer (a spec's ``peers``) against that peer, and
measure the peak memory of the batch-level losses at batch 4096.

Run by ``tools/bench.py`` (``make bench``) in fresh processes, once per Keras backend:

* ``KERAS_BACKEND=torch``: lossgen's function form computed by PyTorch, against the
  PyTorch peer (MONAI, kornia, pytorch-metric-learning, torchmetrics), in one process;
* ``KERAS_BACKEND=tensorflow``: lossgen's function form eagerly and compiled with XLA
  (``tf.function(jit_compile=True)``), against the same PyTorch peer in the same process;
  and against the Keras peers (KerasCV, Keras Recommenders) eagerly and compiled alike.

Every mode times the value with its gradient with respect to the prediction (forward and
backward), with the peer's argument mapping, input convention and reduction from the spec
(``generator.check.peers``, as the peer tests use them), on inputs of the size the loss is
used at (:func:`scenario`). Before timing, the two values are compared on those inputs: a
timing of two different computations would mean nothing. ``tools/timing.py`` alternates the
two. Prints one JSON object per line.

Every run limits its own address space to ``MEMORY_LIMIT`` (the machine has no swap), so
that a case that cannot fit fails alone instead of taking the machine down.

``--memory``: for each batch-level loss, in a fresh process each (PyTorch backend), the
growth of the process's peak resident memory over one value and gradient at batch 4096
with 128-d embeddings (or the loss's own width).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from generator.check import samples  # noqa: E402
from generator.check.harness import import_path  # noqa: E402
from generator.check.peers import (  # noqa: E402
    call_peer,
    hand_over_keras,
    is_keras_peer,
    ours_as_peer,
    peer_loss,
    peer_targets,
)
from generator.codegen.pipeline import generate  # noqa: E402
from generator.spec import shapes  # noqa: E402
from generator.spec.loader import LoadedSpec, load_directory, load_spec  # noqa: E402
from generator.spec.names import names  # noqa: E402
from tools.timing import time_pair  # noqa: E402

ROUNDS = 11
IMAGES = (16, 48, 64)
"""Segmentation and image losses: 16 images of 48 x 64 pixels."""
MEMORY_BATCH = 4096
MEMORY_LIMIT = 12 * 2**30
"""Address space of the benchmark's processes: the machine has 23 GiB and no swap."""


def scenario(item: LoadedSpec, peer) -> tuple[tuple[int, ...], int, int, str]:
    """``(leading shape, target width, prediction width, description)`` of the inputs a
    loss is timed on: the sizes it is typically used at, smaller where the peer computes one
    sample per call (``per_sample``)."""
    spec = item.spec
    small = "per_sample" in peer.inputs
    multiclass = spec.inputs.y_true.kind in ("one_hot", "labels") or spec.inputs.y_pred.kind == "distribution"
    if _pixels(spec) > 1:
        channels = shapes.width(spec, 19 if multiclass else 1)
        return IMAGES, channels, channels, f"{IMAGES[0]} images of {IMAGES[1]}x{IMAGES[2]}, {channels} channels"
    if spec.task == "segmentation":
        pixels = IMAGES[1] * IMAGES[2]
        return IMAGES[:1], pixels, pixels, f"{IMAGES[0]} masks of {IMAGES[1]}x{IMAGES[2]}, flattened"
    if spec.inputs.per_class:  # scores against several centres per class (SoftTriple)
        batch, centres = (256 if small else 4096), shapes.per_class(spec)
        return (batch,), 100, 100, f"{batch} samples, 100 classes of {centres} centres"
    if spec.task == "metric" and spec.inputs.y_true.kind == "labels":
        batch = 64 if small else 512
        # batch_hard's targets are pairs of classmates (generator.check.peers.peer_targets)
        classes = f"{batch // 2} pairs of classmates" if "batch_hard" in peer.inputs else "32 classes"
        return (batch,), 32, 128, f"{batch} embeddings of 128 dimensions, {classes}"
    if spec.task == "metric" and spec.inputs.y_true.kind == "real":
        return (1024,), 128, 128, "two views of 1024 samples, 128 dimensions"
    if spec.task == "ranking":
        batch = 64 if small else 1024
        return (batch,), 32, 32, f"{batch} lists of 32 items"
    width = shapes.width(spec, 100 if multiclass else 16)
    batch = 256 if small else 4096
    what = f"{width} classes" if multiclass else f"{width} values"
    return (batch,), width, width, f"{batch} samples of {what}"


def _pixels(spec) -> int:
    """Pixels of one of the checker's images (1 when the loss is not on images)."""
    return int(np.prod(samples.targets(spec, np.random.default_rng(0), 1).shape[1:-1], dtype=int))


def inputs(item: LoadedSpec, peer) -> tuple[np.ndarray, np.ndarray, str]:
    """Random float32 ``(y_true, y_pred)`` of the :func:`scenario`'s size, drawn as the
    checker draws them (images: the checker's per-pixel draws, regrouped)."""
    spec = item.spec
    lead, true_width, pred_width, what = scenario(item, peer)
    params = {**samples.parameter_sets(spec)["defaults"], **peer.params}
    rng = np.random.default_rng(0)
    pixels = _pixels(spec)
    count = int(np.prod(lead)) // pixels if pixels > 1 else lead[0]
    y_true = samples.targets(spec, rng, count, true_width)
    y_pred = samples.predictions(spec, rng, samples.uses_logits(spec, params), count, pred_width)
    if pixels > 1:
        y_true = y_true.reshape(*lead, y_true.shape[-1])
        y_pred = y_pred.reshape(*lead, y_pred.shape[-1])
    return y_true.astype("float32"), y_pred.astype("float32"), what


def _module(item: LoadedSpec, directory: Path):
    path = directory / f"bench_peer_{item.name}.py"
    path.write_text(generate(item), encoding="utf-8")
    return import_path(path, f"lossgen_bench_peer_{item.name}")


def _torch_sides(item, peer, fn, params, y_true, y_pred):
    """Value and gradient callables of the peer, and of lossgen on the running backend,
    with their arguments."""
    import keras
    import torch

    theirs_fn = peer_loss(peer)
    t_true = peer_targets(item, peer, torch.tensor(y_true))
    t_pred = torch.tensor(y_pred)

    def theirs(y_true, y_pred):
        leaf = y_pred.detach().requires_grad_()
        value = call_peer(theirs_fn, peer, y_true, leaf)
        (grad,) = torch.autograd.grad(value.sum(), leaf)
        return value, grad

    backend = keras.backend.backend()
    if backend == "torch":

        def ours(y_true, y_pred):
            leaf = y_pred.detach().requires_grad_()
            value = ours_as_peer(peer, fn(y_true, leaf, **params))
            (grad,) = torch.autograd.grad(value.sum(), leaf)
            return value, grad

        return {"PyTorch": (ours, (t_true, t_pred))}, theirs, (t_true, t_pred)
    ours_true = keras.ops.convert_to_tensor(t_true.numpy())
    ours_pred = keras.ops.convert_to_tensor(y_pred)
    return _tensorflow_modes(peer, fn, params, ours_true, ours_pred), theirs, (t_true, t_pred)


def _tensorflow_modes(peer, fn, params, y_true, y_pred) -> dict:
    """lossgen's value and gradient on TensorFlow, eager and compiled with XLA."""
    import tensorflow as tf

    def ours(y_true, y_pred):
        with tf.GradientTape() as tape:
            tape.watch(y_pred)
            value = ours_as_peer(peer, fn(y_true, y_pred, **params))
        return value, tape.gradient(value, y_pred)

    args = (y_true, y_pred)
    return {"TensorFlow eager": (ours, args), "TensorFlow XLA": (tf.function(ours, jit_compile=True), args)}


def _keras_peer_modes(item, peer, fn, params, y_true, y_pred) -> list[tuple[str, object, tuple, object, tuple]]:
    """For a Keras peer: each mode with both sides in it (eager against eager, XLA against XLA)."""
    import tensorflow as tf

    theirs_fn = peer_loss(peer)
    t_true = tf.constant(y_true)
    if item.spec.inputs.y_true.kind == "labels":
        t_true = tf.cast(t_true, "int64")
    t_pred = tf.constant(y_pred)

    def theirs(y_true, y_pred):
        with tf.GradientTape() as tape:
            tape.watch(y_pred)
            value = theirs_fn(*hand_over_keras(peer, y_true, y_pred))
        return value, tape.gradient(value, y_pred)

    ours = _tensorflow_modes(peer, fn, params, t_true, t_pred)
    args = (t_true, t_pred)
    return [
        ("TensorFlow eager", ours["TensorFlow eager"][0], args, theirs, args),
        ("TensorFlow XLA", ours["TensorFlow XLA"][0], args, tf.function(theirs, jit_compile=True), args),
    ]


def _as_float(x) -> float:
    import keras

    return float(np.sum(keras.ops.convert_to_numpy(x) if not hasattr(x, "detach") else x.detach().numpy()))


def bench_peer(item: LoadedSpec, index: int, module, rounds: int) -> dict:
    import keras

    peer = item.spec.peers[index]
    fn = getattr(module, names(item.spec).function)
    params = {**samples.parameter_sets(item.spec)["defaults"], **peer.params}
    y_true, y_pred, what = inputs(item, peer)
    if is_keras_peer(peer):
        modes = _keras_peer_modes(item, peer, fn, params, y_true, y_pred)
    else:
        ours_modes, theirs, their_args = _torch_sides(item, peer, fn, params, y_true, y_pred)
        modes = [(mode, ours, args, theirs, their_args) for mode, (ours, args) in ours_modes.items()]
    found = {"loss": item.name, "peer": peer.call, "index": index, "backend": keras.backend.backend()}
    found.update(scenario=what, modes={})
    for mode, ours, args, theirs, their_args in modes:
        a, b = _as_float(ours(*args)[0]), _as_float(theirs(*their_args)[0])
        if not np.isclose(a, b, rtol=max(peer.tolerance, 1e-4) * 10, atol=1e-5):
            found["modes"][mode] = {"error": f"values differ on the benchmark inputs: lossgen {a!r}, peer {b!r}"}
            continue
        try:
            found["modes"][mode] = time_pair(ours, theirs, args, rounds, their_args)
        except Exception as exc:  # noqa: BLE001 - recorded, so that one mode failing (XLA) keeps the others
            found["modes"][mode] = {"error": f"{type(exc).__name__}: {str(exc)[:300]}"}
    return found


def peer_cases(chosen: set[str] | None) -> list[tuple[LoadedSpec, int]]:
    """Every (spec, peer index) the running backend times: PyTorch peers on both backends,
    Keras peers on TensorFlow."""
    import keras

    on_torch = keras.backend.backend() == "torch"
    cases = []
    for item in load_directory(ROOT / "specs"):
        if chosen is not None and item.name not in chosen:
            continue
        for index, peer in enumerate(item.spec.peers):
            if is_keras_peer(peer) and on_torch:
                continue
            cases.append((item, index))
    return cases


def memory(name: str, batch: int) -> dict:
    """Peak memory growth of one value and gradient of ``name`` at ``batch`` (this
    process, PyTorch backend): the ``--memory-one`` side of ``--memory``."""
    import keras
    import torch

    item = load_spec(ROOT / "specs" / f"{name}.yaml")
    spec = item.spec
    params = samples.parameter_sets(spec)["defaults"]
    rng = np.random.default_rng(0)
    if spec.inputs.y_pred.kind == "embedding":
        true_width, pred_width = batch // 8, 128
    else:
        true_width = pred_width = shapes.width(spec, 128)
    y_true = samples.targets(spec, rng, batch, true_width).astype("float32")
    y_pred = samples.predictions(spec, rng, samples.uses_logits(spec, params), batch, pred_width).astype("float32")
    with tempfile.TemporaryDirectory() as tmp:
        fn = getattr(_module(item, Path(tmp)), names(spec).function)
        t_true = torch.tensor(y_true).long() if spec.inputs.y_true.kind == "labels" else torch.tensor(y_true)
        leaf = torch.tensor(y_pred).requires_grad_()
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        try:
            value = keras.ops.mean(fn(t_true, leaf, **params))
            (grad,) = torch.autograd.grad(value, leaf)
            float(grad.reshape(-1)[0])
        except (RuntimeError, MemoryError) as exc:
            error = str(exc).splitlines()[0][:200]
            return {
                "loss": name,
                "batch": batch,
                "shape": list(y_pred.shape),
                "limit_gib": MEMORY_LIMIT / 2**30,
                "error": error,
            }
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"loss": name, "batch": batch, "shape": list(y_pred.shape), "peak_mib": (peak - before) / 1024}


def measure_memory(names_: list[str], batch: int) -> list[dict]:
    """:func:`memory` of each loss in a fresh process (which inherits this one's
    ``MEMORY_LIMIT``, set by :func:`main`)."""
    found = []
    env = dict(os.environ, KERAS_BACKEND="torch", TF_CPP_MIN_LOG_LEVEL="3")
    for name in names_:
        command = [sys.executable, __file__, "--memory-one", name, "--batch", str(batch)]
        done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
        lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
        if lines:
            found.append(json.loads(lines[-1]))
        else:
            last = (done.stderr.strip().splitlines() or ["killed"])[-1]
            found.append({"loss": name, "batch": batch, "error": last[:200]})
        print(json.dumps(found[-1]), flush=True)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--losses", help="comma-separated names: only these")
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--memory", help="comma-separated batch-level losses: measure their peak memory")
    parser.add_argument("--memory-one", help=argparse.SUPPRESS)
    parser.add_argument("--batch", type=int, default=MEMORY_BATCH)
    args = parser.parse_args(argv)
    # Every process of the benchmark, and those it starts, gets at most MEMORY_LIMIT of
    # address space: a case that cannot fit fails alone instead of waking the OOM killer.
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    if args.memory_one:
        print(json.dumps(memory(args.memory_one, args.batch)), flush=True)
        return 0
    if args.memory is not None:
        measure_memory([name for name in args.memory.split(",") if name], args.batch)
        return 0
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")
    chosen = set(args.losses.split(",")) if args.losses else None
    with tempfile.TemporaryDirectory() as tmp:
        modules = {}
        for item, index in peer_cases(chosen):
            if item.name not in modules:
                modules[item.name] = _module(item, Path(tmp))
            try:
                found = bench_peer(item, index, modules[item.name], args.rounds)
            except Exception as exc:  # noqa: BLE001 - recorded; the other peers still run
                error = f"{type(exc).__name__}: {str(exc)[:300]}"
                found = {"loss": item.name, "peer": item.spec.peers[index].call, "index": index, "error": error}
            print(json.dumps(found), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
