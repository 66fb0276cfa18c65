#!/bin/sh
# The interpreter of //:venv_python_toolchain: the virtual environment that KERAS_BERT_PYTHON names.
if [ -z "${KERAS_BERT_PYTHON:-}" ]; then
    echo "KERAS_BERT_PYTHON is not set: name the virtual environment's interpreter," \
        "e.g. KERAS_BERT_PYTHON=\$PWD/.venv-ci/bin/python bazel test //:fast" >&2
    exit 2
fi
exec "$KERAS_BERT_PYTHON" "$@"
