"""Decoding on the tiny model: greedy by default, sampling reproducible under a seed (whatever the
batch size), the same settings in the evaluation and in core.chat, old run configs still open."""

from __future__ import annotations

import json
import shutil

import pytest
from omegaconf import OmegaConf

from core.testing import CHAT_EVAL, CHAT_TRAIN, compose_config, run_tiny_chat

SAMPLE = ["generation.do_sample=true", "generation.temperature=1.5", "generation.max_new_tokens=6"]


@pytest.fixture(scope="module")
def tiny_lm(tiny_model):
    """The tiny model, its tokenizer and seven tokenised prompts of different lengths."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    model = AutoModelForCausalLM.from_pretrained(tiny_model).eval()
    prompts = [tokenizer(title, add_special_tokens=False)["input_ids"] for title, _ in CHAT_TRAIN + CHAT_EVAL[:1]]
    assert len({len(p) for p in prompts}) > 1  # left padding is exercised
    return model, tokenizer, prompts


def settings_for(*overrides: str):
    from core.generation import settings

    return settings(compose_config(list(overrides)))


def test_greedy_default_answers_as_plain_transformers_does(tiny_lm):
    import torch

    from core.generation import generate

    model, tokenizer, prompts = tiny_lm
    gen = settings_for("generation.max_new_tokens=6")
    assert gen.do_sample is False
    answers = generate(model, tokenizer, prompts, gen, batch_size=3, desc="greedy")
    stop = tokenizer.eos_token_id
    for prompt, answer in zip(prompts, answers):
        with torch.no_grad():
            out = model.generate(input_ids=torch.tensor([prompt]), max_new_tokens=6, do_sample=False,
                                 eos_token_id=stop, pad_token_id=tokenizer.pad_token_id)
        new = out[0, len(prompt):].tolist()
        new = new[: new.index(stop)] if stop in new else new
        assert tokenizer.decode(new, skip_special_tokens=True).strip() == answer
    # Greedy ignores the seed.
    assert generate(model, tokenizer, prompts, settings_for("generation.max_new_tokens=6", "seed=1"), 7, "g") == answers


def test_same_seed_same_sampled_answers_at_any_batch_size(tiny_lm):
    from core.generation import generate

    model, tokenizer, prompts = tiny_lm
    one_by_one = generate(model, tokenizer, prompts, settings_for(*SAMPLE, "generation.seed=1"), 1, "s")
    assert generate(model, tokenizer, prompts, settings_for(*SAMPLE, "generation.seed=1"), 4, "s") == one_by_one
    assert generate(model, tokenizer, prompts, settings_for(*SAMPLE, "seed=1"), 7, "s") == one_by_one  # the run's seed
    other_seed = generate(model, tokenizer, prompts, settings_for(*SAMPLE, "generation.seed=2"), 4, "s")
    assert sum(a != b for a, b in zip(one_by_one, other_seed)) >= len(prompts) - 1
    greedy = generate(model, tokenizer, prompts, settings_for("generation.max_new_tokens=6"), 4, "g")
    assert sum(a != b for a, b in zip(one_by_one, greedy)) >= len(prompts) - 1


@pytest.fixture(scope="module")
def sampled_run(tiny_model, tmp_path_factory):
    """A task=chat run that samples, given the old task.max_new_tokens key: (run_dir, result, eval file)."""
    run_dir, result, _, eval_ = run_tiny_chat(
        tmp_path_factory.mktemp("sampled"), tiny_model, "task.max_new_tokens=5", "generation.do_sample=true",
        "generation.temperature=1.5", "generation.seed=7", "train.eval_batch_size=1", "train.max_steps=1")
    return run_dir, result, eval_


def chat_answers(run_dir, eval_, out, *overrides: str) -> list[dict]:
    """core.chat's batch mode on ``eval_`` (in this process), its rows as written to ``out``."""
    from core.chat import main as chat

    chat([f"run_dir={run_dir}", f"input={eval_}", f"output={out}", *overrides])
    return [json.loads(line) for line in out.read_text().splitlines()]


def test_sampling_settings_reach_evaluation_and_chat(sampled_run, tmp_path, monkeypatch):
    """The run samples as generation.* says (the old task.max_new_tokens renamed), warns once that
    scores vary with the seed, and core.chat repeats its answers with the run's settings or changes them."""
    monkeypatch.setenv("PLUGTUNE_PROGRESS", "0")
    run_dir, result, eval_ = sampled_run
    log = result.stdout + result.stderr
    assert "task.max_new_tokens is now generation.max_new_tokens" in log
    assert log.count("answers are sampled") == 1, log[-3000:]
    saved = OmegaConf.load(run_dir / ".hydra" / "config.yaml")
    assert saved.generation.max_new_tokens == 5 and "max_new_tokens" not in saved.task
    reported = [json.loads(line) for line in (run_dir / "predictions.jsonl").read_text().splitlines()]

    again = chat_answers(run_dir, eval_, tmp_path / "same.jsonl")  # another process: the same sampled answers
    for model in ("baseline", "finetuned"):
        assert [r[model] for r in again] == [r["prediction"] for r in reported if r["model"] == model]
    other = chat_answers(run_dir, eval_, tmp_path / "other.jsonl", "seed=8", "temperature=2.0")
    assert [r["finetuned"] for r in other] != [r["finetuned"] for r in again]
    greedy = chat_answers(run_dir, eval_, tmp_path / "greedy.jsonl", "do_sample=false", "generation.max_new_tokens=3")
    assert greedy == chat_answers(run_dir, eval_, tmp_path / "greedy2.jsonl", "do_sample=false", "max_new_tokens=3",
                                  "seed=99")


def test_chat_reopens_a_run_saved_before_the_generation_node(sampled_run, tmp_path, monkeypatch):
    """A run config with task.max_new_tokens and no generation node: chat reads the old key (greedy)."""
    monkeypatch.setenv("PLUGTUNE_PROGRESS", "0")
    run_dir, _, eval_ = sampled_run
    old = tmp_path / "old-run"
    shutil.copytree(run_dir, old)
    (old / "config.yaml").unlink()  # a run from then had only the composed config
    saved = OmegaConf.load(old / ".hydra" / "config.yaml")
    del saved["generation"]
    saved.task.max_new_tokens = 2
    OmegaConf.save(saved, old / ".hydra" / "config.yaml")
    assert chat_answers(old, eval_, tmp_path / "old.jsonl") == chat_answers(
        run_dir, eval_, tmp_path / "new.jsonl", "max_new_tokens=2", "do_sample=false")
