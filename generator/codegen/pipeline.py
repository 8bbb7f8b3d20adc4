"""The pipeline for one spec: load -> lower -> render -> format. ``site.build`` runs it over a
folder and writes the result atomically."""

from __future__ import annotations

from pathlib import Path

from generator.codegen import formatting, lower, render
from generator.resources import specs_dir
from generator.spec.errors import SpecError, SpecErrors
from generator.spec.loader import LoadedSpec, load_spec


def resolve(ref: str) -> LoadedSpec:
    """A spec given as a YAML path or as the name of a catalog loss."""
    path = Path(ref)
    if path.suffix in (".yaml", ".yml") or path.exists():
        return load_spec(path)
    candidate = specs_dir() / f"{ref}.yaml"
    if candidate.is_file():
        return load_spec(candidate)
    raise SpecErrors(
        [SpecError(path, None, None, "", "no such spec file, and no catalog loss of that name (see `lossgen list`)")]
    )


def generate(item: LoadedSpec, form: str = "all") -> str:
    """One formatted, self-contained module for one spec."""
    text = render.module(lower.loss_view(item), form)
    return formatting.format_files({"module.py": text})["module.py"]
