"""The spec model: what a loss spec file may contain, validated strictly by pydantic.

Unknown keys are errors. Checks that need more than one field (formula names, parameter
defaults against their bounds, weighting references) live in :mod:`generator.spec.semantics`
so that every message can point at the exact field.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Task = Literal["regression", "binary", "multiclass", "multilabel", "segmentation", "metric", "ranking", "detection"]

TargetKind = Literal["real", "nonnegative", "binary", "signed", "one_hot", "labels", "distribution", "box"]
"""What ``y_true`` holds: any reals, reals >= 0, 0/1 flags, -1/+1 flags, one-hot rows,
integer class ids (shape ``(batch,)`` or ``(batch, 1)``), rows that sum to one, or boxes
``(y_min, x_min, y_max, x_max)``."""

PredictionKind = Literal[
    "real", "nonnegative", "probability", "distribution", "embedding", "box", "mean_and_log_variance"
]
"""What ``y_pred`` holds: any reals (logits included), reals >= 0, values in [0, 1], rows
that sum to one (softmax outputs), L2-normalised embedding rows, boxes, or predicted means
followed by log-variances (twice as wide as ``y_true``)."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Parameter(Strict):
    type: Literal["float", "int", "bool", "vector", "matrix"]
    default: Any
    doc: str = Field(min_length=1)
    min: float | None = None
    max: float | None = None


class Target(Strict):
    kind: TargetKind = "real"
    doc: str | None = None
    broadcast: bool = False
    """When true, ``y_true`` may have a last axis of 1 while ``y_pred`` is wider: the one
    target is compared with every column (several quantiles of one target, say)."""
    own_width: bool = False
    """When true, ``y_true``'s last axis has a width of its own, unrelated to ``y_pred``'s:
    multi-hot labels of any number of classes against embeddings of any size, one row per
    sample on each side (batch-level losses that compare the samples' label sets)."""


PartKind = Literal["real", "nonnegative", "positive", "probability"]
"""What one part of a packed prediction holds: any reals, reals >= 0, reals > 0, or values
in [0, 1]."""


class Part(Strict):
    """One named part of a packed prediction, written as a mapping: a kind, or a lower
    bound (``greater_than: 1`` for a part that must exceed 1), and what it is."""

    kind: PartKind = "real"
    greater_than: float | None = None
    """The part is above this number (for example the shape alpha > 1 of an inverse-gamma
    distribution); the kind is then ``real`` shifted up, and must be left out."""
    doc: str | None = None


class Prediction(Strict):
    kind: PredictionKind = "real"
    doc: str | None = None
    logits_when: str | None = None
    """A boolean parameter; when it is true, ``y_pred`` holds logits (any reals)."""
    parts: dict[str, PartKind | Part] = {}
    """Named parts of the last axis, in order, each as wide as ``y_true``'s last axis: a
    model predicting four numbers per target (gamma, nu, alpha, beta) declares four parts,
    and the formula reads each by its name. ``y_pred`` is then ``len(parts)`` times as
    wide as ``y_true``."""


class Inputs(Strict):
    y_true: Target = Target()
    y_pred: Prediction = Prediction()
    pixels: bool = False
    """When true, both inputs hold one vector per pixel, shape ``(batch, ..., classes)``
    (for example ``(batch, height, width, classes)``); the generated loss flattens the
    axes between the first and the last into one pixel axis, so the formula sees
    ``(batch, pixels, classes)`` and reduces over pixels with ``axis=-2``."""
    class_axis: str | None = None
    """An int parameter (default -1) saying which axis of ``y_pred`` holds the classes, as
    Keras's ``axis`` argument does (``axis=1`` for channels-first outputs): the generated
    code moves that axis last, in ``y_true`` too when it has as many axes, before the
    formula, which keeps reducing over the last axis."""
    per_class: str | None = None
    """An int parameter (at least 1) saying how many numbers ``y_pred`` holds per class,
    side by side, class after class (SoftTriple's centres of each class): ``y_pred`` is
    ``(batch, classes * per_class)`` against class ids ``y_true``; the generated code
    regroups it as ``(batch, classes, per_class)`` before the formula, and raises
    ``ValueError`` on a width that is not a multiple. ``num_classes()`` is then the size
    of the class axis, the second to last."""
    image: bool = False
    """When true, both inputs are images, shape ``(batch, height, width, channels)``, and
    the formula sees them as they are, height and width kept (unlike ``pixels``), so that
    window functions such as ``local_mean`` can slide over them; it must still end with one
    value per sample. A grayscale image may come without its channel axis,
    ``(batch, height, width)``: the generated code adds it."""


class Formula(Strict):
    steps: dict[str, str] = {}
    loss: str
    reduce: Literal["mean", "sum", "none"] = "mean"


class NoWeighting(Strict):
    rule: Literal["none"]


class ValueWeighting(Strict):
    rule: Literal["value"]
    weight: str
    """A formula; each element of the loss term is multiplied by it before the reduction."""


class ClassWeighting(Strict):
    rule: Literal["class"]
    weights: str
    """A vector parameter with one weight per class; a sample's loss is multiplied by the
    weight of its true class."""


class ConfusionWeighting(Strict):
    rule: Literal["confusion"]
    table: str
    """A square matrix parameter W; a sample's loss is multiplied by
    ``W[argmax(y_true), argmax(y_pred)]``."""


class PerExampleWeighting(Strict):
    rule: Literal["per_example"]
    """Every sample brings its own weight, packed into ``y_true`` behind its targets; the
    generated module has a ``pack_<name>`` helper that builds such targets."""
    kind: Literal["table", "number"] | None = None
    """``number``: one weight per sample, which multiplies its loss (the default, for any
    task but one-hot targets). ``table``: a C-by-C table per sample behind one-hot labels,
    and the sample's loss is multiplied by ``table[argmax(y_true), argmax(y_pred)]`` (the
    default for one-hot targets)."""


Weighting = Annotated[
    NoWeighting | ValueWeighting | ClassWeighting | ConfusionWeighting | PerExampleWeighting,
    Field(discriminator="rule"),
]


class KerasTwin(Strict):
    """The ``keras.losses`` class this loss must match, used as the test oracle."""

    loss: str
    args: dict[str, Any] = {}
    rename: dict[str, str] = {}
    when: dict[str, dict[str, Any]] = {}
    """Boolean parameters that stand for other twin arguments: the parameter itself is not
    passed, and when it is true these arguments are (``pool_batch`` is Keras's
    ``axis=None``)."""
    note: str | None = None


PeerInput = Literal[
    "batch_hard",
    "channel_axis",
    "channels_first",
    "class_ids",
    "embeddings",
    "flatten",
    "log_predictions",
    "log_probabilities",
    "logits",
    "per_sample",
    "positive_anchors",
    "proxies",
    "reference_embeddings",
    "row_image",
    "target_first",
    "trailing_axis",
    "two_views",
]
"""How the peer test hands the loss's inputs to a peer, applied in order: ``batch_hard``
calls a pytorch-metric-learning tuple loss as ``peer(embeddings, labels, triplets)`` with
the triplets of its ``BatchHardMiner`` (each anchor's farthest classmate and nearest other),
both measuring Euclidean distances between the embeddings as given (``LpDistance`` without
normalisation), on targets that are the ids ``0 .. N/2 - 1`` twice, so that every sample
has exactly one classmate (the miner leaves out anchors without one); ``channel_axis``
adds an axis of size 1 after the batch (``(N, P)`` becomes ``(N, 1, P)``);
``channels_first`` moves the last axis to the second (of the targets only while they have
as many axes as the predictions, so that after ``class_ids`` a map of class ids keeps its
pixel order); ``class_ids`` turns one-hot targets
into integer class ids; ``embeddings`` calls ``peer(embeddings, labels)`` with ``y_pred``
and the targets as a vector of integer labels (pytorch-metric-learning's convention);
``flatten`` makes both inputs one vector (for metrics that treat each column as an output);
``log_predictions`` passes the natural logarithm of the predicted probabilities, as
logits for peers that apply a softmax (``softmax(log p)`` is ``p``);
``log_probabilities`` passes the natural logarithms of both inputs; ``logits`` passes
``log(p / (1 - p))`` of the predicted probabilities, for peers that apply the sigmoid;
``per_sample`` calls the peer once per sample, on that sample alone, and stacks the
results (for metrics that pool over everything they are given, as torchmetrics' do);
``positive_anchors`` multiplies the peer's value by the share of the batch's samples that
have another sample of their label (pytorch-metric-learning's reducers average over those
anchors only), so that it equals the batch mean of a loss that gives the others 0;
``proxies`` calls ``peer(y_pred, labels)`` as ``embeddings`` does, for pytorch-metric-learning's
proxy losses, which own their class proxies: the peer is built with the embedding size and
class count of ``y_pred``'s width, a dot product that does not normalise, and identity
proxies, so that its similarities are ``y_pred`` itself;
``reference_embeddings`` calls ``peer(y_pred, ref_emb=y_true)``, for
pytorch-metric-learning's losses between two views of each sample (the targets are the
second view's embeddings);
``row_image`` makes each sample an image of one row, predictions ``(N, 1, 1, P)`` with one
channel and targets ``(N, 1, P)`` (kornia's binary segmentation convention);
``target_first`` calls ``peer(target, prediction)`` instead of ``peer(prediction, target)``;
``trailing_axis`` adds an axis of size 1 at the end of both inputs (``(N, C)`` becomes
``(N, C, 1)``), for peers that sum over the last axis (KerasCV's ``FocalLoss``): each
element is then a row of its own, and the peer's mean over the rest is the mean over
elements;
``two_views`` gives both losses a batch whose first and second halves are two views of the
same examples, in order: the targets become the ids ``0 .. N/2 - 1`` twice, and the peer is
called as ``peer(first half of y_pred, second half)`` (MONAI's ``ContrastiveLoss``)."""


class Peer(Strict):
    """The same loss in a library users migrate from, and the arguments that make it
    equal to this one; the peer test (tests/peers) computes both on random inputs and
    compares values and gradients, and the reference page lists it under "Equivalent
    calls". ``call`` is looked up by name in the library, never executed as text: a class
    is built with ``arguments`` and then called with the inputs, a function is called with
    the inputs and ``arguments``."""

    call: str = Field(
        pattern=r"^(monai|pytorch_metric_learning|kornia|torchmetrics|keras_cv|keras_rs)(\.[A-Za-z_]\w*)+$"
    )
    arguments: dict[str, Any] = {}
    params: dict[str, Any] = {}
    """This loss's parameters for the comparison; the rest keep their defaults."""
    inputs: list[PeerInput] = []
    reduction: Literal["mean", "sum", "none", "mean_nonzero"] = "mean"
    """How this loss's per-sample values are reduced to compare with the peer's output:
    ``mean_nonzero`` averages only the values above 0 (pytorch-metric-learning's default
    reducer, which leaves out samples with no positive pair)."""
    scale: float = 1.0
    """What the peer multiplies this loss's reduced value by (torchmetrics' MAPE is a
    fraction where this one is a percentage: scale 0.01)."""
    offset: float = 0.0
    """What the peer adds to it, after the scale (kornia's Charbonnier is this one with
    ``smoothing: 1``, minus 1: offset -1)."""
    tolerance: float = Field(default=1e-5, gt=0, le=1e-3)
    note: str | None = None
    """Where the peer differs from this loss or from the paper, and how to get either (Markdown)."""


class Example(Strict):
    """A published value: inputs, parameters, and either the expected per-sample losses
    or their batch mean, with where it was published. The checker compares the loss with
    it to the published digits (and never tighter than a relative 1e-5)."""

    y_true: list[Any]
    y_pred: list[Any]
    params: dict[str, Any] = {}
    expected: list[float] | None = None
    expected_mean: float | None = None
    source: str = Field(min_length=1)


class Plot(Strict):
    """How the reference page's plot scans the loss, and which parameter values it draws.

    ``along``: ``value`` moves the prediction's value (the default); ``angle`` turns a 2-d
    prediction away from the target (direction losses such as cosine); ``mix`` moves a
    batch of predictions from the targets themselves to random ones (losses of a whole row
    or batch, such as a correlation, where one value says nothing). ``vary`` names the float
    parameter whose values are drawn as separate lines (default: the first float
    parameter), and ``values`` gives them (default: the default and two others in bounds)."""

    along: Literal["value", "angle", "mix"] = "value"
    vary: str | None = None
    values: list[float] | None = Field(default=None, min_length=2, max_length=4)


class LossSpec(Strict):
    name: str
    class_name: str | None = None
    title: str = Field(min_length=1, max_length=60)
    task: Task
    summary: str = Field(min_length=1)
    avoid_when: str | None = None
    """When not to use this loss, and what to use instead (Markdown)."""
    inputs: Inputs = Inputs()
    parameters: dict[str, Parameter] = {}
    formula: Formula
    weighting: Weighting = NoWeighting(rule="none")
    latex: str | None = None
    notes: str | None = None
    keras: KerasTwin | None = None
    peers: list[Peer] = []
    checked_against: str | None = None
    """What the tests compare this loss with, when it has no Keras twin (Markdown)."""
    references: list[str] = []
    examples: list[Example] = []
    plot: Plot = Plot()


FIELD_ORDER = tuple(LossSpec.model_fields)
"""Top-level keys in the order a spec is best written (``lossgen new`` follows it)."""
