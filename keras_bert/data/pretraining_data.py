"""Pretraining instances as in the original `create_pretraining_data.py`.

Documents of tokenized sentences become `[CLS] A [SEP] B [SEP]` pairs that
fill `max_seq_length` (shorter with probability `short_seq_prob`). B is the
actual continuation of A (NSP label 0, IsNext) or, half of the time and
always when A's chunk holds a single segment, text from a random other
document (label 1). The forced random B of one-segment chunks tilts the
labels past the paper's 50/50 (56.9% random-next on the shared Wikipedia,
seq 128); skipping one-segment documents, which could only give such pairs,
keeps it from tilting further. Instances are written as TFRecords with the
original feature names, so records made by google-research/bert's script are
read too.
"""

import dataclasses
import itertools
import random

import keras
import numpy as np
import tensorflow as tf
import tensorflow_text as tf_text

from keras_bert.text.packing import pack_segments

IS_NEXT, IS_RANDOM_NEXT = 0, 1

# Word-segmented text (`segmented_words=True`) marks each piece that continues a
# word by adding this to its id, so the flag travels through pairing and
# truncation with the id itself; instances split them apart again.
_CONTINUES_WORD = 1 << 24


@dataclasses.dataclass
class PretrainingInstance:
    """One sentence pair: ids `[CLS] A [SEP] B [SEP]` (unpadded), segment ids, NSP label.

    Attributes:
        input_ids: list of int, `[CLS] A [SEP] B [SEP]`.
        segment_ids: list of int (same length): 0 up to the first `[SEP]`, then 1.
        next_sentence_label: int, `IS_NEXT` (0) or `IS_RANDOM_NEXT` (1).
        is_continuation: optional list of bool (same length), from word-segmented text.

    Example:
    >>> instance = PretrainingInstance([2, 7, 3, 8, 9, 3], [0, 0, 0, 1, 1, 1], IS_NEXT)
    >>> [t for t, s in zip(instance.input_ids, instance.segment_ids) if s == 1]  # B and its [SEP]
    [8, 9, 3]
    """

    input_ids: list
    segment_ids: list
    next_sentence_label: int
    is_continuation: list = None  # per id, from word-segmented text (whole-word masking)


def read_documents(files, tokenizer, split_sentences=True, segmented_words=False):
    """Reads text files into documents of tokenized segments.

    Both layouts of the original are accepted: WikiExtractor output (an
    article per `<doc ...>` ... `</doc>` block, blank lines inside ignored)
    and plain text (one sentence per line, a blank line between documents).

    Args:
        files: list of paths.
        tokenizer: a `BertTokenizer`.
        split_sentences: bool. Break each line into sentences (tensorflow-text's
            `StateBasedSentenceBreaker`), for corpora with a paragraph per line.
        segmented_words: bool. The text is word-segmented with spaces; see
            `tokenize_documents`.

    Returns:
        A list of documents; each a list of int32 numpy arrays (segments).

    Raises:
        ValueError: a file is not UTF-8 (naming the file and line), or no
            file holds any text.

    Example:
    >>> import os, tempfile
    >>> from keras_bert.text.bert_tokenizer import BertTokenizer
    >>> folder = tempfile.mkdtemp()
    >>> vocab, corpus = os.path.join(folder, "vocab.txt"), os.path.join(folder, "corpus.txt")
    >>> _ = open(vocab, "w").write("\\n".join(
    ...     ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", "world", "bye", "."]))
    >>> _ = open(corpus, "w").write("Hello world. Bye.\\n\\nBye world.\\n")
    >>> [[segment.tolist() for segment in document] for document in read_documents([corpus], BertTokenizer(vocab))]
    [[[5, 6, 8], [7, 8]], [[7, 6, 8]]]
    """
    documents = []
    for path in files:
        with open(path, "rb") as f:
            in_doc, current = False, None
            for number, raw in enumerate(f, 1):
                try:
                    line = raw.decode("utf-8").strip()
                except UnicodeDecodeError as e:
                    raise ValueError(f"{path}:{number} is not UTF-8 ({e}); convert the file to UTF-8.") from None
                if line.startswith("<doc ") or line == "<doc>":
                    in_doc, current = True, None
                elif line == "</doc>":
                    in_doc, current = False, None
                elif line:
                    if current is None:
                        current = []
                        documents.append(current)
                    current.append(line)
                elif not in_doc:
                    current = None
    if not documents:
        raise ValueError(f"No text in {list(files)}; pretraining needs non-empty text files.")
    return tokenize_documents(documents, tokenizer, split_sentences, segmented_words)


def read_tfds_documents(name, tokenizer, split="train", text_key="text", data_dir=None, split_sentences=True):
    """Documents from a tensorflow-datasets text dataset (e.g. `wikipedia/20230601.en`).

    Each example's `text_key` feature is one document, its lines paragraphs.
    Otherwise as `read_documents`.
    """
    import tensorflow_datasets as tfds

    dataset = tfds.load(name, split=split, data_dir=data_dir)
    documents = []
    for example in dataset.as_numpy_iterator():
        if text_key not in example:
            raise ValueError(f"{name} has no feature {text_key!r} (it has {sorted(example)}); pass text_key=<one of them>.")
        lines = [line.strip() for line in example[text_key].decode("utf-8").splitlines() if line.strip()]
        if lines:
            documents.append(lines)
    if not documents:
        raise ValueError(f"{name} split {split!r} holds no text.")
    return tokenize_documents(documents, tokenizer, split_sentences)


def tokenize_documents(documents, tokenizer, split_sentences=True, segmented_words=False, batch_lines=4096):
    """Documents of text lines -> documents of token-id segments (in-graph, in batches).

    With `segmented_words`, the text is word-segmented with spaces (Chinese
    run through a word segmenter such as jieba or LTP, say): the pieces of
    each space-separated word are marked as one word for whole-word masking.
    BERT's tokenizer drops the spaces, so the ids are those of the plain text.
    """
    lines = [line for document in documents for line in document]
    owners = [n for n, document in enumerate(documents) for _ in document]
    tokenized = [[] for _ in documents]
    breaker = tf_text.StateBasedSentenceBreaker() if split_sentences else None
    for start in range(0, len(lines), batch_lines):
        batch = tf.constant(lines[start:start + batch_lines])
        sentences = (
            breaker.break_sentences(batch) if breaker is not None else tf.RaggedTensor.from_tensor(batch[:, None])
        )
        if segmented_words:
            words = tf.strings.split(sentences.flat_values)  # [sentence, (word)]
            pieces = tokenizer(words.flat_values)  # [word, (piece)]
            continues = tf.cast(tf.ragged.range(pieces.row_lengths()) > 0, tf.int32) * _CONTINUES_WORD
            flat = pieces.with_values(pieces.values + tf.cast(continues.values, pieces.dtype))
            ids = tf.RaggedTensor.from_row_splits(flat.values, tf.gather(flat.row_splits, words.row_splits))
        else:
            ids = tokenizer(sentences.flat_values)
        per_line = tf.RaggedTensor.from_row_splits(ids, sentences.row_splits)
        for owner, segments in zip(owners[start:start + batch_lines], per_line.to_list()):
            tokenized[owner].extend(np.asarray(s, np.int32) for s in segments if s)
    return [d for d in tokenized if d]


def _truncate_pair(tokens_a, tokens_b, max_num_tokens, rng):
    """Trims the longer side, from the front or back at random (the original rule)."""
    while len(tokens_a) + len(tokens_b) > max_num_tokens:
        longer = tokens_a if len(tokens_a) > len(tokens_b) else tokens_b
        del longer[0 if rng.random() < 0.5 else -1]


def create_instances(
    documents, max_seq_length, cls_id, sep_id, short_seq_prob=0.1, dupe_factor=1, seed=12345, show_progress=False
):
    """All instances of `dupe_factor` passes over `documents`, shuffled, as the original.

    Args:
        documents: from `read_documents`.
        max_seq_length: int. Length of `[CLS] A [SEP] B [SEP]` at most.
        cls_id, sep_id: ids of `[CLS]` and `[SEP]`.
        short_seq_prob: float. Probability of a shorter target length.
        dupe_factor: int. Passes over the corpus (each with other pairs).
        seed: int.
        show_progress: bool. A progress bar over the documents.

    Returns:
        A list of `PretrainingInstance`.

    Example:
    >>> docs = [[np.array([5, 6]), np.array([7])], [np.array([8, 9, 10])]]
    >>> instances = create_instances(docs, 8, cls_id=2, sep_id=3, seed=1)
    >>> [(i.input_ids, i.segment_ids, i.next_sentence_label) for i in instances]
    [([2, 7, 3, 8, 9, 10, 3], [0, 0, 0, 1, 1, 1, 1], 1), ([2, 5, 6, 3, 8, 9, 10, 3], [0, 0, 0, 0, 1, 1, 1, 1], 1)]
    """
    if max_seq_length < 5:
        raise ValueError(f"max_seq_length={max_seq_length}; a pair needs at least 5 positions.")
    if len(documents) < 2:
        raise ValueError("Next-sentence prediction needs at least 2 documents; give more text.")
    rng = random.Random(seed)
    pairs = []
    progress = keras.utils.Progbar(dupe_factor * len(documents), unit_name="document") if show_progress else None
    for _ in range(dupe_factor):
        for index in range(len(documents)):
            if progress and index % 1000 == 0:
                progress.add(min(1000, len(documents) - index))
            # A one-segment document (WikiExtractor's title-only stubs) has
            # no next sentence: it would only add random-next pairs and tilt
            # NSP away from 50/50. It still serves as a random B.
            if len(documents[index]) < 2:
                continue
            pairs.extend(_document_pairs(documents, index, max_seq_length, short_seq_prob, rng))
    rng.shuffle(pairs)
    return _pack_pairs(pairs, max_seq_length, cls_id, sep_id)


def create_packed_instances(documents, max_seq_length, cls_id, sep_id, dupe_factor=1, seed=12345):
    """Single-segment instances that fill every position: the corpus cut into `[CLS] text [SEP]` windows.

    RoBERTa's "full sentences" input, as the small-budget recipes use it
    (Izsak et al. 2021, Geiping and Goldstein 2022): the documents, in a
    shuffled order and each ended by `[SEP]`, are concatenated and cut into
    windows of `max_seq_length - 2` pieces, so no position is padding. A
    window may span two documents. There is no sentence pair, so the
    next-sentence label is always `IS_NEXT` and pretraining on these
    instances trains the masked LM only. Each pass of `dupe_factor` shuffles
    the documents anew (the windows then start elsewhere in the text).

    Args:
        documents: from `read_documents`.
        max_seq_length: int. The windows' length with `[CLS]` and `[SEP]`.
        cls_id, sep_id: ids of `[CLS]` and `[SEP]`.
        dupe_factor: int. Passes over the corpus.
        seed: int.

    Returns:
        A list of `PretrainingInstance`, shuffled; the last, shorter window
        of each pass is dropped.

    Example:
    >>> docs = [[np.array([5, 6]), np.array([7])], [np.array([8, 9, 10])]]
    >>> instances = create_packed_instances(docs, 6, cls_id=2, sep_id=3, seed=1)
    >>> [(i.input_ids, i.segment_ids, i.next_sentence_label) for i in instances]
    [([2, 5, 6, 7, 3, 3], [0, 0, 0, 0, 0, 0], 0), ([2, 8, 9, 10, 3, 3], [0, 0, 0, 0, 0, 0], 0)]
    """
    if max_seq_length < 3:
        raise ValueError(f"max_seq_length={max_seq_length}; a window needs at least 3 positions.")
    rng = random.Random(seed)
    window = max_seq_length - 2
    instances = []
    for _ in range(dupe_factor):
        order = list(range(len(documents)))
        rng.shuffle(order)
        stream = np.concatenate([piece for index in order for piece in (*documents[index], [sep_id])])
        for start in range(0, len(stream) - window + 1, window):
            ids = (stream[start:start + window] % _CONTINUES_WORD).tolist()
            flags = (stream[start:start + window] >= _CONTINUES_WORD).tolist()
            instances.append(PretrainingInstance([cls_id, *ids, sep_id], [0] * max_seq_length, IS_NEXT,
                                                 [False, *flags, False] if any(flags) else None))
    rng.shuffle(instances)
    return instances


def _pack_pairs(pairs, max_seq_length, cls_id, sep_id, batch_size=4096):
    """`PretrainingInstance`s from `(tokens_a, tokens_b, label)`, laid out by `pack_segments`."""
    instances = []
    for start in range(0, len(pairs), batch_size):
        batch = pairs[start:start + batch_size]
        segments = [tf.RaggedTensor.from_row_lengths(
            np.fromiter(itertools.chain.from_iterable(pair[k] for pair in batch), np.int32),
            [len(pair[k]) for pair in batch]) for k in (0, 1)]
        packed = {k: v.numpy() for k, v in pack_segments(segments, max_seq_length, cls_id, sep_id).items()}
        # Only the unpadded positions become lists: one conversion per batch, then row slices.
        valid = packed["input_mask"].astype(bool)
        ids = packed["input_word_ids"][valid]
        continuation = ids >= _CONTINUES_WORD
        columns = [(ids % _CONTINUES_WORD).tolist(), packed["input_type_ids"][valid].tolist(), continuation.tolist()]
        ends = np.cumsum(valid.sum(1)).tolist()
        has_flags = np.logical_or.reduceat(continuation, np.r_[0, ends[:-1]]).tolist() if len(ids) else []
        for (_, _, label), begin, end, any_flag in zip(batch, [0] + ends[:-1], ends, has_flags):
            instances.append(PretrainingInstance(columns[0][begin:end], columns[1][begin:end], label,
                                                 columns[2][begin:end] if any_flag else None))
    return instances


def _document_pairs(documents, index, max_seq_length, short_seq_prob, rng):
    """`(tokens_a, tokens_b, label)` pairs from one document, as the original's `create_instances_from_document`."""
    document = documents[index]
    max_num_tokens = max_seq_length - 3
    target_length = rng.randint(2, max_num_tokens) if rng.random() < short_seq_prob else max_num_tokens
    pairs, chunk, chunk_length, i = [], [], 0, 0
    while i < len(document):
        chunk.append(document[i])
        chunk_length += len(document[i])
        if i == len(document) - 1 or chunk_length >= target_length:
            a_end = rng.randint(1, len(chunk) - 1) if len(chunk) >= 2 else 1
            tokens_a = [int(t) for segment in chunk[:a_end] for t in segment]
            tokens_b = []
            if len(chunk) == 1 or rng.random() < 0.5:
                label = IS_RANDOM_NEXT
                other = index
                for _ in range(10):
                    other = rng.randint(0, len(documents) - 1)
                    if other != index:
                        break
                random_document = documents[other]
                for segment in random_document[rng.randint(0, len(random_document) - 1):]:
                    tokens_b.extend(int(t) for t in segment)
                    if len(tokens_b) >= target_length - len(tokens_a):
                        break
                i -= len(chunk) - a_end  # the unused segments start the next chunk
            else:
                label = IS_NEXT
                tokens_b = [int(t) for segment in chunk[a_end:] for t in segment]
            _truncate_pair(tokens_a, tokens_b, max_num_tokens, rng)
            if tokens_a and tokens_b:
                pairs.append((tokens_a, tokens_b, label))
            chunk, chunk_length = [], 0
        i += 1
    return pairs
