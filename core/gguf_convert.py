"""``python -m core.gguf_convert CONVERTER_DIR PRE SCRIPT ARGS...``: run one of llama.cpp's
converter scripts (``convert_hf_to_gguf.py``, ``convert_lora_to_gguf.py``) from ``CONVERTER_DIR``
as its own command line does, in a process of its own.

One addition: a byte-level tokenizer whose pre-tokenizer the converter does not recognise (it
knows tokenizers by a hash of how they split a test text, and plugtune's embedded models carry
tokenizers rebuilt from GGUF files, which hash differently from the hub's) is written with the
llama.cpp pre-tokenizer ``PRE`` that :func:`core.gguf_export.pre_tokenizer_name` matched from the
tokenizer's own split pattern, instead of stopping. ``PRE`` ``-`` keeps the converter's refusal.
"""

from __future__ import annotations

import logging
import runpy
import sys
from pathlib import Path


def main(argv: list[str]) -> None:
    converter_dir, pre, script, *args = argv
    folder = Path(converter_dir)
    sys.path.insert(0, str(folder))
    sys.path.insert(1, str(folder / "gguf-py"))  # the converter's own gguf, as its scripts do
    from conversion import base  # noqa: the converter's package, from CONVERTER_DIR

    recognised = base.TextModel.get_vocab_base_pre

    def get_vocab_base_pre(self, tokenizer):
        try:
            return recognised(self, tokenizer)
        except NotImplementedError:
            if pre == "-":
                raise
            logging.getLogger("plugtune").warning(
                "tokenizer.ggml.pre: the converter does not know this tokenizer's hash; its split pattern is "
                "llama.cpp's %r, written as such", pre)
            return pre

    base.TextModel.get_vocab_base_pre = get_vocab_base_pre
    sys.argv = [str(folder / script), *args]
    runpy.run_path(str(folder / script), run_name="__main__")


if __name__ == "__main__":
    main(sys.argv[1:])
