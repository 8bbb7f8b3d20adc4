"""Load spec files: YAML (with line numbers) -> pydantic model -> semantic checks.

Every problem becomes a :class:`~generator.errors.SpecError` with the file, the line and
column of the offending field, and a message in plain words. Nothing here executes spec
text: YAML is read with the safe round-trip loader, formulas are parsed by
:mod:`generator.formula.tree`.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from operator import attrgetter
from pathlib import Path

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import ConstructorError, RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.reader import ReaderError

from generator.spec import semantics
from generator.spec.errors import SpecError, SpecErrors, field_path
from generator.spec.names import names
from generator.spec.schema import (
    ClassWeighting,
    ConfusionWeighting,
    Example,
    Formula,
    Inputs,
    KerasTwin,
    LossSpec,
    NoWeighting,
    Parameter,
    PerExampleWeighting,
    Prediction,
    Target,
    ValueWeighting,
)


@dataclass(frozen=True)
class LoadedSpec:
    """A spec that passed every check, with the parsed formula and where it came from."""

    path: Path
    spec: LossSpec
    program: semantics.Program

    @property
    def name(self) -> str:
        return self.spec.name


# ---------------------------------------------------------------- YAML


class _Constructor(RoundTripConstructor):
    """The round-trip constructor, with a value it cannot build (``!!int abc``, the date
    ``2020-02-30``) reported as a YAML error at that value rather than as a Python exception."""

    def construct_non_recursive_object(self, node, tag=None):
        try:
            return super().construct_non_recursive_object(node, tag)
        except (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError) as exc:
            tag = str(node.tag).replace("tag:yaml.org,2002:", "!!")
            problem = f"cannot read {node.value!r} as {tag}" if isinstance(node.value, str) else f"cannot read {tag}"
            if isinstance(exc, ValueError) and str(exc):
                problem += f": {exc}"
            raise ConstructorError(None, None, problem, node.start_mark) from None


def _read_yaml(path: Path, text: str) -> object:
    yaml = YAML(typ="rt", pure=True)
    yaml.Constructor = _Constructor
    try:
        return yaml.load(io.StringIO(text))
    except RecursionError:
        raise SpecErrors([SpecError(path, 1, None, "", "YAML error: the file is nested too deeply")]) from None
    except ReaderError as exc:
        at = min(max(int(exc.position), 0), len(text))
        line, column = text.count("\n", 0, at) + 1, at - text.rfind("\n", 0, at)
        character = exc.character if isinstance(exc.character, int) else 0
        raise SpecErrors(
            [SpecError(path, line, column, "", f"YAML error: unacceptable character #x{character:04x}: {exc.reason}")]
        ) from None
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        column = mark.column + 1 if mark else None
        problem = (exc.problem or exc.context or "invalid YAML").strip()
        if "duplicate key" in problem:
            problem = "duplicate key" + (f" {exc.problem.split('duplicate key')[-1].strip()}" if exc.problem else "")
        raise SpecErrors([SpecError(path, line, column, "", f"YAML syntax error: {problem}")]) from None
    except YAMLError as exc:
        raise SpecErrors([SpecError(path, None, None, "", f"YAML error: {exc}")]) from None


MAX_VALUES = 100_000
"""Most values a spec may hold, counted after expanding YAML aliases (``*name``)."""

MAX_NESTING = 50
"""Deepest nesting of mappings and lists in a spec."""


class _TooLarge(Exception):
    pass


def _plain(node: object, budget: list[int] | None = None, depth: int = 0) -> object:
    """Round-trip YAML nodes -> plain Python values (dict, list, str, int, float, bool, None).

    Raises :class:`_TooLarge` past :data:`MAX_VALUES` values or :data:`MAX_NESTING` levels,
    so that aliases of aliases (a "billion laughs") or a self-referencing alias cannot
    exhaust time or memory.
    """
    budget = [MAX_VALUES] if budget is None else budget
    budget[0] -= 1
    if budget[0] < 0:
        raise _TooLarge(f"the spec holds more than {MAX_VALUES} values once YAML aliases are expanded")
    if depth > MAX_NESTING and isinstance(node, dict | list):
        raise _TooLarge(f"the spec is nested more than {MAX_NESTING} levels deep")
    if isinstance(node, dict):
        return {str(k): _plain(v, budget, depth + 1) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v, budget, depth + 1) for v in node]
    if isinstance(node, bool):
        return bool(node)
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, str):
        return str(node)
    return node


def _plain_root(path: Path, root: object) -> object:
    """:func:`_plain` of the whole file; a spec too large or too deep is an error at its top-level key."""
    budget = [MAX_VALUES]
    key = None
    try:
        if not isinstance(root, CommentedMap):
            return _plain(root, budget)
        data = {}
        for key, value in root.items():
            data[str(key)] = _plain(value, budget, 1)
        return data
    except _TooLarge as exc:
        at_key = key is not None and isinstance(root, CommentedMap) and key in root.lc.data
        line, column = (n + 1 for n in root.lc.key(key)) if at_key else (1, 1)
        raise SpecErrors([SpecError(path, line, column, "" if key is None else str(key), str(exc))]) from None


def _locate(root: object, loc: tuple, lines: list[str], at_key: bool = False) -> tuple[int | None, int | None, tuple]:
    """The 1-based line and column of the field at ``loc``, and ``loc`` without union tags.

    Points at the value when the field exists (at its key when ``at_key``), otherwise at
    the deepest existing parent.
    """
    node = root
    line = column = None
    if isinstance(root, CommentedMap | CommentedSeq):
        line, column = 1, 1
    kept: list = []
    for part in loc:
        if isinstance(node, CommentedMap) and isinstance(part, str):
            if part not in node:
                if node.get("rule") == part:  # a discriminated-union tag, not a key
                    continue
                kept.append(part)
                break
            if part in node.lc.data:  # not for keys merged in with `<<:`; they keep the parent's line
                if at_key or isinstance(node[part], CommentedMap | CommentedSeq) or node[part] is None:
                    line, column = (n + 1 for n in node.lc.key(part))
                else:
                    line, column = (n + 1 for n in node.lc.value(part))
            kept.append(part)
            node = node[part]
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and part < len(node):
            item_line, item_col = node.lc.item(part)
            line, column = item_line + 1, item_col + 1
            kept.append(part)
            node = node[part]
        else:
            if not (isinstance(part, str) and part in _UNION_TAGS):
                kept.append(part)
            break
    return line, column, tuple(kept)


_UNION_TAGS = {"none", "value", "class", "confusion", "per_example"}


def _formula_position(line: int | None, column: int | None, inner: int | None, lines: list[str]) -> tuple:
    """Shift a formula-relative column onto the file, for single-line scalars."""
    if line is None or column is None or inner is None or line > len(lines):
        return line, column
    text = lines[line - 1]
    start = column - 1
    if start < len(text) and text[start] in "|>":
        return line, column
    if start < len(text) and text[start] in "'\"":
        start += 1
    while start < len(text) and text[start] == " ":
        start += 1
    return line, start + inner


# ---------------------------------------------------------------- schema messages

_MODELS_BY_PATH = {
    (): LossSpec,
    ("inputs",): Inputs,
    ("inputs", "y_true"): Target,
    ("inputs", "y_pred"): Prediction,
    ("formula",): Formula,
    ("keras",): KerasTwin,
}
_WEIGHTING = {
    "none": NoWeighting,
    "value": ValueWeighting,
    "class": ClassWeighting,
    "confusion": ConfusionWeighting,
    "per_example": PerExampleWeighting,
}


def _allowed_keys(parent: tuple, data: object) -> str:
    model = _MODELS_BY_PATH.get(parent)
    if model is None and len(parent) == 2 and parent[0] == "parameters":
        model = Parameter
    if model is None and len(parent) == 2 and parent[0] == "examples":
        model = Example
    if model is None and parent == ("weighting",) and isinstance(data, dict):
        model = _WEIGHTING.get(data.get("weighting", {}).get("rule"))
    return ", ".join(model.model_fields) if model else ""


def _describe(value: object) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"text {value!r}"
    return repr(value)


def _message(error: dict, loc: tuple, data: object) -> str:
    kind = error["type"]
    last = loc[-1] if loc else ""
    value = error.get("input")
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return f"missing required field `{last}`"
    if kind == "extra_forbidden":
        allowed = _allowed_keys(loc[:-1], data)
        return f"unknown key `{last}`" + (f" (allowed: {allowed})" if allowed else "")
    if kind == "literal_error":
        return f"must be one of {ctx.get('expected')}, got {_describe(value)}"
    if kind == "union_tag_invalid":
        return f"unknown rule {ctx.get('tag')!r}; expected one of {ctx.get('expected_tags')}"
    if kind == "union_tag_not_found":
        return "missing required field `rule`"
    if kind in ("string_type",):
        return f"must be text, got {_describe(value)}"
    if kind in ("float_type", "int_type"):
        return f"must be a number, got {_describe(value)}"
    if kind == "bool_type":
        return f"must be true or false, got {_describe(value)}"
    if kind in ("dict_type", "model_type"):
        return f"must be a mapping of keys to values, got {_describe(value)}"
    if kind == "list_type":
        return f"must be a list, got {_describe(value)}"
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "string_too_long":
        return f"must be at most {ctx.get('max_length')} characters long (it is a title: put details in summary)"
    return str(error.get("msg", "invalid value"))


# ---------------------------------------------------------------- loading


def load_spec(path: Path) -> LoadedSpec:
    """Load and check one spec file; raise :class:`SpecErrors` listing every problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecErrors([SpecError(path, None, None, "", "no such file")]) from None
    except UnicodeDecodeError as exc:
        data, at = exc.object, exc.start
        line, column = data.count(b"\n", 0, at) + 1, at - data.rfind(b"\n", 0, at)
        message = f"not UTF-8 text: byte 0x{data[at]:02x} ({exc.reason})"
        raise SpecErrors([SpecError(path, line, column, "", message)]) from None
    except OSError as exc:
        raise SpecErrors([SpecError(path, None, None, "", f"cannot read the file: {exc}")]) from None
    lines = text.splitlines()
    root = _read_yaml(path, text)
    if root is None:
        raise SpecErrors([SpecError(path, 1, None, "", "spec file is empty")])
    data = _plain_root(path, root)
    if not isinstance(root, CommentedMap):
        raise SpecErrors([SpecError(path, 1, 1, "", f"a spec must be a mapping of fields, got {_describe(data)}")])
    try:
        spec = LossSpec.model_validate(data)
    except ValidationError as exc:
        errors = []
        for error in exc.errors():
            raw = tuple(error["loc"])
            if error["type"] in ("union_tag_invalid", "union_tag_not_found"):
                raw += ("rule",)
            line, column, loc = _locate(root, raw, lines, at_key=error["type"] == "extra_forbidden")
            errors.append(SpecError(path, line, column, field_path(loc), _message(error, loc, data)))
        raise SpecErrors(_unique(errors)) from None
    program, problems = semantics.check(spec)
    if problems:
        errors = []
        for problem in problems:
            line, column, loc = _locate(root, problem.loc, lines, at_key=problem.at_key)
            if problem.column is not None:
                line, column = _formula_position(line, column, problem.column, lines)
            errors.append(SpecError(path, line, column, field_path(loc), problem.message))
        raise SpecErrors(_unique(errors))
    assert program is not None
    return LoadedSpec(path, spec, program)


def _unique(errors: list[SpecError]) -> list[SpecError]:
    """Each error once, in the order of the file (line, then column)."""
    seen: dict[str, SpecError] = {}
    for error in errors:
        seen.setdefault(str(error), error)
    return sorted(seen.values(), key=lambda e: (e.line or 0, e.column or 0))


def load_directory(directory: Path) -> list[LoadedSpec]:
    """Load every ``*.yaml`` spec of a folder, sorted by name; report all problems at once."""
    directory = Path(directory)
    if not directory.is_dir():
        raise SpecErrors([SpecError(directory, None, None, "", "no such folder of specs")])
    paths = sorted(p for p in directory.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
    if not paths:
        raise SpecErrors([SpecError(directory, None, None, "", "no spec files (*.yaml) in this folder")])
    loaded: list[LoadedSpec] = []
    errors: list[SpecError] = []
    for path in paths:
        try:
            loaded.append(load_spec(path))
        except SpecErrors as exc:
            errors.extend(exc.errors)
    errors.extend(_duplicates(loaded))
    if errors:
        raise SpecErrors(errors)
    return sorted(loaded, key=attrgetter("name"))


def _duplicates(loaded: list[LoadedSpec]) -> list[SpecError]:
    errors = []
    first: dict[str, LoadedSpec] = {}
    for item in loaded:
        for key, what in ((item.name, "name"), (names(item.spec).cls, "class name")):
            other = first.get(f"{what}:{key}")
            if other is not None and what == "class name" and other.name == item.name:
                continue  # already reported as a duplicate name
            if other is not None:
                line, column = _name_line(item.path, "name" if what == "name" else "class_name")
                errors.append(
                    SpecError(
                        item.path,
                        line,
                        column,
                        "name" if what == "name" else "class_name",
                        f"duplicate spec {what} `{key}`: also used by {other.path}",
                    )
                )
            else:
                first[f"{what}:{key}"] = item
    return errors


def _name_line(path: Path, key: str) -> tuple[int | None, int | None]:
    root = YAML(typ="rt", pure=True).load(path.read_text(encoding="utf-8"))
    line, column, _ = _locate(root, (key,), [])
    return line, column
