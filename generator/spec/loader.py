"""Load spec files: YAML (with line numbers) -> pydantic model -> semantic checks.

Every problem becomes a :class:`~generator.errors.SpecError` with the file, the line and
column of the offending field, and a message in plain words. One load reports every
problem it can: when the schema rejects some fields, the rest of the spec still goes
through the semantic checks (:func:`_the_rest`), less the problems a rejected field may
have caused. Nothing here executes spec
text: YAML is read with the safe round-trip loader, formulas are parsed by
:mod:`generator.formula.tree`.
"""

from __future__ import annotations

import copy
import difflib
import functools
import io
import re
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
    Part,
    PerExampleWeighting,
    Plot,
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
    text: str = ""  # the spec file as written, for the reference page

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
        else:
            problem += _quote_hint(exc, text.splitlines())
        raise SpecErrors([SpecError(path, line, column, "", f"YAML syntax error: {problem}")]) from None
    except YAMLError as exc:
        raise SpecErrors([SpecError(path, None, None, "", f"YAML error: {exc}")]) from None


TEXT_KEYS = ("title", "summary", "avoid_when", "doc", "notes", "note", "source", "checked_against", "latex")
"""Fields that hold free text, which YAML may misread when it is not in quotes."""

_TEXT_LINE = re.compile(rf"(?:^|[\s{{,])({'|'.join(TEXT_KEYS)}):\s+(?P<value>.*)$")


def _quoted(key: str, value: object) -> str:
    """``key: "value"``, in single quotes when the value holds a backslash or a double
    quote (which double quotes would read as an escape or an end), with ``...`` for a value
    that is long, unknown (None) or holds both kinds of quotes."""
    if not isinstance(value, str) or len(value) > 80:
        return f'{key}: "..."'
    if "\\" not in value and '"' not in value:
        return f'{key}: "{value}"'
    return f"{key}: '{value}'" if "'" not in value else f"{key}: '...'"


def _quote_hint(exc: MarkedYAMLError, lines: list[str]) -> str:
    """The advice to quote a text field, for a YAML syntax error on a line that gives a
    text field a value YAML reads as structure, or inside a flow collection (``[...``)
    that starts a text field's value; "" otherwise."""
    problem = exc.problem_mark
    hint = _quote_hint_for_line(lines[problem.line]) if problem and problem.line < len(lines) else ""
    context = exc.context_mark
    if not hint and context and "flow" in (exc.context or "") and context.line < len(lines):
        match = _TEXT_LINE.search(lines[context.line])
        if match and match.start("value") == context.column:
            elsewhere = problem is not None and problem.line != context.line
            hint = _quote_hint_for_line(lines[context.line], f" (line {context.line + 1})" if elsewhere else "")
    return hint


def _quote_hint_for_line(line: str, where: str = "") -> str:
    """The advice to quote a text field given a value on ``line`` that holds characters YAML
    reads as structure (``: ``, ``,``, brackets or braces, or a first character such as
    ``*`` or ``@``); "" when there is none."""
    match = _TEXT_LINE.search(line)
    if match is None:
        return ""
    key, value = match.group(1), re.sub(r"\s+#.*$", "", match["value"]).strip()
    if value[:1] in ("'", '"', "|", ">"):
        return ""  # already quoted, or a block scalar
    in_flow = "{" in line[: match.start(1)] or "[" in line[: match.start(1)]
    text = value.rstrip(" ,]}") if in_flow else value
    structure = ": " in text or text.endswith(":") or any(ch in text for ch in ",[]{}") or text[:1] in "*&!%@`"
    if not text or not structure:
        return ""
    shown = None if in_flow and "," in text else text  # in a flow mapping, other keys may follow
    return f"; if `{key}`{where} is meant as text, put it in quotes: {_quoted(key, shown)}"


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
    ("plot",): Plot,
}
_WEIGHTING = {
    "none": NoWeighting,
    "value": ValueWeighting,
    "class": ClassWeighting,
    "confusion": ConfusionWeighting,
    "per_example": PerExampleWeighting,
}


def _one_branch(errors: list[dict], data: object) -> list[dict]:
    """Errors of a field that is either a word or a mapping (a part of ``y_pred``: ``real``
    or ``{kind: ..., doc: ...}``) as pydantic reports them, for both readings, with the
    reading in the location (``literal[...]`` or ``Part``); kept here for the reading that
    matches what was written (a mapping or not), without the reading in the location."""
    kept = []
    for error in errors:
        loc = tuple(error["loc"])
        tags = [i for i, part in enumerate(loc) if part == "Part" or str(part).startswith("literal[")]
        if tags:
            i = tags[0]
            mapping = isinstance(_at(data, loc[:i]), dict)
            if mapping != (loc[i] == "Part"):
                continue
            error = {**error, "loc": loc[:i] + loc[i + 1 :]}
        kept.append(error)
    return kept


def _model_at(parent: tuple, data: object) -> type | None:
    """The schema model of the mapping at ``parent``, when it is known."""
    model = _MODELS_BY_PATH.get(parent)
    if model is None and len(parent) == 2 and parent[0] == "parameters":
        model = Parameter
    if model is None and len(parent) == 2 and parent[0] == "examples":
        model = Example
    if model is None and len(parent) == 4 and parent[:3] == ("inputs", "y_pred", "parts"):
        model = Part
    if model is None and parent == ("weighting",) and isinstance(data, dict):
        weighting = data.get("weighting")
        model = _WEIGHTING.get(weighting.get("rule")) if isinstance(weighting, dict) else None
    return model


def _allowed_keys(parent: tuple, data: object) -> str:
    model = _model_at(parent, data)
    return ", ".join(model.model_fields) if model else ""


_NOTHING = object()


def _at(data: object, path: tuple, default: object = None) -> object:
    """The value at ``path`` in plain data, or ``default`` when there is none."""
    for part in path:
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif isinstance(data, list) and type(part) is int and 0 <= part < len(data):
            data = data[part]
        else:
            return default
    return data


def _quote_hint_for_key(loc: tuple, data: object) -> str:
    """The advice to quote a text field, for an unknown key that looks like a piece of a
    text: in ``{doc: Fast, or slow}`` YAML ends the text at the comma and reads ``or slow``
    as a key with no value. "" when the key does not look like one."""
    parent = _at(data, loc[:-1])
    if not loc or not isinstance(parent, dict) or loc[-1] not in parent:
        return ""
    key = loc[-1]
    model = _model_at(loc[:-1], data)
    fields = model.model_fields if model else {}
    keys = list(parent)
    start = keys.index(key)
    while start > 0 and keys[start - 1] not in fields and parent[keys[start - 1]] is None:
        start -= 1  # back over the earlier pieces of the same text
    text_key = keys[start - 1] if start > 0 else None
    if parent[key] is None and text_key in TEXT_KEYS and isinstance(parent[text_key], str):
        pieces = [parent[text_key]]
        for k in keys[start:]:
            if k in fields or parent[k] is not None:
                break
            pieces.append(k)
        return _piece_hint(text_key, ", ".join(pieces))
    texts = [k for k in keys if k in TEXT_KEYS]
    if texts and not key.isidentifier():
        return _piece_hint(texts[0], None)
    return ""


def _piece_hint(text_key: str, text: str | None) -> str:
    return f"; if it is part of the text of `{text_key}`, put that text in quotes: {_quoted(text_key, text)}"


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
        hint = _quote_hint_for_key(loc, data)
        return f"unknown key `{last}`" + (f" (allowed: {allowed})" if allowed else "") + hint
    if kind == "literal_error":
        return f"must be one of {ctx.get('expected')}, got {_describe(value)}"
    if kind == "union_tag_invalid":
        return f"unknown rule {ctx.get('tag')!r}; expected one of {ctx.get('expected_tags')}"
    if kind == "union_tag_not_found":
        return "missing required field `rule`"
    if kind in ("string_type",):
        hint = "; if it is meant as text, put it in quotes" if isinstance(value, dict | list) else ""
        return f"must be text, got {_describe(value)}{hint}"
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
    return _load_text(path, text)


@functools.lru_cache(maxsize=256)
def _load_text(path: Path, text: str) -> LoadedSpec:
    """Check the spec ``text`` read from ``path``. Cached on both: the same file read again
    unchanged is parsed once (the test suite reads every catalog spec hundreds of times,
    and ruamel's round-trip parser is most of a load's cost). Safe to share: a
    :class:`LoadedSpec`, its spec and its program are frozen, and nothing mutates them."""
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
        for error in _one_branch(exc.errors(), data):
            raw = tuple(error["loc"])
            if error["type"] in ("union_tag_invalid", "union_tag_not_found"):
                raw += ("rule",)
            line, column, loc = _locate(root, raw, lines, at_key=error["type"] == "extra_forbidden")
            errors.append(SpecError(path, line, column, field_path(loc), _message(error, loc, data)))
        rest = _the_rest(data, _one_branch(exc.errors(), data))
        if rest is not None:
            _, problems = semantics.check(rest.spec)
            errors += [_problem_error(path, root, lines, p) for p in problems if not rest.affects(p)]
        raise SpecErrors(_unique(errors)) from None
    program, problems = semantics.check(spec)
    if problems:
        raise SpecErrors(_unique([_problem_error(path, root, lines, p) for p in problems]))
    assert program is not None
    return LoadedSpec(path, spec, program, text)


def _problem_error(path: Path, root: object, lines: list[str], problem: semantics.Problem) -> SpecError:
    line, column, loc = _locate(root, problem.loc, lines, at_key=problem.at_key)
    if problem.column is not None:
        line, column = _formula_position(line, column, problem.column, lines)
    return SpecError(path, line, column, field_path(loc), problem.message)


# ---------------------------------------------------------------- the rest of a spec the schema rejected

_STAND_INS: dict[tuple, object] = {
    ("name",): "-",
    ("title",): "-",
    ("summary",): "-",
    ("task",): "regression",
    ("formula",): {"loss": "y_pred"},
    ("formula", "loss"): "y_pred",
}
"""Stand-ins for required fields that are missing (or were removed), so that the rest of a
spec can still be checked; every problem they could cause is left out. (``-`` is no
identifier, so no parameter or step can clash with the names made from it.)"""

_ROUNDS = 5


@dataclass
class _Rest:
    """What passes the schema once every rejected field is removed (with the smallest
    mapping holding it when it is required), and the fields that were removed."""

    spec: LossSpec
    removed: list[tuple]

    def affects(self, problem: semantics.Problem) -> bool:
        """Whether the problem may come from a removal: it is about a removed field, or
        something inside or around one, or it depends on a removed field."""
        for gone in self.removed:
            n = min(len(gone), len(problem.loc))
            if gone[:n] == problem.loc[:n]:
                return True
            for field in problem.depends:
                if len(gone) <= len(field) and all(a == b or b == "*" for a, b in zip(gone, field, strict=False)):
                    return True
        return False


def _the_rest(data: dict, errors: list) -> _Rest | None:
    """Remove what the schema rejected, again until the rest passes; None when it cannot
    (a required top-level field such as `formula` is wrong)."""
    data = copy.deepcopy(data)
    deleted: list[tuple] = []
    removed: list[tuple] = []
    for _ in range(_ROUNDS):
        progress = False
        for error in errors:
            done = _remove(data, _data_path(tuple(error["loc"]), data), error["type"], deleted, removed)
            if done is None:
                return None
            progress = progress or done
        if not progress:
            return None
        try:
            return _Rest(LossSpec.model_validate(data), removed)
        except ValidationError as exc:
            errors = exc.errors()
    return None


def _data_path(loc: tuple, data: dict) -> tuple:
    """A pydantic location as a path into the data: without the tag pydantic adds after
    `weighting` (its rule), as in ``("weighting", "value", "weight")``."""
    weighting = data.get("weighting")
    if len(loc) > 1 and loc[0] == "weighting" and isinstance(weighting, dict) and weighting.get("rule") == loc[1]:
        return (loc[0], *loc[2:])
    return loc


def _remove(data: dict, path: tuple, kind: str, deleted: list[tuple], removed: list[tuple]) -> bool | None:
    """Remove the field at ``path``, or what must go with it; True when something was
    removed, False when it already was, None when nothing can be (the whole spec)."""
    if kind == "missing" and path in _STAND_INS:
        parent = _at(data, path[:-1])
        if not isinstance(parent, dict) or path[-1] in parent:
            return False
        parent[path[-1]] = copy.deepcopy(_STAND_INS[path])
        removed.append(path)
        return True
    if kind == "missing":
        path = path[:-1]  # the mapping that lacks a required field goes
    depth = 0
    while depth < len(path) and _at(data, path[: depth + 1], _NOTHING) is not _NOTHING:
        depth += 1
    if depth < len(path) and any(path[: len(gone)] == gone for gone in deleted):
        return False  # inside something removed before
    path = path[:depth] if depth < len(path) else path
    while path and isinstance(_at(data, path[:-1]), list):
        path = path[:-1]  # a list item goes with its list, so that later items keep their places
    if not path:
        return None
    parent = _at(data, path[:-1])
    if not isinstance(parent, dict) or path[-1] not in parent:
        return None
    del parent[path[-1]]
    deleted.append(path)
    removed.append(path)
    if kind == "extra_forbidden":
        # An unknown key is often a misspelt field, which is then missing.
        model = _model_at(path[:-1], data)
        close = difflib.get_close_matches(str(path[-1]), list(model.model_fields) if model else [], n=1, cutoff=0.6)
        removed.extend((*path[:-1], field) for field in close)
    return True


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
