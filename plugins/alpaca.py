"""``alpaca`` data format: instruction-tuning rows (workflows W2, W3, W4, W5).

Reads a JSON array, JSON Lines, or CSV with a header row; one row per example::

    {"instruction": "退货要多久到账?",              # required
     "input": "",                                   # optional, "" when absent
     "output": "一般 3 到 5 个工作日。",             # required
     "system": "你是电商客服。",                     # optional
     "history": [["上一个问题", "上一个回答"]]}       # optional, LLaMA-Factory style

Other column names: ``data.columns`` maps a field to the file's column, on the command line
``'data.columns={instruction: instruct}'`` or ``'data.columns={instruction: question, output: answer}'``.
A mapped column missing from a row is an error. Without a mapping, a missing ``instruction`` is
read from the first of ``instruct``, ``question``, ``prompt``, ``query`` that the row has, and a
missing ``output`` from ``response``, ``answer``, ``completion`` (logged once per file).

``output`` may be a JSON object or list (W4 tool calls); it is trained as compact JSON with
non-ASCII text kept (``{"tool_name":"INSTANT_MEETING"}``). Numbers become strings. ``history``
may also be a CSV cell holding the list as JSON text.

Each row becomes the messages [system] + one user/assistant pair per history item + a user turn
(the instruction, then a blank line and the input when there is one) + the assistant's output.
``Example.fields`` keeps ``instruction``, ``input`` and ``output`` apart for the ``alpaca`` and
``plain`` prompt templates, which lay them out as ``### Instruction`` / ``### Input``.

``data.clean=true`` (W3: CSV exported from a database or Excel) cleans every text cell: HTML
tags removed (``<br>`` and ``</p>`` become line breaks), entities such as ``&nbsp;`` decoded,
runs of spaces and tabs collapsed to one space, three or more line breaks collapsed to two,
ends stripped. Rows whose instruction or output is then empty are dropped and counted as
skipped rows. Without ``clean`` text is kept as written and an empty required field is an error.

A bad row stops the read with ``file:line: reason``; ``data.on_error=skip`` skips and counts it
instead. With ``skip`` an unreadable JSON Lines line is skipped too, but broken JSON-array or
CSV syntax, non-UTF-8 bytes and a missing file still stop the read.

The row-reading helpers here (``read_examples``, ``clean_text``) are shared with the
``messages`` format so both treat ``data.clean`` and ``data.on_error`` alike.
"""

from __future__ import annotations

from collections.abc import Mapping

import html
import json
import logging
import re
from pathlib import Path
from typing import Any, Callable

from core import DataError, Example, PlugtuneError, ReadResult, SkippedRow, hookimpl
from core.datafiles import iter_records

log = logging.getLogger("plugtune")

FIELDS = ("instruction", "input", "output", "system", "history")
# Column names other tutorials and exports use, tried in order when no mapping is given.
ALIASES = {
    "instruction": ("instruct", "question", "prompt", "query"),
    "output": ("response", "answer", "completion"),
}


class RowProblem(Exception):
    """What is wrong with one row; ``emptied`` marks a text that ``data.clean`` left empty."""

    def __init__(self, reason: str, emptied: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.emptied = emptied


# --- shared with plugins.messages -----------------------------------------------------------

_BREAK = re.compile(r"<br\s*/?>|</p\s*>", re.IGNORECASE)
# A tag starts with a letter (or /letter), so text such as "a < b > c" is not taken for one.
_TAG = re.compile(r"<!--.*?-->|</?[A-Za-z][^<>]*>", re.DOTALL)
_SPACES = re.compile(r"[^\S\n]+")  # any whitespace but line breaks (tabs, &nbsp;, ...)


def clean_text(text: str) -> str:
    """Text from an HTML-ish export cell as plain text (see the module docstring)."""
    text = _BREAK.sub("\n", text.replace("\r\n", "\n").replace("\r", "\n"))
    # Tags go before entities are decoded, so an escaped "&lt;b&gt;" stays as literal text.
    text = html.unescape(_TAG.sub("", text))
    text = _SPACES.sub(" ", text)
    text = re.sub(r" ?\n ?", "\n", text)  # no stray spaces at line ends or starts
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


def skips_errors(data_cfg) -> bool:
    """Whether ``data.on_error`` is ``skip`` (an OnError enum from the schema, or a plain string)."""
    value = getattr(data_cfg, "on_error", "error")
    return str(getattr(value, "value", value)) == "skip"


def column_mapping(data_cfg, fields: tuple[str, ...], format_name: str) -> dict[str, str]:
    """``data.columns`` as a dict; a field the format does not have is a typo, so an error."""
    raw = getattr(data_cfg, "columns", None) or {}
    if not isinstance(raw, Mapping):
        raise PlugtuneError(f"data.columns: expected a mapping like {{instruction: instruct}}, got {raw!r}")
    columns = dict(raw)
    for field in columns:
        if field not in fields:
            raise PlugtuneError(
                f"data.columns: the {format_name} format has no field {field!r}; its fields are {', '.join(fields)}"
            )
    return columns


def read_examples(path, data_cfg, build: Callable[[int, dict], Example]) -> ReadResult:
    """Build an example from every row; a RowProblem is a DataError, or a skipped row with
    ``on_error=skip`` or when ``data.clean`` emptied the row."""
    path = Path(path)
    skip = skips_errors(data_cfg)
    examples: list[Example] = []
    skipped: list[SkippedRow] = []
    for line, row in iter_records(path, skipped if skip else None):
        try:
            examples.append(build(line, row))
        except RowProblem as problem:
            if not (skip or problem.emptied):
                raise DataError(path, line, problem.reason) from None
            skipped.append(SkippedRow(f"{path}:{line}", problem.reason))
    if not examples:
        if skipped:
            first = skipped[0]
            raise DataError(
                path, None, f"no rows left: all {len(skipped)} were skipped (first: {first.source}: {first.reason})"
            )
        raise DataError(path, None, "no rows (the file is empty)")
    return ReadResult(examples, skipped)


def text_value(name: str, value: Any, *, required: bool, clean: bool) -> str:
    """A cell as a string: numbers converted, cleaned if asked, non-empty when required."""
    if value is None:
        text = ""
    elif isinstance(value, str):
        text = value
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        text = str(value)
    else:
        raise RowProblem(f"field {name!r}: expected a string, got {type(value).__name__}")
    if clean:
        text = clean_text(text)
    if required and not text.strip():
        if clean:
            raise RowProblem(f"empty {name!r} after cleaning", emptied=True)
        got = "missing" if value is None else repr(text)
        raise RowProblem(f"field {name!r}: expected a non-empty string, got {got}")
    return text


# --- the alpaca format ------------------------------------------------------------------------


class AlpacaFormat:
    def read(self, path, data_cfg) -> ReadResult:
        path = Path(path)
        columns = column_mapping(data_cfg, FIELDS, "alpaca")
        clean = bool(getattr(data_cfg, "clean", False))
        announced: set[tuple[str, str]] = set()  # alias columns already logged for this file

        def build(line: int, row: dict) -> Example:
            return self._example(path, line, row, columns, clean, announced)

        return read_examples(path, data_cfg, build)

    @staticmethod
    def _column(path: Path, row: dict, field: str, columns: dict, announced: set) -> str | None:
        """The row's key that holds ``field``, or None when it has none."""
        if field in columns:
            column = columns[field]
            if column not in row:
                raise RowProblem(
                    f"field {field!r}: column {column!r} (data.columns.{field}) is not in the row; "
                    f"its columns are {', '.join(map(str, row))}"
                )
            return column
        if field in row:
            return field
        for alias in ALIASES.get(field, ()):
            if alias in row:
                if (field, alias) not in announced:
                    announced.add((field, alias))
                    log.info("%s: reading alpaca field %r from column %r (set data.columns={%s: COLUMN} to choose another)",
                             path, field, alias, field)
                return alias
        return None

    def _example(self, path: Path, line: int, row: dict, columns: dict, clean: bool, announced: set) -> Example:
        values = {}
        for field in ("instruction", "output"):
            column = self._column(path, row, field, columns, announced)
            if column is None:
                tried = ", ".join((field, *ALIASES[field]))
                raise RowProblem(
                    f"field {field!r}: expected a non-empty string, got missing "
                    f"(no column {tried}; set data.columns.{field})"
                )
            values[field] = row[column]
        optional = {}
        for field in ("input", "system", "history"):
            column = self._column(path, row, field, columns, announced)
            optional[field] = row[column] if column is not None else None

        instruction = text_value("instruction", values["instruction"], required=True, clean=clean)
        output = values["output"]
        structured = isinstance(output, (dict, list))
        if structured:  # W4: a tool call given as a JSON object; data, so never "cleaned"
            output = json.dumps(output, ensure_ascii=False, separators=(",", ":"))
        output = text_value("output", output, required=True, clean=clean and not structured)
        input_text = text_value("input", optional["input"], required=False, clean=clean)
        if not input_text.strip():
            input_text = ""  # templates add an Input section only for a real input
        system = text_value("system", optional["system"], required=False, clean=clean)

        messages = [{"role": "system", "content": system}] if system.strip() else []
        for user, assistant in _history(optional["history"], clean):
            messages += [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}]
        prompt = f"{instruction}\n\n{input_text}" if input_text else instruction
        messages += [{"role": "user", "content": prompt}, {"role": "assistant", "content": output}]
        return Example(
            messages=messages,
            source=f"{path}:{line}",
            fields={"instruction": instruction, "input": input_text, "output": output},
        )


def _history(value: Any, clean: bool) -> list[tuple[str, str]]:
    """Earlier turns as (user, assistant) pairs."""
    if value is None or value == "" or value == []:
        return []
    if isinstance(value, str):  # a CSV cell holds the list as JSON text
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise RowProblem(
                "field 'history': expected a list of [user, assistant] pairs, got text that is not JSON"
            ) from None
    if not isinstance(value, list):
        raise RowProblem(f"field 'history': expected a list of [user, assistant] pairs, got {type(value).__name__}")
    pairs = []
    for index, pair in enumerate(value):
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            got = f"{len(pair)} items" if isinstance(pair, (list, tuple)) else type(pair).__name__
            raise RowProblem(f"field 'history': item {index}: expected a [user, assistant] pair, got {got}")
        pairs.append(tuple(
            text_value(f"history[{index}][{side}]", text, required=True, clean=clean)
            for side, text in enumerate(pair)
        ))
    return pairs


@hookimpl
def register_data_formats(register):
    register("alpaca", AlpacaFormat())
