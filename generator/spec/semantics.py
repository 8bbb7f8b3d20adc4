"""Checks across fields of a spec that pydantic alone cannot make.

Input: a :class:`~generator.spec.LossSpec` that passed the schema. Output: a
:class:`Program` (the parsed formula) or a list of :class:`Problem` s, each with the
location tuple of the offending field, so the loader can point at its line.
"""

from __future__ import annotations

import builtins
import keyword
import math
import re
import unicodedata
from dataclasses import dataclass

from generator.formula.tree import Call, FormulaError, FormulaErrors, Node, Num, Ref, Scope, children, parse, refs
from generator.formula.vocabulary import FUNCTIONS, INPUTS, RESERVED
from generator.spec import shapes
from generator.spec.names import names
from generator.spec.schema import LossSpec, Parameter

# \Z, not $: `$` also matches before a final newline, and "name\n" would reach the code.
SNAKE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*\Z")
CAMEL = re.compile(r"^[A-Z][A-Za-z0-9]*\Z")
IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\Z")
DENSE_TARGETS = ("one_hot", "labels", "distribution")
BUILTINS = frozenset(dir(builtins))


@dataclass(frozen=True)
class Problem:
    loc: tuple
    message: str
    column: int | None = None  # 1-based column inside a formula, when known
    at_key: bool = False  # point at the key (a bad name) rather than at its value
    depends: tuple[tuple, ...] = ()
    """The other fields this problem was found from, besides its own ``loc`` (``*`` stands
    for any key): when the schema rejected one of them, or a parent of one, the loader
    leaves the problem out, as it may not be one once that field is fixed."""


PARAMETERS = ("parameters", "*")
"""Which parameters there are (and so their types)."""
STEPS = ("formula", "steps", "*")
"""Which steps there are, and their formulas."""
PARTS = ("inputs", "y_pred", "parts", "*")
"""Which named parts of ``y_pred`` there are (formulas read them by name)."""
USES = (STEPS, ("formula", "loss"), ("weighting", "*"), ("inputs", "y_pred", "logits_when"), ("inputs", "class_axis"))
"""Every field that can use a parameter or a step."""


@dataclass(frozen=True)
class Program:
    """The parsed formula of a spec, in step order."""

    steps: tuple[tuple[str, Node], ...]
    loss: Node
    weight: Node | None = None  # the ``value`` weighting rule's formula


def check(spec: LossSpec) -> tuple[Program | None, list[Problem]]:
    problems: list[Problem] = []
    _check_names(spec, problems)
    _check_shadowing(spec, problems)
    _check_docstring_texts(spec, problems)
    for pname, param in spec.parameters.items():
        _check_parameter(pname, param, problems)
    _check_inputs(spec, problems)
    _check_parts(spec, problems)
    program = _check_formula(spec, problems)
    if program is not None:
        _check_image_calls(spec, program, problems)
    _check_weighting(spec, problems)
    _check_references(spec, problems)
    _check_plot(spec, problems)
    return (None if problems else program), problems


def _name_problem(value: str, what: str) -> str | None:
    if not IDENTIFIER.match(value):
        return f"{what} `{value}` is not a valid Python identifier"
    if keyword.iskeyword(value) or keyword.issoftkeyword(value):
        return f"{what} `{value}` is a Python keyword"
    if value.startswith("__"):
        return f"{what} `{value}` may not start with `__`"
    return None


def _check_names(spec: LossSpec, problems: list[Problem]) -> None:
    message = _name_problem(spec.name, "name")
    if message is None and not SNAKE.match(spec.name):
        message = f"name `{spec.name}` must be snake_case: lower-case letters, digits and single underscores"
    if message is None and spec.name in RESERVED:
        message = f"name `{spec.name}` is reserved"
    if message is None and spec.name in BUILTINS:
        message = f"name `{spec.name}` is a Python built-in that the generated code uses"
    if message:
        problems.append(Problem(("name",), message))
    if spec.class_name is not None and not CAMEL.match(spec.class_name):
        problems.append(
            Problem(("class_name",), f"class_name `{spec.class_name}` must be CamelCase, like `BinaryFocal`")
        )


def _docstring_problem(text: str | None) -> str | None:
    """Why ``text`` cannot go into a docstring of the generated code as it is, if it cannot."""
    if text is None:
        return None
    why = "this text goes into docstrings of the generated Python code"
    if '"""' in text:
        return f'may not contain `"""`: {why}'
    if "\\" in text:
        return f"may not contain a backslash: {why}"
    for ch in text:
        if ch not in "\n\t" and unicodedata.category(ch) == "Cc":
            return f"may not contain the control character {ch!r}: {why}"
    return None


def _check_docstring_texts(spec: LossSpec, problems: list[Problem]) -> None:
    texts: list[tuple[tuple, str | None]] = [
        (("title",), spec.title),
        (("summary",), spec.summary),
        (("inputs", "y_true", "doc"), spec.inputs.y_true.doc),
        (("inputs", "y_pred", "doc"), spec.inputs.y_pred.doc),
    ]
    texts += [(("parameters", pname, "doc"), param.doc) for pname, param in spec.parameters.items()]
    for loc, text in texts:
        message = _docstring_problem(text)
        if message:
            problems.append(Problem(loc, message))


def _local_name_problem(value: str, what: str) -> str | None:
    message = _name_problem(value, what)
    if message:
        return message
    if value in RESERVED or value in INPUTS:
        return f"{what} `{value}` is reserved"
    if value in FUNCTIONS:
        return f"{what} `{value}` is the name of a formula function"
    if value in BUILTINS:
        return f"{what} `{value}` is a Python built-in that the generated code uses"
    return None


def _check_shadowing(spec: LossSpec, problems: list[Problem]) -> None:
    """Parameters and steps may not take the names the generated module defines."""
    module_names = names(spec).all()
    for pname in spec.parameters:
        if pname in module_names:
            problems.append(
                Problem(
                    ("parameters", pname),
                    f"parameter name `{pname}` is a name the module defines",
                    depends=(("name",), ("class_name",)),
                )
            )
    for sname in spec.formula.steps:
        if sname in module_names:
            problems.append(
                Problem(
                    ("formula", "steps", sname),
                    f"step name `{sname}` is a name the module defines",
                    at_key=True,
                    depends=(("name",), ("class_name",)),
                )
            )


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _finite(value: int | float) -> bool:
    """Whether a number has a float value that is neither infinite nor NaN (``inf`` and
    ``nan`` are not Python literals, and a float parameter's default is written as one)."""
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False


def _check_parameter(pname: str, param: Parameter, problems: list[Problem]) -> None:
    base = ("parameters", pname)
    message = _local_name_problem(pname, "parameter name")
    if message:
        problems.append(Problem(base, message, at_key=True))
    default = param.default
    values: list[object]
    if param.type == "float":
        ok, values, expected = _is_number(default), [default], "a number"
    elif param.type == "int":
        ok, values, expected = isinstance(default, int) and not isinstance(default, bool), [default], "a whole number"
    elif param.type == "bool":
        ok, values, expected = isinstance(default, bool), [], "true or false"
    elif param.type == "vector":
        ok = isinstance(default, list) and bool(default) and all(_is_number(v) for v in default)
        values, expected = (default if ok else []), "a non-empty list of numbers"
    else:
        ok = (
            isinstance(default, list)
            and bool(default)
            and all(isinstance(row, list) and row and all(_is_number(v) for v in row) for row in default)
        )
        values, expected = ([v for row in default for v in row] if ok else []), "a list of rows of numbers"
        if ok and len({len(row) for row in default}) > 1:
            lengths = ", ".join(str(len(row)) for row in default)
            problems.append(Problem((*base, "default"), f"matrix rows must have equal lengths, got {lengths}"))
    if not ok:
        problems.append(
            Problem((*base, "default"), f"a {param.type} parameter needs {expected} as default, got {default!r}")
        )
        return
    if param.type != "int" and not all(_finite(v) for v in values):
        problems.append(Problem((*base, "default"), f"a {param.type} parameter needs finite numbers, got {default!r}"))
        return
    if param.type == "bool" and (param.min is not None or param.max is not None):
        problems.append(Problem(base, "a bool parameter cannot have min or max"))
    if param.min is not None and param.max is not None and param.min > param.max:
        problems.append(Problem((*base, "min"), f"min ({param.min}) is larger than max ({param.max})"))
        return
    for value in values:
        outside = _outside_bounds(value, param)
        if outside:
            problems.append(Problem((*base, "default"), f"default {value} is {outside}"))
            return


def _outside_bounds(value: float, param: Parameter) -> str | None:
    """``below the minimum m`` or ``above the maximum m`` when ``value`` is outside the
    parameter's bounds, else None."""
    if param.min is not None and value < param.min:
        return f"below the minimum {param.min}"
    if param.max is not None and value > param.max:
        return f"above the maximum {param.max}"
    return None


def _flags(spec: LossSpec) -> frozenset[str]:
    return frozenset(n for n, p in spec.parameters.items() if p.type == "bool")


ROW_KINDS = ("labels", "box", "embedding", "mean_and_log_variance")
"""Input kinds whose last axis is not one entry per class, so they cannot be per pixel (or,
for the checker, per time step)."""


def _check_inputs(spec: LossSpec, problems: list[Problem]) -> None:
    flag = spec.inputs.y_pred.logits_when
    if flag is not None and flag not in _flags(spec):
        problems.append(
            Problem(
                ("inputs", "y_pred", "logits_when"),
                f"`{flag}` is not a bool parameter of this spec",
                depends=(PARAMETERS,),
            )
        )
    _check_class_axis(spec, problems)
    _check_per_class(spec, problems)
    _check_own_width(spec, problems)
    if spec.inputs.pixels and spec.inputs.image:
        problems.append(
            Problem(
                ("inputs", "image"),
                "`image` keeps height and width, `pixels` flattens them into one axis: declare one of them",
            )
        )
    if spec.inputs.pixels:
        for side in ("y_true", "y_pred"):
            kind = getattr(spec.inputs, side).kind
            if kind in ROW_KINDS:
                problems.append(
                    Problem(
                        ("inputs", side, "kind"),
                        f"`{kind}` inputs have no class axis to pair with pixels; use one_hot, binary or"
                        " distribution targets and vector predictions",
                    )
                )
    if spec.inputs.image:
        for side in ("y_true", "y_pred"):
            kind = getattr(spec.inputs, side).kind
            if kind in ROW_KINDS:
                problems.append(
                    Problem(
                        ("inputs", side, "kind"),
                        f"`{kind}` inputs are not values per pixel and channel, as images are; use real,"
                        " nonnegative, binary or probability images",
                    )
                )
    for mode in ("pixels", "image"):
        if getattr(spec.inputs, mode) and spec.weighting.rule not in ("none", "value"):
            problems.append(
                Problem(
                    ("weighting", "rule"),
                    f"rule `{spec.weighting.rule}` weighs whole samples by class; with {mode} use `none` or `value`",
                    depends=(("inputs", mode),),
                )
            )


def _input_settings(spec: LossSpec) -> set[str | None]:
    """The parameters read by the generated code's input handling, not by the formula."""
    return {spec.inputs.y_pred.logits_when, spec.inputs.class_axis, spec.inputs.per_class}


def _check_int_setting(spec: LossSpec, field: str, fits, wanted: str, problems: list[Problem]) -> bool:
    """For a layout setting of ``inputs`` that names an int parameter (``class_axis``,
    ``per_class``): report when the name is not such a parameter or ``fits(param)`` is
    false (``wanted`` says what it needs); false when the setting is not given."""
    name = getattr(spec.inputs, field)
    if name is None:
        return False
    param = spec.parameters.get(name)
    if param is None or param.type != "int" or not fits(param):
        problems.append(
            Problem(("inputs", field), f"`{name}` is not an int parameter of this spec {wanted}", depends=(PARAMETERS,))
        )
    return True


def _default_minus_one(param: Parameter) -> bool:
    return param.default == -1


def _at_least_one(param: Parameter) -> bool:
    return param.min is not None and param.min >= 1


def _check_class_axis(spec: LossSpec, problems: list[Problem]) -> None:
    if not _check_int_setting(spec, "class_axis", _default_minus_one, "with default -1", problems):
        return
    loc = ("inputs", "class_axis")
    prediction = spec.inputs.y_pred
    if spec.inputs.pixels or spec.inputs.image or prediction.parts or spec.inputs.y_true.broadcast:
        problems.append(Problem(loc, "a class axis can be moved only where y_pred is one vector per sample"))
    elif prediction.kind in ROW_KINDS:
        problems.append(Problem(loc, f"`{prediction.kind}` predictions have no class axis to move"))


def _check_per_class(spec: LossSpec, problems: list[Problem]) -> None:
    if not _check_int_setting(spec, "per_class", _at_least_one, "with `min: 1` or more", problems):
        return
    loc, inputs = ("inputs", "per_class"), spec.inputs
    if inputs.y_true.kind != "labels":
        problems.append(
            Problem(
                loc,
                "numbers grouped per class pair with class ids (`y_true` of kind `labels`), whose width does not"
                " depend on the group size",
            )
        )
    if inputs.pixels or inputs.image or inputs.class_axis or inputs.y_pred.parts or inputs.y_pred.kind in ROW_KINDS:
        problems.append(
            Problem(loc, "numbers can be grouped per class only where y_pred is one row of scores per sample")
        )


def _check_own_width(spec: LossSpec, problems: list[Problem]) -> None:
    inputs = spec.inputs
    if not inputs.y_true.own_width:
        return
    loc = ("inputs", "y_true", "own_width")
    if inputs.y_true.kind in ("labels", "box"):
        problems.append(
            Problem(
                loc, f"`{inputs.y_true.kind}` targets have a shape of their kind's; `own_width` is for rows of values"
            )
        )
    if (
        inputs.y_true.broadcast
        or inputs.pixels
        or inputs.image
        or inputs.class_axis
        or inputs.per_class
        or inputs.y_pred.parts
        or inputs.y_pred.kind == "mean_and_log_variance"
        or spec.weighting.rule != "none"
    ):
        problems.append(
            Problem(
                loc,
                "targets of their own width pair with one row of predictions per sample, without broadcast,"
                " pixels, images, a class axis, grouped or packed predictions, or weighting rules",
            )
        )


def _parse(text: str, scope: Scope, loc: tuple, problems: list[Problem]) -> Node | None:
    """The parsed formula, or None after adding its problems (every unknown function, or
    the first other mistake)."""
    try:
        return parse(text, scope)
    except FormulaError as exc:
        for error in exc.errors if isinstance(exc, FormulaErrors) else [exc]:
            depends = (PARAMETERS, STEPS, PARTS) if error.scoped else ()
            problems.append(Problem(loc, error.message, error.column, depends=depends))
        return None


def _check_formula(spec: LossSpec, problems: list[Problem]) -> Program | None:
    names = {n: "input" for n in INPUTS}
    names.update({n: "param" for n in spec.parameters})
    names.update({n: "step" for n in spec.inputs.y_pred.parts})
    flags = _flags(spec)
    steps: list[tuple[str, Node]] = []
    ok = True
    for sname, text in spec.formula.steps.items():
        loc = ("formula", "steps", sname)
        message = _local_name_problem(sname, "step name")
        if message is None and sname in spec.parameters:
            message = f"step name `{sname}` is already a parameter"
        if message:
            problems.append(Problem(loc, message, at_key=True))
            ok = False
            continue
        node = _parse(text, Scope(dict(names), flags), loc, problems)
        if node is None:
            ok = False
        else:
            steps.append((sname, node))
        names[sname] = "step"
    loss = _parse(spec.formula.loss, Scope(dict(names), flags), ("formula", "loss"), problems)
    weight = None
    if spec.weighting.rule == "value":
        weight = _parse(spec.weighting.weight, Scope(dict(names), flags), ("weighting", "weight"), problems)
        ok = ok and weight is not None
    if not ok or loss is None:
        return None
    used = refs(loss) | (refs(weight) if weight is not None else set())
    for _, node in steps:
        used |= refs(node)
    for sname, _ in steps:
        if sname not in used:
            problems.append(Problem(("formula", "steps", sname), f"step `{sname}` is never used", depends=USES))
    rule_params = {getattr(spec.weighting, "weights", None), getattr(spec.weighting, "table", None)}
    for pname in spec.parameters:
        if _local_name_problem(pname, "") is not None:
            continue  # already reported
        if pname not in used and pname not in rule_params and pname not in _input_settings(spec):
            problems.append(
                Problem(("parameters", pname), f"parameter `{pname}` is not used by the formula", depends=USES)
            )
    for pname, param in spec.parameters.items():
        if param.type in ("vector", "matrix") and pname in used and pname in rule_params:
            problems.append(
                Problem(
                    ("parameters", pname), f"parameter `{pname}` is a weighting table; do not use it in the formula too"
                )
            )
    return Program(tuple(steps), loss, weight)


def _calls(node: Node) -> list[Call]:
    """Every call in a tree, outermost first."""
    found = [node] if isinstance(node, Call) else []
    for child in children(node):
        found += _calls(child)
    return found


def _check_image_calls(spec: LossSpec, program: Program, problems: list[Problem]) -> None:
    """Functions that slide a window over images (``local_mean``) need inputs that keep
    their height and width (``inputs.image``), and a window size the code knows before it
    sees the data: a whole number or an int parameter."""
    formulas = [(("formula", "steps", name), node) for name, node in program.steps]
    formulas.append((("formula", "loss"), program.loss))
    if program.weight is not None:
        formulas.append((("weighting", "weight"), program.weight))
    for loc, node in formulas:
        for found in _calls(node):
            fn = FUNCTIONS[found.fn]
            if fn.images and not spec.inputs.image:
                problems.append(
                    Problem(
                        loc,
                        f"`{fn.name}` slides a window over the height and width of images: declare"
                        " `inputs.image: true`, so that the inputs keep them",
                        depends=(("inputs", "image"),),
                    )
                )
            for position in fn.sizes:
                arg = found.args[position]
                whole = isinstance(arg, Num) and type(arg.value) is int
                int_param = isinstance(arg, Ref) and arg.kind == "param" and spec.parameters[arg.name].type == "int"
                if not (whole or int_param):
                    problems.append(
                        Problem(
                            loc,
                            f"{fn.name}(): {fn.params[position]} must be a whole number or an int parameter:"
                            " the code builds the window before it sees the data",
                            depends=(PARAMETERS,),
                        )
                    )


def _check_weighting(spec: LossSpec, problems: list[Problem]) -> None:
    w = spec.weighting
    target = spec.inputs.y_true.kind
    if w.rule in ("class", "confusion") and target not in DENSE_TARGETS:
        allowed = ", ".join(DENSE_TARGETS)
        problems.append(
            Problem(
                ("weighting", "rule"),
                f"rule `{w.rule}` needs class targets (inputs.y_true.kind one of {allowed}), not `{target}`",
                depends=(("inputs", "y_true", "kind"),),
            )
        )
    if w.rule == "per_example":
        _check_per_example(spec, problems)
    if w.rule == "class":
        param = spec.parameters.get(w.weights)
        if param is None or param.type != "vector":
            problems.append(
                Problem(("weighting", "weights"), f"`{w.weights}` must name a vector parameter", depends=(PARAMETERS,))
            )
    if w.rule == "confusion":
        param = spec.parameters.get(w.table)
        if param is None or param.type != "matrix":
            problems.append(
                Problem(("weighting", "table"), f"`{w.table}` must name a matrix parameter", depends=(PARAMETERS,))
            )
        elif (
            isinstance(param.default, list)
            and all(isinstance(r, list) for r in param.default)
            and len({len(r) for r in param.default}) == 1
            and len(param.default[0]) != len(param.default)
        ):
            rows = len(param.default)
            cols = len(param.default[0]) if isinstance(param.default[0], list) else 0
            problems.append(
                Problem(
                    ("parameters", w.table, "default"),
                    f"a confusion table must be square (classes x classes), got {rows}x{cols}",
                    depends=(("weighting", "table"),),
                )
            )


def _check_references(spec: LossSpec, problems: list[Problem]) -> None:
    if spec.keras is not None:
        _unknown_parameters(spec, spec.keras.rename, ("keras", "rename"), problems)
        _unknown_parameters(spec, spec.keras.when, ("keras", "when"), problems, at_key=True)
        for name in spec.keras.when:
            if name in spec.parameters and spec.parameters[name].type != "bool":
                message = f"`{name}` has type {spec.parameters[name].type}; `when` takes bool parameters"
                problems.append(Problem(("keras", "when", name), message, at_key=True))
    for i, peer in enumerate(spec.peers):
        _unknown_parameters(spec, peer.params, ("peers", i, "params"), problems, at_key=True)
    for i, example in enumerate(spec.examples):
        if (example.expected is None) == (example.expected_mean is None):
            problems.append(Problem(("examples", i), "give exactly one of `expected` (per sample) or `expected_mean`"))
        elif example.expected is not None and len(example.expected) != len(example.y_true):
            problems.append(
                Problem(
                    ("examples", i, "expected"),
                    f"{len(example.expected)} expected values for {len(example.y_true)} samples of y_true",
                )
            )
        _unknown_parameters(spec, example.params, ("examples", i, "params"), problems)


def _check_plot(spec: LossSpec, problems: list[Problem]) -> None:
    plot = spec.plot
    if plot.along == "mix" and (
        spec.inputs.y_true.kind == "labels"
        or spec.inputs.y_pred.parts
        or spec.inputs.y_pred.kind == "mean_and_log_variance"
        or spec.inputs.y_true.broadcast
        or shapes.packed_weights(spec)
    ):
        message = "`mix` moves the predictions from the targets themselves: y_true and y_pred must have the same shape"
        problems.append(Problem(("plot", "along"), message))
    if plot.vary is not None:
        if plot.vary not in spec.parameters:
            problems.append(
                Problem(("plot", "vary"), f"`{plot.vary}` is not a parameter of this spec", depends=(PARAMETERS,))
            )
            return
        if spec.parameters[plot.vary].type != "float":
            message = f"`{plot.vary}` has type {spec.parameters[plot.vary].type}; the plot draws float parameters"
            problems.append(Problem(("plot", "vary"), message))
            return
    if plot.values is not None:
        if plot.vary is None:
            problems.append(Problem(("plot", "values"), "give `vary`, the parameter these values are for"))
            return
        param = spec.parameters[plot.vary]
        for i, value in enumerate(plot.values):
            outside = _outside_bounds(value, param)
            if outside:
                problems.append(Problem(("plot", "values", i), f"{value} is {outside} of `{plot.vary}`"))


def _unknown_parameters(
    spec: LossSpec, used: dict[str, object], where: tuple, problems: list[Problem], at_key: bool = False
) -> None:
    """A problem at ``where + (name,)`` for each key of ``used`` that is not a parameter."""
    for name in used:
        if name not in spec.parameters:
            message = f"`{name}` is not a parameter of this spec"
            problems.append(Problem((*where, name), message, at_key=at_key, depends=(PARAMETERS,)))


PART_TARGETS = ("real", "nonnegative", "binary", "signed")
"""Target kinds a packed prediction can pair with: one number per target, each part as
wide as the targets."""


def _check_parts(spec: LossSpec, problems: list[Problem]) -> None:
    """Named parts of ``y_pred``: valid names of their own, each a kind or a lower bound, and
    inputs that leave the last axis to them."""
    prediction = spec.inputs.y_pred
    if not prediction.parts:
        return
    base = ("inputs", "y_pred", "parts")
    if prediction.kind != "real":
        problems.append(
            Problem(
                ("inputs", "y_pred", "kind"), f"a prediction with parts leaves out `kind` (got `{prediction.kind}`)"
            )
        )
    if prediction.logits_when is not None:
        problems.append(Problem(("inputs", "y_pred", "logits_when"), "a prediction with parts cannot hold logits"))
    if spec.inputs.y_true.kind not in PART_TARGETS:
        allowed = ", ".join(PART_TARGETS)
        problems.append(
            Problem(
                ("inputs", "y_true", "kind"),
                f"parts of y_pred pair with one number per target (y_true kind one of {allowed}),"
                f" not `{spec.inputs.y_true.kind}`",
            )
        )
    if spec.inputs.pixels or spec.inputs.image or spec.inputs.y_true.broadcast:
        problems.append(Problem(base, "parts of y_pred cannot be combined with `pixels`, `image` or `broadcast`"))
    for pname, part in prediction.parts.items():
        message = _local_name_problem(pname, "part name")
        if message is None and (pname in spec.parameters or pname in spec.formula.steps):
            message = f"part name `{pname}` is already a parameter or a step"
        if message:
            problems.append(Problem((*base, pname), message, at_key=True))
        if not isinstance(part, str) and part.greater_than is not None and part.kind != "real":
            problems.append(
                Problem((*base, pname, "kind"), "a part with `greater_than` is real above that bound; leave out `kind`")
            )
        if not isinstance(part, str) and part.greater_than is not None and not _finite(part.greater_than):
            problems.append(Problem((*base, pname, "greater_than"), "must be a finite number"))


def _check_per_example(spec: LossSpec, problems: list[Problem]) -> None:
    """One weight per sample goes behind any targets but class ids (which have no column
    to put it beside); a table per sample goes behind one-hot labels only."""
    target = spec.inputs.y_true.kind
    kind = shapes.packed_weights(spec)
    where = ("weighting", "kind") if spec.weighting.kind is not None else ("weighting", "rule")
    if kind == "table" and target != "one_hot":
        problems.append(
            Problem(
                where,
                f"per-example tables go behind one-hot targets (inputs.y_true.kind: one_hot), not `{target}`;"
                " for one weight per sample use `kind: number`",
                depends=(("inputs", "y_true", "kind"),),
            )
        )
    if kind == "number" and target == "labels":
        problems.append(
            Problem(
                where,
                "per-example weights cannot be packed beside class ids; give one-hot targets"
                " (inputs.y_true.kind: one_hot), or pass the weights as sample_weight",
                depends=(("inputs", "y_true", "kind"),),
            )
        )
