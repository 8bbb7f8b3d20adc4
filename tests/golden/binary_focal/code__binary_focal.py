"""Binary focal crossentropy.

The function, factory and subclass forms of the `binary_focal` loss, generated
by lossgen from its spec. Edit the spec and regenerate rather than editing this
file.
"""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="lossgen")
def binary_focal(y_true, y_pred, *, gamma=2.0, alpha=0.25, from_logits=False):
    """Binary focal crossentropy.

    Binary crossentropy multiplied by (1 - p_t)^gamma, which shrinks the loss of
    examples the model already gets right, so that training concentrates on the
    hard ones; alpha balances positives against negatives. For heavily
    imbalanced binary or multi-label problems such as dense object detection.

    Args:
        y_true: Binary targets (0 or 1), shape `(batch, d)`.
        y_pred: Predicted probabilities in [0, 1], shape `(batch, d)`. Logits
            when `from_logits` is true.
        gamma: Focusing strength; 0 gives alpha-weighted crossentropy. Default
            2.0; allowed >= 0.0.
        alpha: Weight of the positive class; negatives get 1 - alpha. Default
            0.25; allowed [0.0, 1.0].
        from_logits: Whether y_pred holds logits instead of probabilities.
            Default False.

    Returns:
        One loss value per sample: a tensor shaped like `y_pred` without its last
        axis, so that `sample_weight` and the loss reduction work as usual.
    """
    y_pred = ops.convert_to_tensor(y_pred)
    y_pred = ops.cast(y_pred, keras.backend.result_type(y_pred.dtype, "float32"))
    y_true = ops.cast(y_true, y_pred.dtype)
    p = ops.sigmoid(y_pred) if from_logits else y_pred
    q = ops.clip(p, keras.config.epsilon(), 1 - keras.config.epsilon())
    bce = (
        ops.softplus(y_pred) - y_pred * y_true
        if from_logits
        else -(y_true * ops.log(q) + (1 - y_true) * ops.log(1 - q))
    )
    p_t = y_true * p + (1 - y_true) * (1 - p)
    alpha_t = y_true * alpha + (1 - y_true) * (1 - alpha)
    return ops.mean(alpha_t * ops.power(1 - p_t, gamma) * bce, axis=-1)


def make_binary_focal(*, gamma=2.0, alpha=0.25, from_logits=False):
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

    Returns:
        A loss function `(y_true, y_pred) -> one value per sample`.
    """
    gamma = float(gamma)
    alpha = float(alpha)
    from_logits = bool(from_logits)

    def binary_focal_loss(y_true, y_pred):
        return binary_focal(
            y_true, y_pred, gamma=gamma, alpha=alpha, from_logits=from_logits
        )

    registered_name = (
        "make_binary_focal("
        f"gamma={gamma!r}, "
        f"alpha={alpha!r}, "
        f"from_logits={from_logits!r})"
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
        reduction="sum_over_batch_size",
        name="binary_focal",
        dtype=None,
    ):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.gamma = float(gamma)
        self.alpha = float(alpha)
        self.from_logits = bool(from_logits)

    def call(self, y_true, y_pred):
        return binary_focal(
            y_true,
            y_pred,
            gamma=self.gamma,
            alpha=self.alpha,
            from_logits=self.from_logits,
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "gamma": self.gamma,
                "alpha": self.alpha,
                "from_logits": self.from_logits,
            }
        )
        return config
