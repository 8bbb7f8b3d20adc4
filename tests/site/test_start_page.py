"""The start page as a new user follows it, in fresh virtual environments: its install
command, then its five-line example with the module downloaded from the Huber page; and
the lossgen command installed from this checkout, generating a loss of the user's own
without Keras installed.

The environments are made by uv, as `make` makes the project's, which installs from its
cache; the install lines are the page's own, constrained to the versions the project pins
(requirements.lock), so that the test is reproducible and a new release elsewhere cannot
make it fail or slow."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("start_page")]

UV = Path(sys.executable).with_name("uv")
PAGE = ROOT / "docs" / "get-started.md"


def _fences(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", PAGE.read_text(encoding="utf-8"), re.S | re.M)


def _install_lines() -> list[list[str]]:
    """The page's ``pip install`` commands, as argument lists without comments."""
    lines = []
    for block in _fences("bash"):
        for line in block.splitlines():
            words = shlex.split(line.split("#")[0])
            if "install" in words:
                lines.append(words[words.index("install") + 1 :])
    return lines


def _venv(path: Path, packages: list[str], cwd: Path) -> Path:
    """A fresh environment at ``path`` with ``pip install PACKAGES`` done by uv (run in
    ``cwd``, where a package may be ``.``), pinned to the project's versions."""
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    subprocess.run([str(UV), "venv", "--quiet", "--python", sys.executable, str(path)], check=True, env=env)
    python = path / "bin" / "python"
    command = [str(UV), "pip", "install", "--quiet", "--python", str(python), "-c", str(ROOT / "requirements.lock")]
    links = subprocess.run(
        [sys.executable, "-m", "pip", "config", "get", "global.find-links"], capture_output=True, text=True
    )
    for folder in links.stdout.split():
        command += ["--find-links", folder]
    subprocess.run([*command, *packages], check=True, cwd=cwd, env=env, capture_output=True)
    return python


def test_the_five_line_example_runs_in_a_fresh_environment_with_only_the_page_install(tmp_path):
    (keras_line,) = [words for words in _install_lines() if "keras" in words]
    assert keras_line == ["keras", "tensorflow-cpu"]
    python = _venv(tmp_path / "env", keras_line, tmp_path)
    (example,) = _fences("python")
    assert "from huber_class import Huber" in example
    work = tmp_path / "work"
    work.mkdir()
    downloaded = ROOT / "site" / "reference" / "code" / "huber_class.py"  # the page's download link
    (work / "huber_class.py").write_text(downloaded.read_text(encoding="utf-8"), encoding="utf-8")
    script = example + "\nprint(type(restored.loss).__name__, restored.loss.get_config()['delta'])\n"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "KERAS_BACKEND")}
    done = subprocess.run([str(python), "-c", script], cwd=work, capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split()[-2:] == ["Huber", "1.0"]
    assert (work / "model.keras").is_file()
    # Only what the page installed: no lossgen, and the module is the downloaded file.
    missing = subprocess.run([str(python), "-c", "import generator"], cwd=work, capture_output=True)
    assert missing.returncode != 0


def test_the_lossgen_command_installs_from_the_checkout_and_generates_without_keras(tmp_path):
    (plain, *_) = [words for words in _install_lines() if words[-1] == "."]
    assert plain == ["."]
    python = _venv(tmp_path / "env", ["."], ROOT)
    lossgen = python.with_name("lossgen")
    for args in (["new", "my_loss"], ["check", "--help"], ["generate", "my_loss.yaml", "-o", "my_loss.py"]):
        done = subprocess.run([str(lossgen), *args], cwd=tmp_path, capture_output=True, text=True)
        assert done.returncode == 0, (args, done.stderr[-2000:])
    assert "def my_loss(" in (tmp_path / "my_loss.py").read_text(encoding="utf-8")
    no_keras = subprocess.run([str(python), "-c", "import keras"], capture_output=True)
    assert no_keras.returncode != 0  # generating needed none of Keras, as the page says
