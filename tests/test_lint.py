"""The project's own code stays ruff-clean and formatted (settings in pyproject.toml)."""

from __future__ import annotations

import subprocess

from conftest import ROOT

from generator.codegen.formatting import ruff_binary


def test_project_code_is_ruff_clean_and_formatted():
    for command in (["check", "generator", "tests", "tools"], ["format", "--check", "generator", "tests", "tools"]):
        result = subprocess.run([ruff_binary(), *command], cwd=ROOT, capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr
