"""Prints the released BERT checkpoints that load by name, or writes that table into Markdown files.

    python examples/list_presets.py                   # a table on the terminal
    python examples/list_presets.py --format=markdown
    python examples/list_presets.py --update=docs/presets.md

Every name works as --init_checkpoint of the scripts and in `from_preset`.
"""

import sys

from absl import app, flags

flags.DEFINE_enum("format", "text", ["text", "markdown"], "How to print the table.")
flags.DEFINE_list("update", [], "Markdown files whose section between <!-- presets:begin --> and "
                  "<!-- presets:end --> is replaced by the generated table.")
FLAGS = flags.FLAGS


def main(argv):
    del argv
    from keras_bert.presets import list_presets, preset_table, update_preset_tables

    if FLAGS.update:
        try:
            for path in FLAGS.update:
                changed = update_preset_tables(path)
                print(f"{path}: {'updated' if changed else 'already current'}")
        except (OSError, ValueError) as e:
            sys.exit(f"error: {e}")
        return
    if FLAGS.format == "markdown":
        print(preset_table(), end="")
        return
    print(f"{'name':<58} {'layers':>6} {'hidden':>6} {'params':>8}  cased  source")
    for preset in list_presets():
        print(f"{preset.name:<58} {preset.num_layers:>6} {preset.hidden_size:>6} {preset.parameters / 1e6:>7.1f}M"
              f"  {'no ' if preset.lower_case else 'yes'}    {preset.source}")


if __name__ == "__main__":
    app.run(main)
