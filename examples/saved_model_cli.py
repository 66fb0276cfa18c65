"""TensorFlow's saved_model_cli, with tensorflow-text's ops registered, for the exported SavedModels.

    python examples/saved_model_cli.py run --dir=/tmp/sst2_savedmodel --tag_set=serve \
        --signature_def=serving_default --input_exprs='text=["a gorgeous, witty film"]'
    python examples/saved_model_cli.py show --dir=/tmp/sst2_savedmodel --all

The plain `saved_model_cli` cannot run any SavedModel that tokenizes with
tensorflow-text ("Op type not registered 'NormalizeUTF8'"): it never imports
tensorflow_text. This is the same tool, with that import first; flags and
output are saved_model_cli's own.
"""

import sys

import tensorflow_text  # noqa: F401 (registers the tokenizer ops the SavedModels use)
from tensorflow.python.tools import saved_model_cli

if __name__ == "__main__":
    sys.argv[0] = "saved_model_cli"
    saved_model_cli.main()
