"""The site's pages: each loss's reference page, the catalog (losses grouped by task), the
formula vocabulary and the command line, rendered with the templates of ``templates/``."""

from __future__ import annotations

import json
import re

import click

from generator.codegen.lower import first_sentence
from generator.codegen.render import module_files, render_template
from generator.codegen.views import LossView
from generator.formula.vocabulary import PUBLIC_FUNCTIONS
from generator.site.views import (
    CatalogEntry,
    CatalogView,
    CommandView,
    FunctionRow,
    GalleryEntry,
    GalleryGroup,
    GalleryView,
    OptionRow,
    PeerLibrary,
    PeerRow,
    TaskGroup,
    ToolView,
)
from generator.spec.loader import LoadedSpec
from generator.spec.names import PEER_LIBRARIES

_TASK_HEADINGS = {
    "regression": "Regression",
    "binary": "Binary classification",
    "multiclass": "Multi-class classification",
    "multilabel": "Multi-label classification",
    "segmentation": "Segmentation",
    "metric": "Metric and representation learning",
    "ranking": "Ranking",
    "detection": "Detection",
}


def catalog_view(items: list[LoadedSpec]) -> CatalogView:
    groups = []
    for task, heading in _TASK_HEADINGS.items():
        members = sorted((i for i in items if i.spec.task == task), key=_by_name)
        if not members:
            continue
        entries = tuple(
            CatalogEntry(
                name=i.spec.name,
                title=i.spec.title.strip(),
                task=i.spec.task,
                summary=first_sentence(i.spec.summary),
                parameters=", ".join(f"`{n}`" for n in i.spec.parameters) or "none",
            )
            for i in members
        )
        groups.append(TaskGroup(task, heading, entries))
    return CatalogView(tuple(groups), len(items), _peer_index(items))


def _peer_index(items: list[LoadedSpec]) -> tuple[PeerLibrary, ...]:
    """For each peer library, its calls that a catalog loss reproduces (from the specs'
    ``peers``), sorted by call."""
    found: dict[str, set[tuple[str, str, str]]] = {module: set() for module in PEER_LIBRARIES}
    for item in items:
        for peer in item.spec.peers:
            found[peer.call.split(".")[0]].add((peer.call, item.name, item.spec.title.strip()))
    return tuple(
        PeerLibrary(PEER_LIBRARIES[module], tuple(PeerRow(*row) for row in sorted(rows)))
        for module, rows in found.items()
        if rows
    )


def nav_json(catalog: CatalogView) -> str:
    """The catalog's part of the site navigation, as data for the MkDocs hook
    (``tools/mkdocs_nav.py``): one section per task, each loss under its title."""
    sections = [
        {"heading": group.heading, "pages": [{"title": e.title, "file": f"{e.name}.md"} for e in group.entries]}
        for group in catalog.groups
    ]
    return json.dumps(sections, indent=1, ensure_ascii=False) + "\n"


def _by_name(item: LoadedSpec) -> str:
    return item.spec.name


def _table_cell(text: str) -> str:
    """Text safe inside a Markdown table cell (LaTeX bars become \\lvert and \\rvert)."""
    return text.replace(r"\left|", r"\left\lvert ").replace(r"\right|", r"\right\rvert").replace("|", r"\|")


def _function_latex(template: str, params: tuple[str, ...]) -> str:
    names = [rf"\mathit{{{p}}}" if len(p) > 1 else p for p in params]
    return template.format(*names, ax="c", pair="i", **{f"a{i}": n for i, n in enumerate(names)})


def tool_view(cli: click.Group | None) -> ToolView:
    """The formula vocabulary (from the whitelist) and the command line, from the click
    group the caller passes in (``lossgen build`` passes its own; None leaves the CLI page
    empty of commands): the site never imports the CLI."""
    functions = tuple(
        FunctionRow(fn.signature, _table_cell(fn.doc), _table_cell(_function_latex(fn.latex, fn.params)))
        for fn in PUBLIC_FUNCTIONS.values()
    )
    commands = []
    if cli is None:
        return ToolView(functions, ())
    context = click.Context(cli, info_name="lossgen")
    for name in sorted(cli.commands):
        command = cli.commands[name]
        sub = click.Context(command, info_name=name, parent=context)
        options = tuple(
            OptionRow(", ".join(f"`{o}`" for o in param.opts), (param.help or "").strip())
            for param in command.params
            if isinstance(param, click.Option)
        )
        commands.append(
            CommandView(name, " ".join(command.collect_usage_pieces(sub)), (command.help or "").strip(), options)
        )
    return ToolView(functions, tuple(commands))


_MENTION = re.compile(r"(?<![\[\w`])`([a-z][a-z0-9_]*)`(?![\]\w`(])")
"""A name in backticks, alone: `dice`, but not `dice(axis=-1)` or an existing link."""


def link_losses(
    markdown: str, titles: dict[str, str], own: str = "", keep: frozenset[str] = frozenset()
) -> tuple[str, list[str]]:
    """The page with every other catalog loss named in its prose (`name`, in backticks)
    turned into a link to that loss's page, and the names linked, in order of first
    mention. Code blocks, headings and the names in ``keep`` (the page's own parameters,
    which may share a loss's name) are left as they are."""
    mentioned: list[str] = []

    def link(match: re.Match) -> str:
        name = match.group(1)
        if name == own or name in keep or name not in titles:
            return match.group(0)
        if name not in mentioned:
            mentioned.append(name)
        return f"[`{name}`]({name}.md)"

    lines, fenced = [], False
    for line in markdown.split("\n"):
        stripped = line.lstrip()
        if stripped.startswith(("```", "~~~")):
            fenced = not fenced
        elif not fenced and not stripped.startswith("#"):
            line = _MENTION.sub(link, line)
        lines.append(line)
    return "\n".join(lines), mentioned


def loss_files(
    loss: LossView, titles: dict[str, str] | None = None, example: object = None, memory: object = None
) -> dict[str, str]:
    """Every file generated for one loss: its modules and its reference page. Given the
    catalog's titles by name, the page links the other losses it names and lists them
    under "See also"; given a worked example (:mod:`generator.site.examples`), it shows it;
    given its measured memory (:class:`generator.site.measurements.MemoryFigure`), it says it."""
    files = module_files(loss)
    page = render_template("reference.md.jinja", loss=loss, see_also=(), example=example, memory=memory)
    if titles:
        keep = frozenset(p.name for p in loss.params)
        _, mentioned = link_losses(page, titles, loss.name, keep)
        see_also = tuple({"name": name, "title": titles[name]} for name in mentioned)
        page = render_template("reference.md.jinja", loss=loss, see_also=see_also, example=example, memory=memory)
        page, _ = link_losses(page, titles, loss.name, keep)
    files[f"{loss.name}.md"] = page
    return files


def gallery_view(catalog: CatalogView, plots: list) -> GalleryView:
    """The plot gallery: every loss's plots in catalog order, each with what its plot does
    (:meth:`generator.site.plots.Plot.findings`), and how many losses share each finding.
    Scans are counted by kind (``scan: y_pred``), whatever their details."""
    found = {plot.name: plot.findings() for plot in plots}
    if not found:
        return GalleryView((), (), 0)
    groups = tuple(
        GalleryGroup(
            group.heading,
            tuple(GalleryEntry(e.name, e.title, "; ".join(found[e.name])) for e in group.entries if e.name in found),
        )
        for group in catalog.groups
    )
    counts: dict[str, int] = {}
    for findings in found.values():
        for finding in findings:
            counts[finding] = counts.get(finding, 0) + 1
    ordered = tuple(sorted(counts.items(), key=lambda row: (-row[1], row[0])))
    return GalleryView(tuple(g for g in groups if g.entries), ordered, len(found))


def catalog_files(
    losses: list[LossView],
    catalog: CatalogView,
    tools: ToolView,
    examples: dict[str, object] | None = None,
    plots: list | None = None,
    memory: dict[str, object] | None = None,
) -> dict[str, str]:
    """Every file of a build: all losses, the catalog, the plot gallery, the vocabulary and
    CLI pages; ``examples`` are the worked examples by loss name, ``plots`` the analysed
    plots (:class:`generator.site.plots.Plot`) when the build draws them, ``memory`` the
    measured memory by loss name."""
    files: dict[str, str] = {
        "index.md": render_template("catalog.md.jinja", catalog=catalog),
        "gallery.md": render_template("gallery.md.jinja", gallery=gallery_view(catalog, plots or [])),
        "vocabulary.md": render_template("vocabulary.md.jinja", tools=tools),
        "cli.md": render_template("cli.md.jinja", tools=tools),
        "nav.json": nav_json(catalog),
    }
    titles = {loss.name: loss.title for loss in losses}
    files["index.md"], _ = link_losses(files["index.md"], titles)
    for loss in losses:
        files.update(loss_files(loss, titles, (examples or {}).get(loss.name), (memory or {}).get(loss.name)))
    return dict(sorted(files.items()))
