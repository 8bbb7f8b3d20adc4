"""Render the render model to text with Jinja: pure, strict, no I/O but reading templates.

Returns ``{relative path: text}``; formatting and writing are later steps.
"""

from __future__ import annotations

from functools import cache

import jinja2

from generator.codegen.views import CatalogView, LossView, ToolView
from generator.resources import templates_dir
from generator.spec.names import FORMS


@cache
def environment() -> jinja2.Environment:
    """The one Jinja environment: strict undefined, block trimming, no autoescape, no filters
    beyond Jinja's own."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )


def _render(template: str, **context: object) -> str:
    return environment().get_template(template).render(**context)


def module(loss: LossView, form: str = "all") -> str:
    """One self-contained module: a single form, or all three (``"all"``)."""
    template = "module.py.jinja" if form == "all" else f"{form}.py.jinja"
    return _render(template, loss=loss)


def loss_files(loss: LossView) -> dict[str, str]:
    """Every file generated for one loss: its modules and its reference page."""
    files = {f"code/{loss.name}.py": module(loss)}
    for form in FORMS:
        files[f"code/{loss.name}_{form}.py"] = module(loss, form)
    files[f"{loss.name}.md"] = _render("reference.md.jinja", loss=loss)
    return files


def catalog_files(losses: list[LossView], catalog: CatalogView, tools: ToolView) -> dict[str, str]:
    """Every file of a build: all losses, the catalog, the vocabulary and CLI pages."""
    files: dict[str, str] = {
        "index.md": _render("catalog.md.jinja", catalog=catalog),
        "vocabulary.md": _render("vocabulary.md.jinja", tools=tools),
        "cli.md": _render("cli.md.jinja", tools=tools),
    }
    for loss in losses:
        files.update(loss_files(loss))
    return dict(sorted(files.items()))
