"""Tool-call training rows copied with new argument values (``data.vary_arguments_until``).

A tool call copies most of its argument values from the request: a name, a date, a room, as the
user said them. Trained on a hundred rows, a small model learns the values it saw instead of the
copying: ``下下周二`` comes back as the training value ``下周二``, ``大后天`` as ``后天``. Copies of
each row with its copied values replaced by strings it has never seen (in the request and in the
call alike) leave copying as the only way to fit them.

Which rows: an example whose final assistant turn is a tool call (the tool-call tutorial's
``{"tool_name", "parameters"}`` as JSON text, a list of them, or OpenAI ``tool_calls``) and whose
user text contains at least one string argument value verbatim. Values not found in the user
text are kept as they are.

The new values are splices of the training values of the same tool argument: the start of one
value and the end of another (``明天`` + ``下周三`` → ``明周三``, ``李娜`` + ``郑浩`` → ``李浩``), never a
training value itself. They keep the argument's kind of text (names stay name-like, dates
date-like), so where two values stand side by side in a request (``西安大后天``) the copies still
show where one ends. (Measured against random characters and added characters, which blur that
boundary: docs/tuning-log.md.) The numbers in a splice are then drawn anew, in the same script
(``上午十点`` → ``上午十七点``, ``6月18号`` → ``9月25号``): splices alone only recombine the numbers
the file already has, and a model trained on ``上午十点`` answers ``上午十一点`` with ``上午十点``.

How many copies: small data is grown to at least ``data.vary_arguments_until`` rows (each row
gets ``ceil(until / rows) - 1`` copies, at most ``MAX_COPIES``); data that already has that many
rows is left as it is, and ``0`` turns it off. Seeded by ``seed``: the same run makes the same
copies.
"""

from __future__ import annotations

import copy
import json
import math
import random
import re
from collections import defaultdict
from typing import Any

from core.datafiles import compact_json
from core.types import Example

MAX_COPIES = 4  # beyond this the copies outnumber the user's rows too far
ATTEMPTS = 5  # tries at a copy whose request is new (two copies of a row may draw the same values)


def vary(examples: list[Example], until: int, seed: int) -> tuple[list[Example], dict[str, Any] | None]:
    """``examples`` followed by their copies with new argument values, and what was done (None
    when nothing was: off, enough rows, or no row copies a value from its request)."""
    if until <= 0 or len(examples) >= until:
        return examples, None
    # (example, its copied (tool, argument, value) triples), found once per row
    found = [(example, _copied_values(example, _calls(example) or [])) for example in examples]
    copyable = [(example, values) for example, values in found if values]
    if not copyable:
        return examples, None
    copies = min(MAX_COPIES, math.ceil(until / len(examples)) - 1)
    pools = _pools(copyable)
    rng = random.Random(f"{seed}/vary_arguments")
    made = []
    requests = {_user_text(example) for example in examples}
    for _ in range(copies):
        for example, values in copyable:
            for _attempt in range(ATTEMPTS):
                variant = _variant(example, values, pools, rng)
                if variant is not None and _user_text(variant) not in requests:
                    requests.add(_user_text(variant))
                    made.append(variant)
                    break
    summary = {"rows": len(examples), "rows_with_copied_values": len(copyable), "copies_per_row": copies,
               "rows_added": len(made), "until": until}
    return examples + made, summary


def describe(summary: dict[str, Any]) -> str:
    """One log line for what ``vary`` did."""
    return (f"data.vary_arguments_until={summary['until']}: {summary['rows']} training rows, "
            f"{summary['rows_with_copied_values']} of them with argument values copied from the request; added "
            f"{summary['rows_added']} copies ({summary['copies_per_row']} per row) with those values replaced by "
            f"new strings, so the model learns to copy values rather than recall them "
            f"(data.vary_arguments_until=0: off)")


def copies_of_first_row(examples: list[Example]) -> list[str]:
    """``request → call`` of the first training row and of each of its copies, one line each (for
    ``mode=inspect``: the copies live in memory only, and a user should see what they look like)."""
    first = examples[0]
    rows = [first, *(e for e in examples[1:] if e.source == copy_source(first.source))]
    return [f"{_user_text(e)} → {_calls_text(e)}" for e in rows]


def copy_source(source: str) -> str:
    """Where a copy came from, as its ``Example.source``: the row's own, marked as a copy."""
    return f"{source} (new argument values)"


def _calls_text(example: Example) -> str:
    """The final answer's calls as ``TOOL {arguments as compact JSON}``, ``; ``-separated, or its
    text when it is not a call."""
    calls = _calls(example)
    if calls is None:
        return str(example.messages[-1].get("content") or "")
    return "; ".join(f"{name} {compact_json(arguments)}" for name, arguments in calls)


# --- finding the calls ----------------------------------------------------------------------------


def _user_text(example: Example) -> str:
    """The request the final answer answers: the last user turn."""
    for message in reversed(example.messages[:-1]):
        if message["role"] == "user":
            return str(message.get("content") or "")
    return ""


def _calls(example: Example) -> list[tuple[str, dict]] | None:
    """(tool name, arguments object) of each call in the final assistant turn, or None when that
    turn is not a tool call. The arguments objects are the parsed answer's own, to edit in a copy."""
    if not example.messages or example.messages[-1]["role"] != "assistant":
        return None
    answer = example.messages[-1]
    if answer.get("tool_calls"):
        found = []
        for call in answer["tool_calls"]:
            function = call.get("function") if isinstance(call, dict) else None
            arguments = function.get("arguments") if isinstance(function, dict) else None
            if isinstance(arguments, str):
                try:
                    arguments = json.loads(arguments)
                except ValueError:
                    return None
            if not isinstance(arguments, dict):
                return None
            found.append((str(function.get("name")), arguments))
        return found
    try:
        parsed = json.loads(answer.get("content") or "")
    except ValueError:
        return None
    if compact_json(parsed) != answer["content"]:
        return None  # JSON laid out otherwise: a copy written compactly would train another layout
    items = parsed if isinstance(parsed, list) else [parsed]
    found = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("tool_name"), str):
            return None
        arguments = item.get("parameters")
        if isinstance(arguments, dict):
            found.append((item["tool_name"], arguments))
    return found


def _copied_values(example: Example, calls: list[tuple[str, dict]]) -> list[tuple[str, str, str]]:
    """(tool, argument, value) of each string argument value that occurs in the user text."""
    text = _user_text(example)
    return [(tool, key, value) for tool, arguments in calls for key, value in arguments.items()
            if isinstance(value, str) and value and value in text]


def _pools(copyable: list[tuple[Example, list]]) -> dict[tuple[str, str], list[str]]:
    pools: dict[tuple[str, str], set[str]] = defaultdict(set)
    for _example, values in copyable:
        for tool, key, value in values:
            pools[(tool, key)].add(value)
    return {key: sorted(values) for key, values in pools.items()}


# --- making new values ----------------------------------------------------------------------------


def new_value(values: list[str], rng: random.Random) -> str:
    """A splice of two of ``values``, its numbers drawn anew, that is not one of ``values`` (see
    the module docstring). Values of one character, and pools too small to splice anything new
    (``明天``, ``后天``), give two values joined whole (``后天明天``)."""
    for _ in range(20):
        first, second = rng.choice(values), rng.choice(values)
        if len(first) > 1 and len(second) > 1:
            made = new_numbers(first[: rng.randint(1, len(first) - 1)] + second[rng.randint(1, len(second) - 1):], rng)
            if made not in values:
                return made
    return new_numbers(rng.choice(values) + rng.choice(values), rng)


CHINESE_DIGITS = "一二三四五六七八九"
DIGIT_VALUES = {c: i + 1 for i, c in enumerate(CHINESE_DIGITS)} | {"两": 2}
NUMBER = re.compile(r"[0-9]+|[零一二三四五六七八九十两]+")


def chinese_number(n: int) -> str:
    """1..99 written in Chinese numerals: 七, 十, 十一, 二十, 二十五."""
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else CHINESE_DIGITS[tens - 1] + "十")
    return head + (CHINESE_DIGITS[ones - 1] if ones else "")


def chinese_value(run: str) -> int | None:
    """The number a run of Chinese numerals writes (``十八`` → 18, ``两`` → 2), or None when it is
    not one number from 1 to 99 (``一二``)."""
    if len(run) == 1 and run in DIGIT_VALUES:
        return DIGIT_VALUES[run]
    tens, ten, ones = run.partition("十")
    if not ten or len(tens) > 1 or len(ones) > 1 or (tens and tens not in DIGIT_VALUES) \
            or (ones and ones not in DIGIT_VALUES):
        return None
    return DIGIT_VALUES.get(tens, 1) * 10 + DIGIT_VALUES.get(ones, 0)


def new_numbers(text: str, rng: random.Random) -> str:
    """``text`` with each number in it drawn anew, in the same script: a number ``n`` up to 99
    becomes one from 1 to ``min(99, max(12, 2n))`` (hours, days, months and counts keep their
    size; two digits stay two, and Chinese numerals stay in what ``chinese_number`` writes), a
    longer run of digits one with as many digits."""
    def upper(n: int) -> int:
        return min(99, max(12, 2 * n))

    def redraw(match: re.Match) -> str:
        run = match.group()
        if run[0].isascii():
            if len(run) > 2:
                return str(rng.randint(10 ** (len(run) - 1), 10 ** len(run) - 1))
            return str(rng.randint(1, upper(int(run))))
        value = chinese_value(run)
        return chinese_number(rng.randint(1, upper(value) if value else 12))

    return NUMBER.sub(redraw, text)


def _replace_all(text: str, replacements: dict[str, str]) -> str:
    """``text`` with each key replaced by its value at once, longest keys first, so a value inside
    another (``明天`` in ``明天下午三点``) is not replaced inside the longer one."""
    marks = {}
    for number, old in enumerate(sorted(replacements, key=len, reverse=True)):
        mark = f"\x00{number}\x00"
        text = text.replace(old, mark)
        marks[mark] = replacements[old]
    for mark, new in marks.items():
        text = text.replace(mark, new)
    return text


def _variant(example: Example, values: list[tuple[str, str, str]], pools, rng: random.Random) -> Example | None:
    """A copy of ``example`` with its copied argument values replaced, or None when a replaced
    value no longer occurs in the new request (it was only inside a longer value)."""
    replacements: dict[str, str] = {}
    for tool, key, value in values:
        if value not in replacements:
            replacements[value] = new_value(pools[(tool, key)], rng)
    text = _replace_all(_user_text(example), replacements)
    if any(new not in text for new in replacements.values()):
        return None
    variant = copy.deepcopy(example)
    variant.source = copy_source(example.source)
    for message in variant.messages[:-1]:
        if message["role"] == "user" and isinstance(message.get("content"), str):
            message["content"] = _replace_all(message["content"], replacements)
    for name in ("instruction", "input"):
        if name in variant.fields:
            variant.fields[name] = _replace_all(variant.fields[name], replacements)
    answer = variant.messages[-1]
    if answer.get("tool_calls"):
        for call in answer["tool_calls"]:
            function = call["function"]
            as_text = isinstance(function.get("arguments"), str)
            arguments = json.loads(function["arguments"]) if as_text else function["arguments"]
            _replace_values(arguments, replacements)
            function["arguments"] = json.dumps(arguments, ensure_ascii=False) if as_text else arguments
    else:
        answer["content"] = _compact(json.loads(answer["content"]), replacements)
        if "output" in variant.fields:
            variant.fields["output"] = answer["content"]
    return variant


def _replace_values(arguments: dict, replacements: dict[str, str]) -> None:
    for key, value in arguments.items():
        if isinstance(value, str) and value in replacements:
            arguments[key] = replacements[value]


def _compact(parsed: Any, replacements: dict[str, str]) -> str:
    """The tutorial-layout answer with new values, written as the toolcall format writes it."""
    for item in parsed if isinstance(parsed, list) else [parsed]:
        if isinstance(item.get("parameters"), dict):
            _replace_values(item["parameters"], replacements)
    return compact_json(parsed)
