"""Binary focal crossentropy.

The function, factory and subclass forms of the `binary_focal` loss, generated
by lossgen from its spec. Edit the spec and regenerate rather than editing this
file.
"""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="lossgen")
def binary_focal(
    y_true,
    y_pred,
    *,
    gamma=2.0,
    alpha=0.25,
    from_logits=False,
    apply_class_balancing=True,
    label_smoothing=0.0,
    axis=-1,
):
    """Binary focal crossentropy.

    Binary crossentropy multiplied by (1 - p_t)^gamma, which shrinks the loss of
    examples the model already gets right, so that training concentrates on the
    hard ones; alpha balances positives against negatives. For heavily
    imbalanced binary or multi-label problems such as dense object detection.

    Formula:

        y_smooth = y_true * (1 - label_smoothing) + 0.5 * label_smoothing
        q = clip(y_pred, epsilon(), 1 - epsilon())
        bce = y_smooth * softplus(-y_pred) + (1 - y_smooth) * softplus(y_pred)
            if from_logits else -(y_smooth * log(q) + (1 - y_smooth) * log(1 -
            q))
        p_t = y_smooth * y_pred + (1 - y_smooth) * (1 - y_pred)
        odds = exp(-abs(y_pred)) if from_logits else 0
        miss = (where(y_pred >= 0, 1 - y_smooth, y_smooth) + where(y_pred >= 0,
            y_smooth, 1 - y_smooth) * odds) / (1 + odds) if from_logits else 1 -
            p_t
        alpha_t = y_smooth * alpha + (1 - y_smooth) * (1 - alpha) if
            apply_class_balancing else 1
        loss = mean(alpha_t * power(miss, gamma) * bce, axis=-1)

    Args:
        y_true: Binary targets (0 or 1), shape `(batch, d)`, or `(batch,)` for
            one per sample.
        y_pred: Predicted probabilities in [0, 1], shape `(batch, d)`. Logits
            when `from_logits` is true.
        gamma: Focusing strength; 0 gives alpha-weighted crossentropy. Default
            2.0; allowed >= 0.0.
        alpha: Weight of the positive class; negatives get 1 - alpha. Default
            0.25; allowed [0.0, 1.0].
        from_logits: Whether y_pred holds logits instead of probabilities.
            Default False.
        apply_class_balancing: Weight positives by alpha and negatives by 1 -
            alpha; false leaves alpha out (Keras's default). Default True.
        label_smoothing: Move the targets towards 0.5: y becomes y (1 -
            label_smoothing) + label_smoothing / 2. Default 0.0; allowed [0.0,
            1.0].
        axis: The axis the per-label losses are averaged over: -1 (the last) for
            channels-last outputs, 1 for channels-first ones such as (batch,
            labels, length), as Keras's `axis`. Default -1.

    Returns:
        One loss value per sample: a tensor shaped like `y_pred` without its last
        axis, so that `sample_weight` and the loss reduction work as usual.

    Raises:
        ValueError: when the shapes of `y_true` and `y_pred` cannot fit, or
            `axis` is not an axis of `y_pred`.
    """
    y_true, y_pred = _prepare_inputs(y_true, y_pred, axis)
    y_smooth = (
        y_true * (1 - label_smoothing) + 0.5 * label_smoothing
        if label_smoothing
        else y_true
    )
    # Kept inside [epsilon, 1 - epsilon]: log(0) and 1 / 0 would give inf and NaN.
    q = ops.clip(y_pred, keras.config.epsilon(), 1 - keras.config.epsilon())
    bce = (
        y_smooth * ops.softplus(-y_pred) + (1 - y_smooth) * ops.softplus(y_pred)
        if from_logits
        else -(y_smooth * ops.log(q) + (1 - y_smooth) * ops.log(1 - q))
    )
    odds = ops.exp(-ops.abs(y_pred)) if from_logits else 0
    miss = (
        (
            ops.where(ops.greater_equal(y_pred, 0), 1 - y_smooth, y_smooth)
            + ops.where(ops.greater_equal(y_pred, 0), y_smooth, 1 - y_smooth) * odds
        )
        / (1 + odds)
        if from_logits
        else 1 - (y_smooth * y_pred + (1 - y_smooth) * (1 - y_pred))
    )
    alpha_t = (
        y_smooth * alpha + (1 - y_smooth) * (1 - alpha) if apply_class_balancing else 1
    )
    return ops.mean(alpha_t * miss**gamma * bce, axis=-1)


def make_binary_focal(
    *,
    gamma=2.0,
    alpha=0.25,
    from_logits=False,
    apply_class_balancing=True,
    label_smoothing=0.0,
    axis=-1,
):
    """Return the `binary_focal` loss with fixed parameters.

    The returned function is registered with Keras under a name that spells this
    call with its values. A saved model that uses it loads again once the same
    call has been made in the loading process. With any other values, loading
    fails with an error naming the call to make: the model never runs silently
    with other parameters.

    Args:
        gamma: Focusing strength; 0 gives alpha-weighted crossentropy. Default
            2.0; allowed >= 0.0.
        alpha: Weight of the positive class; negatives get 1 - alpha. Default
            0.25; allowed [0.0, 1.0].
        from_logits: Whether y_pred holds logits instead of probabilities.
            Default False.
        apply_class_balancing: Weight positives by alpha and negatives by 1 -
            alpha; false leaves alpha out (Keras's default). Default True.
        label_smoothing: Move the targets towards 0.5: y becomes y (1 -
            label_smoothing) + label_smoothing / 2. Default 0.0; allowed [0.0,
            1.0].
        axis: The axis the per-label losses are averaged over: -1 (the last) for
            channels-last outputs, 1 for channels-first ones such as (batch,
            labels, length), as Keras's `axis`. Default -1.

    Returns:
        A loss function `(y_true, y_pred) -> one value per sample`.
    """
    gamma = float(gamma)
    alpha = float(alpha)
    from_logits = bool(from_logits)
    apply_class_balancing = bool(apply_class_balancing)
    label_smoothing = float(label_smoothing)
    axis = int(axis)

    def binary_focal_loss(y_true, y_pred):
        return binary_focal(
            y_true,
            y_pred,
            gamma=gamma,
            alpha=alpha,
            from_logits=from_logits,
            apply_class_balancing=apply_class_balancing,
            label_smoothing=label_smoothing,
            axis=axis,
        )

    registered_name = (
        "make_binary_focal("
        f"gamma={gamma!r}, "
        f"alpha={alpha!r}, "
        f"from_logits={from_logits!r}, "
        f"apply_class_balancing={apply_class_balancing!r}, "
        f"label_smoothing={label_smoothing!r}, "
        f"axis={axis!r})"
    )
    register = keras.saving.register_keras_serializable(
        package="lossgen", name=registered_name
    )
    return register(binary_focal_loss)


@keras.saving.register_keras_serializable(package="lossgen")
class BinaryFocal(keras.losses.Loss):
    """Binary focal crossentropy, as a `keras.losses.Loss`.

    Binary crossentropy multiplied by (1 - p_t)^gamma, which shrinks the loss of
    examples the model already gets right, so that training concentrates on the
    hard ones; alpha balances positives against negatives. For heavily
    imbalanced binary or multi-label problems such as dense object detection.

    Args:
        gamma: Focusing strength; 0 gives alpha-weighted crossentropy. Default
            2.0; allowed >= 0.0.
        alpha: Weight of the positive class; negatives get 1 - alpha. Default
            0.25; allowed [0.0, 1.0].
        from_logits: Whether y_pred holds logits instead of probabilities.
            Default False.
        apply_class_balancing: Weight positives by alpha and negatives by 1 -
            alpha; false leaves alpha out (Keras's default). Default True.
        label_smoothing: Move the targets towards 0.5: y becomes y (1 -
            label_smoothing) + label_smoothing / 2. Default 0.0; allowed [0.0,
            1.0].
        axis: The axis the per-label losses are averaged over: -1 (the last) for
            channels-last outputs, 1 for channels-first ones such as (batch,
            labels, length), as Keras's `axis`. Default -1.
        reduction: How per-sample losses are combined: `"sum_over_batch_size"`
            (default), `"sum"`, `"mean"`, `"mean_with_sample_weight"` or `None`.
        name: Name of the loss instance.
        dtype: Dtype of the loss computation; `None` uses `keras.config.floatx()`.
    """

    def __init__(
        self,
        gamma=2.0,
        alpha=0.25,
        from_logits=False,
        apply_class_balancing=True,
        label_smoothing=0.0,
        axis=-1,
        reduction="sum_over_batch_size",
        name="binary_focal",
        dtype=None,
    ):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.gamma = float(gamma)
        self.alpha = float(alpha)
        self.from_logits = bool(from_logits)
        self.apply_class_balancing = bool(apply_class_balancing)
        self.label_smoothing = float(label_smoothing)
        self.axis = int(axis)

    def call(self, y_true, y_pred):
        return binary_focal(
            y_true,
            y_pred,
            gamma=self.gamma,
            alpha=self.alpha,
            from_logits=self.from_logits,
            apply_class_balancing=self.apply_class_balancing,
            label_smoothing=self.label_smoothing,
            axis=self.axis,
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "gamma": self.gamma,
                "alpha": self.alpha,
                "from_logits": self.from_logits,
                "apply_class_balancing": self.apply_class_balancing,
                "label_smoothing": self.label_smoothing,
                "axis": self.axis,
            }
        )
        return config


def _prepare_inputs(y_true, y_pred, axis=-1):
    """Cast the inputs to the compute dtype and line their ranks up, as Keras's
    built-in losses do.

    float16, bfloat16 and integer predictions are computed in float32 (in float16,
    1 - epsilon rounds to 1, so clips and logarithms would protect nothing); float64
    stays float64. The targets take the same dtype.

    `axis` is the axis of `y_pred` the loss runs along (its classes, labels or
    features). It is moved last, in `y_true` too when `y_true` has as many axes,
    since the loss reduces over the last axis.

    Raises:
        ValueError: when the shapes of `y_true` and `y_pred` cannot fit, or
            `axis` is not an axis of `y_pred`.
    """
    y_pred = ops.convert_to_tensor(y_pred)
    # Not the input's own dtype: half precision would defeat the clips (see above).
    if ops.dtype(y_pred) != "float64":
        y_pred = ops.cast(y_pred, "float32")
    y_true = ops.cast(y_true, y_pred.dtype)
    true_shape, pred_shape = y_true.shape, y_pred.shape
    rank = len(pred_shape)
    if not -rank <= axis < rank:
        raise ValueError(
            "binary_focal: "
            f"axis={axis} is not an axis of y_pred, whose shape is {tuple(pred_shape)}"
        )
    if axis % rank != rank - 1:
        # Channels first (or any axis but the last): that axis goes last, where the
        # formula reduces.
        if len(true_shape) == rank:
            y_true = ops.moveaxis(y_true, axis, -1)
        y_pred = ops.moveaxis(y_pred, axis, -1)
    # A trailing axis of size 1 is dropped from the input of higher rank, or added to
    # a (batch,) input, so that (batch,) targets work with a Dense(1) head.
    true_rank, pred_rank = len(y_true.shape), len(y_pred.shape)
    if true_rank == pred_rank + 1 and y_true.shape[-1] == 1:
        if pred_rank == 1:
            y_pred = ops.expand_dims(y_pred, axis=-1)
        else:
            y_true = ops.squeeze(y_true, axis=-1)
    elif pred_rank == true_rank + 1 and y_pred.shape[-1] == 1:
        if true_rank == 1:
            y_true = ops.expand_dims(y_true, axis=-1)
        else:
            y_pred = ops.squeeze(y_pred, axis=-1)
    elif true_rank == pred_rank == 1:
        # Two (batch,) vectors: one value per sample, not one for the whole batch.
        y_true = ops.expand_dims(y_true, axis=-1)
        y_pred = ops.expand_dims(y_pred, axis=-1)
    fits = _fits(y_true.shape, y_pred.shape)
    if not fits:
        raise ValueError(
            "binary_focal expects y_true and y_pred of the same shape. "
            f"Received: y_true.shape={tuple(true_shape)}, "
            f"y_pred.shape={tuple(pred_shape)}"
        )
    return y_true, y_pred


def _fits(shape, expected):
    """Whether two shapes are equal wherever both are known (`None` is unknown)."""
    return len(shape) == len(expected) and all(
        a is None or b is None or a == b for a, b in zip(shape, expected, strict=True)
    )
