"""The package's import rules, read from the source with ``ast`` (every ``import`` statement,
at module level or inside a function), so a violation fails here before it can matter:

* the steps depend one way: ``formula`` on nothing else of the package; ``spec`` on
  ``formula``; ``codegen`` on those two; ``check`` on those three; ``site`` on all four
  (its plots use the checker's float64 evaluator); ``cli`` and ``__main__`` on anything;
* nothing but ``__main__`` imports ``cli``: the CLI page is made from the click group
  that ``lossgen build`` hands to the site step;
* only ``check`` and ``site`` import NumPy, SciPy, Keras, TensorFlow, JAX, PyTorch or matplotlib,
  so that generating code needs only the declared dependencies.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from conftest import ROOT

PACKAGE = ROOT / "generator"

MAY_IMPORT = {
    "formula": set(),
    "spec": {"formula"},
    "codegen": {"formula", "spec"},
    "check": {"formula", "spec", "codegen"},
    "site": {"formula", "spec", "codegen", "check"},
}
"""The other subpackages each subpackage may import (besides the top-level ``generator``
package and ``generator.resources``, which import nothing of the package)."""

HEAVY = {"numpy", "scipy", "keras", "tensorflow", "jax", "jaxlib", "torch", "matplotlib"}
HEAVY_ALLOWED = {"check", "site"}


def imports(path: Path, root: Path) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in a file of the package at ``root``,
    relative ones resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = ".".join(path.relative_to(root.parent).with_suffix("").parts[:-1])
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            found.append((node.lineno, base))
            # `from generator import cli` and `from generator.check import runner` name modules too
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
    return found


def subpackage(module: str) -> str | None:
    """``codegen`` for ``generator.codegen.lower``; None outside the package."""
    parts = module.split(".")
    return parts[1] if parts[0] == "generator" and len(parts) > 1 else None


def violations(root: Path = PACKAGE) -> list[str]:
    """One message per broken rule per import statement."""
    problems: dict[tuple[Path, int, str], str] = {}
    for path in sorted(root.rglob("*.py")):
        where = path.relative_to(root.parent)
        own = subpackage(".".join(where.with_suffix("").parts))
        for line, module in imports(path, root):
            top = module.split(".")[0]
            target = subpackage(module)
            if top in HEAVY and own not in HEAVY_ALLOWED:
                problems.setdefault(
                    (where, line, "heavy"), f"{where}:{line}: imports {module}; only check/ and site/ may"
                )
            if target == "cli" and own != "__main__":
                problems.setdefault((where, line, "cli"), f"{where}:{line}: imports the CLI; nothing but __main__ may")
            if own in MAY_IMPORT and target in MAY_IMPORT and target != own and target not in MAY_IMPORT[own]:
                allowed = sorted(MAY_IMPORT[own])
                problems.setdefault(
                    (where, line, "layer"), f"{where}:{line}: {own}/ imports {module}; it may import {allowed}"
                )
    return list(problems.values())


def test_the_package_keeps_its_import_rules():
    assert violations() == []


BACKEND_FREE_TESTS = ("spec", "formula", "codegen")
"""Test folders that prove the pure generator and so must run without a Keras backend."""


def test_the_pure_generators_tests_import_no_backend():
    found = []
    for folder in BACKEND_FREE_TESTS:
        for path in sorted((ROOT / "tests" / folder).glob("*.py")):
            found += [
                f"{path.relative_to(ROOT)}:{line}: {module}"
                for line, module in imports(path, ROOT / "tests")
                if module.split(".")[0] in HEAVY - {"numpy", "matplotlib"}
            ]
    assert found == []


@pytest.mark.parametrize(
    "file, line",
    [
        ("formula/tree.py", "from generator.codegen import lower"),
        ("codegen/lower.py", "import numpy as np"),
        ("spec/loader.py", "from generator.cli import cli"),
        ("codegen/render.py", "    from generator.check import samples"),
        ("check/harness.py", "from generator.site import plots"),
        ("codegen/write.py", "from ..check import harness"),
    ],
)
def test_a_broken_rule_is_caught(tmp_path, file, line):
    """The same check on a copy of the package with one rule broken."""
    import shutil

    copy = tmp_path / "generator"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    target = copy / file
    body = "def _broken():\n" + line + "\n" if line.startswith(" ") else line + "\n"
    target.write_text(target.read_text(encoding="utf-8") + "\n" + body, encoding="utf-8")
    found = [problem for problem in violations(copy) if problem.startswith(f"generator/{file}:")]
    assert len(found) == 1, found
