"""What every check stands on: writing and importing generated modules, the three forms
of one module, the float64 reference values, gradients with TensorFlow, and the models and
data the training checks use. Imports Keras and TensorFlow lazily, inside the functions."""

from __future__ import annotations

import importlib.util
import os
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import numpy as np

from generator.check import numeric, samples
from generator.check.tolerances import ATOL
from generator.codegen import formatting, lower, render
from generator.spec import shapes
from generator.spec.loader import LoadedSpec
from generator.spec.names import FORMS, names

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def import_path(path: Path, module_name: str) -> ModuleType:
    """Import a generated module from a file."""
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


def write_modules(item: LoadedSpec, directory: Path) -> dict[str, Path]:
    """Write the combined module and one module per form, named as a build names them;
    return their paths by form. One lowering and one ruff run for all four."""
    texts = formatting.format_files(render.module_files(lower.loss_view(item)))
    paths = {}
    for form in ("all", *FORMS):
        relative = render.module_path(item.name, form)
        path = directory / Path(relative).name
        path.write_text(texts[relative], encoding="utf-8")
        paths[form] = path
    return paths


@dataclass(frozen=True)
class Forms:
    """The three callables of one module, for one parameter set."""

    module: ModuleType
    view_name: str
    class_name: str
    factory_name: str

    def function(self, params: dict) -> object:
        fn = getattr(self.module, self.view_name)

        def bound(y_true, y_pred):
            return fn(y_true, y_pred, **params)

        return bound

    def factory(self, params: dict) -> object:
        return getattr(self.module, self.factory_name)(**params)

    def subclass(self, params: dict) -> object:
        return getattr(self.module, self.class_name)(**params, reduction=None)

    def subclass_reduced(self, params: dict) -> object:
        """The subclass with Keras's default reduction, as a user compiles it."""
        return getattr(self.module, self.class_name)(**params)

    def subclass_with(self, params: dict, **options) -> object:
        """The subclass with Keras's own arguments as well (``reduction``, ``dtype``)."""
        return getattr(self.module, self.class_name)(**params, **options)


def forms_of(module: ModuleType, item: LoadedSpec) -> Forms:
    generated = names(item.spec)
    return Forms(module, generated.function, generated.cls, generated.factory)


def as_numpy(x) -> np.ndarray:
    import keras

    return np.asarray(keras.ops.convert_to_numpy(x), dtype="float64")


def reference_values(item: LoadedSpec, y_true: np.ndarray, y_pred: np.ndarray, params: dict) -> np.ndarray:
    """:func:`numeric.evaluate`, quietly: a NaN it finds is reported by the row comparing with it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return numeric.evaluate(item, y_true, y_pred, params)


def max_relative(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), ATOL))) if a.size else 0.0


def value_and_gradient(
    fn, y_true: np.ndarray, y_pred: np.ndarray, dtype: str = "float32"
) -> tuple[np.ndarray, np.ndarray]:
    """``fn(y_true, y_pred)`` and its gradient with respect to ``y_pred``, given to ``fn``
    as a ``dtype`` tensor; both returned in float64."""
    import tensorflow as tf

    # A watched constant, as in training: y_pred reaches a loss as a tensor, not a variable.
    prediction = tf.constant(y_pred, dtype=dtype)
    with tf.GradientTape() as tape:
        tape.watch(prediction)
        value = fn(tf.constant(y_true), prediction)
    grad = tape.gradient(value, prediction)
    grad_np = np.zeros(np.shape(y_pred)) if grad is None else tf.cast(grad, "float64").numpy()
    return tf.cast(value, "float64").numpy(), grad_np


def nonfinite(x: np.ndarray) -> str:
    return "NaN" if np.isnan(x).any() else "infinite"


def model_for(item: LoadedSpec, params: dict, width: int, input_shape: tuple[int, ...], masking: bool = False):
    """A model whose output suits the loss, for targets ``width`` wide: the output layers of
    :func:`samples.output_layers` after the input (and a Masking layer when ``masking``),
    or for a packed prediction one head per part (:func:`shapes.part_heads`), concatenated."""
    import keras

    inputs = keras.Input(shape=input_shape)
    features = keras.layers.Masking(0.0)(inputs) if masking else inputs
    return keras.Model(inputs, _output(item, params, width, features))


def _output(item: LoadedSpec, params: dict, width: int, features):
    """The output layers that suit the loss, applied to ``features``."""
    import keras

    heads = shapes.part_heads(item.spec, width)
    if heads:
        return keras.layers.Concatenate()([_apply(layers, features) for _, layers in heads])
    logits = samples.uses_logits(item.spec, params)
    return _apply(samples.output_layers(item.spec, width, logits), features)


def _apply(layers: list[tuple[str, dict[str, object]]], tensor):
    """Keras layers, built from their ``(keras.layers name, arguments)``, applied one after
    another to ``tensor``."""
    import keras

    for name, kwargs in layers:
        tensor = getattr(keras.layers, name)(**kwargs)(tensor)
    return tensor


def build_model(item: LoadedSpec, params: dict):
    import keras

    keras.utils.set_random_seed(1)
    return model_for(item, params, samples.classes(item.spec), samples.input_shape(item.spec, 5))


def model_per_form(item: LoadedSpec, params: dict[str, dict]):
    """One model with an output per form (named after it), each output the head
    :func:`build_model` would build for that form's parameters, all on one input: a single
    model to compile, fit, save and reload for the three forms at once."""
    import keras

    keras.utils.set_random_seed(1)
    inputs = keras.Input(shape=samples.input_shape(item.spec, 5))
    width = samples.classes(item.spec)
    return keras.Model(inputs, {form: _output(item, params[form], width, inputs) for form in params})


def training_data(item: LoadedSpec, params: dict) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    x = rng.normal(size=(32, *samples.input_shape(item.spec, 5))).astype("float32")
    y = samples.targets(item.spec, rng, batch=32)
    if item.spec.weighting.rule == "per_example":
        y = samples.pack(y, samples.tables(item.spec, rng, batch=32))
    return x, y.astype("float32")


def quiet_tensorflow() -> None:
    """Silence TensorFlow's retracing warnings: the checker builds many small models."""
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")
