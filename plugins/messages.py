"""``messages`` data format: chat conversations (OpenAI / Alibaba Bailian JSONL, the
business Q&A tutorial's cloud data).

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

The business Q&A tutorial's local multi-turn layout is read too, and flattened to the same
messages::

    {"conversation": [{"system": "你是客服", "input": "问题一", "output": "回答一"},
                      {"input": "问题二", "output": "回答二"}]}

where ``system`` is optional and belongs to the first turn (a later turn may only repeat it).

A conversation may also end on a user turn, or on several user turns in a row (the tool-call
tutorial's test prompt): it is a prompt without a reference answer. In an eval file its answer is
generated, written and left unscored; in a training file it trains nothing, so it is left out and
counted (one log line, ``results.json``). Likewise a ``conversation`` whose last turn has no
``output``. Two user turns in a row anywhere else are an error (merge them).

``data.split_turns=true`` (the business Q&A tutorial's conversations flattened to pairs) makes
every exchange its own sample: a user turn with the assistant (and tool) turns answering it, the
system turn kept, the earlier exchanges dropped; its source is ``file:line#N``. Default: whole
dialogues, every assistant turn trained. ``data.instruction`` does not apply to chat rows
(``task.system_prompt`` sets a fixed system line); with only chat files it is refused.

``data.columns`` may rename the ``messages``, ``conversation`` and ``tools`` keys, e.g.
``'data.columns={messages: dialog}'``. ``data.clean=true`` cleans every message's text as the
``alpaca`` format does (HTML tags and entities, whitespace); a row with a text that ends up empty
is dropped and counted as skipped. Tool calls and tool schemas are never cleaned.

A bad row stops the read with ``file:line: reason``, e.g.
``data.jsonl:7: messages[2]: role 'assitant' is not one of system, user, assistant, tool``;
``data.on_error=skip`` skips and counts it instead. No row is dropped silently.
"""

from __future__ import annotations

from pathlib import Path

from core import Example, ReadResult, hookimpl
from core.datafiles import MESSAGES_FIELDS, RowProblem, column_mapping, read_examples, row_messages, row_tools

FIELDS = MESSAGES_FIELDS


class MessagesFormat:
    reads_instruction = False  # chat rows have no instruction field (data.instruction is refused alone)

    def read(self, path, data_cfg) -> ReadResult:
        path = Path(path)
        columns = column_mapping(data_cfg, FIELDS, "messages")
        keys = {field: columns.get(field, field) for field in FIELDS}
        clean = bool(getattr(data_cfg, "clean", False))

        def build(line: int, row: dict) -> Example:
            messages = row_messages(row, keys, clean)
            if "tools" in columns and keys["tools"] not in row:
                raise RowProblem(f"field 'tools': column {keys['tools']!r} (data.columns.tools) is not in the row")
            return Example(messages=messages, tools=row_tools(row.get(keys["tools"])), source=f"{path}:{line}")

        return read_examples(path, data_cfg, build)


@hookimpl
def register_data_formats(register):
    register("messages", MessagesFormat())
