"""Predicting unlabelled (test) examples with a fine-tuned classifier, and writing them for the GLUE leaderboard."""

import os

from keras_bert.data.classification_dataset import classification_dataset
from keras_bert.data.glue import GLUE_TASKS
from keras_bert.data.glue_submission import leaderboard_file_name, write_predictions_tsv
from keras_bert.training.prediction import predict_classifier


def predict_unlabelled(classifier, examples, preprocessor, batch_size):
    """The classifier's predictions for examples with or without labels.

    Args:
        classifier: a `BertClassifier`.
        examples: `GlueExamples`; `labels` may be None (a test file).
        preprocessor: the `BertPreprocessor` the classifier was trained with.
        batch_size: int.

    Returns:
        numpy `(examples,)`: int64 label ids, or float32 scores when the
        classifier has one output (regression).

    Example:
    >>> import os, tempfile
    >>> from keras_bert import BertClassifier, BertEncoder
    >>> from keras_bert.data.glue import GlueExamples
    >>> from keras_bert.text import BertPreprocessor
    >>> vocab = os.path.join(tempfile.mkdtemp(), "vocab.txt")
    >>> _ = open(vocab, "w").write("\\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "fine", "dull"]))
    >>> encoder = BertEncoder(vocab_size=7, hidden_size=8, num_layers=1, num_attention_heads=2, intermediate_size=12)
    >>> test = GlueExamples(["fine", "dull", "fine dull"], None, None, ("0", "1"), "test.tsv", ids=["0", "1", "2"])
    >>> predictions = predict_unlabelled(BertClassifier(encoder, num_classes=2), test, BertPreprocessor(vocab, 8), 2)
    >>> predictions.shape, predictions.dtype
    ((3,), dtype('int64'))
    """
    _, predictions, _ = predict_classifier(classifier, classification_dataset(examples, preprocessor, batch_size))
    return predictions


def write_test_predictions(classifier, preprocessor, test_sets, task, output_dir, batch_size, label_names=None):
    """Predicts each test set and writes it as `index<TAB>prediction` rows in `output_dir`.

    GLUE tasks get the leaderboard's file names (`CoLA.tsv`, `MNLI-m.tsv`,
    `MNLI-mm.tsv`, `AX.tsv`, ... see `leaderboard_file_name`), label names
    as the task's files write them and STS-B scores clipped to [0, 5]; any
    other task (e.g. `"csv"`) writes `{test file stem}_predictions.tsv`
    with the label names themselves.

    Args:
        classifier: a `BertClassifier`.
        preprocessor: the `BertPreprocessor` it was trained with.
        test_sets: `{test set name: GlueExamples}`, e.g. from
            `read_glue_split(task, data_dir, "test")`; examples need `ids`
            (GLUE test files have them; `read_labelled_csv` numbers rows).
        task: a GLUE task name, or any other name for a non-GLUE task.
        output_dir: str, an existing directory.
        batch_size: int.
        label_names: the classifier's label strings in id order (by default
            each test set's own); () for regression.

    Returns:
        `{test set name: path written}`.

    Example:
    >>> import os, tempfile
    >>> from keras_bert import BertClassifier, BertEncoder
    >>> from keras_bert.data.glue import GlueExamples
    >>> from keras_bert.text import BertPreprocessor
    >>> folder = tempfile.mkdtemp()
    >>> vocab = os.path.join(folder, "vocab.txt")
    >>> _ = open(vocab, "w").write("\\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "it", "rains"]))
    >>> encoder = BertEncoder(vocab_size=7, hidden_size=8, num_layers=1, num_attention_heads=2, intermediate_size=12)
    >>> labels = ("contradiction", "entailment", "neutral")
    >>> test_sets = {name: GlueExamples(["it rains"], ["it"], None, labels, name, ids=["0"])
    ...              for name in ("test_matched.tsv", "test_mismatched.tsv")}
    >>> written = write_test_predictions(BertClassifier(encoder, num_classes=3), BertPreprocessor(vocab, 8),
    ...                                  test_sets, "mnli", folder, batch_size=8)
    >>> {name: os.path.basename(path) for name, path in written.items()}
    {'test_matched.tsv': 'MNLI-m.tsv', 'test_mismatched.tsv': 'MNLI-mm.tsv'}
    >>> open(written["test_matched.tsv"]).read().split("\\n")[0]
    'index\\tprediction'
    """
    written = {}
    for name, examples in test_sets.items():
        if examples.ids is None:
            raise ValueError(f"{examples.source}: no ids to key the predictions by; read test files with "
                             "read_glue_split(..., 'test') or read_labelled_csv.")
        if task in GLUE_TASKS:
            file_name = leaderboard_file_name(task, name)
        else:
            file_name = os.path.splitext(os.path.basename(name))[0] + "_predictions.tsv"
        predictions = predict_unlabelled(classifier, examples, preprocessor, batch_size)
        names = examples.label_names if label_names is None else label_names
        written[name] = write_predictions_tsv(os.path.join(output_dir, file_name), examples.ids, predictions, names,
                                              task if task in GLUE_TASKS else None)
    return written
