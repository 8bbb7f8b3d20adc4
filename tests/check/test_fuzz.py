"""Fuzzing the spec loader and the formula language: nothing a spec says can crash lossgen or run.

For random formulas (from the whitelisted vocabulary, and garbage) and for randomly mutated
catalog specs, the loader either accepts the spec, and then the generated module is valid
Python that mentions no name the spec smuggled in (and, for a sample, imports and runs in
Keras), or rejects it with :class:`~generator.errors.SpecErrors`, every message of the form
``file:line[:col]: field: message``. Any other exception is a failure. Injection attempts are
checked one by one, and a few rejected specs go through the CLI in a fresh process.

Deterministic (``derandomize=True``, no example database) and silent. Keras is imported only
by the runtime tests, lazily.

Known gaps, left out on purpose: the formula language has no types, so some accepted formulas
still fail when the loss runs: arithmetic on a comparison (``(y_pred > 0) + 1``: TensorFlow
cannot add booleans), a number where a tensor is needed (``at(2, 0)`` prints as ``2[..., 0]``),
shapes that do not fit (``matmul(y_true, y_pred)``), and arithmetic on scalar parameters alone,
which Python computes (``alpha / 0`` raises). The runtime property draws well-typed formulas.
"""

from __future__ import annotations

import ast
import contextlib
import os
import re
import signal
import tempfile
import threading
import time
import warnings
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, SPECS, run_cli, spec_forms
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

from generator.codegen.pipeline import generate
from generator.formula import emit
from generator.formula.tree import FormulaError, Scope, parse
from generator.formula.vocabulary import FUNCTIONS, PUBLIC_FUNCTIONS
from generator.spec.errors import SpecErrors
from generator.spec.loader import LoadedSpec, load_spec
from generator.spec.names import names as generated_names

# ---------------------------------------------------------------- settings

# No example database (database=None below), and Hypothesis's own caches out of the repository.
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "lossgen-test-hypothesis")


def _settings(max_examples: int) -> settings:
    return settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        database=None,
        print_blob=False,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.function_scoped_fixture,
            HealthCheck.filter_too_much,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
        ],
    )


PARSER_EXAMPLES = 3000  # formula.parse alone: fast
LOADER_EXAMPLES = 700  # whole spec files through load_spec, accepted ones generated and compiled
RUNTIME_EXAMPLES = 100  # generated modules imported and run in Keras
MUTATION_EXAMPLES = 800  # mutated catalog specs through load_spec
TIME_LIMIT = 5.0  # CPU seconds one case may take, Keras aside (they take well under one)

# ---------------------------------------------------------------- helpers

SPEC_NAME = "fuzz_loss"
LOSS_LINE = 7  # line of `loss:` in spec_text()
PARAMETERS = {
    "alpha": "{type: float, default: 0.5, doc: A float parameter.}",
    "flag": "{type: bool, default: true, doc: A bool parameter.}",
}
ERROR_LINE = re.compile(r"^(?P<path>.+?):(?P<line>\d+)(?::(?P<column>\d+))?: (?:(?P<field>[^\s:]+): )?\S")


def yaml_quote(text: str) -> str:
    """``text`` as a double-quoted YAML scalar on one line, every non-ASCII or control
    character escaped, so that the loader reads back exactly ``text``."""
    out = []
    for ch in text:
        code = ord(ch)
        if ch in '"\\':
            out.append("\\" + ch)
        elif 0x20 <= code < 0x7F:
            out.append(ch)
        elif code <= 0xFFFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    return '"' + "".join(out) + '"'


def spec_text(loss: str) -> str:
    """A minimal valid spec around ``loss``; parameters are declared when the text names them."""
    lines = [
        f"name: {SPEC_NAME}",
        "title: Fuzz",
        "task: regression",
        "summary: A loss under test.",
        "inputs: {y_true: {kind: real}, y_pred: {kind: real}}",
        "formula:",
        f"  loss: {yaml_quote(loss)}",
        "  reduce: mean",
    ]
    assert lines[LOSS_LINE - 1].startswith("  loss:")
    used = [name for name in PARAMETERS if re.search(rf"\b{name}\b", loss)]
    if used:
        lines.append("parameters:")
        lines += [f"  {name}: {PARAMETERS[name]}" for name in used]
    return "\n".join(lines) + "\n"


def assert_clean_rejection(exc: SpecErrors, path: Path) -> list[re.Match]:
    """Every error names the file and a line, then the field and a message; no traceback."""
    assert exc.errors, "SpecErrors without any error"
    matches = []
    for error in exc.errors:
        text = str(error)
        match = ERROR_LINE.match(text)
        assert match is not None, f"not file:line:col: field: message: {text!r}"
        assert match["path"] == str(path), text
        assert error.line is not None and error.line >= 1, text
        assert "Traceback" not in text, text
        assert "\n" not in text and "\r" not in text, f"an error must fit on one line: {text!r}"
        matches.append(match)
    return matches


def load_or_reject(path: Path) -> LoadedSpec | None:
    """The loaded spec, or None after checking the rejection is clean. Any other exception
    propagates and fails the test."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ruamel warns about some odd YAML; a warning is not an error
        try:
            item = load_spec(path)
        except SpecErrors as exc:
            assert_clean_rejection(exc, path)
            event("rejected")
            return None
    event("accepted")
    return item


_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _identifiers(source: str) -> set[str]:
    """Every name, attribute, argument, keyword, function and class name of a module."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Name):
            out.add(node.id)
        elif isinstance(node, ast.Attribute):
            out.add(node.attr)
        elif isinstance(node, ast.FunctionDef | ast.ClassDef):
            out.add(node.name)
        elif isinstance(node, ast.arg):
            out.add(node.arg)
        elif isinstance(node, ast.keyword) and node.arg:
            out.add(node.arg)
        elif isinstance(node, ast.alias):
            out.update((node.name, node.asname or node.name))
    return out


@cache
def generator_identifiers() -> frozenset[str]:
    """Names the generator itself writes: those of every catalog module and of the vocabulary."""
    names: set[str] = set()
    for path in sorted(SPECS.glob("*.yaml")):
        names |= _identifiers(generate(load_spec(path)))
    for fn in FUNCTIONS.values():
        names.update(_IDENTIFIER.findall(fn.code))
        if fn.helper:  # the helper's own template: a module uses it only when its formula does
            names |= _identifiers((ROOT / "templates" / f"{fn.helper}.py.jinja").read_text(encoding="utf-8"))
    for op in COMPARISONS:
        names.update(_IDENTIFIER.findall(emit.code(parse(f"y_pred {op} y_true", PARSER_SCOPE))))
    return frozenset(names)


def spec_identifiers(item: LoadedSpec) -> set[str]:
    """Names a spec may legitimately bring into its module."""
    spec = item.spec
    return generated_names(spec).all() | {*spec.parameters, *spec.formula.steps}


def assert_generated_module_is_safe(item: LoadedSpec) -> str:
    """The module of an accepted spec is valid Python and uses only the generator's names and
    the spec's declared names: spec text never becomes code."""
    source = generate(item)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SyntaxWarning)
        compile(source, f"{item.name}.py", "exec", dont_inherit=True)
    foreign = _identifiers(source) - generator_identifiers() - spec_identifiers(item)
    assert not foreign, f"generated module uses names from nowhere: {sorted(foreign)}"
    return source


@contextlib.contextmanager
def time_limit(seconds: float):
    """Fail (instead of hanging) if the block uses more than ``seconds`` of this process's
    CPU time. CPU time, not wall-clock time, so a busy machine cannot fail it: the guard is
    against inputs that make the loader or generator spin, and subprocesses (ruff) are not
    counted."""
    start = time.process_time()
    use_alarm = threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer")
    if use_alarm:

        def expired(signum, frame):
            raise TimeoutError(f"used more than {seconds} s of CPU time")

        previous = signal.signal(signal.SIGPROF, expired)
        signal.setitimer(signal.ITIMER_PROF, seconds)
    try:
        yield
    finally:
        if use_alarm:
            signal.setitimer(signal.ITIMER_PROF, 0)
            signal.signal(signal.SIGPROF, previous)
    assert time.process_time() - start < seconds


def run_function_form(folder: Path, path: Path) -> np.ndarray:
    """Import the generated module of the spec at ``path`` and call its function form, with the
    default parameters, on small float32 arrays; return the per-sample losses."""
    import keras

    from generator.check import samples

    item = load_spec(path)
    forms = spec_forms(folder, path)
    params = samples.parameter_sets(item.spec)["defaults"]
    rng = np.random.default_rng(0)
    y_true = rng.random((8, 4)).astype("float32")
    y_pred = rng.normal(size=(8, 4)).astype("float32")
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        out = np.asarray(keras.ops.convert_to_numpy(forms.function(params)(y_true, y_pred)))
    assert out.dtype.kind in "fc", out.dtype
    return out


@pytest.fixture(scope="module")
def known_names() -> frozenset[str]:
    """:func:`generator_identifiers`, computed once before any timed block (it renders the catalog)."""
    return generator_identifiers()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """A scratch folder that is also the working directory, so that an injected
    ``touch PWNED`` would land here; checked to be free of it afterwards."""
    folder = tmp_path_factory.mktemp("fuzz")
    previous = Path.cwd()
    os.chdir(folder)
    try:
        yield folder
    finally:
        os.chdir(previous)
    assert not (folder / "PWNED").exists()


# ---------------------------------------------------------------- formula strategies

BINARY_OPS = ("+", "-", "*", "/", "**")
OTHER_BINARY_OPS = ("//", "%", "@", "&", "|", "^", "<<", ">>")
COMPARISONS = ("<", "<=", ">", ">=", "==", "!=")
OTHER_COMPARISONS = ("in", "not in", "is", "is not")
TOKENS = (
    *BINARY_OPS,
    *OTHER_BINARY_OPS,
    *COMPARISONS,
    *OTHER_COMPARISONS,
    *sorted(PUBLIC_FUNCTIONS),
    *sorted(set(FUNCTIONS) - set(PUBLIC_FUNCTIONS)),
    "y_true",
    "y_pred",
    "alpha",
    "flag",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    ":",
    ";",
    ".",
    "=",
    ":=",
    "...",
    "*",
    "**",
    "\\",
    "\n",
    "#",
    "'",
    '"',
    "'''",
    "f'{y_pred}'",
    "b''",
    "lambda",
    "lambda x: x",
    "import",
    "from",
    "yield",
    "await",
    "async",
    "not",
    "and",
    "or",
    "if",
    "else",
    "for",
    "in",
    "None",
    "True",
    "False",
    "__class__",
    "__import__",
    "__builtins__",
    "__subclasses__()",
    ".__class__",
    "eval",
    "exec",
    "open",
    "getattr",
    "globals",
    "axis=0",
    "keepdims=True",
    "*args",
    "**kwargs",
    "1e400",
    "1e-400",
    "0x1F",
    "0o17",
    "0b101",
    "1_000",
    "1j",
    "9" * 40,
    "\x00",
    "\t",
    "\u00e9",
    "\uff45\uff58\uff50",  # fullwidth "exp": Python folds it to exp
)

constants = st.one_of(
    st.integers(min_value=0, max_value=10**6).map(str),
    st.floats(min_value=0, max_value=1e6, allow_nan=False).map(repr),
    st.floats(allow_nan=False, allow_infinity=False).map(lambda v: repr(abs(v))),
    st.sampled_from(["0", "1", "2", "0.5", "1e-7", "1e308", "1e400", "0.0", "0x10", "1_0", "9" * 30, "1j", "True"]),
)
leaves = st.one_of(st.sampled_from(["y_true", "y_pred", "alpha", "flag", "epsilon()", "num_classes()"]), constants)


@st.composite
def call_of(draw, children) -> str:
    name = draw(st.sampled_from(sorted(PUBLIC_FUNCTIONS)))
    fn = PUBLIC_FUNCTIONS[name]
    arity = draw(st.one_of(st.just(len(fn.params)), st.integers(0, 3)))
    args = []
    for i in range(arity):
        if i in fn.constants and draw(st.booleans()):
            args.append(str(draw(st.integers(-3, 3))))
        else:
            args.append(draw(children))
    for key in fn.keywords:
        if draw(st.booleans()):
            value = draw(
                st.one_of(st.integers(-3, 3).map(str), st.sampled_from(["True", "False"]), children)
                if key == "axis"
                else st.one_of(st.sampled_from(["True", "False", "1"]), children)
            )
            args.append(f"{key}={value}")
    if draw(st.integers(0, 19)) == 0:
        args.append(draw(st.sampled_from(["dims=1", "*y_pred", "**{}", "axis=0", "x=1"])))
    return f"{name}({', '.join(args)})"


@st.composite
def compound(draw, children) -> str:
    kind = draw(st.integers(0, 9))
    a, b = draw(children), draw(children)
    if kind <= 2:
        op = draw(st.sampled_from(BINARY_OPS) if kind else st.sampled_from(OTHER_BINARY_OPS))
        text = f"{a} {op} {b}"
    elif kind == 3:
        op = draw(st.sampled_from(COMPARISONS + OTHER_COMPARISONS))
        text = f"{a} {op} {b}"
        if draw(st.integers(0, 4)) == 0:
            text += f" {draw(st.sampled_from(COMPARISONS))} {draw(children)}"  # chained
    elif kind == 4:
        text = f"{draw(st.sampled_from(['-', '+', 'not ', '~', '- -']))}{a}"
    elif kind == 5:
        text = f"{a} if {draw(st.sampled_from(['flag', 'y_pred', 'alpha', 'True']))} else {b}"
    elif kind == 6:
        text = f"{a} {draw(st.sampled_from(['and', 'or']))} {b}"
    else:
        return draw(call_of(children))
    return f"({text})" if draw(st.booleans()) else text


vocabulary_formulas = st.recursive(leaves, compound, max_leaves=20)


@st.composite
def well_formed(draw, children) -> str:
    """Only the language's own constructs, each function with its arity and keywords."""
    kind = draw(st.integers(0, 7))
    if kind <= 2:
        text = f"{draw(children)} {draw(st.sampled_from(BINARY_OPS))} {draw(children)}"
    elif kind == 3:
        text = f"{draw(children)} {draw(st.sampled_from(COMPARISONS))} {draw(children)}"
    elif kind == 4:
        text = f"{draw(st.sampled_from(['-', '+', 'not ']))}{draw(children)}"
    elif kind == 5:
        text = f"{draw(children)} if flag else {draw(children)}"
    else:
        fn = PUBLIC_FUNCTIONS[draw(st.sampled_from(sorted(PUBLIC_FUNCTIONS)))]
        args = [str(draw(st.integers(-2, 2))) if i in fn.constants else draw(children) for i in range(len(fn.params))]
        for key in fn.keywords:
            if draw(st.booleans()):
                args.append(
                    f"{key}={draw(st.sampled_from(['True', 'False']) if key == 'keepdims' else st.integers(-2, 1))}"
                )
        return f"{fn.name}({', '.join(args)})"
    return f"({text})" if draw(st.booleans()) else text


well_formed_formulas = st.recursive(
    st.sampled_from(["y_true", "y_pred", "alpha", "epsilon()", "0.5", "2", "1e-7"]), well_formed, max_leaves=12
)

# Constructs outside the language, wrapped around a formula.
FORBIDDEN_WRAPPERS = (
    "{}[0]",
    "{}[::-1]",
    "{}.__class__",
    "{}.mean()",
    "[{}]",
    "({},)",
    "{{{}}}",
    "{{'k': {}}}",
    "lambda: {}",
    "(x := {})",
    "[c for c in {}]",
    "sum(c for c in {})",
    "f'{{{}}}'",
    "'{{0.__class__}}'.format({})",
    "maximum(*[{}])",
    "sum({}, **{{'axis': 0}})",
    "await {}",
    "(yield {})",
    "{}; 1",
    "{}\nimport os",
    "x = {}",
    "eval('{}')",
    "__import__('os').system({})",
)


@st.composite
def wrapped(draw) -> str:
    return draw(st.sampled_from(FORBIDDEN_WRAPPERS)).format(draw(vocabulary_formulas))


@st.composite
def with_token_inserted(draw) -> str:
    text = draw(vocabulary_formulas)
    at = draw(st.integers(0, len(text)))
    return text[:at] + draw(st.sampled_from(TOKENS)) + text[at:]


token_soup = st.lists(st.sampled_from(TOKENS), max_size=12).map(" ".join)

formulas = st.one_of(
    well_formed_formulas,
    vocabulary_formulas,
    vocabulary_formulas,  # twice: most cases are in the language's own vocabulary
    wrapped(),
    with_token_inserted(),
    token_soup,
    st.text(max_size=40),
)

PARSER_SCOPE = Scope(
    {"y_true": "input", "y_pred": "input", "alpha": "param", "flag": "param"},
    frozenset({"flag"}),
)

# ---------------------------------------------------------------- 1. formulas


@_settings(PARSER_EXAMPLES)
@given(text=formulas)
@example(text="y_pred * 1e400")  # once accepted: printed as the undefined name `inf`
@example(text="y_pred + 1 / 0")  # once accepted: ZeroDivisionError when the loss runs
@example(text="y_pred * 9 ** 9 ** 9")  # once accepted: the loss computes a gigantic integer, forever
@example(text="y_pred * (-8) ** 0.5")  # once accepted: a complex number in a float loss
def test_formula_parser_accepts_or_raises_formula_error(text):
    """``parse`` returns a tree that prints as valid Python and LaTeX, or raises FormulaError."""
    try:
        node = parse(text, PARSER_SCOPE)
    except FormulaError as exc:
        assert isinstance(exc.message, str) and exc.message
        assert exc.column is None or exc.column >= 0
        event("rejected")
        return
    event("accepted")
    code = emit.code(node)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SyntaxWarning)  # at(2, 0) prints as 2[..., 0]: see the module docstring
        compile(code, "<formula>", "eval", dont_inherit=True)
    assert "inf" not in _IDENTIFIER.findall(code) and "nan" not in _IDENTIFIER.findall(code), code
    assert isinstance(emit.latex(node), str)


@_settings(LOADER_EXAMPLES)
@given(text=formulas)
@example(text="y_pred * 1e400")
@example(text="y_pred - alpha * " + "9" * 400)
@example(text="sum(y_pred, axis=0, keepdims=True) if flag else alpha * y_true")
def test_spec_with_random_formula_loads_or_is_rejected_cleanly(text, workdir, known_names):
    """A spec whose ``formula.loss`` is random text loads, and then generates a module that
    compiles and contains no foreign name; or it is rejected with file:line:col messages, at
    the ``loss:`` line when the formula is at fault."""
    path = workdir / "formula_spec.yaml"
    path.write_text(spec_text(text), encoding="utf-8")
    try:
        item = load_spec(path)
    except SpecErrors as exc:
        for match in assert_clean_rejection(exc, path):
            if match["field"] == "formula.loss":
                assert int(match["line"]) == LOSS_LINE, str(exc)
        event("rejected")
        return
    event("accepted")
    assert_generated_module_is_safe(item)


# Well-typed formulas over tensors of one shape, (batch, classes), and Python scalars: every
# one of them should run. Arithmetic between two Python scalars is limited to + - * (the
# generated code leaves it to Python, where 1 / 0 raises).
SCALAR_LEAVES = st.one_of(
    st.sampled_from(["alpha", "epsilon()", "num_classes()", "batch_size()", "0", "1", "2", "0.5", "1e-7"]),
    st.floats(0.01, 10).map(lambda v: repr(round(v, 3))),
)
TENSOR_FUNCTIONS = (
    "exp log log1p expm1 sqrt square abs sign tanh sigmoid softplus log_sigmoid relu stop_gradient "
    "softmax log_softmax normalize sort cumsum"
).split()


scalars = st.recursive(
    SCALAR_LEAVES,
    lambda inner: (
        st.tuples(inner, st.sampled_from(["+", "-", "*"]), inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})")
        | inner.map(lambda s: f"-{s}")
    ),
    max_leaves=3,
)


@st.composite
def condition(draw, tensors) -> str:
    left, right = draw(tensors), draw(st.one_of(tensors, scalars))
    text = f"{left} {draw(st.sampled_from(COMPARISONS))} {right}"
    kind = draw(st.integers(0, 5))
    if kind == 0:
        return f"not ({text})"
    if kind == 1:
        return f"({text}) {draw(st.sampled_from(['and', 'or']))} ({draw(tensors)} > 0)"
    if kind == 2:
        return f"logical_or({text}, y_pred < y_true)"
    return text


@st.composite
def typed_compound(draw, tensors) -> str:
    kind = draw(st.integers(0, 9))
    if kind <= 2:
        left, right = draw(tensors), draw(st.one_of(tensors, scalars))
        if draw(st.booleans()):
            left, right = right, left
        return f"({left} {draw(st.sampled_from(BINARY_OPS))} {right})"
    if kind == 3:
        return f"{draw(st.sampled_from(['-', '+']))}{draw(tensors)}"
    if kind == 4:
        fn = draw(st.sampled_from(["sum", "mean", "max", "min", "logsumexp"]))
        return f"{fn}({draw(tensors)}, axis={draw(st.sampled_from([-1, 0]))}, keepdims=True)"
    if kind == 5:
        branches = st.one_of(tensors, scalars)
        return f"where({draw(condition(tensors))}, {draw(branches)}, {draw(branches)})"
    if kind == 6:
        return f"indicator({draw(condition(tensors))})"
    if kind == 7:
        fn = draw(st.sampled_from(["power", "maximum", "minimum", "clip", "take_along_axis"]))
        x = draw(tensors)
        if fn == "clip":
            return f"clip({x}, {draw(scalars)}, {draw(st.one_of(tensors, scalars))})"
        if fn == "take_along_axis":
            return f"take_along_axis({x}, argsort({draw(tensors)}))"
        return f"{fn}({x}, {draw(st.one_of(tensors, scalars))})"
    if kind == 8:
        return f"({draw(tensors)} if flag else {draw(tensors)})"
    return f"{draw(st.sampled_from(TENSOR_FUNCTIONS))}({draw(tensors)})"


runnable_formulas = st.recursive(st.sampled_from(["y_true", "y_pred"]), typed_compound, max_leaves=10)


@pytest.fixture(scope="module")
def keras_dir(tmp_path_factory):
    pytest.importorskip("keras")
    return tmp_path_factory.mktemp("fuzz_keras")


@_settings(RUNTIME_EXAMPLES)
@given(text=runnable_formulas)
@example(text="+y_pred")  # once accepted, then TypeError: bad operand type for unary +
@example(text="where(y_pred > alpha, log(y_pred), -y_true) / num_classes()")
def test_accepted_formula_imports_and_runs(text, keras_dir, known_names):
    """Well-typed random formulas load, and the function form of the generated module
    imports and runs on float32 arrays: one (possibly non-finite) value per sample."""
    path = keras_dir / "runtime_spec.yaml"
    path.write_text(spec_text(text), encoding="utf-8")
    item = load_or_reject(path)
    if item is None:
        return
    assert_generated_module_is_safe(item)
    out = run_function_form(keras_dir, path)
    assert out.shape in ((8,), (1,), ()), (text, out.shape)  # (1,): a formula reduced over the batch


# ---------------------------------------------------------------- 2. mutated catalog specs

CATALOG = {path.name: path.read_text(encoding="utf-8") for path in sorted(SPECS.glob("*.yaml"))}
KEY_LINE = re.compile(r"^(?P<indent>\s*)(?P<dash>- )?(?P<key>[^\s:#][^:#]*):(?P<rest>.*)$")

# Values a mutation writes after a key: YAML oddities, wrong types, injections.
ODD_VALUES = (
    ".inf",
    "-.inf",
    ".nan",
    "~",
    "null",
    "true",
    "no",
    "[]",
    "{}",
    "[1, 2, 3]",
    "[[1, 2], [3]]",
    "{a: 1}",
    "''",
    '""',
    '\'""" + str(__import__("os").system("touch PWNED")) + """\'',
    "'ends with a backslash \\'",
    '"bad \\\\x escape"',
    "'bad \\N{escape'",
    '"nul \\0 byte"',
    '"line\\nbreak"',
    '"\\ud800"',
    "2020-02-30",
    "2001-12-14t21:59:43.10-05:00",
    "12:30:45",
    "!!int abc",
    "!!float ''",
    "!!bool maybe",
    "!!timestamp 2001-99-01",
    "!!binary aGk=",
    "!!set {a, b}",
    "!!omap [a]",
    "!!python/object/apply:os.system ['touch PWNED']",
    "!!python/name:os.system ''",
    "!custom x",
    "&anchor x",
    "*anchor",
    "*missing",
    "<<: {x: 1}",
    "|",
    ">-",
    "- a",
    "? a",
    "%YAML 1.1",
    "@x",
    "`x`",
    "0x1F",
    "0o17",
    "1_000",
    "1e400",
    "-0",
    "9" * 400,
    "y_pred.__class__",
    "__import__('os').system('touch PWNED')",
    "y_pred[0]",
    "lambda: 1",
    "sum(y_pred, axis=0)",
    "x if flag else y",
    "fuzz_loss\n",
)
values = st.one_of(
    st.sampled_from(ODD_VALUES),
    st.integers().map(str),
    st.floats().map(repr),
    st.lists(st.integers(-3, 3), max_size=4).map(str),
    st.text(st.characters(codec="utf-8"), max_size=20),
)
YAML_CHARACTERS = st.one_of(
    st.sampled_from(list(":-#{}[],&*!|>'\"%@`?\t\n \\\r\x00\x01\x85\ufeff\u2028") + ["  ", '"""']),
    st.characters(codec="utf-8"),  # a spec file is UTF-8 text; invalid bytes are a case of their own below
)


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True) or [""]


def delete_line(draw, text: str) -> str:
    lines = _lines(text)
    del lines[draw(st.integers(0, len(lines) - 1))]
    return "".join(lines)


def duplicate_line(draw, text: str) -> str:
    lines = _lines(text)
    line = lines[draw(st.integers(0, len(lines) - 1))]
    lines.insert(draw(st.integers(0, len(lines))), line if line.endswith("\n") else line + "\n")
    return "".join(lines)


def _key_lines(lines: list[str]) -> list[int]:
    return [i for i, line in enumerate(lines) if KEY_LINE.match(line.rstrip("\n"))] or [0]


def duplicate_key(draw, text: str) -> str:
    lines = _lines(text)
    i = draw(st.sampled_from(_key_lines(lines)))
    match = KEY_LINE.match(lines[i].rstrip("\n"))
    if match is None:
        return text
    indent = match["indent"] + ("  " if match["dash"] else "")
    lines.insert(i + 1, f"{indent}{match['key']}: {draw(values)}\n")
    return "".join(lines)


def replace_value(draw, text: str) -> str:
    lines = _lines(text)
    i = draw(st.sampled_from(_key_lines(lines)))
    match = KEY_LINE.match(lines[i].rstrip("\n"))
    if match is None:
        return text
    lines[i] = f"{match['indent']}{match['dash'] or ''}{match['key']}: {draw(values)}\n"
    return "".join(lines)


def insert_characters(draw, text: str) -> str:
    at = draw(st.integers(0, len(text)))
    return text[:at] + "".join(draw(st.lists(YAML_CHARACTERS, min_size=1, max_size=6))) + text[at:]


def truncate(draw, text: str) -> str:
    return text[: draw(st.integers(0, len(text)))]


def reindent(draw, text: str) -> str:
    lines = _lines(text)
    i = draw(st.integers(0, len(lines) - 1))
    shift = draw(st.integers(-4, 4))
    stripped = lines[i].lstrip(" ")
    lines[i] = " " * max(0, len(lines[i]) - len(stripped) + shift) + stripped
    return "".join(lines)


def swap_lines(draw, text: str) -> str:
    lines = _lines(text)
    i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
    lines[i], lines[j] = lines[j], lines[i]
    return "".join(lines)


MUTATIONS = (
    delete_line,
    duplicate_line,
    duplicate_key,
    replace_value,
    insert_characters,
    truncate,
    reindent,
    swap_lines,
)


@st.composite
def mutated_specs(draw) -> tuple[str, str]:
    name = draw(st.sampled_from(sorted(CATALOG)))
    text = CATALOG[name]
    for _ in range(draw(st.integers(1, 3))):
        mutation = draw(st.sampled_from(MUTATIONS))
        event(mutation.__name__)
        text = mutation(draw, text)
    return name, text


def _with_line(name: str, old: str, new: str) -> tuple[str, str]:
    text = CATALOG[name]
    assert old in text, (name, old)
    return name, text.replace(old, new, 1)


@_settings(MUTATION_EXAMPLES)
@given(case=mutated_specs())
# Bugs the fuzzing found, kept as regressions: each once escaped the loader or broke the module.
@example(case=_with_line("mse.yaml", "title: Mean squared error", "title: 2020-02-30"))  # ValueError
@example(case=_with_line("mse.yaml", "title: Mean squared error", "title: !!int abc"))  # ValueError
@example(case=_with_line("mse.yaml", "title: Mean squared error", "title: !!bool ''"))  # KeyError
@example(case=_with_line("mse.yaml", "title: Mean squared error", "title: !!float ''"))  # IndexError
@example(case=_with_line("mse.yaml", "task: regression", "task: regression\n<<: {x: 1}"))  # KeyError
@example(case=_with_line("mse.yaml", "name: mse", 'name: "mse\\n"'))  # ruff FormatError on generation
@example(case=_with_line("huber.yaml", "default: 1.0", "default: .inf"))  # `inf` in the signature
@example(case=_with_line("mse.yaml", "title: Mean squared error", "title: 'bad \\x escape'"))  # SyntaxError
@example(case=_with_line("mse.yaml", "title: Mean squared error", 'title: \'x """ + str(1) + """ y\''))
@example(case=_with_line("mse.yaml", "title: Mean squared error", "title: Mean\x01squared"))  # no line number
def test_mutated_catalog_spec_loads_or_is_rejected_cleanly(case, workdir, known_names):
    """A catalog spec after random edits either loads (and generates a safe module) or is
    rejected with messages that name the file and a line."""
    name, text = case
    path = workdir / name
    path.write_text(text, encoding="utf-8", newline="")
    with time_limit(TIME_LIMIT):
        item = load_or_reject(path)
        if item is not None:
            assert_generated_module_is_safe(item)


# ---------------------------------------------------------------- 3. the CLI in a fresh process

CLI_CASES = {
    "formula_injection": spec_text("__import__('os').system('touch PWNED')"),
    "formula_garbage": spec_text("y_pred +* ]"),
    "formula_syntax_warning": spec_text("1if y_pred else 2"),  # once printed Python's SyntaxWarning too
    "name_newline": spec_text("y_pred").replace("name: fuzz_loss", 'name: "fuzz_loss\\n"'),  # once a 2-line error
    "docstring_breakout": CATALOG["mse.yaml"]
    .replace(
        "title: Mean squared error",
        'title: Mean\nsummary: \'x """ + str(__import__("os").system("touch PWNED")) + """ y\'',
        1,
    )
    .replace("summary: >", "notes: >", 1),
    "truncated": CATALOG["huber.yaml"][: CATALOG["huber.yaml"].index("formula:") + 20],
    "bad_timestamp": CATALOG["mse.yaml"].replace("title: Mean squared error", "title: 2020-02-30", 1),
    "merge_key": CATALOG["mse.yaml"].replace("task: regression", "task: regression\n<<: {x: 1}", 1),
    "python_tag": CATALOG["mse.yaml"].replace("name: mse", "name: !!python/object/apply:os.system ['touch PWNED']"),
}


@pytest.mark.parametrize("case", sorted(CLI_CASES))
def test_cli_rejects_with_status_2_and_no_traceback(case, tmp_path):
    specs = tmp_path / "specs"
    specs.mkdir()
    bad = specs / f"{case}.yaml"
    bad.write_text(CLI_CASES[case], encoding="utf-8")
    out = tmp_path / "out"
    result = run_cli("build", "--specs", str(specs), "--out", str(out), cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    errors = [line for line in result.stderr.splitlines() if not line.endswith("nothing was written.")]
    assert errors
    for line in errors:
        assert re.match(rf"^error: {re.escape(str(bad))}:\d+(:\d+)?: \S", line), line
    assert not out.exists()
    assert not (tmp_path / "PWNED").exists()


# ---------------------------------------------------------------- 4. injection, one by one

REJECT, EITHER = "reject", "either"  # EITHER: rejected cleanly, or accepted and runnable
INJECTIONS = [
    ("import_system", "__import__('os').system('touch PWNED')", REJECT),
    ("builtins_import", "__builtins__.__import__('os').system('touch PWNED')", REJECT),
    ("subclasses_walk", "().__class__.__bases__[0].__subclasses__()", REJECT),
    ("subclasses_walk_call", "exp(().__class__.__base__.__subclasses__()[0])", REJECT),
    ("input_attribute", "y_pred.__class__", REJECT),
    ("input_method", "y_pred.numpy()", REJECT),
    ("open", "open('/etc/passwd')", REJECT),
    ("open_read", "open('/etc/passwd').read()", REJECT),
    ("eval", "eval('1')", REJECT),
    ("exec", "exec('x=1')", REJECT),
    ("compile", "compile('1', 'f', 'eval')", REJECT),
    ("globals", "globals()", REJECT),
    ("locals_subscript", "locals()['y_pred']", REJECT),
    ("getattr", "getattr(y_pred, '__class__')", REJECT),
    ("dunder_name", "__name__", REJECT),
    ("format_string", "'{0.__class__}'.format(y_pred)", REJECT),
    ("percent_format", "'%s' % y_pred", REJECT),
    ("f_string", "f'{y_pred.__class__}'", REJECT),
    ("f_string_call", "f\"{__import__('os').system('touch PWNED')}\"", REJECT),
    ("f_string_nested", "exp(f'{y_pred!r:>{10}}')", REJECT),
    ("bytes", "b'\\x00'", REJECT),
    ("lambda", "(lambda: __import__('os').system('touch PWNED'))()", REJECT),
    ("lambda_argument", "where(lambda x: x, y_pred, y_true)", REJECT),
    ("walrus", "(x := 1)", REJECT),
    ("walrus_in_call", "exp(x := y_pred)", REJECT),
    ("list_comprehension", "[c for c in ().__class__.__base__.__subclasses__()]", REJECT),
    ("generator_expression", "sum(x for x in y_pred)", REJECT),
    ("dict_comprehension", "{k: v for k, v in globals().items()}", REJECT),
    ("subscript_slice", "y_pred[::-1]", REJECT),
    ("subscript_index", "y_pred[0]", REJECT),
    ("subscript_ellipsis", "y_pred[..., 0]", REJECT),
    ("starred_arguments", "maximum(*[y_pred, y_true])", REJECT),
    ("keyword_splat", "sum(y_pred, **{'axis': 0})", REJECT),
    ("keyword_injection", "sum(y_pred, axis=__import__('os').system('touch PWNED'))", REJECT),
    ("keyword_expression", "mean(y_pred, keepdims=exp(1) > 0)", REJECT),
    ("unknown_keyword", "mean(y_pred, out=y_true)", REJECT),
    ("import_statement", "import os", REJECT),
    ("semicolon_statement", "y_pred; __import__('os').system('touch PWNED')", REJECT),
    ("newline_statement", "y_pred\n__import__('os').system('touch PWNED')", REJECT),
    ("assignment", "y_pred = 1", REJECT),
    ("yield", "(yield y_pred)", REJECT),
    ("await", "await y_pred", REJECT),
    ("set_literal", "{y_pred}", REJECT),
    ("tuple", "(y_pred, y_true)", REJECT),
    ("string_constant", "'touch PWNED'", REJECT),
    ("none_constant", "None", REJECT),
    ("complex_constant", "y_pred * 1j", REJECT),
    ("ellipsis", "...", REJECT),
    ("call_a_number", "(1)(2)", REJECT),
    ("call_a_call", "exp(y_pred)(y_true)", REJECT),
    ("internal_function", "head(y_pred, 2)", REJECT),
    ("fullwidth_eval", "\uff45\uff56\uff41\uff4c('1')", REJECT),  # NFKC-folds to eval
    ("fullwidth_dunder", "\uff3f\uff3fimport\uff3f\uff3f('os')", REJECT),  # NFKC-folds to __import__
    ("nul_byte", "y_pred\x00 + 1", REJECT),
    ("empty", "   ", REJECT),
    ("comment_only", "# y_pred", REJECT),
    ("comment_after", "y_pred # __import__('os').system('touch PWNED')", EITHER),
    ("fullwidth_exp", "\uff45\uff58\uff50(-y_pred)", EITHER),  # NFKC-folds to exp: harmless
    ("backslash_continuation", "y_pred \\\n + 1", EITHER),
    ("unary_plus", "+y_pred", EITHER),
    ("float_overflow", "y_pred * 1e400", EITHER),
    ("huge_integer", "y_pred * " + "9" * 1000, EITHER),
    ("division_by_zero", "y_pred + 1 / 0", EITHER),
    ("complex_power", "y_pred * (-8) ** 0.5", EITHER),
    ("power_tower", "y_pred * 9 ** 9 ** 9", EITHER),
    ("power_tower_2", "y_pred + 2 ** 2 ** 2 ** 2 ** 2 ** 2", EITHER),
    ("deep_parentheses", "(" * 500 + "y_pred" + ")" * 500, EITHER),
    ("deep_parentheses_under_parser_limit", "(" * 150 + "y_pred" + ")" * 150, EITHER),
    ("deep_abs", "abs(" * 300 + "y_pred" + ")" * 300, EITHER),
    ("deep_abs_at_limit", "abs(" * 39 + "y_pred" + ")" * 39, EITHER),
    ("deep_unary_minus", "-" * 1000 + "y_pred", EITHER),
    ("deep_not", "indicator(" + "not " * 400 + "y_pred)", EITHER),
    ("deep_lists", "[" * 500 + "]" * 500, REJECT),
    ("deep_power", "y_pred" + " ** y_pred" * 150, EITHER),
    ("long_sum", " + ".join(["y_pred"] * 20000), EITHER),
    ("long_sum_under_length_limit", " + ".join(["y_pred"] * 200), EITHER),
    ("long_flat_call", "maximum(" + ", ".join(["y_pred"] * 5000) + ")", REJECT),
    ("long_name", "y" * 100000, REJECT),
]


@pytest.mark.parametrize(("text", "expected"), [pytest.param(t, e, id=i) for i, t, e in INJECTIONS])
def test_injection_is_rejected_or_harmless(text, expected, tmp_path, monkeypatch, known_names):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "injection.yaml"
    path.write_text(spec_text(text), encoding="utf-8")
    with time_limit(TIME_LIMIT):
        try:
            item = load_spec(path)
        except SpecErrors as exc:
            for match in assert_clean_rejection(exc, path):
                assert match["field"] in ("formula.loss", "parameters.alpha"), str(exc)
            item = None
        assert not (tmp_path / "PWNED").exists()
        if item is not None:
            assert expected == EITHER, f"accepted: {text[:200]!r}"
            assert_generated_module_is_safe(item)
    if item is not None:
        with time_limit(60.0):  # the first call imports Keras
            out = run_function_form(tmp_path, path)
        assert out.shape == (8,)
    assert not (tmp_path / "PWNED").exists()


def _spec(loss: str = "y_pred - y_true", extra: str = "", **replace: str) -> str:
    """The minimal spec around ``loss``, with some top-level lines replaced and ``extra`` appended."""
    text = spec_text(loss)
    for key, value in replace.items():
        line = f"{key}: {value}"
        text = re.sub(rf"(?m)^{key}: .*$", lambda _, line=line: line, text, count=1)
    return text + extra


def _alpha(entry: str) -> str:
    """A spec whose formula uses a parameter ``alpha`` declared by ``entry``."""
    return _spec(loss="y_pred - alpha * y_true").replace(f"  alpha: {PARAMETERS['alpha']}", f"  alpha: {entry}")


_PAYLOAD = 'str(__import__("os").system("touch PWNED"))'
_BREAKOUT = f"""'x \"\"\" + {_PAYLOAD} + \"\"\" y'"""
_DOCSTRING = "this text goes into docstrings of the generated Python code"
_ALIAS_BOMB = "".join(f"  - &a{i} [" + ", ".join([f"*a{i - 1}"] * 10 if i else ["x"] * 10) + "]\n" for i in range(9))
_STEP = "\"x = __import__('os').system('touch PWNED')#\": y_pred"
# (id, spec text, text the first error must contain)
SPEC_ATTACKS = [
    ("summary_docstring_breakout", _spec(summary=_BREAKOUT), f'summary: may not contain `"""`: {_DOCSTRING}'),
    ("title_docstring_breakout", _spec(title=_BREAKOUT), 'title: may not contain `"""`'),
    ("parameter_doc_breakout", _alpha(f"{{type: float, default: 1.0, doc: {_BREAKOUT}}}"), "alpha.doc: may not"),
    ("input_doc_breakout", _spec(inputs=f"{{y_true: {{doc: {_BREAKOUT}}}}}"), "y_true.doc: may not contain"),
    ("title_backslash_escape", _spec(title="'bad \\N escape'"), "title: may not contain a backslash"),
    ("summary_nul_byte", _spec(summary='"a \\0 b"'), "summary: may not contain the control character '\\x00'"),
    ("name_trailing_newline", _spec(name='"fuzz_loss\\n"'), "is not a valid Python identifier"),
    ("name_code", _spec(name='"x(): pass\\nimport os\\ndef y"'), "is not a valid Python identifier"),
    ("class_name_trailing_newline", _spec(extra='class_name: "Fuzz\\n"\n'), "must be CamelCase"),
    (
        "parameter_name_newline",
        _alpha("{type: float, default: 1.0, doc: d}").replace("alpha:", '"alpha\\n":'),
        "is not a valid",
    ),
    ("step_name_code", _spec().replace("formula:\n", f"formula:\n  steps:\n    {_STEP}\n"), "is not a valid Python"),
    ("weight_formula", _spec(extra=f"weighting: {{rule: value, weight: '{_PAYLOAD}'}}\n"), "unknown function `str`"),
    ("float_default_inf", _alpha("{type: float, default: .inf, doc: d}"), "needs finite numbers, got inf"),
    ("float_default_nan", _alpha("{type: float, default: .nan, doc: d}"), "needs finite numbers, got nan"),
    ("float_default_huge", _alpha(f"{{type: float, default: {'9' * 400}, doc: d}}"), "needs finite numbers"),
    ("vector_default_inf", _alpha("{type: vector, default: [1.0, -.inf], doc: d}"), "needs finite numbers"),
    ("matrix_default_nan", _alpha("{type: matrix, default: [[1.0], [.nan]], doc: d}"), "needs finite numbers"),
    ("python_object_tag", _spec(name="!!python/object/apply:os.system ['touch PWNED']"), "name: must be text"),
    ("python_name_tag", _spec(title="!!python/name:os.system ''"), "title: must be text"),
    ("invalid_date", _spec(title="2020-02-30"), "cannot read '2020-02-30' as !!timestamp"),
    ("invalid_time", _spec(summary="2020-01-01 25:61:61"), "as !!timestamp"),
    ("explicit_int_tag", _spec(title="!!int abc"), "cannot read 'abc' as !!int"),
    ("explicit_bool_tag", _spec(title="!!bool ''"), "cannot read '' as !!bool"),
    ("explicit_float_tag", _spec(title="!!float ''"), "cannot read '' as !!float"),
    ("merge_key", _spec(extra="<<: {x: 1}\n"), "unknown key `x`"),
    ("merge_key_in_formula", _spec().replace("  reduce: mean\n", "  reduce: mean\n  <<: {y: 2}\n"), "unknown key `y`"),
    ("control_character", _spec(title="Fuzz\x01"), "2:12: YAML error: unacceptable character #x0001"),
    ("deep_block_nesting", _spec(extra="notes:\n" + "".join(" " * i + "- \n" for i in range(1, 3000))), "nested"),
    ("deep_flow_nesting", _spec(extra="notes: " + "[" * 300 + "]" * 300 + "\n"), "nested too deeply"),
    ("moderate_nesting", _spec(extra="notes: " + "[" * 60 + "]" * 60 + "\n"), "nested more than 50 levels"),
    ("alias_bomb", _spec(extra="notes:\n" + _ALIAS_BOMB), "notes: the spec holds more than 100000 values"),
    ("recursive_alias", _spec(extra="notes: &r [*r]\n"), "notes: must be text"),
    ("invalid_utf8", _spec().encode().replace(b"Fuzz", b"Fu\xffzz"), "2:10: not UTF-8 text: byte 0xff"),
    ("utf16_file", _spec().encode("utf-16"), "1:1: not UTF-8 text: byte 0xff"),
]


@pytest.mark.parametrize(("text", "expected"), [pytest.param(t, e, id=i) for i, t, e in SPEC_ATTACKS])
def test_spec_level_attack_is_rejected(text, expected, tmp_path, monkeypatch, known_names):
    """Injections through other fields (docstrings, names, defaults, YAML tags, aliases,
    nesting) are rejected for the right reason, with clean messages, quickly, and run nothing."""
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "attack.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8", newline="")
    with time_limit(TIME_LIMIT):
        with pytest.raises(SpecErrors) as info:
            item = load_spec(path)
            assert_generated_module_is_safe(item)  # not rejected: at least the module must be safe
    assert_clean_rejection(info.value, path)
    assert any(expected in str(error) for error in info.value.errors), str(info.value)
    assert not (tmp_path / "PWNED").exists()
