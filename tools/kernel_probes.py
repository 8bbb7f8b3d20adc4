"""Two operations timed alone, compiled with XLA on TensorFlow against PyTorch on the same
inputs, for the notes on the performance page: the Gaussian window passes of SSIM's local
means (``ops.depthwise_conv``, value and gradient) and the descending sort of the Lovász
losses (``ops.argsort``).

    python tools/kernel_probes.py
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from tools.timing import time_pair  # noqa: E402

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


def descending_sort() -> str:
    import keras
    import tensorflow as tf
    import torch

    errors = np.random.default_rng(0).normal(size=(16, 3072)).astype("float32")

    def compiled(x):
        return keras.ops.argsort(-x, axis=-1)

    def pytorch(x):
        return torch.sort(x, dim=-1, descending=True)[1]

    found = time_pair(
        tf.function(compiled, jit_compile=True), pytorch, (tf.constant(errors),), ROUNDS, (torch.tensor(errors),)
    )
    return (
        f"descending sort of 16 x 3072 errors: XLA argsort {found['generated_ms']:.2f} ms,"
        f" torch.sort {found['builtin_ms']:.2f} ms, ratio {found['ratio']:.2f}"
    )


if __name__ == "__main__":
    print(window_passes())
    print(descending_sort())
