"""``lossgen check``: every check in table order, each through :func:`guarded`, so an
exception anywhere is a failing row with a plain explanation, never a traceback."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path

from generator.check import hazards, samples
from generator.check.checks import (
    check_agreement,
    check_edges,
    check_examples,
    check_float64,
    check_half_precision,
    check_mask,
    check_mixed_precision,
    check_rank_variants,
    check_weights,
    check_wrong_parameter_shapes,
    check_wrong_shapes,
)
from generator.check.fresh import check_backends, check_distribution, reload_results, run_probe, save_models
from generator.check.harness import (
    Forms,
    forms_of,
    import_path,
    write_modules,
)
from generator.check.report import FRESH_PROCESS_CHECKS, Report, Result, error_line
from generator.spec.loader import LoadedSpec


def error_cause(item: LoadedSpec) -> str | None:
    """Why the formula cannot be computed at the checker's own inputs (a parameter of the
    wrong size, steps of different widths), from :func:`hazards.explain_error`; None when
    it can, or when that cannot be told."""
    try:
        for params in samples.parameter_sets(item.spec).values():
            batch = samples.random_batch(item.spec, params, 0)
            cause = hazards.explain_error(item, batch.y_true, batch.y_pred, params)
            if cause:
                return cause
    except Exception:  # noqa: BLE001 - an explanation is a bonus; the row reports the error itself
        return None
    return None


def guarded(item: LoadedSpec, title: str, check: Callable[[], list[Result]]) -> list[Result]:
    """The rows of ``check()``; when it raises (in the loss, in Keras, in a probe), one
    failing row named ``title`` instead, with the exception in one line and its cause
    in the formula where :mod:`generator.check.hazards` finds one, so the other checks still run."""
    try:
        return check()
    except Exception as exc:  # noqa: BLE001 - every exception is a finding, never a traceback
        cause = error_cause(item)
        return [Result(title, False, error_line(exc) + (f"; {cause}" if cause else ""))]


def checks(
    item: LoadedSpec, forms: Forms, modules: dict[str, Path], directory: Path, skip: frozenset[str] = frozenset()
) -> list[tuple[str, Callable[[], list[Result]]]]:
    """Every check of ``lossgen check``, in the order of its table: the title of the row
    an exception in the check becomes, and the check. A check named in ``skip`` (a key of
    :data:`FRESH_PROCESS_CHECKS`) is one row saying it was skipped."""
    table = [
        ("forms agree", partial(check_agreement, item, forms)),
        ("finite at the edges", partial(check_edges, item, forms)),
        ("finite with float16 and bfloat16 inputs", partial(check_half_precision, item, forms)),
        ("one training step under mixed precision", partial(check_mixed_precision, item, forms)),
        ("sample_weight", partial(check_weights, item, forms)),
        ("masked time steps are left out", partial(check_mask, item, forms)),
        ("rank variants", partial(check_rank_variants, item, forms)),
        ("float64", partial(check_float64, item, forms)),
        ("wrong shapes", partial(check_wrong_shapes, item, forms)),
        ("wrong parameter shapes", partial(check_wrong_parameter_shapes, item, forms)),
        ("published values", partial(check_examples, item, forms)),
    ]
    fresh = {
        "backends": partial(check_backends, item, forms, modules["all"]),
        "distribution": partial(check_distribution, item, directory),
        "reload": partial(_reload, item, modules, directory),
    }
    for name, title in FRESH_PROCESS_CHECKS.items():
        table.append((title, partial(_skipped, title, name) if name in skip else fresh[name]))
    return table


def _reload(item: LoadedSpec, modules: dict[str, Path], directory: Path) -> list[Result]:
    return reload_results(run_probe([save_models(item, modules, directory)], directory))


def _skipped(title: str, name: str) -> list[Result]:
    return [Result(title, True, f"not run (--skip {name})", skipped=True)]


def run(item: LoadedSpec, skip: frozenset[str] = frozenset()) -> Report:
    """Every check for one spec, each through :func:`guarded`."""
    report = Report(item.name)
    with tempfile.TemporaryDirectory(prefix="lossgen-check-") as tmp:
        directory = Path(tmp)
        loaded: dict = {}

        def load() -> list[Result]:
            loaded["modules"] = write_modules(item, directory)
            combined = import_path(loaded["modules"]["all"], f"lossgen_check_{item.name}")
            loaded["forms"] = forms_of(combined, item)
            return []

        report.results += guarded(item, "generate and import the module", load)
        if "forms" in loaded:
            for title, check in checks(item, loaded["forms"], loaded["modules"], directory, skip):
                report.results += guarded(item, title, check)
    return report
