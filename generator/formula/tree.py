"""The formula language: spec text -> a small, checked expression tree.

Formulas are Python expression syntax, parsed with :mod:`ast` and never executed. Only
numbers, known names, arithmetic, comparisons, ``a if flag else b`` on a boolean
parameter and calls to the whitelisted functions of :mod:`generator.formula.vocabulary` are
accepted; everything else is a :class:`FormulaError` naming the construct and its column.
"""

from __future__ import annotations

import ast
import difflib
import math
import warnings
from dataclasses import dataclass

from generator.formula.vocabulary import FUNCTIONS, PUBLIC_FUNCTIONS

MAX_LENGTH = 2000
"""Longest formula text accepted, in characters."""

MAX_DEPTH = 40
"""Deepest nesting of operations accepted."""


class FormulaError(ValueError):
    """A formula that is not in the language. ``column`` is 1-based within the text.

    ``scoped`` is true when the error was found while checking the formula against its
    scope (names, flags): it may go away when a parameter or step that the schema rejected
    is fixed, so the loader does not report it alongside that schema error."""

    def __init__(self, message: str, column: int | None = None, scoped: bool = False):
        super().__init__(message)
        self.message = message
        self.column = column
        self.scoped = scoped


class FormulaErrors(FormulaError):
    """Several errors in one formula (every unknown function it calls), in text order.
    ``message`` and ``column`` are those of the first, so it reads as one error too."""

    def __init__(self, errors: list[FormulaError]):
        super().__init__(errors[0].message, errors[0].column)
        self.errors = errors


# ---------------------------------------------------------------- the expression tree


@dataclass(frozen=True)
class Num:
    value: int | float | bool


@dataclass(frozen=True)
class Ref:
    """A name: an input (``y_true``, ``y_pred``), a parameter or an earlier step."""

    name: str
    kind: str  # "input" | "param" | "step"


@dataclass(frozen=True)
class Unary:
    op: str  # "-" | "+"
    operand: Node


@dataclass(frozen=True)
class Binary:
    op: str  # "+" | "-" | "*" | "/" | "**"
    left: Node
    right: Node


@dataclass(frozen=True)
class Compare:
    op: str  # "<" | "<=" | ">" | ">=" | "==" | "!="
    left: Node
    right: Node


@dataclass(frozen=True)
class Call:
    fn: str
    args: tuple[Node, ...]
    keywords: tuple[tuple[str, object], ...] = ()


@dataclass(frozen=True)
class Cond:
    """``body if flag else orelse`` where ``flag`` is a boolean parameter."""

    flag: str
    body: Node
    orelse: Node


Node = Num | Ref | Unary | Binary | Compare | Call | Cond


def children(node: Node) -> tuple[Node, ...]:
    """The direct subtrees of a node, in order."""
    match node:
        case Unary(operand=x):
            return (x,)
        case Binary(left=a, right=b) | Compare(left=a, right=b) | Cond(body=a, orelse=b):
            return (a, b)
        case Call(args=args):
            return args
    return ()


def rebuild(node: Node, new: tuple[Node, ...]) -> Node:
    """``node`` with its direct subtrees replaced by ``new`` (in :func:`children` order)."""
    match node:
        case Unary(op=op):
            return Unary(op, new[0])
        case Binary(op=op):
            return Binary(op, new[0], new[1])
        case Compare(op=op):
            return Compare(op, new[0], new[1])
        case Cond(flag=flag):
            return Cond(flag, new[0], new[1])
        case Call(fn=fn, keywords=keywords):
            return Call(fn, tuple(new), keywords)
    return node


def refs(node: Node) -> set[str]:
    """Every name a tree reads, flags of conditionals included."""
    out = {node.name} if isinstance(node, Ref) else {node.flag} if isinstance(node, Cond) else set()
    for child in children(node):
        out |= refs(child)
    return out


# ---------------------------------------------------------------- parsing


@dataclass(frozen=True)
class Scope:
    """What a formula may refer to. ``names`` maps a name to its kind."""

    names: dict[str, str]
    flags: frozenset[str] = frozenset()  # boolean parameters


_BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
_CMPOPS = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!="}
_OP_SYMBOLS = {
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.BitOr: "|",
    ast.BitXor: "^",
    ast.BitAnd: "&",
    ast.Invert: "~",
    ast.Is: "is",
    ast.IsNot: "is not",
    ast.In: "in",
    ast.NotIn: "not in",
}
_CONSTRUCTS = {
    ast.Attribute: "attribute access",
    ast.Subscript: "subscripts",
    ast.Lambda: "lambda",
    ast.ListComp: "comprehensions",
    ast.SetComp: "comprehensions",
    ast.DictComp: "comprehensions",
    ast.GeneratorExp: "comprehensions",
    ast.JoinedStr: "strings",
    ast.FormattedValue: "strings",
    ast.NamedExpr: "assignment expressions (:=)",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
    ast.Starred: "starred arguments",
    ast.List: "lists",
    ast.Tuple: "tuples",
    ast.Dict: "dicts",
    ast.Set: "sets",
    ast.Slice: "slices",
}


def parse(text: str, scope: Scope) -> Node:
    """Parse and check one formula; raise :class:`FormulaError` if it is not allowed."""
    if not isinstance(text, str):
        raise FormulaError("must be a formula written as text")
    if len(text) > MAX_LENGTH:
        raise FormulaError(f"formula is {len(text)} characters long; the limit is {MAX_LENGTH}")
    source = text.strip()
    if not source:
        raise FormulaError("formula is empty")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Python's SyntaxWarnings about spec text: errors are reported below
            tree = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        raise _syntax_error(source, exc) from None
    except (ValueError, RecursionError, MemoryError):
        raise FormulaError("formula could not be parsed (too deeply nested or contains a NUL byte)") from None
    unknown = _unknown_functions(tree, scope)
    if len(unknown) == 1:
        raise unknown[0]
    if unknown:
        raise FormulaErrors(unknown)
    try:
        return _Checker(scope).visit(tree.body, 1)
    except FormulaError as exc:
        exc.scoped = True
        raise


def _unknown_functions(tree: ast.AST, scope: Scope) -> list[FormulaError]:
    """One error for each call of a plain name that is neither a function of the
    vocabulary nor a name in scope (which the checker reports as not callable), in text
    order; the full list of functions is given once, with the first."""
    calls = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and not node.func.id.startswith("__")  # reported by the checker as a reserved name
        and node.func.id not in PUBLIC_FUNCTIONS
        and node.func.id not in scope.names
    ]
    calls.sort(key=lambda node: (node.lineno, node.col_offset))
    errors = []
    for i, node in enumerate(calls):
        name = node.func.id
        allowed = ", ".join(PUBLIC_FUNCTIONS) if i == 0 else "see the list above"
        message = f"unknown function `{name}`{_suggest(name, PUBLIC_FUNCTIONS)} (allowed: {allowed})"
        errors.append(FormulaError(message, node.col_offset + 1))
    return errors


def _syntax_error(source: str, exc: SyntaxError) -> FormulaError:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            statements = ast.parse(source, mode="exec").body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        statements = []
    if statements and not all(isinstance(s, ast.Expr) for s in statements):
        kind = type(statements[0]).__name__.lower()
        return FormulaError(f"a formula is one expression; statements such as `{kind}` are not allowed", 1)
    return FormulaError(f"invalid syntax: {exc.msg}", exc.offset)


class _Checker:
    def __init__(self, scope: Scope):
        self.scope = scope

    def fail(self, node: ast.AST, message: str) -> FormulaError:
        return FormulaError(message, getattr(node, "col_offset", 0) + 1)

    def visit(self, node: ast.AST, depth: int) -> Node:
        if depth > MAX_DEPTH:
            raise self.fail(node, f"formula is nested more than {MAX_DEPTH} levels deep")
        match node:
            case ast.Constant(value=value):
                if isinstance(value, bool) or not isinstance(value, int | float):
                    raise self.fail(node, f"only numbers are allowed as constants, not {value!r}")
                if _float(value) is None:
                    raise self.fail(node, "number too large: the largest is about 1.8e308")
                return Num(value)
            case ast.Name(id=name):
                return self.name(node, name, depth)
            case ast.UnaryOp(op=ast.USub() | ast.UAdd(), operand=operand):
                inner = self.visit(operand, depth + 1)
                if isinstance(node.op, ast.UAdd):
                    return inner  # +x is x (and tensors have no unary plus)
                if isinstance(inner, Num):
                    return Num(-inner.value)
                return Unary("-", inner)
            case ast.UnaryOp(op=ast.Not(), operand=operand):
                return Call("logical_not", (self.visit(operand, depth + 1),))
            case ast.BinOp(op=ast.MatMult(), left=left, right=right):
                return Call("matmul", (self.visit(left, depth + 1), self.visit(right, depth + 1)))
            case ast.BinOp(op=op, left=left, right=right) if type(op) in _BINOPS:
                out = Binary(_BINOPS[type(op)], self.visit(left, depth + 1), self.visit(right, depth + 1))
                self.check_constant(node, out)
                return out
            case ast.BinOp(op=op) | ast.UnaryOp(op=op):
                raise self.fail(node, f"operator `{_OP_SYMBOLS.get(type(op), type(op).__name__)}` is not allowed")
            case ast.BoolOp(op=op, values=values):
                fn = "logical_and" if isinstance(op, ast.And) else "logical_or"
                out = self.visit(values[0], depth + 1)
                for value in values[1:]:
                    out = Call(fn, (out, self.visit(value, depth + 1)))
                return out
            case ast.Compare(left=left, ops=ops, comparators=comparators):
                if len(ops) != 1:
                    raise self.fail(node, "chained comparisons are not allowed; combine with `and`")
                if type(ops[0]) not in _CMPOPS:
                    raise self.fail(node, f"operator `{_OP_SYMBOLS.get(type(ops[0]), '?')}` is not allowed")
                return Compare(
                    _CMPOPS[type(ops[0])], self.visit(left, depth + 1), self.visit(comparators[0], depth + 1)
                )
            case ast.IfExp(test=test, body=body, orelse=orelse):
                if not (isinstance(test, ast.Name) and test.id in self.scope.flags):
                    raise self.fail(
                        node, "the condition of `a if flag else b` must be a boolean parameter; use where() for tensors"
                    )
                return Cond(test.id, self.visit(body, depth + 1), self.visit(orelse, depth + 1))
            case ast.Call():
                return self.call(node, depth)
        what = _CONSTRUCTS.get(type(node), type(node).__name__)
        raise self.fail(node, f"{what} not allowed in a formula")

    def check_constant(self, node: ast.AST, tree: Binary) -> None:
        """Arithmetic on numbers alone is left to Python in the generated code, when the loss
        runs: reject what would fail there (1 / 0, a complex (-8) ** 0.5, an overflowing
        1e300 * 1e300) or never finish (9 ** 9 ** 9, computed as an exact integer)."""
        try:
            value = number_value(tree)
        except ZeroDivisionError:
            raise self.fail(node, "division by zero in arithmetic on numbers") from None
        except OverflowError:
            value = math.inf
        if isinstance(value, complex):
            raise self.fail(node, "arithmetic on numbers gives a complex number (negative number ** fraction)")
        if value is not None and not math.isfinite(value):
            raise self.fail(node, "arithmetic on numbers gives a number too large: the largest is about 1.8e308")

    def name(self, node: ast.AST, name: str, depth: int) -> Node:
        if name.startswith("__"):
            raise self.fail(node, f"name `{name}` is not allowed (names starting with `__` are reserved)")
        kind = self.scope.names.get(name)
        if kind is None and name in PUBLIC_FUNCTIONS and PUBLIC_FUNCTIONS[name].constant:
            return Call(name, ())
        if kind is None:
            if name in PUBLIC_FUNCTIONS:
                raise self.fail(node, f"`{name}` is a function; call it as {PUBLIC_FUNCTIONS[name].signature}")
            known = ", ".join(sorted(self.scope.names))
            raise self.fail(node, f"undefined name `{name}`{_suggest(name, self.scope.names)} (known here: {known})")
        if name in self.scope.flags:
            raise self.fail(node, f"boolean parameter `{name}` can only be used as `a if {name} else b`")
        return Ref(name, kind)

    def call(self, node: ast.Call, depth: int) -> Node:
        if isinstance(node.func, ast.Attribute):
            raise self.fail(node, "attribute access not allowed in a formula; call a function by its plain name")
        if not isinstance(node.func, ast.Name):
            self.visit(node.func, depth + 1)  # a lambda, subscript, ... reports itself
            raise self.fail(node, "only functions of the vocabulary can be called, by their plain name")
        name = node.func.id
        if name.startswith("__"):
            raise self.fail(node, f"name `{name}` is not allowed (names starting with `__` are reserved)")
        fn = PUBLIC_FUNCTIONS.get(name)
        if fn is None:
            if name in self.scope.names:
                raise self.fail(node, f"`{name}` is not a function and cannot be called")
            allowed = ", ".join(PUBLIC_FUNCTIONS)
            raise self.fail(node, f"unknown function `{name}`{_suggest(name, PUBLIC_FUNCTIONS)} (allowed: {allowed})")
        if any(isinstance(a, ast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords):
            raise self.fail(node, f"{name}(): starred arguments are not allowed")
        if len(node.args) != len(fn.params):
            raise self.fail(node, f"{name}() takes {len(fn.params)} argument(s), got {len(node.args)}: {fn.signature}")
        for position in fn.constants:
            self.whole_number(node.args[position], name, fn.params[position])
        for position in fn.names:
            if not isinstance(node.args[position], ast.Name):
                raise self.fail(
                    node.args[position], f"{name}(): {fn.params[position]} must be a name, such as y_true or a step"
                )
        args = tuple(self.visit(a, depth + 1) for a in node.args)
        keywords = dict(fn.keywords)
        for kw in node.keywords:
            if kw.arg not in fn.keywords:
                allowed = ", ".join(fn.keywords) or "none"
                raise self.fail(kw.value, f"{name}() got unknown keyword `{kw.arg}` (allowed: {allowed})")
            keywords[kw.arg] = self.keyword_value(kw, name)
        return Call(name, args, tuple(keywords.items()))

    def whole_number(self, value: ast.AST, fn: str, what: str) -> None:
        if _whole_number(value) is None:
            raise self.fail(value, f"{fn}(): {what} must be a whole number such as 0 or -1")

    def keyword_value(self, kw: ast.keyword, fn: str) -> object:
        value = kw.value
        if kw.arg == "keepdims":
            if isinstance(value, ast.Constant) and isinstance(value.value, bool):
                return value.value
            raise self.fail(value, f"{fn}(): keepdims must be True or False")
        number = _whole_number(value)
        if number is None:
            raise self.fail(value, f"{fn}(): {kw.arg} must be a whole number such as -1")
        return number


def _float(value: int | float) -> float | None:
    """``value`` as a finite float; None when it is too large (1e400 reads as infinity)."""
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def number_value(node: Node) -> float | complex | None:
    """The value of a tree made of numbers, constants (``pi``) and arithmetic only, computed
    in floats (so that it is quick); None if the tree reads a name or calls a function.
    Raises ZeroDivisionError or OverflowError where Python would."""
    match node:
        case Num(value=value):
            return _float(value)
        case Call(fn=fn, args=()) if FUNCTIONS[fn].value is not None:
            return FUNCTIONS[fn].value
        case Unary(op="-", operand=x):
            inner = number_value(x)
            return None if inner is None else -inner
        case Binary(op=op, left=a, right=b):
            x = number_value(a)
            y = None if x is None else number_value(b)
            if x is None or y is None:
                return None
            if op == "+":
                return x + y
            if op == "-":
                return x - y
            if op == "*":
                return x * y
            if op == "/":
                return x / y
            return x**y
    return None


def _whole_number(value: ast.AST) -> int | None:
    """The value of an integer literal, with an optional minus sign; None for anything else."""
    negative = isinstance(value, ast.UnaryOp) and isinstance(value.op, ast.USub)
    inner = value.operand if negative else value
    if isinstance(inner, ast.Constant) and type(inner.value) is int:
        return -inner.value if negative else inner.value
    return None


def _suggest(name: str, candidates) -> str:
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f"; did you mean `{close[0]}`?" if close else ""


def call(fn: str, *args: Node, **keywords: object) -> Call:
    """Build a call node in code (used by weighting rules); checks the function exists."""
    spec = FUNCTIONS[fn]
    merged = dict(spec.keywords)
    merged.update(keywords)
    return Call(fn, args, tuple(merged.items()))
