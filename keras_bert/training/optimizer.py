"""`create_optimizer`: BERT's AdamW (or LAMB) with warmup, decay and clipping."""

import keras
import tensorflow as tf

from keras_bert.training.warmup_linear_decay import WarmupLinearDecay

# LayerNorm scales/offsets and biases are not decayed (as in the original).
NO_WEIGHT_DECAY = ("gamma", "beta", "bias")


class _DenseGradients:
    """Applies embedding gradients densely, as the original BERT and PyTorch do.

    Embedding lookups give `tf.IndexedSlices` gradients, and Keras' Adam
    family then updates the moments of the looked-up rows only (a lazy
    Adam): rows absent from a batch keep stale moments, which the original
    optimizer and `torch.optim.AdamW` decay at every step. It also breaks
    gradient accumulation, which sums slices into a dense buffer.
    """

    def apply(self, grads, trainable_variables=None):
        grads = [tf.convert_to_tensor(g) if isinstance(g, tf.IndexedSlices) else g for g in grads]
        return super().apply(grads, trainable_variables)


@keras.saving.register_keras_serializable(package="keras_bert")
class BertAdamW(_DenseGradients, keras.optimizers.AdamW):
    """AdamW computed exactly as `torch.optim.AdamW`, with dense embedding updates.

    Keras' Adam adds epsilon to the uncorrected `sqrt(v)`; PyTorch (and so
    Hugging Face fine-tuning) adds it after bias correction:
    `p -= lr * m_hat / (sqrt(v_hat) + epsilon)`. Early in training, when
    `1 - beta_2**t` is small, the two differ; this class follows PyTorch.
    Decoupled weight decay is Keras' (`p -= lr * weight_decay * p`), which is
    PyTorch's too. Built by `create_optimizer`.
    """

    def update_step(self, gradient, variable, learning_rate):
        # One fused kernel instead of a dozen elementwise passes over each
        # variable and its moments (AdamW is memory-bound: 20% of a BERT-Base
        # step before). ResourceApplyAdam adds epsilon to the uncorrected
        # sqrt(v) with lr_t = lr * sqrt(c2) / c1, so PyTorch's
        # `lr / c1 * m / (sqrt(v / c2) + epsilon)` is it with
        # epsilon * sqrt(c2) in place of epsilon.
        dtype = variable.dtype
        step = tf.cast(self.iterations + 1, dtype)
        beta_1_power = tf.pow(tf.cast(self.beta_1, dtype), step)
        beta_2_power = tf.pow(tf.cast(self.beta_2, dtype), step)
        index = self._get_variable_index(variable)
        tf.raw_ops.ResourceApplyAdam(
            var=variable.handle,
            m=self._momentums[index].handle,
            v=self._velocities[index].handle,
            beta1_power=beta_1_power,
            beta2_power=beta_2_power,
            lr=tf.cast(learning_rate, dtype),
            beta1=tf.cast(self.beta_1, dtype),
            beta2=tf.cast(self.beta_2, dtype),
            epsilon=tf.cast(self.epsilon, dtype) * tf.sqrt(1 - beta_2_power),
            grad=tf.cast(gradient, dtype),
        )


@keras.saving.register_keras_serializable(package="keras_bert")
class BertLamb(_DenseGradients, keras.optimizers.Lamb):
    """`keras.optimizers.Lamb` with dense embedding updates (see `create_optimizer`)."""


def create_optimizer(
    learning_rate,
    total_steps,
    warmup_steps=0,
    weight_decay=0.01,
    optimizer="adamw",
    clipnorm=1.0,
    gradient_accumulation_steps=1,
):
    """The optimizer BERT is trained and fine-tuned with.

    AdamW (beta 0.9 / 0.999, epsilon 1e-6, decoupled weight decay not applied
    to LayerNorm parameters or biases), the `WarmupLinearDecay` schedule and
    global-norm gradient clipping. `optimizer="lamb"` gives LAMB with the same
    schedule, decay exclusions and clipping. Embedding rows are updated
    densely at every step, as in the original (Keras' own Adam would update
    only the rows a batch looked up).

    Args:
        learning_rate: float. Peak learning rate.
        total_steps: int. Optimizer steps of the whole run.
        warmup_steps: int. Linear warmup steps.
        weight_decay: float. Defaults to `0.01`.
        optimizer: `"adamw"` or `"lamb"`.
        clipnorm: float or None. Global gradient-norm clip. Defaults to `1.0`.
        gradient_accumulation_steps: int. Average the gradients of this many
            batches before each update (Keras' own accumulation; clipping and
            the update apply to the average). `total_steps` and
            `warmup_steps` count updates. Defaults to `1`.

    Returns:
        A `keras.optimizers.Optimizer`.

    Example:
    >>> opt = create_optimizer(5e-5, total_steps=100, warmup_steps=10)
    >>> type(opt).__name__, opt.epsilon, opt.global_clipnorm
    ('BertAdamW', 1e-06, 1.0)
    """
    schedule = WarmupLinearDecay(learning_rate, total_steps, warmup_steps, gradient_accumulation_steps)
    kwargs = dict(
        learning_rate=schedule,
        weight_decay=weight_decay,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-6,
        global_clipnorm=clipnorm,
        gradient_accumulation_steps=gradient_accumulation_steps if gradient_accumulation_steps > 1 else None,
    )
    if optimizer == "adamw":
        result = BertAdamW(**kwargs)
    elif optimizer == "lamb":
        result = BertLamb(**kwargs)
    else:
        raise ValueError(f"optimizer={optimizer!r} is not supported; use 'adamw' or 'lamb'.")
    result.exclude_from_weight_decay(var_names=list(NO_WEIGHT_DECAY))
    return result
