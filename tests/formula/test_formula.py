"""The formula language: what it accepts, what it rejects, and that printing keeps meaning."""

from __future__ import annotations

import math
import re
import types

import numpy as np
import pytest

from generator.formula import emit
from generator.formula.tree import FormulaError, FormulaErrors, Scope, parse
from generator.formula.vocabulary import FUNCTIONS, PUBLIC_FUNCTIONS

SCOPE = Scope(
    {"a": "param", "b": "param", "c": "param", "y_true": "input", "y_pred": "input", "flag": "param"},
    frozenset({"flag"}),
)

# Expressions whose meaning depends on precedence and associativity.
PRECEDENCE_CASES = [
    "a - (b - c)",
    "a - b - c",
    "a / (b * c)",
    "a / b * c",
    "-a ** 2",
    "(-a) ** 2",
    "a ** b ** c",
    "(a ** b) ** c",
    "-(a + b) * c",
    "2 * -a",
    "a - -b",
    "(a + b) / (a - c)",
    "1 - (a - 2) ** 2",
    "a if flag else b - c",
    "(a if flag else b) - c",
]

_NUMPY_OPS = types.SimpleNamespace(power=np.power, exp=np.exp, log=np.log, square=np.square, abs=np.abs)


@pytest.mark.parametrize("text", PRECEDENCE_CASES)
@pytest.mark.parametrize("flag", [True, False])
def test_printed_code_has_the_meaning_of_the_formula(text, flag):
    values = {"a": 1.7, "b": 0.6, "c": 2.3, "flag": flag}
    expected = eval(text, {}, dict(values))  # the test's own literal strings, not spec text
    printed = emit.code(parse(text, SCOPE))
    actual = eval(printed, {"ops": _NUMPY_OPS}, dict(values))
    assert math.isclose(actual, expected, rel_tol=1e-12), printed


def test_printing_adds_no_needless_parentheses():
    assert emit.code(parse("a * b + c", SCOPE)) == "a * b + c"
    assert emit.code(parse("(a * b) + c", SCOPE)) == "a * b + c"
    assert emit.code(parse("exp(-a * y_true)", SCOPE)) == "ops.exp(-a * y_true)"
    assert emit.code(parse("mean(y_pred)", SCOPE)) == "ops.mean(y_pred, axis=-1)"
    assert emit.code(parse("sum(y_pred, axis=0, keepdims=True)", SCOPE)) == "ops.sum(y_pred, axis=0, keepdims=True)"
    assert emit.code(parse("y_true @ y_pred", SCOPE)) == "ops.matmul(y_true, y_pred)"
    assert emit.code(parse("where(y_pred <= a, 1, 0)", SCOPE)) == "ops.where(ops.less_equal(y_pred, a), 1, 0)"


REJECTED = [
    ("y_pred.mean()", "attribute access not allowed"),
    ("().__class__", "attribute access not allowed"),
    ("__import__('os')", "name `__import__` is not allowed"),
    ("import os", "statements such as `import` are not allowed"),
    ("lambda: 1", "lambda not allowed"),
    ("eval('1')", "unknown function `eval`"),
    ("open('x')", "unknown function `open`"),
    ("exp", "`exp` is a function"),
    ("a(1)", "`a` is not a function"),
    ("y_pred[0]", "subscripts not allowed"),
    ("'text'", "only numbers are allowed as constants"),
    ("[y_pred for y_pred in y_true]", "comprehensions not allowed"),
    ("a // b", "operator `//` is not allowed"),
    ("a < b < c", "chained comparisons are not allowed"),
    ("flag + 1", "boolean parameter `flag` can only be used"),
    ("a if y_pred else b", "must be a boolean parameter"),
    ("exp(a, b)", "exp() takes 1 argument(s), got 2"),
    ("mean(a, axis=a)", "axis must be a whole number"),
    ("mean(a, dims=1)", "unknown keyword `dims`"),
    ("at(y_pred, a)", "at(): index must be a whole number"),
    ("at(y_pred, 1.0)", "at(): index must be a whole number"),
    ("zzz + 1", "undefined name `zzz`"),
    ("f'{a}'", "strings not allowed"),
    ("(a := 1)", "assignment expressions (:=) not allowed"),
    ("-" * 50 + "a", "nested more than"),
    ("a + " * 600 + "a", "characters long; the limit is"),
    ("exp(" * 200 + "a" + ")" * 200, "nested"),
    # Arithmetic on pi is Python's too: math.pi / 0 would raise when the loss runs (and
    # used to crash lowering with a traceback).
    ("log(pi / 0) * y_pred", "division by zero in arithmetic on numbers"),
    ("pi ** 1000 * y_pred", "arithmetic on numbers gives a number too large"),
]


@pytest.mark.parametrize(("text", "message"), REJECTED)
def test_rejected_with_a_clear_message(text, message):
    with pytest.raises(FormulaError) as info:
        parse(text, SCOPE)
    assert message in info.value.message


def test_at_takes_a_literal_index_and_prints_a_slice():
    assert emit.code(parse("at(y_pred, -1) - at(y_true, 0)", SCOPE)) == "y_pred[..., -1] - y_true[..., 0]"


def test_column_points_at_the_offending_call():
    with pytest.raises(FormulaError) as info:
        parse("a + clamp(b)", SCOPE)
    assert info.value.column == 5


def test_every_unknown_function_is_an_error_at_its_column():
    with pytest.raises(FormulaErrors) as info:
        parse("clamp(a) + exp(b) * foo(c) - clamp(1)", SCOPE)
    errors = info.value.errors
    assert [(e.message.split(";")[0].split(" (")[0], e.column) for e in errors] == [
        ("unknown function `clamp`", 1),
        ("unknown function `foo`", 21),
        ("unknown function `clamp`", 30),
    ]
    # The list of functions is given once, with the first error.
    assert errors[0].message.endswith(f"(allowed: {', '.join(PUBLIC_FUNCTIONS)})")
    assert all(e.message.endswith("(allowed: see the list above)") for e in errors[1:])
    assert (info.value.message, info.value.column) == (errors[0].message, 1)


def test_one_unknown_function_is_one_formula_error():
    with pytest.raises(FormulaError) as info:
        parse("a + clamp(b) + a(1)", SCOPE)
    assert not isinstance(info.value, FormulaErrors)
    assert info.value.message.startswith("unknown function `clamp`; did you mean `clip`? (allowed: abs, ")


def test_vocabulary_lowers_to_keras_ops_only():
    for fn in FUNCTIONS.values():
        calls = re.findall(r"([a-z_]+)\.([a-z_]+)\(", fn.code)
        assert all(module in ("ops", "keras", "config") for module, _ in calls), fn.name
        assert "tf." not in fn.code and "backend" not in fn.code


def test_every_public_function_has_doc_and_latex():
    for fn in PUBLIC_FUNCTIONS.values():
        assert fn.doc.endswith(".") and fn.latex, fn.name


def test_latex_of_a_fraction_and_names():
    assert emit.latex(parse("a / (b + 1)", SCOPE)) == r"\frac{a}{b + 1}"
    assert emit.symbol("alpha_t") == r"\alpha_{t}"
    assert emit.symbol("y_pred") == r"\hat{y}"
    assert emit.symbol("bce") == r"\mathrm{bce}"


@pytest.mark.parametrize("text", PRECEDENCE_CASES)
def test_formula_text_reads_back_as_the_same_formula(text):
    node = parse(text, SCOPE)
    assert emit.code(parse(emit.text(node), SCOPE)) == emit.code(node)


def test_every_catalog_formula_reads_back_from_its_docstring_text():
    """The ``Formula:`` section of each generated docstring is printed by ``emit.text``;
    parsed again, every step and the loss give the same code as the spec's own text."""
    from conftest import SPECS

    from generator.spec.loader import load_spec

    for path in sorted(SPECS.glob("*.yaml")):
        item = load_spec(path)
        names = {"y_true": "input", "y_pred": "input", **{n: "param" for n in item.spec.parameters}}
        names.update({n: "step" for n in item.spec.inputs.y_pred.parts})  # unpacked before the steps
        flags = frozenset(n for n, p in item.spec.parameters.items() if p.type == "bool")
        for name, node in [*item.program.steps, ("loss", item.program.loss)]:
            again = parse(emit.text(node), Scope(dict(names), flags))
            assert emit.code(again) == emit.code(node), f"{path.name}: {name}"
            names[name] = "step"


def test_a_fraction_raised_to_a_power_keeps_its_parentheses():
    """``square(x / s)`` is (x / s) squared: the LaTeX must not read as x / s**2's layout,
    ``\\frac{x}{s}^{2}``; inside a product a fraction needs no parentheses."""
    scope = Scope({"y_true": "input", "y_pred": "input", "s": "param", "a": "param"})
    assert emit.latex(parse("square((y_pred - y_true) / s)", scope)) == r"\left(\frac{\hat{y} - y}{s}\right)^{2}"
    assert emit.latex(parse("(y_pred / s) ** a", scope)) == r"\left(\frac{\hat{y}}{s}\right)^{a}"
    assert emit.latex(parse("a * (y_pred / s)", scope)) == r"a \cdot \frac{\hat{y}}{s}"
