"""The tutorials' data layouts that need a setting or were refused (issue 26): data.instruction
for rows without one, data.split_turns for multi-turn rows, and rows without a reference answer
(kept for prediction in eval files, counted and left out in training files). No model."""

import csv
import json
import logging
from pathlib import Path

import pytest

from core import DataError, PlugtuneError
from core.data import load_data
from core.registry import get_registry
from core.shipped_data import resolve_data_paths
from core.testing import compose_config

SYSTEM = "你是会议语音助手"


def jsonl(path: Path, *rows) -> Path:
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    return path


def read(format_name: str, path: Path, *overrides: str):
    cfg = compose_config(["task=qa", f"data.format={format_name}", *overrides])
    return get_registry().get("data_format", format_name).read(path, cfg.data)


def load(*overrides: str, task: str = "qa"):
    cfg = compose_config([f"task={task}", *overrides])
    resolve_data_paths(cfg)
    return cfg, load_data(cfg, get_registry().get("data_format", cfg.data.format))


def user(text):
    return {"role": "user", "content": text}


def assistant(text):
    return {"role": "assistant", "content": text}


# --- data.instruction ------------------------------------------------------------------------------


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def test_a_fixed_instruction_goes_in_front_of_rows_without_one(tmp_path):
    path = write_csv(tmp_path / "export.csv", ["instruction", "input", "output"],
                     [["", "如何退款?", "在订单页点退款。"], ["翻译成英文", "退款", "refund"]])
    result = read("alpaca", path, "data.instruction='回答客户的问题'")
    first, second = result.examples
    assert first.fields == {"instruction": "回答客户的问题", "input": "如何退款?", "output": "在订单页点退款。"}
    assert first.messages == [user("回答客户的问题\n\n如何退款?"), assistant("在订单页点退款。")]
    assert second.fields["instruction"] == "翻译成英文"  # a row's own instruction is kept


def test_without_data_instruction_a_missing_instruction_names_it(tmp_path):
    path = write_csv(tmp_path / "export.csv", ["input", "output"], [["如何退款?", "在订单页点退款。"]])
    with pytest.raises(DataError) as info:
        read("alpaca", path)
    assert "field 'instruction'" in str(info.value) and "data.instruction=TEXT" in str(info.value)
    assert read("alpaca", path, "data.instruction='回答'").examples[0].fields["instruction"] == "回答"


def test_toolcall_rows_get_the_instruction_too(tmp_path):
    path = jsonl(tmp_path / "calls.jsonl", {"input": "马上开一个周例会",
                                            "output": {"tool_name": "INSTANT_MEETING", "parameters": {}}})
    example = read("toolcall", path, "data.instruction='把请求转成工具调用'").examples[0]
    assert example.messages[0] == user("把请求转成工具调用\n\n马上开一个周例会")


def test_data_instruction_is_refused_where_no_file_has_instructions(tmp_path):
    path = jsonl(tmp_path / "chat.jsonl", {"messages": [user("q"), assistant("a")]})
    with pytest.raises(PlugtuneError) as info:
        load("data.format=messages", f"data.train_path={path}", "data.instruction='回答'")
    message = str(info.value)
    assert message.startswith("data.instruction: ") and "task.system_prompt" in message and "\n" not in message


# --- data.split_turns ------------------------------------------------------------------------------

CONVERSATION_ROW = {"conversation": [
    {"system": "你是客服", "input": "问题一", "output": "回答一"},
    {"input": "问题二", "output": "回答二"},
    {"input": "问题三", "output": "回答三"},
]}


def test_business_qa_conversations_stay_whole_by_default(tmp_path):
    path = jsonl(tmp_path / "conversation.jsonl", CONVERSATION_ROW)
    _, data = load("data.format=messages", f"data.train_path={path}")
    assert len(data.train) == 1 and len(data.train[0].messages) == 7


def test_split_turns_makes_each_turn_a_sample_with_the_system_kept(tmp_path, caplog):
    path = jsonl(tmp_path / "conversation.jsonl", CONVERSATION_ROW, {"conversation": [{"input": "单轮", "output": "一"}]})
    with caplog.at_level(logging.INFO, logger="plugtune"):
        _, data = load("data.format=messages", f"data.train_path={path}", "data.split_turns=true")
    system = {"role": "system", "content": "你是客服"}
    assert [ex.messages for ex in data.train] == [
        [system, user("问题一"), assistant("回答一")],
        [system, user("问题二"), assistant("回答二")],
        [system, user("问题三"), assistant("回答三")],
        [user("单轮"), assistant("一")],
    ]
    assert [ex.source for ex in data.train] == [f"{path}:1#1", f"{path}:1#2", f"{path}:1#3", f"{path}:2"]
    assert data.stats()["train_files"][0]["rows_read"] == 2 and data.stats()["train_files"][0]["rows_used"] == 4
    assert any("data.split_turns" in r.getMessage() and "2 rows -> 4 samples" in r.getMessage() for r in caplog.records)


def test_split_turns_on_chat_messages_keeps_tool_results_with_their_turn(tmp_path):
    call = {"role": "assistant", "content": "", "tool_calls": [{"type": "function", "function": {"name": "f"}}]}
    tool = {"role": "tool", "content": "{}"}
    path = jsonl(tmp_path / "chat.jsonl", {"messages": [
        {"role": "system", "content": SYSTEM}, user("一"), call, tool, assistant("好了"), user("二"), assistant("行")]})
    _, data = load("data.format=messages", f"data.train_path={path}", "data.split_turns=true")
    system = {"role": "system", "content": SYSTEM}
    assert [ex.messages for ex in data.train] == [[system, user("一"), call, tool, assistant("好了")],
                                                  [system, user("二"), assistant("行")]]


# --- rows without a reference answer ------------------------------------------------------------------


def test_an_alpaca_row_without_output_is_a_prompt(tmp_path):
    path = jsonl(tmp_path / "questions.jsonl", {"instruction": "什么是年化利率?"},
                 {"instruction": "退款多久到账?", "input": "", "output": None},
                 {"instruction": "翻译", "input": "退款", "output": ""})
    examples = read("alpaca", path).examples
    assert [ex.messages for ex in examples] == [[user("什么是年化利率?")], [user("退款多久到账?")], [user("翻译\n\n退款")]]
    assert examples[2].fields == {"instruction": "翻译", "input": "退款"}


def test_a_toolcall_row_without_output_is_a_prompt(tmp_path):
    path = jsonl(tmp_path / "test.jsonl", {"instruct": "好，邀请王磊", "input": ""})
    example = read("toolcall", path, "data.tools_file=null").examples[0]
    assert example.messages == [user("好，邀请王磊")]


@pytest.mark.parametrize("messages", [
    [{"role": "system", "content": SYSTEM}, user("马上开一个周例会")],
    [{"role": "system", "content": SYSTEM}, user("你好"), assistant("你好!"), user("开会")],
    [{"role": "system", "content": SYSTEM}, user("会议助手"), user("马上开一个周例会")],  # the tool-call tutorial's test prompt
])
def test_chat_rows_ending_on_a_user_turn_are_prompts(tmp_path, messages):
    path = jsonl(tmp_path / "test.jsonl", {"messages": messages})
    assert read("messages", path).examples[0].messages == messages
    assert read("toolcall", path).examples[0].messages == messages


@pytest.mark.parametrize("messages,reason", [
    ([user("a"), user("b"), assistant("c")], "messages[1]: expected assistant after user, got user"),
    ([user("a"), {"role": "assistant", "content": "", "tool_calls": [{"function": {"name": "f"}}]},
      {"role": "tool", "content": "{}"}], "messages: the last turn is tool"),
])
def test_chat_rows_that_stay_refused(tmp_path, messages, reason):
    path = jsonl(tmp_path / "bad.jsonl", {"messages": messages})
    with pytest.raises(DataError) as info:
        read("messages", path)
    assert str(info.value).startswith(f"{path}:1: {reason}")


def test_a_conversation_whose_last_turn_has_no_output_is_a_prompt(tmp_path):
    path = jsonl(tmp_path / "c.jsonl", {"conversation": [{"input": "一", "output": "1"}, {"input": "二"}]})
    assert read("messages", path).examples[0].messages == [user("一"), assistant("1"), user("二")]
    bad = jsonl(tmp_path / "bad.jsonl", {"conversation": [{"input": "一"}, {"input": "二", "output": "2"}]})
    with pytest.raises(DataError, match=r"conversation\[0\]: output is missing"):
        read("messages", bad)


def test_eval_rows_without_answers_are_kept_and_counted(tmp_path, caplog):
    train = jsonl(tmp_path / "train.jsonl", {"instruction": "q", "output": "a"})
    eval_ = jsonl(tmp_path / "eval.jsonl", {"instruction": "问一"}, {"instruction": "问二", "output": "答二"})
    with caplog.at_level(logging.INFO, logger="plugtune"):
        _, data = load(f"data.train_path={train}", f"data.eval_path={eval_}")
    assert [ex.messages[-1]["role"] for ex in data.eval] == ["user", "assistant"]
    assert data.stats()["rows_without_answer"] == {"eval": {"count": 1, "rows": [f"{eval_}:1"]}}
    assert sum("no reference answer" in r.getMessage() for r in caplog.records) == 1


def test_training_rows_without_answers_train_nothing_and_are_counted(tmp_path, caplog):
    train = jsonl(tmp_path / "train.jsonl", {"instruction": "q", "output": "a"}, {"instruction": "问"},
                  {"messages": [user("x")]})
    with caplog.at_level(logging.INFO, logger="plugtune"):
        _, data = load("data.format=toolcall", "data.tools_file=null", f"data.train_path={train}",
                       f"data.eval_path={train}")
    assert len(data.train) == 1 and len(data.eval) == 3
    stats = data.stats()
    assert stats["rows_without_answer"]["train"] == {"count": 2, "rows": [f"{train}:2", f"{train}:3"]}
    assert stats["train_files"][0]["without_answer"] == 2 and stats["train_files"][0]["rows_used"] == 1
    lines = [r.getMessage() for r in caplog.records if "train nothing" in r.getMessage()]
    assert len(lines) == 1 and "2 of 3 rows" in lines[0]


def test_a_training_file_without_any_answer_is_refused(tmp_path):
    train = jsonl(tmp_path / "questions.jsonl", {"instruction": "问一"}, {"instruction": "问二"})
    with pytest.raises(PlugtuneError) as info:
        load(f"data.train_path={train}")
    message = str(info.value)
    assert message.startswith(f"{train}: none of its 2 rows has an answer") and "data.eval_path" in message


def test_classification_rows_without_a_label_are_predicted_not_trained(tmp_path, caplog):
    train = tmp_path / "train.jsonl"
    train.write_text('{"text": "卡丢了", "label": "card_lost"}\n{"text": "退款", "label": "refund"}\n'
                     '{"text": "你好"}\n', encoding="utf-8")
    eval_ = tmp_path / "eval.jsonl"
    eval_.write_text('{"text": "余额多少"}\n{"text": "卡丢了", "label": null}\n{"text": "退钱", "label": "refund"}\n',
                     encoding="utf-8")
    with caplog.at_level(logging.INFO, logger="plugtune"):
        cfg, data = load(f"data.train_path={train}", f"data.eval_path={eval_}", task="intent")
    assert list(cfg.task.labels) == ["card_lost", "refund"] and len(data.train) == 2
    assert [ex.label for ex in data.eval] == [None, None, "refund"]
    assert data.stats()["rows_without_answer"] == {"train": {"count": 1, "rows": [f"{train}:3"]},
                                                   "eval": {"count": 2, "rows": [f"{eval_}:1", f"{eval_}:2"]}}
    assert data.stats()["dropped_unknown_labels"] == {}


def test_a_blank_label_is_still_an_error(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_text('{"text": "余额多少", "label": "  "}\n', encoding="utf-8")
    with pytest.raises(DataError, match="field 'label': expected a label string, got str '  '"):
        read("text_label", path)
