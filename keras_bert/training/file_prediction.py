"""Predicting whole files with a fine-tuned model, or with its raw-text SavedModel (examples/predict.py).

A predictor answers one chunk of rows at a time: `TrainedModelPredictor`
runs a model a fine-tuning script saved (its `.keras` file, `vocab.txt` and
`serving.json`) through the same features and decoding the scripts score
with, so its predictions are theirs; `SavedModelPredictor` sends raw
strings to the `serving_default` signature export_saved_model.py wrote.
`predict_file` streams an input file through either, chunk by chunk, with a
progress line, into the output file.
"""

import dataclasses
import json
import os

import numpy as np
import tensorflow as tf

from keras_bert.data.classification_dataset import classification_dataset
from keras_bert.data.conll import ConllSentences
from keras_bert.data.prediction_io import (
    SENTENCE_FORMATS,
    TAG_OUTPUT_FORMATS,
    LabelWriter,
    Progress,
    TagWriter,
    file_extension,
    open_sentence_file,
    open_tagging_file,
)
from keras_bert.data.squad import (
    apply_null_score_threshold,
    read_squad,
    squad_best_answers,
    squad_dataset,
    squad_features,
)
from keras_bert.data.token_classification import (
    token_classification_dataset,
    token_classification_features,
    word_predictions,
)
from keras_bert.text import BertPreprocessor
from keras_bert.training.prediction import predict_classifier, predict_logits

# What each kind of model reads and writes.
_KINDS = {"classifier": (SENTENCE_FORMATS, SENTENCE_FORMATS), "ner": (None, TAG_OUTPUT_FORMATS),
          "squad": ((".json",), (".json",))}


def task_kind(task):
    """`"classifier"`, `"ner"` or `"squad"`: what a fine-tuning script's task (serving.json's `task`) predicts.

    Raises:
        ValueError: a task these predictors do not serve (multiple choice).

    Example:
    >>> task_kind("mrpc"), task_kind("csv"), task_kind("ner"), task_kind("squad")
    ('classifier', 'classifier', 'ner', 'squad')
    """
    if task in ("ner", "squad"):
        return task
    if task == "multiple_choice":
        raise ValueError("multiple-choice models are not predicted from files here; score them with "
                         "run_multiple_choice.py --nodo_train.")
    return "classifier"


def check_prediction_files(kind, input_file, output_file):
    """Checks the files' extensions for a kind of model before any work, naming the flag and the choices.

    Sentence(-pair) classifiers read and write `.tsv`, `.csv` or `.jsonl`;
    taggers read any text file and write `.txt`/`.conll` (CoNLL) or
    `.jsonl`; SQuAD models read and write `.json`.

    Raises:
        ValueError: an extension the kind does not take, or the output file
            being the input file.

    Example:
    >>> check_prediction_files("classifier", "dev.tsv", "out.jsonl")
    >>> check_prediction_files("squad", "dev.json", "answers.tsv")
    Traceback (most recent call last):
    ...
    ValueError: --output_file=answers.tsv: unknown extension '.tsv'; use .json.
    """
    inputs, outputs = _KINDS[kind]
    if inputs:
        file_extension(input_file, inputs, "--input_file")
    file_extension(output_file, outputs, "--output_file")
    if os.path.abspath(input_file) == os.path.abspath(output_file):
        raise ValueError(f"--output_file={output_file} is the input file; choose another path.")
    if kind == "squad" and os.path.basename(output_file) == "null_odds.json":
        raise ValueError("--output_file: null_odds.json is where SQuAD v2.0 null odds go; name the answers "
                         "file otherwise, e.g. predictions.json.")


def _reporting(dataset, on_examples):
    """The dataset's batches; after each is used, `on_examples(examples so far)`."""
    done = 0
    for batch in dataset:
        yield batch
        inputs = batch[0] if isinstance(batch, tuple) else batch
        done += int(np.shape(inputs["input_mask"])[0])
        on_examples(done)


def _softmax_or_score(logits):
    """Probabilities `(rows, classes)`, or scores `(rows,)` from a single output (regression)."""
    logits = np.asarray(logits, np.float32)
    return logits[:, 0] if logits.shape[-1] == 1 else tf.nn.softmax(logits, axis=-1).numpy()


class TrainedModelPredictor:
    """Predictions of a model a fine-tuning script saved, made as the script scores them.

    Args:
        model: the loaded `.keras` model (`BertClassifier`,
            `BertTokenClassifier`/`BertFeatureTagger` or `BertSpanLabeler`).
        settings: its `serving.json` (task, casing, `max_seq_length`, label
            names, pair, SQuAD windows and null-score threshold).
        vocab_file: its `vocab.txt`.
        batch_size: int, examples (windows) per model call.
        n_best_size: int, SQuAD start/end candidates per window.

    Attributes:
        kind: `"classifier"`, `"ner"` or `"squad"`.
        task: the task it was fine-tuned on (a GLUE name, csv, ner, squad).
        label_names: label (tag) strings in id order; () for regression and SQuAD.
        pair: whether a classifier takes sentence pairs.
        null_score_threshold: SQuAD v2.0's threshold, or None (v1.1).

    Example:
    >>> import tempfile
    >>> from keras_bert import BertClassifier, BertEncoder
    >>> from keras_bert.data import GlueExamples
    >>> vocab = os.path.join(tempfile.mkdtemp(), "vocab.txt")
    >>> _ = open(vocab, "w").write("\\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "fine", "dull"]))
    >>> encoder = BertEncoder(vocab_size=7, hidden_size=8, num_layers=1, num_attention_heads=2, intermediate_size=12)
    >>> settings = {"task": "sst2", "lower_case": True, "max_seq_length": 8, "label_names": ["0", "1"]}
    >>> predictor = TrainedModelPredictor(BertClassifier(encoder, num_classes=2), settings, vocab)
    >>> probabilities = predictor.classify(GlueExamples(["fine", "dull fine"], None, None, (), "x"))
    >>> probabilities.shape, bool(np.allclose(probabilities.sum(-1), 1))
    ((2, 2), True)
    """

    def __init__(self, model, settings, vocab_file, batch_size=64, n_best_size=20):
        self.model, self.settings, self.batch_size, self.n_best_size = model, settings, batch_size, n_best_size
        self.task = settings["task"]
        self.kind = task_kind(self.task)
        self.label_names = tuple(settings.get("label_names") or ())
        self.pair = bool(settings.get("pair", False))
        self.null_score_threshold = settings.get("null_score_threshold")
        self.preprocessor = BertPreprocessor(vocab_file, settings["max_seq_length"], lower_case=settings["lower_case"])

    def classify(self, examples, on_rows=lambda done: None):
        """Probabilities `(rows, labels)` (scores `(rows,)` for regression) of `GlueExamples` without labels."""
        examples = dataclasses.replace(examples, labels=None)
        dataset = classification_dataset(examples, self.preprocessor, self.batch_size)
        _, _, logits = predict_classifier(self.model, _reporting(dataset, on_rows))
        return _softmax_or_score(logits)

    def tag(self, chunk, on_rows=lambda done: None):
        """Tag strings per sentence (one per word) of a `TaggingChunk`; long sentences span several windows."""
        keep = [i for i, words in enumerate(chunk.words) if words]
        tags = [[] for _ in chunk.words]
        if not keep:
            return tags
        words = [chunk.words[i] for i in keep]
        sentences = ConllSentences(words, [[self.label_names[0]] * len(w) for w in words], "")
        features = token_classification_features(sentences, self.preprocessor.tokenizer, self.label_names,
                                                 self.settings["max_seq_length"])
        dataset = token_classification_dataset(features, self.batch_size)
        logits = predict_logits(self.model, _reporting(
            dataset, lambda windows: on_rows(keep[features["sentence_index"][windows - 1]])))
        for i, ids in zip(keep, word_predictions(features, logits, sentences)):
            tags[i] = [self.label_names[k] for k in ids]
        return tags

    def answer(self, questions, on_rows=lambda done: None):
        """`(answers, null_odds)` for `SquadExample`s, as run_squad.py answers them.

        `answers` is `{question_id: text}`, with v2.0's null-score threshold
        (serving.json's) applied; `null_odds` is `{question_id: float}` for
        v2.0 models, else None.
        """
        settings = self.settings
        windows = {name: settings[name] for name in ("doc_stride", "max_query_length") if name in settings}
        features = squad_features(questions, self.preprocessor.tokenizer, settings["max_seq_length"], **windows)
        dataset = squad_dataset(features, self.batch_size)
        logits = predict_logits(self.model, _reporting(
            dataset, lambda done: on_rows(int(features["example_index"][done - 1]))))
        answers, null_odds = squad_best_answers(questions, features, logits["start_logits"], logits["end_logits"],
                                                self.n_best_size, settings.get("max_answer_length", 30))
        if self.null_score_threshold is None:
            return answers, None
        return apply_null_score_threshold(answers, null_odds, self.null_score_threshold), null_odds


class SavedModelPredictor:
    """Predictions of a raw-text SavedModel from export_saved_model.py, through its `serving_default` signature.

    What it serves is read from the signature: `question`/`context` inputs
    (SQuAD), a `tag` output (NER), `probabilities` or `score` (classifier;
    `text_a`/`text_b` inputs for pairs). A classifier's label names are
    read from the SavedModel's graph. The model does its own tokenizing, so
    a tagger's words are mapped to yours by character offsets (a word takes
    the tag of the served word starting in it; words past the served
    model's sequence length get `"O"`); a SQuAD model serves answers with
    its exported null-score threshold, but no null odds.

    Args:
        path: the SavedModel directory.
        batch_size: int, rows per serving call.

    Raises:
        OSError: no SavedModel there.
        ValueError: a signature this does not know.

    Example:
    >>> import tempfile
    >>> from keras_bert import BertClassifier, BertEncoder
    >>> from keras_bert.data import GlueExamples
    >>> from keras_bert.export import export_saved_model
    >>> vocab = os.path.join(tempfile.mkdtemp(), "vocab.txt")
    >>> _ = open(vocab, "w").write("\\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "fine", "dull"]))
    >>> encoder = BertEncoder(vocab_size=7, hidden_size=8, num_layers=1, num_attention_heads=2, intermediate_size=12)
    >>> path = export_saved_model(BertClassifier(encoder, num_classes=2), BertPreprocessor(vocab, 8),
    ...                           tempfile.mkdtemp() + "/model", label_names=["neg", "pos"])
    >>> predictor = SavedModelPredictor(path)
    >>> predictor.kind, predictor.label_names, predictor.pair
    ('classifier', ('neg', 'pos'), False)
    >>> predictor.classify(GlueExamples(["fine", "dull fine"], None, None, (), "x")).shape
    (2, 2)
    """

    def __init__(self, path, batch_size=64):
        import tensorflow_text  # registers the tokenizer ops the SavedModel uses

        del tensorflow_text

        self.path, self.batch_size = os.fspath(path), batch_size
        self._loaded = tf.saved_model.load(self.path)  # keeps the signature's resources alive
        signatures = dict(self._loaded.signatures)
        if "serving_default" not in signatures:
            raise ValueError(f"{self.path} has no serving_default signature; export the model with "
                             "export_saved_model.py.")
        self._serve = signatures["serving_default"]
        inputs, outputs = set(self._serve.structured_input_signature[1]), dict(self._serve.structured_outputs)
        self.task, self.null_score_threshold, self.label_names = None, None, ()
        self.pair = inputs == {"text_a", "text_b"}
        if inputs == {"question", "context"}:
            self.kind = "squad"
        elif "tag" in outputs:
            self.kind = "ner"
        elif "probabilities" in outputs or "score" in outputs:
            self.kind = "classifier"
            if "probabilities" in outputs:
                if "label_names" not in signatures:
                    raise ValueError(f"{self.path} has no label_names signature; export the model again with "
                                     "export_saved_model.py, which saves its label names there.")
                served = signatures["label_names"]()["label_names"].numpy()
                self.label_names = tuple(name.decode("utf-8") for name in served)
        else:
            raise ValueError(f"{self.path}: a serving_default signature of {sorted(inputs)} -> {sorted(outputs)} is "
                             "none of the classifier, tagger or SQuAD signatures export_saved_model.py writes.")

    def _batches(self, count, on_rows):
        """The `[start, stop)` batch bounds over `count` rows, reporting rows done after each batch."""
        for start in range(0, count, self.batch_size):
            yield start, min(start + self.batch_size, count)
            on_rows(min(start + self.batch_size, count))

    def classify(self, examples, on_rows=lambda done: None):
        """Probabilities `(rows, labels)` (scores `(rows,)` for regression) of `GlueExamples`."""
        outputs = []
        for start, stop in self._batches(len(examples), on_rows):
            if self.pair:
                served = self._serve(text_a=tf.constant(examples.text_a[start:stop]),
                                     text_b=tf.constant(examples.text_b[start:stop]))
            else:
                served = self._serve(text=tf.constant(examples.text_a[start:stop]))
            outputs.append(np.asarray(served["probabilities" if self.label_names else "score"]))
        return np.concatenate(outputs)

    def tag(self, chunk, on_rows=lambda done: None):
        """Tag strings per sentence (one per word) of a `TaggingChunk`."""
        tags = []
        for start, stop in self._batches(len(chunk), on_rows):
            served = self._serve(text=tf.constant(chunk.texts[start:stop]))
            served_tags, starts = np.asarray(served["tag"]), np.asarray(served["word_start"])
            num_words = np.asarray(served["num_words"])
            for row, offsets in enumerate(chunk.offsets[start:stop]):
                at = {}
                for position in range(int(num_words[row])):
                    at.setdefault(int(starts[row, position]), served_tags[row, position].decode())
                tags.append([next((at[k] for k in range(s, e) if k in at), "O") for s, e in offsets])
        return tags

    def answer(self, questions, on_rows=lambda done: None):
        """`({question_id: answer text}, None)` for `SquadExample`s: the served answers (no null odds)."""
        answers = {}
        for start, stop in self._batches(len(questions), on_rows):
            batch = questions[start:stop]
            served = self._serve(question=tf.constant([q.question for q in batch]),
                                 context=tf.constant([q.context for q in batch]))
            answers.update((q.question_id, text.decode()) for q, text in zip(batch, np.asarray(served["answer"])))
        return answers, None


def predict_file(predictor, input_file, output_file, chunk_size=10000, text_a_column=None, text_b_column=None,
                 task=None, input_format="auto", progress_stream=None):
    """Predicts every row of `input_file` with `predictor` into `output_file`, chunk by chunk, with progress.

    - Classifiers: a `.tsv`/`.csv`/`.jsonl` file of sentences (pairs) ->
      per row the label name and the probabilities (a score for
      regression), as `LabelWriter` writes them. The text columns default
      to `sentence` (`sentence1`, `sentence2` for pair models); without
      column names given, a `.tsv` file lacking them in one of the GLUE
      `task`'s official layouts is read as is (see `open_sentence_file`).
    - Taggers (NER): raw text lines or CoNLL (`input_format`, see
      `open_tagging_file`) -> CoNLL or JSONL with character offsets
      (`TagWriter`).
    - SQuAD: a SQuAD JSON file (read whole) -> `{question id: answer}` in
      `output_file`, and for v2.0 models (a null-score threshold)
      `null_odds.json` beside it, as run_squad.py writes both.

    Each output is written to `output_file + ".partial"`, then renamed, so
    a failed run leaves no truncated file under the name asked for.

    Args:
        predictor: a `TrainedModelPredictor` or `SavedModelPredictor`.
        input_file, output_file: str paths.
        chunk_size: rows (lines, sentences) read and predicted at a time.
        text_a_column, text_b_column: classifiers: the text columns, or None
            for the defaults.
        task: classifiers: a GLUE task whose official layouts to recognise
            (default: the predictor's task).
        input_format: taggers: `"auto"`, `"text"` or `"conll"`.
        progress_stream: where the progress line goes (default stderr).

    Returns:
        `{"rows": int, "unit": what a row is (rows, lines, sentences,
        questions), "written": [paths], "input": how the input was read}`.

    Raises:
        OSError, ValueError: naming the file and the problem (a missing
            column, an unknown extension, bad rows, a pair model without a
            second text column).

    Example:
    >>> import tempfile
    >>> from keras_bert import BertClassifier, BertEncoder
    >>> folder = tempfile.mkdtemp()
    >>> vocab = os.path.join(folder, "vocab.txt")
    >>> _ = open(vocab, "w").write("\\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "fine", "dull"]))
    >>> encoder = BertEncoder(vocab_size=7, hidden_size=8, num_layers=1, num_attention_heads=2, intermediate_size=12)
    >>> settings = {"task": "sst2", "lower_case": True, "max_seq_length": 8, "label_names": ["0", "1"]}
    >>> predictor = TrainedModelPredictor(BertClassifier(encoder, num_classes=2), settings, vocab)
    >>> _ = open(os.path.join(folder, "test.tsv"), "w").write("index\\tsentence\\n0\\tfine\\n1\\tdull\\n")
    >>> import io
    >>> summary = predict_file(predictor, os.path.join(folder, "test.tsv"), os.path.join(folder, "out.jsonl"),
    ...                        progress_stream=io.StringIO())
    >>> summary["rows"], summary["input"], sorted(json.loads(open(summary["written"][0]).readline()))
    (2, "columns 'sentence'", ['label', 'probabilities'])
    """
    check_prediction_files(predictor.kind, input_file, output_file)
    if predictor.kind == "squad":
        return _predict_squad(predictor, input_file, output_file, progress_stream)
    if predictor.kind == "ner":
        rows = open_tagging_file(input_file, input_format)
        writer = TagWriter(output_file + ".partial", file_extension(output_file, TAG_OUTPUT_FORMATS))
        unit = "sentences" if rows.input_format == "conll" else "lines"
        described = "CoNLL file" if rows.input_format == "conll" else "text lines"

        def predict(chunk, on_rows):
            writer.write(chunk, predictor.tag(chunk, on_rows))
    else:
        rows = _open_sentences(predictor, input_file, text_a_column, text_b_column, task)
        writer = LabelWriter(output_file + ".partial", predictor.label_names,
                             file_extension(output_file, SENTENCE_FORMATS))
        unit, described = "rows", rows.layout

        def predict(chunk, on_rows):
            writer.write(predictor.classify(chunk, on_rows))
    progress = Progress(len(rows), unit, progress_stream)
    done = 0
    try:
        with writer:
            for chunk in rows.chunks(chunk_size):
                predict(chunk, lambda rows_done: progress.update(done + rows_done))
                done += len(chunk)
                progress.update(done)
    except BaseException:
        if os.path.exists(output_file + ".partial"):
            os.remove(output_file + ".partial")
        raise
    progress.finish()
    os.replace(output_file + ".partial", output_file)
    return {"rows": done, "unit": unit, "written": [output_file], "input": described}


def _open_sentences(predictor, input_file, text_a_column, text_b_column, task):
    """The `SentenceFile` of a classifier's input, its columns checked against the model's pair-ness."""
    named = text_a_column is not None or text_b_column is not None
    text_a_column = text_a_column or ("sentence1" if predictor.pair else "sentence")
    if text_b_column is None and predictor.pair and not named:
        text_b_column = "sentence2"
    rows = open_sentence_file(input_file, text_a_column, text_b_column,
                              None if named else (task or predictor.task))
    if predictor.pair and rows.text_b is None:
        raise ValueError(f"the model classifies sentence pairs, but {input_file} is read as single sentences "
                         f"({rows.layout}); name the second text's column with --text_b_column.")
    if not predictor.pair and rows.text_b is not None:
        raise ValueError(f"the model classifies single sentences, but {input_file} is read as pairs ({rows.layout}); "
                         "drop --text_b_column.")
    return rows


def _predict_squad(predictor, input_file, output_file, progress_stream):
    questions = read_squad(input_file)
    progress = Progress(len(questions), "questions", progress_stream)
    answers, null_odds = predictor.answer(questions, progress.update)
    progress.finish()
    written = [output_file]
    _write_json(output_file, answers)
    if null_odds is not None:
        written.append(os.path.join(os.path.dirname(os.path.abspath(output_file)), "null_odds.json"))
        _write_json(written[-1], null_odds)
    return {"rows": len(questions), "unit": "questions", "written": written, "input": "SQuAD JSON"}


def _write_json(path, value):
    """Writes `value` as run_squad.py writes its JSON (indented, UTF-8 as is), via a `.partial` file."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path + ".partial", "w", encoding="utf-8") as f:
        json.dump(value, f, indent=2, ensure_ascii=False)
    os.replace(path + ".partial", path)
