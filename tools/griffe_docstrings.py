"""A griffe extension for the API reference: reads this package's docstrings as the doctests see them.

The docstrings are Google style with doctest examples written flush with their `Example:` header, as
`pytest --doctest-modules` runs them. Griffe's Google parser expects section contents indented, so it would
render those examples as Markdown prose (where `[CLS]` or `x[0]` become broken links). This extension, run
by mkdocstrings when `mkdocs build` loads the package statically, rewrites each docstring before it is parsed:

- every doctest block (a `>>>` line and what follows it up to a blank line) becomes a fenced `pycon` block;
- a parameter list that spans lines ("vocab_size, hidden_size,\n    num_layers: as in ...") is joined onto
  one line, so the parser reads the names and their description as one entry.

The source files are not changed.
"""

import re

import griffe

_NAME_LIST_LINE = re.compile(r"^\s*\*{0,2}\w+(\s*,\s*\*{0,2}\w+)*\s*,\s*$")
_SECTIONS_WITH_NAMES = ("Args:", "Arguments:", "Parameters:", "Attributes:", "Keyword Args:", "Other Parameters:")


def fence_doctests(text):
    """Wraps each doctest block of `text` in a fenced `pycon` code block."""
    lines, out, i = text.split("\n"), [], 0
    while i < len(lines):
        line = lines[i]
        if line.lstrip().startswith(">>>"):
            indent = line[: len(line) - len(line.lstrip())]
            block = []
            while i < len(lines) and lines[i].strip():
                block.append(lines[i][len(indent):] if lines[i].startswith(indent) else lines[i].lstrip())
                i += 1
            if out and out[-1].strip():
                out.append("")
            out += [f"{indent}```pycon", *(indent + b for b in block), f"{indent}```"]
            continue
        out.append(line)
        i += 1
    return "\n".join(out)


def join_name_lists(text):
    """Joins parameter names listed over several lines, in sections that list names."""
    lines, out, in_section = text.split("\n"), [], False
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.strip() in _SECTIONS_WITH_NAMES:
            in_section = True
        elif line.strip().endswith(":") and not line.startswith((" ", "\t")):
            in_section = line.strip() in _SECTIONS_WITH_NAMES
        if in_section:
            while _NAME_LIST_LINE.match(line) and i + 1 < len(lines) and lines[i + 1].strip():
                i += 1
                line = f"{line.rstrip()} {lines[i].strip()}"
        out.append(line)
        i += 1
    return "\n".join(out)


class DocstringsAsDoctestsSeeThem(griffe.Extension):
    """Applies `join_name_lists` and `fence_doctests` to every docstring griffe loads."""

    def on_instance(self, *, obj, **kwargs):
        if obj.docstring is not None:
            obj.docstring.value = fence_doctests(join_name_lists(obj.docstring.value))
