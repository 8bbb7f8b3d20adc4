"""The ``lossgen`` command line.

Exit status: 0 when all went well, 1 when ``check`` found a failing check, 2 for invalid
input (a malformed spec, a missing file, a bad option). Errors go to stderr as
``file:line:column: field: message``, without a traceback.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from generator import PACKAGE, __version__
from generator.check.report import FRESH_PROCESS_CHECKS
from generator.codegen import pipeline, write
from generator.resources import specs_dir
from generator.site import build as site_build
from generator.spec.errors import SpecErrors
from generator.spec.loader import load_directory
from generator.spec.names import FORMS

EXIT_OK, EXIT_FAILED, EXIT_INVALID = 0, 1, 2


def _fail(errors: SpecErrors | Exception) -> None:
    lines = [str(e) for e in errors.errors] if isinstance(errors, SpecErrors) else [str(errors)]
    for line in lines:
        click.echo(f"error: {line}", err=True)
    if isinstance(errors, SpecErrors) and len(lines) > 1:
        click.echo(f"{len(lines)} errors; nothing was written.", err=True)
    sys.exit(EXIT_INVALID)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="lossgen")
def cli() -> None:
    """Generate Keras loss functions from declarative specs, and check them."""


@cli.command("list")
@click.option(
    "--specs",
    "specs",
    type=click.Path(path_type=Path),
    default=None,
    help="Folder of specs (default: the bundled catalog).",
)
def list_command(specs: Path | None) -> None:
    """List the losses of the catalog: name, task and title."""
    try:
        items = load_directory(specs or specs_dir())
    except SpecErrors as exc:
        _fail(exc)
    width = max(len(i.name) for i in items)
    for item in items:
        click.echo(f"{item.name:<{width}}  {item.spec.task:<12}  {item.spec.title.strip()}")


@cli.command()
@click.argument("spec")
@click.option(
    "--form",
    type=click.Choice([*FORMS, "all"]),
    default="all",
    show_default=True,
    help="Which implementation to print.",
)
@click.option(
    "-o", "--output", type=click.Path(path_type=Path), default=None, help="Write to this file instead of stdout."
)
def generate(spec: str, form: str, output: Path | None) -> None:
    """Print a self-contained Keras module for SPEC (a YAML file or a catalog name)."""
    try:
        text = pipeline.generate(pipeline.resolve(spec), form)
    except SpecErrors as exc:
        _fail(exc)
    if output is None:
        click.echo(text, nl=False)
    else:
        write.write_file(output, text)
        click.echo(f"wrote {output}", err=True)


@cli.command()
@click.option(
    "--specs", type=click.Path(path_type=Path), default=None, help="Folder of specs (default: the bundled catalog)."
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=Path("generated"),
    show_default=True,
    help="Output folder; replaced as a whole.",
)
@click.option(
    "--plots",
    is_flag=True,
    help="Also draw each loss's plot (OUT/plots/*.svg) and work its example (needs NumPy and matplotlib).",
)
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Processes that draw the plots  [default: the CPUs this process may use]",
)
@click.option(
    "--measurements",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    default=None,
    help="A `make bench` results file (benchmarks/results.json): the pages say the memory it measured.",
)
def build(specs: Path | None, out: Path, plots: bool, jobs: int | None, measurements: Path | None) -> None:
    """Render every spec: modules (OUT/code/) and reference pages (OUT/*.md)."""
    workers = jobs or (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
    try:
        items = site_build.build(specs or specs_dir(), out, plots, cli, workers, measurements)
    except (SpecErrors, write.OutputError) as exc:
        _fail(exc)
    click.echo(f"built {len(items)} losses into {out}", err=True)


@cli.command()
@click.argument("spec")
@click.option(
    "--skip",
    "skip",
    multiple=True,
    type=click.Choice(list(FRESH_PROCESS_CHECKS)),
    help="Leave out a check that starts new Python processes (each takes several seconds): "
    "the other backends, MirroredStrategy, or save-and-reload. Repeat to leave out more.",
)
@click.option("--skip-reload", is_flag=True, hidden=True, help="The same as --skip reload.")
def check(spec: str, skip: tuple[str, ...], skip_reload: bool) -> None:
    """Check SPEC: the three forms agree; values and gradients stay finite at the edges,
    in float16 and bfloat16 and for a mixed-precision training step; sample_weight and masks
    work; targets of shape (N,) and (N, 1), and class ids as integers, give the same value
    (rank variants); float64 inputs are computed and returned in float64, and a model trains
    under set_floatx("float64"); inputs whose shapes cannot match, and vector or matrix
    parameters of the wrong size, raise a ValueError that names them; MirroredStrategy on
    two devices takes the single-device step; the published values hold; JAX and PyTorch
    (when installed) give the same values; and a saved model reloads. Each failure names
    the input and its cause; an error inside a check is a failing row, never a traceback.
    Exit status 1 if any check fails."""
    try:
        item = pipeline.resolve(spec)
    except SpecErrors as exc:
        _fail(exc)
    # The checker takes gradients with TensorFlow, whatever backend the caller's shell
    # selects; this process is the CLI's own, so nothing else has imported Keras yet.
    os.environ["KERAS_BACKEND"] = "tensorflow"
    from generator.check import runner  # imports Keras: only here

    report = runner.run(item, skip=frozenset(skip) | ({"reload"} if skip_reload else set()))
    click.echo(report.table())
    sys.exit(EXIT_OK if report.ok else EXIT_FAILED)


@cli.command()
@click.argument("name")
@click.option(
    "-o", "--output", type=click.Path(path_type=Path), default=None, help="File to write (default: NAME.yaml)."
)
def new(name: str, output: Path | None) -> None:
    """Write a commented starter spec NAME.yaml that passes `lossgen check` as it is."""
    from generator.codegen import starter

    try:
        text = starter.starter_spec(name)
    except ValueError as exc:
        _fail(exc)
    target = output or Path(f"{name}.yaml")
    if target.exists():
        _fail(ValueError(f"{target}: already exists; not overwritten"))
    write.write_file(target, text)
    click.echo(f"wrote {target}; try: lossgen check {target}", err=True)


def main(argv: list[str] | None = None) -> None:
    cli.main(args=argv, prog_name="lossgen")


__all__ = ["cli", "main", "PACKAGE"]
