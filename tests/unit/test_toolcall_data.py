"""The ``toolcall`` data format: the shipped tool-call tutorial data, and bad tool calls in both
layouts."""

import json
from pathlib import Path

import pytest

from core import DataError, PlugtuneError, SkippedRow
from core.registry import get_registry
from core.testing import compose_config
from plugins.alpaca import AlpacaFormat
from plugins.messages import MessagesFormat
from plugins.toolcall_data import ToolcallFormat

DATA = Path(__file__).resolve().parents[2] / "data" / "toolcall"
TOOLS = DATA / "tools.json"
NAMES = [tool["function"]["name"] for tool in json.loads(TOOLS.read_text(encoding="utf-8"))]
KNOWN = ", ".join(NAMES)
FILE_HINT = f"; the list is data.tools_file={TOOLS}: add the tool there, or set data.tools_file=null to check no list"


def read(path: Path, *overrides: str, tools_file: Path | None = TOOLS):
    extra = [f"data.tools_file={tools_file}" if tools_file else "data.tools_file=null"]
    cfg = compose_config(["task=toolcall", "data.format=toolcall", *extra, *overrides])
    return ToolcallFormat().read(path, cfg.data)


def jsonl(path: Path, *rows) -> Path:
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    return path


def tool_call_row(output, instruct="邀请王磊") -> dict:
    return {"instruct": instruct, "input": "", "output": output}


def openai(*calls, tools=None, content="") -> dict:
    row = {"messages": [{"role": "user", "content": "邀请王磊"},
                        {"role": "assistant", "content": content, "tool_calls": list(calls)}]}
    if tools is not None:
        row["tools"] = tools
    return row


def call(name="INVITE_PARTICIPANT", arguments='{"name":"王磊"}') -> dict:
    function = {} if name is None else {"name": name}
    if arguments is not None:
        function["arguments"] = arguments
    return {"type": "function", "function": function}


GOOD_CALL_ROW = tool_call_row({"tool_name": "INVITE_PARTICIPANT", "parameters": {"name": "王磊"}})


def fails(path: Path, line: int, reason: str, *overrides: str, tools_file: Path | None = TOOLS) -> None:
    with pytest.raises(DataError) as info:
        read(path, *overrides, tools_file=tools_file)
    assert str(info.value) == f"{path}:{line}: {reason}"


# --- the shipped data ----------------------------------------------------------------------------


def test_shipped_train_loads_with_tools_attached():
    result = read(DATA / "train.json")
    assert result.skipped == []
    assert len(result.examples) == 886
    assert all(example.tools is not None and len(example.tools) == 10 for example in result.examples)
    assert result.examples[0].source == f"{DATA / 'train.json'}:2"
    # Same canonical examples as the alpaca format (compact JSON, non-ASCII kept), plus tools.
    alpaca = AlpacaFormat().read(DATA / "train.json", compose_config(["task=toolcall"]).data).examples
    assert [(e.messages, e.fields, e.source) for e in result.examples] == [
        (e.messages, e.fields, e.source) for e in alpaca
    ]
    calls = [e for e in result.examples if e.fields["output"].startswith("{")]
    assert len(calls) == 820 and all("\\u" not in e.fields["output"] and ", " not in e.fields["output"] for e in calls)


def test_shipped_openai_test_loads():
    result = read(DATA / "test_openai.jsonl")
    assert result.skipped == [] and len(result.examples) == 120
    assert sum(1 for e in result.examples if e.messages[-1].get("tool_calls")) == 110
    assert all(len(e.tools) == 10 for e in result.examples)
    messages = MessagesFormat().read(DATA / "test_openai.jsonl", compose_config(["task=toolcall"]).data).examples
    assert [(e.messages, e.tools) for e in result.examples] == [(e.messages, e.tools) for e in messages]


def test_alpaca_shape_kept_and_plain_text_is_no_call(tmp_path):
    path = jsonl(tmp_path / "rows.jsonl", GOOD_CALL_ROW,
                 tool_call_row("抱歉，我只能帮您处理会议相关的操作。", "讲个笑话"),
                 tool_call_row('{"tool_name": "END_MEETING", "parameters": {}}', "结束吧"))
    first, second, third = read(path).examples
    assert first.messages == [{"role": "user", "content": "邀请王磊"},
                              {"role": "assistant", "content": '{"tool_name":"INVITE_PARTICIPANT","parameters":{"name":"王磊"}}'}]
    assert first.fields["instruction"] == "邀请王磊" and first.source == f"{path}:1"
    assert second.fields["output"] == "抱歉，我只能帮您处理会议相关的操作。"
    assert third.fields["output"] == '{"tool_name":"END_MEETING","parameters":{}}'  # JSON text compacted


def test_without_tools_file_no_tools_and_any_name(tmp_path):
    path = jsonl(tmp_path / "rows.jsonl", tool_call_row({"tool_name": "ANYTHING", "parameters": {}}))
    (example,) = read(path, tools_file=None).examples
    assert example.tools is None


# --- the tool-call tutorial's layout -------------------------------------------------------------


def test_call_row_output_text_that_is_broken_json(tmp_path):
    path = jsonl(tmp_path / "rows.jsonl", GOOD_CALL_ROW, tool_call_row('{"tool_name": "END_MEETING" "parameters": {}}'))
    fails(path, 2, "field 'output': invalid JSON (Expecting ',' delimiter at column 29)")


def test_call_row_output_without_tool_name(tmp_path):
    path = jsonl(tmp_path / "rows.jsonl", GOOD_CALL_ROW, GOOD_CALL_ROW,
                 tool_call_row({"name": "END_MEETING", "parameters": {}}))
    fails(path, 3, "field 'output': tool call has no 'tool_name'")


@pytest.mark.parametrize("name", ["", 3, None])
def test_call_row_tool_name_not_a_non_empty_string(tmp_path, name):
    path = jsonl(tmp_path / "rows.jsonl", tool_call_row({"tool_name": name, "parameters": {}}))
    fails(path, 1, f"field 'output': 'tool_name' must be a non-empty string, got {name!r}")


def test_call_row_parameters_not_an_object(tmp_path):
    path = jsonl(tmp_path / "rows.jsonl", tool_call_row({"tool_name": "END_MEETING", "parameters": ["x"]}))
    fails(path, 1, "field 'output': 'parameters' must be an object, got list")


def test_call_row_unknown_tool_in_json_array_file(tmp_path):
    rows = [GOOD_CALL_ROW, tool_call_row({"tool_name": "SEND_EMAIL", "parameters": {}})]
    path = tmp_path / "rows.json"
    path.write_text("[\n" + ",\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n]\n", encoding="utf-8")
    fails(path, 3, f"field 'output': tool 'SEND_EMAIL' is not in the tools list (known: {KNOWN}){FILE_HINT}")


def test_call_row_list_output_checks_each_call(tmp_path):
    path = jsonl(tmp_path / "rows.jsonl", tool_call_row([{"tool_name": "END_MEETING"}, {"parameters": {}}]))
    fails(path, 1, "field 'output': item 1: tool call has no 'tool_name'")


# --- OpenAI layout -------------------------------------------------------------------------------


def test_openai_call_without_function_name(tmp_path):
    path = jsonl(tmp_path / "rows.jsonl", openai(call()), openai(call(name=None)))
    fails(path, 2, "messages[1].tool_calls[0]: function.name is missing")


def test_openai_arguments_not_json(tmp_path):
    path = jsonl(tmp_path / "rows.jsonl", openai(call(), call(arguments='{"name": 王磊}')))
    fails(path, 1, "messages[1].tool_calls[1]: function.arguments: invalid JSON (Expecting value at column 10)")


def test_openai_arguments_not_an_object(tmp_path):
    path = jsonl(tmp_path / "rows.jsonl", openai(call(arguments='["王磊"]')))
    fails(path, 1, "messages[1].tool_calls[0]: function.arguments must decode to a JSON object, got list")


def test_openai_unknown_tool_checked_against_the_rows_tools(tmp_path):
    row_tools = [{"type": "function", "function": {"name": "INVITE_PARTICIPANT"}},
                 {"type": "function", "function": {"name": "MUTE_ALL"}}]
    path = jsonl(tmp_path / "rows.jsonl", openai(call(), tools=row_tools), openai(call("END_MEETING", "{}"), tools=row_tools))
    # END_MEETING is in tools.json but not in the row's own tools, which take precedence.
    fails(path, 2, "messages[1].tool_calls[0]: tool 'END_MEETING' is not in the tools list "
                   "(known: INVITE_PARTICIPANT, MUTE_ALL)")
    # Without data.tools_file the row's tools still apply; the row keeps its own tools.
    fails(path, 2, "messages[1].tool_calls[0]: tool 'END_MEETING' is not in the tools list "
                   "(known: INVITE_PARTICIPANT, MUTE_ALL)", tools_file=None)


def test_openai_unknown_tool_checked_against_tools_file(tmp_path):
    path = jsonl(tmp_path / "rows.jsonl", openai(call("SEND_EMAIL", "{}")))
    fails(path, 1, f"messages[1].tool_calls[0]: tool 'SEND_EMAIL' is not in the tools list (known: {KNOWN}){FILE_HINT}")
    assert read(path, tools_file=None).examples[0].tools is None


# --- skipping and the tools file -----------------------------------------------------------------


def test_on_error_skip_keeps_good_rows_and_lists_bad_lines(tmp_path):
    path = jsonl(
        tmp_path / "rows.jsonl",
        GOOD_CALL_ROW,
        tool_call_row("{broken"),
        openai(call()),
        openai(call(arguments="[]")),
        tool_call_row({"tool_name": "SEND_EMAIL"}),
    )
    result = read(path, "data.on_error=skip")
    assert [e.source for e in result.examples] == [f"{path}:1", f"{path}:3"]
    assert all(len(e.tools) == 10 for e in result.examples)
    assert result.skipped == [
        SkippedRow(f"{path}:2", "field 'output': invalid JSON (Expecting property name enclosed in double quotes at column 2)"),
        SkippedRow(f"{path}:4", "messages[1].tool_calls[0]: function.arguments must decode to a JSON object, got list"),
        SkippedRow(f"{path}:5", f"field 'output': tool 'SEND_EMAIL' is not in the tools list (known: {KNOWN}){FILE_HINT}"),
    ]


@pytest.mark.parametrize(
    "content, reason",
    [
        (None, "file not found"),
        ("[{broken", "invalid JSON"),
        ('{"type": "function"}', "expected a non-empty JSON list of tool schemas, got dict"),
        ('[{"type": "function", "function": {}}]', "item 0: expected a tool schema with function.name"),
    ],
)
def test_bad_tools_file(tmp_path, content, reason):
    tools = tmp_path / "tools.json"
    if content is not None:
        tools.write_text(content, encoding="utf-8")
    path = jsonl(tmp_path / "rows.jsonl", GOOD_CALL_ROW)
    with pytest.raises(PlugtuneError) as info:
        read(path, tools_file=tools)
    assert not isinstance(info.value, DataError)
    assert str(info.value).startswith(f"data.tools_file={tools}: {reason}")


def test_registered():
    registry = get_registry()
    assert registry.names("data_format")["toolcall"] == "toolcall_data"
    assert isinstance(registry.get("data_format", "toolcall"), ToolcallFormat)
