"""Pretraining instance TFRecords: `write_instances`, and `make_pretraining_records` (documents -> records).

Both examples/create_pretraining_data.py and examples/run_pretraining.py (given
text) make their records here, so the two cannot pair, truncate or write
sentences differently.
"""

import os

import numpy as np
import tensorflow as tf

from keras_bert.data.pretraining_data import create_instances, create_packed_instances


def make_pretraining_records(documents, tokenizer, output_files, max_seq_length, short_seq_prob=0.1, dupe_factor=1,
                             seed=12345, masking=None, show_progress=False, packed=False):
    """Pairs `documents` into instances (`create_instances`) and writes them (`write_instances`).

    With `packed=True` the instances are full single-segment windows
    instead (`create_packed_instances`), for masked-LM-only pretraining.

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
        packed: bool. Full windows of the concatenated text, no pairs.

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
    cls_id, sep_id = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    if packed:
        instances = create_packed_instances(documents, max_seq_length, cls_id, sep_id, dupe_factor, seed)
    else:
        instances = create_instances(documents, max_seq_length, cls_id, sep_id, short_seq_prob, dupe_factor, seed,
                                     show_progress=show_progress)
    partial = [path + ".tmp" for path in output_files]
    write_instances(instances, partial, max_seq_length, masking)
    for path, final in zip(partial, output_files):
        os.replace(path, final)
    return instances


def _int_feature(values):
    return tf.train.Feature(int64_list=tf.train.Int64List(value=list(values)))


def _float_feature(values):
    return tf.train.Feature(float_list=tf.train.FloatList(value=list(values)))


def write_instances(instances, output_files, max_seq_length, masking=None, batch_size=1024):
    """Writes instances round-robin over `output_files` as padded TFRecords.

    Features (the original names): `input_ids`, `input_mask`, `segment_ids`
    (int64 `[max_seq_length]`) and `next_sentence_labels` (`[1]`). Without
    `masking`, masks are drawn later, afresh on every read
    (`pretraining_dataset`). With a `MaskingOptions`, masks are drawn once
    here (static masking, as the original) and `masked_lm_positions`,
    `masked_lm_ids`, `masked_lm_weights` are written too.

    Args:
        instances: list of `PretrainingInstance`.
        output_files: list of TFRecord paths.
        max_seq_length: int. Records are padded with 0 to this length.
        masking: optional `MaskingOptions`, for static masks.
        batch_size: int. Instances masked at a time.

    Returns:
        The number of records written.

    Example:
    >>> import tempfile
    >>> from keras_bert.data.pretraining_data import IS_NEXT, PretrainingInstance
    >>> path = os.path.join(tempfile.mkdtemp(), "instances.tfrecord")
    >>> write_instances([PretrainingInstance([2, 7, 3, 8, 3], [0, 0, 0, 1, 1], IS_NEXT)] * 3, [path], 6)
    3
    >>> record = tf.train.Example.FromString(next(iter(tf.data.TFRecordDataset(path))).numpy()).features.feature
    >>> [list(record[name].int64_list.value) for name in ("input_ids", "segment_ids", "next_sentence_labels")]
    [[2, 7, 3, 8, 3, 0], [0, 0, 0, 1, 1, 0], [0]]
    """
    writers = [tf.io.TFRecordWriter(path) for path in output_files]
    try:
        for start in range(0, len(instances), batch_size):
            batch = instances[start:start + batch_size]
            ids = np.zeros((len(batch), max_seq_length), np.int32)
            segments, masks = np.zeros_like(ids), np.zeros_like(ids)
            continuation = np.zeros(ids.shape, bool)
            for row, instance in enumerate(batch):
                if len(instance.input_ids) > max_seq_length:
                    raise ValueError(f"An instance of length {len(instance.input_ids)} exceeds {max_seq_length}.")
                ids[row, :len(instance.input_ids)] = instance.input_ids
                segments[row, :len(instance.segment_ids)] = instance.segment_ids
                masks[row, :len(instance.input_ids)] = 1
                if instance.is_continuation is not None:
                    continuation[row, :len(instance.is_continuation)] = instance.is_continuation
            masked = None
            if masking:
                flags = tf.constant(continuation) if continuation.any() else None
                masked = {k: v.numpy() for k, v in masking.mask(tf.constant(ids), flags).items()}
            for row, instance in enumerate(batch):
                feature = {
                    "input_ids": _int_feature((masked["input_word_ids"] if masked else ids)[row]),
                    "input_mask": _int_feature(masks[row]),
                    "segment_ids": _int_feature(segments[row]),
                    "next_sentence_labels": _int_feature([instance.next_sentence_label]),
                }
                if instance.is_continuation is not None:
                    flags = np.zeros(max_seq_length, np.int64)
                    flags[:len(instance.is_continuation)] = instance.is_continuation
                    feature["is_continuation"] = _int_feature(flags)
                if masked:
                    feature["masked_lm_positions"] = _int_feature(masked["masked_lm_positions"][row])
                    feature["masked_lm_ids"] = _int_feature(masked["masked_lm_ids"][row])
                    feature["masked_lm_weights"] = _float_feature(masked["masked_lm_weights"][row])
                example = tf.train.Example(features=tf.train.Features(feature=feature))
                writers[(start + row) % len(writers)].write(example.SerializeToString(deterministic=True))
    finally:
        for writer in writers:
            writer.close()
    return len(instances)
