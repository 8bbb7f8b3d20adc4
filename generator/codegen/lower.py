"""Lower a checked spec to the render model: names, literals, docstrings, ops code, LaTeX.

This is where every decision about the generated text is made; templates only print.
Weighting rules are expanded here into formula trees (not template code), so that the
same printers produce their ops code and their LaTeX.
"""

from __future__ import annotations

import math
import textwrap

from generator import PACKAGE
from generator.codegen import formatting
from generator.codegen.optimize import optimize
from generator.codegen.views import (
    ArrayParamView,
    FormView,
    InputsView,
    LossView,
    ParamView,
    PeerView,
    UsageView,
)
from generator.formula import emit
from generator.formula.tree import Binary, Call, Compare, Cond, Node, Num, Ref, Unary, children, number_value, rebuild
from generator.formula.vocabulary import FUNCTIONS
from generator.spec import shapes
from generator.spec.loader import LoadedSpec
from generator.spec.names import KERAS_PEER_LIBRARIES, PEER_INPUTS_TEXT, PEER_LIBRARIES, keras_doc_url, names
from generator.spec.program import program, weighted
from generator.spec.schema import Example, LossSpec, Parameter, Part, Peer

DOC_WIDTH = 80
"""Docstring text width (the generated code is formatted to 88 columns)."""

_TARGET_DOCS = {
    "real": "Targets, shape `(batch, d)`, or `(batch,)` for one target per sample.",
    "nonnegative": "Non-negative targets, shape `(batch, d)`, or `(batch,)` for one target per sample.",
    "binary": "Binary targets (0 or 1), shape `(batch, d)`, or `(batch,)` for one per sample.",
    "signed": "Targets of -1 or +1 (0/1 targets are converted), shape `(batch, d)` or `(batch,)`.",
    "one_hot": "One-hot class targets, shape `(batch, classes)`.",
    "labels": "Integer class ids, shape `(batch,)` or `(batch, 1)`.",
    "distribution": "Target distributions (rows sum to 1), shape `(batch, classes)`.",
}
_PREDICTION_DOCS = {
    "real": "Predictions, shape `(batch, d)`.",
    "nonnegative": "Non-negative predictions, shape `(batch, d)`.",
    "probability": "Predicted probabilities in [0, 1], shape `(batch, d)`.",
    "distribution": "Predicted class probabilities (rows sum to 1), shape `(batch, classes)`.",
}
_IMAGE_DOCS = {
    "y_true": "Target images, shape `(batch, height, width, channels)`, or `(batch, height, width)` for one channel.",
    "y_pred": "Predicted images, the same shape as `y_true`.",
}
"""The inputs' docstrings for image losses whose spec gives none: images, whatever their kind."""
_RETURNS = {
    False: (
        "One loss value per sample: a tensor shaped like `y_pred` without its last axis, so"
        " that `sample_weight` and the loss reduction work as usual."
    ),
    True: (
        "One loss value per sample (image), shape `(batch,)`, so that `sample_weight` and the"
        " loss reduction work as usual."
    ),
}
_WEIGHTING_TEXT = {
    "none": "",
    "value": "Each element of the loss term is multiplied by a weight computed from the data before the reduction.",
    "class": "Each sample's loss is multiplied by the weight of its true class (`{ref}`).",
    "confusion": (
        "Each sample's loss is multiplied by `{ref}[i, j]`, where `i` is the true class and `j` the"
        " predicted class (`argmax` of each), so that chosen mistakes cost more."
    ),
    "per_example": (
        "Every sample brings its own classes-by-classes weight table, packed into `y_true` behind the"
        " one-hot labels by `{pack}`; the sample's loss is multiplied by `table[i, j]` for true class `i`"
        " and predicted class `j`."
    ),
    "per_example_number": (
        "Every sample brings its own weight, packed into `y_true` behind its targets by `{pack}`; the"
        " sample's loss is multiplied by it. With Keras's default reduction this gives what"
        " `sample_weight` gives, for pipelines that can carry only `(x, y)`."
    ),
}


def first_sentence(text: str) -> str:
    """The first sentence of a spec's prose, on one line: the catalog's summary column and
    a page's meta description."""
    flat = " ".join(text.split())
    head, dot, _ = flat.partition(". ")
    return head + ("." if dot or not head.endswith(".") else "")


def wrap(text: str, width: int = DOC_WIDTH, indent: str = "") -> tuple[str, ...]:
    """Wrap prose to ``width`` columns; the first line is not indented, the rest are."""
    lines = textwrap.wrap(" ".join(text.split()), width=width, subsequent_indent=indent)
    return tuple(lines) or ("",)


def _tuple_literal(values: list) -> str:
    inner = ", ".join(values)
    return f"({inner},)" if len(values) == 1 else f"({inner})"


def default_code(param: Parameter) -> str:
    """The default as a Python literal; vectors and matrices as (immutable) tuples."""
    if param.type == "float":
        return emit.number(float(param.default))
    if param.type in ("int", "bool"):
        return emit.number(param.default)
    if param.type == "vector":
        return _tuple_literal([emit.number(float(v)) for v in param.default])
    return _tuple_literal([_tuple_literal([emit.number(float(v)) for v in row]) for row in param.default])


def default_text(param: Parameter) -> str:
    if param.type == "float":
        return emit.number(float(param.default))
    if param.type in ("int", "bool"):
        return emit.number(param.default)
    if param.type == "vector":
        return "[" + ", ".join(emit.number(float(v)) for v in param.default) + "]"
    return "[" + ", ".join("[" + ", ".join(emit.number(float(v)) for v in row) + "]" for row in param.default) + "]"


def _coerce(name: str, kind: str) -> str:
    return {
        "float": f"float({name})",
        "int": f"int({name})",
        "bool": f"bool({name})",
        "vector": f"[float(v) for v in {name}]",
        "matrix": f"[[float(v) for v in row] for row in {name}]",
    }[kind]


def range_text(param: Parameter) -> str:
    """The bounds of a parameter in words, as an int parameter's own numbers (``>= 1``, not
    ``>= 1.0``) or a float's."""

    def number(value: float) -> str:
        return str(int(value)) if param.type == "int" and float(value).is_integer() else emit.number(float(value))

    low, high = param.min, param.max
    if low is not None and high is not None:
        return f"[{number(low)}, {number(high)}]"
    if low is not None:
        return f">= {number(low)}"
    if high is not None:
        return f"<= {number(high)}"
    return "any"


def _param_view(name: str, param: Parameter) -> ParamView:
    bounds = range_text(param)
    shape = {"vector": " One value per class.", "matrix": " A list of rows."}.get(param.type, "")
    doc = f"{param.doc.strip()}{shape} Default {default_text(param)}"
    doc += "." if bounds == "any" else f"; allowed {bounds}."
    return ParamView(
        name=name,
        type=param.type,
        doc=param.doc.strip(),
        default_code=default_code(param),
        default_text=default_text(param),
        coerce_code=_coerce(name, param.type),
        range_text=bounds,
        doc_lines=wrap(f"{name}: {doc}", DOC_WIDTH - 8, "    "),
    )


# ---------------------------------------------------------------- the body


LAYOUTS = {
    "same": "y_true and y_pred of the same shape",
    "broadcast": "y_true of the same shape as y_pred, or with a last axis of 1",
    "labels": "y_true of class ids, shaped like y_pred without its last axis (or with a last axis of 1)",
    "double": "y_pred twice as wide as y_true (means, then log-variances), their other axes equal",
    "weight_column": (
        "y_true with one more column than y_pred (the targets, then the sample's weight), their other axes equal"
    ),
    "parts": "y_pred with {count} parts per target ({names}), {count} times as wide as y_true, their other axes equal",
    "packed": (
        "y_true with classes + classes * classes columns (labels, then the flattened weight tables)"
        " for y_pred's classes columns, their other axes equal"
    ),
    "image": (
        "y_true and y_pred images of the same shape (batch, height, width, channels), or (batch,"
        " height, width) for one channel"
    ),
    "rows": "y_true and y_pred with one row per sample, (batch, any width) each",
}
"""How ``y_true`` and ``y_pred`` must fit, by layout: the generated code lines their ranks
up, then raises ``ValueError`` with this text when their shapes still do not fit."""


def layout(spec: LossSpec) -> str:
    """The input layout of a spec (:data:`LAYOUTS`)."""
    packed = shapes.packed_weights(spec)
    if packed:
        return "packed" if packed == "table" else "weight_column"
    if spec.inputs.image:
        return "image"
    if spec.inputs.y_pred.kind == "mean_and_log_variance":
        return "double"
    if spec.inputs.y_pred.parts:
        return "parts"
    if spec.inputs.y_true.kind == "labels":
        return "labels"
    if spec.inputs.y_true.own_width:
        return "rows"
    return "broadcast" if spec.inputs.y_true.broadcast else "same"


_LAYOUT_PAGES = {
    "same": "`y_true` and `y_pred` have the same shape.",
    "broadcast": (
        "`y_true` has the shape of `y_pred`, or a last axis of 1 (one target for every column);"
        " `(batch,)` targets count as `(batch, 1)`."
    ),
    "labels": "`y_true` holds class ids, of shape `(batch,)` or `(batch, 1)`, as integers or floats.",
    "double": (
        "`y_pred` is twice as wide as `y_true`: the means, then the log-variances; `(batch,)` targets"
        " count as `(batch, 1)`."
    ),
    "packed": "`y_true` holds the one-hot labels followed by the flattened weight tables: use the pack helper.",
    "weight_column": (
        "`y_true` holds the targets followed by one weight per sample, one column more than `y_pred`:"
        " use the pack helper."
    ),
    "parts": (
        "`y_pred` holds {count} parts per target, in this order, each as wide as `y_true`: {parts}."
        " `(batch,)` targets count as `(batch, 1)`; a `y_pred` of any other width raises a `ValueError`"
        " that names the parts."
    ),
    "image": (
        "`y_true` and `y_pred` are images of the same shape, `(batch, height, width, channels)`;"
        " a grayscale image may also be given as `(batch, height, width)`, and gets its channel"
        " axis back, as Keras's built-in losses add a trailing axis of size 1."
    ),
    "rows": (
        "`y_true` and `y_pred` hold one row per sample, `(batch, labels)` and `(batch, d)`: their widths"
        " are unrelated. A `(batch,)` input counts as `(batch, 1)`."
    ),
}
"""The layouts in words, for the reference pages."""

_ARRAY_WORDS = {"vector": "one value per class", "matrix": "one row per class and one column per class"}


def inputs_view(spec: LossSpec, windows: bool = False) -> InputsView:
    """How the code receives the inputs; ``windows``: the formula slides a window over the
    images, which raises when they are smaller than it."""
    arrays = tuple(
        ArrayParamView(name, shape, _string_parts(f"{spec.name}: `{name}` must have {words}, shape {shape} with "))
        for name, p in spec.parameters.items()
        if p.type in shapes.PARAMETER_AXES
        for shape, words in [(_tuple_literal(list(shapes.PARAMETER_AXES[p.type])), _ARRAY_WORDS[p.type])]
    )
    kind = layout(spec)
    parts = shapes.parts(spec)
    fill = {
        "count": len(parts),
        "names": ", ".join(name for name, _ in parts),
        "parts": ", ".join(f"`{name}` ({_part_words(part)})" for name, part in parts),
    }
    page = _LAYOUT_PAGES[kind].format(**fill)
    if kind == "same" and spec.inputs.y_true.kind in shapes.ONE_COLUMN_TARGETS:
        page += (
            " As in Keras's built-in losses, a trailing axis of size 1 is dropped from the input of"
            " higher rank, or added to a `(batch,)` one, so `(batch,)` targets work with a `Dense(1)` head."
        )
    page += " Any other pair of shapes raises a `ValueError` that names the loss and both shapes."
    if arrays:
        names = " and ".join(f"`{a.name}`" for a in arrays)
        page += f" {names} must fit the class count (the last axis of `y_pred`), or the first call raises one."
    message = _string_parts(f"{spec.name} expects {LAYOUTS[kind].format(**fill)}. ")
    axis = spec.inputs.class_axis
    if axis:
        page += (
            f" `{axis}` names the axis of `y_pred` the loss runs along (its classes, labels or features),"
            f" as in Keras's built-in losses (`{axis}=1` for channels-first outputs): it is moved last,"
            f" in `y_true` too when `y_true` has as many axes; an axis `y_pred` does not have raises a"
            " `ValueError`."
        )
    group = spec.inputs.per_class
    group_message: tuple[str, ...] = ()
    if group:
        page += (
            f" `y_pred` holds `{group}` numbers per class, side by side, class after class: its width is"
            f" the class count times `{group}` (`(batch, classes * {group})`, regrouped as"
            f" `(batch, classes, {group})` before the formula); any other width raises a `ValueError`."
        )
        group_message = _string_parts(
            f"{spec.name} expects a y_pred width that is a multiple of {group} (the numbers per class). "
        )
    return InputsView(
        kind,
        message,
        page,
        spec.inputs.pixels,
        arrays,
        shapes.prediction_factor(spec),
        windows,
        axis or "",
        group or "",
        group_message,
    )


_PART_WORDS = {"real": "any real", "nonnegative": "0 or more", "positive": "above 0", "probability": "in [0, 1]"}


def _part_words(part: Part) -> str:
    """A part's domain in words, then its doc: ``above 1: the shape of the inverse gamma``."""
    words = _PART_WORDS[part.kind] if part.greater_than is None else f"above {part.greater_than:g}"
    return f"{words}: {part.doc.strip()}" if part.doc else words


def _string_parts(text: str, width: int = 64) -> tuple[str, ...]:
    """String literals that spell ``text`` when written one after another, each short
    enough for a line of the formatted code."""
    assert '"' not in text and "\\" not in text, text
    lines = textwrap.wrap(text, width=width, drop_whitespace=False)
    return tuple(f'"{line}"' for line in lines)


DTYPE_TEXT = (
    "The loss computes in float32, and returns float32, for float32, float16, bfloat16 and"
    " integer inputs: in float16, 1 - epsilon rounds to 1 and the clips and logarithms would"
    " protect nothing. float64 predictions are computed in float64 and give float64 values on"
    " TensorFlow. On JAX, enable 64-bit arrays first (`JAX_ENABLE_X64=1`, or"
    ' `jax.config.update("jax_enable_x64", True)`); there and on PyTorch, Keras 3.15.1 itself'
    " computes some float64 operations in float32 (`ops.mean` among them), so float64 runs but"
    " is only as accurate as float32. Targets take the dtype of the predictions."
)


def _array_params(spec: LossSpec) -> list[str]:
    return [n for n, p in spec.parameters.items() if p.type in ("vector", "matrix")]


def _calls(node: Node) -> set[str]:
    """Every function a tree calls."""
    match node:
        case Call(fn=fn, args=args):
            return {fn}.union(*(_calls(a) for a in args))
        case Unary(operand=x):
            return _calls(x)
        case Binary(left=a, right=b) | Compare(left=a, right=b):
            return _calls(a) | _calls(b)
        case Cond(body=a, orelse=b):
            return _calls(a) | _calls(b)
    return set()


CLASS_TITLE = "{title}, as a `keras.losses.Loss`."
"""The first line of the class's docstring, when it fits the line after its indent and
quotes (``    \"\"\"``); else the title alone."""


def class_title(title: str) -> str:
    """The first line of the class's docstring (:data:`CLASS_TITLE`)."""
    line = CLASS_TITLE.format(title=title)
    return line if 7 + len(line) <= formatting.LINE_LENGTH else f"{title}."


def formula_lines(item: LoadedSpec, width: int = DOC_WIDTH - 8) -> tuple[str, ...]:
    """The ``Formula:`` section of the function's docstring: every step of the
    :func:`program` (before optimising) and the per-sample result, in the formula language,
    wrapped to ``width`` with continuation lines indented."""
    steps, result = program(item)
    lines: list[str] = []
    for name, node in [*steps, ("loss", result)]:
        lines += textwrap.wrap(
            f"{name} = {emit.text(node)}",
            width,
            subsequent_indent="    ",
            break_on_hyphens=False,
            break_long_words=False,
        )
    return tuple(lines)


def code_program(item: LoadedSpec) -> tuple[list[tuple[str, Node]], Node]:
    """The program the generated code computes: :func:`program` optimised
    (:mod:`generator.codegen.optimize`), with constant tensors in the compute dtype."""
    return _in_compute_dtype(item.spec, *optimize(*program(item), item.spec))


def body(steps: list[tuple[str, Node]], result: Node) -> tuple[str, ...]:
    """The function body after the inputs are prepared (``_function.py.jinja``, which
    first counts the classes when the body reads them): one line per step of the
    :func:`code_program`, then the result."""
    lines = []
    for name, node in steps:
        if _clips_to_epsilon(node):
            lines.append(CLIP_COMMENT)
        lines.append(f"{name} = {emit.code(node)}")
    lines.append(f"return {emit.code(result)}")
    return tuple(lines)


CLIP_COMMENT = "# Kept inside [epsilon, 1 - epsilon]: log(0) and 1 / 0 would give inf and NaN."
"""The comment above a step that clips to ``epsilon()``: why the values move."""


def _clips_to_epsilon(node: Node) -> bool:
    """Whether a step is ``clip(x, epsilon(), ...)``, the clip a reader may wonder about."""
    return (
        isinstance(node, Call)
        and node.fn == "clip"
        and len(node.args) > 1
        and isinstance(node.args[1], Call)
        and node.args[1].fn == "epsilon"
    )


def helpers(steps: list[tuple[str, Node]], result: Node) -> tuple[str, ...]:
    """The module-level helper functions the code of the program calls, sorted."""
    return tuple(sorted({FUNCTIONS[fn].helper for fn in _program_calls(steps, result)} - {""}))


def module_imports(steps: list[tuple[str, Node]], result: Node) -> tuple[str, ...]:
    """The standard-library modules the code of the program needs (``math`` for ``pi``), sorted."""
    return tuple(sorted({m for fn in _program_calls(steps, result) for m in FUNCTIONS[fn].imports}))


def _program_calls(steps: list[tuple[str, Node]], result: Node) -> set[str]:
    return set().union(*(_calls(node) for _, node in [*steps, ("", result)]))


def _reads_data(node: Node, data: set[str]) -> bool:
    """Whether a tree depends on the inputs: reads one (or a step in ``data``), or calls a
    function whose code reads ``y_pred`` (its shape or dtype)."""
    if isinstance(node, Ref):
        return node.kind == "input" or node.name in data
    if isinstance(node, Call) and "y_pred" in FUNCTIONS[node.fn].code:
        return True
    return any(_reads_data(child, data) for child in children(node))


_MATH = {
    "exp": math.exp,
    "log": math.log,
    "log1p": math.log1p,
    "expm1": math.expm1,
    "sqrt": math.sqrt,
    "sin": math.sin,
    "cos": math.cos,
    "tan": math.tan,
    "arcsin": math.asin,
    "arccos": math.acos,
    "arctan": math.atan,
    "sinh": math.sinh,
    "cosh": math.cosh,
    "erf": math.erf,
    "lgamma": math.lgamma,
}
"""Functions of numbers alone that lowering writes as their value: ``ops.log(2.0)`` would be
a float32 tensor, and the literal is exact in every dtype."""


def _number(node: Node) -> float | None:
    """The value of a tree of numbers, constants and arithmetic alone (:func:`number_value`),
    when it is a float; None for anything else, a complex power included."""
    value = number_value(node)
    return value if isinstance(value, float) else None


def _cast_constants(node: Node, data: set[str]) -> Node:
    """``node`` with every largest call computed from parameters and numbers alone made to
    compute in the compute dtype: ``ops.log(2.0)`` or ``ops.where(ops.equal(alpha, 0), 1.0,
    alpha)`` would be float32 tensors, which float64 inputs cannot be combined with."""
    if isinstance(node, Call) and node.fn in _MATH and all(_number(a) is not None for a in node.args):
        try:
            return Num(_MATH[node.fn](*(_number(a) for a in node.args)))
        except (ValueError, OverflowError):
            pass  # log(0) and the like: left to the backend, which gives inf or nan
    if not _reads_data(node, data) and isinstance(node, Call) and node.args:
        return _cast_first_leaf(node)[0]
    if isinstance(node, Call) and node.fn == "where" and not any(_reads_data(a, data) for a in node.args[1:]):
        # where(condition, 1.0, 0.0): the values, not the condition, give the dtype.
        condition, value, other = node.args
        return Call("where", (_cast_constants(condition, data), _cast_first_leaf(value)[0], other), node.keywords)
    return rebuild(node, tuple(_cast_constants(child, data) for child in children(node)))


def _cast_first_leaf(node: Node) -> tuple[Node, bool]:
    """``node`` with its first number or parameter (outside comparisons) cast to the
    compute dtype, so that every operation after it computes in that dtype; and whether
    there was one."""
    constant = isinstance(node, Call) and FUNCTIONS[node.fn].constant
    if constant or isinstance(node, Num) or (isinstance(node, Ref) and node.kind == "param"):
        return Call("compute_dtype", (node,)), True
    if isinstance(node, Call) and node.fn == "where" and isinstance(node.args[2], Call):
        # where(condition, 1.0, abs(alpha - 2)): a branch computed by a function of parameters
        # alone would be a float32 tensor, so both branches are cast.
        condition, value, other = node.args
        return Call("where", (condition, _cast_first_leaf(value)[0], _cast_first_leaf(other)[0]), node.keywords), True
    if isinstance(node, Compare):
        return node, False
    new = list(children(node))
    for i, child in enumerate(new):
        new[i], done = _cast_first_leaf(child)
        if done:
            return rebuild(node, tuple(new)), True
    return node, False


def _in_compute_dtype(
    spec: LossSpec, steps: list[tuple[str, Node]], result: Node
) -> tuple[list[tuple[str, Node]], Node]:
    """The program with constant tensors in the compute dtype (:func:`_cast_constants`).
    Vector and matrix parameters count as data: the code converts them to the compute
    dtype before the first step."""
    data = set(_array_params(spec))
    out = []
    for name, node in steps:
        if _reads_data(node, data):
            data.add(name)
        out.append((name, _cast_constants(node, data)))
    return out, _cast_constants(result, data)


def latex(item: LoadedSpec) -> str:
    """The formula as an ``aligned`` LaTeX block, unless the spec gives its own."""
    spec, program = item.spec, item.program
    if spec.latex:
        return spec.latex.strip()
    rows = [f"{emit.symbol(name)} &= {emit.latex(node)}" for name, node in program.steps]
    extra, result = weighted(spec, program.loss, program.weight)
    hidden = ("per_sample", "true_class", "predicted_class", "example_weight")
    rows += [f"{emit.symbol(name)} &= {emit.latex(node)}" for name, node in extra if name not in hidden]
    if spec.weighting.rule in ("class", "confusion", "per_example"):
        per_sample = dict(extra)["per_sample"]
        rows.append(
            rf"\ell &= w \cdot {emit.latex(per_sample)}"
            if shapes.packed_weights(spec) == "number"
            else rf"\ell &= \mathrm{{weight}} \cdot {emit.latex(per_sample)}"
        )
    else:
        rows.append(rf"\ell &= {emit.latex(result)}")
    return "\\begin{aligned}\n" + " \\\\\n".join(rows) + "\n\\end{aligned}"


# ---------------------------------------------------------------- the views


def _example_targets(spec: LossSpec, classes: int) -> str:
    """Python source for 32 random targets of the spec's kind (uses ``rng``); one per
    pixel of a small image when the loss is per pixel or on images."""
    spatial = shapes.spatial(spec)
    lead = ", ".join(str(n) for n in (32, *spatial))
    many = f"({lead})" if spatial else lead
    return {
        "real": f"rng.random(({lead}, {classes}))",
        "nonnegative": f"rng.random(({lead}, {classes}))",
        "binary": f'rng.integers(0, 2, ({lead}, {classes})).astype("float32")',
        "signed": f"rng.choice([-1.0, 1.0], ({lead}, {classes}))",
        "one_hot": f"np.eye({classes})[rng.integers(0, {classes}, {many})]",
        "labels": f"rng.integers(0, {classes}, {many})",
        "distribution": f"rng.dirichlet(np.ones({classes}), {many})",
        "box": "np.sort(rng.random((32, 2, 2)), axis=1).reshape(32, 4)",
    }[spec.inputs.y_true.kind]


_POSITIONAL = ("units", "filters", "kernel_size")
"""Layer arguments printed without their keyword: each comes first in its layer."""


def _layer_code(name: str, kwargs: dict[str, object]) -> str:
    """``keras.layers.Dense(3, activation="softmax")`` from a layer description."""
    args = [
        str(v) if k in _POSITIONAL else f'{k}="{v}"' if isinstance(v, str) else f"{k}={v!r}" for k, v in kwargs.items()
    ]
    return f"keras.layers.{name}({', '.join(args)})"


def _head_code(layers: list[tuple[str, dict[str, object]]], features: str) -> str:
    """The layers applied one after another to ``features``, as one Python expression."""
    code = features
    for name, kwargs in layers:
        code = f"{_layer_code(name, kwargs)}({code})"
    return code


_PACK_WEIGHTS = {"table": "np.ones((32, {classes}, {classes}))", "number": "rng.uniform(0.5, 2.0, 32)"}
"""The weights the page's program packs behind its targets, as Python source."""


def _usage(key: str, spec: LossSpec, module: str, loss_expr: str, import_name: str, pack: str) -> UsageView:
    """What the page's program (``templates/usage.py.jinja``) needs: train a small model
    with the loss, save it, reload it."""
    classes = shapes.example_width(spec)
    shape = shapes.input_shape(spec, 4)
    return UsageView(
        form=key,
        module=module,
        imports=", ".join([import_name] + ([pack] if pack else [])),
        import_name=import_name,
        sample_shape=str((32, *shape)),
        input_shape=str(shape),
        layers=", ".join(_layer_code(name, kwargs) for name, kwargs in shapes.output_layers(spec, classes)),
        targets=_example_targets(spec, shapes.target_width(spec, classes)),
        pack=pack,
        classes=classes,
        pack_weights=_PACK_WEIGHTS.get(shapes.packed_weights(spec), "").format(classes=classes),
        loss_expr=loss_expr,
        part_heads=tuple((_head_code(layers, "inputs"), name) for name, layers in shapes.part_heads(spec, classes)),
    )


_PITFALLS = {
    "function": (
        "The function always runs with the default parameters: the saved model records only its"
        " name. Import the module before `load_model`, or Keras cannot find the name."
    ),
    "factory": (
        "Parameters are not stored in the file. The factory registers its function under a name"
        " that spells the call, so loading works only after the same call has been made in the"
        " loading process; with other values, `load_model` fails and the message names the call to"
        " make. It never runs silently with other values."
    ),
    "class": (
        "The safest form: every parameter is saved by `get_config` and restored by `load_model`,"
        " also with `safe_mode=True`. Import the module before loading."
    ),
}


_MODULE_FORMS = {
    "all": "The function, factory and subclass forms",
    "function": "The function form",
    "factory": "The factory form",
    "class": "The keras.losses.Loss subclass form",
}


def _module_doc(name: str, what: str) -> tuple[str, ...]:
    text = (
        f"{what} of the `{name}` loss, generated by lossgen from its spec. "
        "Edit the spec and regenerate rather than editing this file."
    )
    return wrap(text, DOC_WIDTH)


def _published(example: Example) -> str:
    """One published value as Markdown: the call, the value and where it comes from."""
    args = [f"y_true={example.y_true}", f"y_pred={example.y_pred}"]
    args += [f"{k}={v!r}" for k, v in example.params.items()]
    if example.expected is not None:
        value = "per sample " + ", ".join(f"{v:.8g}" for v in example.expected)
    else:
        value = f"batch mean {example.expected_mean:.8g}"
    return f"`({', '.join(args)})` gives {value}: {' '.join(example.source.split())}."


def _peer_view(function: str, peer: Peer) -> PeerView:
    arguments = ", ".join(f"{k}={v!r}" for k, v in peer.arguments.items())
    params = ", ".join(f"{k}={v!r}" for k, v in peer.params.items())
    reduced = {
        "mean": "batch mean of ",
        "sum": "batch sum of ",
        "none": "",
        "mean_nonzero": "mean over the samples above 0 of ",
    }[peer.reduction]
    shift = f" {'+' if peer.offset > 0 else '-'} {abs(peer.offset):g}" if peer.offset else ""
    factor = {1.0: "", -1.0: "minus the "}.get(peer.scale, f"{peer.scale:g} times the ")
    return PeerView(
        library=PEER_LIBRARIES[peer.call.partition(".")[0]],
        call=f"`{peer.call}({arguments})`",
        ours=factor + f"{reduced}`{function}({params})`" + shift,
        inputs="; ".join(
            PEER_INPUTS_TEXT[step] + ("" if peer.inputs.count(step) == 1 else f" ({peer.inputs.count(step)} times)")
            for step in dict.fromkeys(peer.inputs)
        ),
        tolerance=f"{peer.tolerance:.0e}",
        note=" ".join((peer.note or "").split()),
    )


def _peers_backend(peers: list[Peer]) -> str:
    """What the peer test computes the peers with: the Keras libraries on TensorFlow, the
    others on PyTorch."""
    keras = {peer.call.partition(".")[0] in KERAS_PEER_LIBRARIES for peer in peers}
    if keras == {True}:
        return "TensorFlow"
    if keras == {True, False}:
        return "PyTorch (TensorFlow for the Keras libraries)"
    return "PyTorch"


def loss_view(item: LoadedSpec, plots: bool = False) -> LossView:
    spec = item.spec
    code = code_program(item)
    params = tuple(_param_view(n, p) for n, p in spec.parameters.items())
    param_names = [p.name for p in params]
    generated = names(spec)
    factory, cls, pack = generated.factory, generated.cls, generated.pack
    sig_params = ", ".join(f"{p.name}={p.default_code}" for p in params)
    signature = "y_true, y_pred" + (f", *, {sig_params}" if params else "")
    init = ", ".join(
        ["self"]
        + [f"{p.name}={p.default_code}" for p in params]
        + ['reduction="sum_over_batch_size"', f'name="{spec.name}"', "dtype=None"]
    )
    tuned = shapes.tuned(spec)
    example = ", ".join(f"{p.name}={p.default_code}" for p in params if p.type in ("float", "int") and p.name in tuned)
    usages = {
        "function": (generated.function, generated.function),
        "factory": (f"{factory}({example})", factory),
        "class": (f"{cls}({example})", cls),
    }
    forms = tuple(
        FormView(
            key=key,
            label=label,
            filename=f"{spec.name}_{key}.py",
            usage=_usage(key, spec, f"{spec.name}_{key}", loss_expr, import_name, pack),
            pitfall=_PITFALLS[key],
        )
        for key, label in (("function", "Function"), ("factory", "Factory"), ("class", "Loss subclass"))
        for loss_expr, import_name in [usages[key]]
    )
    image = spec.inputs.image
    y_true_doc = spec.inputs.y_true.doc or (_IMAGE_DOCS["y_true"] if image else _TARGET_DOCS[spec.inputs.y_true.kind])
    packed = shapes.packed_weights(spec)
    if packed:
        what = (
            "weight tables are packed behind the labels"
            if packed == "table"
            else "weights are packed behind the targets"
        )
        y_true_doc += f" Per-example {what}: see `{pack}`."
    y_pred_doc = spec.inputs.y_pred.doc or (
        _IMAGE_DOCS["y_pred"] if image else _PREDICTION_DOCS[spec.inputs.y_pred.kind]
    )
    if spec.inputs.y_pred.logits_when:
        y_pred_doc += f" Logits when `{spec.inputs.y_pred.logits_when}` is true."
    rule = "per_example_number" if packed == "number" else spec.weighting.rule
    weighting_text = _WEIGHTING_TEXT[rule].format(
        ref=getattr(spec.weighting, "weights", None) or getattr(spec.weighting, "table", ""),
        pack=pack,
    )
    keras_text = twin = ""
    if spec.keras is not None:
        args = ", ".join(f"{k}={v!r}" for k, v in spec.keras.args.items())
        twin = f"`keras.losses.{spec.keras.loss}({args})`"
        keras_text = f"[{twin}]({keras_doc_url(spec.keras.loss)})"
        if spec.keras.note:
            keras_text += f". {spec.keras.note.strip()}"
    if spec.keras is not None:
        settings = ", with the default parameters and with every parameter changed" if tuned else ""
        if spec.inputs.class_axis:
            settings += f", and with `{spec.inputs.class_axis}=1` on channels-first inputs"
        checked = f"match {twin} to a relative 1e-5 (float32) on random inputs{settings}."
    else:
        checked = " ".join((spec.checked_against or "").split())
    return LossView(
        name=generated.function,
        class_name=cls,
        factory_name=factory,
        closure_name=generated.closure,
        pack_name=pack,
        package=PACKAGE,
        title=spec.title.strip(),
        class_title=class_title(spec.title.strip()),
        task=spec.task,
        summary=" ".join(spec.summary.split()),
        description=first_sentence(spec.summary),
        spec_text=item.text.rstrip("\n"),
        summary_lines=wrap(spec.summary, DOC_WIDTH - 4),
        avoid_text=" ".join((spec.avoid_when or "").split()),
        params=params,
        signature=signature,
        init_signature=init,
        factory_signature=f"*, {sig_params}" if params else "",
        call_kwargs=", ".join(f"{n}={n}" for n in param_names),
        self_kwargs=", ".join(f"{n}=self.{n}" for n in param_names),
        y_true_lines=wrap(f"y_true: {y_true_doc}", DOC_WIDTH - 8, "    "),
        y_pred_lines=wrap(f"y_pred: {y_pred_doc}", DOC_WIDTH - 8, "    "),
        returns_lines=wrap(_RETURNS[spec.inputs.pixels or spec.inputs.image], DOC_WIDTH - 6),
        inputs=inputs_view(spec, windows=any(FUNCTIONS[fn].images for fn in _program_calls(*code))),
        helpers=helpers(*code),
        module_imports=module_imports(*code),
        body=body(*code),
        counts_classes="num_classes" in _program_calls(*code),
        formula_lines=formula_lines(item),
        dtype_text=DTYPE_TEXT,
        latex=latex(item),
        weighting_text=weighting_text,
        notes=(spec.notes or "").strip(),
        keras_text=keras_text,
        checked_text=checked,
        peers=tuple(_peer_view(generated.function, peer) for peer in spec.peers),
        peers_backend=_peers_backend(spec.peers),
        published=tuple(_published(example) for example in spec.examples),
        references=tuple(spec.references),
        forms=forms,
        module_doc={form: _module_doc(spec.name, what) for form, what in _MODULE_FORMS.items()},
        plot=spec.name if plots else "",
    )
