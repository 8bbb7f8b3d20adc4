"""Every catalog loss (subclass form, default parameters, default ``sum_over_batch_size``
reduction) under ``tf.distribute.MirroredStrategy`` over two logical CPU devices.

One fresh process (generator/distribution_probe.py) runs everything: the logical devices must
be configured before TensorFlow initialises. For each spec it takes the checker's model
and data (32 samples, one global batch, 16 per replica), and one SGD step with learning
rate 1, so that each weight moves by exactly its gradient, without and with a random
positive ``sample_weight`` that has one zero.

What must hold, to ``RTOL`` and ``ATOL``:

* every loss: each replica computes the loss of its own half of the batch, divided by the
  number of replicas (Keras's ``scale_loss_for_distribution``); the reported loss is the
  mean of the two halves' losses and the step follows the mean of their gradients. So
  Keras neither forgets nor doubles the division by the number of replicas.
* per-sample losses (a sample's loss depends on that sample only): the distributed loss
  and step equal the single-device ones on the whole batch.
* batch-level losses (``BATCH_LEVEL``: a sample's loss depends on the other samples of
  the batch) cannot equal them, since no replica sees the whole batch; they are asserted
  to differ, and to equal the per-half average above instead.

Tolerances: losses ``|a - b| <= ATOL + RTOL * |b|``; weights after the step the same per
tensor, with ``|b|`` the largest entry of the tensor. An entry of a gradient is a float32
sum over the batch; when its terms cancel, its rounding error is relative to the terms,
not to the result. For mape (gradient terms of a few hundred) the single-device and
mirrored kernels differ by 3.2e-5 on an entry of 24.66, 1.3e-6 relative, as far as the
single-device float32 kernel is from a float64 computation of the same step (3.1e-5); for
amplitude_weighted_mse they differ by 4.6e-5 where float32 itself is 3.7e-4 off. Per
tensor, the worst per-sample difference is 2.7e-7 of the largest entry.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import BATCH_LEVEL, ROOT, catalog_names

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("distribution")]

RTOL = 1e-6
ATOL = 1e-6
REPLICAS = 2
WEIGHTINGS = ["unweighted", "weighted"]

FIT_CHECKED = ["mse", "triplet_hard"]
"""The probe runs the distributed step as ``train_on_batch`` on per-replica halves (the same
``train_function`` as ``fit``, without its multi-device iterators, ~0.6 s a call); for
these, one per-sample and one batch-level, it also runs the public ``model.fit`` path."""

PER_SAMPLE = [name for name in catalog_names() if name not in BATCH_LEVEL]


# Session scope, not module: under --dist loadgroup a worker interleaves other modules' tests
# with this group's, and each interleaving tore a module fixture down and built it again
# (the reload probe ran twice, 110 s each).
@pytest.fixture(scope="session")
def results(tmp_path_factory) -> dict[str, dict]:
    directory = tmp_path_factory.mktemp("distribution")
    command = [sys.executable, "-m", "generator.check.probes.distribution", str(directory), "--fit", *FIT_CHECKED]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", KERAS_BACKEND="tensorflow")
    run = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT, timeout=600, check=False)
    if run.returncode != 0:
        raise RuntimeError(f"distribution probe failed:\n{run.stderr[-4000:]}")
    found = [json.loads(line) for line in run.stdout.splitlines() if line.startswith("{")]
    return {r["spec"]: r for r in found}


def _result(results: dict, name: str) -> dict:
    assert name in results, f"the probe reported nothing for {name}"
    result = results[name]
    assert "error" not in result, result["error"]
    return result


def assert_loss_close(actual: float, expected: float, what: str) -> None:
    assert abs(actual - expected) <= ATOL + RTOL * abs(expected), (
        f"{what}: {actual!r} against {expected!r} (difference {actual - expected:.3g})"
    )


def assert_weights_close(actual: list, expected: list, what: str) -> None:
    assert len(actual) == len(expected), what
    for i, (a, b) in enumerate(zip(actual, expected, strict=True)):
        a, b = np.asarray(a, dtype="float64"), np.asarray(b, dtype="float64")
        assert a.shape == b.shape, f"{what}: weight {i} has shape {a.shape}, expected {b.shape}"
        scale = float(np.max(np.abs(b))) if b.size else 0.0
        worst = float(np.max(np.abs(a - b))) if b.size else 0.0
        assert worst <= ATOL + RTOL * scale, (
            f"{what}: weight {i} {b.shape} after the step differs by up to {worst:.3g} (largest entry {scale:.3g})"
        )


@pytest.mark.parametrize("name", catalog_names())
def test_batch_dependence_is_as_documented(results, name):
    """A loss's per-sample values on its replica's half of the batch equal those on the whole
    batch exactly when the loss is not in ``BATCH_LEVEL``."""
    dependence = _result(results, name)["dependence"]
    if name in BATCH_LEVEL:
        assert dependence > 1e-3, f"{name} is listed as batch-level, but its per-sample values ignore the batch"
    else:
        assert dependence <= RTOL, (
            f"{name}: per-sample values change by up to {dependence:.3g} (relative) when computed on half the"
            " batch; a batch-level loss: add it to BATCH_LEVEL"
        )


@pytest.mark.parametrize("weighting", WEIGHTINGS)
@pytest.mark.parametrize("name", catalog_names())
def test_each_replica_computes_its_half_and_keras_averages(results, name, weighting):
    case = _result(results, name)["cases"][weighting]
    halves = case["half_losses"]
    for i, (replica, half) in enumerate(zip(case["replica_losses"], halves, strict=True)):
        # In a replica's context a sum_over_batch_size loss comes out divided by the replicas.
        assert_loss_close(replica * REPLICAS, half, f"loss object on replica {i}, times {REPLICAS}")
    # The two halves are the same size, so their mean is the global sum_over_batch_size.
    assert_loss_close(case["mirrored_loss"], sum(halves) / REPLICAS, "mirrored loss against the mean of the halves")
    assert_weights_close(case["mirrored_weights"], case["half_weights"], "mirrored step against the halves' mean")
    # The training loss is the Loss object's value (single device).
    assert_loss_close(case["single_loss"], case["loss_object"], "single-device training loss against the loss object")


@pytest.mark.parametrize("weighting", WEIGHTINGS)
@pytest.mark.parametrize("name", PER_SAMPLE)
def test_per_sample_loss_distributed_equals_single_device(results, name, weighting):
    case = _result(results, name)["cases"][weighting]
    assert_loss_close(case["mirrored_loss"], case["single_loss"], "mirrored loss against single device")
    assert_weights_close(case["mirrored_weights"], case["single_weights"], "mirrored step against single device")


@pytest.mark.parametrize("weighting", WEIGHTINGS)
@pytest.mark.parametrize("name", sorted(BATCH_LEVEL))
def test_batch_level_loss_distributed_differs_from_single_device(results, name, weighting):
    """Each replica sees half the batch (``BATCH_LEVEL[name]``): the distributed loss is the
    mean of the halves' losses (previous test), not the whole batch's, by far more than
    float32 noise."""
    case = _result(results, name)["cases"][weighting]
    single, mirrored = case["single_loss"], case["mirrored_loss"]
    assert abs(mirrored - single) > 1e-3 * abs(single), (
        f"{name}: the mirrored loss {mirrored!r} equals the whole batch's {single!r}: was the batch split?"
    )


@pytest.mark.parametrize("name", sorted(BATCH_LEVEL))
def test_numpy_batches_are_not_split_by_test_on_batch(results, name):
    """A pitfall, documented: ``test_on_batch`` (and ``train_on_batch``) given NumPy arrays
    under a strategy hand the whole batch to every replica, so even a batch-level loss comes
    out as on one device; only distributed data (``fit``, ``evaluate``, per-replica values)
    is split."""
    result = _result(results, name)
    assert_loss_close(result["unsplit_loss"], result["cases"]["unweighted"]["single_loss"], "test_on_batch(NumPy)")


@pytest.mark.parametrize("weighting", WEIGHTINGS)
@pytest.mark.parametrize("name", FIT_CHECKED)
def test_model_fit_takes_the_same_step(results, name, weighting):
    """``model.fit`` (traced, with its own batch splitting) agrees with the probe's
    ``train_on_batch`` on per-replica halves (eager)."""
    case = _result(results, name)["cases"][weighting]
    assert_loss_close(case["fit_loss"], case["mirrored_loss"], "fit loss against train_on_batch")
    assert_weights_close(case["fit_weights"], case["mirrored_weights"], "fit step against train_on_batch")
