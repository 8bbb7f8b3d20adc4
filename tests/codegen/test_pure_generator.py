"""The generator needs only the package's declared dependencies (issue 12, point 7).

`lossgen list`, `generate`, `build` (without --plots) and `new` run in a fresh virtual
environment that holds nothing but the distributions that `pip install .` would bring:
the `[project] dependencies` of pyproject.toml and, recursively, their own requirements.
No NumPy, Keras, TensorFlow or matplotlib; the environment proves it by failing
`import numpy`. What the commands write there must equal what the dev environment's
generator produces.

How the environment is built, and why this way:

- `python -m venv --without-pip`: an interpreter with an empty site-packages (no system
  site-packages, no user site). Nothing is installed with pip, so pip is left out.
- Each distribution of the closure (the declared requirements, then each one's
  `importlib.metadata` requirements, skipping extras and requirements whose environment
  markers do not hold here) is copied from the dev environment file by file, as its RECORD
  lists them (`importlib.metadata` `files`: the package, its `.dist-info`, and scripts such
  as `bin/ruff`, which the formatter runs), to the same place relative to site-packages.
  No network, no build backend, no wheel cache, about a second: robust on CI and offline,
  and it tests the exact versions the rest of the suite uses. Whatever else a developer
  installed into .venv by hand is never copied; a declared dependency missing from .venv,
  or installed at a version the declaration excludes, fails the test with its name.
- The project: `site-packages/generator` is a symlink to the checkout's `generator/` (the
  wheel's only package; its templates and catalog are then found next to it in the
  checkout), and `bin/lossgen` is the launcher of the `[project.scripts]` entry point, as
  pip writes it. Building the real wheel would need hatchling, the pinned build backend,
  which .venv does not have: pip's build isolation would fetch it from PyPI, which costs
  network and seconds and tests packaging, not imports.

The commands run as a user runs them (`<venv>/bin/lossgen ...`) with PYTHONPATH and
friends removed from the environment, so nothing from the dev environment leaks in.
"""

from __future__ import annotations

import importlib.metadata as metadata
import json
import os
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import ROOT, SPECS, catalog_names
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from generator.cli import cli
from generator.codegen import pipeline, starter
from generator.codegen.write import MARKER
from generator.site.build import generate_files
from generator.spec.loader import load_directory

pytestmark = pytest.mark.xdist_group("pure_generator")

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))

LEAKY = ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONUSERBASE", "PYTHONSAFEPATH", "VIRTUAL_ENV")
"""Environment variables that could put the dev environment on the new one's path."""


def declared_closure() -> dict[str, metadata.Distribution]:
    """The distributions `pip install .` brings, by canonical name, found installed in the
    dev environment: the declared dependencies and, recursively, theirs (no extras; only
    requirements whose markers hold on this interpreter)."""
    found: dict[str, metadata.Distribution] = {}
    pending = [Requirement(text) for text in PYPROJECT["project"]["dependencies"]]
    while pending:
        requirement = pending.pop()
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
            continue
        name = canonicalize_name(requirement.name)
        if name in found:
            continue
        try:
            dist = metadata.distribution(requirement.name)
        except metadata.PackageNotFoundError:
            pytest.fail(f"{requirement.name} (required: {requirement}) is not installed in the dev environment")
        assert requirement.specifier.contains(dist.version, prereleases=True), (
            f"the dev environment has {dist.metadata['Name']} {dist.version}, outside the requirement {requirement}"
        )
        found[name] = dist
        pending += [Requirement(text) for text in dist.requires or []]
    return found


def copy_distribution(dist: metadata.Distribution, site_packages: Path) -> None:
    """Copy every file the distribution installed (its RECORD), to the same place relative
    to the new site-packages; modification times kept, so the copied bytecode stays valid."""
    base = Path(dist.locate_file(""))
    assert dist.files, f"{dist.metadata['Name']} lists no installed files (no RECORD)"
    for entry in dist.files:
        source = base / entry
        if not source.is_file():  # RECORD may list bytecode that was never written
            continue
        target = Path(os.path.normpath(site_packages / entry))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)


@dataclass(frozen=True)
class PureEnv:
    root: Path
    python: Path
    lossgen: Path
    distributions: frozenset[str]

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in LEAKY}
        env["PATH"] = os.pathsep.join([str(self.python.parent), env.get("PATH", "")])
        return env

    def run(self, *args: str, cwd: Path) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(a) for a in args], cwd=cwd, env=self.env(), capture_output=True, text=True, timeout=120, check=False
        )


# Session scope, not module: under --dist loadgroup a worker interleaves other modules' tests
# with this group's, and each interleaving tore a module fixture down and built it again
# (the reload probe ran twice, 110 s each).
@pytest.fixture(scope="session")
def pure(tmp_path_factory) -> PureEnv:
    root = tmp_path_factory.mktemp("pure") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True, capture_output=True)
    python = root / "bin" / "python"
    site_packages = Path(
        subprocess.run(
            [str(python), "-I", "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    closure = declared_closure()
    for dist in closure.values():
        copy_distribution(dist, site_packages)
    (site_packages / "generator").symlink_to(ROOT / "generator", target_is_directory=True)
    [(script, entry)] = PYPROJECT["project"]["scripts"].items()
    module, function = entry.split(":")
    launcher = root / "bin" / script
    launcher.write_text(
        f"#!{python}\nimport sys\nfrom {module} import {function}\nsys.exit({function}())\n", encoding="utf-8"
    )
    launcher.chmod(0o755)
    return PureEnv(root, python, launcher, frozenset(closure))


def test_the_environment_holds_only_the_declared_dependencies(pure, tmp_path):
    probe = (
        "import importlib.metadata as m, json, sys\n"
        "print(json.dumps(sorted(d.metadata['Name'] for d in m.distributions())))\n"
        "try:\n"
        "    import numpy\n"
        "except ModuleNotFoundError:\n"
        "    print('no numpy')\n"
        "else:\n"
        "    sys.exit('numpy is importable from ' + numpy.__file__)\n"
    )
    result = pure.run(pure.python, "-I", "-c", probe, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    names, verdict = result.stdout.splitlines()
    installed = {canonicalize_name(n) for n in json.loads(names)}
    assert installed == pure.distributions
    assert {"numpy", "keras", "tensorflow", "matplotlib"}.isdisjoint(installed)
    assert verdict == "no numpy"


def test_list(pure, tmp_path):
    result = pure.run(pure.lossgen, "list", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert [line.split()[0] for line in result.stdout.splitlines()] == catalog_names()


def test_generate_writes_what_the_dev_generator_writes(pure, tmp_path):
    target = tmp_path / "focal.py"
    result = pure.run(pure.lossgen, "generate", "binary_focal", "-o", target, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert target.is_file()
    expected = pipeline.generate(pipeline.resolve("binary_focal"))
    assert target.read_text(encoding="utf-8") == expected


def test_build_writes_what_the_dev_generator_writes(pure, tmp_path):
    out = tmp_path / "out"
    result = pure.run(pure.lossgen, "build", "--out", out, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    written = {
        str(p.relative_to(out)): p.read_text(encoding="utf-8")
        for p in sorted(out.rglob("*"))
        if p.is_file() and p.name != MARKER
    }
    expected = generate_files(load_directory(SPECS), cli=cli)
    assert sorted(written) == sorted(expected)
    different = [path for path, text in expected.items() if written[path] != text]
    assert not different, f"differs from the dev environment's build: {different[:5]}"
    assert (out / "code" / "binary_focal.py").is_file() and (out / "index.md").is_file()


def test_new(pure, tmp_path):
    result = pure.run(pure.lossgen, "new", "my_loss", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    spec = tmp_path / "my_loss.yaml"
    assert spec.is_file()
    assert spec.read_text(encoding="utf-8") == starter.starter_spec("my_loss")
