"""Spec errors: what went wrong, where (file, line, column) and in which field."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class SpecError:
    """One problem in one spec file."""

    path: Path
    line: int | None
    column: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = str(self.path)
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        field = f" {_one_line(self.field)}:" if self.field else ""
        return f"{where}:{field} {_one_line(self.message)}"


def _one_line(text: str) -> str:
    """``text`` with line breaks and other control characters escaped (``\\n``), so that
    every error stays on its own line even when it quotes a name such as ``"loss\\n"``."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


class SpecErrors(Exception):
    """Raised with every error found; the CLI prints them and exits with status 2."""

    def __init__(self, errors: list[SpecError]):
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = errors


def field_path(loc: tuple) -> str:
    """Render a location tuple as a dotted field path: ``formula.steps.p``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out
