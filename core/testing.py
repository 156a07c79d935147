"""Helpers for testing plugtune and plugins: a tiny model, tiny data, inline plugins, configs.

Used by plugtune's own tests and meant for plugin authors' tests too::

    from core.testing import compose_config, inline_plugin, tiny_model_dir
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

INTENT_LABELS = ["fraud_risk", "refund", "balance", "card_lost", "other"]


def embedded_tokenizer():
    """The embedded model's real tokenizer, read from the converted cache (converting once)."""
    from transformers import AutoTokenizer

    from core.models import embedded_model_dir

    return AutoTokenizer.from_pretrained(embedded_model_dir(compose_config(["model=smollm2-135m"]).model))


def tiny_model_dir(path: Path, seed: int = 0, layers: int = 2) -> Path:
    """Write a randomly initialised Qwen2 model (``layers`` blocks, hidden 64) with a real tokenizer.

    Loads in well under a second, so unit tests can run the whole pipeline on it.
    """
    import torch
    from transformers import AutoModelForCausalLM, Qwen2Config

    path = Path(path)
    if (path / "config.json").is_file():
        return path
    tokenizer = embedded_tokenizer()
    torch.manual_seed(seed)
    config = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=512,
        tie_word_embeddings=True,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    AutoModelForCausalLM.from_config(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def write_intent_rows(path: Path, rows: list[tuple[str, str]]) -> Path:
    """Write ``(text, label)`` pairs as text/label JSONL."""
    path = Path(path)
    path.write_text("".join(json.dumps({"text": t, "label": l}, ensure_ascii=False) + "\n" for t, l in rows), encoding="utf-8")
    return path


def tiny_intent_data(directory: Path, per_label: int = 8) -> tuple[Path, Path]:
    """Small, easy train/eval files for the five intent labels (keyword per label)."""
    keywords = {"fraud_risk": "诈骗", "refund": "退款", "balance": "余额", "card_lost": "挂失", "other": "开门"}
    train = [(f"{kw}{'请问' * (i % 3)}{i}", label) for label, kw in keywords.items() for i in range(per_label)]
    evals = [(f"{kw}你好{i}", label) for label, kw in keywords.items() for i in range(2)]
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    return write_intent_rows(directory / "train.jsonl", train), write_intent_rows(directory / "eval.jsonl", evals)


def compose_config(overrides: list[str] | None = None, return_hydra_config: bool = False):
    """Compose plugtune's config as ``python -m core`` would, without running anything.

    ``return_hydra_config=True`` keeps the ``hydra`` node (sweeper, launcher, callbacks).
    """
    from hydra import compose, initialize_config_module

    import core.config  # noqa: F401  (registers the schema)
    from core.speedups.config import rename_legacy_overrides

    with initialize_config_module(config_module="conf", version_base="1.3"):
        return compose(config_name="config", overrides=rename_legacy_overrides(list(overrides or [])),
                       return_hydra_config=return_hydra_config)


@contextlib.contextmanager
def inline_plugin(plugin, name: str = "inline-test-plugin"):
    """Register ``plugin`` (a module or object with @hookimpl functions) for the block's duration."""
    from core.plugins import get_plugin_manager

    pm = get_plugin_manager()
    pm.register(plugin, name=name)
    try:
        yield pm
    finally:
        pm.unregister(name=name)
