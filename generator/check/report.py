"""The table ``lossgen check`` prints: a row per check (:class:`Result`), the report, and
exceptions and dead processes turned into one plain line."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

FRESH_PROCESS_CHECKS = {
    "backends": "same values on other backends",
    "distribution": "MirroredStrategy over 2 devices equals 1 device",
    "reload": "save and reload in a fresh process",
}
"""The checks that start new Python processes (the slow ones), by the name
``lossgen check --skip NAME`` takes, with the title of their row."""


@dataclass
class Result:
    check: str
    ok: bool
    detail: str
    skipped: bool = False


@dataclass
class Report:
    spec: str
    results: list[Result] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)

    def table(self) -> str:
        width = max(len(r.check) for r in self.results)
        lines = [f"lossgen check {self.spec}", ""]
        for r in self.results:
            status = "skip" if r.skipped else "ok  " if r.ok else "FAIL"
            lines.append(f"{status}  {r.check:<{width}}  {r.detail}")
        failed = sum(not r.ok for r in self.results)
        skipped = sum(r.skipped for r in self.results)
        passed = len(self.results) - failed - skipped
        lines += ["", f"{passed} passed, " + (f"{skipped} skipped, " if skipped else "") + f"{failed} failed"]
        return "\n".join(lines)


DETAIL_LIMIT = 300
"""Longest message quoted from an exception, in characters."""


def one_line(text: str) -> str:
    """The first non-empty line of ``text``, without the module path of an exception's
    type, TensorFlow's ``{{function_node ...}}`` prefixes and trailing ``name:``, cut to
    ``DETAIL_LIMIT`` characters."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    line = re.sub(r"^(?:[A-Za-z_]\w*\.)+(?=\w+: )", "", lines[0] if lines else "")
    line = re.sub(r"\{\{function_node [^}]*\}\}\s*", "", line)
    line = re.sub(r"\s*name:\s*$", "", line)
    return line if len(line) <= DETAIL_LIMIT else line[: DETAIL_LIMIT - 3] + "..."


def error_line(exc: BaseException) -> str:
    """An exception as one line: its type and the first line of its message."""
    message = one_line(str(exc))
    if message.endswith(".") and not message.endswith(".."):
        message = message[:-1]  # the row goes on after it
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def died_of(stderr: str) -> str:
    """The exception a Python process died of, as one line, from its stderr (or a
    formatted traceback): the first unindented line after the last ``Traceback``
    header, else the last line."""
    lines = stderr.strip().splitlines()
    headers = [i for i, line in enumerate(lines) if line.startswith("Traceback (most recent call last)")]
    after = lines[headers[-1] + 1 :] if headers else []
    found = next((line for line in after if line.strip() and not line[0].isspace()), None)
    return one_line(found or (lines[-1] if lines else "no output"))
