"""Time the generated losses against Keras's own, and the project's build and tests.

`python tools/bench.py` (run by `make bench`) measures, for every catalog loss with a
Keras twin, the generated subclass and the built-in class on the same inputs: float32, a
batch of 4096 rows with a last axis of the width the loss is used with (see
:func:`scenario`), each at its defaults and with Keras's default reduction, as a user
compiles them. Four modes: the forward value and the value with its gradient, each
eagerly and under ``tf.function(jit_compile=True)``.

The two implementations are timed in alternation, round after round, the order swapped
every round, so drift of the machine (frequency, other processes) hits both alike. A
sample is the mean time of enough back-to-back calls to last about 20 ms. The report for
each mode is the median of each side and the median of the paired per-round ratios
(generated / built-in), with its quartiles.

It also times ``lossgen build`` of the whole catalog (fresh process, as a user runs it),
``mkdocs build --strict`` and ``make test``, and writes everything, with the machine and
versions, to ``benchmarks/results.json``. ``tools/performance_page.py`` turns that file
into the site's performance page.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ["KERAS_BACKEND"] = "tensorflow"

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from generator.check import samples  # noqa: E402
from generator.check.harness import forms_of, import_path, quiet_tensorflow  # noqa: E402
from generator.codegen.pipeline import generate  # noqa: E402
from generator.codegen.write import write_file  # noqa: E402
from generator.spec.loader import LoadedSpec, load_directory  # noqa: E402
from tools.timing import time_pair  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results.json"
BIN = Path(sys.executable).parent
BATCH = 4096
ROUNDS = 31
MODES = ("eager forward", "eager value+grad", "compiled forward", "compiled value+grad")
VERSIONS = ("keras", "tensorflow-cpu", "numpy", "jinja2", "mkdocs", "mkdocs-material")


def scenario(item: LoadedSpec) -> tuple[int, str]:
    """The width of the last axis a loss is typically used with, and what it stands for."""
    spec = item.spec
    if spec.task == "segmentation":
        return 1024, "32x32 mask per sample, flattened"
    if spec.inputs.y_pred.kind == "embedding" or spec.task == "metric":
        return 128, "128-d embeddings"
    if spec.inputs.y_true.kind in ("one_hot", "labels") or spec.inputs.y_pred.kind == "distribution":
        return 100, "100 classes"
    if spec.task in ("binary", "multilabel"):
        return 20, "20 labels"
    return 16, "16 regression targets"


def twins() -> list[LoadedSpec]:
    return [item for item in load_directory(ROOT / "specs") if item.spec.keras is not None]


def _losses(item: LoadedSpec, directory: Path):
    """(generated subclass, Keras built-in), both at the spec's defaults, default reduction."""
    import keras

    path = directory / f"bench_{item.name}.py"
    path.write_text(generate(item), encoding="utf-8")
    forms = forms_of(import_path(path, f"lossgen_bench_{item.name}"), item)
    params = samples.parameter_sets(item.spec)["defaults"]
    twin = getattr(keras.losses, item.spec.keras.loss)
    return forms.subclass_reduced(params), twin(**samples.twin_arguments(item.spec, params))


def _inputs(item: LoadedSpec, width: int):
    import tensorflow as tf

    rng = np.random.default_rng(0)
    params = samples.parameter_sets(item.spec)["defaults"]
    logits = samples.uses_logits(item.spec, params)
    y_true = samples.targets(item.spec, rng, BATCH, width).astype("float32")
    y_pred = samples.predictions(item.spec, rng, logits, BATCH, width).astype("float32")
    return tf.constant(y_true), tf.constant(y_pred)


def _callables(loss, jit: bool) -> dict[str, object]:
    """The forward and value+grad callables of one loss, eager or compiled."""
    import tensorflow as tf

    def forward(y_true, y_pred):
        return loss(y_true, y_pred)

    def value_and_grad(y_true, y_pred):
        with tf.GradientTape() as tape:
            tape.watch(y_pred)
            value = loss(y_true, y_pred)
        return value, tape.gradient(value, y_pred)

    if jit:
        return {
            "forward": tf.function(forward, jit_compile=True),
            "value+grad": tf.function(value_and_grad, jit_compile=True),
        }
    return {"forward": forward, "value+grad": value_and_grad}


def bench_loss(item: LoadedSpec, directory: Path, rounds: int) -> dict:
    ours, theirs = _losses(item, directory)
    width, what = scenario(item)
    args = _inputs(item, width)
    # The two must compute the same thing on these very inputs, or the timing means nothing.
    a, b = float(ours(*args)), float(theirs(*args))
    if not math.isclose(a, b, rel_tol=1e-4, abs_tol=1e-6):
        raise SystemExit(f"{item.name}: generated {a} and Keras {b} differ on the benchmark inputs")
    modes = {}
    for jit in (False, True):
        mine, reference = _callables(ours, jit), _callables(theirs, jit)
        for kind in mine:
            mode = f"{'compiled' if jit else 'eager'} {kind}"
            modes[mode] = time_pair(mine[kind], reference[kind], args, rounds)
            print(f"  {item.name:34} {mode:20} ratio {modes[mode]['ratio']:.3f}", flush=True)
    twin = item.spec.keras
    builtin = f"keras.losses.{twin.loss}({', '.join(f'{k}={v!r}' for k, v in twin.args.items())})"
    return {
        "builtin": builtin,
        "class_name": item.spec.class_name,
        "shape": [BATCH, width],
        "scenario": what,
        "modes": modes,
    }


def _seconds(command: list[str], repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return times


def bench_build(repeats: int = 5) -> dict:
    """``lossgen build`` of the catalog in a fresh process, with and without the plots."""
    specs = len(list((ROOT / "specs").glob("*.yaml")))
    with tempfile.TemporaryDirectory() as tmp:
        plain = _seconds([str(BIN / "lossgen"), "build", "--out", f"{tmp}/out"], repeats)
        plots = _seconds([str(BIN / "lossgen"), "build", "--plots", "--out", f"{tmp}/out"], 3)
    seconds = statistics.median(plain)
    return {
        "specs": specs,
        "seconds": seconds,
        "specs_per_second": specs / seconds,
        "seconds_all": plain,
        "with_plots_seconds": statistics.median(plots),
    }


def bench_mkdocs(repeats: int = 3) -> dict:
    """``mkdocs build --strict`` of the generated docs (``make generate`` must have run)."""
    with tempfile.TemporaryDirectory() as tmp:
        times = _seconds([str(BIN / "mkdocs"), "build", "--strict", "--quiet", "--site-dir", tmp], repeats)
    return {"seconds": statistics.median(times), "seconds_all": times}


def bench_suite() -> dict:
    """``make test``, once, with its pytest summaries."""
    start = time.perf_counter()
    done = subprocess.run(["make", "test"], cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    summaries = re.findall(r"^=+ (\d+ passed.*?) =+$", done.stdout, flags=re.MULTILINE)
    if done.returncode != 0:
        sys.stderr.write(done.stdout[-4000:] + done.stderr[-4000:])
        raise SystemExit("make test failed; no suite time recorded")
    return {"command": "make test", "seconds": seconds, "summaries": summaries}


def bench_peers(rounds: int, chosen: str | None = None) -> dict:
    """Every loss against its peers (``tools/bench_peers.py``), on PyTorch and on TensorFlow,
    each in a fresh process; and the peak memory of the batch-level losses at batch 4096."""
    script = str(ROOT / "tools" / "bench_peers.py")
    found: dict[str, dict] = {}
    for backend in ("torch", "tensorflow"):
        command = [sys.executable, script, "--rounds", str(rounds)] + (["--losses", chosen] if chosen else [])
        env = dict(os.environ, KERAS_BACKEND=backend)
        for record in _json_lines(command, env):
            key = f"{record['loss']}/{record.get('index', 0)}"
            entry = found.setdefault(key, {k: v for k, v in record.items() if k not in ("modes", "backend")})
            entry.setdefault("modes", {}).update(record.get("modes", {}))
            ratios = {mode: round(r.get("ratio", -1), 2) for mode, r in record.get("modes", {}).items()}
            print(f"  {key:40} {backend:10} {ratios}", flush=True)
    sys.path.insert(0, str(ROOT / "tests"))
    from conftest import BATCH_LEVEL  # the pinned list of losses whose values depend on the batch

    batch_level = sorted(BATCH_LEVEL) if not chosen else sorted(set(BATCH_LEVEL) & set(chosen.split(",")))
    memory = []  # no batch-level loss chosen, none measured
    if batch_level:
        memory = _json_lines([sys.executable, script, "--memory", ",".join(batch_level)], dict(os.environ))
    return {"rounds": rounds, "peers": dict(sorted(found.items())), "memory": {m["loss"]: m for m in memory}}


def _json_lines(command: list[str], env: dict) -> list[dict]:
    """The JSON lines a command prints; what it printed before dying is kept, and its death
    reported on stderr (a loss whose case killed the process has no line)."""
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        sys.stderr.write(done.stderr[-2000:] + f"\n{' '.join(command[1:])}: exit status {done.returncode}\n")
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def machine() -> dict:
    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        found = re.search(r"^model name\s*:\s*(.+)$", cpuinfo.read_text(), flags=re.MULTILINE)
        model = found.group(1).strip() if found else ""
    return {
        "cpu": model or platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "versions": {name: metadata.version(name) for name in VERSIONS},
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--losses", help="comma-separated names: re-time only these, keep the rest of the file")
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--no-suite", action="store_true", help="keep the recorded make test time")
    parser.add_argument("--suite-only", action="store_true", help="time make test only; keep the rest of the file")
    parser.add_argument("--build-only", action="store_true", help="time lossgen build and mkdocs only; keep the rest")
    parser.add_argument("--peers-only", action="store_true", help="time the peers and memory only; keep the rest")
    parser.add_argument("--peer-rounds", type=int, default=5)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    quiet_tensorflow()
    previous = json.loads(args.out.read_text()) if args.out.exists() else {}
    if args.suite_only:
        print("make test ...", flush=True)
        _write(args.out, {**previous, "suite": bench_suite()})
        return 0
    if args.peers_only:
        print("peers ...", flush=True)
        peers = bench_peers(args.peer_rounds, args.losses)
        if args.losses and previous.get("peers"):  # re-timed some: keep the others
            peers = {
                "rounds": peers["rounds"],
                "peers": dict(sorted({**previous["peers"]["peers"], **peers["peers"]}.items())),
                "memory": {**previous["peers"]["memory"], **peers["memory"]},
            }
        _write(args.out, {**previous, "peers": peers})
        return 0
    if args.build_only:
        print("lossgen build, mkdocs ...", flush=True)
        _write(args.out, {**previous, "build": bench_build(), "mkdocs": bench_mkdocs()})
        return 0
    chosen = set(args.losses.split(",")) if args.losses else None
    items = [item for item in twins() if chosen is None or item.name in chosen]
    if chosen is not None and len(items) != len(chosen):
        raise SystemExit(f"not catalog losses with a Keras twin: {sorted(chosen - {i.name for i in items})}")
    losses = dict(previous.get("losses", {})) if chosen else {}
    with tempfile.TemporaryDirectory() as tmp:
        for item in items:
            print(item.name, flush=True)
            losses[item.name] = bench_loss(item, Path(tmp), args.rounds)
    results = {
        "machine": machine(),
        "batch": BATCH,
        "rounds": args.rounds,
        "losses": dict(sorted(losses.items())),
        "build": previous.get("build") if chosen else bench_build(),
        "mkdocs": previous.get("mkdocs") if chosen else bench_mkdocs(),
        "peers": previous.get("peers") if chosen else bench_peers(args.peer_rounds),
        "suite": previous.get("suite"),
    }
    _write(args.out, results)  # the timings are kept even if make test then fails
    if not (chosen or args.no_suite):
        print("make test ...", flush=True)
        results["suite"] = bench_suite()
        _write(args.out, results)
    return 0


def _write(path: Path, results: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_file(path, json.dumps(results, indent=2) + "\n")
    print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}", flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
