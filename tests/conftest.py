"""Shared fixtures. Keras is imported lazily, only by the tests that need it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"


def pytest_collection_modifyitems(config, items):
    """Under another Keras backend (`make test-backends`), skip the tests that take
    gradients with TensorFlow's GradientTape."""
    backend = os.environ["KERAS_BACKEND"]
    if backend == "tensorflow":
        return
    skip = pytest.mark.skip(reason=f"takes gradients with TensorFlow; KERAS_BACKEND={backend}")
    for item in items:
        if "tensorflow_only" in item.keywords:
            item.add_marker(skip)


def pytest_addoption(parser):
    parser.addoption("--update-goldens", action="store_true", help="Rewrite tests/golden from the current generator.")


@pytest.fixture(scope="session")
def update_goldens(request) -> bool:
    return request.config.getoption("--update-goldens")


SKIP_FRESH = ("--skip", "backends", "--skip", "distribution", "--skip", "reload")
"""``lossgen check`` options that leave out the checks starting new processes, for tests
about the other rows (the starter test in test_cli.py runs them all)."""


def run_cli(
    *args: str, cwd: Path | None = None, env: dict | None = None, fresh: bool = False
) -> subprocess.CompletedProcess:
    """Run ``lossgen ARGS`` as a user would, in ``cwd`` (default: the project root).

    In this process by default, through click's ``CliRunner``: the same command objects,
    exit status, stdout and stderr, without a new interpreter's start-up (and, for
    ``check``, TensorFlow's). An exception the CLI lets escape is appended to stderr as the
    traceback a fresh process would print, so "no traceback" assertions keep their meaning.
    ``fresh=True`` runs ``python -m generator ARGS`` in a new process instead: for the smoke
    test of each command and for what only a new interpreter shows (``PYTHONHASHSEED``)."""
    if fresh:
        return subprocess.run(
            [sys.executable, "-m", "generator", *args],
            capture_output=True,
            text=True,
            cwd=cwd or ROOT,
            env={**os.environ, **(env or {})},
            check=False,
        )
    import traceback

    from click.testing import CliRunner

    from generator.cli import cli

    saved_env, saved_cwd = dict(os.environ), os.getcwd()
    os.chdir(cwd or ROOT)
    try:
        result = CliRunner().invoke(cli, list(args), env=env, prog_name="lossgen")
    finally:
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
    stderr = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        stderr += "Traceback (most recent call last):\n" + "".join(traceback.format_exception(result.exception))
    return subprocess.CompletedProcess(["lossgen", *args], result.exit_code, result.stdout, stderr)


def catalog_names() -> list[str]:
    return sorted(p.stem for p in SPECS.glob("*.yaml"))


def keras_twin_names() -> list[str]:
    """The catalog losses that have a Keras twin (``keras:`` in the spec)."""
    from generator.spec.loader import load_spec

    return [n for n in catalog_names() if load_spec(SPECS / f"{n}.yaml").spec.keras is not None]


BATCH_LEVEL = {
    "all_pairs_contrastive": "every pair of the batch, and the batch's counts of non-zero pair losses",
    "all_triplets": "every triplet of the batch, and the batch's count of non-zero triplet losses",
    "angular": "every negative of the batch, and the batch's number of positive pairs",
    "barlow_twins": "the cross-correlation of the two views' embeddings, standardised over the batch",
    "circle": "every same-label and different-label pair of the batch",
    "fastap": "soft histograms of the distances to every other sample of the batch",
    "generalized_lifted_structure": "log-sum-exps over the positives and negatives of the batch",
    "histogram": "histograms of the similarities of every positive and negative pair of the batch",
    "instance": "a softmax over every sample of the batch, and the distinct labels of the batch",
    "intra_pair_variance": "the mean similarities of all positive and negative pairs of the batch",
    "lifted_structure": "a log-sum-exp over every negative of the batch",
    "margin_based": "every triplet of the batch, and the batch's count of non-zero terms",
    "multi_similarity": "log-sum-exps over the positives and negatives of the batch",
    "nca": "a softmax over the distances to every other sample of the batch",
    "npairs": "a softmax over the similarities to every other sample of the batch",
    "npairs_multilabel": "a softmax over the similarities to every other sample, targets from their label sets",
    "pnp": "soft ranks of the positives among every negative of the batch",
    "proxy_anchor": "log-sum-exps over every sample of the batch for each class proxy",
    "nt_xent": "a softmax over every other sample of the batch",
    "ranked_list": "weighted means over the positives and negatives of the batch that violate their boundary",
    "smooth_ap": "soft ranks among every other sample of the batch",
    "snr_contrastive": "every pair of the batch, and the batch's counts of non-zero pair losses",
    "supervised_contrastive": "a softmax over every other sample, averaged over the same-label ones",
    "threshold_consistent_margin": "the means over the batch's positive and negative pairs that cross their margins",
    "triplet_hard": "the hardest positive and negative among the other samples of the batch",
    "triplet_semihard": "the semi-hard negative among the other samples of the batch",
    "tuplet_margin": "every negative of the batch, and the batch's number of positive pairs",
    "vicreg": "the variances and covariances of the embeddings over the batch",
    "weighted_kappa": "Cohen's kappa of the confusion matrix summed over the batch",
}
"""The losses whose per-sample values depend on the rest of the batch, with what they
depend on: found empirically (test_distribution's test_batch_dependence_is_as_documented and
the checker's batch_level, in test_robustness) and pinned here, so
that a loss changing side is noticed. Contrastive (one pair per sample), Lovász hinge and
Lovász-softmax (one image per sample) and the ranking losses (one list per sample) are
per-sample."""


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> Path:
    """The whole catalog generated once per test session (once per xdist worker), as
    ``lossgen build`` writes it: the modules under ``code/``, the pages beside them."""
    from generator.site.build import build

    out = tmp_path_factory.mktemp("catalog") / "out"
    build(SPECS, out)
    return out


_imported = 0


def spec_forms(tmp_path: Path, spec: Path):
    """The three forms of the spec at ``spec``, generated into ``tmp_path`` and imported
    under a module name of their own."""
    global _imported
    from generator.check.harness import forms_of, import_path
    from generator.codegen.pipeline import generate
    from generator.spec.loader import load_spec

    _imported += 1
    item = load_spec(spec)
    path = tmp_path / f"{item.name}_{_imported}.py"
    path.write_text(generate(item), encoding="utf-8")
    return forms_of(import_path(path, f"lossgen_test_{item.name}_{_imported}"), item)


def catalog_forms(tmp_path: Path, name: str):
    """The three forms of catalog loss ``name`` (see :func:`spec_forms`)."""
    return spec_forms(tmp_path, SPECS / f"{name}.yaml")


def assert_matches_reference(tmp_path: Path, name: str, params_label: str, reference, seeds: int = 4) -> None:
    """The subclass form of catalog loss ``name`` equals a float64 NumPy ``reference``
    (written in the tests from the loss's definition) on random batches, to 1e-5 relative."""
    import keras

    from generator.check import samples
    from generator.spec.loader import load_spec

    spec = load_spec(SPECS / f"{name}.yaml").spec
    forms = catalog_forms(tmp_path, name)
    params = samples.parameter_sets(spec)[params_label]
    for seed in range(seeds):
        batch = samples.random_batch(spec, params, seed)
        ours = keras.ops.convert_to_numpy(forms.subclass(params)(batch.y_true, batch.y_pred))
        # the references reduce over the last axis, where the class axis stays here
        numbers = {k: v for k, v in params.items() if k != spec.inputs.class_axis}
        expected = reference(batch.y_true.astype("float64"), batch.y_pred.astype("float64"), **numbers)
        np.testing.assert_allclose(ours, expected, rtol=1e-5, atol=1e-6, err_msg=f"{name}, seed {seed}")
