"""``lossgen build``: every spec of a folder rendered into a reference tree (modules under
``code/``, one page per loss, the catalog, plot gallery, vocabulary and command-line pages,
and with ``plots`` the SVG plots), formatted, then written atomically in place of the old tree."""

from __future__ import annotations

from pathlib import Path

import click

from generator.codegen import formatting, lower, write
from generator.site import pages
from generator.site.measurements import memory_figures, read_results
from generator.spec.loader import LoadedSpec, load_directory


def generate_files(
    items: list[LoadedSpec],
    plots: bool = False,
    cli: click.Group | None = None,
    workers: int = 1,
    measurements: Path | None = None,
) -> dict[str, str]:
    """Every output file of a build, formatted, in memory. With ``plots``, the SVG plots too
    (slower: matplotlib), drawn by ``workers`` processes, and each page's worked example
    (NumPy). ``cli`` is the click group the command-line page documents. ``measurements``
    is a ``make bench`` results file whose memory figures the pages say."""
    views = [lower.loss_view(item, plots) for item in items]
    examples, drawn, analysed = {}, {}, []
    if plots:  # NumPy and matplotlib: a build without them needs only the generator
        from generator.site.examples import worked_example
        from generator.site.plots import plot_files

        examples = {item.name: worked_example(item) for item in items}
        drawn, analysed = plot_files(items, workers)
    memory = memory_figures(read_results(measurements)) if measurements else {}
    files = pages.catalog_files(views, pages.catalog_view(items), pages.tool_view(cli), examples, analysed, memory)
    files = formatting.format_files(files)
    files.update(drawn)
    return dict(sorted(files.items()))


def build(
    specs: Path,
    out: Path,
    plots: bool = False,
    cli: click.Group | None = None,
    workers: int = 1,
    measurements: Path | None = None,
) -> list[LoadedSpec]:
    """Load every spec of a folder and replace ``out`` with the generated files."""
    write.check_output_dir(Path(out).absolute())
    items = load_directory(specs)
    write.write_tree(generate_files(items, plots, cli, workers, measurements), out)
    return items
