"""The whole program a spec computes: the unpacking of packed targets, the spec's own
steps, then its reduction and weighting rule expanded into formula trees, so that the
same printers give their code and their LaTeX. The generated code (after optimising), the
float64 evaluator, the plots and the hazard finder all start from :func:`program`."""

from __future__ import annotations

from generator.formula.tree import Binary, Node, Num, Ref, call
from generator.spec import shapes
from generator.spec.loader import LoadedSpec
from generator.spec.schema import LossSpec


def weighted(spec: LossSpec, loss: Node, weight: Node | None) -> tuple[list[tuple[str, Node]], Node]:
    """The reduction and the weighting rule applied to the loss (and the ``value`` rule's
    weight): the extra steps they add before the result, and the result."""
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
    if shapes.packed_weights(spec) == "number":
        extra.append(("per_sample", result))
        return extra, Binary("*", Ref("per_sample", "step"), Ref("example_weight", "step"))
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


def program(item: LoadedSpec) -> tuple[list[tuple[str, Node]], Node]:
    """Every step the loss computes, in order (unpacking packed targets and the parts of a
    packed prediction, the spec's steps, the weighting rule's), and the final per-sample
    result. Both the code and the NumPy evaluator use it."""
    spec = item.spec
    steps: list[tuple[str, Node]] = []
    packed = shapes.packed_weights(spec)
    y_true = Ref("y_true", "input")
    if packed == "table":
        classes = call("num_classes")
        steps.append(("example_table", call("square_table", call("tail", y_true, classes), classes)))
        steps.append(("y_true", call("head", y_true, classes)))
    elif packed == "number":
        steps.append(("example_weight", call("at", y_true, Num(-1))))
        steps.append(("y_true", call("all_but_last", y_true)))
    count = len(spec.inputs.y_pred.parts)
    for index, name in enumerate(spec.inputs.y_pred.parts):
        steps.append((name, call("part", Ref("y_pred", "input"), Num(index), Num(count))))
    steps += item.program.steps
    extra, result = weighted(spec, item.program.loss, item.program.weight)
    return steps + extra, result
