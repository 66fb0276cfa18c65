"""`pretraining_dataset`: TFRecords of instances -> masked batches for `BertPretrainer`."""

import dataclasses

import tensorflow as tf
from google.protobuf.message import DecodeError

from keras_bert.text.masking import mask_tokens, next_token_targets
from keras_bert.text.vocab import load_vocab, special_token_ids

# Written by google-research/bert's create_pretraining_data.py with static masks.
STATIC_MASK_FEATURES = ("masked_lm_positions", "masked_lm_ids", "masked_lm_weights")
# Records keep google-research/bert's names (its files stay readable); parsing renames them to the model's.
_RECORD_TO_INPUT_NAMES = {"input_ids": "input_word_ids", "segment_ids": "input_type_ids"}


@dataclasses.dataclass(frozen=True)
class MaskingOptions:
    """What dynamic masking needs to know of the vocabulary, and its rates.

    `objective="ltr"` replaces masking by left-to-right targets on the same
    budget (`next_token_targets`), for a causal encoder.

    Build it with `MaskingOptions.from_vocab_file(path, ...)`.

    Example:
    >>> import tempfile
    >>> vocab = tempfile.mktemp()
    >>> _ = open(vocab, "w").write("\\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "play", "##ing"]))
    >>> options = MaskingOptions.from_vocab_file(vocab, max_predictions_per_seq=2)
    >>> options.mask_id, options.special_ids, options.continuation_ids
    (4, (0, 2, 3), (6,))
    """

    vocab_size: int
    mask_id: int
    special_ids: tuple
    continuation_ids: tuple  # ids of `##` pieces, for whole-word masking
    max_predictions_per_seq: int = 20
    masked_lm_prob: float = 0.15
    mask_token_rate: float = 0.8
    random_token_rate: float = 0.1
    whole_word_masking: bool = False
    objective: str = "mlm"  # or "ltr": next-token targets, no corruption (`next_token_targets`)

    def __post_init__(self):
        if self.objective not in ("mlm", "ltr"):
            raise ValueError(f"objective={self.objective!r} is not supported; use 'mlm' or 'ltr'.")
        rates = (self.mask_token_rate, self.random_token_rate)
        if min(rates) < 0 or sum(rates) > 1:
            raise ValueError(
                f"mask_token_rate={self.mask_token_rate} and random_token_rate={self.random_token_rate} "
                "must be non-negative and sum to at most 1 (the rest stay unchanged)."
            )

    @classmethod
    def from_vocab_file(cls, vocab_file, **kwargs):
        vocab = load_vocab(vocab_file)
        mask_id, *special_ids = special_token_ids(
            vocab, ("[MASK]", "[PAD]", "[CLS]", "[SEP]"), vocab_file, "masked-LM pretraining"
        )
        return cls(
            vocab_size=len(vocab),
            mask_id=mask_id,
            special_ids=tuple(special_ids),
            continuation_ids=tuple(i for i, t in enumerate(vocab) if t.startswith("##")),
            **kwargs,
        )

    def mask(self, input_word_ids, is_continuation=None, seed=None):
        """`mask_tokens` (or `next_token_targets`) with these options on an int32 `(batch, seq_length)` batch.

        With whole-word masking, words are the given `is_continuation` flags
        (from word-segmented text), else a piece and its `##` pieces. `seed`:
        optional int `(2,)` tensor for stateless (replayable) draws.
        """
        if self.objective == "ltr":  # nothing is masked, so words do not matter
            return next_token_targets(
                input_word_ids, self.special_ids, self.max_predictions_per_seq, self.masked_lm_prob, seed=seed
            )
        if not self.whole_word_masking:
            is_continuation = None
        elif is_continuation is None:
            table = tf.scatter_nd(
                tf.constant(self.continuation_ids, tf.int32)[:, None],
                tf.ones([len(self.continuation_ids)], tf.bool),
                [self.vocab_size],
            )
            is_continuation = tf.gather(table, input_word_ids)
        return mask_tokens(
            input_word_ids,
            self.vocab_size,
            self.mask_id,
            self.special_ids,
            self.max_predictions_per_seq,
            self.masked_lm_prob,
            self.mask_token_rate,
            self.random_token_rate,
            is_continuation=is_continuation,
            seed=seed,
        )


def record_layout(path):
    """`(seq_length, feature_names)` of the first record in a TFRecord file.

    Raises:
        ValueError: naming the file, if it is no TFRecord file (random
            bytes, a truncated header), holds no records or no pretraining
            instances.

    Example:
    >>> import os, tempfile
    >>> from keras_bert.data.pretraining_data import PretrainingInstance
    >>> from keras_bert.data.pretraining_records import write_instances
    >>> path = os.path.join(tempfile.mkdtemp(), "instances.tfrecord")
    >>> _ = write_instances([PretrainingInstance([2, 7, 3, 8, 3], [0, 0, 0, 1, 1], 0)], [path], max_seq_length=8)
    >>> seq_length, names = record_layout(path)
    >>> seq_length, sorted(names)
    (8, ['input_ids', 'input_mask', 'next_sentence_labels', 'segment_ids'])
    """
    try:
        first = [raw.numpy() for raw in tf.data.TFRecordDataset(path).take(1)]
        features = tf.train.Example.FromString(first[0]).features.feature if first else None
    except (tf.errors.DataLossError, tf.errors.InvalidArgumentError, DecodeError) as e:
        reason = e.message.splitlines()[0] if isinstance(e, tf.errors.OpError) else f"not a tf.train.Example: {e}"
        raise ValueError(
            f"{path} is not a readable TFRecord file of pretraining instances ({reason}); make it with "
            "examples/create_pretraining_data.py, or leave it out of the input files."
        ) from None
    if features is not None:
        if "input_ids" not in features or "next_sentence_labels" not in features:
            raise ValueError(
                f"{path} does not hold pretraining instances (features {sorted(features)}); "
                "make them with examples/create_pretraining_data.py."
            )
        return len(features["input_ids"].int64_list.value), set(features)
    raise ValueError(f"{path} holds no records; it may be empty or still being written.")


def check_records(files, max_seq_length, vocab_size):
    """Reads every record of every instance file once; returns how many there are.

    Catches before training what would otherwise stop it hours in, or
    silently train on garbage: a truncated or corrupt file (the TFRecord
    checksums), a file of another sequence length, and token ids that do
    not fit the vocabulary (instances made with another vocab file).

    Args:
        files: list of TFRecord paths.
        max_seq_length: int. The records' length.
        vocab_size: int. Ids must be below it.

    Raises:
        ValueError: naming the file, what is wrong and the fix.

    Example:
    >>> import tempfile
    >>> from keras_bert.data.pretraining_data import PretrainingInstance
    >>> from keras_bert.data.pretraining_records import write_instances
    >>> path = tempfile.mktemp(suffix=".tfrecord")
    >>> _ = write_instances([PretrainingInstance([2, 7, 8, 3, 9, 3], [0, 0, 0, 0, 1, 1], 0)] * 4, [path], 8)
    >>> check_records([path], max_seq_length=8, vocab_size=10)
    4
    >>> check_records([path], max_seq_length=8, vocab_size=9)
    Traceback (most recent call last):
    ...
    ValueError: ... holds token id 9, but the vocabulary has 9 tokens: ...
    """
    total = 0
    spec = {"input_ids": tf.io.FixedLenFeature([max_seq_length], tf.int64)}
    for path in files:
        seq_length, _ = record_layout(path)
        if seq_length != max_seq_length:
            raise ValueError(
                f"{path} holds instances of length {seq_length}, not max_seq_length={max_seq_length}; "
                "pass files of one length, or remake them."
            )
        records = tf.data.TFRecordDataset(path, buffer_size=1 << 22).batch(1024)
        ids = records.map(lambda batch: tf.io.parse_example(batch, spec)["input_ids"],
                          num_parallel_calls=tf.data.AUTOTUNE)
        try:
            count, max_id = ids.reduce(
                (tf.constant(0, tf.int64), tf.constant(0, tf.int64)),
                lambda state, batch: (state[0] + tf.shape(batch, tf.int64)[0],
                                      tf.maximum(state[1], tf.reduce_max(batch))),
            )
        except (tf.errors.DataLossError, tf.errors.InvalidArgumentError) as e:
            raise ValueError(
                f"{path} is truncated or corrupt ({e.message.splitlines()[0]}); remake it with "
                "examples/create_pretraining_data.py, or leave it out of the input files."
            ) from None
        if max_id >= vocab_size:
            raise ValueError(
                f"{path} holds token id {int(max_id)}, but the vocabulary has {vocab_size} tokens: it was made "
                "with another vocab file. Remake it with this one, or pass the vocab file it was made with."
            )
        total += int(count)
    return total


def pretraining_dataset(
    files,
    batch_size,
    max_seq_length,
    masking,
    training=True,
    seed=None,
    skip_batches=0,
    shuffle_buffer=10000,
):
    """Batches of `(inputs, labels, weights)` for `BertPretrainer` from instance TFRecords.

    Records without masks (ours, or the original's with `dupe_factor`
    replaced by repetition) are masked afresh each time they are read
    (dynamic masking); records with the original's static masks are used
    as they are. Records from word-segmented text carry `is_continuation`,
    which whole-word masking then uses for word boundaries.

    Args:
        files: list of TFRecord paths.
        batch_size: int. Global batch size.
        max_seq_length: int. Must equal the records' length.
        masking: `MaskingOptions`.
        training: bool. Shuffle (seeded) and repeat forever; else one pass.
        seed: optional int (None: 0) for the shuffle and the masks. A
            batch's masks are drawn statelessly from the seed and the
            batch's index in the stream, so a resumed run masks its batches
            as the unbroken run did, whatever the number of workers.
        skip_batches: int. Batches to skip, to resume a run where it stopped.
        shuffle_buffer: int.

    Returns:
        A `tf.data.Dataset` of `(inputs, labels, weights)`. `inputs`:
        `input_word_ids`, `input_mask`, `input_type_ids` (int32
        `(batch, max_seq_length)`), `masked_lm_positions` (int32
        `(batch, max_predictions_per_seq)`). `labels`: `mlm`, the original
        ids at those positions, and `nsp`, the next-sentence labels (int32
        `(batch,)`). `weights`: `mlm`, 1.0 for real predictions and 0.0 for
        padding slots, and `nsp`, ones.

    Example:
    >>> import tempfile
    >>> from keras_bert.data.pretraining_data import PretrainingInstance
    >>> from keras_bert.data.pretraining_records import write_instances
    >>> path = tempfile.mktemp(suffix=".tfrecord")
    >>> _ = write_instances([PretrainingInstance([2, 7, 8, 3, 9, 3], [0, 0, 0, 0, 1, 1], 0)] * 4, [path], 8)
    >>> masking = MaskingOptions(vocab_size=10, mask_id=4, special_ids=(0, 2, 3), continuation_ids=(),
    ...                          max_predictions_per_seq=2)
    >>> inputs, labels, weights = next(iter(pretraining_dataset([path], 4, 8, masking, training=False)))
    >>> tuple(inputs["input_word_ids"].shape), tuple(inputs["masked_lm_positions"].shape)
    ((4, 8), (4, 2))
    >>> weights["mlm"].numpy()[0].tolist()  # round(0.15 * 3 maskable) = 0, raised to 1
    [1.0, 0.0]
    """
    if not files:
        raise ValueError("No pretraining files given.")
    seq_length, features = record_layout(files[0])
    static = "masked_lm_positions" in features
    segmented = "is_continuation" in features
    if static and masking.objective != "mlm":
        raise ValueError(
            f"{files[0]} carries static masks (the original's create_pretraining_data.py); the "
            f"{masking.objective!r} objective needs unmasked instances (ours, from create_pretraining_data.py)."
        )
    if seq_length != max_seq_length:
        raise ValueError(
            f"{files[0]} holds instances of length {seq_length}, not max_seq_length="
            f"{max_seq_length}; pass max_seq_length={seq_length} or remake the data."
        )
    spec = {name: tf.io.FixedLenFeature([max_seq_length], tf.int64)
            for name in ("input_ids", "input_mask", "segment_ids")}
    spec["next_sentence_labels"] = tf.io.FixedLenFeature([1], tf.int64)
    if segmented:
        spec["is_continuation"] = tf.io.FixedLenFeature([max_seq_length], tf.int64)
    if static:
        for name in STATIC_MASK_FEATURES:
            dtype = tf.float32 if name == "masked_lm_weights" else tf.int64
            spec[name] = tf.io.FixedLenFeature([masking.max_predictions_per_seq], dtype)

    dataset = tf.data.TFRecordDataset(files)
    if training:
        dataset = dataset.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True).repeat()
        dataset = dataset.batch(batch_size, drop_remainder=True)
    else:
        # A known length: Keras' evaluate under a strategy otherwise runs one
        # empty step at the end that skews the per-output loss means.
        num_records = int(dataset.reduce(0, lambda count, _: count + 1))
        dataset = dataset.batch(batch_size).apply(tf.data.experimental.assert_cardinality(-(-num_records // batch_size)))
    if skip_batches:
        dataset = dataset.skip(skip_batches)
    # Each batch's index in the whole stream, which with the seed fixes its masks.
    dataset = dataset.enumerate(start=skip_batches)
    mask_seed = tf.constant(seed or 0, tf.int64)

    def parse(index, records):
        parsed = tf.io.parse_example(records, spec)
        return index, {_RECORD_TO_INPUT_NAMES.get(k, k): tf.cast(v, tf.float32 if v.dtype == tf.float32 else tf.int32)
                       for k, v in parsed.items()}

    dataset = dataset.map(parse, num_parallel_calls=tf.data.AUTOTUNE)

    def to_model_inputs(index, batch):
        if static:
            masked = {name: batch[name] for name in ("input_word_ids", *STATIC_MASK_FEATURES)}
        else:
            masked = masking.mask(batch["input_word_ids"], batch["is_continuation"] > 0 if segmented else None,
                                  seed=tf.stack([mask_seed, index]))
        inputs = {
            "input_word_ids": masked["input_word_ids"],
            "input_mask": batch["input_mask"],
            "input_type_ids": batch["input_type_ids"],
            "masked_lm_positions": masked["masked_lm_positions"],
        }
        labels = {"mlm": masked["masked_lm_ids"], "nsp": batch["next_sentence_labels"][:, 0]}
        weights = {"mlm": masked["masked_lm_weights"], "nsp": tf.ones_like(labels["nsp"], tf.float32)}
        return inputs, labels, weights

    return dataset.map(to_model_inputs, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)
