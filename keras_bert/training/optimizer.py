"""`create_optimizer`: BERT's AdamW (or LAMB) with warmup, decay and clipping."""

import keras

from keras_bert.training.warmup_linear_decay import WarmupLinearDecay

# LayerNorm scales/offsets and biases are not decayed (as in the original).
NO_WEIGHT_DECAY = ("gamma", "beta", "bias")


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
    global-norm gradient clipping. `optimizer="lamb"` gives Keras' LAMB with
    the same schedule, decay exclusions and clipping.

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
    ('AdamW', 1e-06, 1.0)
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
        result = keras.optimizers.AdamW(**kwargs)
    elif optimizer == "lamb":
        result = keras.optimizers.Lamb(**kwargs)
    else:
        raise ValueError(f"optimizer={optimizer!r} is not supported; use 'adamw' or 'lamb'.")
    result.exclude_from_weight_decay(var_names=list(NO_WEIGHT_DECAY))
    return result
