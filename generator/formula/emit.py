"""Write a checked formula tree as ``keras.ops`` source, as LaTeX, or back in the formula
language itself (for the ``Formula:`` section of a generated docstring).

The printers are precedence-aware, so they add the parentheses the meaning needs and
no others. Neither evaluates anything.
"""

from __future__ import annotations

from collections.abc import Callable

from generator.formula.tree import Binary, Call, Compare, Cond, Node, Num, Ref, Unary
from generator.formula.vocabulary import ATOM, FRAC, FUNCTIONS, LOW, MUL, POW, SUM

# Python precedence levels used by the code printer (higher binds tighter).
_PY_COND = 1
_PY_ADD = 10
_PY_MUL = 11
_PY_UNARY = 12
_PY_POW = 13
_PY_ATOM = 20

_PY_BINARY = {"+": _PY_ADD, "-": _PY_ADD, "*": _PY_MUL, "/": _PY_MUL, "**": _PY_POW}
_COMPARE_OPS = {
    "<": "ops.less",
    "<=": "ops.less_equal",
    ">": "ops.greater",
    ">=": "ops.greater_equal",
    "==": "ops.equal",
    "!=": "ops.not_equal",
}


def number(value: int | float | bool) -> str:
    """A Python literal for a number: ``2.0``, ``-1``, ``1e-07``, ``True``."""
    if isinstance(value, bool):
        return repr(value)
    if isinstance(value, float):
        return repr(float(value))
    return str(int(value))


def code(node: Node) -> str:
    """The ``keras.ops`` source of a formula."""
    return _code(node)[0]


def _wrap(text: str, prec: int, need: int, strict: bool = False) -> str:
    if prec < need or (strict and prec == need):
        return f"({text})"
    return text


def _python(node: Node, call: Callable[[Call], str], compare: Callable[[Compare], tuple[str, int]]) -> tuple[str, int]:
    """A formula in Python syntax, with its precedence: the code printer and the formula
    text printer differ only in how they write a call and a comparison."""

    def walk(n: Node) -> tuple[str, int]:
        return _python(n, call, compare)

    match node:
        case Num(value=value):
            text = number(value)
            return text, _PY_UNARY if text.startswith("-") else _PY_ATOM
        case Ref(name=name):
            return name, _PY_ATOM
        case Unary(op=op, operand=x):
            inner, prec = walk(x)
            return op + _wrap(inner, prec, _PY_UNARY), _PY_UNARY
        case Binary(op=op, left=a, right=b):
            level = _PY_BINARY[op]
            (lt, lp), (rt, rp) = walk(a), walk(b)
            if op == "**":
                # right-associative; a unary minus on the left must be parenthesised
                return f"{_wrap(lt, lp, level, strict=True)} ** {_wrap(rt, rp, level)}", level
            # A right operand of the same precedence keeps its parentheses even where the
            # algebra would not need them: a + (b - c) rounds differently from a + b - c,
            # and the code must compute what the spec (and its float64 twin) computes.
            return f"{_wrap(lt, lp, level)} {op} {_wrap(rt, rp, level, strict=True)}", level
        case Compare():
            return compare(node)
        case Cond(flag=flag, body=a, orelse=b):
            (bt, bp), (ot, op_) = walk(a), walk(b)
            return f"{_wrap(bt, bp, _PY_COND, strict=True)} if {flag} else {_wrap(ot, op_, _PY_COND)}", _PY_COND
        case Call():
            return call(node), _PY_ATOM
    raise TypeError(f"not a formula node: {node!r}")


def _shown_keywords(node: Call) -> list[tuple[str, object]]:
    """The keywords a printed call spells out: an axis always, others where they differ
    from the function's default."""
    spec = FUNCTIONS[node.fn]
    return [(k, v) for k, v in node.keywords if k in spec.always or v != spec.keywords.get(k)]


def _code(node: Node) -> tuple[str, int]:
    return _python(node, _code_call, _code_compare)


def _code_call(node: Call) -> str:
    rendered = [_code(a) for a in node.args]
    values = {f"a{i}": _wrap(t, p, _PY_ATOM) for i, (t, p) in enumerate(rendered)}
    kw = "".join(f", {k}={number(v)}" for k, v in _shown_keywords(node))
    return FUNCTIONS[node.fn].code.format(*(t for t, _ in rendered), kw=kw, **values)


def _code_compare(node: Compare) -> tuple[str, int]:
    return f"{_COMPARE_OPS[node.op]}({code(node.left)}, {code(node.right)})", _PY_ATOM


def text(node: Node) -> str:
    """A formula in the spec's own language: ``mean(alpha_t * miss ** gamma * bce, axis=-1)``,
    with the keywords the code printer spells out."""
    return _python(node, _text_call, _text_compare)[0]


_PY_COMPARE = 5


def _text_call(node: Call) -> str:
    if FUNCTIONS[node.fn].constant:
        return node.fn
    parts = [text(a) for a in node.args] + [f"{k}={number(v)}" for k, v in _shown_keywords(node)]
    return f"{node.fn}({', '.join(parts)})"


def _text_compare(node: Compare) -> tuple[str, int]:
    left, right = _python(node.left, _text_call, _text_compare), _python(node.right, _text_call, _text_compare)
    shown = f"{_wrap(*left, _PY_COMPARE, strict=True)} {node.op} {_wrap(*right, _PY_COMPARE, strict=True)}"
    return shown, _PY_COMPARE


# ---------------------------------------------------------------- LaTeX

_GREEK = {
    "alpha",
    "beta",
    "gamma",
    "delta",
    "epsilon",
    "zeta",
    "eta",
    "theta",
    "kappa",
    "lambda",
    "mu",
    "nu",
    "xi",
    "pi",
    "rho",
    "sigma",
    "tau",
    "phi",
    "chi",
    "psi",
    "omega",
}
_LATEX_COMPARE = {"<": "<", "<=": r"\le", ">": ">", ">=": r"\ge", "==": "=", "!=": r"\ne"}


def symbol(name: str) -> str:
    """LaTeX for a name: ``y_true`` -> ``y``, ``alpha_t`` -> ``\\alpha_{t}``, ``bce`` -> ``\\mathrm{bce}``."""
    if name == "y_true":
        return "y"
    if name == "y_pred":
        return r"\hat{y}"
    base, _, sub = name.partition("_")

    def word(text: str) -> str:
        if text in _GREEK:
            return "\\" + text
        if len(text) == 1:
            return text
        return r"\mathrm{" + text.replace("_", r"\_") + "}"

    out = word(base)
    if sub:
        out += "_{" + word(sub) + "}"
    return out


def _axis(keywords: tuple[tuple[str, object], ...]) -> str:
    axis = dict(keywords).get("axis", -1)
    if axis == -1:
        return "c"
    if axis == 0:
        return "b"
    return rf"\text{{axis }}{axis}"


def latex(node: Node) -> str:
    """The LaTeX of a formula."""
    return _latex(node)[0]


def _paren(text: str, prec: int, need: int, strict: bool = False) -> str:
    if prec < need or (strict and prec == need):
        return rf"\left({text}\right)"
    return text


def _latex(node: Node) -> tuple[str, int]:
    match node:
        case Num(value=value):
            text = number(value)
            if "e" in text:
                mantissa, _, exponent = text.partition("e")
                text = rf"{mantissa} \cdot 10^{{{int(exponent)}}}"
                return text, MUL
            return text, (SUM if text.startswith("-") else ATOM)
        case Ref(name=name):
            return symbol(name), ATOM
        case Unary(op=op, operand=x):
            text, prec = _latex(x)
            return op + _paren(text, prec, MUL), SUM
        case Binary(op="/", left=a, right=b):
            return rf"\frac{{{latex(a)}}}{{{latex(b)}}}", FRAC
        case Binary(op="**", left=a, right=b):
            base, bp = _latex(a)
            return f"{_paren(base, bp, POW, strict=True)}^{{{latex(b)}}}", POW
        case Binary(op=op, left=a, right=b):
            level = SUM if op in "+-" else MUL
            (lt, lp), (rt, rp) = _latex(a), _latex(b)
            sign = r" \cdot " if op == "*" else f" {op} "
            return _paren(lt, lp, level) + sign + _paren(rt, rp, level, strict=op == "-"), level
        case Compare(op=op, left=a, right=b):
            return f"{latex(a)} {_LATEX_COMPARE[op]} {latex(b)}", LOW
        case Cond(flag=flag, body=a, orelse=b):
            name = flag.replace("_", r"\_")
            text = (
                rf"\begin{{cases}} {latex(a)} & \text{{if }} \mathrm{{{name}}} \\ "
                rf"{latex(b)} & \text{{otherwise}} \end{{cases}}"
            )
            return text, LOW
        case Call(fn=fn, args=args, keywords=keywords):
            spec = FUNCTIONS[fn]
            rendered = [_latex(a) for a in args]
            values = {f"a{i}": _paren(t, p, ATOM) for i, (t, p) in enumerate(rendered)}
            pair = {-1: "i", 0: "j", -2: "j"}.get(dict(keywords).get("axis", -1), "k")
            text = spec.latex.format(*(t for t, _ in rendered), ax=_axis(keywords), pair=pair, **values)
            return text, spec.latex_prec
    raise TypeError(f"not a formula node: {node!r}")


__all__ = ["code", "latex", "number", "symbol", "LOW", "MUL", "POW", "SUM"]
