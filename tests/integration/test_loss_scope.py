"""``train.loss_on``: ``answer`` trains the answers only, ``all`` the whole rendered text (prompt
included), in both trainers' labels and in what ``mode=inspect`` marks as trained."""

from __future__ import annotations

import pytest

from core import Example
from core.inspect_data import TRAINED_CLOSE, TRAINED_OPEN, inspect
from core.kinds import RunContext
from core.pipeline import Plugins
from core.testing import compose_config, generation_overrides, write_chat_data
from plugins.causal_lm import CausalLmHead
from plugins.sft_trainer import SftTrainer

ROW = Example(
    messages=[{"role": "system", "content": "Be brief."},
              {"role": "user", "content": "What is the capital of France?"},
              {"role": "assistant", "content": "Paris."}],
    source="mem:1",
)


def context(tiny_model, tmp_path, loss_on: str, template: str = "chat") -> RunContext:
    cfg = compose_config(["task=qa", f"task.prompt_template={template}", f"train.loss_on={loss_on}",
                          "model.source=local", f"model.path={tiny_model}"])
    return RunContext(cfg=cfg, run_dir=tmp_path, model_dir=str(tiny_model))


@pytest.mark.parametrize("template", ["chat", "plain"])
def test_sft_labels_cover_the_prompt_only_with_loss_on_all(tiny_model, tmp_path, template):
    """The labels TRL's SFTTrainer trains on, read back from the configured trainer."""
    head = CausalLmHead()
    labels = {}
    for loss_on in ("answer", "all"):
        ctx = context(tiny_model, tmp_path, loss_on, template)
        model = head.load(ctx)
        [row] = head.encode(ctx, [ROW])
        trainer = SftTrainer().build(ctx, model, head, [row])
        prepared = trainer.train_dataset[0]
        assert prepared["input_ids"] == row["input_ids"]
        batch = trainer.data_collator([prepared])  # what a training step sees
        labels[loss_on] = batch["labels"][0].tolist()
        prompt_length = len(row["prompt_ids"])
    ids = row["input_ids"]
    assert labels["all"] == ids  # every token, the prompt's included
    assert labels["answer"][:prompt_length] == [-100] * prompt_length
    answer = [token for token, label in zip(ids, labels["answer"]) if label != -100]
    assert labels["answer"][prompt_length] == ids[prompt_length]
    assert ctx.tokenizer.decode(answer) == "Paris." + ctx.tokenizer.eos_token


def test_the_hf_trainers_collator_follows_loss_on(tiny_model, tmp_path):
    head = CausalLmHead()
    batches = {}
    for loss_on in ("answer", "all"):
        ctx = context(tiny_model, tmp_path, loss_on)
        head.load_tokenizer(ctx)
        rows = head.encode(ctx, [ROW])
        batches[loss_on] = head.collator(ctx)(rows)["labels"][0].tolist()
    ids, prompt_length = rows[0]["input_ids"], len(rows[0]["prompt_ids"])
    assert batches["all"] == ids
    assert batches["answer"][:prompt_length] == [-100] * prompt_length
    assert ctx.tokenizer.decode([t for t, label in zip(ids, batches["answer"]) if label != -100]) == "Paris.<|im_end|>"


def test_a_row_whose_answer_is_cut_away_trains_nothing_under_either_scope(tiny_model, tmp_path):
    long = Example(messages=[{"role": "user", "content": "word " * 60}, {"role": "assistant", "content": "ok"}])
    for loss_on in ("answer", "all"):
        cfg = compose_config(["task=qa", "task.max_length=24", f"train.loss_on={loss_on}",
                              "model.source=local", f"model.path={tiny_model}"])
        ctx = RunContext(cfg=cfg, run_dir=tmp_path, model_dir=str(tiny_model))
        head = CausalLmHead()
        head.load_tokenizer(ctx)
        [row] = head.encode(ctx, [long])
        assert row["answer_cut"] and not any(row["completion_mask"]), loss_on


@pytest.mark.parametrize("loss_on", ["answer", "all"])
def test_inspect_marks_what_loss_on_trains(tiny_model, tmp_path, loss_on):
    train, eval_ = write_chat_data(tmp_path)
    cfg = compose_config(["task=chat", f"train.loss_on={loss_on}", *generation_overrides(tiny_model, train, eval_)])
    report = inspect(cfg, Plugins.resolve(cfg))
    assert f"trained tokens per row (train.loss_on={loss_on}" in report
    shown = report.rsplit(f"in {TRAINED_OPEN} {TRAINED_CLOSE}:\n", 1)[1]
    if loss_on == "all":
        assert shown.startswith(TRAINED_OPEN) and shown.endswith(TRAINED_CLOSE) and shown.count(TRAINED_OPEN) == 1
    else:
        assert not shown.startswith(TRAINED_OPEN) and shown.count(TRAINED_OPEN) == 1
