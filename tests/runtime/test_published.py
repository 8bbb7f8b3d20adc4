"""Oracles: published values in the specs' `examples`, and an oracle for every spec.

A spec's `examples` are values printed in a library's documentation or a paper; the
checker compares the loss with them to the printed digits. Every catalog spec must also
have a Keras twin or a float64 NumPy reference in the oracle test files.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import SPECS, catalog_names, run_cli, spec_forms


def _with_examples() -> list[str]:
    from generator.spec.loader import load_spec

    return [n for n in catalog_names() if load_spec(SPECS / f"{n}.yaml").spec.examples]


@pytest.mark.parametrize(
    ("value", "tolerance"),
    [
        (0.475, 5e-4),  # three decimals printed: half of 0.001
        (-1.1611925, 1e-5 * 1.1611925),  # float32 digits: the relative 1e-5 floor
        (6.8532745e-06, 1e-5 * 6.8532745e-06),
        (2.0, 0.05),  # "2.0": one decimal
        (1234.5, 0.05),
    ],
)
def test_published_tolerance_is_half_the_last_printed_digit(value, tolerance):
    from generator.check.tolerances import published_tolerance

    assert published_tolerance(value) == pytest.approx(tolerance, rel=1e-9)


def test_the_catalog_carries_published_values():
    assert len(_with_examples()) >= 4


@pytest.mark.parametrize("name", _with_examples())
def test_catalog_loss_reproduces_its_published_values(tmp_path, name):
    from generator.check.checks import check_examples
    from generator.spec.loader import load_spec

    item = load_spec(SPECS / f"{name}.yaml")
    results = check_examples(item, spec_forms(tmp_path, SPECS / f"{name}.yaml"))
    assert len(results) == len(item.spec.examples)
    assert all(r.ok for r in results), [r.detail for r in results]


@pytest.mark.tensorflow_only
def test_check_fails_on_a_wrong_published_value(tmp_path):
    """Through the CLI (``lossgen check`` computes with TensorFlow whatever the shell's
    backend, so this runs in the TensorFlow pass only): pinball with its published 0.475 moved to
    0.477 (beyond the half-digit tolerance of 0.0005) must fail the check."""
    text = (SPECS / "pinball.yaml").read_text(encoding="utf-8")
    assert "expected: [0.475]" in text
    spec = tmp_path / "pinball.yaml"
    spec.write_text(text.replace("expected: [0.475]", "expected: [0.477]"), encoding="utf-8")
    # --skip-reload is the older spelling of --skip reload; users' scripts still pass it.
    result = run_cli("check", "--skip-reload", "--skip", "backends", "--skip", "distribution", str(spec))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAIL  published values (example 1)" in result.stdout
    assert "not run (--skip reload)" in result.stdout
    assert "Traceback" not in result.stderr


def test_every_catalog_spec_has_an_oracle():
    """A Keras twin, or a float64 NumPy reference in one of the oracle test files (each
    ``tests/runtime/test_oracles_*.py`` and ``test_references*.py`` has a ``REFERENCES``)."""
    import importlib

    from generator.spec.loader import load_spec

    here = Path(__file__).parent
    files = sorted([*here.glob("test_oracles_*.py"), *here.glob("test_references*.py")])
    assert len(files) >= 6
    references = set()
    for path in files:
        references |= set(importlib.import_module(path.stem).REFERENCES)
    missing = [n for n in catalog_names() if load_spec(SPECS / f"{n}.yaml").spec.keras is None and n not in references]
    assert not missing, f"no Keras twin and no NumPy reference: {', '.join(missing)}"
    assert references <= set(catalog_names()), references - set(catalog_names())
