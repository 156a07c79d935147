"""No silent drops on the tiny model: a training row whose answer task.max_length cuts away is named
(log, results.json, report.md); a chat template that does not render a row's tool calls stops the
run in one line instead of training an empty answer. The label cases (no model) are in
tests/unit/test_silent_drops.py."""

import json
import logging

import pytest

from core import Example, PlugtuneError
from core.pipeline import run
from core.testing import (CHAT_EVAL, CHAT_TRAIN, chat_row, compose_config, embedded_tokenizer, generation_overrides,
                          run_cli, write_jsonl)
from plugins.chat_template import ChatTemplate

CALL = {"type": "function", "function": {"name": "SET_REMINDER", "arguments": "{\"meeting_name\":\"周会\",\"minutes_before\":12}"}}
TOOLS = [{"type": "function", "function": {"name": "SET_REMINDER", "description": "提醒",
                                            "parameters": {"type": "object", "properties": {}}}}]


def tool_row(content=None, tools=TOOLS) -> dict:
    row = {"messages": [
        {"role": "system", "content": "你是会议语音助手。"},
        {"role": "user", "content": "周会前12分钟提醒我"},
        {"role": "assistant", "content": content, "tool_calls": [CALL]},
    ]}
    if tools is not None:
        row["tools"] = tools
    return row


def test_rows_whose_answer_is_cut_away_are_named(tiny_model, tmp_path, caplog):
    long_title = "【官方正品】" + "超长续航 降噪 蓝牙 " * 40
    train = write_jsonl(tmp_path / "train.jsonl", [chat_row(*r) for r in CHAT_TRAIN] + [chat_row(long_title, "蓝牙耳机")])
    eval_ = write_jsonl(tmp_path / "eval.jsonl", [chat_row(*r) for r in CHAT_EVAL])
    cfg = compose_config(["task=chat", *generation_overrides(tiny_model, train, eval_), "train.epochs=1",
                          "task.max_length=96"])
    with caplog.at_level(logging.WARNING, logger="plugtune"):
        results = run(cfg, tmp_path / "run")
    assert results["data"]["untrained_rows"] == {"train": {"count": 1, "rows": [f"{train}:7"]}}
    (line,) = [r.getMessage() for r in caplog.records if "left out of training" in r.getMessage()]
    assert line.startswith("train: 1 of 7 rows left out of training: task.max_length=96 cuts their answer away")
    assert line.endswith(f"{train}:7")
    report = (tmp_path / "run" / "report.md").read_text()
    assert "- left out of training (train): 1 rows whose answer task.max_length=96 cuts away entirely" in report
    assert f"  - {train}:7" in report
    assert json.loads((tmp_path / "run" / "results.json").read_text())["data"]["untrained_rows"]["train"]["count"] == 1


def test_chat_template_that_drops_tool_calls_stops_the_run(tiny_model, tmp_path):
    rows = [chat_row(*r) for r in CHAT_TRAIN[:3]] + [tool_row()]
    train = write_jsonl(tmp_path / "train.jsonl", rows)
    eval_ = write_jsonl(tmp_path / "eval.jsonl", [chat_row(*r) for r in CHAT_EVAL])
    run_dir = tmp_path / "run"
    result = run_cli("core", "task=chat", *generation_overrides(tiny_model, train, eval_), f"hydra.run.dir={run_dir}")
    assert result.returncode == 2, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    (error,) = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert f"{train}:4: the chat template of {tiny_model} (task.prompt_template=chat) does not render the " \
           "assistant's tool_calls (SET_REMINDER)" in error
    assert "task=toolcall" in error
    assert not (run_dir / "adapter").exists()


@pytest.fixture(scope="module")
def tokenizer():
    return embedded_tokenizer()


# Renders the calls (name and arguments) but not the tools, as Gemma's model.chat_template does.
CALLS_ONLY = (
    "{% for m in messages %}<{{ m['role'] }}>{{ m['content'] or '' }}"
    "{% for c in m.get('tool_calls') or [] %}{{ c['function'] | tojson }}{% endfor %}</s>\n{% endfor %}"
    "{% if add_generation_prompt %}<assistant>{% endif %}"
)
# Renders the called names but drops their arguments.
NAMES_ONLY = CALLS_ONLY.replace("{{ c['function'] | tojson }}", "call {{ c['function']['name'] }}")


def example(**kwargs) -> Example:
    row = tool_row(**kwargs)
    return Example(messages=row["messages"], tools=row.get("tools"), source="calls.jsonl:3")


def test_a_template_that_renders_calls_trains_them_and_notes_dropped_tools(tokenizer, caplog):
    task = compose_config(["task=chat"]).task
    with caplog.at_level(logging.WARNING, logger="plugtune"):
        rendered = ChatTemplate(CALLS_ONLY).render(example(), tokenizer, task)
    assert "SET_REMINDER" in rendered.text and "SET_REMINDER" in rendered.text[slice(*rendered.train_spans[-1])]
    (line,) = [r.getMessage() for r in caplog.records if "tools" in r.getMessage()]
    assert line.startswith("the chat template given as chat_template (task.prompt_template=chat) does not render "
                           "tools lists (data.tools_file or a row's own tools): the model never sees the tool "
                           "schemas, in training or when answering; they only check the data and score the calls "
                           "(said once; e.g. calls.jsonl:3: SET_REMINDER;")


@pytest.mark.parametrize(
    "template,missing",
    [(None, "tool_calls (SET_REMINDER)"), (NAMES_ONLY, "tool_calls' arguments (SET_REMINDER)")],
    ids=["smollm2-drops-calls", "drops-arguments"],
)
def test_a_template_that_drops_calls_or_arguments_is_refused(tokenizer, template, missing):
    task = compose_config(["task=chat"]).task
    with pytest.raises(PlugtuneError) as info:
        ChatTemplate(template).render(example(content=""), tokenizer, task)
    message = str(info.value)
    assert message.startswith("calls.jsonl:3: the chat template ") and f"does not render the assistant's {missing}" in message
    assert "\n" not in message


def test_rows_without_tool_calls_are_not_checked(tokenizer):
    plain = Example(messages=chat_row(*CHAT_TRAIN[0])["messages"], source="chat.jsonl:1")
    rendered = ChatTemplate().render(plain, tokenizer, compose_config(["task=chat"]).task)
    assert rendered.answer == CHAT_TRAIN[0][1]
