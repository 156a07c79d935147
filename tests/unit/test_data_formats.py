"""The ``alpaca`` and ``messages`` data formats on the layouts of the alpaca Q&A, CSV-export,
tool-call and business Q&A tutorials, and bad input."""

import csv
import json
import logging
from pathlib import Path

import pytest

from core import DataError, PlugtuneError, SkippedRow
from core.datafiles import clean_text
from core.registry import get_registry
from core.testing import compose_config
from plugins.alpaca import AlpacaFormat
from plugins.messages import MessagesFormat

FORMATS = {"alpaca": AlpacaFormat, "messages": MessagesFormat}


def read(format_name: str, path: Path, *overrides: str):
    cfg = compose_config([f"data.format={format_name}", *overrides])
    return FORMATS[format_name]().read(path, cfg.data)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def jsonl(path: Path, *rows) -> Path:
    return write(path, "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))


def user_assistant(user: str, assistant: str) -> list[dict]:
    return [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}]


# --- alpaca --------------------------------------------------------------------------------------


def test_alpaca_json_array_with_input_history_and_system(tmp_path):
    rows = [
        {"instruction": "什么是年化利率?", "input": "", "output": "按年计算的利率。"},
        {"instruction": "翻译成英文", "input": "退款", "output": "refund"},
        {"instruction": "那外币呢?", "output": "也可以。", "system": "你是银行客服。",
         "history": [["能存美元吗?", "可以。"], ["利息多少?", "1%。"]]},
    ]
    # One row per line after "[", so row i sits on line i + 2.
    path = write(tmp_path / "qa.json", "[\n" + ",\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n]\n")
    result = read("alpaca", path)
    assert result.skipped == []
    first, second, third = result.examples
    assert first.messages == user_assistant("什么是年化利率?", "按年计算的利率。")
    assert first.fields == {"instruction": "什么是年化利率?", "input": "", "output": "按年计算的利率。"}
    assert first.source == f"{path}:2" and first.label is None and first.tools is None
    assert second.messages == user_assistant("翻译成英文\n\n退款", "refund")
    assert second.fields == {"instruction": "翻译成英文", "input": "退款", "output": "refund"}
    assert third.source == f"{path}:4"
    assert third.messages == [
        {"role": "system", "content": "你是银行客服。"},
        *user_assistant("能存美元吗?", "可以。"),
        *user_assistant("利息多少?", "1%。"),
        *user_assistant("那外币呢?", "也可以。"),
    ]
    assert third.fields["input"] == ""


def csv_export(tmp_path: Path) -> Path:
    """A database/Excel export: HTML, entities, messy whitespace, two rows that clean to nothing."""
    path = tmp_path / "export.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["instruction", "input", "output"])
        writer.writerow(["<p>How   much&nbsp;space\t is needed?</p>", "",
                         "You need <b>15GB</b>&nbsp;free.<br>Check\t\tfirst. \n\n\n\n Done"])  # lines 2-6
        writer.writerow(["Reset password", "  ", "<br/>&nbsp; <p></p>"])  # line 7: only markup
        writer.writerow(["Blank answer", "x", " \t "])  # line 8: blank even as written
        writer.writerow(["Q &amp; A", "use &lt;b&gt; for bold", "<i>ok</i>"])  # line 9
    return path


def test_alpaca_csv_clean(tmp_path):
    path = csv_export(tmp_path)
    result = read("alpaca", path, "data.clean=true")
    assert [ex.fields for ex in result.examples] == [
        {"instruction": "How much space is needed?", "input": "",
         "output": "You need 15GB free.\nCheck first.\n\nDone"},
        # tags are stripped before entities are decoded, so escaped markup survives as text
        {"instruction": "Q & A", "input": "use <b> for bold", "output": "ok"},
    ]
    assert result.examples[1].messages == user_assistant("Q & A\n\nuse <b> for bold", "ok")
    assert result.examples[1].source == f"{path}:9"
    assert result.skipped == [
        SkippedRow(f"{path}:7", "empty 'output' after cleaning"),
        SkippedRow(f"{path}:8", "empty 'output' after cleaning"),
    ]


def test_alpaca_csv_without_clean_keeps_text_and_rejects_the_blank_row(tmp_path):
    path = csv_export(tmp_path)
    with pytest.raises(DataError) as info:
        read("alpaca", path)
    assert str(info.value).startswith(f"{path}:8: field 'output': expected a non-empty string, got ' \\t '")
    result = read("alpaca", path, "data.on_error=skip")
    assert result.skipped == [SkippedRow(f"{path}:8", "field 'output': expected a non-empty string, got ' \\t '")]
    assert [ex.fields["output"] for ex in result.examples][1] == "<br/>&nbsp; <p></p>"  # as written


def test_clean_text_rules():
    assert clean_text("a&nbsp;&nbsp;\t b<BR>c</P>\r\n\r\n\r\n\r\nd  ") == "a b\nc\n\nd"
    assert clean_text("1 < 2 and 3 > 2<!-- note -->") == "1 < 2 and 3 > 2"


TOOL_CALL_ROWS = [
    {"instruct": "马上开一个周例会", "input": "",
     "output": {"tool_name": "INSTANT_MEETING", "parameters": {"meeting_name": "周例会"}}},
    {"instruct": "取消会议", "input": "明天的", "output": [{"tool_name": "CANCEL_MEETING"}]},
]
FIRST_CALL_JSON = '{"tool_name":"INSTANT_MEETING","parameters":{"meeting_name":"周例会"}}'


def test_alpaca_tool_call_rows_mapped_column_and_json_output(tmp_path):
    path = write(tmp_path / "meeting.json", json.dumps(TOOL_CALL_ROWS, ensure_ascii=False, indent=2))
    result = read("alpaca", path, "data.columns={instruction: instruct}")
    first, second = result.examples
    assert first.messages == user_assistant("马上开一个周例会", FIRST_CALL_JSON)
    assert first.fields["output"] == FIRST_CALL_JSON
    assert second.messages[-1] == {"role": "assistant", "content": '[{"tool_name":"CANCEL_MEETING"}]'}
    assert second.messages[0]["content"] == "取消会议\n\n明天的"


def test_alpaca_instruct_alias_is_detected_and_logged_once(tmp_path, caplog):
    path = write(tmp_path / "meeting.json", json.dumps(TOOL_CALL_ROWS, ensure_ascii=False))
    with caplog.at_level(logging.INFO, logger="plugtune"):
        result = read("alpaca", path)
    assert result.examples[0].messages == user_assistant("马上开一个周例会", FIRST_CALL_JSON)
    notes = [r.getMessage() for r in caplog.records if "column 'instruct'" in r.getMessage()]
    assert notes == [f"{path}: column 'instruct' is the instruction (a common name for it; "
                     "data.columns={instruction: COLUMN} picks another column)"]


def test_alpaca_business_qa_response_alias_and_question_answer_mapping(tmp_path):
    path = jsonl(tmp_path / "business_qa.jsonl", {"instruction": "退货流程?", "response": "在订单页申请。"}, {"instruction": "运费?", "response": 12})
    examples = read("alpaca", path).examples
    assert examples[0].messages == user_assistant("退货流程?", "在订单页申请。")
    assert examples[1].fields["output"] == "12"  # numbers become text
    path = jsonl(tmp_path / "qa.jsonl", {"question": "营业时间?", "answer": "9点到18点", "prompt": "unused"})
    (example,) = read("alpaca", path, "data.columns={instruction: question, output: answer}").examples
    assert example.messages == user_assistant("营业时间?", "9点到18点")


def test_alpaca_mapping_to_a_missing_column_or_unknown_field(tmp_path):
    path = jsonl(tmp_path / "qa.jsonl", {"question": "q", "answer": "a"}, {"question": "q2", "reply": "a2"})
    with pytest.raises(DataError) as info:
        read("alpaca", path, "data.columns={instruction: question, output: answer}")
    assert str(info.value).startswith(
        f"{path}:2: field 'output': column 'answer' (data.columns.output) is not in the row; its columns are question, reply"
    )
    with pytest.raises(PlugtuneError, match="data.columns: the alpaca format has no field 'instrution'"):
        read("alpaca", path, "data.columns={instrution: question}")


# --- messages ------------------------------------------------------------------------------------


def test_messages_bailian_multi_turn_with_tools(tmp_path):
    weather = {"type": "function", "function": {"name": "get_weather", "parameters": {
        "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}
    call = [{"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"杭州\"}"}}]
    rows = [
        {"messages": [
            {"role": "system", "content": "提取商品的核心名称"},
            *user_assistant("【官方正品】某品牌 无线蓝牙耳机 降噪", "无线蓝牙耳机"),
            *user_assistant("再来一个: 加厚保温杯 500ml", "保温杯"),
        ]},
        {"messages": [
            {"role": "user", "content": "杭州天气?"},
            {"role": "assistant", "content": None, "tool_calls": call},
            {"role": "tool", "content": "{\"temp\": 21}", "tool_call_id": "c1", "name": "get_weather", "weight": 1},
            {"role": "assistant", "content": "杭州 21 度。"},
        ], "tools": [weather]},
    ]
    first, second = read("messages", jsonl(tmp_path / "chat.jsonl", *rows)).examples
    assert first.messages == rows[0]["messages"] and first.tools is None
    assert first.source.endswith("chat.jsonl:1") and first.label is None
    assert second.tools == [weather]
    assert second.messages == [
        {"role": "user", "content": "杭州天气?"},
        {"role": "assistant", "content": "", "tool_calls": call},  # null content -> "", calls kept
        {"role": "tool", "content": "{\"temp\": 21}", "name": "get_weather", "tool_call_id": "c1"},
        {"role": "assistant", "content": "杭州 21 度。"},
    ]


def test_messages_business_qa_conversation_layout(tmp_path):
    row = {"conversation": [
        {"system": "你是客服", "input": "问题一", "output": "回答一"},
        {"input": "问题二", "output": "回答二"},
        {"system": "你是客服", "input": "问题三", "output": "回答三"},  # repeating the system is fine
    ]}
    (example,) = read("messages", jsonl(tmp_path / "conv.jsonl", row)).examples
    assert example.messages == [
        {"role": "system", "content": "你是客服"},
        *user_assistant("问题一", "回答一"), *user_assistant("问题二", "回答二"), *user_assistant("问题三", "回答三"),
    ]
    path = jsonl(tmp_path / "bad.jsonl", {"conversation": [{"input": "a", "output": "b"}, {"system": "s", "input": "c", "output": "d"}]})
    with pytest.raises(DataError) as info:
        read("messages", path)
    assert str(info.value).startswith(f"{path}:1: conversation[1]: 'system' is only allowed in the first turn")


def test_messages_renamed_key_and_clean(tmp_path):
    path = jsonl(tmp_path / "chat.jsonl",
                 {"dialog": user_assistant("<b>hi</b>&nbsp; there", "hello<br>world")},
                 {"dialog": user_assistant("hi", "<p></p>")})
    result = read("messages", path, "data.columns={messages: dialog}", "data.clean=true")
    assert [ex.messages for ex in result.examples] == [user_assistant("hi there", "hello\nworld")]
    assert result.skipped == [SkippedRow(f"{path}:2", "messages[1]: empty content after cleaning")]


# --- bad input -----------------------------------------------------------------------------------

GOOD_ALPACA = '{"instruction": "问", "output": "答"}\n'
GOOD_CHAT = json.dumps({"messages": user_assistant("问", "答")}, ensure_ascii=False) + "\n"


def chat_line(*messages) -> str:
    return json.dumps({"messages": list(messages)}, ensure_ascii=False) + "\n"


U, A, S = ({"role": r, "content": "x"} for r in ("user", "assistant", "system"))


@pytest.mark.parametrize(
    "content,line,reason",
    [
        (GOOD_ALPACA + '{"instruction": "问", "output": "答"\n', 2, "invalid JSON"),
        # A row without output is a prompt now (tests/unit/test_data_layouts.py); without instruction it is not.
        (GOOD_ALPACA + GOOD_ALPACA + '{"output": "答"}\n', 3,
         "field 'instruction': expected a non-empty string, got missing (no column instruction, instruct, question"),
        ('{"instruction": "", "output": "答"}\n', 1, "field 'instruction': expected a non-empty string, got ''"),
        ('{"instruction": "问", "output": true}\n', 1, "field 'output': expected a string, got bool"),
        ('{"instruction": "问", "output": "答", "history": [["only one"]]}\n', 1,
         "field 'history': item 0: expected a [user, assistant] pair, got 1 items"),
        ('[1, 2]\n', 1, "expected a JSON object, got list"),
    ],
)
def test_alpaca_bad_rows_name_file_and_line(tmp_path, content, line, reason):
    path = write(tmp_path / "bad.jsonl", content)
    with pytest.raises(DataError) as info:
        read("alpaca", path)
    assert str(info.value).startswith(f"{path}:{line}: {reason}")


@pytest.mark.parametrize(
    "content,line,reason",
    [
        (GOOD_CHAT + '{"messages": [\n', 2, "invalid JSON"),
        (GOOD_CHAT + '{"msgs": []}\n', 2, "expected a 'messages' list (OpenAI chat) or a 'conversation' list; the row has 'msgs'"),
        (chat_line(S, U, {"role": "assitant", "content": "x"}), 1,
         "messages[2]: role 'assitant' is not one of system, user, assistant, tool"),
        (chat_line(U, U, A), 1, "messages[1]: expected assistant after user, got user"),
        (chat_line(A, U, A), 1, "messages[0]: expected user at the start, got assistant"),
        (chat_line(U, A, S, U, A), 1, "messages[2]: a system turn may only come first"),
        (chat_line(U, {"role": "assistant", "content": "  "}), 1, "messages[1]: empty content"),
        (chat_line(U, {"role": "assistant", "content": ["x"]}), 1, "messages[1]: content must be a string, got list"),
        # Ending on a user turn is a prompt now (tests/unit/test_data_layouts.py); other endings are not.
        (chat_line(S), 1, "messages: the last turn is system; a conversation must end with assistant"),
        (chat_line(U, {"role": "assistant", "content": "", "tool_calls": [{"id": "c"}]}, {"role": "tool", "content": "{}"}),
         1, "messages: the last turn is tool; a conversation must end with assistant"),
        (chat_line(U, {"role": "assistant", "content": None, "tool_calls": [{"id": "c"}]}, U, A), 1,
         "messages[2]: expected tool after assistant with tool_calls, got user"),
        (chat_line(U, {"role": "assistant", "content": "", "tool_calls": [{"id": "c"}]}, {"role": "tool", "content": "{}"}, U, A),
         1, "messages[3]: expected tool or assistant after tool, got user"),
        (json.dumps({"messages": user_assistant("q", "a"), "tools": "weather"}) + "\n", 1,
         "field 'tools': expected a list, got text that is not JSON"),
        (json.dumps({"conversation": [{"input": "q"}, {"input": "r", "output": "s"}]}) + "\n", 1,
         "conversation[0]: output is missing"),
    ],
)
def test_messages_bad_rows_name_file_and_line(tmp_path, content, line, reason):
    path = write(tmp_path / "bad.jsonl", content)
    with pytest.raises(DataError) as info:
        read("messages", path)
    assert str(info.value).startswith(f"{path}:{line}: {reason}")


@pytest.mark.parametrize("format_name,good", [("alpaca", GOOD_ALPACA), ("messages", GOOD_CHAT)])
def test_non_utf8_bytes_name_the_line(tmp_path, format_name, good):
    path = tmp_path / "gbk.jsonl"
    path.write_bytes(good.encode() + "问题".encode("gbk") + b"\n")
    with pytest.raises(DataError) as info:
        read(format_name, path, "data.on_error=skip")  # an encoding problem is the whole file's
    assert str(info.value).startswith(f"{path}:2: not valid UTF-8")


def test_broken_json_array_stops_even_with_skip(tmp_path):
    path = write(tmp_path / "qa.json", '[\n{"instruction": "a", "output": "b"},\n{"instruction": "c" "output": "d"}\n]')
    with pytest.raises(DataError) as info:
        read("alpaca", path, "data.on_error=skip")
    assert str(info.value).startswith(f"{path}:3: invalid JSON")


def test_on_error_skip_keeps_good_rows_and_lists_the_bad(tmp_path):
    path = write(tmp_path / "qa.jsonl", GOOD_ALPACA + "{oops\n" + '{"output": "答"}\n' + "\n" + GOOD_ALPACA)
    result = read("alpaca", path, "data.on_error=skip")
    assert [ex.source for ex in result.examples] == [f"{path}:1", f"{path}:5"]
    assert [row.source for row in result.skipped] == [f"{path}:2", f"{path}:3"]
    assert result.skipped[0].reason.startswith("invalid JSON")
    assert result.skipped[1].reason.startswith("field 'instruction': expected a non-empty string, got missing")

    path = write(tmp_path / "chat.jsonl", GOOD_CHAT + chat_line(U, U, A) + GOOD_CHAT + '"not an object"\n')
    result = read("messages", path, "data.on_error=skip")
    assert [ex.source for ex in result.examples] == [f"{path}:1", f"{path}:3"]
    assert result.skipped == [
        SkippedRow(f"{path}:2", "messages[1]: expected assistant after user, got user"),
        SkippedRow(f"{path}:4", "expected a JSON object, got str"),
    ]


@pytest.mark.parametrize("format_name", ["alpaca", "messages"])
def test_empty_missing_and_all_skipped_files(tmp_path, format_name):
    with pytest.raises(DataError, match="blank.jsonl: no rows \\(the file is empty\\)"):
        read(format_name, write(tmp_path / "blank.jsonl", "\n\n"))
    with pytest.raises(DataError, match="nope.jsonl: file not found"):
        read(format_name, tmp_path / "nope.jsonl", "data.on_error=skip")
    path = write(tmp_path / "bad.jsonl", "{}\n{}\n")
    with pytest.raises(DataError) as info:
        read(format_name, path, "data.on_error=skip")
    assert str(info.value).startswith(f"{path}: no rows left: all 2 were skipped (first: {path}:1: ")


def test_both_formats_registered_by_name():
    registry = get_registry()
    names = registry.names("data_format")
    assert names["alpaca"] == "alpaca" and names["messages"] == "messages"
    assert isinstance(registry.get("data_format", "alpaca"), AlpacaFormat)
    assert isinstance(registry.get("data_format", "messages"), MessagesFormat)
