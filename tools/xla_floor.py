"""What part of a loss's compiled (XLA) time is the cost of calling a compiled function at
all: for each loss and peer given, on the benchmark's inputs (``bench_peers.inputs``),
lossgen's value and gradient compiled with XLA is timed in alternation against the
"floor", the value and gradient of ``mean(y_pred)`` compiled the same way on the same
inputs, and the floor against the peer (PyTorch, same process). The notes on the
performance page quote its output for the XLA rows over the limit.

    KERAS_BACKEND=tensorflow python tools/xla_floor.py dice/0 ssim/1 ...

Prints one JSON line per case: lossgen, floor and peer in milliseconds (medians), and
lossgen minus the floor against the peer.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

from generator.check import samples  # noqa: E402
from generator.check.peers import is_keras_peer  # noqa: E402
from generator.spec.loader import load_spec  # noqa: E402
from generator.spec.names import names  # noqa: E402
from tools.bench_peers import _module, _torch_sides, inputs  # noqa: E402
from tools.timing import time_pair  # noqa: E402


def floor(name: str, index: int, rounds: int, directory: Path) -> dict:
    import tensorflow as tf

    item = load_spec(ROOT / "specs" / f"{name}.yaml")
    peer = item.spec.peers[index]
    fn = getattr(_module(item, directory), names(item.spec).function)
    params = {**samples.parameter_sets(item.spec)["defaults"], **peer.params}
    y_true, y_pred, what = inputs(item, peer)
    modes, theirs, their_args = _torch_sides(item, peer, fn, params, y_true, y_pred)
    ours, args = modes["TensorFlow XLA"]

    def nothing(y_true, y_pred):
        with tf.GradientTape() as tape:
            tape.watch(y_pred)
            value = tf.reduce_mean(y_pred)
        return value, tape.gradient(value, y_pred)

    compiled_nothing = tf.function(nothing, jit_compile=True)
    against_floor = time_pair(ours, compiled_nothing, args, rounds)
    floor_against_peer = time_pair(compiled_nothing, theirs, args, rounds, their_args)
    ours_ms, floor_ms = against_floor["generated_ms"], against_floor["builtin_ms"]
    peer_ms = floor_against_peer["builtin_ms"]
    return {
        "case": f"{name}/{index}",
        "inputs": what,
        "lossgen_xla_ms": round(ours_ms, 4),
        "floor_xla_ms": round(floor_ms, 4),
        "peer_ms": round(peer_ms, 4),
        "lossgen_over_peer": round(ours_ms / peer_ms, 2),
        "lossgen_minus_floor_over_peer": round((ours_ms - floor_ms) / peer_ms, 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cases", nargs="+", help="loss/peer-index, as in benchmarks/results.json")
    parser.add_argument("--rounds", type=int, default=11)
    options = parser.parse_args(argv)
    cases = [(name, int(index or 0)) for name, _, index in (case.partition("/") for case in options.cases)]
    for name, index in cases:
        if is_keras_peer(load_spec(ROOT / "specs" / f"{name}.yaml").spec.peers[index]):
            # A Keras peer is timed compiled too, and pays the same cost per call.
            parser.error(
                f"{name}/{index}: its peer is a Keras loss, timed compiled like lossgen; the floor is for PyTorch peers"
            )
    with tempfile.TemporaryDirectory() as tmp:
        for name, index in cases:
            print(json.dumps(floor(name, index, options.rounds, Path(tmp))), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
