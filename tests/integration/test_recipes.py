"""Recipe presets (conf/recipe/, docs/recipes.md): one per tutorial of docs/workflows.md.

1. Every recipe composes and trains a few steps on the tiny model, on the shipped example data it
   points at (the run a user gets with no training file named, on a smaller model).
2. The acceptance point of issue 26: rows written in each tutorial's *literal* layout, read and
   encoded through the recipe exactly as ``mode=inspect`` does (``core/inspect_data.py``), give
   token for token the ids the tutorial's script builds (its formatting reimplemented here, as the
   tutorial states it), and the trained tokens are the recipe's loss scope (the answer, or every
   token).

The tiny model carries the embedded SmolLM2 tokenizer, whose chat template is ChatML like Qwen's.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from core.data import load_data
from core.kinds import RunContext
from core.pipeline import Plugins
from core.shipped_data import resolve_data_paths
from core.testing import compose_config, run_cli, write_jsonl

RECIPES = sorted(p.stem for p in (Path(__file__).resolve().parents[2] / "conf" / "recipe").glob("*.yaml"))


def test_one_recipe_per_tutorial():
    assert {"intent-classifier", "alpaca-qa", "csv-export-sft", "toolcall-json", "business-qa",
            "business-qa-conversation"} <= set(RECIPES)
    assert not [name for name in RECIPES if re.search(r"(^|-)w\d", name)], "recipes are named for what they do"


def test_a_recipe_replaces_the_task_presets_and_the_command_line_wins():
    """recipe comes after task in conf/config.yaml: its overrides replace the task's peft/train
    presets; a recipe names no model; the command line still wins over the recipe."""
    task = compose_config(["task=toolcall"])
    recipe = compose_config(["recipe=toolcall-json"])
    assert task.peft.top_layers == 12 and recipe.peft.top_layers is None  # the task's preset is gone
    assert (recipe.train.lr, recipe.train.epochs, recipe.peft.r) == (1e-4, 8, 8)
    assert recipe.model.name == task.model.name  # the task's default model
    mine = compose_config(["recipe=toolcall-json", "model=qwen2.5-0.5b", "train.lr=3e-4", "peft.r=16"])
    assert (mine.model.name, mine.train.lr, mine.peft.r) == ("qwen2.5-0.5b", 3e-4, 16)
    for name in RECIPES:
        assert compose_config([f"recipe={name}"]).model.name == compose_config(
            [f"task={compose_config([f'recipe={name}']).task.name}"]).model.name


@pytest.mark.parametrize("recipe", RECIPES)
def test_recipe_trains_on_its_shipped_data(recipe, tiny_model, tmp_path):
    """``python -m core recipe=NAME`` with no data named: the shipped set, in the recipe's layout,
    loads, trains two steps and is scored (model and sizes shrunk for the test)."""
    run_dir = tmp_path / "run"
    result = run_cli(
        "core", f"recipe={recipe}", "model.source=local", f"model.path={tiny_model}",
        "train.max_steps=2", "train.batch_size=2", "train.grad_accum=1", "train.logging_steps=1",
        "data.max_train_rows=8", "data.max_eval_rows=3", "generation.max_new_tokens=4",
        f"hydra.run.dir={run_dir}",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    ran = json.loads((run_dir / "results.json").read_text())["config"]
    recipe_cfg = compose_config([f"recipe={recipe}"])
    # The run used the recipe's LoRA, learning rate and loss scope, not the task's presets.
    assert ran["peft"] == OmegaConf.to_container(recipe_cfg.peft)
    assert (ran["train"]["lr"], ran["train"]["loss_on"]) == (recipe_cfg.train.lr, recipe_cfg.train.loss_on.value)
    assert ran["task"]["prompt_template"] == recipe_cfg.task.prompt_template
    assert (run_dir / "adapter" / "adapter_config.json").is_file()


def test_toolcall_recipe_keeps_checkpoints_to_merge(tiny_model, tmp_path):
    """The tool-call tutorial merges an earlier checkpoint (checkpoint-100): the recipe keeps its
    checkpoints after the run, and ``core.export checkpoint=N`` merges one."""
    run_dir = tmp_path / "run"
    result = run_cli(
        "core", "recipe=toolcall-json", "model.source=local", f"model.path={tiny_model}",
        "train.max_steps=2", "train.save_steps=1", "train.batch_size=2", "train.grad_accum=1",
        "data.max_train_rows=4", "data.max_eval_rows=2", "generation.max_new_tokens=4", f"hydra.run.dir={run_dir}",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert (run_dir / "checkpoints").is_dir()
    exported = run_cli("core.export", f"run_dir={run_dir}", "checkpoint=1")
    assert exported.returncode == 0, exported.stderr[-3000:]
    assert (run_dir / "merged-checkpoint-1" / "config.json").is_file()


# --- the tutorials' literal layouts -----------------------------------------------------------------


def encode_through(recipe: str, tiny_model: Path, train: Path, *overrides: str, split: str = "train"):
    """The recipe's rows of ``split`` (train, or eval), read with ``train`` as the training file,
    encoded as ``mode=inspect`` encodes them."""
    cfg = compose_config([f"recipe={recipe}", "model.source=local", f"model.path={tiny_model}",
                          f"data.train_path={train}", f"data.eval_path={train}", *overrides])
    resolve_data_paths(cfg)
    plugins = Plugins.resolve(cfg)
    data = load_data(cfg, plugins.data_format)
    ctx = RunContext(cfg=cfg, run_dir=None, model_dir=str(tiny_model), labels=list(cfg.task.labels),
                     template=plugins.template)
    plugins.head.load_tokenizer(ctx)
    return cfg, ctx.tokenizer, plugins.head.encode(ctx, data.train if split == "train" else data.eval)


def assert_same_tokens(tokenizer, got: list[int], expected: list[int]) -> None:
    """Token-by-token equality, with both texts shown when they differ."""
    assert got == expected, (
        f"\nplugtune: {[tokenizer.decode([t]) for t in got]}\ntutorial: {[tokenizer.decode([t]) for t in expected]}"
    )


INTENT_ROWS = [
    {"text": "信用卡找不到了,先帮我停掉", "label": "card_lost"},
    {"text": "有人冒充客服让我转账，这是不是诈骗", "label": "fraud_risk"},
    {"text": "昨天买的东西退了，钱什么时候退回来", "label": "refund"},
    {"text": "帮我查一下储蓄卡还剩多少钱", "label": "balance"},
    {"text": "你们网点几点开门", "label": "other"},
    {"text": "我想办一笔贷款", "label": "loan"},  # not one of the five: the tutorial drops it
]
INTENT_LABELS = ["fraud_risk", "refund", "balance", "card_lost", "other"]


def test_intent_classifier_renders_the_tutorials_inputs(tiny_model, tmp_path):
    """Intent tutorial: ``tokenizer(text, truncation=True, max_length=64)`` (padding aside) and
    label2id over its five labels; a row with another label is dropped."""
    train = write_jsonl(tmp_path / "train.jsonl", INTENT_ROWS)
    cfg, tokenizer, rows = encode_through("intent-classifier", tiny_model, train)
    kept = [r for r in INTENT_ROWS if r["label"] in INTENT_LABELS]
    assert len(rows) == len(kept)
    for row, source in zip(rows, kept):
        expected = tokenizer(source["text"], truncation=True, max_length=64)["input_ids"]
        assert_same_tokens(tokenizer, row["input_ids"], expected)
        assert row["labels"] == INTENT_LABELS.index(source["label"])


ALPACA_ROWS = [
    {"instruction": "根据云雀盘的产品资料回答问题", "input": "免费版有多大空间？", "output": "免费版提供18GB空间。"},
    # An answer that starts with a Latin word: the prompt's trailing space would merge with it
    # if prompt and answer were tokenised together; the tutorial tokenises them apart.
    {"instruction": "回答用户关于云雀盘的问题", "input": "会员叫什么", "output": "VIP会员每月19元。"},
    {"instruction": "Answer the user's question about SkylarkDrive.", "input": "how long are share links valid?",
     "output": "Share links are valid for 10 days."},
]


def test_alpaca_qa_renders_the_tutorials_tokens(tiny_model, tmp_path):
    """Alpaca Q&A tutorial: ``tokenizer(prompt) + tokenizer(answer) + [eos]`` with the plain
    prompt ``Instruction: …\\nInput: …\\nAnswer: ``; the loss on the answer and eos only."""
    train = tmp_path / "train.json"
    train.write_text(json.dumps(ALPACA_ROWS, ensure_ascii=False, indent=2), encoding="utf-8")
    cfg, tokenizer, rows = encode_through("alpaca-qa", tiny_model, train)
    assert len(rows) == len(ALPACA_ROWS)
    for row, source in zip(rows, ALPACA_ROWS):
        prompt = f"Instruction: {source['instruction']}\nInput: {source['input']}\nAnswer: "
        prompt_ids = tokenizer(prompt)["input_ids"]
        answer_ids = tokenizer(source["output"])["input_ids"] + [tokenizer.eos_token_id]
        assert_same_tokens(tokenizer, row["input_ids"], prompt_ids + answer_ids)
        assert row["completion_mask"] == [0] * len(prompt_ids) + [1] * len(answer_ids)
        assert row["prompt_ids"] == prompt_ids  # generation starts where training's answer starts


CSV_ROWS = [
    ("instruction", "input", "output"),
    ("<p>根据云雀盘的产品资料回答下面的问题。</p>", "免费版  有多大<b>空间</b>？", "免费版提供18GB空间。"),
    ("回答用户关于云雀盘的问题", "\t分享链接默认   几天有效", "<span>分享链接默认10天有效。</span>"),
    ("<br/>", "", "这行清洗后没有指令，被丢掉"),  # the tutorial drops rows left empty
    ("Answer the user's question about SkylarkDrive.", "<i>business</i> edition price?",
     "The Business plan costs 39 yuan per user per month."),
]


def tutorial_clean(text: str) -> str:
    """The CSV tutorial's cleaning: strip HTML tags, collapse whitespace."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", text)).strip()


def test_csv_export_sft_renders_the_tutorials_tokens(tiny_model, tmp_path):
    """CSV-export tutorial: clean, drop empty rows, format
    ``### Instruction:\\n…\\n\\n### Input:\\n…\\n\\n### Response:\\n…``; TRL appends eos, tokenises
    the whole text and trains every token of it."""
    train = tmp_path / "export.csv"
    with train.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(CSV_ROWS)
    cfg, tokenizer, rows = encode_through("csv-export-sft", tiny_model, train)
    cleaned = [tuple(tutorial_clean(cell) for cell in row) for row in CSV_ROWS[1:]]
    kept = [row for row in cleaned if row[0] and row[2]]
    assert len(rows) == len(kept) == 3
    for row, (instruction, input_text, output) in zip(rows, kept):
        text = f"### Instruction:\n{instruction}\n\n### Input:\n{input_text}\n\n### Response:\n{output}"
        expected = tokenizer(text + tokenizer.eos_token)["input_ids"]
        assert_same_tokens(tokenizer, row["input_ids"], expected)
        assert row["completion_mask"] == [1] * len(expected)  # loss_on=all: prompt tokens too


TOOLCALL_ROWS = [
    {"instruct": "马上开一个周例会", "input": "",
     "output": {"tool_name": "INSTANT_MEETING", "parameters": {"meeting_name": "周例会"}}},
    {"instruct": "好，邀情王磊", "input": "", "output": {"tool_name": "INVITE_PARTICIPANT", "parameters": {"name": "王磊"}}},
    {"instruct": "嗯，over，结束吧", "input": "", "output": {"tool_name": "END_MEETING", "parameters": {}}},
    {"instruct": "今天天气怎么样", "input": "", "output": "抱歉，我只能帮您处理会议相关的操作。"},
]
TOOLCALL_SYSTEM = "你是会议语音助手，请把用户的指令转换为工具调用。"


def test_toolcall_json_renders_the_tutorials_tokens(tiny_model, tmp_path):
    """Tool-call tutorial: ChatML through the tokenizer's chat template, the fixed system line,
    user = instruct + input, assistant = the output as JSON text; the prompt masked (-100)."""
    train = tmp_path / "train.json"
    train.write_text(json.dumps(TOOLCALL_ROWS, ensure_ascii=False, indent=2), encoding="utf-8")
    cfg, tokenizer, rows = encode_through("toolcall-json", tiny_model, train)
    assert len(rows) == len(TOOLCALL_ROWS)
    for row, source in zip(rows, TOOLCALL_ROWS):
        output = source["output"]
        # The tutorial does not say how the script writes the object as text; compact JSON with
        # non-ASCII kept is chosen (plugtune's documented form; docs/recipes.md notes it).
        answer = output if isinstance(output, str) else json.dumps(output, ensure_ascii=False, separators=(",", ":"))
        messages = [{"role": "system", "content": TOOLCALL_SYSTEM},
                    {"role": "user", "content": source["instruct"] + source["input"]},
                    {"role": "assistant", "content": answer}]
        expected = list(tokenizer.apply_chat_template(messages, tokenize=True)["input_ids"])
        prompt = list(tokenizer.apply_chat_template(messages[:2], tokenize=True, add_generation_prompt=True)["input_ids"])
        assert_same_tokens(tokenizer, row["input_ids"], expected)
        # Trained: the answer through <|im_end|>; the newline after it is layout, as in every
        # chat-template row (docs/recipes.md).
        assert expected[len(prompt):][-2:] == tokenizer("<|im_end|>\n", add_special_tokens=False)["input_ids"]
        assert row["completion_mask"] == [0] * len(prompt) + [1] * (len(expected) - len(prompt) - 1) + [0]
        assert row["prompt_ids"] == prompt


BUSINESS_ROWS = [
    {"instruction": "云雀盘免费版有多大空间？", "response": "免费版提供18GB空间。"},
    {"instruction": "人工客服几点上班？", "response": "人工客服每天8:30到22:00在线。"},
    {"instruction": "business edition price per seat?", "response": "The Business plan costs 39 yuan per user per month."},
]


def business_text(instruction: str, response: str) -> str:
    """The business-Q&A tutorial's training text."""
    return f"<s>### Instruction:\n{instruction}\n### Response:\n{response}</s>"


def test_business_qa_renders_the_tutorials_tokens(tiny_model, tmp_path):
    """Business-Q&A tutorial: ``<s>### Instruction:\\n…\\n### Response:\\n…</s>`` tokenised whole,
    labels = input_ids (only padding is -100): every token trained."""
    train = write_jsonl(tmp_path / "qa.jsonl", BUSINESS_ROWS)
    cfg, tokenizer, rows = encode_through("business-qa", tiny_model, train)
    assert len(rows) == len(BUSINESS_ROWS)
    for row, source in zip(rows, BUSINESS_ROWS):
        expected = tokenizer(business_text(source["instruction"], source["response"]))["input_ids"]
        assert_same_tokens(tokenizer, row["input_ids"], expected)
        assert row["completion_mask"] == [1] * len(expected)


def test_business_qa_answers_typed_questions_with_the_tutorials_prompt(tiny_model, tmp_path):
    """The tutorial's side-by-side loop asks questions without answers: such eval rows are read
    (not refused) and prompted with the training layout up to ``### Response:\n``."""
    train = write_jsonl(tmp_path / "qa.jsonl", BUSINESS_ROWS)
    questions = write_jsonl(tmp_path / "questions.jsonl", [{"instruction": "云雀盘的客服电话是多少？"}])
    cfg, tokenizer, rows = encode_through("business-qa", tiny_model, train, f"data.eval_path={questions}", split="eval")
    assert [r["answer"] for r in rows] == [None]
    expected = tokenizer("<s>### Instruction:\n云雀盘的客服电话是多少？\n### Response:\n")["input_ids"]
    assert_same_tokens(tokenizer, rows[0]["prompt_ids"], expected)


CONVERSATION_ROWS = [
    {"conversation": [
        {"system": "你是云雀盘的客服，请简短回答用户的问题。", "input": "免费版有多大空间？", "output": "免费版提供18GB空间。"},
        {"input": "那会员呢", "output": "标准会员有2TB空间。"},
    ]},
    {"conversation": [{"input": "人工客服几点上班？", "output": "人工客服每天8:30到22:00在线。"}]},
]


def test_business_qa_conversation_renders_one_sample_per_turn(tiny_model, tmp_path):
    """Business-Q&A tutorial, multi-turn rows: each turn flattened to its own
    (instruction=input, response=output) pair in the same layout; every token trained."""
    train = write_jsonl(tmp_path / "conversation.jsonl", CONVERSATION_ROWS)
    cfg, tokenizer, rows = encode_through("business-qa-conversation", tiny_model, train)
    turns = [turn for row in CONVERSATION_ROWS for turn in row["conversation"]]
    assert len(rows) == len(turns)
    for row, turn in zip(rows, turns):
        expected = tokenizer(business_text(turn["input"], turn["output"]))["input_ids"]
        assert_same_tokens(tokenizer, row["input_ids"], expected)
        assert row["completion_mask"] == [1] * len(expected)
