"""`confusion_matrix`: counts of true against predicted labels."""

import numpy as np


def confusion_matrix(labels, predictions, num_classes):
    """`matrix[true, predicted]` counts.

    Example:
    >>> confusion_matrix([0, 1, 1], [0, 1, 0], 2).tolist()
    [[1, 0], [1, 1]]
    """
    matrix = np.zeros((num_classes, num_classes), int)
    np.add.at(matrix, (np.asarray(labels), np.asarray(predictions)), 1)
    return matrix
