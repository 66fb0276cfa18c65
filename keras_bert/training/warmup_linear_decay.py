"""`WarmupLinearDecay`: BERT's learning-rate schedule."""

import keras


@keras.saving.register_keras_serializable(package="keras_bert")
class WarmupLinearDecay(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warmup from 0 to `learning_rate`, then linear decay to 0.

    `lr(step) = learning_rate * step / warmup_steps` while
    `step < warmup_steps`, then
    `learning_rate * (total_steps - step) / (total_steps - warmup_steps)`,
    never below 0. The first update (step 0) uses 0, as in the original BERT
    and Hugging Face's `get_linear_schedule_with_warmup`.

    Args:
        learning_rate: float. Peak rate, reached at `warmup_steps`.
        total_steps: int. Step at which the rate reaches 0.
        warmup_steps: int. Defaults to `0`.
        gradient_accumulation_steps: int. Keras counts every micro-batch when
            gradients are accumulated; the count is divided by this so the
            rate follows optimizer updates. Defaults to `1`.

    Example:
    >>> schedule = WarmupLinearDecay(1.0, total_steps=10, warmup_steps=2)
    >>> [round(float(schedule(step)), 3) for step in (0, 1, 2, 6, 10, 12)]
    [0.0, 0.5, 1.0, 0.5, 0.0, 0.0]
    """

    def __init__(self, learning_rate, total_steps, warmup_steps=0, gradient_accumulation_steps=1):
        if total_steps < 1 or not 0 <= warmup_steps <= total_steps:
            raise ValueError(
                f"Need 0 <= warmup_steps <= total_steps and total_steps >= 1; got "
                f"warmup_steps={warmup_steps}, total_steps={total_steps}."
            )
        self.learning_rate = learning_rate
        self.total_steps = total_steps
        self.warmup_steps = warmup_steps
        self.gradient_accumulation_steps = gradient_accumulation_steps

    def __call__(self, step):
        step = keras.ops.cast(keras.ops.floor_divide(step, self.gradient_accumulation_steps), "float32")
        warmup = step / max(self.warmup_steps, 1)
        decay = (self.total_steps - step) / max(self.total_steps - self.warmup_steps, 1)
        factor = keras.ops.where(step < self.warmup_steps, warmup, decay)
        return self.learning_rate * keras.ops.maximum(factor, 0.0)

    def get_config(self):
        return {
            "learning_rate": self.learning_rate,
            "total_steps": self.total_steps,
            "warmup_steps": self.warmup_steps,
            "gradient_accumulation_steps": self.gradient_accumulation_steps,
        }
