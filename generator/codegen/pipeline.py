"""The whole pipeline in one place: load -> lower -> render -> format -> write."""

from __future__ import annotations

from pathlib import Path

from generator.codegen import formatting, lower, render, write
from generator.resources import specs_dir
from generator.spec.errors import SpecError, SpecErrors
from generator.spec.loader import LoadedSpec, load_directory, load_spec


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


def generate_files(items: list[LoadedSpec], plots: bool = False) -> dict[str, str]:
    """Every output file of a build, formatted, in memory; with ``plots``, the SVG plots too
    (slower: matplotlib)."""
    views = [lower.loss_view(item, plots) for item in items]
    files = render.catalog_files(views, lower.catalog_view(items), lower.tool_view())
    files = formatting.format_files(files)
    if plots:
        from generator.site.plots import plot_files

        files.update(plot_files(items))
    return dict(sorted(files.items()))


def build(specs: Path, out: Path, plots: bool = False) -> list[LoadedSpec]:
    """Load every spec of a folder and replace ``out`` with the generated files."""
    write.check_output_dir(Path(out).absolute())
    items = load_directory(specs)
    write.write_tree(generate_files(items, plots), out)
    return items
