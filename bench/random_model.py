"""A randomly initialised model of a known shape, written as a model folder plugtune loads with
``model.path=DIR``: speed and memory depend on a model's shape, not on its weights, so this
measures a 1.5B model's training on a machine that cannot download one.

The tokenizer is the embedded model's (SmolLM2's ChatML tokenizer) unless ``--tokenizer`` names
another folder; its token ids all fall inside every shape's vocabulary. With another model's
tokenizer the same text can split into a different number of tokens, so per-example rates of a
random Qwen-shaped model are not Qwen's; per-token rates are.

    python bench/random_model.py qwen2.5-1.5b /tmp/qwen-shaped [--tokenizer DIR] [--dtype bfloat16]
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

# Public architecture figures of each model's config.json.
SHAPES = {
    "smollm2-135m": dict(
        model_type="llama", hidden_size=576, intermediate_size=1536, num_hidden_layers=30, num_attention_heads=9,
        num_key_value_heads=3, head_dim=64, vocab_size=49152, max_position_embeddings=8192, rms_norm_eps=1e-5,
        rope_theta=100000.0, tie_word_embeddings=True,
    ),
    "qwen2.5-1.5b": dict(
        model_type="qwen2", hidden_size=1536, intermediate_size=8960, num_hidden_layers=28, num_attention_heads=12,
        num_key_value_heads=2, vocab_size=151936, max_position_embeddings=32768, rms_norm_eps=1e-6,
        rope_theta=1000000.0, tie_word_embeddings=True,
    ),
    # For trying this script and the benchmarks that use it in seconds.
    "tiny": dict(
        model_type="llama", hidden_size=64, intermediate_size=128, num_hidden_layers=4, num_attention_heads=4,
        num_key_value_heads=2, vocab_size=49152, max_position_embeddings=2048, tie_word_embeddings=True,
    ),
}
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "chat_template.jinja", "special_tokens_map.json")


def embedded_tokenizer_dir() -> Path:
    """The embedded model's folder (converted on first use), which holds its tokenizer."""
    from core.models import embedded_model_dir
    from core.testing import compose_config

    return Path(embedded_model_dir(compose_config().model))


def write_random_model(shape: str, out: Path, tokenizer_dir: Path | None = None, dtype: str = "bfloat16") -> Path:
    """Write a model of ``shape`` with random weights (the architecture's own initialisation, seed 0)
    and a tokenizer to ``out``; return ``out``."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    figures = dict(SHAPES[shape])
    tokenizer_dir = Path(tokenizer_dir) if tokenizer_dir else embedded_tokenizer_dir()
    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    config = AutoConfig.for_model(
        figures.pop("model_type"), **figures, bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id,
    )
    torch.manual_seed(0)
    # Initialised on the GPU where there is one: drawing 1.5 B random weights took 80 s on the
    # lent H200's CPU cores.
    with torch.device("cuda" if torch.cuda.is_available() else "cpu"):
        model = AutoModelForCausalLM.from_config(config, dtype=getattr(torch, dtype))
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    for name in TOKENIZER_FILES:  # copied, not re-saved: the same files the embedded model uses
        if (tokenizer_dir / name).is_file():
            shutil.copy(tokenizer_dir / name, out / name)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("shape", choices=SHAPES)
    parser.add_argument("out", type=Path)
    parser.add_argument("--tokenizer", type=Path, default=None, help="folder with tokenizer.json (default: the embedded model's)")
    parser.add_argument("--dtype", default="bfloat16")
    args = parser.parse_args()
    out = write_random_model(args.shape, args.out, args.tokenizer, args.dtype)
    print(f"wrote a random {args.shape} model to {out}")


if __name__ == "__main__":
    main()
