"""``messages`` data format: chat conversations (OpenAI / Alibaba Bailian JSONL, W5).

One row per conversation, in a JSON Lines file (a JSON array or CSV with the list as JSON text
in a cell also work)::

    {"messages": [{"role": "system", "content": "提取商品的核心名称"},
                  {"role": "user", "content": "【官方正品】某品牌 无线蓝牙耳机 降噪 超长续航"},
                  {"role": "assistant", "content": "无线蓝牙耳机"}],
     "tools": [{"type": "function", "function": {...JSON schema...}}]}      # optional

Roles are ``system``, ``user``, ``assistant`` and ``tool``. Order: a ``system`` turn may only come
first; then ``user`` and ``assistant`` alternate, starting with ``user`` and ending with
``assistant``. An assistant turn with ``tool_calls`` (a list, kept as given) may have empty or
null content and is followed by one or more ``tool`` turns (their ``name`` / ``tool_call_id`` are
kept), then by an assistant turn. ``tools`` are kept as given for the chat template.

W5's local multi-turn layout is read too, and flattened to the same messages::

    {"conversation": [{"system": "你是客服", "input": "问题一", "output": "回答一"},
                      {"input": "问题二", "output": "回答二"}]}

where ``system`` is optional and belongs to the first turn (a later turn may only repeat it).

``data.columns`` may rename the ``messages``, ``conversation`` and ``tools`` keys, e.g.
``'data.columns={messages: dialog}'``. ``data.clean=true`` cleans every message's text as the
``alpaca`` format does (HTML tags and entities, whitespace); a row with a text that ends up empty
is dropped and counted as skipped. Tool calls and tool schemas are never cleaned.

A bad row stops the read with ``file:line: reason``, e.g.
``data.jsonl:7: messages[2]: role 'assitant' is not one of system, user, assistant, tool``;
``data.on_error=skip`` skips and counts it instead. No row is dropped silently.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from core import Example, ReadResult, hookimpl
from plugins.alpaca import RowProblem, clean_text, column_mapping, read_examples

FIELDS = ("messages", "conversation", "tools")
ROLES = ("system", "user", "assistant", "tool")
KEPT_KEYS = {"assistant": ("tool_calls",), "tool": ("name", "tool_call_id")}


class MessagesFormat:
    def read(self, path, data_cfg) -> ReadResult:
        path = Path(path)
        columns = column_mapping(data_cfg, FIELDS, "messages")
        keys = {field: columns.get(field, field) for field in FIELDS}
        clean = bool(getattr(data_cfg, "clean", False))

        def build(line: int, row: dict) -> Example:
            messages = row_messages(row, keys, clean)
            if "tools" in columns and keys["tools"] not in row:
                raise RowProblem(f"field 'tools': column {keys['tools']!r} (data.columns.tools) is not in the row")
            return Example(messages=messages, tools=_tools(row.get(keys["tools"])), source=f"{path}:{line}")

        return read_examples(path, data_cfg, build)


def row_messages(row: dict, keys: dict[str, str], clean: bool) -> list[dict[str, Any]]:
    """The row's turns, from its ``messages`` or W5 ``conversation`` column, checked for order.

    ``keys`` maps ``messages`` and ``conversation`` to the row's column names (``data.columns``).
    """
    if keys["messages"] in row:
        messages = _messages(_json_cell("messages", row[keys["messages"]]), clean)
    elif keys["conversation"] in row:
        messages = _conversation(_json_cell("conversation", row[keys["conversation"]]), clean)
    else:
        raise RowProblem(
            f"expected a {keys['messages']!r} list (OpenAI chat) or a {keys['conversation']!r} list; "
            f"the row has {', '.join(map(repr, row)) or 'no fields'}"
        )
    _check_order(messages)
    return messages


def _non_empty_list(field: str, value: Any, items: str) -> list:
    if not isinstance(value, list) or not value:
        got = "an empty list" if value == [] else type(value).__name__
        raise RowProblem(f"field {field!r}: expected a non-empty list of {items}, got {got}")
    return value


def _json_cell(field: str, value: Any) -> Any:
    """A list given as JSON text (a CSV cell) decoded; anything else as it is."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            raise RowProblem(f"field {field!r}: expected a list, got text that is not JSON") from None
    return value


def _text(where: str, name: str, value: Any, clean: bool, may_be_empty: bool = False) -> str:
    if value is None and not may_be_empty:
        raise RowProblem(f"{where}: {name} is missing")
    if value is not None and not isinstance(value, str):
        raise RowProblem(f"{where}: {name} must be a string, got {type(value).__name__}")
    text = clean_text(value or "") if clean else value or ""
    if not text.strip() and not may_be_empty:
        raise RowProblem(f"{where}: empty {name}" + (" after cleaning" if clean else ""), emptied=clean)
    return text


def _messages(value: Any, clean: bool) -> list[dict[str, Any]]:
    _non_empty_list("messages", value, "messages")
    messages = []
    for index, message in enumerate(value):
        where = f"messages[{index}]"
        if not isinstance(message, dict):
            raise RowProblem(f"{where}: expected an object with role and content, got {type(message).__name__}")
        role = message.get("role")
        if role is None:
            raise RowProblem(f"{where}: role is missing")
        if role not in ROLES:
            raise RowProblem(f"{where}: role {role!r} is not one of {', '.join(ROLES)}")
        tool_calls = message.get("tool_calls") if role == "assistant" else None
        if tool_calls is not None and not isinstance(tool_calls, list):
            raise RowProblem(f"{where}: tool_calls must be a list, got {type(tool_calls).__name__}")
        # A turn that only calls tools has nothing to say; "" keeps chat templates happy.
        content = _text(where, "content", message.get("content"), clean, may_be_empty=bool(tool_calls))
        kept = {"role": role, "content": content}
        kept.update({key: message[key] for key in KEPT_KEYS.get(role, ()) if message.get(key) is not None})
        messages.append(kept)
    return messages


def _conversation(value: Any, clean: bool) -> list[dict[str, Any]]:
    _non_empty_list("conversation", value, "{input, output} turns")
    messages = []
    for index, turn in enumerate(value):
        where = f"conversation[{index}]"
        if not isinstance(turn, dict):
            raise RowProblem(f"{where}: expected an object with input and output, got {type(turn).__name__}")
        system = turn.get("system")
        if index == 0:
            system = _text(where, "system", system, clean, may_be_empty=True)
            if system.strip():
                messages.append({"role": "system", "content": system})
        elif system not in (None, "") and system != value[0].get("system"):
            raise RowProblem(f"{where}: 'system' is only allowed in the first turn")
        messages.append({"role": "user", "content": _text(where, "input", turn.get("input"), clean)})
        messages.append({"role": "assistant", "content": _text(where, "output", turn.get("output"), clean)})
    return messages


# Which roles may follow each state; an assistant that calls tools must get the tools' results.
_NEXT = {
    "start": ("user",),
    "system": ("user",),
    "user": ("assistant",),
    "assistant": ("user",),
    "assistant with tool_calls": ("tool",),
    "tool": ("tool", "assistant"),
}


def _check_order(messages: list[dict[str, Any]]) -> None:
    state = "start"
    for index, message in enumerate(messages):
        role = message["role"]
        if role == "system" and index:
            raise RowProblem(f"messages[{index}]: a system turn may only come first")
        if role != "system" and role not in _NEXT[state]:
            after = "at the start" if state == "start" else f"after {state}"
            raise RowProblem(f"messages[{index}]: expected {' or '.join(_NEXT[state])} {after}, got {role}")
        state = "assistant with tool_calls" if message.get("tool_calls") else role
    if not any(message["role"] == "assistant" for message in messages):
        raise RowProblem("messages: no assistant turn (nothing to train on)")
    if messages[-1]["role"] != "assistant":
        raise RowProblem(f"messages: the last turn is {messages[-1]['role']}; a conversation must end with assistant")


def _tools(value: Any) -> list[dict[str, Any]] | None:
    if value is None or value == "" or value == []:  # "" is an empty CSV cell
        return None
    value = _json_cell("tools", value)
    if not isinstance(value, list) or not all(isinstance(tool, dict) for tool in value):
        got = type(value).__name__ if not isinstance(value, list) else "a list with non-object items"
        raise RowProblem(f"field 'tools': expected a list of JSON schemas (objects), got {got}")
    return value


@hookimpl
def register_data_formats(register):
    register("messages", MessagesFormat())
