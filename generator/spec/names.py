"""Every name generated code defines for a spec, decided here once: the three forms and the
module-level names of each (function, factory, closure, class, packing helper). Lowering
uses them to write the code, the semantic checks to refuse a parameter or step that would
shadow one, and the checker to find the forms in an imported module."""

from __future__ import annotations

from dataclasses import dataclass

from generator.spec.schema import LossSpec

FORMS = ("function", "factory", "class")
"""The three forms, in page order; each has a ``templates/<form>.py.jinja``."""


@dataclass(frozen=True)
class Names:
    """The module-level names of one spec's generated code."""

    function: str
    """The plain function, and the name it is registered under: the spec's ``name``."""
    factory: str
    """The factory: ``make_<name>``."""
    closure: str
    """The function the factory returns: ``<name>_loss``."""
    cls: str
    """The ``keras.losses.Loss`` subclass: the spec's ``class_name``, or CamelCase of ``name``."""
    pack: str
    """The helper that packs per-example tables behind the targets (``pack_<name>``); empty
    unless the ``per_example`` weighting rule is used."""

    def all(self) -> set[str]:
        """Every name, including the packing helper's whether or not the spec uses it."""
        return {self.function, self.factory, self.closure, self.cls, pack_name(self.function)}


def pack_name(name: str) -> str:
    """The packing helper of loss ``name``: ``pack_<name>``."""
    return f"pack_{name}"


def names(spec: LossSpec) -> Names:
    cls = spec.class_name or "".join(part.capitalize() for part in spec.name.split("_"))
    pack = pack_name(spec.name) if spec.weighting.rule == "per_example" else ""
    return Names(spec.name, f"make_{spec.name}", f"{spec.name}_loss", cls, pack)


KERAS_DOC_PAGES = {
    "probabilistic_losses": (
        "BinaryCrossentropy",
        "BinaryFocalCrossentropy",
        "CategoricalCrossentropy",
        "CategoricalFocalCrossentropy",
        "SparseCategoricalCrossentropy",
        "Poisson",
        "KLDivergence",
    ),
    "regression_losses": (
        "MeanSquaredError",
        "MeanAbsoluteError",
        "MeanAbsolutePercentageError",
        "MeanSquaredLogarithmicError",
        "CosineSimilarity",
        "Huber",
        "LogCosh",
        "Tversky",
        "Dice",
    ),
    "hinge_losses": ("Hinge", "SquaredHinge", "CategoricalHinge"),
}
"""The keras.io page that documents each built-in loss class; a class not listed links to
the losses overview."""


def keras_doc_url(loss: str) -> str:
    """Where keras.io documents ``keras.losses.<loss>``."""
    for page, classes in KERAS_DOC_PAGES.items():
        if loss in classes:
            return f"https://keras.io/api/losses/{page}/#{loss.lower()}-class"
    return "https://keras.io/api/losses/"


PEER_LIBRARIES = {
    "monai": "MONAI",
    "pytorch_metric_learning": "pytorch-metric-learning",
    "kornia": "kornia",
    "torchmetrics": "torchmetrics",
    "keras_cv": "KerasCV",
    "keras_rs": "Keras Recommenders",
}
"""The libraries a spec's ``peers`` may name, by module, with the name users know them by.
The Keras libraries (:data:`KERAS_PEER_LIBRARIES`) are compared on the TensorFlow backend,
the others on PyTorch."""

KERAS_PEER_LIBRARIES = frozenset({"keras_cv", "keras_rs"})
"""The peer libraries built on Keras: the peer test compares them in the TensorFlow pass
(values, and gradients from ``tf.GradientTape``), the PyTorch libraries in the PyTorch pass."""


PEER_INPUTS_TEXT = {
    "batch_hard": (
        "`(embeddings, labels, BatchHardMiner()(embeddings, labels))`, both with"
        " `LpDistance(normalize_embeddings=False)`"
    ),
    "channel_axis": "a channel axis of size 1 added after the batch",
    "channels_first": "channels moved to axis 1",
    "class_ids": "one-hot targets as class ids",
    "embeddings": "`(embeddings, labels)`",
    "flatten": "both inputs flattened to one vector",
    "log_predictions": (
        "the logarithms of the predicted probabilities, as logits for a softmax (the peer sees `y_pred / sum(y_pred)`,"
        " so gradients are compared without their part along `(1, ..., 1)` per pixel)"
    ),
    "log_probabilities": "the logarithms of both inputs",
    "logits": "logits `log(p / (1 - p))` in place of the predicted probabilities",
    "per_sample": "the peer called on each sample alone (it pools over all it is given)",
    "positive_anchors": "the peer's mean over the anchors with a classmate, times their share of the batch",
    "proxies": "`(embeddings, labels)` with identity proxies, so the peer's similarities are `y_pred`",
    "reference_embeddings": "`(embeddings, ref_emb=y_true)`: the targets are the second view's embeddings",
    "row_image": "each sample as a one-row image: predictions `(N, 1, 1, P)`, targets `(N, 1, P)`",
    "target_first": "the target first",
    "trailing_axis": "an axis of size 1 added at the end of both inputs (the peer sums over the last axis)",
    "two_views": "`(first view, second view)`: the two halves of `y_pred`, paired by position",
}
"""How each of a peer's input conventions reads on a reference page."""
