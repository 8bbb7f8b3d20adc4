"""Rewrite a loss's program so that its code does less work and computes the same values.

:func:`generator.lower.body` prints the optimised program. The LaTeX, the NumPy evaluator
and the hazard finder read the program as the spec writes it, so every test that compares
the generated code with them also checks these rewrites.

In eager mode every ``keras.ops`` call on a ``(4096, 100)`` float32 tensor costs 0.1 to
0.3 ms on a 2-core machine, about as much as the arithmetic, so an operation a built-in
loss skips shows up in ``make bench`` (see the performance page). The rewrites, each of
which gives the same value for every input:

- a sum or mean of a conditional becomes a conditional of sums,
  ``sum(a if f else b)`` -> ``sum(a) if f else sum(b)``, since ``f`` is a Python value;
- a negation leaves a sum or mean, ``sum(-x)`` -> ``-sum(x)``, also from a factor,
  ``sum(-a * b)`` -> ``-sum(a * b)``: one negation per row instead of one per entry (exact:
  rounding to nearest is symmetric);
- a step that is read once, inside one branch of a conditional, moves into that branch,
  so that the other branch does not compute it;
- an input whose width the spec fixes (boxes: four numbers) and whose entries the formula
  reads one by one, ``at(y_true, 2)``, is taken apart once, ``ops.unstack``, and each read
  picks from that list: one operation, and in the gradient one ``stack``, where each slice
  would add a full-size scatter (measured on ciou against KerasCV, compiled: 1.8 -> 1.3-1.4);
- a descending sort written as ``order = argsort(-e)`` and ``take_along_axis(e, order)``
  becomes one ``sort_descending(e)`` (``ops.top_k``), which gives both: one sort instead
  of a negation, a sort and a gather, and no scatter in the gradient (measured on
  PyTorch against kornia: lovasz_hinge 1.3-1.4 -> 1.1, lovasz_softmax 1.5 -> 1.1). The
  sorted values are the same; among equal values of ``e`` the order may differ on
  PyTorch (``torch.topk`` is not stable), which ``argsort`` never promised (Keras's
  ``ops.argsort`` does not either), and which the Lovász losses do not depend on;
- where a float parameter whose default is 0 makes a term vanish, the code skips the term
  when the parameter is 0, as Keras does for label smoothing:
  ``target = y_true * (1 - s) + s / num_classes if s else y_true``. The simplifications
  are the exact ones: ``x + 0``, ``x - 0``, ``x * 1``, ``x / 1``, ``x ** 1``, arithmetic on
  literals, ``0 * s`` for a scalar ``s`` and ``0 / n`` for a positive count ``n``. They
  are used only when they save an operation on a tensor. Such a parameter must then be a
  Python number, not a tensor, as with Keras's own ``label_smoothing``;
- a power of a tensor to a Python number, ``power(miss, gamma)``, is written with Python's
  operator, ``miss**gamma``: the backend then sees a number for an exponent, where
  ``ops.power`` first makes it a tensor, and PyTorch takes its faster path for a scalar
  exponent (the figures are on the performance page, under "Scalars become tensors").
  The same ``pow`` is computed; a base that may be a Python number (a conditional with a
  number for a branch) keeps ``ops.power``, so that the result is always a tensor.
"""

from __future__ import annotations

import itertools
import math
import operator

from generator.formula.tree import Binary, Call, Cond, Node, Num, Ref, Unary, children, rebuild, refs
from generator.formula.vocabulary import INPUTS
from generator.spec import shapes
from generator.spec.schema import LossSpec

Program = tuple[list[tuple[str, Node]], Node]

_LINEAR = ("sum", "mean")
_COUNTS = ("num_classes", "batch_size", "epsilon")
"""Calls that give one positive Python or scalar number."""
_ARITHMETIC = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv, "**": operator.pow}


def optimize(steps: list[tuple[str, Node]], result: Node, spec: LossSpec) -> Program:
    """The program with every rewrite of this module applied."""
    scalars = _scalar_parameters(spec)
    steps = [(name, _rewrite(node, scalars)) for name, node in steps]
    steps, result = _move_into_branches(steps, _rewrite(result, scalars))
    steps, result = _read_columns_once(steps, result, spec)
    steps = _sort_once(steps, spec)
    zero_default = [name for name, param in spec.parameters.items() if param.type == "float" and param.default == 0]
    out = []
    for name, node in steps:
        for param in zero_default:
            node = _specialize(node, param, scalars)
        if _scalar(node, scalars):
            scalars.add(name)
        out.append((name, node))
    for param in zero_default:
        result = _specialize(result, param, scalars)
    return _powers_as_operator(out, result, spec, scalars)


# ---------------------------------------------------------------- columns of fixed-width inputs


def _reads_entry(node: Node, side: str) -> bool:
    """Whether ``node`` is ``at(side, k)``: one entry of an input's last axis."""
    return isinstance(node, Call) and node.fn == "at" and node.args[0] == Ref(side, "input")


def _column_reads(node: Node, side: str) -> int:
    """How many ``at(side, k)`` a tree holds."""
    return int(_reads_entry(node, side)) + sum(_column_reads(child, side) for child in children(node))


def _from_columns(node: Node, side: str, columns: Ref) -> Node:
    if _reads_entry(node, side):
        return Call("column", (columns, node.args[1]))
    return rebuild(node, tuple(_from_columns(child, side, columns) for child in children(node)))


def _read_columns_once(steps: list[tuple[str, Node]], result: Node, spec: LossSpec) -> Program:
    """``at(y, k)`` of an input whose kind fixes its width (``shapes.KIND_WIDTHS``: such
    an input can be taken apart even where a traced shape leaves the width unknown), read
    at two or more places: a first step ``y_columns = columns(y)`` (``ops.unstack``), and
    ``column(y_columns, k)`` for each read."""
    first = []
    for side in INPUTS:
        width = shapes.KIND_WIDTHS.get(getattr(spec.inputs, side).kind)
        reads = sum(_column_reads(node, side) for _, node in steps) + _column_reads(result, side)
        if width is None or reads < 2:
            continue
        columns = Ref(f"{side}_columns", "step")
        steps = [(name, _from_columns(node, side, columns)) for name, node in steps]
        first.append((columns.name, Call("columns", (Ref(side, "input"), Num(width)))))
        result = _from_columns(result, side, columns)
    return first + steps, result


# ---------------------------------------------------------------- descending sorts


def _descending_order_of(node: Node) -> Ref | None:
    """``e`` when ``node`` is ``argsort(-e)`` of a named value ``e``."""
    if isinstance(node, Call) and node.fn == "argsort":
        (key,) = node.args
        if isinstance(key, Unary) and key.op == "-" and isinstance(key.operand, Ref):
            return key.operand
    return None


def _sort_once(steps: list[tuple[str, Node]], spec: LossSpec) -> list[tuple[str, Node]]:
    """``order = argsort(-e)`` and a step ``take_along_axis(e, order)`` along the same
    axis: a step ``e_descending = sort_descending(e)`` (a pair, ``ops.top_k``) where
    ``order`` was, then ``order`` and the sorted step read its two entries. Left as
    written when a step or parameter already has that name."""
    out = list(steps)
    for name, node in steps:
        key = _descending_order_of(node)
        if key is None:
            continue
        gather = Call("take_along_axis", (key, Ref(name, "step")), node.keywords)
        sorted_steps = [i for i, (_, other) in enumerate(out) if other == gather]
        ranked = Ref(f"{key.name}_descending", "step")
        if not sorted_steps or ranked.name in spec.parameters or any(step == ranked.name for step, _ in out):
            continue
        at = out.index((name, node))
        for i in sorted_steps:
            out[i] = (out[i][0], Call("column", (ranked, Num(0))))
        out[at : at + 1] = [
            (ranked.name, Call("sort_descending", (key,), node.keywords)),
            (name, Call("column", (ranked, Num(1)))),
        ]
    return out


# ---------------------------------------------------------------- reductions


def _rewrite(node: Node, scalars: set[str]) -> Node:
    """Bottom-up: reductions of conditionals and of negations."""
    node = rebuild(node, tuple(_rewrite(child, scalars) for child in children(node)))
    if isinstance(node, Call) and node.fn in _LINEAR:
        (inner,) = node.args
        if isinstance(inner, Cond):
            body = _rewrite(Call(node.fn, (inner.body,), node.keywords), scalars)
            orelse = _rewrite(Call(node.fn, (inner.orelse,), node.keywords), scalars)
            return Cond(inner.flag, body, orelse)
        positive = _without_negation(inner, scalars)
        if positive is not None:
            return Unary("-", Call(node.fn, (positive,), node.keywords))
    return node


def _without_negation(node: Node, scalars: set[str]) -> Node | None:
    """``x`` for ``-x`` where x is a tensor, also as a factor of a product or quotient:
    ``-a * b`` -> ``a * b`` (exact: (-a) * b is -(a * b) in IEEE arithmetic). None when
    there is no such negation."""
    if isinstance(node, Unary) and node.op == "-":
        return None if _scalar(node.operand, scalars) else node.operand
    if isinstance(node, Binary) and node.op in ("*", "/"):
        left = _without_negation(node.left, scalars)
        if left is not None:
            return Binary(node.op, left, node.right)
        right = _without_negation(node.right, scalars)
        if right is not None:
            return Binary(node.op, node.left, right)
    return None


# ---------------------------------------------------------------- steps into branches


def _uses(node: Node, name: str, in_branch: bool = False) -> list[bool]:
    """One entry per read of ``name``: whether that read is inside a conditional's branch."""
    if isinstance(node, Ref):
        return [in_branch] if node.name == name else []
    inside = in_branch or isinstance(node, Cond)
    return [use for child in children(node) for use in _uses(child, name, inside)]


def _substitute(node: Node, name: str, replacement: Node) -> Node:
    if isinstance(node, Ref):
        return replacement if node.name == name else node
    return rebuild(node, tuple(_substitute(child, name, replacement) for child in children(node)))


def _move_into_branches(steps: list[tuple[str, Node]], result: Node) -> Program:
    """Inline each step that is read exactly once, inside a conditional's branch, when
    nothing it reads is assigned again between its definition and that read."""
    steps = list(steps)
    moved = True
    while moved:
        moved = False
        later = [node for _, node in steps] + [result]
        for i, (name, definition) in enumerate(steps):
            if name in INPUTS:
                continue
            uses = [(j, _uses(node, name)) for j, node in enumerate(later) if j > i]
            reads = [(j, inside) for j, found in uses for inside in found]
            if len(reads) != 1 or not reads[0][1]:
                continue
            j = reads[0][0]
            assigned_between = {n for n, _ in steps[i + 1 : j]}
            if assigned_between & refs(definition):
                continue
            if j == len(steps):
                result = _substitute(result, name, definition)
            else:
                steps[j] = (steps[j][0], _substitute(steps[j][1], name, definition))
            del steps[i]
            moved = True
            break
    return steps, result


# ---------------------------------------------------------------- zero-default parameters


def _scalar_parameters(spec: LossSpec) -> set[str]:
    return {name for name, param in spec.parameters.items() if param.type in ("float", "int", "bool")}


def _scalar(node: Node, scalars: set[str], calls: tuple[str, ...] = _COUNTS) -> bool:
    """Whether a node is one Python or scalar number (no tensor operation to compute it),
    made of numbers, the names in ``scalars`` and the calls in ``calls``."""
    match node:
        case Num():
            return True
        case Ref(name=name):
            return name in scalars
        case Call(fn=fn):
            return fn in calls
        case Unary() | Binary():
            return all(_scalar(child, scalars, calls) for child in children(node))
    return False


def _positive(node: Node) -> bool:
    match node:
        case Num(value=value):
            return not isinstance(value, bool) and value > 0
        case Call(fn=fn):
            return fn in _COUNTS
    return False


def _is(node: Node, number: float) -> bool:
    return isinstance(node, Num) and not isinstance(node.value, bool) and node.value == number


def _fold(node: Node, scalars: set[str]) -> Node:
    """Bottom-up exact simplification (see the module docstring for the list)."""
    node = rebuild(node, tuple(_fold(child, scalars) for child in children(node)))
    match node:
        case Unary(op="+", operand=x):
            return x
        case Unary(op="-", operand=Num(value=value)) if not isinstance(value, bool):
            return Num(-value)
        case Binary(op=op, left=Num(value=a), right=Num(value=b)) if not isinstance(a, bool) and not isinstance(
            b, bool
        ):
            try:
                folded = _ARITHMETIC[op](a, b)
            except (ZeroDivisionError, OverflowError):
                return node
            return Num(folded) if isinstance(folded, int | float) and math.isfinite(folded) else node
        case Binary(op="+", left=a, right=b):
            return a if _is(b, 0) else b if _is(a, 0) else node
        case Binary(op="-", left=a, right=b):
            return a if _is(b, 0) else Unary("-", b) if _is(a, 0) else node
        case Binary(op="*", left=a, right=b):
            if _is(b, 1):
                return a
            if _is(a, 1):
                return b
            if (_is(a, 0) and _scalar(b, scalars)) or (_is(b, 0) and _scalar(a, scalars)):
                return Num(0.0)
            return node
        case Binary(op="/", left=a, right=b):
            if _is(b, 1):
                return a
            return Num(0.0) if _is(a, 0) and _positive(b) else node
        case Binary(op="**", left=a, right=b):
            return a if _is(b, 1) else node
    return node


def _tensor_ops(node: Node, scalars: set[str]) -> int:
    """How many operations on tensors a node computes."""
    if isinstance(node, Cond):  # one branch runs: count the dearer
        return max(_tensor_ops(node.body, scalars), _tensor_ops(node.orelse, scalars))
    own = 0 if isinstance(node, Num | Ref) or _scalar(node, scalars) else 1
    return own + sum(_tensor_ops(child, scalars) for child in children(node))


def _specialize(node: Node, param: str, scalars: set[str]) -> Node:
    """``node if param else <node with param = 0, simplified>`` when that saves work."""
    if param not in refs(node):
        return node
    simpler = _fold(_substitute(node, param, Num(0.0)), scalars)
    if _tensor_ops(simpler, scalars) >= _tensor_ops(node, scalars):
        return node
    return Cond(param, node, simpler)


# ---------------------------------------------------------------- powers


_MAX_ASSUMED_FLAGS = 8
"""Up to this many parameters that choose branches, the power rewrite looks at every
combination of their values (at most 256); beyond, at every branch of a conditional at
once, which may keep an ``ops.power`` that a closer look would rewrite."""


def _may_be_number(node: Node, numbers: set[str], flags: dict[str, bool]) -> bool:
    """Whether ``node`` can be a Python number when the code runs with the parameters that
    choose branches set as in ``flags`` (either branch for one not in ``flags``): a
    scalar, a branch of a conditional, or arithmetic on such values only."""
    match node:
        case Cond(flag=flag, body=a, orelse=b):
            if flag not in flags:
                return _may_be_number(a, numbers, flags) or _may_be_number(b, numbers, flags)
            return _may_be_number(a if flags[flag] else b, numbers, flags)
        case Unary() | Binary():
            return all(_may_be_number(child, numbers, flags) for child in children(node))
    return _scalar(node, numbers)


def _flags(node: Node) -> set[str]:
    """The parameters that choose a branch somewhere in ``node``."""
    own = {node.flag} if isinstance(node, Cond) else set()
    return own.union(*(_flags(child) for child in children(node)))


def _tensor_everywhere(base: Node, numbers: list[tuple[dict[str, bool], set[str]]]) -> bool:
    return not any(_may_be_number(base, names, flags) for flags, names in numbers)


def _python_number(node: Node, plain: set[str]) -> bool:
    """Whether ``node`` is a Python number in the code: numbers, scalar parameters, the
    steps made of them, and ``epsilon()``; not ``batch_size()``, which is a tensor while
    Keras traces a batch of unknown size."""
    return _scalar(node, plain, calls=("epsilon",))


def _power_operator(node: Node, plain: set[str], numbers: list[tuple[dict[str, bool], set[str]]]) -> Node:
    node = rebuild(node, tuple(_power_operator(child, plain, numbers) for child in children(node)))
    if isinstance(node, Call) and node.fn == "power":
        base, exponent = node.args
        if _python_number(exponent, plain) and _tensor_everywhere(base, numbers):
            return Binary("**", base, exponent)
    return node


def _powers_as_operator(steps: list[tuple[str, Node]], result: Node, spec: LossSpec, scalars: set[str]) -> Program:
    """``power(x, p)`` -> ``x ** p`` for a ``p`` that is a Python number and an ``x`` that
    is a tensor whichever branch each conditional takes."""
    flags = sorted({flag for node in [*(n for _, n in steps), result] for flag in _flags(node)})
    if len(flags) > _MAX_ASSUMED_FLAGS:
        flags = []
    numbers = [
        (dict(zip(flags, values, strict=True)), set(scalars))
        for values in itertools.product((False, True), repeat=len(flags))
    ]
    plain = _scalar_parameters(spec)
    out = []
    for name, node in steps:
        node = _power_operator(node, plain, numbers)
        for assumed, names in numbers:
            if _may_be_number(node, names, assumed):
                names.add(name)
        if _python_number(node, plain):
            plain.add(name)
        out.append((name, node))
    return out, _power_operator(result, plain, numbers)
