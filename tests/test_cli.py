"""The CLI as a user runs it. Most tests drive the click commands in this process
(conftest.run_cli); each command also runs once in a fresh process, as ``lossgen`` on a
user's shell does (the smoke test below, and ``check`` in the starter test)."""

from __future__ import annotations

import ast

import pytest
from conftest import ROOT, SKIP_FRESH, SPECS, catalog_names, run_cli


@pytest.mark.parametrize(
    "args, expected",
    [
        (("--version",), "lossgen, version"),
        (("list",), "huber"),
        (("generate", "huber", "--form", "function"), "def huber("),
        (("build", "--out", "{tmp}/out"), "built"),
        (("new", "smoke_loss", "-o", "{tmp}/smoke_loss.yaml"), "wrote"),
    ],
    ids=["version", "list", "generate", "build", "new"],
)
def test_each_command_runs_in_a_fresh_process(tmp_path, args, expected):
    """``python -m generator`` (the entry point of the ``lossgen`` script) in a new
    interpreter; ``check`` is run this way by test_new_writes_a_starter_that_passes_check."""
    result = run_cli(*(a.format(tmp=tmp_path) for a in args), fresh=True)
    assert result.returncode == 0, result.stderr
    assert expected in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def test_list_shows_every_catalog_loss_first_on_its_line():
    result = run_cli("list")
    assert result.returncode == 0, result.stderr
    names = [line.split()[0] for line in result.stdout.splitlines()]
    assert names == catalog_names()


def test_generate_by_catalog_name_and_by_path_agree():
    by_name = run_cli("generate", "huber")
    by_path = run_cli("generate", str(SPECS / "huber.yaml"))
    assert by_name.returncode == by_path.returncode == 0
    assert by_name.stdout == by_path.stdout
    tree = ast.parse(by_name.stdout)
    defined = {node.name for node in tree.body if isinstance(node, ast.FunctionDef | ast.ClassDef)}
    # The loss's three forms, and the private helpers that prepare the inputs.
    assert defined == {"huber", "make_huber", "Huber", "_fits", "_prepare_inputs"}


def test_generate_single_form_to_file(tmp_path):
    target = tmp_path / "focal.py"
    result = run_cli("generate", "binary_focal", "--form", "class", "-o", str(target))
    assert result.returncode == 0, result.stderr
    defined = {node.name for node in ast.parse(target.read_text()).body if hasattr(node, "name")}
    assert defined == {"binary_focal", "BinaryFocal", "_fits", "_prepare_inputs"}


def test_generate_unknown_spec_is_an_input_error():
    result = run_cli("generate", "no_such_loss")
    assert result.returncode == 2
    assert "no such spec file, and no catalog loss of that name" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("command", ["check", "generate"])
def test_every_mistake_of_a_spec_is_reported_in_one_run(command, tmp_path):
    """A spec with three independent mistakes (an unquoted comma in a flow-style doc, an
    unknown function, a misspelt key): all three, each at its file:line:column, exit
    status 2, and nothing written."""
    spec = ROOT / "tests" / "fixtures" / "bad" / "three_errors.yaml"
    output = tmp_path / "out" / "three_errors.py"
    result = run_cli(command, str(spec), *(("-o", str(output)) if command == "generate" else ()), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 4 and lines[3] == "3 errors; nothing was written."
    assert [line.split(": ", 2)[1] for line in lines[:3]] == [f"{spec}:{at}" for at in ("6:80", "8:9", "9:3")]
    assert "parameters.alpha.or how slow: unknown key `or how slow`" in lines[0]
    assert lines[0].endswith('put that text in quotes: doc: "How fast the weight grows, or how slow"')
    assert "formula.loss: unknown function `clamp`; did you mean `clip`?" in lines[1]
    assert "formula.reduc: unknown key `reduc` (allowed: steps, loss, reduce)" in lines[2]
    assert list(tmp_path.iterdir()) == []


def test_new_writes_a_starter_that_passes_check(tmp_path):
    result = run_cli("new", "my_loss", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    spec = tmp_path / "my_loss.yaml"
    assert spec.is_file()
    again = run_cli("new", "my_loss", cwd=tmp_path)
    assert again.returncode == 2 and "already exists" in again.stderr
    checked = run_cli("check", str(spec), cwd=tmp_path, fresh=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "0 failed" in checked.stdout
    # Every row ran: make test installs JAX and PyTorch first, so the other backends are
    # really compared (the one `check` of the suite that runs them).
    for backend in ("jax", "torch"):
        assert f"ok    same values on {backend}" in checked.stdout
        assert f"skipped: {backend} is not installed" not in checked.stdout
    for row in ("MirroredStrategy", "save and reload in a fresh process"):
        assert row in checked.stdout


def test_new_rejects_a_bad_name(tmp_path):
    result = run_cli("new", "My-Loss", cwd=tmp_path)
    assert result.returncode == 2
    assert "snake_case" in result.stderr


UNSAFE = """\
name: unsafe_log
title: Unsafe log loss
task: binary
summary: Crossentropy written without clipping, so log(0) appears at the edges.
inputs:
  y_true: {kind: binary}
  y_pred: {kind: probability}
formula:
  loss: -(y_true * log(y_pred) + (1 - y_true) * log(1 - y_pred))
"""


def test_check_fails_on_an_unsafe_log_and_names_the_input(tmp_path):
    spec = tmp_path / "unsafe_log.yaml"
    spec.write_text(UNSAFE)
    result = run_cli("check", str(spec), *SKIP_FRESH, cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    failing = [line for line in result.stdout.splitlines() if line.startswith("FAIL")]
    assert failing and all("finite" in line for line in failing)
    # The mixed-precision steps pass: Keras casts to float32 and the random data avoids 0 and 1.
    assert not any("training step" in line or "sample_weight" in line for line in failing)
    assert "value is NaN at y_pred = 0: log of zero in `log(y_pred)` (in the loss)" in result.stdout
    assert "clip its input to [epsilon(), ...] or use the logits form" in result.stdout
    assert "Traceback" not in result.stderr


def test_check_passes_a_safe_spec(tmp_path):
    """The same loss written with a clip: every check passes and the exit status is 0 (the
    rows that start new processes are proven on the starter, in the test above)."""
    spec = tmp_path / "safe_log.yaml"
    safe = UNSAFE.replace("name: unsafe_log", "name: safe_log").replace(
        "formula:\n", "formula:\n  steps:\n    p: clip(y_pred, epsilon(), 1 - epsilon())\n"
    )
    spec.write_text(safe.replace("log(y_pred)", "log(p)").replace("log(1 - y_pred)", "log(1 - p)"))
    result = run_cli("check", str(spec), *SKIP_FRESH, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "FAIL" not in result.stdout
    for check in (
        "finite at the edges",
        "float16 and bfloat16",
        "mixed_float16",
        "mixed_bfloat16",
        "sample_weight",
        "masked",
    ):
        assert check in result.stdout


def test_check_passes_a_regression_spec_with_per_example_weights(tmp_path):
    """`weighting: {rule: per_example}` on real targets (one weight per example, packed
    behind the targets) passes every check of `lossgen check` (MirroredStrategy included: the
    weights travel with their rows when the batch is split)."""
    spec = ROOT / "tests" / "fixtures" / "good" / "per_example_mse.yaml"
    result = run_cli("check", str(spec), "--skip", "backends", "--skip", "reload", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "FAIL" not in result.stdout
    assert "per-example weights are packed behind the targets" in result.stdout
