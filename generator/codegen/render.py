"""Render the render model to text with Jinja: pure, strict, no I/O but reading templates.

Returns ``{relative path: text}``; formatting and writing are later steps.
"""

from __future__ import annotations

from functools import cache

import jinja2

from generator.codegen.views import LossView
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


def render_template(template: str, **context: object) -> str:
    """One template of ``templates/`` rendered with ``context``."""
    return environment().get_template(template).render(**context)


def module(loss: LossView, form: str = "all") -> str:
    """One self-contained module: a single form, or all three (``"all"``)."""
    template = "module.py.jinja" if form == "all" else f"{form}.py.jinja"
    return render_template(template, loss=loss)


def module_path(name: str, form: str = "all") -> str:
    """Where a build writes a loss's module: all three forms in ``code/<name>.py``, one
    form in ``code/<name>_<form>.py``."""
    return f"code/{name}.py" if form == "all" else f"code/{name}_{form}.py"


def module_files(loss: LossView) -> dict[str, str]:
    """The modules generated for one loss, by :func:`module_path`: all three forms in one
    file, and one file per form."""
    return {module_path(loss.name, form): module(loss, form) for form in ("all", *FORMS)}
