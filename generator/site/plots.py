"""Draw each loss's curve and gradient as SVG, for the reference pages.

Values come from :mod:`generator.check.numeric` (NumPy; no TensorFlow). Each plot is drawn
twice, for the light and the dark palette. Output is deterministic: fixed hash salt, no
dates, text kept as text.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np

from generator.check import samples
from generator.check.numeric import evaluate
from generator.spec import shapes
from generator.spec.loader import LoadedSpec
from generator.spec.schema import LossSpec, Parameter

POINTS = 301
PALETTES = {
    "light": {"ink": "#1f2328", "grid": "#d0d7de", "lines": ["#3949ab", "#d81b60", "#00897b", "#f9a825"]},
    "dark": {"ink": "#e6edf3", "grid": "#3d444d", "lines": ["#8c9eff", "#ff80ab", "#64ffda", "#ffd54f"]},
}


@dataclass(frozen=True)
class Curve:
    label: str  # empty: no legend entry
    x: np.ndarray
    loss: np.ndarray
    color: int  # index into the palette: one colour per parameter value
    dashed: bool = False  # the other target of a binary loss


def plot_values(param: Parameter) -> list[float]:
    """Three values of a float parameter to draw: the default and two others in bounds."""
    d = float(param.default)
    low, high = param.min, param.max
    if low is not None and high is not None:
        far = high if high - d >= d - low else low
        values = [d, d + (far - d) * 0.5, d + (far - d) * 0.9]
    elif low is not None:
        values = [d / 2, d, d * 2] if d > 0 else [d, d + 0.5, d + 1.0]
    elif high is not None:
        values = [d - 1.0, d, d / 2 if d < 0 else d - 0.5]
    else:
        values = [d - 1.0, d, d + 1.0]
    return sorted({round(v, 6) for v in values})


def _varied(spec: LossSpec) -> tuple[str, list[float]] | None:
    for name, param in spec.parameters.items():
        if param.type == "float":
            return name, plot_values(param)
    return None


def _inputs(item: LoadedSpec, target: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, str, str]:
    """x values, y_true, y_pred along the scan, and the axis labels; targets packed with
    weights of 1 when the ``per_example`` rule packs weights behind them."""
    x, y_true, y_pred, label_x, note = _scan(item, target)
    packed = shapes.packed_weights(item.spec)
    if packed:
        classes = y_pred.shape[-1]
        columns = classes * classes if packed == "table" else 1
        y_true = samples.pack(y_true, np.ones((len(y_true), columns)))
    return x, y_true, y_pred, label_x, note


_HELD_PARTS = {"real": 0.0, "nonnegative": 1.0, "positive": 1.0, "probability": 0.5}
"""The values the plots hold a part of a packed prediction at, while another is scanned."""


def _parts_scan(item: LoadedSpec, target: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, str, str]:
    """Packed predictions: the first part scanned (the first real one, a prediction of the
    target), the others held at 1 (0.5 for probabilities, the bound plus 1 for bounded
    parts), named in the note."""
    parts = shapes.parts(item.spec)
    scanned = next((i for i, (_, part) in enumerate(parts) if part.kind == "real" and part.greater_than is None), 0)
    x = np.linspace(-2.0, 4.0, POINTS)
    columns, held = [], []
    for i, (name, part) in enumerate(parts):
        if i == scanned:
            columns.append(x)
            continue
        value = _HELD_PARTS[part.kind] if part.greater_than is None else part.greater_than + 1.0
        columns.append(np.full(POINTS, value))
        held.append(f"{name} = {value:g}")
    note = ", ".join([f"y_true = {target:g}", *held])
    return x, np.full((POINTS, 1), target), np.stack(columns, axis=-1), f"predicted {parts[scanned][0]}", note


def _scan(item: LoadedSpec, target: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, str, str]:
    spec = item.spec
    if spec.inputs.y_pred.parts:
        return _parts_scan(item, target)
    kind, pred = spec.inputs.y_true.kind, spec.inputs.y_pred.kind
    if pred == "box":
        shift = np.linspace(-1.5, 1.5, POINTS)
        y_true = np.tile([0.0, 0.0, 1.0, 1.0], (POINTS, 1))
        y_pred = np.stack([np.zeros(POINTS), shift, np.ones(POINTS), 1.0 + shift], axis=-1)
        return shift, y_true, y_pred, "horizontal shift of the predicted box (box width 1)", ""
    if spec.plot.along == "angle":
        theta = np.linspace(0.0, np.pi, POINTS)
        y_true = np.tile([1.0, 0.0], (POINTS, 1))
        y_pred = np.stack([np.cos(theta), np.sin(theta)], axis=-1)
        return theta, y_true, y_pred, "angle between y_true and y_pred (radians)", ""
    if pred in ("distribution",) or kind in ("one_hot", "labels", "distribution"):
        classes = shapes.width(spec, 3)
        p = np.linspace(0.001, 0.999, POINTS)
        rest = (1 - p) / (classes - 1)
        y_pred = np.concatenate([p[:, None], np.tile(rest[:, None], (1, classes - 1))], axis=-1)
        if kind == "labels":
            y_true = np.zeros(POINTS)
        else:
            y_true = np.tile(np.eye(classes)[0], (POINTS, 1))
        return p, y_true, y_pred, "predicted probability of the true class", "true class 0"
    if pred == "probability":
        p = np.linspace(0.001, 0.999, POINTS)
        return p, np.full((POINTS, 1), target), p[:, None], "y_pred (predicted probability)", f"y_true = {target:g}"
    if pred == "nonnegative":
        x = np.linspace(0.0, 3.0, POINTS)
        return x, np.full((POINTS, 1), target), x[:, None], "y_pred", f"y_true = {target:g}"
    if pred == "mean_and_log_variance":
        x = np.linspace(-2.0, 4.0, POINTS)
        y_pred = np.stack([x, np.zeros(POINTS)], axis=-1)
        return x, np.full((POINTS, 1), target), y_pred, "predicted mean (log-variance 0)", f"y_true = {target:g}"
    x = np.linspace(-2.0, 4.0, POINTS) if kind != "signed" else np.linspace(-3.0, 3.0, POINTS)
    return x, np.full((POINTS, 1), target), x[:, None], "y_pred", f"y_true = {target:g}"


def _pair_scan(item: LoadedSpec, params: dict) -> tuple[np.ndarray, np.ndarray]:
    """For batch-level losses over embeddings: a batch of four 2-d unit vectors, labels
    (0, 0, 1, 1); the anchor sits at angle 0, its positive at angle theta, the two
    negatives at +-3/4 pi. Returns theta and the anchor's loss."""
    theta = np.linspace(0.0, np.pi, POINTS)
    labels = np.array([0.0, 0.0, 1.0, 1.0])
    negatives = [[np.cos(a), np.sin(a)] for a in (0.75 * np.pi, -0.75 * np.pi)]
    loss = np.empty(POINTS)
    for i, t in enumerate(theta):
        batch = np.array([[1.0, 0.0], [np.cos(t), np.sin(t)], *negatives])
        loss[i] = evaluate(item, labels, batch, params)[0]
    return theta, loss


def curves(item: LoadedSpec) -> tuple[list[Curve], str, str]:
    """The curves to draw, the x-axis label and a note on line styles."""
    spec = item.spec
    varied = _varied(spec)
    settings = [({}, "loss")] if varied is None else [({varied[0]: v}, f"{varied[0]} = {v:g}") for v in varied[1]]
    targets = [1.0, 0.0] if spec.inputs.y_true.kind == "binary" else [1.0]
    out: list[Curve] = []
    label_x = note = ""
    if spec.inputs.y_pred.kind == "embedding":
        for color, (params, label) in enumerate(settings):
            theta, loss = _pair_scan(item, params)
            out.append(Curve(label, theta, loss, color))
        return out, "angle between the anchor and its positive (radians)", "anchor of a batch of 4"
    for target in targets:
        for color, (params, label) in enumerate(settings):
            x, y_true, y_pred, label_x, note = _inputs(item, target)
            loss = evaluate(item, y_true, y_pred, params)
            out.append(Curve(label if target == 1.0 else "", x, loss, color, dashed=target == 0.0))
    if len(targets) > 1:
        note = "solid: y_true = 1, dashed: y_true = 0"
    return out, label_x, note


def style(palette: str) -> dict:
    """Set matplotlib up for one palette (deterministic SVG, text kept as text); return
    the palette's colours."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    colors = PALETTES[palette]
    plt.rcParams.update(
        {
            "svg.hashsalt": "lossgen",
            "svg.fonttype": "none",
            "font.size": 9,
            "text.color": colors["ink"],
            "axes.labelcolor": colors["ink"],
            "axes.edgecolor": colors["ink"],
            "xtick.color": colors["ink"],
            "ytick.color": colors["ink"],
            "axes.prop_cycle": matplotlib.cycler(color=colors["lines"]),
        }
    )
    return colors


def to_svg(fig) -> str:
    """A figure as SVG text, with no date or creator (so builds are reproducible); closes it."""
    from matplotlib import pyplot as plt

    fig.patch.set_alpha(0.0)
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    return buffer.getvalue()


def svg(item: LoadedSpec, palette: str) -> str:
    from matplotlib import pyplot as plt

    colors = style(palette)
    lines, label_x, note = curves(item)
    fig, (left, right) = plt.subplots(1, 2, figsize=(8, 3), layout="constrained")
    slopes = []
    for curve in lines:
        dash = "--" if curve.dashed else "-"
        color = colors["lines"][curve.color % len(colors["lines"])]
        left.plot(curve.x, curve.loss, dash, color=color, label=curve.label or None, linewidth=1.6)
        slope = np.gradient(curve.loss, curve.x)
        slopes.append(slope[np.isfinite(slope)])
        right.plot(curve.x, slope, dash, color=color, linewidth=1.6)
    finite = np.concatenate(slopes)
    if finite.size:
        # Clipping and log(0) guards make the slope spike at the very edges; show the body.
        low, high = np.percentile(finite, [1, 99])
        pad = 0.1 * (high - low) or 1.0
        right.set_ylim(low - pad, high + pad)
    titles = (f"loss ({note})" if note else "loss", "slope of the loss along the x axis")
    for axis, title in zip((left, right), titles, strict=True):
        axis.set_title(title)
        axis.set_xlabel(label_x)
        axis.grid(color=colors["grid"], linewidth=0.6)
        axis.set_facecolor("none")
        for side in ("top", "right"):
            axis.spines[side].set_visible(False)
    if any(curve.label not in ("", "loss") for curve in lines):
        left.legend(frameon=False)
    return to_svg(fig)


def _svg(job: tuple[LoadedSpec, str]) -> str:
    return svg(*job)


def plot_files(items: list[LoadedSpec], workers: int = 1) -> dict[str, str]:
    """``plots/<name>-light.svg`` and ``plots/<name>-dark.svg`` for every spec, drawn by
    ``workers`` processes. Each plot depends only on its spec and palette, so the files
    are the same whatever the number of workers; new processes are spawned, not forked,
    so a caller that has started threads (TensorFlow's, say) is safe."""
    jobs = [(item, palette) for item in items for palette in PALETTES]
    if workers > 1 and len(jobs) > 1:
        import multiprocessing

        with multiprocessing.get_context("spawn").Pool(min(workers, len(jobs))) as pool:
            drawn = pool.map(_svg, jobs, chunksize=4)
    else:
        drawn = [_svg(job) for job in jobs]
    return {f"plots/{item.name}-{palette}.svg": text for (item, palette), text in zip(jobs, drawn, strict=True)}
