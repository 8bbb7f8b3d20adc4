"""How the benchmarks time two implementations of one loss against each other, on any
backend: in alternation, round after round, the order swapped every round, so that drift of
the machine (frequency, other processes) hits both alike. A sample is the mean time of
enough back-to-back calls to last about ``SAMPLE_SECONDS``; the report is the median of each
side and the median of the paired per-round ratios (first / second), with their quartiles.
Used by ``bench.py`` (against Keras) and ``bench_peers.py`` (against the peer libraries)."""

from __future__ import annotations

import gc
import math
import statistics
import time

SAMPLE_SECONDS = 0.02


def sync(result) -> None:
    """Wait until ``result`` (a tensor, or a tuple of them such as a value and its
    gradient) is computed, by reading one number of each: TensorFlow may run eager ops
    asynchronously; PyTorch on the CPU does not, and the read costs it nothing."""
    parts = result if isinstance(result, tuple | list) else (result,)
    for part in parts:
        if type(part).__module__.startswith("torch"):
            float(part.detach().reshape(-1)[0])
        else:
            import tensorflow as tf

            tf.reshape(part, [-1])[0].numpy()


def sample(fn, args, calls: int) -> float:
    """Mean seconds per call over ``calls`` back-to-back calls."""
    start = time.perf_counter()
    for _ in range(calls):
        result = fn(*args)
    sync(result)
    return (time.perf_counter() - start) / calls


def time_pair(ours, theirs, args, rounds: int, their_args=None) -> dict[str, float]:
    """Time two callables in alternation, ``ours(*args)`` and ``theirs(*their_args)``
    (default: the same arguments); medians in milliseconds and the paired ratio
    ours / theirs with its quartiles."""
    their_args = args if their_args is None else their_args
    for fn, fn_args in ((ours, args), (theirs, their_args)):  # trace, compile and warm up
        for _ in range(3):
            sync(fn(*fn_args))
    single = min(sample(theirs, their_args, 1) for _ in range(3))
    calls = max(1, min(2000, math.ceil(SAMPLE_SECONDS / max(single, 1e-7))))
    mine, reference = [], []
    gc.disable()
    try:
        for r in range(rounds):
            order = [(ours, args, mine), (theirs, their_args, reference)]
            for fn, fn_args, times in order if r % 2 == 0 else order[::-1]:
                times.append(sample(fn, fn_args, calls))
    finally:
        gc.enable()
    ratios = [a / b for a, b in zip(mine, reference, strict=True)]
    q1, _, q3 = statistics.quantiles(ratios, n=4)
    return {
        "generated_ms": 1e3 * statistics.median(mine),
        "builtin_ms": 1e3 * statistics.median(reference),
        "ratio": statistics.median(ratios),
        "ratio_q1": q1,
        "ratio_q3": q3,
        "calls_per_sample": calls,
        "rounds": rounds,
    }
