"""`create_optimizer`: BERT's AdamW (or LAMB) with warmup, decay and clipping."""

import keras
import tensorflow as tf

from keras_bert.private_apis import adam_slots, uses_weight_decay
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


class _ClipTheSummedGradient:
    """Clips the gradient summed over replicas by its global norm, as one device clips the whole batch's.

    Keras clips each replica's gradient before the all-reduce, so with
    several replicas (or workers) the update depends on how the batch was
    split and differs from one device's on the same global batch. Here the
    clip waits for the sum: the all-reduce, the clip, then the update.
    """

    def _clips_after_sum(self):
        return (bool(self.global_clipnorm) and not (self.clipnorm or self.clipvalue)
                and tf.distribute.get_strategy().num_replicas_in_sync > 1)

    def _clip_gradients(self, grads):
        return grads if self._clips_after_sum() else super()._clip_gradients(grads)

    def _backend_update_step(self, grads, trainable_variables, learning_rate):
        if not self._clips_after_sum():
            return super()._backend_update_step(grads, trainable_variables, learning_rate)
        # The TensorFlow backend's own update step, with the clip between its all-reduce and its update.
        variables = [v.value if isinstance(v, keras.Variable) else v for v in trainable_variables]
        summed = self._all_reduce_sum_gradients(list(zip(grads, variables)))
        present = [g for g, _ in summed if g is not None]
        clipped = iter(tf.clip_by_global_norm(present, self.global_clipnorm)[0])
        summed = [(None if g is None else next(clipped), v) for g, v in summed]
        tf.__internal__.distribute.interim.maybe_merge_call(
            self._distributed_tf_update_step, self._distribution_strategy, summed, learning_rate)


@tf.function(jit_compile=True)
def _adamw_kernel(variable, momentum, velocity, gradient, gradient_scale, learning_rate, weight_decay, beta_1, beta_2,
                  epsilon, step):
    """`torch.optim.AdamW`'s update of one variable, clipping scale included.

    XLA compiles it into one pass over the variable, its gradient and its
    moments; written as separate ops (clip multiply, decay, Adam) AdamW is
    several passes over memory (timings: reports/performance/kernels.md).
    The three state arguments are resource handles (`variable.handle`): under a
    distribution strategy those name the local replica's copy.
    """
    dtype = gradient.dtype
    gradient = gradient * gradient_scale
    m = beta_1 * tf.raw_ops.ReadVariableOp(resource=momentum, dtype=dtype) + (1 - beta_1) * gradient
    v = beta_2 * tf.raw_ops.ReadVariableOp(resource=velocity, dtype=dtype) + (1 - beta_2) * tf.square(gradient)
    value = tf.raw_ops.ReadVariableOp(resource=variable, dtype=dtype)
    denominator = tf.sqrt(v) / tf.sqrt(1 - beta_2**step) + epsilon
    value = value * (1 - learning_rate * weight_decay) - learning_rate / (1 - beta_1**step) * m / denominator
    tf.raw_ops.AssignVariableOp(resource=momentum, value=m)
    tf.raw_ops.AssignVariableOp(resource=velocity, value=v)
    tf.raw_ops.AssignVariableOp(resource=variable, value=value)


@keras.saving.register_keras_serializable(package="keras_bert")
class BertAdamW(_DenseGradients, _ClipTheSummedGradient, keras.optimizers.AdamW):
    """AdamW computed exactly as `torch.optim.AdamW`, with dense embedding updates.

    Keras' Adam adds epsilon to the uncorrected `sqrt(v)`; PyTorch (and so
    Hugging Face fine-tuning) adds it after bias correction:
    `p -= lr * m_hat / (sqrt(v_hat) + epsilon)`. Early in training, when
    `1 - beta_2**t` is small, the two differ; this class follows PyTorch.
    Decoupled weight decay is PyTorch's (`p *= 1 - lr * weight_decay`, before
    the Adam step), as in Keras. Built by `create_optimizer`.

    Each variable is updated by one XLA-fused kernel: gradient clipping
    scale, weight decay and the Adam step in a single pass over memory
    (reports/performance/kernels.md). With one
    replica the global-norm clip is folded into that kernel instead of
    rescaling every gradient first; with several, the summed gradient is
    clipped after the all-reduce, then updated.

    Example:
    >>> import numpy as np
    >>> optimizer = BertAdamW(learning_rate=0.1, weight_decay=0.0, epsilon=1e-6)
    >>> weights = keras.Variable([1.0, 1.0])
    >>> optimizer.apply([np.array([3.0, -4.0], "float32")], [weights])
    >>> [round(float(w), 4) for w in weights.numpy()]  # Adam's first step moves each by lr
    [0.9, 1.1]
    """

    # `_clip_gradients` and `_apply_weight_decay` are private Keras hooks
    # (listed, and checked, in `keras_bert.private_apis`).
    def _clip_gradients(self, grads):
        self._gradient_scale = None
        folded = self.global_clipnorm and not (self.clipnorm or self.clipvalue)
        if not folded or tf.distribute.get_strategy().num_replicas_in_sync > 1:
            return super()._clip_gradients(grads)
        # Keras' clip_by_global_norm, without writing the scaled gradients:
        # a non-finite norm makes the scale (and so the update) NaN, as there.
        norm = tf.linalg.global_norm([g for g in grads if g is not None])
        clip = tf.cast(self.global_clipnorm, norm.dtype)
        self._gradient_scale = clip * tf.minimum(1.0 / norm, 1.0 / clip) + (norm - norm)
        return grads

    def _apply_weight_decay(self, variables):
        pass  # in `update_step`'s fused kernel

    def update_step(self, gradient, variable, learning_rate):
        dtype = variable.dtype
        momentum, velocity = adam_slots(self, variable)
        decay = self.weight_decay if self.weight_decay and uses_weight_decay(self, variable) else 0.0
        scale = getattr(self, "_gradient_scale", None)
        _adamw_kernel(
            variable.handle,
            momentum.handle,
            velocity.handle,
            tf.cast(gradient, dtype),
            tf.cast(1.0 if scale is None else scale, dtype),
            tf.cast(learning_rate, dtype),
            tf.cast(decay, dtype),
            tf.cast(self.beta_1, dtype),
            tf.cast(self.beta_2, dtype),
            tf.cast(self.epsilon, dtype),
            tf.cast(self.iterations + 1, dtype),
        )


@keras.saving.register_keras_serializable(package="keras_bert")
class BertLamb(_DenseGradients, _ClipTheSummedGradient, keras.optimizers.Lamb):
    """LAMB as the paper (You et al., 2019, Algorithm 2) writes it, with dense embedding updates.

    Per variable: `r = m_hat / (sqrt(v_hat) + epsilon) + weight_decay * w`,
    then `w -= lr * (||w|| / ||r||) * r` (trust ratio 1 when either norm is
    0). Keras' `Lamb` decays outside the trust ratio instead; here the decay
    is part of `r`, as in the paper and TF Model Garden's LAMB. Variables
    excluded from weight decay (LayerNorm, biases) are excluded from the
    layer adaptation too (trust ratio 1), as there. Built by
    `create_optimizer(..., optimizer="lamb")`.

    Example:
    >>> import numpy as np
    >>> optimizer = BertLamb(learning_rate=0.1, weight_decay=0.0, epsilon=1e-6)
    >>> weights = keras.Variable([3.0, 4.0])
    >>> optimizer.apply([np.array([1.0, -1.0], "float32")], [weights])
    >>> [round(float(w), 2) for w in weights.numpy()]  # step of length lr * ||w|| = 0.5
    [2.65, 4.35]
    """

    # A private Keras hook (listed, and checked, in `keras_bert.private_apis`).
    def _apply_weight_decay(self, variables):
        pass  # inside the trust ratio, in `update_step`

    def update_step(self, gradient, variable, learning_rate):
        dtype = variable.dtype
        gradient = tf.cast(gradient, dtype)
        step = tf.cast(self.iterations + 1, dtype)
        beta_1, beta_2 = tf.cast(self.beta_1, dtype), tf.cast(self.beta_2, dtype)
        momentum, velocity = adam_slots(self, variable)
        momentum.assign(beta_1 * momentum + (1 - beta_1) * gradient)
        velocity.assign(beta_2 * velocity + (1 - beta_2) * tf.square(gradient))
        update = (momentum / (1 - beta_1**step)) / (tf.sqrt(velocity / (1 - beta_2**step)) + self.epsilon)
        if uses_weight_decay(self, variable):  # decayed and layer-adapted
            if self.weight_decay:
                update += tf.cast(self.weight_decay, dtype) * variable
            weight_norm, update_norm = tf.norm(variable), tf.norm(update)
            ratio = tf.where((weight_norm > 0) & (update_norm > 0), weight_norm / update_norm, 1.0)
        else:
            ratio = 1.0
        variable.assign_sub(tf.cast(learning_rate, dtype) * ratio * update)


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
