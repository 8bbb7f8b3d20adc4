"""The shapes of inputs and the output layers a model needs for a spec.

One place for these decisions: the generator prints them in the usage examples of the
pages and modules (``lower``), and the checker builds the same model from them (through
``samples``). Plain Python only: generating code must need no NumPy, Keras or backend.
"""

from __future__ import annotations

from generator.spec.schema import LossSpec, Part

SPATIAL = (2, 3)
"""Height and width of the images for losses whose inputs are per pixel."""

IMAGE = (16, 16)
"""Height and width of the images for losses whose inputs are images (``inputs.image``),
in the checker, the plots and the pages' programs. Windows slide over them, so they must
hold the largest window a check uses: 16 leaves 6 by 6 positions for SSIM's 11-by-11
window (the paper's, its default) and 5 by 5 for the checker's changed window of 12,
enough for a mean over positions to differ from any single one, while a batch of 8 images
of 4 channels stays small (8192 numbers)."""

IMAGE_CHANNELS = 3
"""Channels of the images in the pages' programs: colour images."""


def spatial(spec: LossSpec) -> tuple[int, ...]:
    """The axes between the batch and the last axis of the inputs the checker and pages
    build: :data:`SPATIAL` for per-pixel inputs, :data:`IMAGE` for images, else none."""
    if spec.inputs.image:
        return IMAGE
    return SPATIAL if spec.inputs.pixels else ()


OWN_TARGET_WIDTH = 5
"""Columns of ``y_true`` for a spec whose targets have a width of their own
(``inputs.y_true.own_width``): five labels, against predictions as wide as anywhere else
(the checker's 4, the pages' 3), so that code tying the two widths fails."""


def target_width(spec: LossSpec, width: int) -> int:
    """The width of ``y_true`` beside predictions ``width`` wide: :data:`OWN_TARGET_WIDTH`
    when the targets have a width of their own, else ``width``."""
    return OWN_TARGET_WIDTH if spec.inputs.y_true.own_width else width


ONE_COLUMN_TARGETS = ("real", "nonnegative", "binary", "signed")
"""Target kinds a user may give as one column, ``(batch,)`` or ``(batch, 1)``, with a
``Dense(1)`` head: one number per sample rather than a row per sample."""

PARAMETER_AXES = {"vector": ("classes",), "matrix": ("classes", "classes")}
"""The shape a vector or matrix parameter must have, axis by axis, in classes (the last
axis of ``y_pred``): the generated code checks it, the hazard finder names it."""


def layout_parameters(spec: LossSpec) -> tuple[str, ...]:
    """The parameters that say how the inputs are laid out rather than what the loss
    computes: the class axis (``inputs.class_axis``) and the group size of a prediction
    with several numbers per class (``inputs.per_class``)."""
    return tuple(name for name in (spec.inputs.class_axis, spec.inputs.per_class) if name)


def tuned(spec: LossSpec) -> list[str]:
    """The parameters that change the loss's values, in the spec's order: all but the
    :func:`layout_parameters`. The checker's "changed" parameter set and the pages' usage
    examples leave those at their defaults, since the inputs they build hold the classes
    last, grouped by the default size; their own tests move them."""
    return [name for name in spec.parameters if name not in layout_parameters(spec)]


def parameter_shape(kind: str, classes: int) -> tuple[int, ...]:
    """The shape a ``vector`` or ``matrix`` parameter must have for ``classes`` classes."""
    return tuple(classes for _ in PARAMETER_AXES[kind])


BOX_WIDTH = 4
"""Numbers per box: two corners."""
RANKING_WIDTH = 5
"""Items per list in the pages' ranking examples."""

KIND_WIDTHS = {"box": BOX_WIDTH}
"""Input kinds whose last axis has a width of their own, whatever the spec says."""


def fixed_width(spec: LossSpec) -> int | None:
    """The width of the last axis when the spec fixes it: four for boxes, the class count
    of a vector or matrix parameter's default; None when any width works."""
    if spec.inputs.y_pred.kind in KIND_WIDTHS:
        return KIND_WIDTHS[spec.inputs.y_pred.kind]
    for param in spec.parameters.values():
        if param.type in PARAMETER_AXES:
            return len(param.default)
    return None


def width(spec: LossSpec, otherwise: int) -> int:
    """The width of the last axis to use: the spec's :func:`fixed_width`, else ``otherwise``
    (the checker's feature count, the plots' three classes)."""
    fixed = fixed_width(spec)
    return otherwise if fixed is None else fixed


def example_width(spec: LossSpec) -> int:
    """The width of the predictions (and, but for targets of their own width, the targets)
    in the pages' save-and-reload programs: the fixed width, a ranked list of five, three
    channels for images, one column for element-wise targets, else three classes."""
    if spec.task == "ranking" and fixed_width(spec) is None:
        return RANKING_WIDTH
    if spec.inputs.image:
        return width(spec, IMAGE_CHANNELS)
    one_column = spec.inputs.y_true.kind in ONE_COLUMN_TARGETS and not spec.inputs.y_true.own_width
    return width(spec, 1 if one_column else 3)


_ACTIVATIONS = {"probability": "sigmoid", "distribution": "softmax", "nonnegative": "softplus"}


def parts(spec: LossSpec) -> list[tuple[str, Part]]:
    """The named parts of a packed prediction, in order, each as a :class:`Part` (a part
    written as a kind alone, ``nu: positive``, becomes ``Part(kind="positive")``)."""
    return [
        (name, part if isinstance(part, Part) else Part(kind=part)) for name, part in spec.inputs.y_pred.parts.items()
    ]


def per_class(spec: LossSpec) -> int:
    """How many numbers ``y_pred`` holds per class in the inputs the checker, plots and
    pages build: the default of the ``inputs.per_class`` parameter, else 1."""
    name = spec.inputs.per_class
    return int(spec.parameters[name].default) if name else 1


def prediction_factor(spec: LossSpec) -> int:
    """How many numbers ``y_pred`` holds per target: 2 for means and log-variances, the
    number of parts of a packed prediction, the group size of :func:`per_class`, else 1."""
    if spec.inputs.per_class:
        return per_class(spec)
    if spec.inputs.y_pred.parts:
        return len(spec.inputs.y_pred.parts)
    return 2 if spec.inputs.y_pred.kind == "mean_and_log_variance" else 1


def input_shape(spec: LossSpec, features: int) -> tuple[int, ...]:
    """The shape of one model input: ``features`` numbers, or an image of that many
    channels when the loss is per pixel or on images (:func:`spatial`)."""
    return (*spatial(spec), features)


def output_layers(spec: LossSpec, width: int, logits: bool = False) -> list[tuple[str, dict[str, object]]]:
    """The last layers of a model whose output suits the loss, for targets ``width`` wide,
    as ``(keras.layers name, arguments)``: a Dense layer with the activation the prediction
    kind needs (twice as wide for means and log-variances), then a UnitNormalization layer
    for embeddings; for per-pixel and image losses a 3x3 Conv2D over the image instead of
    the Dense layer. The checker builds them; pages print them."""
    kind = spec.inputs.y_pred.kind
    activation = None if logits else _ACTIVATIONS.get(kind)
    if spatial(spec):
        conv: dict[str, object] = {"filters": width, "kernel_size": 3, "padding": "same"}
        if activation:
            conv["activation"] = activation
        return [("Conv2D", conv)]
    dense: dict[str, object] = {"units": prediction_factor(spec) * width}
    if activation:
        dense["activation"] = activation
    layers = [("Dense", dense)]
    if kind == "embedding":
        layers.append(("UnitNormalization", {}))
    return layers


_PART_ACTIVATIONS = {"real": None, "nonnegative": "softplus", "positive": "softplus", "probability": "sigmoid"}


def part_heads(spec: LossSpec, width: int) -> list[tuple[str, list[tuple[str, dict[str, object]]]]]:
    """For a packed prediction, the layers of one head per part, in order, applied one after
    another to the model's features: a Dense layer ``width`` wide whose activation keeps the
    part inside its domain (softplus above 0, sigmoid in [0, 1]), then for a lower bound a
    Rescaling layer that shifts it up. The model concatenates the heads' outputs."""
    heads = []
    for name, part in parts(spec):
        activation = _PART_ACTIVATIONS["positive" if part.greater_than is not None else part.kind]
        dense: dict[str, object] = {"units": width}
        if activation:
            dense["activation"] = activation
        layers = [("Dense", dense)]
        if part.greater_than is not None:
            layers.append(("Rescaling", {"scale": 1.0, "offset": float(part.greater_than)}))
        heads.append((name, layers))
    return heads


def packed_weights(spec: LossSpec) -> str:
    """What the ``per_example`` rule packs behind each sample's targets: ``"table"`` (a
    classes-by-classes table; the default for one-hot targets), ``"number"`` (one weight; the
    default for every other kind), or ``""`` under any other rule."""
    weighting = spec.weighting
    if weighting.rule != "per_example":
        return ""
    if weighting.kind is not None:
        return weighting.kind
    return "table" if spec.inputs.y_true.kind == "one_hot" else "number"
