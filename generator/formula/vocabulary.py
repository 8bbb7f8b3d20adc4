"""The whitelist of the formula language: every function a spec may call.

Each entry says how a call is written three ways: as ``keras.ops`` source for the
generated modules, as LaTeX for the reference pages, and what it means in words (the
spec guide's vocabulary table is generated from this list, so the two cannot drift).

Templates are ``str.format`` strings over already-rendered arguments:

* ``{0}``, ``{1}``, ... the argument as a full expression;
* ``{a0}``, ``{a1}``, ... the argument wrapped in parentheses when it is not atomic;
* ``{kw}`` (code only) the keyword arguments that differ from their default, ``, axis=-1``;
* ``{ax}`` (LaTeX only) the index symbol of the reduced axis;
* ``{pair}`` (LaTeX only) the index a new axis stands for: ``i`` (axis -1), ``j`` (0 or -2), ``k``.

Each entry also names its float64 NumPy twin (for the checker's evaluator, the plots and
the hazard finder) and its hazard rule, if its domain is limited: a new function is one
entry here, plus a rule in ``check/hazards.py`` when it needs a new one.

Functions that ``keras.ops`` lacks on some backend (``lgamma``, ``digamma``) are written
as small helper functions of ``keras.ops`` calls into each module that uses them.

Entries with ``public=False`` are used by weighting rules while lowering and cannot be
written in a spec.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

# LaTeX precedence levels (higher binds tighter); see ``emit.py``.
LOW = 0
SUM = 10
MUL = 11
FRAC = 12
"""A fraction: needs no parentheses in a product, but does as a base or an argument:
(a / b) squared is written with parentheses around the fraction, not as ``a/b`` with an
exponent on its denominator line."""
POW = 13
ATOM = 20


@dataclass(frozen=True)
class Function:
    """One whitelisted function of the formula language."""

    name: str
    params: tuple[str, ...]
    code: str
    latex: str
    doc: str
    keywords: dict[str, object] = field(default_factory=dict)
    always: tuple[str, ...] = ()
    latex_prec: int = ATOM
    public: bool = True
    constants: tuple[int, ...] = ()
    """Positions of arguments that must be written as whole numbers (an index, not a tensor)."""
    names: tuple[int, ...] = ()
    """Positions of arguments that must be a plain name (an input or a step): the code
    reads them more than once."""
    helper: str = ""
    """The module-level function the code calls, written by ``templates/<helper>.py.jinja``
    into every module whose loss uses it."""
    twin: str | Callable[..., object] = ""
    """The float64 NumPy twin of the checker's evaluator: the name of a NumPy function, the
    name of a SciPy special function (``special.erf``), a function of
    ``(np, *args, **keywords)``, or ``READS_INPUTS``."""
    hazard: str = ""
    """The rule of ``check/hazards.py`` (a key of its ``RULES``) that says where a call is
    undefined, infinite or overflows float32; "" when it has none."""
    imports: tuple[str, ...] = ()
    """Standard-library modules the code needs (``math`` for ``math.pi``)."""
    constant: bool = False
    """Written as a bare name in a formula (``pi``), not called: a constant with no arguments."""
    value: float | None = None
    """The number a constant stands for: the parser checks arithmetic on it, and lowering
    writes calls of numbers alone (``log(2 * pi)``) as their value."""
    images: bool = False
    """Slides a window over the height and width of images: a spec that calls it must
    declare ``inputs.image: true`` (the semantic checks say so)."""
    sizes: tuple[int, ...] = ()
    """Positions of arguments that must be a whole number or an int parameter: a size the
    code needs before it sees the data (the width of a window)."""

    @property
    def signature(self) -> str:
        if self.constant:
            return self.name
        args = list(self.params)
        args += [f"{k}={v!r}" for k, v in self.keywords.items()]
        return f"{self.name}({', '.join(args)})"


# ---------------------------------------------------------------- float64 NumPy twins
# What the checker's float64 evaluator (check/numeric.py) computes for a call. NumPy is
# passed in as ``np``: the formula language imports no NumPy.

READS_INPUTS = "reads the inputs"
"""The twin of a function whose value depends on the shapes of the inputs (the class count,
the batch size, labels lined up with ``y_pred``): check/numeric.py computes it."""

EPSILON = 1e-7
"""``keras.config.epsilon()``'s default, which the twins use."""


def _twin_exp_diff(np, x, y):
    return np.exp(np.subtract(x, y))


def _twin_sigmoid(np, x):
    return 1.0 / (1.0 + np.exp(-x))


def _twin_softplus(np, x):
    return np.logaddexp(0.0, x)


def _twin_log_sigmoid(np, x):
    return -np.logaddexp(0.0, -x)


def _twin_relu(np, x):
    return np.maximum(x, 0.0)


def _twin_stop_gradient(np, x):
    return x


def _twin_compute_dtype(np, x):
    return x


def _twin_indicator(np, x):
    return np.asarray(x, dtype="float64")


def _twin_argsort(np, x, axis=-1):
    return np.argsort(x, axis=axis, kind="stable")


def _twin_at(np, x, i):
    return np.asarray(x)[..., int(i)]


def _twin_eye(np, n):
    return np.eye(int(n))


def _twin_arange(np, n):
    return np.arange(int(n), dtype="float64")


def _twin_softmax(np, x, axis=-1):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def _twin_log_softmax(np, x, axis=-1):
    shifted = x - np.max(x, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def _twin_logsumexp(np, x, axis=-1, keepdims=False):
    peak = np.max(x, axis=axis, keepdims=True)
    out = peak + np.log(np.sum(np.exp(x - peak), axis=axis, keepdims=True))
    return out if keepdims else np.squeeze(out, axis=axis)


def _twin_normalize(np, x, axis=-1):
    return x / np.sqrt(np.maximum(np.sum(x * x, axis=axis, keepdims=True), EPSILON))


def _twin_first_half(np, x):
    return x[..., : x.shape[-1] // 2]


def _twin_second_half(np, x):
    return x[..., x.shape[-1] // 2 :]


def _twin_one_hot(np, x, n):
    return np.eye(int(n))[np.asarray(x, dtype=int)]


def _twin_head(np, x, n):
    return x[..., : int(n)]


def _twin_tail(np, x, n):
    return x[..., int(n) :]


def _twin_all_but_last(np, x):
    return x[..., :-1]


def _twin_part(np, x, index, count):
    return np.split(x, int(count), axis=-1)[int(index)]


def _twin_columns(np, x, n):
    x = np.asarray(x)
    if x.shape[-1] != int(n):
        raise ValueError(f"columns(): a last axis of {int(n)} expected, not {x.shape[-1]}")
    return list(np.moveaxis(x, -1, 0))


def _twin_column(np, columns, i):
    return columns[int(i)]


def _twin_sort_descending(np, x, axis=-1):
    order = np.argsort(np.negative(x), axis=axis, kind="stable")
    return [np.take_along_axis(x, order, axis=axis), order]


def _twin_square_table(np, x, n):
    return np.reshape(x, (-1, int(n), int(n)))


def _twin_epsilon(np):
    return EPSILON


def _twin_log_i0(np, x):
    # NumPy's i0 overflows past about 713; there exp(x) / sqrt(2 pi x) times the first
    # terms of the asymptotic series is exact to float64 rounding.
    x = np.asarray(x, dtype="float64")
    big = np.maximum(x, 700.0)
    asymptotic = big - 0.5 * np.log(2 * np.pi * big) + np.log1p(1 / (8 * big) + 9 / (128 * big**2))
    return np.where(x < 700.0, np.log(np.i0(np.minimum(x, 700.0))), asymptotic)


def _twin_pi(np):
    return np.pi


def _twin_local_mean(np, x, size, sigma):
    # The weights of a size-by-size window: a Gaussian of the distance from its centre,
    # scaled to sum to one. Each output pixel is the weighted sum of the window whose
    # top-left corner it is, wherever the window lies inside the image.
    size = int(size)
    centre = (size - 1) / 2.0
    weights = np.array(
        [
            [math.exp(-((u - centre) ** 2 + (v - centre) ** 2) / (2.0 * sigma**2)) for v in range(size)]
            for u in range(size)
        ]
    )
    weights = weights / weights.sum()
    x = np.asarray(x, dtype="float64")
    rows, columns = x.shape[1] - size + 1, x.shape[2] - size + 1
    out = np.zeros((x.shape[0], rows, columns, x.shape[3]))
    for u in range(size):
        for v in range(size):
            out += weights[u, v] * x[:, u : u + rows, v : v + columns, :]
    return out


_REDUCE_KW = {"axis": -1, "keepdims": False}
_AXIS_KW = {"axis": -1}


def _f(name, params, code, latex, doc, **kwargs) -> Function:
    return Function(name, tuple(params), code, latex, doc, **kwargs)


_FUNCTIONS = [
    # element-wise maths
    _f("exp", "x", "ops.exp({0})", r"e^{{{0}}}", "e to the power x.", latex_prec=POW, twin="exp", hazard="exp"),
    _f(
        "exp_diff",
        "xy",
        "_exp_diff({0}, {1})",
        r"e^{{{0} - {1}}}",
        "exp(x - y), accurate to float precision even when x - y has lost digits to rounding"
        " (x and y large and of opposite signs): the rounding error of the difference is"
        " restored. exp_diff(y_pred, peak), with peak = max(y_pred, keepdims=True), gives"
        " softmax numerators accurate to float precision. The generated module defines it"
        " as a small helper function, `_exp_diff`.",
        latex_prec=POW,
        helper="_exp_diff",
        twin=_twin_exp_diff,
        hazard="exp_diff",
    ),
    _f("log", "x", "ops.log({0})", r"\log {a0}", "Natural logarithm.", twin="log", hazard="log"),
    _f(
        "log1p",
        "x",
        "ops.log1p({0})",
        r"\log\left(1 + {0}\right)",
        "log(1 + x), accurate near 0.",
        twin="log1p",
        hazard="log1p",
    ),
    _f("expm1", "x", "ops.expm1({0})", r"\left(e^{{{0}}} - 1\right)", "exp(x) - 1, accurate near 0.", twin="expm1"),
    _f("sqrt", "x", "ops.sqrt({0})", r"\sqrt{{{0}}}", "Square root.", twin="sqrt", hazard="sqrt"),
    _f("square", "x", "ops.square({0})", r"{a0}^{{2}}", "x * x.", latex_prec=POW, twin="square"),
    _f("abs", "x", "ops.abs({0})", r"\left|{0}\right|", "Absolute value.", twin="abs"),
    _f("sign", "x", "ops.sign({0})", r"\operatorname{{sign}}\left({0}\right)", "-1, 0 or 1.", twin="sign"),
    _f("tanh", "x", "ops.tanh({0})", r"\tanh\left({0}\right)", "Hyperbolic tangent.", twin="tanh"),
    _f(
        "sigmoid",
        "x",
        "ops.sigmoid({0})",
        r"\sigma\left({0}\right)",
        "Logistic function 1 / (1 + exp(-x)).",
        twin=_twin_sigmoid,
    ),
    _f(
        "softplus",
        "x",
        "ops.softplus({0})",
        r"\operatorname{{softplus}}\left({0}\right)",
        "log(1 + exp(x)), stable.",
        twin=_twin_softplus,
    ),
    _f(
        "log_sigmoid",
        "x",
        "ops.log_sigmoid({0})",
        r"\log\sigma\left({0}\right)",
        "log(sigmoid(x)), stable for large |x|.",
        twin=_twin_log_sigmoid,
    ),
    _f("relu", "x", "ops.relu({0})", r"\left[{0}\right]_{{+}}", "max(x, 0).", twin=_twin_relu),
    _f(
        "power",
        "xy",
        "ops.power({0}, {1})",
        r"{a0}^{{{1}}}",
        "x to the power y. A tensor raised to a Python number is written `x**y` in the generated"
        " code: the same `pow`, with the exponent passed to the backend as a number.",
        latex_prec=POW,
        twin="power",
        hazard="power",
    ),
    _f("maximum", "xy", "ops.maximum({0}, {1})", r"\max\left({0}, {1}\right)", "Element-wise maximum.", twin="maximum"),
    _f("minimum", "xy", "ops.minimum({0}, {1})", r"\min\left({0}, {1}\right)", "Element-wise minimum.", twin="minimum"),
    _f(
        "clip",
        ("x", "low", "high"),
        "ops.clip({0}, {1}, {2})",
        r"\operatorname{{clip}}\left({0}, {1}, {2}\right)",
        "x limited to [low, high].",
        twin="clip",
    ),
    _f(
        "where",
        ("condition", "x", "y"),
        "ops.where({0}, {1}, {2})",
        r"\begin{{cases}} {1} & \text{{if }} {0} \\ {2} & \text{{otherwise}} \end{{cases}}",
        "x where condition holds, else y.",
        latex_prec=LOW,
        twin="where",
        hazard="where",
    ),
    _f(
        "stop_gradient",
        "x",
        "ops.stop_gradient({0})",
        r"\operatorname{{sg}}\left[{0}\right]",
        "x, with no gradient flowing through it.",
        twin=_twin_stop_gradient,
    ),
    # trigonometric, hyperbolic and special functions
    _f("sin", "x", "ops.sin({0})", r"\sin\left({0}\right)", "Sine (x in radians).", twin="sin"),
    _f("cos", "x", "ops.cos({0})", r"\cos\left({0}\right)", "Cosine (x in radians).", twin="cos"),
    _f(
        "tan",
        "x",
        "ops.tan({0})",
        r"\tan\left({0}\right)",
        "Tangent (x in radians); infinite at pi / 2 + k pi.",
        twin="tan",
        hazard="tan",
    ),
    _f(
        "arcsin",
        "x",
        "ops.arcsin({0})",
        r"\arcsin\left({0}\right)",
        "Inverse sine, for x in [-1, 1]; its slope is infinite at -1 and 1.",
        twin="arcsin",
        hazard="unit_interval",
    ),
    _f(
        "arccos",
        "x",
        "ops.arccos({0})",
        r"\arccos\left({0}\right)",
        "Inverse cosine (the angle of a cosine), for x in [-1, 1]; its slope is infinite at -1"
        " and 1, so clip a cosine to [-1 + epsilon(), 1 - epsilon()] first.",
        twin="arccos",
        hazard="unit_interval",
    ),
    _f("arctan", "x", "ops.arctan({0})", r"\arctan\left({0}\right)", "Inverse tangent.", twin="arctan"),
    _f(
        "arctan2",
        "yx",
        "ops.arctan2({0}, {1})",
        r"\operatorname{{atan2}}\left({0}, {1}\right)",
        "The angle of the point (x, y) in (-pi, pi]; it has no slope at (0, 0).",
        twin="arctan2",
        hazard="arctan2",
    ),
    _f(
        "sinh",
        "x",
        "ops.sinh({0})",
        r"\sinh\left({0}\right)",
        "Hyperbolic sine.",
        twin="sinh",
        hazard="hyperbolic",
    ),
    _f(
        "cosh",
        "x",
        "ops.cosh({0})",
        r"\cosh\left({0}\right)",
        "Hyperbolic cosine.",
        twin="cosh",
        hazard="hyperbolic",
    ),
    _f(
        "erf",
        "x",
        "ops.erf({0})",
        r"\operatorname{{erf}}\left({0}\right)",
        "The error function; the standard normal CDF is 0.5 * (1 + erf(x / sqrt(2))).",
        twin="special.erf",
    ),
    _f(
        "erfinv",
        "x",
        "ops.erfinv({0})",
        r"\operatorname{{erf}}^{{-1}}\left({0}\right)",
        "The inverse error function, for x in (-1, 1); infinite at -1 and 1.",
        twin="special.erfinv",
        hazard="open_unit_interval",
    ),
    _f(
        "lgamma",
        "x",
        "_lgamma({0})",
        r"\log\Gamma\left({0}\right)",
        "log(Gamma(x)) for x > 0; log(Gamma(n + 1)) is log(n!). keras.ops has no lgamma: the"
        " generated module defines it as a small helper function, `_lgamma` (Stirling's series"
        " after shifting x by 8: within 1e-6 relative, and 1e-5 absolute near its zeros at 1 and"
        " 2, in float32; within 1e-12 in float64).",
        helper="_lgamma",
        imports=("math",),
        twin="special.gammaln",
        hazard="positive_argument",
    ),
    _f(
        "digamma",
        "x",
        "_digamma({0})",
        r"\psi\left({0}\right)",
        "The digamma function, the slope of lgamma, for x > 0. keras.ops has no digamma: the"
        " generated module defines it as a small helper function, `_digamma`.",
        helper="_digamma",
        twin="special.digamma",
        hazard="positive_argument",
    ),
    _f(
        "log_i0",
        "x",
        "_log_i0({0})",
        r"\log I_0\left({0}\right)",
        "log(I0(x)) for x >= 0, the log of the modified Bessel function of the first kind of order 0:"
        " log(2 pi I0(kappa)) normalises the von Mises distribution. keras.ops has no Bessel functions:"
        " the generated module defines it as a small helper function, `_log_i0` (a power series below"
        " 15, an asymptotic expansion above; within 1e-6 in float32, 2e-12 in float64).",
        helper="_log_i0",
        imports=("math",),
        twin=_twin_log_i0,
        hazard="nonnegative_argument",
    ),
    _f(
        "local_mean",
        ("x", "size", "sigma"),
        "_local_mean({0}, {1}, {2})",
        r"\left(G_{{{1}, {2}}} \ast {a0}\right)",
        "The mean of each channel of images x, shape (batch, height, width, channels), under a"
        " size-by-size window whose weights are a Gaussian of standard deviation sigma around its"
        " centre (summing to one), at every position where the window lies inside the image: the"
        " result is (batch, height - size + 1, width - size + 1, channels). local_mean(x * y, ...)"
        " minus the product of the local means gives a local covariance, as SSIM uses. Needs"
        " `inputs.image: true`, images at least size by size, and size a whole number or an int"
        " parameter. The generated module defines it as a small helper function, `_local_mean`"
        " (two one-dimensional passes of `keras.ops.depthwise_conv`).",
        helper="_local_mean",
        twin=_twin_local_mean,
        hazard="window",
        images=True,
        sizes=(1,),
    ),
    _f(
        "pi",
        (),
        "math.pi",
        r"\pi",
        "The number pi, written `pi` (no parentheses).",
        twin=_twin_pi,
        imports=("math",),
        constant=True,
        value=math.pi,
    ),
    # logical
    _f(
        "logical_and",
        "xy",
        "ops.logical_and({0}, {1})",
        r"{a0} \land {a1}",
        "Both conditions hold.",
        latex_prec=LOW,
        twin="logical_and",
    ),
    _f(
        "logical_or",
        "xy",
        "ops.logical_or({0}, {1})",
        r"{a0} \lor {a1}",
        "Either condition holds.",
        latex_prec=LOW,
        twin="logical_or",
    ),
    _f("logical_not", "x", "ops.logical_not({0})", r"\lnot {a0}", "The condition does not hold.", twin="logical_not"),
    _f(
        "indicator",
        ("condition",),
        "ops.cast({0}, y_pred.dtype)",
        r"\mathbb{{1}}\left[{0}\right]",
        "1 where the condition holds, 0 elsewhere (a mask to multiply with).",
        twin=_twin_indicator,
    ),
    _f(
        "all",
        "x",
        "ops.all({0})",
        r"\forall\, {a0}",
        "True when x holds everywhere in the batch (one boolean).",
        twin="all",
    ),
    # along an axis
    _f(
        "softmax",
        "x",
        "ops.softmax({0}{kw})",
        r"\operatorname{{softmax}}\left({0}\right)",
        "Softmax along an axis.",
        keywords=_AXIS_KW,
        always=("axis",),
        twin=_twin_softmax,
    ),
    _f(
        "log_softmax",
        "x",
        "ops.log_softmax({0}{kw})",
        r"\log\operatorname{{softmax}}\left({0}\right)",
        "log(softmax(x)), computed stably.",
        keywords=_AXIS_KW,
        always=("axis",),
        twin=_twin_log_softmax,
    ),
    _f(
        "sparse_crossentropy",
        ("labels", "logits"),
        "ops.sparse_categorical_crossentropy({0}, {1}, from_logits=True)",
        r"-\log\operatorname{{softmax}}\left({1}\right)_{{{0}}}",
        "-log(softmax(logits)) at each sample's integer label: the value of"
        " -sum(one_hot(labels, num_classes()) * log_softmax(logits)), by Keras's fused kernel,"
        " which is faster, above all for the gradient.",
        twin=READS_INPUTS,
    ),
    _f(
        "logsumexp",
        "x",
        "ops.logsumexp({0}{kw})",
        r"\log\sum_{{{ax}}} e^{{{0}}}",
        "log(sum(exp(x))) along an axis, computed stably.",
        keywords=_REDUCE_KW,
        always=("axis",),
        twin=_twin_logsumexp,
    ),
    _f(
        "normalize",
        "x",
        "ops.normalize({0}{kw})",
        r"\frac{{{0}}}{{\lVert {0} \rVert}}",
        "x divided by its L2 norm along an axis.",
        keywords=_AXIS_KW,
        always=("axis",),
        twin=_twin_normalize,
    ),
    _f(
        "sum",
        "x",
        "ops.sum({0}{kw})",
        r"\sum_{{{ax}}} {a0}",
        "Sum along an axis (default: the last).",
        keywords=_REDUCE_KW,
        always=("axis",),
        latex_prec=SUM,
        twin="sum",
    ),
    _f(
        "mean",
        "x",
        "ops.mean({0}{kw})",
        r"\operatorname{{mean}}_{{{ax}}} {a0}",
        "Mean along an axis (default: the last).",
        keywords=_REDUCE_KW,
        always=("axis",),
        latex_prec=SUM,
        twin="mean",
    ),
    _f(
        "max",
        "x",
        "ops.max({0}{kw})",
        r"\max_{{{ax}}} {a0}",
        "Maximum along an axis (default: the last).",
        keywords=_REDUCE_KW,
        always=("axis",),
        twin="max",
    ),
    _f(
        "min",
        "x",
        "ops.min({0}{kw})",
        r"\min_{{{ax}}} {a0}",
        "Minimum along an axis (default: the last).",
        keywords=_REDUCE_KW,
        always=("axis",),
        twin="min",
    ),
    _f(
        "argmax",
        "x",
        "ops.argmax({0}{kw})",
        r"\operatorname{{argmax}}_{{{ax}}} {a0}",
        "Index of the largest value along an axis (no gradient).",
        keywords=_AXIS_KW,
        always=("axis",),
        twin="argmax",
    ),
    _f(
        "expand_dims",
        "x",
        "ops.expand_dims({0}{kw})",
        r"{{{a0}}}_{{{pair}}}",
        "x with a new axis of size 1.",
        keywords=_AXIS_KW,
        always=("axis",),
        twin="expand_dims",
    ),
    _f(
        "sort",
        "x",
        "ops.sort({0}{kw})",
        r"\operatorname{{sort}}\left({0}\right)",
        "x sorted in ascending order along an axis; sort(-x) gives descending.",
        keywords=_AXIS_KW,
        always=("axis",),
        twin="sort",
    ),
    _f(
        "argsort",
        "x",
        "ops.argsort({0}{kw})",
        r"\operatorname{{argsort}}\left({0}\right)",
        "The indices that sort x in ascending order along an axis (no gradient).",
        keywords=_AXIS_KW,
        always=("axis",),
        twin=_twin_argsort,
    ),
    _f(
        "take_along_axis",
        ("x", "indices"),
        "ops.take_along_axis({0}, {1}{kw})",
        r"{a0}_{{\pi}}",
        "x reordered by indices along an axis, e.g. take_along_axis(x, argsort(-e)).",
        keywords=_AXIS_KW,
        always=("axis",),
        twin="take_along_axis",
    ),
    _f(
        "cumsum",
        "x",
        "ops.cumsum({0}{kw})",
        r"\operatorname{{cumsum}}\left({0}\right)",
        "Running sum along an axis.",
        keywords=_AXIS_KW,
        always=("axis",),
        twin="cumsum",
    ),
    _f(
        "at",
        ("x", "index"),
        "{a0}[..., {1}]",
        r"{a0}_{{[{1}]}}",
        "Entry `index` of the last axis (a whole number, counted from 0; -1 is the last).",
        constants=(1,),
        twin=_twin_at,
    ),
    _f(
        "first_half",
        "x",
        "{a0}[..., : ops.shape({0})[-1] // 2]",
        r"{a0}_{{\mathrm{{first}}}}",
        "The first half of the last axis, e.g. the means of a [means, log-variances] output.",
        twin=_twin_first_half,
    ),
    _f(
        "second_half",
        "x",
        "{a0}[..., ops.shape({0})[-1] // 2 :]",
        r"{a0}_{{\mathrm{{second}}}}",
        "The second half of the last axis.",
        twin=_twin_second_half,
    ),
    # the batch, classes and matrices
    _f("batch_size", (), "ops.shape(y_pred)[0]", "B", "The number of samples in the batch.", twin=READS_INPUTS),
    _f(
        "every_sample",
        "x",
        "ops.broadcast_to({0}, ops.shape(y_pred)[:1])",
        "{0}",
        "A batch-level value (one number) given to every sample, for losses defined on the whole batch.",
        latex_prec=LOW,
        twin=READS_INPUTS,
    ),
    _f(
        "eye",
        ("n",),
        "ops.eye({0}, dtype=y_pred.dtype)",
        r"I_{{{0}}}",
        "The n-by-n identity matrix, e.g. eye(batch_size()) to leave out pairs of a sample with itself.",
        twin=_twin_eye,
    ),
    _f(
        "arange",
        ("n",),
        "ops.arange({0}, dtype=y_pred.dtype)",
        r"\left(0, \dots, {0} - 1\right)",
        "The numbers 0, 1, ..., n - 1, e.g. arange(num_classes()) for the class indices.",
        twin=_twin_arange,
    ),
    _f(
        "one_hot",
        ("index", "n"),
        "ops.one_hot({0}, {1}, dtype=y_pred.dtype)",
        r"\operatorname{{onehot}}\left({0}\right)",
        "One-hot rows of length n for integer class indices.",
        twin=_twin_one_hot,
    ),
    _f(
        "labels",
        "x",
        'ops.cast({0}, "int32")',
        "{0}",
        "Integer class labels, shaped like y_pred without its last axis (y_true may be given as (batch,)"
        " or (batch, 1): the generated code lines it up before the formula).",
        latex_prec=LOW,
        names=(0,),
        twin=READS_INPUTS,
    ),
    _f(
        "num_classes",
        (),
        "num_classes",
        "C",
        "The number of classes: the size of y_pred's last axis.",
        twin=READS_INPUTS,
    ),
    _f(
        "matmul",
        "xy",
        "ops.matmul({0}, {1})",
        r"{a0}\,{a1}",
        "Matrix product (also written x @ y).",
        latex_prec=MUL,
        twin="matmul",
    ),
    _f("transpose", "x", "ops.transpose({0})", r"{a0}^{{\top}}", "Matrix transpose.", latex_prec=POW, twin="transpose"),
    _f(
        "epsilon",
        (),
        "keras.config.epsilon()",
        r"\epsilon",
        "Keras's fuzz factor, 1e-7 unless configured.",
        twin=_twin_epsilon,
    ),
    # internal: used by weighting rules and lowering only
    _f(
        "compute_dtype",
        "x",
        "ops.convert_to_tensor({0}, dtype=y_pred.dtype)",
        "{0}",
        "x (computed from parameters alone) in the dtype the loss computes in.",
        public=False,
        twin=_twin_compute_dtype,
    ),
    _f(
        "head",
        ("x", "n"),
        "{a0}[..., :{1}]",
        r"{a0}_{{1..{1}}}",
        "The first n entries of the last axis.",
        public=False,
        twin=_twin_head,
    ),
    _f(
        "tail",
        ("x", "n"),
        "{a0}[..., {1}:]",
        r"{a0}_{{{1}+1..}}",
        "The entries after the first n of the last axis.",
        public=False,
        twin=_twin_tail,
    ),
    _f(
        "all_but_last",
        "x",
        "{a0}[..., :-1]",
        r"{a0}_{{1..-1}}",
        "Every entry of the last axis but the last.",
        public=False,
        twin=_twin_all_but_last,
    ),
    _f(
        "part",
        ("x", "index", "count"),
        "ops.split({0}, {2}, axis=-1)[{1}]",
        "{0}",
        "Part `index` of `count` equal blocks of the last axis (a named part of a packed prediction).",
        public=False,
        constants=(1, 2),
        twin=_twin_part,
    ),
    _f(
        "columns",
        ("x", "n"),
        "ops.unstack({0}, num={1}, axis=-1)",
        "{0}",
        "The n entries of the last axis (a width the spec fixes) as a list, taken apart once.",
        public=False,
        constants=(1,),
        twin=_twin_columns,
    ),
    _f(
        "column",
        ("columns", "index"),
        "{a0}[{1}]",
        r"{a0}_{{[{1}]}}",
        "Entry `index` of a list made by `columns`.",
        public=False,
        constants=(1,),
        twin=_twin_column,
    ),
    _f(
        "sort_descending",
        "x",
        "_sort_descending({0}{kw})",
        "{0}",
        "x sorted in descending order along an axis and the indices that sort it, as a pair"
        " (one `ops.top_k` call): what argsort(-x) and take_along_axis(x, argsort(-x)) give,"
        " sorted once.",
        public=False,
        keywords=_AXIS_KW,
        always=("axis",),
        helper="_sort_descending",
        twin=_twin_sort_descending,
    ),
    _f(
        "square_table",
        ("x", "n"),
        "ops.reshape({0}, (-1, {1}, {1}))",
        "{0}",
        "Rows of n*n values as n-by-n tables.",
        public=False,
        twin=_twin_square_table,
    ),
]

FUNCTIONS: dict[str, Function] = {f.name: f for f in _FUNCTIONS}
PUBLIC_FUNCTIONS: dict[str, Function] = {n: f for n, f in sorted(FUNCTIONS.items()) if f.public}

INPUTS = ("y_true", "y_pred")
"""Names every formula may read."""

RESERVED = frozenset(
    {
        "ops",
        "keras",
        "self",
        "name",
        "reduction",
        "dtype",
        "config",
        "call",
        "get_config",
        "from_config",
        "loss",
        "registered_name",
        "weight",
        "per_sample",
        "example_table",
        "example_weight",
        "true_class",
        "predicted_class",
        "num_classes",
        "pixels_shape",
        "y_true_columns",
        "y_pred_columns",
        "y_pred_width",
        "classes",
        "math",
    }
)
"""Names a parameter or step may not take: they collide with the generated code."""
