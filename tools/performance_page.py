"""Write the site's performance page from the committed benchmark results.

`python tools/performance_page.py` (run by `make generate`) reads
``benchmarks/results.json``, which ``make bench`` writes, and ``benchmarks/notes.yaml``,
where a person explains what the numbers cannot: why a loss is over its limit, and what
was changed to make the generated code fast. It writes ``docs/performance.md`` and its
plot, in the light and the dark palette, into ``docs/performance/``. Nothing is timed here.

The page refuses to build, with a message and exit status 1, when the results are stale
(a catalog loss with a Keras twin has no timing, or a timed loss has left the catalog) or
when a ratio over its limit has no explanation.
"""

from __future__ import annotations

import json
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

import jinja2
from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from generator.codegen.write import write_file  # noqa: E402
from generator.site.measurements import memory_figures  # noqa: E402
from generator.site.plots import PALETTES, style, to_svg  # noqa: E402
from generator.spec.loader import load_directory  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results.json"
NOTES = ROOT / "benchmarks" / "notes.yaml"
OUT = ROOT / "docs"
LIMITS = {"eager": 1.10, "compiled": 1.05}
"""The largest median ratio generated / built-in each kind of mode may have."""
MODES = {
    "eager forward": "Eager, value",
    "eager value+grad": "Eager, value and gradient",
    "compiled forward": "Compiled, value",
    "compiled value+grad": "Compiled, value and gradient",
}
MARKERS = ("o", "s", "^", "D")
PEER_MODES = ("PyTorch", "TensorFlow eager", "TensorFlow XLA")
"""The modes of the peer table: lossgen on the PyTorch backend, and on TensorFlow eagerly
and compiled with XLA, each against the peer (PyTorch peers run eagerly in every mode;
Keras peers run in the same mode as lossgen)."""
PEER_LIMIT = 1.10


class PageError(Exception):
    """The results cannot be published as they are."""


@dataclass(frozen=True)
class Cell:
    ratio: float
    generated_ms: float
    builtin_ms: float
    limit: float

    @property
    def over(self) -> bool:
        return self.ratio > self.limit


@dataclass(frozen=True)
class Row:
    name: str
    builtin: str
    shape: str
    scenario: str
    cells: tuple[Cell, ...]  # in MODES order


def twin_names() -> list[str]:
    """The catalog losses that have a Keras twin."""
    return [item.name for item in load_directory(ROOT / "specs") if item.spec.keras is not None]


def rows(results: dict, twins: list[str]) -> list[Row]:
    timed = set(results["losses"])
    if missing := sorted(set(twins) - timed):
        raise PageError(f"no timings for {', '.join(missing)}: run `make bench` (or tools/bench.py --losses ...)")
    if extra := sorted(timed - set(twins)):
        raise PageError(f"timings for losses without a Keras twin in the catalog: {', '.join(extra)}")
    out = []
    for name in twins:
        entry = results["losses"][name]
        cells = []
        for mode in MODES:
            timing = entry["modes"][mode]
            limit = LIMITS[mode.split()[0]]
            cells.append(Cell(timing["ratio"], timing["generated_ms"], timing["builtin_ms"], limit))
        shape = " × ".join(str(n) for n in entry["shape"])
        out.append(Row(name, entry["builtin"], shape, entry["scenario"], tuple(cells)))
    return out


def exceptions(table: list[Row], notes: dict) -> list[dict]:
    """Each loss with a ratio over its limit, with its explanation; an error if it has none."""
    explained = notes.get("exceptions") or {}
    out = []
    for row in table:
        over = [(mode, cell) for mode, cell in zip(MODES, row.cells, strict=True) if cell.over]
        if not over:
            continue
        what = ", ".join(f"{MODES[mode].lower()} {cell.ratio:.2f} (limit {cell.limit:.2f})" for mode, cell in over)
        if row.name not in explained:
            raise PageError(f"{row.name}: {what}, and {NOTES.name} has no explanation under exceptions.{row.name}")
        out.append({"name": row.name, "what": what, "why": " ".join(str(explained[row.name]).split())})
    return out


@dataclass(frozen=True)
class PeerRow:
    name: str
    call: str
    scenario: str
    cells: tuple[str, ...]  # in PEER_MODES order, as Markdown
    over: tuple[str, ...]  # the modes over PEER_LIMIT


def peer_rows(results: dict) -> list[PeerRow]:
    """One row per loss and peer: the median ratio lossgen / peer per mode, its quartiles."""
    calls = {item.name: [peer.call for peer in item.spec.peers] for item in load_directory(ROOT / "specs")}
    out = []
    for entry in (results.get("peers") or {}).get("peers", {}).values():
        if "error" in entry and not entry.get("modes"):
            cells = tuple(f"<small>failed: {_escape(entry['error'][:110])}</small>" for _ in PEER_MODES)
            call = entry.get("peer") or calls[entry["loss"]][entry["index"]]
            out.append(PeerRow(entry["loss"], call, "", cells, ()))
            continue
        cells, over = [], []
        for mode in PEER_MODES:
            timing = entry["modes"].get(mode)
            if timing is None:
                cells.append("")
            elif "error" in timing:
                cells.append(f"<small>{_escape(timing['error'][:80])}</small>")
            else:
                ratio = f"{timing['ratio']:.2f}"
                if timing["ratio"] > PEER_LIMIT:
                    ratio, _ = f"**{ratio}**", over.append(mode)
                quartiles = f"{timing['ratio_q1']:.2f}–{timing['ratio_q3']:.2f}"
                times = f"{timing['generated_ms']:.3g} / {timing['builtin_ms']:.3g} ms"
                cells.append(f"{ratio}<br><small>{quartiles}; {times}</small>")
        out.append(PeerRow(entry["loss"], entry.get("peer", "?"), entry.get("scenario", ""), tuple(cells), tuple(over)))
    return out


def memory_rows(results: dict) -> list[dict]:
    rows_ = []
    for name, found in memory_figures(results).items():
        figure = found.figure if found.fits else f"{found.figure}: {_escape(found.detail[:120])}"
        rows_.append({"name": name, "shape": found.shape, "figure": figure})
    return rows_


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def plot(table: list[Row], palette: str) -> str:
    """Every ratio, one row per loss and one marker per mode, with the two limits."""
    from matplotlib import pyplot as plt

    colors = style(palette)
    fig, axis = plt.subplots(figsize=(8, 0.26 * len(table) + 1.5), layout="constrained")
    positions = range(len(table))
    for i, mode in enumerate(MODES):
        ratios = [row.cells[i].ratio for row in table]
        color = colors["lines"][i % len(colors["lines"])]
        axis.scatter(ratios, positions, marker=MARKERS[i], s=22, color=color, label=MODES[mode], zorder=3)
    axis.axvline(1.0, color=colors["ink"], linewidth=0.8)
    for kind, limit in LIMITS.items():
        axis.axvline(limit, color=colors["grid"], linewidth=1.2, linestyle="--")
        axis.text(
            limit, 1.0, f"{kind}\nlimit", transform=axis.get_xaxis_transform(), fontsize=7, ha="center", va="bottom"
        )
    axis.set_yticks(list(positions), [row.name for row in table])
    axis.invert_yaxis()
    axis.set_xlabel("time of the generated loss / time of the Keras built-in (median)")
    axis.grid(axis="x", color=colors["grid"], linewidth=0.6)
    axis.set_facecolor("none")
    for side in ("top", "right"):
        axis.spines[side].set_visible(False)
    fig.legend(frameon=False, loc="outside lower center", ncols=len(MODES), fontsize=7)
    return to_svg(fig)


def _minutes(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s" if minutes else f"{rest} s"


def page(results: dict, notes: dict, table: list[Row]) -> str:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(Path(__file__).parent)),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    ratios = {mode: [row.cells[i].ratio for row in table] for i, mode in enumerate(MODES)}
    return environment.get_template("performance.md.jinja").render(
        results=results,
        table=table,
        modes=MODES,
        limits=LIMITS,
        medians={mode: statistics.median(values) for mode, values in ratios.items()},
        worst={mode: max(values) for mode, values in ratios.items()},
        configured=[f"`{row.builtin}`" for row in table if not row.builtin.endswith("()")],
        within=sum(not any(cell.over for cell in row.cells) for row in table),
        exceptions=exceptions(table, notes),
        changes=str(notes.get("changes") or "").strip(),
        build_notes=str(notes.get("build") or "").strip(),
        suite_time=_minutes(results["suite"]["seconds"]) if results.get("suite") else "(not measured)",
        peer_modes=PEER_MODES,
        peer_limit=PEER_LIMIT,
        peer_table=peer_rows(results),
        peer_rounds=(results.get("peers") or {}).get("rounds"),
        peer_notes=str(notes.get("peers") or "").strip(),
        memory=memory_rows(results),
    )


def files(results: dict, notes: dict, twins: list[str]) -> dict[str, str]:
    """``{path under docs/: text}`` of the page and its plots."""
    table = rows(results, twins)
    out = {"performance.md": page(results, notes, table)}
    for palette in PALETTES:
        out[f"performance/ratios-{palette}.svg"] = plot(table, palette)
    return out


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--notes", type=Path, default=NOTES)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    try:
        results = json.loads(args.results.read_text(encoding="utf-8"))
        notes = YAML(typ="safe").load(args.notes.read_text(encoding="utf-8")) or {}
        written = files(results, notes, twin_names())
    except KeyError as exc:
        sys.stderr.write(f"error: performance page: {args.results}: no field {exc}; run `make bench`\n")
        return 1
    except (OSError, ValueError, PageError) as exc:
        sys.stderr.write(f"error: performance page: {exc}\n")
        return 1
    for name, text in written.items():
        write_file(args.out / name, text)
    print(f"wrote {len(written)} files into {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
