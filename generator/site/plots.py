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
    """The float parameter drawn as separate lines, and its values: the spec's ``plot``
    block's choice, else the first float parameter at :func:`plot_values`."""
    if spec.plot.vary is not None:
        param = spec.parameters[spec.plot.vary]
        return spec.plot.vary, list(spec.plot.values or plot_values(param))
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
        # Scores grouped per class: each class's numbers all equal to its value above.
        y_pred = np.repeat(y_pred, shapes.per_class(spec), axis=-1)
        if kind == "labels":
            y_true = np.zeros(POINTS)
        else:
            y_true = np.tile(np.eye(classes)[0], (POINTS, 1))
        if pred in ("distribution", "probability"):
            return p, y_true, y_pred, "predicted probability of the true class", "true class 0"
        # Scores, cosines or logits: the same scan, named for what it moves.
        return p, y_true, y_pred, "y_pred at the true class", "true class 0; the other classes share 1 - it"
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


MIX_BATCH = 8
"""Samples in the batch that a ``mix`` scan moves (:func:`_mix_scan`)."""


def _mix_scan(item: LoadedSpec, params: dict) -> tuple[np.ndarray, np.ndarray, str]:
    """For losses of a whole row or batch (``plot: {along: mix}``): one batch of random
    targets (seed 0), and predictions that move away from the targets themselves (t = 0)
    in a straight line, ``(1 - t) * y_true + t * far``. For probabilities and
    distributions ``far`` is a random prediction, and every point stays a probability or a
    distribution; for real values it is the target plus a fixed pattern of standard normal
    noise, so the prediction keeps the target's shape under growing noise. Returns t, the
    batch's mean loss (as Keras reports it), and the x-axis label."""
    spec = item.spec
    rng = np.random.default_rng(0)
    y_true = samples.targets(spec, rng, batch=MIX_BATCH).astype("float64")
    if spec.inputs.y_pred.kind in ("probability", "distribution"):
        far = samples.predictions(spec, rng, logits=False, batch=MIX_BATCH).astype("float64")
        label = "t: predictions moved from the targets (0) to random ones (1)"
    else:
        far = y_true + rng.normal(size=y_true.shape)
        label = "t: the targets plus t times a fixed pattern of noise"
    t = np.linspace(0.0, 1.0, POINTS)
    loss = np.array([np.mean(evaluate(item, y_true, (1 - s) * y_true + s * far, params)) for s in t])
    return t, loss, label


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
    if spec.plot.along == "mix":
        for color, (params, label) in enumerate(settings):
            t, loss, label_x = _mix_scan(item, params)
            out.append(Curve(label, t, loss, color))
        return out, label_x, f"held fixed: a batch of {MIX_BATCH} random targets and where t = 1 leads; mean loss"
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


@dataclass(frozen=True)
class Panel:
    """One of a loss's two plots, as data: the lines, the axis limits (None: the lines'
    own), and what the plot says about them."""

    name: str  # "loss" or "slope"
    title: str
    values: tuple[np.ndarray, ...]  # one per curve
    limits: tuple[float, float] | None
    spikes_cut: bool  # values beyond the limits were cut off (the title says so)
    constant: bool  # the lines are flat: the plot says so instead of drawing round-off


@dataclass(frozen=True)
class Plot:
    """What a loss's plots show, before any drawing: both panels, the x axis, and the footer
    (what is held fixed). :func:`draw` turns it into SVG; the gallery lists its findings."""

    name: str
    title: str
    task: str
    lines: tuple[Curve, ...]
    label_x: str
    panels: tuple[Panel, Panel]
    footer: str
    close_values: bool  # the varied parameter's values give curves too close to tell apart

    def findings(self) -> tuple[str, ...]:
        """What the plot does beyond drawing the lines, as the gallery names it."""
        loss, slope = self.panels
        found = [f"scan: {self.label_x}"]
        if any(curve.dashed for curve in self.lines):
            found.append("both targets")
        found += [f"{panel.name}: spikes cut off" for panel in self.panels if panel.spikes_cut]
        if loss.constant:
            found.append("loss: constant along this scan")
        if slope.constant:
            found.append("slope: constant")
        if self.close_values:
            found.append("parameter values too close to tell apart")
        return tuple(found)


def analyse(item: LoadedSpec) -> Plot:
    """Evaluate a loss along its scan and decide what its plots show."""
    lines, label_x, held = curves(item)
    slopes = []
    for curve in lines:
        slope = np.gradient(curve.loss, curve.x)
        finite = slope[np.isfinite(slope)]
        if finite.size and _flat(slope):  # a straight line: draw its slope without the round-off
            slope = np.full_like(slope, float(np.median(finite)))
        slopes.append(slope)
    losses = np.concatenate([curve.loss for curve in lines])
    varied = (_varied(item.spec) or ("",))[0]
    others = f"parameters other than {varied} at their defaults" if varied else "default parameters"
    close = False
    if varied and len(lines) > 2 - any(curve.dashed for curve in lines):
        # The lines of one target (solid, or dashed) differ only by the parameter's value.
        finite = losses[np.isfinite(losses)]
        spread = (float(np.ptp(finite)) if finite.size else 0.0) or 1.0
        gap = 0.0
        for dashed in (False, True):
            same = [curve.loss for curve in lines if curve.dashed == dashed]
            for other in same[1:]:
                both = np.isfinite(same[0]) & np.isfinite(other)
                gap = max(gap, float(np.max(np.abs(same[0] - other)[both], initial=0.0)))
        close = gap < 0.01 * spread
        if close:
            others += f"; the values of {varied} differ too little to see at this scale"
    panels = []
    for name, values, title in (
        ("loss", [curve.loss for curve in lines], "loss"),
        ("slope", slopes, "slope of the loss along the x axis"),
    ):
        everything = np.concatenate(values)
        constant = all(_flat(ys) for ys in values)
        limits, clipped = None, False
        if not (name == "loss" and constant) and np.isfinite(everything).any():
            # Clips and log(0) guards make a curve spike at the edges: show the body, and say so.
            bottom, top, clipped = _limits(everything, 2, 98) if name == "slope" else _limits(losses, 0, 97)
            limits = (bottom, top)
        if clipped:
            title += " (spikes cut off)"
        panels.append(Panel(name, title, tuple(values), limits, clipped, constant))
    footer = "; ".join(t for t in (held, others) if t) + "."
    loss_panel, slope_panel = panels
    return Plot(
        item.name,
        item.spec.title.strip(),
        item.spec.task,
        tuple(lines),
        label_x,
        (loss_panel, slope_panel),
        footer,
        close,
    )


def draw(plot: Plot, palette: str) -> dict[str, str]:
    """The loss and slope plots of one analysed spec in one palette, as SVG, by panel."""
    from matplotlib import pyplot as plt

    colors = style(palette)
    out = {}
    for panel in plot.panels:
        fig, axis = plt.subplots(figsize=(4.4, 3.3), layout="constrained")
        for curve, ys in zip(plot.lines, panel.values, strict=True):
            color = colors["lines"][curve.color % len(colors["lines"])]
            axis.plot(curve.x, ys, "--" if curve.dashed else "-", color=color, label=curve.label or None, linewidth=1.6)
        if panel.name == "loss" and panel.constant:
            axis.text(0.5, 0.7, "constant along this scan", transform=axis.transAxes, ha="center", va="center")
        elif panel.limits is not None:
            axis.set_ylim(*panel.limits)
        if panel.name == "slope" and panel.constant:
            axis.text(0.5, 0.92, "constant slope", transform=axis.transAxes, ha="center", va="top")
        axis.set_title(panel.title)
        axis.set_xlabel(plot.label_x)
        axis.ticklabel_format(axis="both", style="plain", useOffset=False)
        axis.grid(color=colors["grid"], linewidth=0.6)
        axis.set_facecolor("none")
        for side in ("top", "right"):
            axis.spines[side].set_visible(False)
        if panel.name == "loss" and any(curve.label not in ("", "loss") for curve in plot.lines):
            axis.legend(frameon=False)
        footer = textwrap.wrap(plot.footer, 78)
        fig.text(0.01, 0.005, "\n".join(footer), fontsize=7.5, ha="left", va="bottom")
        fig.get_layout_engine().set(rect=(0, 0.035 * len(footer) + 0.015, 1, 1 - 0.035 * len(footer) - 0.015))
        out[panel.name] = to_svg(fig)
    return out


def svgs(item: LoadedSpec, palette: str) -> dict[str, str]:
    """The loss and slope plots of one spec in one palette, by panel."""
    return draw(analyse(item), palette)


def _plot(item: LoadedSpec) -> tuple[Plot, dict[str, str]]:
    """One spec analysed once and drawn in every palette: its findings and its files."""
    plot = analyse(item)
    files = {
        f"plots/{item.name}-{panel}-{palette}.svg": text
        for palette in PALETTES
        for panel, text in draw(plot, palette).items()
    }
    return plot, files


def plot_files(items: list[LoadedSpec], workers: int = 1) -> tuple[dict[str, str], list[Plot]]:
    """``plots/<name>-<panel>-<palette>.svg`` for every spec, panel and palette, drawn by
    ``workers`` processes, and each spec's :class:`Plot` (for the gallery). Each plot
    depends only on its spec and palette, so the files are the same whatever the number of
    workers; new processes are spawned, not forked, so a caller that has started threads
    (TensorFlow's, say) is safe."""
    if workers > 1 and len(items) > 1:
        import multiprocessing

        with multiprocessing.get_context("spawn").Pool(min(workers, len(items))) as pool:
            drawn = pool.map(_plot, items, chunksize=2)
    else:
        drawn = [_plot(item) for item in items]
    files = {path: text for _, found in drawn for path, text in found.items()}
    return files, [plot for plot, _ in drawn]
