"""`lossgen build` is atomic: a build killed half-way leaves the previous output complete and unchanged.

generator/write.py stages the whole tree in a hidden sibling folder (``.OUT.lossgen-*``) and only then
swaps it in; these tests SIGKILL real ``python -m generator build`` processes at many points of their
run, including while that staging folder is being filled, and check OUT file by file afterwards.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT, SPECS, run_cli

from generator.codegen import write
from generator.codegen.write import MARKER

CHANGED = "Changed by test_atomic: the average of squared differences"
"""The new build differs from the old one only in the summary of `mse` (6 files: its page, its four
modules and index.md), so a build that got half-way through writing OUT would show a mix."""

FRACTIONS = (0.1, 0.25, 0.4, 0.55, 0.7)
"""Kills at these fractions of a whole build's run time: interpreter start-up, loading the specs, rendering
and formatting (ruff). Writing the staging folder is only the last ~15 ms of a ~0.6 s plain build, so
fixed times alone would hardly ever hit it: hence also IN_STAGING."""

IN_STAGING = (0.0, 0.002, 0.005)
"""Kills at these times (s) after the staging folder appeared: early and half-way through filling it."""

MID_WRITE_WANTED = 3
MAX_STAGING_ATTEMPTS = 12


def _tree(folder: Path) -> dict[str, str]:
    """Relative path -> sha256 of every file under ``folder``."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _staging_folders(out: Path) -> set[Path]:
    return {p for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.lossgen-")}


def _start(specs: Path, out: Path, tmp: Path) -> subprocess.Popen:
    """Start a build in a session of its own (so that a kill also ends its ruff child), with TMPDIR in
    the test's folder: a killed build never removes its ``lossgen-format-*`` folder, so keep it there."""
    return subprocess.Popen(
        [sys.executable, "-m", "generator", "build", "--specs", str(specs), "--out", str(out)],
        cwd=ROOT,
        env={**os.environ, "TMPDIR": str(tmp)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def _kill(proc: subprocess.Popen) -> int:
    """SIGKILL the build (and its process group) unless it has ended; its exit status."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    return proc.wait(timeout=30)


def _wait_for_staging(proc: subprocess.Popen, out: Path, known: set[Path], timeout: float = 60.0) -> bool:
    """Poll (every 0.2 ms) until a new staging folder appears (True) or the build ends (False)."""
    prefix = f".{out.name}.lossgen-"
    known_names = {p.name for p in known}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with os.scandir(out.parent) as entries:
            if any(e.name.startswith(prefix) and e.name not in known_names for e in entries):
                return True
        if proc.poll() is not None:
            return False
        time.sleep(0.0002)
    _kill(proc)
    pytest.fail(f"no staging folder within {timeout} s")


def test_killed_build_leaves_previous_output_complete_and_unchanged(tmp_path):
    old_specs = SPECS
    new_specs = tmp_path / "specs"
    shutil.copytree(SPECS, new_specs)
    mse = new_specs / "mse.yaml"
    text = mse.read_text(encoding="utf-8")
    assert "The average of squared differences" in text
    mse.write_text(text.replace("The average of squared differences", CHANGED), encoding="utf-8")

    # What a completed new build writes, built elsewhere, to tell "old", "new" and "a mix" apart.
    reference = tmp_path / "reference"
    result = run_cli("build", "--specs", str(new_specs), "--out", str(reference))
    assert result.returncode == 0, result.stderr
    new = _tree(reference)

    out = tmp_path / "out"
    tmp = tmp_path / "tmp"
    tmp.mkdir()

    def build_old(fresh: bool = False) -> dict[str, str]:
        result = run_cli("build", "--specs", str(old_specs), "--out", str(out), fresh=fresh)
        assert result.returncode == 0, result.stderr
        return _tree(out)

    # Timed in a fresh process, like the builds that are killed below, so that the kill
    # fractions fall across the same start-up, render and write.
    start = time.monotonic()
    old = build_old(fresh=True)
    duration = time.monotonic() - start
    assert MARKER in old and len(old) > 300
    changed = sorted(rel for rel in old if old[rel] != new.get(rel))
    assert "mse.md" in changed and "index.md" in changed, changed
    assert set(old) == set(new)

    outcomes: list[str] = []
    mid_write = 0

    def check_after_kill(proc: subprocess.Popen, known: set[Path], label: str) -> None:
        """OUT is exactly the old output (or, if the kill came after the swap, exactly the new one)."""
        nonlocal mid_write
        code = _kill(proc)
        after = _tree(out)
        if after not in (old, new):
            # Never a mix, never a missing or partial file: anything else than the old tree must be
            # the complete new one (the kill landed after the atomic swap: the build had committed).
            missing = sorted(set(old) - set(after))
            extra = sorted(set(after) - set(old))
            differs = sorted(rel for rel in set(old) & set(after) if old[rel] != after[rel])
            pytest.fail(
                f"{label}: OUT is neither the old nor the new output: {len(missing)} files missing "
                f"{missing[:5]}, {len(extra)} extra {extra[:5]}, {len(differs)} differ from the old ones "
                f"{differs[:5]}; {len(after)} files in OUT, {len(old)} expected"
            )
        leftovers = _staging_folders(out) - known
        # A SIGKILL skips write_tree's clean-up, so a kill during the write leaves its staging folder
        # behind (hidden, next to OUT). Later builds neither use nor remove such leftovers: they are
        # harmless debris, accepted here; the final build below runs with all of them still present.
        partial = [p for p in leftovers if not (p / MARKER).exists() and 0 < len(_tree(p)) < len(new)]
        if after == old and partial:
            mid_write += 1  # killed while filling the staging folder, before the swap
            outcomes.append(f"{label}: old (mid-write, {len(_tree(partial[0]))}/{len(new)} files staged)")
        else:
            staged = ", ".join(f"{len(_tree(p))} files staged" for p in leftovers) or "no staging folder left"
            outcomes.append(f"{label}: {'old' if after == old else 'new'} (exit {code}, {staged})")
        known.update(leftovers)
        if after == new:
            assert build_old() == old  # start the next kill from the old output again

    known: set[Path] = set()
    for fraction in FRACTIONS:
        proc = _start(new_specs, out, tmp)
        time.sleep(fraction * duration)
        check_after_kill(proc, known, f"kill at {fraction * duration:.2f} s")

    attempts = 0
    while mid_write < MID_WRITE_WANTED and attempts < MAX_STAGING_ATTEMPTS:
        offset = IN_STAGING[attempts % len(IN_STAGING)]
        attempts += 1
        proc = _start(new_specs, out, tmp)
        if _wait_for_staging(proc, out, known):
            time.sleep(offset)
            check_after_kill(proc, known, f"kill {offset} s into staging")
        else:
            check_after_kill(proc, known, "build ended before its staging folder was seen")

    assert mid_write >= 1, "no kill landed while the staging folder was being written:\n" + "\n".join(outcomes)
    print("\n".join(outcomes))

    # A build after all those kills still works, with the leftover staging folders still around.
    result = run_cli("build", "--specs", str(new_specs), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert _tree(out) == new
    assert CHANGED in (out / "mse.md").read_text(encoding="utf-8")
    assert _staging_folders(out) == known


def test_error_while_writing_leaves_previous_output_untouched(tmp_path, monkeypatch):
    """An exception half-way through writing (a full disk, say) leaves OUT as it was and cleans up.

    Errors in the specs themselves stop the build before anything is written: see test_spec_errors.py."""
    out = tmp_path / "out"
    write.write_tree({"a.md": "old a\n", "code/b.py": "old = 1\n"}, out)
    before = _tree(out)
    real_write_text = Path.write_text
    written: list[Path] = []

    def failing_write_text(self: Path, *args, **kwargs):
        if len(written) == 2:
            raise OSError(28, "No space left on device")
        written.append(self)
        return real_write_text(self, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", failing_write_text)
    with pytest.raises(OSError, match="No space left"):
        write.write_tree({"a.md": "new a\n", "code/b.py": "new = 1\n", "c.md": "new c\n"}, out)
    monkeypatch.undo()
    assert len(written) == 2
    assert _tree(out) == before
    assert _staging_folders(out) == set()
