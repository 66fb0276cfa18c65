"""Files to predict, read in chunks, and the files their predictions go to (examples/predict.py).

Sentence(-pair) rows come from TSV, CSV or JSONL files (`SentenceFile`);
NER input is raw text lines or CoNLL (`TaggingFile`). Both are read in
chunks of rows, so a large file never sits whole in memory, and each
counts its rows first (one streaming pass) for the progress line
(`Progress`). `LabelWriter` and `TagWriter` write one chunk's predictions
at a time, in the format the output file's extension names.
"""

import csv
import dataclasses
import json
import os
import re
import sys
import time

from keras_bert.data.conll import conll_sentences
from keras_bert.data.glue import GLUE_TASKS, GlueExamples
from keras_bert.data.text_files import csv_rows
from keras_bert.text.vocab import read_utf8

SENTENCE_FORMATS = (".tsv", ".csv", ".jsonl")
TAG_OUTPUT_FORMATS = (".txt", ".conll", ".jsonl")
_ID_HEADERS = ("index", "id")  # the first header cell of every GLUE test file


def file_extension(path, allowed, flag="--input_file"):
    """The lower-cased extension of `path` when it is one of `allowed`.

    Raises:
        ValueError: naming the flag, the file and the extensions allowed.

    Example:
    >>> file_extension("dev.TSV", SENTENCE_FORMATS)
    '.tsv'
    >>> file_extension("dev.xlsx", SENTENCE_FORMATS, "--output_file")
    Traceback (most recent call last):
    ...
    ValueError: --output_file=dev.xlsx: unknown extension '.xlsx'; use .tsv, .csv or .jsonl.
    """
    extension = os.path.splitext(os.fspath(path))[1].lower()
    if extension not in allowed:
        names = ", ".join(allowed[:-1]) + f" or {allowed[-1]}" if len(allowed) > 1 else allowed[0]
        raise ValueError(f"{flag}={path}: unknown extension {extension!r}; use {names}.")
    return extension


def _utf8_lines(path):
    """The file's lines (line endings kept, a byte-order mark dropped), streamed; bad UTF-8 names the line."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            yield from f
    except UnicodeDecodeError:
        # The decoder works ahead in blocks, so the lines read so far do not say where the byte is;
        # read_utf8 finds it (and raises, naming file, line and byte).
        read_utf8(path)
        raise


def _csv_rows(path, delimiter):
    """`(line, row)` pairs of a CSV (`,`, CSV quoting) or TSV (tab, quotes are text) file, streamed."""
    reader = csv.reader(_utf8_lines(path), delimiter=delimiter,
                        quoting=csv.QUOTE_NONE if delimiter == "\t" else csv.QUOTE_MINIMAL)
    return csv_rows(reader, path, with_lines=True)


def _in_lists(items, size):
    """`items` (an iterator) as lists of at most `size`, read one list at a time."""
    chunk = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


@dataclasses.dataclass
class SentenceFile:
    """A sentence(-pair) file to predict: where its texts are, read in chunks.

    Make one with `open_sentence_file`.

    Attributes:
        path: the file.
        text_a: the (first) text's column: its position in a TSV/CSV row, or
            its key in a JSONL object.
        text_b: the second text's column, or None.
        id_column: a TSV/CSV position of each row's id (a GLUE `index`), or
            None: ids are then 0-based row numbers.
        skip_header: whether the first TSV/CSV row is a header.
        layout: how the columns were found, for messages (e.g. `"sst2 test
            file"` or `"columns 'sentence'"`).

    Example:
    >>> import tempfile
    >>> path = tempfile.mktemp(suffix=".csv")
    >>> _ = open(path, "w").write('text\\n"a fine, fine film"\\n')
    >>> rows = SentenceFile(path, text_a=0)
    >>> len(rows), next(rows.chunks(8)).text_a
    (1, ['a fine, fine film'])
    """

    path: str
    text_a: object
    text_b: object = None
    id_column: int = None
    skip_header: bool = True
    layout: str = ""
    _num_rows: int = dataclasses.field(default=None, repr=False)

    def _rows(self):
        """`(line, text_a, text_b or None, id)` of every data row."""
        if self.path.lower().endswith(".jsonl"):
            yield from self._json_rows()
            return
        delimiter = "\t" if self.path.lower().endswith(".tsv") else ","
        separator = "tab" if delimiter == "\t" else "comma"
        width = None
        position = 0
        for line, row in _csv_rows(self.path, delimiter):
            if width is None:
                width = len(row)
                if self.skip_header:
                    continue
            if not row:  # a blank line
                continue
            if len(row) != width:
                raise ValueError(f"{self.path}, line {line}: {len(row)} values, but the file's first row has {width} "
                                 f"(an unquoted {separator} inside a text?); fix "
                                 "the row.")
            yield (line, row[self.text_a], None if self.text_b is None else row[self.text_b],
                   str(position) if self.id_column is None else row[self.id_column])
            position += 1

    def _json_rows(self):
        position = 0
        for line, text in enumerate(_utf8_lines(self.path), start=1):
            if not text.strip():
                continue
            try:
                row = json.loads(text)
            except ValueError as e:
                raise ValueError(f"{self.path}, line {line}: not a JSON object ({e}).") from None
            texts = []
            for key in (self.text_a, self.text_b):
                if key is None:
                    texts.append(None)
                    continue
                value = row.get(key) if isinstance(row, dict) else None
                if not isinstance(value, str):
                    keys = sorted(row) if isinstance(row, dict) else []
                    raise ValueError(f"{self.path}, line {line}: no text at key {key!r} (keys: {keys}).")
                texts.append(value)
            yield line, texts[0], texts[1], str(position)
            position += 1

    def __len__(self):
        """The number of data rows (one streaming pass, the first time)."""
        if self._num_rows is None:
            self._num_rows = sum(1 for _ in self._rows())
        return self._num_rows

    def chunks(self, size):
        """The rows as `GlueExamples` of at most `size` each (no labels; `ids` as `id_column` says)."""
        return map(self._examples, _in_lists(self._rows(), size))

    def _examples(self, rows):
        return GlueExamples([a for _, a, _, _ in rows], None if self.text_b is None else [b for _, _, b, _ in rows],
                            None, (), self.path, ids=[i for _, _, _, i in rows])


def open_sentence_file(path, text_a_column="sentence", text_b_column=None, task=None):
    """Finds the text columns of a sentence(-pair) file to predict, without reading it whole.

    `.tsv` (tab-separated, quotes are text, as GLUE writes them) and `.csv`
    files have a header row naming the columns; `.jsonl` files hold one
    JSON object a line, the column names as keys. With a GLUE `task`, a
    `.tsv` file without the named columns is read as is when it has one of
    the task's official layouts: its test files (`index`, texts) and its
    train/dev files (labels ignored; CoLA's have no header).

    Args:
        path: str, a `.tsv`, `.csv` or `.jsonl` file.
        text_a_column: the (first) text's column name.
        text_b_column: the second text's column name, for sentence pairs.
        task: optional GLUE task name (a key of `GLUE_TASKS`) whose
            official layouts to recognise.

    Returns:
        A `SentenceFile`; its `chunks(size)` gives `GlueExamples`.

    Raises:
        FileNotFoundError: no such file.
        ValueError: an unknown extension, an empty file, or a missing
            column (naming the columns the file has).

    Example:
    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> path = os.path.join(folder, "test.tsv")
    >>> _ = open(path, "w").write("index\\tsentence\\n0\\ta fine film\\n1\\tdull\\n")
    >>> rows = open_sentence_file(path, "text", task="sst2")  # no column 'text': the task's test layout
    >>> rows.layout, len(rows), [(chunk.text_a, chunk.ids) for chunk in rows.chunks(1)]
    ('sst2 test file', 2, [(['a fine film'], ['0']), (['dull'], ['1'])])
    >>> path = os.path.join(folder, "pairs.jsonl")
    >>> _ = open(path, "w").write('{"q": "Who?", "a": "Ann."}\\n')
    >>> next(open_sentence_file(path, "q", "a").chunks(10)).text_b
    ['Ann.']
    >>> open_sentence_file(path, "question")
    Traceback (most recent call last):
    ...
    ValueError: ...pairs.jsonl, line 1: no text at key 'question' (keys: ['a', 'q']).
    """
    path = os.fspath(path)
    extension = file_extension(path, SENTENCE_FORMATS)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No file at {path!r}.")
    if extension == ".jsonl":
        found = SentenceFile(path, text_a_column, text_b_column, layout=f"keys {_names(text_a_column, text_b_column)}")
        next(found._rows(), None)  # checks the first object's keys
        if len(found) == 0:
            raise ValueError(f"{path}: no rows; the file is empty.")
        return found
    first = next(_csv_rows(path, "\t" if extension == ".tsv" else ","), (0, None))[1]
    if not first:
        raise ValueError(f"{path}: no rows; the file is empty.")
    missing = [name for name in (text_a_column, text_b_column) if name and name not in first]
    if missing and task in GLUE_TASKS and extension == ".tsv":
        found = _glue_layout(path, task, first)
        if found is not None:
            return found
    if missing:
        raise ValueError(f"{path}: no column(s) {missing}; its header has {first}.")
    return SentenceFile(path, first.index(text_a_column), first.index(text_b_column) if text_b_column else None,
                        layout=f"columns {_names(text_a_column, text_b_column)}")


def _names(*names):
    return " and ".join(repr(name) for name in names if name)


def _glue_layout(path, task, first_row):
    """A `SentenceFile` of the task's official test or train/dev layout that `first_row` matches, or None."""
    layout = GLUE_TASKS[task]
    if len(first_row) in layout.test.num_columns and first_row[0].lower() in _ID_HEADERS:
        columns, kind = layout.test, "test"
    elif len(first_row) in layout.labelled.num_columns:
        columns, kind = layout.labelled, "train/dev"
    else:
        return None
    return SentenceFile(path, columns.text_a, columns.text_b if columns.text_b >= 0 else None, columns.id,
                        skip_header=columns.header, layout=f"{task} {kind} file")


class _OutputFile:
    """A writer's `close()` and `with` support; `self.file` is what it writes to."""

    def close(self):
        _close_output(self.file)

    def __enter__(self):
        return self

    def __exit__(self, *unused):
        self.close()


class LabelWriter(_OutputFile):
    """Writes a classifier's predictions, one row per input row, as the file's extension says.

    `.jsonl`: `{"label": name, "probabilities": {name: p, ...}}` a line
    (`{"score": s}` for regression). `.tsv`/`.csv`: a header, then
    `label` and one `probability_NAME` column per label (`score` for
    regression). Probabilities are rounded to 6 decimals.

    Args:
        path: the output file (`.jsonl`, `.tsv` or `.csv`).
        label_names: the label strings in id order; () for regression.

    Example:
    >>> import io, numpy as np
    >>> with LabelWriter(io.StringIO(), ["neg", "pos"], ".tsv") as writer:
    ...     writer.write(np.array([[0.25, 0.75], [0.875, 0.125]]))
    ...     print(writer.file.getvalue(), end="")
    label  probability_neg  probability_pos
    pos  0.25  0.75
    neg  0.875  0.125
    >>> with LabelWriter(io.StringIO(), (), ".jsonl") as writer:  # regression
    ...     writer.write(np.array([3.5]))
    ...     print(writer.file.getvalue(), end="")
    {"score": 3.5}
    """

    def __init__(self, path, label_names, extension=None):
        self.label_names = list(label_names)
        self.file, self.extension = _open_output(path, extension, SENTENCE_FORMATS)
        self._csv = None
        if self.extension != ".jsonl":
            self._csv = csv.writer(self.file, delimiter="\t" if self.extension == ".tsv" else ",", lineterminator="\n")
            self._csv.writerow(["label"] + [f"probability_{name}" for name in self.label_names]
                               if self.label_names else ["score"])

    def write(self, outputs):
        """Writes one chunk: probabilities `(rows, labels)`, or scores `(rows,)` for regression."""
        for output in outputs:
            if not self.label_names:
                row = {"score": round(float(output), 6)}
            else:
                probabilities = [round(float(p), 6) for p in output]
                label = self.label_names[max(range(len(probabilities)), key=lambda i: output[i])]
                row = {"label": label, "probabilities": dict(zip(self.label_names, probabilities))}
            if self._csv is None:
                self.file.write(json.dumps(row, ensure_ascii=False) + "\n")
            elif self.label_names:
                self._csv.writerow([row["label"]] + list(row["probabilities"].values()))
            else:
                self._csv.writerow([row["score"]])


def _open_output(path, extension, allowed):
    """`(text file, extension)`: `path` opened for writing (an open stream is used as is)."""
    if not isinstance(path, (str, os.PathLike)):
        return path, extension
    path = os.fspath(path)
    extension = extension or file_extension(path, allowed, "--output_file")
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    return open(path, "w", encoding="utf-8", newline=""), extension


def _close_output(file):
    if hasattr(file, "name"):  # a file we opened; a caller's stream stays open
        file.close()


@dataclasses.dataclass
class TaggingChunk:
    """Sentences to tag, with where each word sits in its text.

    Attributes:
        words: per sentence (or text line), its words; a line without words
            has none.
        texts: per sentence, its text: the raw line (line ending dropped),
            or a CoNLL sentence's words joined by single spaces.
        offsets: per sentence, `[(start, end)]` character offsets of each
            word in its text (`text[start:end] == word`).

    Example:
    >>> chunk = TaggingChunk([["EU", "rejects"]], [" EU rejects"], [[(1, 3), (4, 11)]])
    >>> len(chunk), [chunk.texts[0][start:end] for start, end in chunk.offsets[0]]
    (1, ['EU', 'rejects'])
    """

    words: list
    texts: list
    offsets: list

    def __len__(self):
        return len(self.texts)


@dataclasses.dataclass
class TaggingFile:
    """A file to tag: raw text lines (`input_format="text"`, words split on whitespace) or CoNLL (`"conll"`:
    the first column of `word ...` lines, blank lines between sentences, `-DOCSTART-` lines skipped).

    Make one with `open_tagging_file`.

    Example:
    >>> import tempfile
    >>> path = tempfile.mktemp(suffix=".txt")
    >>> _ = open(path, "w").write("EU rejects\\n\\nGerman call\\n")
    >>> lines = TaggingFile(path, "text")
    >>> len(lines), [chunk.words for chunk in lines.chunks(2)]
    (3, [[['EU', 'rejects'], []], [['German', 'call']]])
    """

    path: str
    input_format: str
    _num_rows: int = dataclasses.field(default=None, repr=False)

    def _sentences(self):
        """`(text, words, offsets)` per line (text) or per sentence (CoNLL)."""
        if self.input_format == "text":
            for line in _utf8_lines(self.path):
                text = line.rstrip("\r\n")
                found = list(re.finditer(r"\S+", text))
                yield text, [m.group() for m in found], [m.span() for m in found]
            return
        for sentence in conll_sentences(_utf8_lines(self.path)):
            yield _joined([columns[0] for _, columns in sentence])

    def __len__(self):
        """Lines (text) or sentences (CoNLL) in the file (one streaming pass, the first time)."""
        if self._num_rows is None:
            self._num_rows = sum(1 for _ in self._sentences())
        return self._num_rows

    def chunks(self, size):
        """`TaggingChunk`s of at most `size` lines or sentences."""
        return map(_tagging_chunk, _in_lists(self._sentences(), size))


def _joined(words):
    """`(text, words, offsets)` of words joined by single spaces."""
    offsets, start = [], 0
    for word in words:
        offsets.append((start, start + len(word)))
        start += len(word) + 1
    return " ".join(words), list(words), offsets


def _tagging_chunk(rows):
    return TaggingChunk([w for _, w, _ in rows], [t for t, _, _ in rows], [o for _, _, o in rows])


def open_tagging_file(path, input_format="auto"):
    """A file of text to tag (NER): raw text lines or CoNLL, read in chunks.

    Args:
        path: str, the file.
        input_format: `"text"` (one text a line; words are its
            whitespace-separated tokens), `"conll"` (`word ...` lines, the
            word first, blank lines between sentences; any tag columns are
            ignored) or `"auto"`: CoNLL when the file starts with a
            `-DOCSTART-` line, or when its first 200 lines have blank lines
            between lines that all have the same number of columns.

    Returns:
        A `TaggingFile`; its `chunks(size)` gives `TaggingChunk`s.

    Raises:
        FileNotFoundError: no such file.
        ValueError: an unknown `input_format`, or a file without words.

    Example:
    >>> import tempfile
    >>> path = tempfile.mktemp(suffix=".txt")
    >>> _ = open(path, "w").write("-DOCSTART- O\\n\\nEU B-ORG\\nrejects O\\n\\nPeter B-PER\\n")
    >>> conll = open_tagging_file(path)
    >>> conll.input_format, len(conll), next(conll.chunks(5)).texts
    ('conll', 2, ['EU rejects', 'Peter'])
    >>> _ = open(path, "w").write("  Peter  Blackburn\\nEU rejects German call\\n")
    >>> chunk = next(open_tagging_file(path).chunks(5))
    >>> chunk.words[0], chunk.offsets[0], chunk.texts[0][9:18]
    (['Peter', 'Blackburn'], [(2, 7), (9, 18)], 'Blackburn')
    """
    path = os.fspath(path)
    if input_format not in ("auto", "text", "conll"):
        raise ValueError(f"input_format={input_format!r}: use auto, text or conll.")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No file at {path!r}.")
    if input_format == "auto":
        input_format = _detect_tagging_format(path)
    found = TaggingFile(path, input_format)
    if not any(words for _, words, _ in found._sentences()):
        raise ValueError(f"{path}: no words to tag; the file is empty.")
    return found


def _detect_tagging_format(path, sample=200):
    counts, blank_between = set(), False
    for number, line in enumerate(_utf8_lines(path)):
        columns = line.split()
        if number == sample:
            break
        if columns[:1] == ["-DOCSTART-"]:
            return "conll"
        if columns:
            counts.add(len(columns))
        elif counts:
            blank_between = True
    return "conll" if blank_between and len(counts) == 1 else "text"


class TagWriter(_OutputFile):
    """Writes tagged sentences, as the file's extension says.

    `.txt`/`.conll`: CoNLL, `word tag` lines with a blank line after each
    sentence (a text line without words writes nothing). `.jsonl`: one
    object per line or sentence, `{"text": text, "tokens": [{"word",
    "start", "end", "tag"}]}`, `start`/`end` character offsets into `text`.

    Example:
    >>> import io
    >>> chunk = TaggingChunk([["EU", "rejects"]], [" EU rejects"], [[(1, 3), (4, 11)]])
    >>> with TagWriter(io.StringIO(), ".conll") as writer:
    ...     writer.write(chunk, [["B-ORG", "O"]])
    ...     print(writer.file.getvalue(), end="")
    EU B-ORG
    rejects O
    <BLANKLINE>
    >>> with TagWriter(io.StringIO(), ".jsonl") as writer:
    ...     writer.write(chunk, [["B-ORG", "O"]])
    ...     print(writer.file.getvalue(), end="")  # doctest: +NORMALIZE_WHITESPACE
    {"text": " EU rejects", "tokens": [{"word": "EU", "start": 1, "end": 3, "tag": "B-ORG"},
                                       {"word": "rejects", "start": 4, "end": 11, "tag": "O"}]}
    """

    def __init__(self, path, extension=None):
        self.file, self.extension = _open_output(path, extension, TAG_OUTPUT_FORMATS)

    def write(self, chunk, tags):
        """Writes a `TaggingChunk` with its tags (per sentence, a tag string per word)."""
        for words, text, offsets, sentence_tags in zip(chunk.words, chunk.texts, chunk.offsets, tags):
            if self.extension == ".jsonl":
                tokens = [{"word": w, "start": s, "end": e, "tag": t}
                          for w, (s, e), t in zip(words, offsets, sentence_tags)]
                self.file.write(json.dumps({"text": text, "tokens": tokens}, ensure_ascii=False) + "\n")
            elif words:
                self.file.writelines(f"{w} {t}\n" for w, t in zip(words, sentence_tags))
                self.file.write("\n")


class Progress:
    """A progress line: rows done of the total, percent, rate and time left.

    On a terminal it redraws one line; otherwise it writes a line at most
    every `every` seconds (and at the end), for logs.

    Args:
        total: int, the rows to do.
        unit: str, what a row is called.
        stream: where to write (default `sys.stderr`).
        every: seconds between lines when `stream` is not a terminal.
        clock: a seconds counter (`time.monotonic`).

    Example:
    >>> import io
    >>> ticks = iter([0.0, 2.0, 4.0])
    >>> progress = Progress(100, "rows", io.StringIO(), every=0, clock=lambda: next(ticks))
    >>> progress.update(50)
    >>> progress.finish()
    >>> print(progress.stream.getvalue(), end="")
    [##########----------] 50/100 rows (50%), 25.0 rows/s, 0:00:02 left
    [####################] 100/100 rows (100%), 25.0 rows/s, done in 0:00:04
    """

    def __init__(self, total, unit="rows", stream=None, every=10.0, clock=time.monotonic):
        self.total, self.unit, self.every, self.clock = total, unit, every, clock
        self.stream = sys.stderr if stream is None else stream
        self.done = 0
        self._start = clock()
        self._shown = None
        self._terminal = hasattr(self.stream, "isatty") and self.stream.isatty()

    def update(self, done):
        """Sets the rows done so far and shows them when due."""
        self.done = min(done, self.total)
        now = self.clock()
        if self._terminal or self._shown is None or now - self._shown >= self.every:
            self._show(now)

    def finish(self):
        """Shows the final line: all rows done."""
        self.done = self.total
        self._show(self.clock(), final=True)

    def _show(self, now, final=False):
        self._shown = now
        seconds = max(now - self._start, 1e-9)
        rate = self.done / seconds
        share = self.done / self.total if self.total else 1.0
        bar = "#" * round(20 * share) + "-" * (20 - round(20 * share))
        if final:
            timing = f"done in {_clock_time(seconds)}"
        else:
            timing = f"{_clock_time((self.total - self.done) / rate)} left" if rate else "starting"
        line = f"[{bar}] {self.done:,}/{self.total:,} {self.unit} ({share:.0%}), {rate:,.1f} {self.unit}/s, {timing}"
        self.stream.write(("\r" + line + ("\n" if final else "")) if self._terminal else line + "\n")
        self.stream.flush()


def _clock_time(seconds):
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
