"""Where the bundled templates and spec catalog are, in a checkout or an installed wheel."""

from __future__ import annotations

from pathlib import Path

_HERE = Path(__file__).resolve().parent


def _find(name: str) -> Path:
    for candidate in (_HERE / "_data" / name, _HERE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"lossgen's {name}/ folder is missing from the installation")


def templates_dir() -> Path:
    return _find("templates")


def specs_dir() -> Path:
    """The bundled catalog of specs."""
    return _find("specs")
