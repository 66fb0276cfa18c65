"""The error raised for checkpoints that do not fit."""


class CheckpointError(ValueError):
    """A checkpoint is unreadable, incomplete, or made for another model shape.

    The message names the file or variable, what was expected, what was found
    and how to fix it. A `ValueError`, so callers catching that still work.

    Example:
    >>> import os
    >>> import tempfile
    >>> from keras_bert import read_checkpoint
    >>> directory = tempfile.mkdtemp()
    >>> _ = open(os.path.join(directory, "notes.txt"), "w").write("not a checkpoint")
    >>> read_checkpoint(directory)
    Traceback (most recent call last):
    ...
    keras_bert.checkpoints.errors.CheckpointError: Unknown checkpoint layout in '...' (it holds ['notes.txt']). ...
    >>> issubclass(CheckpointError, ValueError)
    True
    """
