"""Draw each loss's curve and gradient as SVG, for the reference pages.

Values come from :mod:`generator.check.numeric` (NumPy; no TensorFlow). Each plot is drawn
twice, for the light and the dark palette. Output is deterministic: fixed hash salt, no
dates, text kept as text.
"""

from __future__ import annotations

import io
import textwrap
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


def _image_scan() -> tuple[np.ndarray, np.ndarray, np.ndarray, str, str]:
    """Images: one target, a one-channel image of the size the checker uses with smooth
    stripes between 0.2 and 0.8, and predictions that are the target plus a fixed pattern
    of noise (standard deviation 0.1) times the scanned scale, from -1 to 1."""
    height, width = shapes.IMAGE
    rows, columns = np.meshgrid(np.arange(height), np.arange(width), indexing="ij")
    image = 0.5 + 0.3 * np.sin(rows / 2.0) * np.cos(columns / 3.0)
    noise = np.random.default_rng(0).normal(scale=0.1, size=(height, width))
    x = np.linspace(-1.0, 1.0, POINTS)
    y_pred = (image + x[:, None, None] * noise)[..., None]
    y_true = np.broadcast_to(image[..., None], y_pred.shape)
    note = (
        f"a {height}-by-{width} target image with stripes between 0.2 and 0.8; the prediction adds one"
        " pattern of noise of standard deviation 0.1, times the scale"
    )
    return x, y_true, y_pred, "scale of the noise added to the target image", note


def _scan(item: LoadedSpec, target: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, str, str]:
    spec = item.spec
    if spec.inputs.y_pred.parts:
        return _parts_scan(item, target)
    if spec.inputs.image:
        return _image_scan()
    kind, pred = spec.inputs.y_true.kind, spec.inputs.y_pred.kind
    if pred == "box":
        shift = np.linspace(-1.5, 1.5, POINTS)
        y_true = np.tile([0.0, 0.0, 1.0, 1.0], (POINTS, 1))
        y_pred = np.stack([np.zeros(POINTS), shift, np.ones(POINTS), 1.0 + shift], axis=-1)
        return shift, y_true, y_pred, "horizontal shift of the predicted box (box width 1)", ""
    if spec.task == "ranking":
        # A list of three: the most relevant item's score moves past the others' (1 and 0).
        x = np.linspace(-3.0, 4.0, POINTS)
        y_true = np.tile([2.0, 1.0, 0.0], (POINTS, 1))
        y_pred = np.stack([x, np.ones(POINTS), np.zeros(POINTS)], axis=-1)
        note = "a list of 3 with relevance (2, 1, 0); the other scores at 1 and 0"
        return x, y_true, y_pred, "score of the most relevant item", note
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
    """The curves to draw, the x-axis label, and what the plot holds fixed (or, with two
    targets, which line style is which)."""
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
        return out, "angle between the anchor and its positive (radians)", "held fixed: anchor of a batch of 4"
    for target in targets:
        for color, (params, label) in enumerate(settings):
            x, y_true, y_pred, label_x, note = _inputs(item, target)
            loss = evaluate(item, y_true, y_pred, params)
            out.append(Curve(label if target == 1.0 else "", x, loss, color, dashed=target == 0.0))
    if len(targets) > 1:
        return out, label_x, "solid: y_true = 1, dashed: y_true = 0"
    return out, label_x, f"held fixed: {note}" if note else ""


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


PANELS = ("loss", "slope")
"""The two plots of a loss, each its own SVG (``plots/<name>-<panel>-<palette>.svg``), so
that narrow screens stack them at full width."""

FLAT = 1e-9
"""Values whose spread is at most this fraction of their size are constant: their wiggle
is round-off, and the plot says "constant" instead of drawing it."""


def _flat(values: np.ndarray) -> bool:
    finite = values[np.isfinite(values)]
    if not finite.size:
        return True
    return float(np.ptp(finite)) <= FLAT * max(1.0, float(np.max(np.abs(finite))))


SPIKE = 10.0
"""A curve spikes when it reaches further than this many times the spread of the rest of
its values beyond them: then the axis shows the rest, and the title says so."""


def _limits(values: np.ndarray, low: float, high: float) -> tuple[float, float, bool]:
    """Axis limits for ``values``: all of them, or, when some spike far beyond the body
    (percentiles ``low`` to ``high``), the body; and whether values were cut off."""
    finite = values[np.isfinite(values)]
    bottom, top = (float(v) for v in np.percentile(finite, [low, high]))
    spread = top - bottom
    lowest, highest = float(finite.min()), float(finite.max())
    clipped = highest > top + SPIKE * spread or lowest < bottom - SPIKE * spread
    if not clipped:
        bottom, top = lowest, highest
    pad = 0.06 * (top - bottom) or 0.5 * max(1.0, abs(top))
    return bottom - pad, top + pad, clipped


def svgs(item: LoadedSpec, palette: str) -> dict[str, str]:
    """The loss and slope plots of one spec in one palette, by panel."""
    from matplotlib import pyplot as plt

    colors = style(palette)
    lines, label_x, held = curves(item)
    slopes = []
    for curve in lines:
        slope = np.gradient(curve.loss, curve.x)
        finite = slope[np.isfinite(slope)]
        if finite.size and _flat(slope):  # a straight line: draw its slope without the round-off
            slope = np.full_like(slope, float(np.median(finite)))
        slopes.append(slope)
    losses = np.concatenate([curve.loss for curve in lines])
    flat_loss = all(_flat(curve.loss) for curve in lines)
    varied = (_varied(item.spec) or ("",))[0]
    others = f"parameters other than {varied} at their defaults" if varied else "default parameters"
    solid = [curve.loss for curve in lines if not curve.dashed]
    if varied and len(solid) > 1:
        spread = float(np.nanmax(losses) - np.nanmin(losses)) or 1.0
        gap = max(float(np.nanmax(np.abs(solid[0] - other))) for other in solid[1:])
        if gap < 0.01 * spread:
            others += f"; the values of {varied} differ too little to see at this scale"
    out = {}
    for panel, values, title in (
        ("loss", [curve.loss for curve in lines], "loss"),
        ("slope", slopes, "slope of the loss along the x axis"),
    ):
        fig, axis = plt.subplots(figsize=(4.4, 3.3), layout="constrained")
        for curve, ys in zip(lines, values, strict=True):
            color = colors["lines"][curve.color % len(colors["lines"])]
            axis.plot(curve.x, ys, "--" if curve.dashed else "-", color=color, label=curve.label or None, linewidth=1.6)
        everything = np.concatenate(values)
        if panel == "loss" and flat_loss:
            axis.text(0.5, 0.7, "constant along this scan", transform=axis.transAxes, ha="center", va="center")
        elif np.isfinite(everything).any():
            # Clips and log(0) guards make a curve spike at the edges: show the body, and say so.
            bottom, top, clipped = _limits(everything, 2, 98) if panel == "slope" else _limits(losses, 0, 97)
            axis.set_ylim(bottom, top)
            if clipped:
                title += " (spikes cut off)"
        if panel == "slope" and all(_flat(ys) for ys in values):
            axis.text(0.5, 0.92, "constant slope", transform=axis.transAxes, ha="center", va="top")
        axis.set_title(title)
        axis.set_xlabel(label_x)
        axis.ticklabel_format(axis="both", style="plain", useOffset=False)
        axis.grid(color=colors["grid"], linewidth=0.6)
        axis.set_facecolor("none")
        for side in ("top", "right"):
            axis.spines[side].set_visible(False)
        if panel == "loss" and any(curve.label not in ("", "loss") for curve in lines):
            axis.legend(frameon=False)
        footer = textwrap.wrap("; ".join(t for t in (held, others) if t) + ".", 78)
        fig.text(0.01, 0.005, "\n".join(footer), fontsize=7.5, ha="left", va="bottom")
        fig.get_layout_engine().set(rect=(0, 0.035 * len(footer) + 0.015, 1, 1 - 0.035 * len(footer) - 0.015))
        out[panel] = to_svg(fig)
    return out


def _svgs(job: tuple[LoadedSpec, str]) -> dict[str, str]:
    return svgs(*job)


def plot_files(items: list[LoadedSpec], workers: int = 1) -> dict[str, str]:
    """``plots/<name>-<panel>-<palette>.svg`` for every spec, panel and palette, drawn by
    ``workers`` processes. Each plot depends only on its spec and palette, so the files
    are the same whatever the number of workers; new processes are spawned, not forked,
    so a caller that has started threads (TensorFlow's, say) is safe."""
    jobs = [(item, palette) for item in items for palette in PALETTES]
    if workers > 1 and len(jobs) > 1:
        import multiprocessing

        with multiprocessing.get_context("spawn").Pool(min(workers, len(jobs))) as pool:
            drawn = pool.map(_svgs, jobs, chunksize=4)
    else:
        drawn = [_svgs(job) for job in jobs]
    return {
        f"plots/{item.name}-{panel}-{palette}.svg": text
        for (item, palette), panels in zip(jobs, drawn, strict=True)
        for panel, text in panels.items()
    }
