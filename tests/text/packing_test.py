"""`pack_segments`' dense layout (which TFLite can run) equals tensorflow-text's, for random segments."""

import numpy as np
import tensorflow as tf
import tensorflow_text as tf_text
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keras_bert.text import pack_segments

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_SEGMENTS = st.lists(st.lists(st.integers(5, 99), max_size=12), min_size=1, max_size=5)


@FUZZ
@given(a=_SEGMENTS, b=_SEGMENTS, seq_length=st.sampled_from((3, 4, 7, 16)), pair=st.booleans())
def test_pack_segments_equals_tf_text_combine_segments(a, b, seq_length, pair):
    """The dense layout (which TFLite can run) equals tf-text's trim + combine_segments."""
    segments = [tf.ragged.constant(a, dtype=tf.int64, ragged_rank=1)]
    if pair:
        segments.append(tf.ragged.constant((b * len(a))[: len(a)], dtype=tf.int64, ragged_rank=1))
    packed = pack_segments(segments, seq_length, cls_id=2, sep_id=3)
    trimmed = tf_text.RoundRobinTrimmer(max_seq_length=seq_length - 1 - len(segments)).trim(segments)
    ids, type_ids = tf_text.combine_segments(trimmed, start_of_sequence_id=2, end_of_segment_id=3)
    expected_ids = ids.to_tensor(0, shape=[None, seq_length]).numpy()
    np.testing.assert_array_equal(packed["input_word_ids"].numpy(), expected_ids)
    np.testing.assert_array_equal(packed["input_type_ids"].numpy(), type_ids.to_tensor(0, shape=[None, seq_length]))
    np.testing.assert_array_equal(packed["input_mask"].numpy(), (np.arange(seq_length) < ids.row_lengths()[:, None]))
