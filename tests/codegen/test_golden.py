"""Committed golden outputs for a few specs; `make golden` rewrites them after an intended change."""

from __future__ import annotations

import difflib

import pytest
from conftest import ROOT, SPECS

from generator.codegen import lower
from generator.codegen.formatting import format_files
from generator.site import pages
from generator.spec.loader import load_spec

GOLDEN = ROOT / "tests" / "golden"
SPECS_WITH_GOLDENS = [
    "binary_focal",  # logits flag, bounded parameters
    "amplitude_weighted_mse",  # the value weighting rule
    "misclassification_weighted_crossentropy",  # confusion table parameter
    "example_weighted_crossentropy",  # per-example tables and the pack helper
]


@pytest.mark.parametrize("name", SPECS_WITH_GOLDENS)
def test_generated_output_matches_golden(name, update_goldens):
    files = format_files(pages.loss_files(lower.loss_view(load_spec(SPECS / f"{name}.yaml"))))
    folder = GOLDEN / name
    if update_goldens:
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.rglob("*"):
            if old.is_file():
                old.unlink()
    problems = []
    for rel, text in sorted(files.items()):
        path = folder / rel.replace("/", "__")
        if update_goldens:
            path.write_text(text, encoding="utf-8", newline="\n")
            continue
        if not path.is_file():
            problems.append(f"missing golden {path.relative_to(ROOT)} (run `make golden`)")
            continue
        expected = path.read_text(encoding="utf-8")
        if expected != text:
            diff = difflib.unified_diff(
                expected.splitlines(keepends=True), text.splitlines(keepends=True), f"golden/{rel}", f"generated/{rel}"
            )
            problems.append("".join(diff))
    assert not problems, "\n".join(problems) + "\nIf the change is intended, run `make golden`."
