"""The robustness table over the whole catalog: for every loss, values and gradients
finite at the edge inputs (float32, float16 and bfloat16), one finite training step under
`mixed_float16` and `mixed_bfloat16`, `sample_weight` equal to `sum(w * loss) / batch`
from a float64 evaluation, no gradient on a zero-weight sample, and masked time steps
left out of the mean. These are the checks
`lossgen check` runs; each catalog loss is one row (one test id)."""

from __future__ import annotations

import pytest
from conftest import BATCH_LEVEL, SPECS, catalog_names, spec_forms


@pytest.mark.parametrize("name", catalog_names())
def test_robustness_row(tmp_path, name):
    from generator.check import checks, harness
    from generator.spec.loader import load_spec

    harness.quiet_tensorflow()
    item = load_spec(SPECS / f"{name}.yaml")
    forms = spec_forms(tmp_path, SPECS / f"{name}.yaml")
    results = (
        checks.check_edges(item, forms)
        + checks.check_half_precision(item, forms)
        + checks.check_mixed_precision(item, forms)
        + checks.check_weights(item, forms)
        + checks.check_mask(item, forms)
    )
    failed = [f"{r.check}: {r.detail}" for r in results if not r.ok]
    assert not failed, "\n".join(failed)
    assert len(results) == 8
    assert checks.batch_level(item, {}) == (name in BATCH_LEVEL)


def test_mask_check_fails_when_the_mask_is_lost(tmp_path, monkeypatch):
    """With the Masking layer replaced by one that passes the data through without a mask,
    every step counts, and the check must say the loss no longer equals the masked mean."""
    import keras

    from generator.check import checks
    from generator.spec.loader import load_spec

    item = load_spec(SPECS / "mse.yaml")
    forms = spec_forms(tmp_path, SPECS / "mse.yaml")
    assert checks.check_mask(item, forms)[0].ok
    monkeypatch.setattr(keras.layers, "Masking", lambda mask_value: keras.layers.Identity())
    result = checks.check_mask(item, forms)[0]
    assert not result.ok, result.detail
