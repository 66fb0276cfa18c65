"""`TrainingSteps`: how long a fine-tuning run is, in optimizer steps, from examples, batch size and epochs."""

import dataclasses
import math


@dataclasses.dataclass(frozen=True)
class TrainingSteps:
    """How long a fine-tuning run is, in optimizer steps.

    Attributes:
        steps_per_epoch: batches in one pass over the data.
        total_steps: steps of the whole run (at least 1).
        warmup_steps: steps of linear warmup.
        epochs: Keras epochs to run (fractions of an epoch round up).

    Example:
    >>> import dataclasses
    >>> steps = training_steps(num_examples=100, batch_size=16, num_epochs=3, warmup_proportion=0.1)
    >>> steps.steps_per_epoch, steps.total_steps, steps.warmup_steps, steps.epochs
    (7, 21, 2, 3)
    >>> dataclasses.replace(steps, total_steps=2)  # frozen: a short smoke run is a copy
    TrainingSteps(steps_per_epoch=7, total_steps=2, warmup_steps=2, epochs=3)
    """

    steps_per_epoch: int
    total_steps: int
    warmup_steps: int
    epochs: int


def training_steps(num_examples, batch_size, num_epochs, warmup_proportion):
    """The `TrainingSteps` of `num_epochs` (fractions allowed) over `num_examples`.

    Example:
    >>> training_steps(1000, 32, 1.5, 0.1)
    TrainingSteps(steps_per_epoch=32, total_steps=48, warmup_steps=4, epochs=2)
    """
    steps_per_epoch = math.ceil(num_examples / batch_size)
    total_steps = max(1, int(steps_per_epoch * num_epochs))
    return TrainingSteps(steps_per_epoch, total_steps, int(total_steps * warmup_proportion), math.ceil(num_epochs))

