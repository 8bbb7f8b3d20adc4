"""The render model: frozen plain data that templates print without computing anything.

Every string here is final: Python source, LaTeX or Markdown, produced by
:mod:`generator.codegen.lower`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PeerView:
    """One row of a reference page's "Equivalent calls" table (Markdown cells)."""

    library: str
    call: str  # ``monai.losses.DiceLoss(smooth_nr=0)``
    ours: str  # ``dice()``: this loss's function with the peer's parameters
    inputs: str  # how the inputs are handed over, in words; empty when as they are
    tolerance: str  # ``1e-05``
    note: str


@dataclass(frozen=True)
class ParamView:
    name: str
    type: str
    doc: str
    default_code: str  # Python literal for signatures: ``2.0``, ``((1.0, 0.0), (0.0, 1.0))``
    default_text: str  # the default as shown on the page
    coerce_code: str  # normalises a user value: ``float(gamma)``
    range_text: str  # ``>= 0.0``, ``[0.0, 1.0]``, ``any``
    doc_lines: tuple[str, ...]  # the ``Args:`` entry, wrapped, without indentation


@dataclass(frozen=True)
class UsageView:
    """The data of one form's save-and-reload program (``templates/usage.py.jinja``)."""

    form: str  # function | factory | class: decides what the reload comment says
    module: str  # the module the program imports from
    imports: str  # what it imports: the loss, and the packing helper if any
    import_name: str  # the loss's name in that module
    sample_shape: str  # the shape of x, as Python source
    input_shape: str  # the shape of one sample, as Python source
    layers: str  # the output layers, as Python source
    targets: str  # an expression for 32 random targets (uses rng)
    pack: str  # the packing helper's name, or ""
    classes: int  # the width of the targets
    pack_weights: str  # Python source of the weights the pack helper packs, or ""
    loss_expr: str  # the loss as compile() gets it
    part_heads: tuple[tuple[str, str], ...] = ()  # packed predictions: (code of one head on `inputs`, part name)


@dataclass(frozen=True)
class FormView:
    """One implementation form as shown on a page."""

    key: str  # function | factory | class
    label: str  # tab label
    filename: str  # the self-contained module
    usage: UsageView  # the compile / save / reload program
    pitfall: str  # Markdown


@dataclass(frozen=True)
class ArrayParamView:
    """A vector or matrix parameter, checked against the class count at the first call."""

    name: str
    shape_code: str  # the shape it must have, as Python source: ``(classes,)``
    message: tuple[str, ...]  # string literals: the start of the error message


@dataclass(frozen=True)
class InputsView:
    """How the generated code receives ``y_true`` and ``y_pred`` (``_function.py.jinja``)."""

    layout: str  # a key of ``lower.LAYOUTS``: same, broadcast, labels, rows, double, parts, ...
    message: tuple[str, ...]  # string literals: the shapes the layout accepts, for the ``ValueError``
    page_text: str  # Markdown: the shapes the loss accepts, for the reference page
    pixels: bool  # flatten ``(batch, ..., classes)`` to ``(batch, pixels, classes)``
    arrays: tuple[ArrayParamView, ...]
    factor: int = 1  # how many numbers y_pred holds per target (the double and parts layouts)
    windows: bool = False  # a window slides over the images: images smaller than it raise
    class_axis: str = ""  # the int parameter naming y_pred's class axis, moved last; "" for none
    per_class: str = ""  # the int parameter giving y_pred's numbers per class, regrouped; "" for none
    per_class_message: tuple[str, ...] = ()  # string literals: the start of the error for a bad width


@dataclass(frozen=True)
class LossView:
    name: str
    class_name: str
    factory_name: str
    closure_name: str
    pack_name: str  # empty unless the per_example rule packs tables into y_true
    package: str
    title: str
    class_title: str  # the first line of the class's docstring
    task: str
    summary: str
    description: str  # the summary's first sentence: the page's meta description
    spec_text: str  # the spec file as written, shown on the page
    summary_lines: tuple[str, ...]  # the docstring paragraph, wrapped
    avoid_text: str  # Markdown: when not to use it; empty when the spec does not say
    params: tuple[ParamView, ...]
    signature: str  # ``y_true, y_pred, *, gamma=2.0``
    init_signature: str  # ``self, gamma=2.0, ..., reduction=..., name=..., dtype=None``
    factory_signature: str  # ``*, gamma=2.0``
    call_kwargs: str  # ``gamma=gamma``
    self_kwargs: str  # ``gamma=self.gamma``
    y_true_lines: tuple[str, ...]
    y_pred_lines: tuple[str, ...]
    returns_lines: tuple[str, ...]
    inputs: InputsView
    helpers: tuple[str, ...]  # module-level helper functions the body calls (``templates/<name>.py.jinja``)
    module_imports: tuple[str, ...]  # standard-library modules the body needs (``math``)
    body: tuple[str, ...]  # after the inputs are prepared: one line per step, then the return
    counts_classes: bool  # the body reads ``num_classes``, which the template defines first
    formula_lines: tuple[str, ...]  # the docstring's Formula: section, in the formula language
    dtype_text: str  # Markdown: which dtype the loss computes in and returns
    latex: str
    weighting_text: str  # Markdown: the weighting rule in words
    notes: str
    keras_text: str  # Markdown: the Keras twin, if any
    checked_text: str  # Markdown: what the tests compare this loss with
    peers: tuple[PeerView, ...]  # the same loss in other libraries, with the arguments that match
    peers_backend: str  # what the peer test computes with: ``PyTorch``, ``TensorFlow`` or both
    published: tuple[str, ...]  # Markdown, one line per published value the loss reproduces
    references: tuple[str, ...]
    forms: tuple[FormView, ...]
    module_doc: dict[str, tuple[str, ...]]  # form ("all", "function", ...) -> docstring lines
    plot: str  # base name of the plot files (``plots/<plot>-light.svg``); empty: no plot
