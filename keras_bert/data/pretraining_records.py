"""`make_pretraining_records`: tokenized documents -> pretraining instance TFRecords, in one call.

Both examples/create_pretraining_data.py and examples/run_pretraining.py (given
text) make their records here, so the two cannot pair, truncate or write
sentences differently.
"""

import os

from keras_bert.data.pretraining_data import create_instances, write_instances


def make_pretraining_records(documents, tokenizer, output_files, max_seq_length, short_seq_prob=0.1, dupe_factor=1,
                             seed=12345, masking=None, show_progress=False):
    """Pairs `documents` into instances (`create_instances`) and writes them (`write_instances`).

    Each file is written under a temporary name and renamed when complete,
    so a killed run never leaves half a file behind.

    Args:
        documents: from `read_documents` or `read_tfds_documents`.
        tokenizer: the `BertTokenizer` that made them (for `[CLS]` and `[SEP]`).
        output_files: list of TFRecord paths; instances go round-robin.
        max_seq_length: int. Length of `[CLS] A [SEP] B [SEP]` at most, and
            of the padded records.
        short_seq_prob: float. Probability of a shorter target length.
        dupe_factor: int. Passes over the corpus (each with other pairs).
        seed: int.
        masking: optional `MaskingOptions`, to draw static masks now.
        show_progress: bool. A progress bar over the documents.

    Returns:
        The list of `PretrainingInstance` written.

    Example:
    >>> import tempfile
    >>> import numpy as np
    >>> from keras_bert.text.bert_tokenizer import BertTokenizer
    >>> folder = tempfile.mkdtemp()
    >>> vocab = os.path.join(folder, "vocab.txt")
    >>> _ = open(vocab, "w").write("\\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "b", "c"]))
    >>> documents = [[np.array([5, 6]), np.array([7])], [np.array([6, 7, 5])]]
    >>> path = os.path.join(folder, "instances.tfrecord")
    >>> instances = make_pretraining_records(documents, BertTokenizer(vocab), [path], 8, seed=1)
    >>> [i.input_ids for i in instances]
    [[2, 7, 3, 6, 7, 5, 3], [2, 5, 6, 3, 6, 7, 5, 3]]
    >>> sorted(os.listdir(folder))  # no .tmp file left
    ['instances.tfrecord', 'vocab.txt']
    """
    instances = create_instances(
        documents, max_seq_length, tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]"),
        short_seq_prob, dupe_factor, seed, show_progress=show_progress,
    )
    partial = [path + ".tmp" for path in output_files]
    write_instances(instances, partial, max_seq_length, masking)
    for path, final in zip(partial, output_files):
        os.replace(path, final)
    return instances
