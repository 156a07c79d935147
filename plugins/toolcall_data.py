"""``toolcall`` data format: tool-call rows, checked row by row (the tool-call tutorial's
layout and OpenAI's).

::

    python -m core task=toolcall data.format=toolcall data.tools_file=data/toolcall/tools.json

Reads the same files as the ``alpaca`` and ``messages`` formats (a JSON array, JSON Lines, or CSV
with a header row) and builds the same examples, one row at a time:

- a row with ``messages`` or ``conversation`` is read exactly as the ``messages`` format reads it
  (OpenAI chat layout, assistant ``tool_calls``, optional ``tools`` schemas);
- any other row is read exactly as the ``alpaca`` format reads it, e.g. the tool-call
  tutorial's layout::

      {"instruct": "好，邀情王磊", "input": "",
       "output": {"tool_name": "INVITE_PARTICIPANT", "parameters": {"name": "王磊"}}}

  An object ``output`` is trained as compact JSON with non-ASCII text kept
  (``{"tool_name":"INVITE_PARTICIPANT","parameters":{"name":"王磊"}}``). An ``output`` that is
  plain text means the assistant answers without calling a tool. An ``output`` given as JSON
  *text* (e.g. a CSV cell starting with ``{`` or ``[``) is decoded and trained as compact JSON
  too, just like an object.

``data.columns``, ``data.clean`` and ``data.on_error`` work as in those two formats
(``data.columns`` may rename fields of either); ``data.instruction`` gives alpaca-style rows
without an instruction that one (not ``messages`` rows: ``task.system_prompt`` is their fixed line).

Rows without a reference answer are read as prompts, as in those formats: an alpaca-style row
without ``output`` (null or an empty cell too), a chat row ending on one or more user turns (the
tool-call tutorial's test prompt: a fixed user line, then the request). Eval files: answered and
written, unscored; training files: left out and counted.

What is checked, on top of what ``alpaca`` and ``messages`` check
------------------------------------------------------------------
Tool-call tutorial rows (``output``):

- text that starts with ``{`` or ``[`` must be valid JSON:
  ``field 'output': invalid JSON (Expecting ',' delimiter at column 27)``;
- a call (an object, or each item of a list) must have ``tool_name``:
  ``field 'output': tool call has no 'tool_name'``;
- ``tool_name`` must be a non-empty string, and ``parameters``, when present, an object.

OpenAI rows (each entry of an assistant turn's ``tool_calls``):

- it must be an object with ``function.name`` (a non-empty string):
  ``messages[2].tool_calls[0]: function.name is missing``;
- ``function.arguments``, when present, must be an object or a string holding a JSON object:
  ``messages[2].tool_calls[0]: function.arguments: invalid JSON (...)`` or
  ``... function.arguments must decode to a JSON object, got list``.

Tool names: when the row has ``tools`` (OpenAI layout), or else when ``data.tools_file`` is set,
every called name must be one of those tools:
``field 'output': tool 'SEND_EMAIL' is not in the tools list (known: INSTANT_MEETING, ...)``.

``data.tools_file`` is a JSON list of OpenAI tool schemas (``{"type": "function", "function":
{"name", "description", "parameters"}}``; a flat ``{"name", ...}`` works too), such as
``data/toolcall/tools.json``. Its tools are attached to every example that has no ``tools`` of
its own (``Example.tools``), so prompt templates and evaluators can see the schemas. A missing or
unreadable file, or one that is not such a list, stops the run with an error naming
``data.tools_file``.

A bad row stops the read with ``file:line: reason``; ``data.on_error=skip`` skips and counts it
instead (listed in the log, ``results.json`` and ``report.md``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from core import Example, ReadResult, hookimpl
from core.datafiles import (
    ALPACA_FIELDS,
    MESSAGES_FIELDS,
    AlpacaRows,
    RowProblem,
    column_mapping,
    load_tools_file,
    read_examples,
    row_messages,
    row_tools,
    tool_names,
)

FIELDS = ALPACA_FIELDS + MESSAGES_FIELDS


class ToolcallFormat:
    reads_instruction = True  # data.instruction applies to its alpaca-style rows

    def read(self, path, data_cfg) -> ReadResult:
        path = Path(path)
        columns = column_mapping(data_cfg, FIELDS, "toolcall")
        alpaca_columns = {field: column for field, column in columns.items() if field in ALPACA_FIELDS}
        keys = {field: columns.get(field, field) for field in MESSAGES_FIELDS}
        clean = bool(getattr(data_cfg, "clean", False))
        file_tools = load_tools_file(getattr(data_cfg, "tools_file", None))
        alpaca = AlpacaRows(path, alpaca_columns, clean, instruction=getattr(data_cfg, "instruction", None))

        def build(line: int, row: dict) -> Example:
            own_tools = row_tools(row.get(keys["tools"]))
            if own_tools is None and file_tools is not None:
                try:
                    return build_checked(line, row, own_tools)
                except RowProblem as problem:
                    if "is not in the tools list" not in problem.reason:
                        raise
                    # The list came from data.tools_file: say where it is and how to do without it.
                    raise RowProblem(f"{problem.reason}; the list is data.tools_file={data_cfg.tools_file}: "
                                     "add the tool there, or set data.tools_file=null to check no list") from None
            return build_checked(line, row, own_tools)

        def build_checked(line: int, row: dict, own_tools) -> Example:
            tools = own_tools if own_tools is not None else file_tools
            known = None if tools is None else tool_names(tools)
            if keys["messages"] in row or keys["conversation"] in row:
                messages = row_messages(row, keys, clean)
                _check_openai_calls(messages, known)
                return Example(messages=messages, tools=tools, source=f"{path}:{line}")
            column = alpaca.column(row, "output")
            if column is not None and row[column] not in (None, ""):  # no output: a prompt, nothing to check
                output = _checked_output(row[column], known)
                if output is not row[column]:
                    row = {**row, column: output}
            example = alpaca.example(line, row)
            example.tools = tools
            return example

        return read_examples(path, data_cfg, build)


def _json_reason(exc: Exception) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} at column {exc.colno}"
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    return "a number with more than 4300 digits" if "digits" in str(exc) else str(exc)


def _check_name(where: str, name: str, known: list[str] | None) -> None:
    if known is not None and name not in known:
        raise RowProblem(f"{where}: tool {name!r} is not in the tools list (known: {', '.join(known) or 'none'})")


def _checked_output(output: Any, known: list[str] | None) -> Any:
    """``output`` checked as the tool-call tutorial's call; JSON text comes back decoded, anything
    else as given."""
    where = "field 'output'"
    if isinstance(output, str) and output.lstrip()[:1] in ("{", "["):
        try:
            output = json.loads(output)
        except (ValueError, RecursionError) as exc:  # also too deep, or an integer of 4300+ digits
            raise RowProblem(f"{where}: invalid JSON ({_json_reason(exc)})") from None
    if isinstance(output, dict):
        _check_output_call(where, output, known)
    elif isinstance(output, list):
        if not output:
            raise RowProblem(f"{where}: an empty list of tool calls")
        for index, call in enumerate(output):
            _check_output_call(f"{where}: item {index}", call, known)
    return output


def _check_output_call(where: str, call: Any, known: list[str] | None) -> None:
    if not isinstance(call, dict):
        raise RowProblem(f"{where}: expected a tool call object, got {type(call).__name__}")
    if "tool_name" not in call:
        raise RowProblem(f"{where}: tool call has no 'tool_name'")
    name = call["tool_name"]
    if not isinstance(name, str) or not name.strip():
        raise RowProblem(f"{where}: 'tool_name' must be a non-empty string, got {name!r}")
    if "parameters" in call and not isinstance(call["parameters"], dict):
        raise RowProblem(f"{where}: 'parameters' must be an object, got {type(call['parameters']).__name__}")
    _check_name(where, name, known)


def _check_openai_calls(messages: list[dict[str, Any]], known: list[str] | None) -> None:
    for m_index, message in enumerate(messages):
        for c_index, call in enumerate(message.get("tool_calls") or ()):
            where = f"messages[{m_index}].tool_calls[{c_index}]"
            if not isinstance(call, dict):
                raise RowProblem(f"{where}: expected an object, got {type(call).__name__}")
            function = call.get("function")
            if not isinstance(function, dict):
                raise RowProblem(f"{where}: function is missing (expected {{\"name\", \"arguments\"}})")
            name = function.get("name")
            if name is None:
                raise RowProblem(f"{where}: function.name is missing")
            if not isinstance(name, str) or not name.strip():
                raise RowProblem(f"{where}: function.name must be a non-empty string, got {name!r}")
            arguments = function.get("arguments")
            if isinstance(arguments, str):
                try:
                    arguments = json.loads(arguments)
                except (ValueError, RecursionError) as exc:
                    raise RowProblem(f"{where}: function.arguments: invalid JSON ({_json_reason(exc)})") from None
                if not isinstance(arguments, dict):
                    raise RowProblem(
                        f"{where}: function.arguments must decode to a JSON object, got {type(arguments).__name__}"
                    )
            elif arguments is not None and not isinstance(arguments, dict):
                raise RowProblem(
                    f"{where}: function.arguments must be an object or a JSON string, got {type(arguments).__name__}"
                )
            _check_name(where, name, known)


@hookimpl
def register_data_formats(register):
    register("toolcall", ToolcallFormat())
