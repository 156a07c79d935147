"""Prompt templates render what the model sees, and SFT trains exactly on the answers."""

import pytest

from core import Example, PlugtuneError
from core.kinds import RunContext
from core.testing import compose_config, embedded_tokenizer
from plugins.causal_lm import CausalLmHead
from plugins.chat_template import ChatTemplate, default_system_prompt
from plugins.instruction_templates import ALPACA, PLAIN, load_template_file
from plugins.sft_trainer import SftTrainer

END = "<|im_end|>"  # the embedded tokenizer's end-of-turn and end-of-sequence token

TWO_TURNS = Example(
    messages=[
        {"role": "system", "content": "你是云雀盘的客服。"},
        {"role": "user", "content": "免费版有多少空间？"},
        {"role": "assistant", "content": "免费版提供 15 GB。"},
        {"role": "user", "content": "And the largest file?"},
        {"role": "assistant", "content": "4 GB per file."},
    ],
    source="mem:1",
)

ALPACA_ROW = Example(
    messages=[{"role": "user", "content": "总结下面的句子\n\n云雀盘支持 5 台设备同时登录。"},
              {"role": "assistant", "content": "最多 5 台设备。"}],
    fields={"instruction": "总结下面的句子", "input": "云雀盘支持 5 台设备同时登录。"},
    source="mem:2",
)


@pytest.fixture(scope="module")
def tokenizer():
    return embedded_tokenizer()


def test_chat_template_gives_the_same_ids_as_apply_chat_template(tokenizer):
    cfg = compose_config(["task=chat"])
    rendered = ChatTemplate().render(TWO_TURNS, tokenizer, cfg.task)
    ours = tokenizer(rendered.text, add_special_tokens=False)["input_ids"]
    reference = tokenizer.apply_chat_template(TWO_TURNS.messages, tokenize=True)["input_ids"]
    assert ours == list(reference)
    assert [rendered.text[a:b] for a, b in rendered.train_spans] == ["免费版提供 15 GB。" + END, "4 GB per file." + END]
    assert rendered.prompt == tokenizer.apply_chat_template(TWO_TURNS.messages[:4], tokenize=False, add_generation_prompt=True)
    assert rendered.answer == "4 GB per file."


def test_system_prompt_from_task_and_the_templates_own_is_reported(tokenizer, caplog):
    user_only = Example(messages=[{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}])
    assert "SmolLM" in default_system_prompt(tokenizer)
    with caplog.at_level("WARNING", logger="plugtune"):
        rendered = ChatTemplate().render(user_only, tokenizer, compose_config(["task=chat"]).task)
    assert "SmolLM" in rendered.text and "adds its own system prompt" in caplog.text
    given = compose_config(["task=chat", "task.system_prompt=Be brief."]).task
    rendered = ChatTemplate().render(user_only, tokenizer, given)
    assert "Be brief." in rendered.text and "SmolLM" not in rendered.text


def test_alpaca_and_plain_layouts(tokenizer):
    task = compose_config(["task=qa", "task.system_prompt=null"]).task
    alpaca = ALPACA.render(ALPACA_ROW, tokenizer, task)
    assert alpaca.text == (
        "### Instruction:\n总结下面的句子\n\n### Input:\n云雀盘支持 5 台设备同时登录。\n\n### Response:\n最多 5 台设备。" + END
    )
    assert alpaca.prompt.endswith("### Response:\n")
    plain = PLAIN.render(ALPACA_ROW, tokenizer, task)
    assert plain.text == "Instruction: 总结下面的句子\nInput: 云雀盘支持 5 台设备同时登录。\nAnswer: 最多 5 台设备。" + END
    no_input = Example(messages=[{"role": "user", "content": "Q?"}, {"role": "assistant", "content": "A."}])
    assert PLAIN.render(no_input, tokenizer, task).text == "Instruction: Q?\nAnswer: A." + END


def test_a_template_from_yaml_needs_no_code(tokenizer, tmp_path):
    path = tmp_path / "w5.yaml"
    path.write_text(
        'prompt: "<s>### Instruction:\\n{instruction}{input_block}\\n### Response:\\n"\n'
        'input_block: "\\n{input}"\n'
        'answer_suffix: "</s>"\n'
        'separator: "\\n"\n',
        encoding="utf-8",
    )
    task = compose_config(["task=qa", "task.system_prompt=null", "task.prompt_template=file", f"task.template_file={path}"]).task
    from core.registry import get_registry

    rendered = get_registry().get("prompt_template", "file").render(ALPACA_ROW, tokenizer, task)
    assert rendered.text == "<s>### Instruction:\n总结下面的句子\n云雀盘支持 5 台设备同时登录。\n### Response:\n最多 5 台设备。</s>"
    assert [rendered.text[a:b] for a, b in rendered.train_spans] == ["最多 5 台设备。</s>"]

    jinja = tmp_path / "jinja.yaml"
    jinja.write_text(
        "chat_template: \"{% for m in messages %}[{{ m['role'] }}] {{ m['content'] }}\\n{% endfor %}"
        "{% if add_generation_prompt %}[assistant] {% endif %}\"\n",
        encoding="utf-8",
    )
    rendered = load_template_file(jinja).render(ALPACA_ROW, tokenizer, task)
    assert rendered.prompt == "[user] 总结下面的句子\n\n云雀盘支持 5 台设备同时登录。\n[assistant] "
    assert [rendered.text[a:b] for a, b in rendered.train_spans] == ["最多 5 台设备。"]

    bad = tmp_path / "bad.yaml"
    bad.write_text("promt: x\n")
    with pytest.raises(PlugtuneError, match="needs a 'prompt' key.*unknown: promt"):
        load_template_file(bad)


def trained_runs(tokenizer, ids: list[int], labels: list[int]) -> list[str]:
    """Decoded runs of consecutive tokens whose label is not -100."""
    runs, current = [], []
    for token, label in zip(ids, labels):
        if label == -100:
            if current:
                runs.append(tokenizer.decode(current))
            current = []
        else:
            assert label == token
            current.append(token)
    if current:
        runs.append(tokenizer.decode(current))
    return runs


@pytest.mark.parametrize(
    "template,example,expected",
    [
        ("chat", TWO_TURNS, ["免费版提供 15 GB。" + END, "4 GB per file." + END]),
        ("alpaca", TWO_TURNS, ["免费版提供 15 GB。" + END, "4 GB per file." + END]),
        ("plain", ALPACA_ROW, ["最多 5 台设备。" + END]),
        ("auto", ALPACA_ROW, ["最多 5 台设备。" + END]),
    ],
)
def test_sft_labels_cover_exactly_the_answers(tiny_model, tmp_path, template, example, expected):
    """The labels TRL's SFTTrainer trains on, read back from the trainer itself."""
    cfg = compose_config(["task=qa", f"task.prompt_template={template}", "model.source=local", f"model.path={tiny_model}"])
    ctx = RunContext(cfg=cfg, run_dir=tmp_path, model_dir=str(tiny_model))
    head = CausalLmHead()
    model = head.load(ctx)
    rows = head.encode(ctx, [example])
    trainer = SftTrainer().build(ctx, model, head, rows)
    prepared = trainer.train_dataset[0]
    assert prepared["input_ids"] == rows[0]["input_ids"]
    assert trained_runs(ctx.tokenizer, prepared["input_ids"], prepared["labels"]) == expected
    # The collator TRL trains with keeps those labels.
    batch = trainer.data_collator([prepared])
    assert batch["labels"][0].tolist() == prepared["labels"]


def test_truncation_is_counted_and_keeps_the_start(tiny_model, tmp_path):
    cfg = compose_config(["task=qa", "task.max_length=24", "generation.max_new_tokens=8", "model.source=local", f"model.path={tiny_model}"])
    ctx = RunContext(cfg=cfg, run_dir=tmp_path, model_dir=str(tiny_model))
    head = CausalLmHead()
    head.load_tokenizer(ctx)
    long = Example(messages=[{"role": "user", "content": "word " * 60}, {"role": "assistant", "content": "ok"}])
    short = Example(messages=[{"role": "user", "content": "hi"}, {"role": "assistant", "content": "ok"}])
    cfg_rows = head.encode(ctx, [long, short])
    assert [r["truncated"] for r in cfg_rows] == [True, True]  # even "hi" has a long system prompt here
    assert all(len(r["input_ids"]) == 24 for r in cfg_rows)
    assert sum(cfg_rows[0]["completion_mask"]) == 0  # the answer was cut away: this row trains nothing
    assert len(cfg_rows[0]["prompt_ids"]) == 16  # generation keeps the prompt's end, room for 8 new tokens


def test_packing_without_flash_attention_is_refused(tiny_model, tmp_path):
    cfg = compose_config(["task=qa", "train.packing=true", "model.source=local", f"model.path={tiny_model}"])
    ctx = RunContext(cfg=cfg, run_dir=tmp_path, model_dir=str(tiny_model))
    head = CausalLmHead()
    model = head.load(ctx)
    rows = head.encode(ctx, [ALPACA_ROW])
    with pytest.raises(PlugtuneError, match="train.packing=true needs flash attention"):
        SftTrainer().build(ctx, model, head, rows)


def test_answer_only_loss_equals_the_models_own_loss(tiny_model, tmp_path):
    """The fast loss (output layer on answer positions only) is the same number, with and
    without gradient-accumulation normalisation."""
    import torch

    from core.speedups.answer_logits import answer_only_loss

    cfg = compose_config(["task=qa", "model.source=local", f"model.path={tiny_model}"])
    ctx = RunContext(cfg=cfg, run_dir=tmp_path, model_dir=str(tiny_model))
    head = CausalLmHead()
    model = head.load(ctx)
    for name, param in model.named_parameters():  # LoRA B starts at 0; make the adapter count
        if "lora_B" in name:
            torch.nn.init.normal_(param, std=0.2)
    model.eval()  # no LoRA dropout, so both losses see the same network
    batch = head.collator(ctx)(head.encode(ctx, [TWO_TURNS, ALPACA_ROW]))
    expected = model(**batch).loss
    assert answer_only_loss(model, batch).item() == pytest.approx(expected.item(), rel=1e-5)
    labelled = int((batch["labels"][:, 1:] != -100).sum())
    assert answer_only_loss(model, batch, num_items_in_batch=2 * labelled).item() == pytest.approx(expected.item() / 2, rel=1e-5)


def test_lora_target_presets(tiny_model):
    from transformers import AutoModelForCausalLM

    from core.heads import lora_targets

    model = AutoModelForCausalLM.from_pretrained(tiny_model)
    assert lora_targets(["qv"], model) == ["q_proj", "v_proj"]
    assert lora_targets(["attention"], model) == ["q_proj", "k_proj", "v_proj", "o_proj"]
    assert lora_targets(["all-linear"], model) == ["down_proj", "gate_proj", "k_proj", "o_proj", "q_proj", "up_proj", "v_proj"]
    assert lora_targets(["q_proj", "k_proj"], model) == ["q_proj", "k_proj"]
    with pytest.raises(PlugtuneError, match="preset 'attention' must be used alone"):
        lora_targets(["attention", "q_proj"], model)
