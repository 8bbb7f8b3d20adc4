"""The robustness table over the whole catalog: for every loss, values and gradients
finite at the edge inputs (float32, float16 and bfloat16), one finite training step under
`mixed_float16` and `mixed_bfloat16`, `sample_weight` equal to `sum(w * loss) / batch`
from a float64 evaluation, and no gradient on a zero-weight sample. These are the checks
`lossgen check` runs; each catalog loss is one row (one test id)."""

from __future__ import annotations

import pytest
from conftest import SPECS, catalog_names, spec_forms

BATCH_LEVEL = {
    "circle",
    "lifted_structure",
    "npairs",
    "nt_xent",
    "supervised_contrastive",
    "triplet_hard",
    "triplet_semihard",
    "weighted_kappa",
}
"""Losses whose per-sample value depends on the rest of the batch (by design)."""


@pytest.mark.parametrize("name", catalog_names())
def test_robustness_row(tmp_path, name):
    from generator import checker
    from generator.loader import load_spec

    checker.quiet_tensorflow()
    item = load_spec(SPECS / f"{name}.yaml")
    forms = spec_forms(tmp_path, SPECS / f"{name}.yaml")
    results = (
        checker.check_edges(item, forms)
        + checker.check_half_precision(item, forms)
        + checker.check_mixed_precision(item, forms)
        + checker.check_weights(item, forms)
    )
    failed = [f"{r.check}: {r.detail}" for r in results if not r.ok]
    assert not failed, "\n".join(failed)
    assert len(results) == 7
    assert checker.batch_level(item, {}) == (name in BATCH_LEVEL)
