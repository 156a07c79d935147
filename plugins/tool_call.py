"""Evaluator ``tool_call``: how well generated tool calls match the reference calls (the
tool-call tutorial).

::

    python -m core task=... 'task.evaluators=[tool_call]'

Accepted formats
----------------
Both the model's answer and the reference answer go through :func:`parse_tool_call`, which
finds the first JSON object in the text that decodes (leading and trailing chatter, a ```` ``` ````
or ```` ```json ```` fence, Qwen/Hermes ``<tool_call>…</tool_call>`` tags around it are all fine)
and reads a call from it in any of these shapes:

- the tool-call tutorial's layout:
  ``{"tool_name": "INSTANT_MEETING", "parameters": {"meeting_name": "周例会"}}``
- Qwen/Hermes and plain: ``{"name": "f", "arguments": {...}}`` (``parameters`` works too)
- OpenAI function: ``{"type": "function", "function": {"name": "f", "arguments": "{\\"a\\": 1}"}}``
  (``arguments`` as a JSON string or as an object)
- OpenAI message: ``{"tool_calls": [call, ...]}``: the first call is scored; ``call_count``
  records how many there were (also counted for several ``<tool_call>`` blocks).
- A JSON array of calls ``[{"name": ...}, ...]`` gives its first call (the first object found).

A JSON object without a tool name (``{"answer": 42}``), text without any JSON object, and a
call that does not decode (truncated JSON, or nested deeper than Python's JSON decoder goes)
are *not calls*: nothing could execute them. So a reference that is plain text means "the
assistant should not call a tool". ``valid_json`` means "a JSON object decoded" that is not just
a piece of a broken one (the arguments of a truncated call do not count); a bare array of
numbers counts as not JSON. Arguments that are neither an object nor a JSON string holding one
(``"arguments": [1, 2]``) count as an empty argument dict, and such a call is never an exact
match. Only the first 20,000 characters of a text are scanned, with a cap on the work spent
looking for objects (:data:`MAX_SCAN_CHARS`, :data:`MAX_SCAN_STEPS`), so a huge or deeply nested
answer costs milliseconds. Tool names are compared exactly (an executor dispatches on the exact
name); argument keys too.

Comparing argument values (:func:`normalize_value`)
----------------------------------------------------
Object key order never matters. Strings are compared after Unicode NFKC (full-width ``３Ｆ`` is
``3F``), stripping and case folding. Numbers compare by value, and a string that is a number
equals that number: ``3``, ``3.0`` and ``"3"`` are one value (slot values such as ``"3"`` vs
``3`` are the same request to an executor). Booleans equal only booleans: ``"true"`` is not
``true`` and ``1`` is not ``true``, since a string or a number where the schema wants a flag is a
wrong call. ``null`` equals only ``null``. Lists are compared element by element, in order;
nested objects recursively.

Metrics (flat, all between 0 and 1)
-----------------------------------
Examples whose reference is not a string (no reference answer) are skipped and counted (in a
run the pipeline hands evaluators only rows with a reference, and counts the others itself).

``tool_call.parse_rate``
    Over examples whose reference is a call: the fraction of answers that parsed as valid JSON
    with a tool name.
``tool_call.name_accuracy``
    Over reference calls: the fraction answered with a call to the same tool.
``tool_call.args_precision`` / ``args_recall`` / ``args_f1``
    Micro-averaged over ``key=value`` argument pairs of all reference calls: a pair is correct
    when the key is in both calls and the values are equal (normalised as above). Precision
    divides by the predicted pairs, recall by the reference pairs. A call to the wrong tool still
    contributes its pairs (mostly wrong ones, lowering precision), so the numbers answer "how good
    are the slots" without hiding a wrong tool behind a missing call; an answer that is not a call
    has no pairs. Where a denominator is 0, the ratio is 1 if the other side is empty as well
    (nothing to get wrong), else 0.
``tool_call.exact_match``
    Over all examples: for a reference call, the same tool and the whole argument dict equal
    (normalised); for a reference that is not a call, an answer that is not a call either.
``tool_call.schema_valid``
    Over answers that parsed as calls that have OpenAI-style tool schemas, from
    ``Prediction.extra["tools"]`` or else the run's ``data.tools_file``: the tool exists, required arguments are present, no unknown
    argument where ``additionalProperties`` is false, and the JSON-schema ``type``
    (string/number/integer/boolean/array/object/null) and ``enum`` of each value hold, also
    inside nested objects and array items. Left out when no prediction has tools.
``tool_call.call_decision_accuracy``
    Over all examples: the fraction where (answer is a call) == (reference is a call).
    Always reported.

The five reference-call metrics are left out when no reference is a call (they have nothing to
average); ``details["reason"]`` says so. With no scorable example at all, ``exact_match`` and
``call_decision_accuracy`` are 0.0 and the reason is given.

``details`` holds ``counts``, ``per_tool`` (per reference tool: ``support``, ``name_accuracy``,
``exact_match``, ``args_f1``; references that are not calls under ``"(no call)"``, where
``name_accuracy`` and ``args_f1`` are null) and ``worst_failures`` (up to 10, worst first: answers that
are not JSON, wrong call decisions, wrong tools, then argument errors, most errors first).
``report_md`` shows the per-tool table and the worst failures.

``row_scores`` gives the per-example 0/1 scores behind ``exact_match`` and
``call_decision_accuracy``, for core.confidence's bootstrap intervals and McNemar test.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from core import EvalResult, Prediction, hookimpl
from core.datafiles import load_tools_file
from core.kinds import RunContext

PREFIX = "tool_call."

# Work bounds for adversarial answers: a model can ramble for thousands of tokens or emit
# "{{{{…", where every "{" is a candidate start scanned to the end of the text (quadratic).
# Only this much text is scanned, and at most this many braces/quotes are visited in all
# (a few milliseconds); a real answer needs a few hundred.
MAX_SCAN_CHARS = 20_000
MAX_SCAN_STEPS = 100_000

MAX_FAILURES = 10
FAILURE_TEXT_CHARS = 300  # inputs/answers in details and report are cut to this length
NO_CALL = "(no call)"  # per-tool row for references that are not calls

# Outside a JSON string only braces and quotes matter; inside one, an escape pair or the closing quote.
_OUTSIDE_STRING = re.compile(r'[{}"]')
_INSIDE_STRING = re.compile(r'\\.|"', re.DOTALL)
# A number written as text: "3", "-2.5", "1e3" (not "inf", "nan" or "1_000", which float() takes).
_NUMBER_TEXT = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


@dataclass
class ParsedCall:
    """What :func:`parse_tool_call` read from one text.

    ``valid_json``: a JSON object was found and decoded (not just a piece of a broken one).
    ``is_call``: it carries a tool name. ``call_count``: how many calls the answer held (only the
    first is scored). ``problem`` says what was off about a call that still counts (arguments
    not an object).
    """

    name: str | None
    arguments: dict = field(default_factory=dict)
    is_call: bool = False
    valid_json: bool = False
    call_count: int = 0
    problem: str = ""


# ---------------------------------------------------------------------------------------------
# Parsing


def _matching_brace(text: str, start: int, budget: int) -> tuple[int | None, int]:
    """Index of the "}" closing the "{" at ``start`` (braces inside strings skipped), or None
    when there is none; and how many tokens were looked at, charged to the caller's budget."""
    depth, pos, steps = 0, start, 0
    while steps < budget:
        steps += 1
        match = _OUTSIDE_STRING.search(text, pos)
        if match is None:
            return None, steps
        char, pos = match.group(), match.end()
        if char == '"':
            while steps < budget:  # skip to the closing quote
                steps += 1
                inner = _INSIDE_STRING.search(text, pos)
                if inner is None:
                    return None, steps  # unterminated string: truncated JSON
                pos = inner.end()
                if inner.group() == '"':
                    break
        elif char == "{":
            depth += 1
        else:
            depth -= 1
            if depth == 0:
                return pos - 1, steps
    return None, steps


def _json_objects(text: str):
    """Yield ``(object, inside_broken)`` for each top-level JSON object of ``text`` that decodes,
    in order, within the work budget. ``inside_broken`` marks an object found inside a "{" that
    did not decode, such as the arguments of a call truncated by the token limit: it is searched
    (chatter like "ok {here: {...}}" wraps real calls) but does not make the text valid JSON."""
    pos, budget, broken_until = 0, MAX_SCAN_STEPS, -1
    while budget > 0:
        start = text.find("{", pos)
        if start < 0:
            return
        end, steps = _matching_brace(text, start, budget)
        budget -= steps
        value = None
        if end is not None:
            try:
                value = json.loads(text[start : end + 1])
            except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
                pass
        if isinstance(value, dict):
            yield value, start < broken_until
            pos = end + 1  # the objects nested inside belong to this one
            continue
        # No object starts here; an inner "{" may still start one, inside this broken span.
        broken_until = max(broken_until, len(text) if end is None else end)
        pos = start + 1


def _decode_arguments(raw: Any) -> tuple[dict, str]:
    if raw is None or raw == "":
        return {}, ""
    if isinstance(raw, str):  # OpenAI sends arguments as a JSON string
        try:
            raw = json.loads(raw)
        except (ValueError, RecursionError):
            return {}, "arguments are not valid JSON"
    if isinstance(raw, dict):
        return raw, ""
    kind = "array" if isinstance(raw, list) else "boolean" if isinstance(raw, bool) else "number"
    return {}, f"arguments are a JSON {kind}, not an object"


def _call_from_object(obj: dict) -> ParsedCall | None:
    """Read a call from one decoded object in any accepted shape; None when it names no tool."""
    count = 1
    calls = obj.get("tool_calls")
    if isinstance(calls, list) and calls and isinstance(calls[0], dict):
        obj, count = calls[0], len(calls)
    if isinstance(obj.get("function"), dict):  # OpenAI: {"type": "function", "function": {...}}
        obj = obj["function"]
    names = [obj.get(key) for key in ("tool_name", "name")]
    name = next((n.strip() for n in names if isinstance(n, str) and n.strip()), None)
    if name is None:
        return None
    raw = obj["parameters"] if "parameters" in obj else obj.get("arguments")
    arguments, problem = _decode_arguments(raw)
    return ParsedCall(name, arguments, is_call=True, valid_json=True, call_count=count, problem=problem)


def parse_tool_call(text: Any) -> ParsedCall | None:
    """Parse a tool call out of a model answer or a reference; None only when ``text`` is not a string.

    The first decoded JSON object that names a tool is the call; if none does but some object
    decoded, the result is valid JSON that is not a call; with no object at all, neither.
    """
    if isinstance(text, (dict, list)):  # a reference kept as structured JSON
        text = json.dumps(text, ensure_ascii=False)
    if not isinstance(text, str):
        return None
    text = text[:MAX_SCAN_CHARS]
    found_json = False
    for obj, inside_broken in _json_objects(text):
        found_json = found_json or not inside_broken
        call = _call_from_object(obj)
        if call is not None:
            # Hermes writes one <tool_call> block per call; count them like a tool_calls list.
            call.call_count = max(call.call_count, text.count("<tool_call>"))
            return call
    return ParsedCall(name=None, arguments={}, is_call=False, valid_json=found_json)


# ---------------------------------------------------------------------------------------------
# Comparing values


@dataclass(frozen=True)
class _Bool:
    # Booleans get their own type: in Python True == 1 == Decimal(1), which must not match.
    value: bool


def normalize_value(value: Any) -> Any:
    """A canonical, comparable form of a JSON value (rules in the module docstring)."""
    if isinstance(value, bool):
        return _Bool(value)
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        # repr gives the shortest text of the float, so 0.1 becomes Decimal("0.1"), not its binary expansion.
        return Decimal(repr(value))
    if isinstance(value, str):
        text = unicodedata.normalize("NFKC", value).strip()
        if _NUMBER_TEXT.fullmatch(text):
            try:
                return Decimal(text)
            except InvalidOperation:  # pragma: no cover - the regex only lets numbers through
                pass
        return text.casefold()
    if isinstance(value, (list, tuple)):
        return tuple(normalize_value(v) for v in value)
    if isinstance(value, dict):
        return frozenset((key, normalize_value(v)) for key, v in value.items())
    return value  # None, or anything else JSON does not produce


def values_equal(a: Any, b: Any) -> bool:
    """True when two argument values are the same after :func:`normalize_value`."""
    try:
        return normalize_value(a) == normalize_value(b)
    except RecursionError:  # a pathological nesting depth; treat as different
        return False


def _show(value: Any, limit: int = 80) -> str:
    """Compact JSON of a value for a message, cut to ``limit`` characters."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (ValueError, TypeError, RecursionError):
        text = "<unprintable>"
    return text if len(text) <= limit else text[:limit] + "…"


def argument_errors(predicted: dict, reference: dict) -> list[str]:
    """Readable differences between two argument dicts: missing, extra and wrong-valued keys."""
    errors = [f"missing argument {key}" for key in reference if key not in predicted]
    errors += [
        f"wrong value for {key}: {_show(predicted[key])} != {_show(reference[key])}"
        for key in reference
        if key in predicted and not values_equal(predicted[key], reference[key])
    ]
    errors += [f"extra argument {key}" for key in predicted if key not in reference]
    return errors


def _correct_pairs(predicted: dict, reference: dict) -> int:
    return sum(1 for key, value in reference.items() if key in predicted and values_equal(predicted[key], value))


def prf(correct: int, predicted: int, reference: int) -> tuple[float, float, float]:
    """Precision, recall, F1 from pair counts; an empty denominator scores 1 only if both sides are empty."""
    precision = correct / predicted if predicted else float(reference == 0)
    recall = correct / reference if reference else float(predicted == 0)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


# ---------------------------------------------------------------------------------------------
# Schema validity

_TYPE_CHECKS = {
    "string": lambda v: isinstance(v, str),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    # JSON Schema counts 3.0 as an integer; a bool is never a number.
    "integer": lambda v: (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer()),
    "boolean": lambda v: isinstance(v, bool),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
    "null": lambda v: v is None,
}


def _same_json(a: Any, b: Any) -> bool:
    # Exact JSON equality for enum: Python's True == 1 must not let a flag through.
    return isinstance(a, bool) == isinstance(b, bool) and a == b


def _schema_errors(value: Any, schema: Any, where: str) -> list[str]:
    if not isinstance(schema, dict):
        return []
    types = schema.get("type")
    types = [types] if isinstance(types, str) else types if isinstance(types, list) else []
    known = [t for t in types if t in _TYPE_CHECKS]  # unknown type names are not held against the call
    if known and not any(_TYPE_CHECKS[t](value) for t in known):
        return [f"{where}: expected {'/'.join(known)}, got {_show(value)}"]
    enum = schema.get("enum")
    if isinstance(enum, list) and not any(_same_json(value, option) for option in enum):
        return [f"{where}: {_show(value)} is not one of {_show(enum)}"]
    errors: list[str] = []
    if isinstance(value, dict):
        properties = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
        required = schema.get("required") if isinstance(schema.get("required"), list) else []
        errors += [f"{where}: missing required argument {key}" for key in required if key not in value]
        for key, item in value.items():
            if key in properties:
                errors += _schema_errors(item, properties[key], f"{where}.{key}")
            elif schema.get("additionalProperties") is False:
                errors.append(f"{where}: unknown argument {key}")
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            errors += _schema_errors(item, schema["items"], f"{where}[{index}]")
    return errors


def schema_errors(call: ParsedCall, tools: list) -> list[str]:
    """Why ``call`` does not fit the OpenAI-style ``tools`` schemas; empty when it does."""
    for tool in tools:
        if not isinstance(tool, dict):
            continue
        function = tool.get("function", tool)  # also accept a bare {"name", "parameters"} entry
        if isinstance(function, dict) and function.get("name") == call.name:
            parameters = function.get("parameters")
            if not isinstance(parameters, dict):
                parameters = {"type": "object"}
            try:
                return _schema_errors(call.arguments, parameters, "arguments")
            except RecursionError:
                return ["arguments: nested too deeply to check"]
    return [f"unknown tool {call.name}"]


# ---------------------------------------------------------------------------------------------
# The evaluator


@dataclass
class _Scored:
    """One example's comparison, kept for the metrics, the per-tool table and the failures."""

    prediction: Prediction
    reference: ParsedCall
    answer: ParsedCall
    exact: bool
    reasons: list[str]
    severity: int  # lower is worse: 0 not JSON, 1 wrong call decision, 2 wrong tool, 3 arguments


def _score(p: Prediction, reference: ParsedCall) -> _Scored:
    answer = parse_tool_call(p.prediction) or ParsedCall(None)  # None: the head produced no text
    if not reference.is_call:
        if answer.is_call:
            return _Scored(p, reference, answer, False, [f"unexpected call to {answer.name}"], 1)
        return _Scored(p, reference, answer, True, [], 4)  # 4: right, never listed
    if not answer.valid_json:
        return _Scored(p, reference, answer, False, ["not JSON"], 0)
    if not answer.is_call:
        return _Scored(p, reference, answer, False, ["JSON without a tool name"], 1)
    reasons = [] if answer.name == reference.name else [f"wrong tool {answer.name}, expected {reference.name}"]
    if answer.problem:
        reasons.append(answer.problem)
    reasons += argument_errors(answer.arguments, reference.arguments)
    exact = not reasons  # malformed arguments make a call inexact even when none were expected
    severity = 2 if answer.name != reference.name else 3
    return _Scored(p, reference, answer, exact, reasons, severity)


def _cut(text: Any) -> str:
    if not isinstance(text, str):
        return _show(text, FAILURE_TEXT_CHARS)
    return text if len(text) <= FAILURE_TEXT_CHARS else text[:FAILURE_TEXT_CHARS] + "…"


def _per_tool(scored: list[_Scored]) -> dict[str, dict]:
    groups: dict[str, list[_Scored]] = {}
    for s in scored:
        groups.setdefault(s.reference.name if s.reference.is_call else NO_CALL, []).append(s)
    table: dict[str, dict] = {}
    for tool in sorted(groups, key=lambda t: (t == NO_CALL, t)):  # the no-call row last
        rows = groups[tool]
        row = {"support": len(rows), "exact_match": sum(s.exact for s in rows) / len(rows)}
        if tool == NO_CALL:
            row.update(name_accuracy=None, args_f1=None)
        else:
            row["name_accuracy"] = sum(s.answer.name == s.reference.name for s in rows) / len(rows)
            row["args_f1"] = prf(*_pair_counts(rows))[2]
        table[tool] = row
    return table


def _pair_counts(rows: list[_Scored]) -> tuple[int, int, int]:
    """Correct, predicted and reference argument pairs over reference calls (micro-average)."""
    correct = predicted = reference = 0
    for s in rows:
        given = s.answer.arguments if s.answer.is_call else {}
        correct += _correct_pairs(given, s.reference.arguments)
        predicted += len(given)
        reference += len(s.reference.arguments)
    return correct, predicted, reference


def _escape(text: str) -> str:
    # One line per table cell or list item: collapse newlines, escape the column separator.
    return " ".join(str(text).split()).replace("|", "\\|")


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def _no_call_note(counts: dict, exact_match: float) -> list[str]:
    """A line for a model that wrote no call at all (a base model answering in prose): its exact
    match is then only the rows whose reference is no call, which says nothing about calling."""
    if counts["predicted_calls"] or not counts["reference_calls"]:
        return []
    no_calls = counts["reference_no_calls"]
    missed = f"No answer here is a tool call: all {counts['reference_calls']} rows that need a call were missed"
    if not no_calls:  # every row needs a call: there is no other share to explain
        return [f"{missed}.", ""]
    return [f"{missed}, and the exact match {exact_match:.3f} comes only from the {no_calls} "
            f"{'row that needs' if no_calls == 1 else 'rows that need'} no call.", ""]


def _report(per_tool: dict[str, dict], failures: list[dict], note: list[str] = ()) -> str:
    lines = [*note, "| tool | support | name acc | args F1 | exact |", "|---|---:|---:|---:|---:|"]
    for tool, row in per_tool.items():
        lines.append(
            f"| {_escape(tool)} | {row['support']} | {_fmt(row['name_accuracy'])} | "
            f"{_fmt(row['args_f1'])} | {_fmt(row['exact_match'])} |"
        )
    if failures:
        lines += ["", "Worst failures:", ""]
        for f in failures:
            lines.append(
                f"- **{_escape(f['reason'])}**: input: {_escape(f['input'])}; "
                f"answer: {_escape(f['prediction'])}; reference: {_escape(f['reference'])}"
            )
    return "\n".join(lines)


def run_tools(ctx) -> list | None:
    """The run's ``data.tools_file`` schemas, for predictions that carry no ``tools`` of their own."""
    cfg = getattr(ctx, "cfg", None)
    path = cfg.data.get("tools_file") if cfg is not None and "data" in cfg else None
    if not path:
        return None
    return load_tools_file(path)


class ToolCallEvaluator:
    def row_scores(self, predictions: list[Prediction], ctx: RunContext) -> dict[str, list[float]]:
        """Per-example 0/1 scores of the two metrics averaged over every scored example
        (``exact_match``, ``call_decision_accuracy``), in order; core.confidence resamples them.
        The other metrics average over a subset or over argument pairs and are not listed."""
        scored = [_score(p, reference) for p in predictions
                  for reference in [parse_tool_call(p.reference)] if reference is not None]
        return {
            PREFIX + "exact_match": [float(s.exact) for s in scored],
            PREFIX + "call_decision_accuracy": [float(s.answer.is_call == s.reference.is_call) for s in scored],
        }

    def evaluate(self, predictions: list[Prediction], ctx: RunContext) -> EvalResult:
        scored: list[_Scored] = []
        for p in predictions:
            reference = parse_tool_call(p.reference)
            if reference is not None:  # None: no reference answer, skipped
                scored.append(_score(p, reference))
        calls = [s for s in scored if s.reference.is_call]
        file_tools = run_tools(ctx)
        checked = [
            (s, schema_errors(s.answer, tools))
            for s in scored
            for tools in [(s.prediction.extra or {}).get("tools") or file_tools]
            if s.answer.is_call and isinstance(tools, list)
        ]
        counts = {
            "examples": len(scored),
            "skipped_no_reference": len(predictions) - len(scored),
            "reference_calls": len(calls),
            "reference_no_calls": len(scored) - len(calls),
            "predicted_calls": sum(s.answer.is_call for s in scored),
            "not_json": sum(not s.answer.valid_json for s in scored),
            "multiple_calls": sum(s.answer.call_count > 1 for s in scored),
            "schema_checked": len(checked),
            "schema_invalid": sum(bool(errors) for _, errors in checked),
        }
        details: dict[str, Any] = {"counts": counts}
        if not scored:
            details["reason"] = (
                f"none of the {len(predictions)} predictions has a reference answer"
                if predictions
                else "there are no predictions"
            )
            metrics = {PREFIX + "exact_match": 0.0, PREFIX + "call_decision_accuracy": 0.0}
            return EvalResult(metrics=metrics, details=details, report_md=f"tool_call: {details['reason']}.")

        metrics: dict[str, float] = {}
        if calls:
            metrics[PREFIX + "parse_rate"] = sum(s.answer.is_call for s in calls) / len(calls)
            metrics[PREFIX + "name_accuracy"] = sum(s.answer.name == s.reference.name for s in calls) / len(calls)
            precision, recall, f1 = prf(*_pair_counts(calls))
            metrics[PREFIX + "args_precision"] = precision
            metrics[PREFIX + "args_recall"] = recall
            metrics[PREFIX + "args_f1"] = f1
        else:
            details["reason"] = "no reference is a tool call: parse, name and argument metrics left out"
        metrics[PREFIX + "exact_match"] = sum(s.exact for s in scored) / len(scored)
        if checked:
            metrics[PREFIX + "schema_valid"] = sum(not errors for _, errors in checked) / len(checked)
        metrics[PREFIX + "call_decision_accuracy"] = sum(
            s.answer.is_call == s.reference.is_call for s in scored
        ) / len(scored)

        # Worst first: by severity, then by how many things went wrong; ties keep example order.
        wrong = sorted((s for s in scored if not s.exact), key=lambda s: (s.severity, -len(s.reasons)))
        failures = [
            {
                "input": _cut(s.prediction.input),
                "reference": _cut(s.prediction.reference),
                "prediction": _cut(s.prediction.prediction if s.prediction.prediction is not None else ""),
                "reason": "; ".join(s.reasons),
            }
            for s in wrong[:MAX_FAILURES]
        ]
        details["per_tool"] = _per_tool(scored)
        details["worst_failures"] = failures
        details["schema_errors"] = [
            {"input": _cut(s.prediction.input), "errors": errors} for s, errors in checked if errors
        ][:MAX_FAILURES]
        return EvalResult(metrics=metrics, details=details, report_md=_report(details["per_tool"], failures,
                                                                            _no_call_note(counts, metrics[PREFIX + "exact_match"])))


@hookimpl
def register_evaluators(register):
    register("tool_call", ToolCallEvaluator())
