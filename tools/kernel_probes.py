"""Two operations timed alone, compiled with XLA on TensorFlow against PyTorch on the same
inputs, for the notes on the performance page: the Gaussian window passes of SSIM's local
means (``ops.depthwise_conv``, value and gradient) and the descending sort of the Lovász
losses (``ops.top_k``, eagerly too).

    python tools/kernel_probes.py
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from generator.spec.loader import load_spec  # noqa: E402
from tools.bench_peers import _module  # noqa: E402
from tools.timing import time_pair  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
ROUNDS = 11


def window_passes() -> str:
    import tensorflow as tf
    import torch

    images = np.random.default_rng(0).normal(size=(16, 48, 64, 1)).astype("float32")
    taps = np.exp(-0.5 * ((np.arange(11) - 5) / 1.5) ** 2).astype("float32")
    taps /= taps.sum()
    down, across = tf.constant(taps.reshape(11, 1, 1, 1)), tf.constant(taps.reshape(1, 11, 1, 1))

    def compiled(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            once = tf.nn.depthwise_conv2d(x, down, [1, 1, 1, 1], "VALID")
            value = tf.reduce_sum(tf.nn.depthwise_conv2d(once, across, [1, 1, 1, 1], "VALID"))
        return value, tape.gradient(value, x)

    torch_down = torch.tensor(taps.reshape(1, 1, 11, 1))
    torch_across = torch.tensor(taps.reshape(1, 1, 1, 11))

    def pytorch(x):
        leaf = x.detach().requires_grad_()
        value = torch.nn.functional.conv2d(torch.nn.functional.conv2d(leaf, torch_down), torch_across).sum()
        (gradient,) = torch.autograd.grad(value, leaf)
        return value, gradient

    found = time_pair(
        tf.function(compiled, jit_compile=True),
        pytorch,
        (tf.constant(images),),
        ROUNDS,
        (torch.tensor(images).permute(0, 3, 1, 2).contiguous(),),
    )
    return (
        f"two 11-tap Gaussian passes and their gradient on 16 x 48 x 64 images: XLA {found['generated_ms']:.2f} ms,"
        f" PyTorch conv2d {found['builtin_ms']:.2f} ms, ratio {found['ratio']:.2f}"
    )


def descending_sorts() -> list[str]:
    """What the Lovász losses' code sorts with (the generated ``_sort_descending``, taken
    from lovasz_softmax's module: ``ops.top_k``, values and indices at once), eager and
    compiled, against the
    ``torch.sort(descending=True)`` kornia calls: lovasz_hinge's 16 x 3072 errors along
    the last axis, and lovasz_softmax's 16 x 3072 x 19 along the pixels (the middle axis;
    kornia sorts its 16 x 19 x 3072 along the contiguous last one)."""
    import tensorflow as tf
    import torch

    # The module's folder lives until the timings end: tf.function reads the source when
    # it traces.
    with tempfile.TemporaryDirectory() as directory:
        module = _module(load_spec(ROOT / "specs" / "lovasz_softmax.yaml"), Path(directory))
        sort_descending = module._sort_descending
        rng = np.random.default_rng(0)
        cases = [
            ("16 x 3072 errors", rng.normal(size=(16, 3072)).astype("float32"), -1),
            ("16 x 3072 x 19 errors along the pixels", rng.normal(size=(16, 3072, 19)).astype("float32"), -2),
        ]
        lines = []
        for what, errors, axis in cases:

            def ours(x, axis=axis):
                return sort_descending(x, axis=axis)

            def pytorch(x):
                return torch.sort(x, dim=-1, descending=True)

            theirs_input = torch.tensor(np.moveaxis(errors, axis, -1).copy())
            for mode, fn in (("eager", ours), ("XLA", tf.function(ours, jit_compile=True))):
                found = time_pair(fn, pytorch, (tf.constant(errors),), ROUNDS, (theirs_input,))
                lines.append(
                    f"descending sort of {what}: TensorFlow {mode} top_k {found['generated_ms']:.2f} ms,"
                    f" torch.sort {found['builtin_ms']:.2f} ms, ratio {found['ratio']:.2f}"
                    f" ({found['ratio_q1']:.2f}-{found['ratio_q3']:.2f})"
                )
    return lines


if __name__ == "__main__":
    print(window_passes())
    print(*descending_sorts(), sep="\n")
