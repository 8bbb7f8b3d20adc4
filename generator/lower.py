"""Lower a checked spec to the render model: names, literals, docstrings, ops code, LaTeX.

This is where every decision about the generated text is made; templates only print.
Weighting rules are expanded here into formula trees (not template code), so that the
same printers produce their ops code and their LaTeX.
"""

from __future__ import annotations

import textwrap

from generator import PACKAGE, emit, samples
from generator.formula import Binary, Call, Compare, Cond, Node, Ref, Unary, call
from generator.loader import LoadedSpec
from generator.model import (
    CatalogEntry,
    CatalogView,
    CommandView,
    FormView,
    FunctionRow,
    LossView,
    OptionRow,
    ParamView,
    TaskGroup,
    ToolView,
)
from generator.optimize import optimize
from generator.semantics import class_name
from generator.spec import Example, LossSpec, Parameter
from generator.vocabulary import PUBLIC_FUNCTIONS

DOC_WIDTH = 80
"""Docstring text width (the generated code is formatted to 88 columns)."""

_TARGET_DOCS = {
    "real": "Targets, shape `(batch, d)`.",
    "nonnegative": "Non-negative targets, shape `(batch, d)`.",
    "binary": "Binary targets (0 or 1), shape `(batch, d)`.",
    "signed": "Targets of -1 or +1 (0/1 targets are converted), shape `(batch, d)`.",
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
}


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
    low, high = param.min, param.max
    if low is not None and high is not None:
        return f"[{emit.number(float(low))}, {emit.number(float(high))}]"
    if low is not None:
        return f">= {emit.number(float(low))}"
    if high is not None:
        return f"<= {emit.number(float(high))}"
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


def _weighted(spec: LossSpec, loss: Node, weight: Node | None) -> tuple[list[tuple[str, Node]], Node]:
    """Apply reduction and weighting: returns (extra steps before the result, the result)."""
    extra: list[tuple[str, Node]] = []
    term = loss
    if weight is not None:
        extra.append(("weight", weight))
        term = Binary("*", Ref("weight", "step"), term)
    if spec.formula.reduce == "none":
        result: Node = term
    else:
        result = call(spec.formula.reduce, term)
    rule = spec.weighting.rule
    if rule == "none" or rule == "value":
        return extra, result
    classes = call("num_classes")
    if rule == "class":
        if spec.inputs.y_true.kind == "labels":
            dense = call("one_hot", call("labels", Ref("y_true", "input")), classes)
        else:
            dense = Ref("y_true", "input")
        factor = call("sum", Binary("*", dense, Ref(spec.weighting.weights, "param")))
    else:
        extra.append(("true_class", call("one_hot", call("argmax", Ref("y_true", "input")), classes)))
        extra.append(("predicted_class", call("one_hot", call("argmax", Ref("y_pred", "input")), classes)))
        true_class, predicted_class = Ref("true_class", "step"), Ref("predicted_class", "step")
        if rule == "confusion":
            rows = call("matmul", true_class, Ref(spec.weighting.table, "param"))
            factor = call("sum", Binary("*", rows, predicted_class))
        else:  # per_example
            picked = Binary(
                "*",
                Binary("*", Ref("example_table", "step"), call("expand_dims", true_class, axis=-1)),
                call("expand_dims", predicted_class, axis=-2),
            )
            factor = call("sum", call("sum", picked))
    extra.append(("per_sample", result))
    extra.append(("weight", factor))
    return extra, Binary("*", Ref("per_sample", "step"), Ref("weight", "step"))


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


def program(item: LoadedSpec) -> tuple[list[tuple[str, Node]], Node]:
    """Every step the loss computes, in order (unpacking, the spec's steps, the weighting
    rule's), and the final per-sample result. Both the code and the NumPy evaluator use it."""
    spec = item.spec
    steps: list[tuple[str, Node]] = []
    if spec.weighting.rule == "per_example":
        classes = call("num_classes")
        y_true = Ref("y_true", "input")
        steps.append(("example_table", call("square_table", call("tail", y_true, classes), classes)))
        steps.append(("y_true", call("head", y_true, classes)))
    steps += item.program.steps
    extra, result = _weighted(spec, item.program.loss, item.program.weight)
    return steps + extra, result


def body(item: LoadedSpec) -> tuple[str, ...]:
    """The function body: cast the inputs, then one line per step of the optimised
    program (:mod:`generator.optimize`), then the result."""
    steps, result = optimize(*program(item), item.spec)
    lines = [
        "y_pred = ops.convert_to_tensor(y_pred)",
        # float16 and bfloat16 (mixed precision) are computed in float32: 1 - epsilon
        # rounds to 1 in float16, and the clips and logs would not protect anything.
        'y_pred = ops.cast(y_pred, keras.backend.result_type(y_pred.dtype, "float32"))',
        "y_true = ops.cast(y_true, y_pred.dtype)",
    ]
    if item.spec.inputs.pixels:
        # (batch, ..., classes) -> (batch, pixels, classes), whatever the spatial rank.
        lines.append("pixels_shape = (ops.shape(y_pred)[0], -1, ops.shape(y_pred)[-1])")
        lines.append("y_pred = ops.reshape(y_pred, pixels_shape)")
        lines.append("y_true = ops.reshape(y_true, pixels_shape)")
    for name in _array_params(item.spec):
        lines.append(f"{name} = ops.convert_to_tensor({name}, dtype=y_pred.dtype)")
    if any("num_classes" in _calls(node) for _, node in [*steps, ("", result)]):
        lines.append("num_classes = ops.shape(y_pred)[-1]")
    lines += [f"{name} = {emit.code(node)}" for name, node in steps]
    lines.append(f"return {emit.code(result)}")
    return tuple(lines)


def latex(item: LoadedSpec) -> str:
    """The formula as an ``aligned`` LaTeX block, unless the spec gives its own."""
    spec, program = item.spec, item.program
    if spec.latex:
        return spec.latex.strip()
    rows = [f"{emit.symbol(name)} &= {emit.latex(node)}" for name, node in program.steps]
    extra, result = _weighted(spec, program.loss, program.weight)
    hidden = ("per_sample", "true_class", "predicted_class")
    rows += [f"{emit.symbol(name)} &= {emit.latex(node)}" for name, node in extra if name not in hidden]
    if spec.weighting.rule in ("class", "confusion", "per_example"):
        per_sample = dict(extra)["per_sample"]
        rows.append(rf"\ell &= \mathrm{{weight}} \cdot {emit.latex(per_sample)}")
    else:
        rows.append(rf"\ell &= {emit.latex(result)}")
    return "\\begin{aligned}\n" + " \\\\\n".join(rows) + "\n\\end{aligned}"


# ---------------------------------------------------------------- the views


def _example_targets(spec: LossSpec, classes: int) -> str:
    """Python source for 32 random targets of the spec's kind (uses ``rng``); one per
    pixel of a small image when the loss is per pixel."""
    lead = ", ".join(str(n) for n in (32, *samples.SPATIAL)) if spec.inputs.pixels else "32"
    many = f"({lead})" if spec.inputs.pixels else lead
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


def _classes(spec: LossSpec) -> int:
    """The width of the example's targets: boxes have 4 numbers, ranked lists 5 items."""
    if spec.inputs.y_pred.kind == "box":
        return 4
    if spec.task == "ranking":
        return 5
    for param in spec.parameters.values():
        if param.type in ("vector", "matrix"):
            return len(param.default)
    return 1 if spec.inputs.y_true.kind in ("binary", "signed", "real", "nonnegative") else 3


_POSITIONAL = ("units", "filters", "kernel_size")
"""Layer arguments printed without their keyword: each comes first in its layer."""


def _layer_code(name: str, kwargs: dict[str, object]) -> str:
    """``keras.layers.Dense(3, activation="softmax")`` from a layer description."""
    args = [str(v) if k in _POSITIONAL else f'{k}="{v}"' for k, v in kwargs.items()]
    return f"keras.layers.{name}({', '.join(args)})"


def _usage(key: str, spec: LossSpec, module: str, loss_expr: str, import_name: str, pack: str) -> str:
    """A complete program: train a small model with the loss, save it, reload it."""
    classes = _classes(spec)
    shape = samples.input_shape(spec, 4)
    layers = ", ".join(_layer_code(name, kwargs) for name, kwargs in samples.output_layers(spec, classes))
    imports = [import_name] + ([pack] if pack else [])
    targets = _example_targets(spec, classes)
    if pack:
        targets = f"{pack}({targets}, np.ones((32, {classes}, {classes})))"
    if key == "factory":
        reload_note = (
            "# In a new process, make the same factory call before loading; with other\n"
            "# values (or none) load_model fails and names the call to make.\n"
            f"{loss_expr}\n"
        )
    elif key == "class":
        reload_note = "# In a new process, import the module first; the parameters come back from the file.\n"
    else:
        reload_note = f"# In a new process, import the module first so that Keras finds `{import_name}`.\n"
    return (
        "import keras\nimport numpy as np\n\n"
        f"from {module} import {', '.join(imports)}\n\n"
        "rng = np.random.default_rng(0)\n"
        f"x = rng.normal(size={(32, *shape)})\n"
        f"y = {targets}\n\n"
        f"model = keras.Sequential([keras.Input({shape}), {layers}])\n"
        f'model.compile(optimizer="adam", loss={loss_expr})\n'
        "model.fit(x, y, epochs=2, verbose=0)\n"
        'model.save("model.keras")\n\n'
        f"{reload_note}"
        'restored = keras.saving.load_model("model.keras")\n'
        "print(restored.evaluate(x, y, verbose=0))\n"
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


def _registered_name(factory: str, names: list[str]) -> tuple[str, ...]:
    """String-literal parts, one per parameter, of the name a factory registers: the call
    itself, such as ``make_huber(delta=2.0)``."""
    if not names:
        return (f'"{factory}()"',)
    parts = [f'"{factory}("']
    for i, n in enumerate(names):
        end = ")" if i == len(names) - 1 else ", "
        parts.append(f'f"{n}={{{n}!r}}{end}"')
    return tuple(parts)


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


def loss_view(item: LoadedSpec, plots: bool = False) -> LossView:
    spec = item.spec
    params = tuple(_param_view(n, p) for n, p in spec.parameters.items())
    names = [p.name for p in params]
    factory = f"make_{spec.name}"
    cls = class_name(spec)
    sig_params = ", ".join(f"{p.name}={p.default_code}" for p in params)
    signature = "y_true, y_pred" + (f", *, {sig_params}" if params else "")
    init = ", ".join(
        ["self"]
        + [f"{p.name}={p.default_code}" for p in params]
        + ['reduction="sum_over_batch_size"', f'name="{spec.name}"', "dtype=None"]
    )
    registered = _registered_name(factory, names)
    example = ", ".join(f"{p.name}={p.default_code}" for p in params if p.type in ("float", "int"))
    pack = f"pack_{spec.name}" if spec.weighting.rule == "per_example" else ""
    usages = {
        "function": (spec.name, spec.name),
        "factory": (f"{factory}({example})", factory),
        "class": (f"{cls}({example})", cls),
    }
    forms = tuple(
        FormView(
            key=key,
            label=label,
            filename=f"{spec.name}_{key}.py",
            usage_lines=tuple(_usage(key, spec, f"{spec.name}_{key}", loss_expr, import_name, pack).splitlines()),
            pitfall=_PITFALLS[key],
        )
        for key, label in (("function", "Function"), ("factory", "Factory"), ("class", "Loss subclass"))
        for loss_expr, import_name in [usages[key]]
    )
    y_true_doc = spec.inputs.y_true.doc or _TARGET_DOCS[spec.inputs.y_true.kind]
    if spec.weighting.rule == "per_example":
        y_true_doc += f" Per-example weight tables are packed behind the labels: see `pack_{spec.name}`."
    y_pred_doc = spec.inputs.y_pred.doc or _PREDICTION_DOCS[spec.inputs.y_pred.kind]
    if spec.inputs.y_pred.logits_when:
        y_pred_doc += f" Logits when `{spec.inputs.y_pred.logits_when}` is true."
    rule = spec.weighting.rule
    weighting_text = _WEIGHTING_TEXT[rule].format(
        ref=getattr(spec.weighting, "weights", None) or getattr(spec.weighting, "table", ""),
        pack=f"pack_{spec.name}",
    )
    keras_text = twin = ""
    if spec.keras is not None:
        args = ", ".join(f"{k}={v!r}" for k, v in spec.keras.args.items())
        keras_text = twin = f"`keras.losses.{spec.keras.loss}({args})`"
        if spec.keras.note:
            keras_text += f". {spec.keras.note.strip()}"
    if spec.keras is not None:
        checked = (
            f"match {twin} to a relative 1e-5 (float32) on random inputs, with the"
            " default parameters and with every parameter changed."
        )
    else:
        checked = " ".join((spec.checked_against or "").split())
    return LossView(
        name=spec.name,
        class_name=cls,
        factory_name=factory,
        closure_name=f"{spec.name}_loss",
        pack_name=f"pack_{spec.name}" if rule == "per_example" else "",
        package=PACKAGE,
        title=spec.title.strip(),
        task=spec.task,
        summary=" ".join(spec.summary.split()),
        summary_lines=wrap(spec.summary, DOC_WIDTH - 4),
        avoid_text=" ".join((spec.avoid_when or "").split()),
        params=params,
        signature=signature,
        init_signature=init,
        factory_signature=f"*, {sig_params}" if params else "",
        call_kwargs=", ".join(f"{n}={n}" for n in names),
        self_kwargs=", ".join(f"{n}=self.{n}" for n in names),
        registered_name=registered,
        y_true_lines=wrap(f"y_true: {y_true_doc}", DOC_WIDTH - 8, "    "),
        y_pred_lines=wrap(f"y_pred: {y_pred_doc}", DOC_WIDTH - 8, "    "),
        returns_lines=wrap(_RETURNS[spec.inputs.pixels], DOC_WIDTH - 6),
        body=body(item),
        latex=latex(item),
        weighting_text=weighting_text,
        notes=(spec.notes or "").strip(),
        keras_text=keras_text,
        checked_text=checked,
        published=tuple(_published(example) for example in spec.examples),
        references=tuple(spec.references),
        forms=forms,
        module_doc={form: _module_doc(spec.name, what) for form, what in _MODULE_FORMS.items()},
        plot=spec.name if plots else "",
    )


_TASK_HEADINGS = {
    "regression": "Regression",
    "binary": "Binary classification",
    "multiclass": "Multi-class classification",
    "multilabel": "Multi-label classification",
    "segmentation": "Segmentation",
    "metric": "Metric and representation learning",
    "ranking": "Ranking",
    "detection": "Detection",
}


def catalog_view(items: list[LoadedSpec]) -> CatalogView:
    groups = []
    for task, heading in _TASK_HEADINGS.items():
        members = sorted((i for i in items if i.spec.task == task), key=_by_name)
        if not members:
            continue
        entries = tuple(
            CatalogEntry(
                name=i.spec.name,
                title=i.spec.title.strip(),
                task=i.spec.task,
                summary=_first_sentence(i.spec.summary),
                parameters=", ".join(f"`{n}`" for n in i.spec.parameters) or "none",
            )
            for i in members
        )
        groups.append(TaskGroup(task, heading, entries))
    return CatalogView(tuple(groups), len(items))


def _by_name(item: LoadedSpec) -> str:
    return item.spec.name


def _first_sentence(text: str) -> str:
    flat = " ".join(text.split())
    head, dot, _ = flat.partition(". ")
    return head + ("." if dot or not head.endswith(".") else "")


def _table_cell(text: str) -> str:
    """Text safe inside a Markdown table cell (LaTeX bars become \\lvert and \\rvert)."""
    return text.replace(r"\left|", r"\left\lvert ").replace(r"\right|", r"\right\rvert").replace("|", r"\|")


def _function_latex(template: str, params: tuple[str, ...]) -> str:
    names = [rf"\mathit{{{p}}}" if len(p) > 1 else p for p in params]
    return template.format(*names, ax="c", pair="i", **{f"a{i}": n for i, n in enumerate(names)})


def tool_view() -> ToolView:
    """The formula vocabulary (from the whitelist) and the CLI (from its click commands)."""
    import click

    from generator.cli import cli

    functions = tuple(
        FunctionRow(fn.signature, _table_cell(fn.doc), _table_cell(_function_latex(fn.latex, fn.params)))
        for fn in PUBLIC_FUNCTIONS.values()
    )
    commands = []
    context = click.Context(cli, info_name="lossgen")
    for name in sorted(cli.commands):
        command = cli.commands[name]
        sub = click.Context(command, info_name=name, parent=context)
        options = tuple(
            OptionRow(", ".join(f"`{o}`" for o in param.opts), (param.help or "").strip())
            for param in command.params
            if isinstance(param, click.Option)
        )
        commands.append(
            CommandView(name, " ".join(command.collect_usage_pieces(sub)), (command.help or "").strip(), options)
        )
    return ToolView(functions, tuple(commands))
