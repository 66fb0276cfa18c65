"""Names and values that data, models, training and export agree on; imports nothing from keras_bert.

`INPUT_NAMES` are the encoder's input keys (Model Garden's and TF-Hub's BERT
names, which exported models keep): int32 `input_word_ids` (WordPiece ids),
`input_mask` (1 for real tokens, 0 for padding) and `input_type_ids` (segment
ids), each `(batch, seq_length)`. `IGNORED_LABEL` marks a token-classification
position that carries no label and no loss: `[CLS]`, `[SEP]`, padding and
non-first pieces of a word.

Example:
>>> INPUT_NAMES
('input_word_ids', 'input_mask', 'input_type_ids')
>>> IGNORED_LABEL
-100
"""

INPUT_NAMES = ("input_word_ids", "input_mask", "input_type_ids")
IGNORED_LABEL = -100  # the default ignore_index of torch's CrossEntropyLoss, as transformers' taggers use
