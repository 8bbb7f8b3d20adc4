"""Format generated text: ruff for Python, whitespace normalising for everything.

Output is deterministic: LF line ends, no trailing spaces, exactly one final newline.
ruff runs once per batch with ``--isolated``, so a user's own ruff settings never change
what lossgen writes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

LINE_LENGTH = 88


class FormatError(RuntimeError):
    """ruff could not format generated code: a bug in lossgen, not in the spec."""


def ruff_binary() -> str:
    try:
        from ruff.__main__ import find_ruff_bin

        return os.fsdecode(find_ruff_bin())
    except (ImportError, FileNotFoundError):
        found = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
        return found


def normalise(text: str) -> str:
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines) + "\n"


def format_files(files: dict[str, str]) -> dict[str, str]:
    """Return the same mapping with every ``.py`` file ruff-formatted and all text normalised."""
    out = {path: normalise(text) for path, text in files.items()}
    python = sorted(p for p in out if p.endswith(".py"))
    if not python:
        return out
    with tempfile.TemporaryDirectory(prefix="lossgen-format-") as tmp:
        root = Path(tmp)
        for rel in python:
            target = root / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(out[rel], encoding="utf-8", newline="\n")
        command = [ruff_binary(), "format", "--isolated", "--quiet", f"--line-length={LINE_LENGTH}", "."]
        result = subprocess.run(command, cwd=root, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise FormatError(f"ruff format failed on generated code:\n{result.stderr or result.stdout}")
        for rel in python:
            out[rel] = normalise((root / rel).read_text(encoding="utf-8"))
    return out
