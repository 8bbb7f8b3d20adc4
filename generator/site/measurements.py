"""What ``make bench`` measured (``benchmarks/results.json``), as the pages show it: the
peak memory of each batch-level loss at batch 4096. Read by ``lossgen build
--measurements`` for the reference pages and by ``tools/performance_page.py`` for the
performance page, so both say the same."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class MemoryFigure:
    name: str
    batch: int
    shape: str  # the inputs, "4096 × 128"
    fits: bool
    figure: str  # "350 MiB", or "does not fit in 12 GiB"
    detail: str  # why it does not fit (the allocator's message), or ""


def read_results(path: Path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def memory_figures(results: dict) -> dict[str, MemoryFigure]:
    """``{loss: figure}`` for every loss whose memory the benchmark measured."""
    out = {}
    for name, found in sorted(((results.get("peers") or {}).get("memory") or {}).items()):
        shape = " × ".join(str(n) for n in found.get("shape", []))
        batch = int(found.get("batch", 0))
        if "peak_mib" in found:
            mib = found["peak_mib"]
            figure = f"{mib / 1024:.2f} GiB" if mib >= 1024 else f"{mib:,.0f} MiB"
            out[name] = MemoryFigure(name, batch, shape, True, figure, "")
        else:
            limit = f"does not fit in {found.get('limit_gib', 16):g} GiB"
            out[name] = MemoryFigure(name, batch, shape, False, limit, " ".join(found.get("error", "").split())[:160])
    return out
