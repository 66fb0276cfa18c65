"""The original BERT text cleaning and normalization, as TensorFlow string ops."""

import tensorflow as tf
import tensorflow_text as tf_text

# The original BasicTokenizer drops control and format characters and U+FFFD;
# Hugging Face's `tokenizers` (the parity reference) also drops private-use
# ones. Tab, newline and carriage return are whitespace, handled first, and
# all whitespace becomes a space: a vocabulary may hold a whitespace
# character (bert-base-chinese has U+2028 and ##U+2028), which tensorflow-
# text's fast WordPiece would otherwise match inside a word.
_WHITESPACE = r"[\t\n\r\p{Z}]"
_DROPPED = r"[\p{Cc}\p{Cf}\p{Co}\x{FFFD}]"


def normalize_text(text, lower_case=True):
    """Cleans text (and for uncased models lower-cases and unaccents it).

    Every step maps one character at a time, so normalizing character by
    character and joining gives the same string as normalizing it whole.

    Args:
        text: string tensor of any shape; invalid UTF-8 bytes become U+FFFD,
            which is then dropped like the original drops it.
        lower_case: bool. NFD-decompose, strip combining marks (`\\p{Mn}`) and
            lower-case, as for uncased vocabularies.

    Returns:
        A string tensor shaped like `text`.

    Example:
    >>> normalize_text(tf.constant(["Crème\\tBRÛLÉE\\x00 ΟΔΟΣ …"])).numpy()[0].decode()
    'creme brulee οδοσ …'
    """
    text = tf.strings.unicode_transcode(
        text, "UTF-8", "UTF-8", errors="replace", replacement_char=0xFFFD
    )
    text = tf.strings.regex_replace(text, _WHITESPACE, " ")
    text = tf.strings.regex_replace(text, _DROPPED, "")
    if lower_case:
        text = tf_text.normalize_utf8(text, "NFD")
        text = tf.strings.regex_replace(text, r"\p{Mn}", "")
        # ICU lower-cases a word-final capital sigma to "ς"; character by
        # character (the original, and Hugging Face) it is always "σ".
        text = tf.strings.regex_replace(text, "Σ", "σ")
        text = tf.strings.lower(text, encoding="utf-8")
    return text
