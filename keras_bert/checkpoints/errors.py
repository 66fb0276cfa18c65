"""The error raised for checkpoints that do not fit."""


class CheckpointError(ValueError):
    """A checkpoint is unreadable, incomplete, or made for another model shape.

    The message names the file or variable, what was expected, what was found
    and how to fix it.
    """
