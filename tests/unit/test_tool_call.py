"""The tool_call evaluator: parsing every accepted format, hostile outputs, value normalisation,
schema checks, and each metric on hand-scored predictions.

Every expected value is computed by hand in the comment next to it.
"""

import json
import time

import pytest

from core import Prediction
from core.kinds import RunContext
from core.pipeline import evaluate
from core.registry import get_registry
from plugins.tool_call import (
    MAX_SCAN_CHARS,
    ParsedCall,
    argument_errors,
    normalize_value,
    parse_tool_call,
    prf,
    schema_errors,
    values_equal,
)

# ---------------------------------------------------------------------------------------------
# Parsing: every accepted format


def call(name, arguments, count=1):
    return ParsedCall(name=name, arguments=arguments, is_call=True, valid_json=True, call_count=count)


NOT_A_CALL = ParsedCall(name=None, arguments={}, is_call=False, valid_json=False)
JSON_NOT_A_CALL = ParsedCall(name=None, arguments={}, is_call=False, valid_json=True)


@pytest.mark.parametrize(
    "text, expected",
    [
        # bare tool_name/parameters (the tool-call tutorial's layout)
        ('{"tool_name": "INSTANT_MEETING", "parameters": {"meeting_name": "周例会"}}',
         call("INSTANT_MEETING", {"meeting_name": "周例会"})),
        # bare name/arguments and name/parameters
        ('{"name": "f", "arguments": {"a": 1}}', call("f", {"a": 1})),
        ('{"name": "f", "parameters": {"a": 1}}', call("f", {"a": 1})),
        # fenced, with and without a language tag
        ('```json\n{"name": "f", "arguments": {"a": 1}}\n```', call("f", {"a": 1})),
        ('```\n{"tool_name": "g", "parameters": {}}\n```', call("g", {})),
        # a fence inside a fence: the first object that decodes is still found
        ('```\n```json\n{"name": "f", "arguments": {}}\n```\n```', call("f", {})),
        # Qwen/Hermes tags
        ('<tool_call>\n{"name": "f", "arguments": {"city": "北京"}}\n</tool_call>', call("f", {"city": "北京"})),
        # two Hermes blocks: the first is scored, both are counted
        ('<tool_call>{"name": "f", "arguments": {}}</tool_call>\n<tool_call>{"name": "g", "arguments": {}}</tool_call>',
         call("f", {}, count=2)),
        # OpenAI function with arguments as a JSON string, and as an object
        ('{"type": "function", "function": {"name": "f", "arguments": "{\\"a\\": 1, \\"b\\": \\"x\\"}"}}',
         call("f", {"a": 1, "b": "x"})),
        ('{"type": "function", "function": {"name": "f", "arguments": {"a": 1}}}', call("f", {"a": 1})),
        # OpenAI message with a tool_calls list of 3: the first call, count 3
        ('{"role": "assistant", "content": null, "tool_calls": ['
         '{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{\\"a\\": 1}"}},'
         '{"id": "c2", "type": "function", "function": {"name": "g", "arguments": "{}"}},'
         '{"id": "c3", "type": "function", "function": {"name": "h", "arguments": "{}"}}]}',
         call("f", {"a": 1}, count=3)),
        # chatter around the JSON, with braces and quotes in the chatter and a brace inside a string
        ('好的 "马上" {开会}：{"tool_name": "M", "parameters": {"note": "a } b \\" {"}} 以上。',
         call("M", {"note": 'a } b " {'})),
        # a call wrapped in braces that are not JSON is still found
        ('Sure {here it is: {"name": "f", "arguments": {"a": 1}}}', call("f", {"a": 1})),
        # a first object that names no tool is passed over for a later call
        ('{"thought": "need a meeting"} then {"name": "M", "arguments": {}}', call("M", {})),
        # a call without arguments, or with empty-string arguments: an empty dict
        ('{"name": "f"}', call("f", {})),
        ('{"type": "function", "function": {"name": "f", "arguments": ""}}', call("f", {})),
        # an array of calls gives its first call
        ('[{"name": "f", "arguments": {"a": 1}}, {"name": "g", "arguments": {}}]', call("f", {"a": 1})),
        # a name with surrounding spaces is stripped
        ('{"name": "  f ", "arguments": {}}', call("f", {})),
    ],
)
def test_parse_accepted_formats(text, expected):
    assert parse_tool_call(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("好的，已为您开会。", NOT_A_CALL),  # plain text: no JSON object at all
        ("", NOT_A_CALL),
        # unbalanced, one "}" short (cut by the token limit): its arguments decode alone, but
        # are only a piece of the broken object, so this is not JSON either
        ('{"name": "f", "arguments": {"a": 1}', NOT_A_CALL),
        ('{"name": "f", "arguments": {"a": "trunc', NOT_A_CALL),  # truncated inside a string
        ("}}}{{{", NOT_A_CALL),  # braces the wrong way round
        ("[1, 2, 3]", NOT_A_CALL),  # a JSON array holds no object
        ("{name: f, arguments: {}}", NOT_A_CALL),  # JavaScript-ish, not JSON
        ('<tool_call>{"name": "f", "arguments": {a: 1}}</tool_call>', NOT_A_CALL),  # invalid JSON in tags
        ('<tool_call>{"name": "f", "arguments": {"a": 1}</tool_call>', NOT_A_CALL),  # unbalanced in tags
        ('{"answer": 42}', JSON_NOT_A_CALL),  # decodes but names no tool
        ('{"name": 42, "arguments": {}}', JSON_NOT_A_CALL),  # a name that is not a string
        ('{"name": "", "arguments": {}}', JSON_NOT_A_CALL),  # an empty name
        ('{"tool_calls": []}', JSON_NOT_A_CALL),  # an empty call list
        # a "name" nested in an answer object is data, not a call: nested objects are not searched
        ('{"user": {"name": "Alice", "arguments": {}}}', JSON_NOT_A_CALL),
    ],
)
def test_parse_malformed_outputs_are_not_calls(text, expected):
    assert parse_tool_call(text) == expected


@pytest.mark.parametrize(
    "text, problem",
    [
        ('{"name": "f", "arguments": [1, 2]}', "arguments are a JSON array, not an object"),
        ('{"name": "f", "arguments": 3}', "arguments are a JSON number, not an object"),
        ('{"name": "f", "arguments": "{not json"}', "arguments are not valid JSON"),
        ('{"name": "f", "arguments": "[1]"}', "arguments are a JSON array, not an object"),
    ],
)
def test_arguments_that_are_not_an_object(text, problem):
    parsed = parse_tool_call(text)
    # Still a call to f (the tool was chosen), with no usable arguments and the problem noted.
    assert (parsed.name, parsed.arguments, parsed.is_call, parsed.problem) == ("f", {}, True, problem)


def test_non_string_input():
    assert parse_tool_call(None) is None  # the head produced nothing: no text to parse
    assert parse_tool_call(17) is None
    # A reference kept as a JSON object (the tool-call tutorial's "output") is read as its
    # JSON text.
    assert parse_tool_call({"tool_name": "M", "parameters": {"x": 1}}) == call("M", {"x": 1})


def test_huge_and_deep_inputs_are_bounded():
    hostile = [
        "{" * 1_000_000,  # a million candidate starts
        '{"a":' * 5_000 + "1" + "}" * 5_000,  # balanced but deeper than the JSON decoder allows
        '{"' * 100_000,  # every start opens an unterminated string
        "x" * 5_000_000,
    ]
    for text in hostile:
        start = time.perf_counter()
        assert parse_tool_call(text) == NOT_A_CALL
        # Unbounded, the first input alone would be ~10^10 steps; bounded it takes milliseconds.
        assert time.perf_counter() - start < 2.0


def test_only_the_first_chars_are_scanned():
    good = '{"name": "f", "arguments": {}}'
    assert parse_tool_call("x" * (MAX_SCAN_CHARS - len(good)) + good).is_call  # fits in the window
    assert not parse_tool_call("x" * MAX_SCAN_CHARS + good).is_call  # starts past the window


# ---------------------------------------------------------------------------------------------
# Comparing values


@pytest.mark.parametrize(
    "a, b",
    [
        ("Weekly Sync", " weekly sync "),  # case and outer spaces
        ("ＡＢＣ１２３", "abc123"),  # NFKC: full width
        ("STRASSE", "straße"),  # case folding, not just lower()
        (3, 3.0),
        (3, "3"),
        ("3.0", 3),
        ("３", 3),  # a full-width digit is the number 3 after NFKC
        (0.1, "0.1"),  # no binary-float surprise
        (-2.5, "-2.5"),
        (True, True),
        (None, None),
        (["A", 1], ["a", "1.0"]),  # lists element-wise
        ({"x": "A", "y": [1, {"z": "Q"}]}, {"y": ["1", {"z": "q"}], "x": "a"}),  # nested, key order free
    ],
)
def test_values_equal(a, b):
    assert values_equal(a, b)


@pytest.mark.parametrize(
    "a, b",
    [
        ("true", True),  # decided: a boolean equals only a boolean
        (1, True),  # ... even though True == 1 in Python
        (0, False),
        ("1", True),
        (None, ""),
        (None, "null"),
        ("3a", 3),
        ("a b", "ab"),  # inner spaces matter
        ([1, 2], [2, 1]),  # list order matters
        ([1], [1, 1]),
        ({"x": 1}, {"x": 1, "y": 2}),
        ({"X": 1}, {"x": 1}),  # keys are compared exactly
        ("v2.1", "v21"),
        (float("nan"), float("nan")),  # NaN equals nothing, as in JSON Schema
    ],
)
def test_values_differ(a, b):
    assert not values_equal(a, b)


def test_normalize_value_forms():
    assert normalize_value(" ＡＢＣ ") == "abc"
    assert normalize_value("1e3") == normalize_value(1000)
    assert normalize_value([True]) != normalize_value([1])
    assert normalize_value({"a": 1}) == normalize_value({"a": 1.0})


def test_argument_errors_and_prf():
    errors = argument_errors({"a": "X", "b": 2, "c": 1}, {"a": "x", "b": 3, "d": True})
    # a matches after case folding; b differs; d is missing; c is extra.
    assert errors == ["missing argument d", "wrong value for b: 2 != 3", "extra argument c"]
    assert prf(0, 0, 0) == (1.0, 1.0, 1.0)  # nothing expected, nothing given
    assert prf(0, 0, 2) == (0.0, 0.0, 0.0)  # nothing given
    assert prf(0, 2, 0) == (0.0, 0.0, 0.0)  # nothing expected, something given
    p, r, f = prf(1, 2, 4)  # P = 1/2, R = 1/4, F1 = 2·(1/8) / (3/4) = 1/3
    assert (p, r) == (0.5, 0.25) and f == pytest.approx(1 / 3)


# ---------------------------------------------------------------------------------------------
# Schema validity

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "INSTANT_MEETING",
            "description": "start a meeting now",
            "parameters": {
                "type": "object",
                "properties": {"meeting_name": {"type": "string"}, "duration": {"type": "integer"}},
                "required": ["meeting_name"],
                "additionalProperties": False,
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "SET_VOLUME",
            "description": "set the speaker volume",
            "parameters": {
                "type": "object",
                "properties": {
                    "level": {"type": "number"},
                    "mute": {"type": "boolean"},
                    "mode": {"type": "string", "enum": ["quiet", "loud"]},
                    "rooms": {"type": "array", "items": {"type": "string"}},
                    "options": {"type": "object", "properties": {"fade": {"type": ["boolean", "null"]}}},
                },
                "required": ["level"],
            },
        },
    },
]


@pytest.mark.parametrize(
    "name, arguments, errors",
    [
        ("INSTANT_MEETING", {"meeting_name": "周例会"}, []),
        ("INSTANT_MEETING", {"meeting_name": "周例会", "duration": 30.0}, []),  # 30.0 is an integer in JSON Schema
        ("SET_VOLUME", {"level": 5, "mute": False, "mode": "quiet", "rooms": ["a"], "options": {"fade": None}}, []),
        ("SET_VOLUME", {"level": 5, "extra": 1}, []),  # additionalProperties not false: extras allowed
        ("MAKE_COFFEE", {}, ["unknown tool MAKE_COFFEE"]),
        ("INSTANT_MEETING", {}, ["arguments: missing required argument meeting_name"]),
        ("INSTANT_MEETING", {"meeting_name": "x", "room": "A"}, ["arguments: unknown argument room"]),
        ("INSTANT_MEETING", {"meeting_name": 7}, ['arguments.meeting_name: expected string, got 7']),
        ("INSTANT_MEETING", {"meeting_name": "x", "duration": "30"},
         ['arguments.duration: expected integer, got "30"']),
        ("INSTANT_MEETING", {"meeting_name": "x", "duration": 1.5}, ["arguments.duration: expected integer, got 1.5"]),
        ("SET_VOLUME", {"level": True}, ["arguments.level: expected number, got true"]),  # a bool is no number
        ("SET_VOLUME", {"level": 1, "mute": 1}, ["arguments.mute: expected boolean, got 1"]),
        ("SET_VOLUME", {"level": 1, "mode": "Loud"}, ['arguments.mode: "Loud" is not one of ["quiet", "loud"]']),
        ("SET_VOLUME", {"level": 1, "rooms": "a"}, ['arguments.rooms: expected array, got "a"']),
        ("SET_VOLUME", {"level": 1, "rooms": ["a", 2]}, ["arguments.rooms[1]: expected string, got 2"]),
        ("SET_VOLUME", {"level": 1, "options": {"fade": "yes"}},
         ['arguments.options.fade: expected boolean/null, got "yes"']),
    ],
)
def test_schema_errors(name, arguments, errors):
    assert schema_errors(call(name, arguments), TOOLS) == errors


def test_schema_accepts_bare_function_entries():
    bare = [{"name": "f", "parameters": {"type": "object", "required": ["a"]}}]
    assert schema_errors(call("f", {"a": 1}), bare) == []
    assert schema_errors(call("f", {}), bare) == ["arguments: missing required argument a"]


# ---------------------------------------------------------------------------------------------
# Metrics on hand-scored predictions


def tool_call_json(name, **parameters):
    return json.dumps({"tool_name": name, "parameters": parameters}, ensure_ascii=False)


def pred(reference, prediction, tools=True, input="question"):
    return Prediction(model="finetuned", input=input, reference=reference, prediction=prediction,
                      extra={"tools": TOOLS} if tools else {})


PREDICTIONS = [
    # 1 right, fenced.                                     pairs correct/predicted/reference 1/1/1
    pred(tool_call_json("INSTANT_MEETING", meeting_name="周例会"),
         '```json\n{"tool_name": "INSTANT_MEETING", "parameters": {"meeting_name": "周例会"}}\n```', input="q1"),
    # 2 right after normalisation: case, full width, outer space, "30" for 30.     2/2/2
    #   schema: "30" is not an integer → the one schema-invalid call
    pred(tool_call_json("INSTANT_MEETING", meeting_name="Weekly Sync", duration=30),
         '{"tool_name": "INSTANT_MEETING", '
         '"parameters": {"meeting_name": "ｗｅｅｋｌｙ SYNC ", "duration": "30"}}',
         input="q2"),
    # 3 wrong tool (Hermes tags); its pair still counts as predicted.                0/1/1
    pred(tool_call_json("SET_VOLUME", level=5),
         '<tool_call>{"name": "INSTANT_MEETING", "arguments": {"meeting_name": "x"}}</tool_call>', input="q3"),
    # 4 missing argument, with chatter around the JSON.                             1/1/2
    pred(tool_call_json("INSTANT_MEETING", meeting_name="A", duration=60),
         '好的：{"tool_name": "INSTANT_MEETING", "parameters": {"meeting_name": "A"}} 已开始', input="q4"),
    # 5 extra argument (OpenAI style, string arguments); 3.0 equals 3.                1/2/1
    pred(tool_call_json("SET_VOLUME", level=3),
         '{"type": "function", '
         '"function": {"name": "SET_VOLUME", "arguments": "{\\"level\\": 3.0, \\"mute\\": true}"}}',
         input="q5"),
    # 6 not JSON where a call was expected.                                          0/0/1
    pred(tool_call_json("SET_VOLUME", level=7), "好的，音量调到7", input="q6"),
    # 7 reference is no call and the answer is none: exact.
    pred("好的，有什么可以帮您？", "您好，请讲", input="q7"),
    # 8 reference is no call but the answer calls a tool; no tools in extra, so no schema check.
    pred("今天天气晴", tool_call_json("INSTANT_MEETING", meeting_name="天气"), tools=False, input="q8"),
    # 9 no reference answer: skipped.
    pred(None, "anything", input="q9"),
]


def test_evaluator_is_registered_by_this_plugin():
    assert get_registry().names("evaluator")["tool_call"] == "tool_call"


def test_metrics_through_the_registry(tmp_path):
    registry = get_registry()
    evaluators = {name: registry.get("evaluator", name) for name in ("tool_call", "exact_match")}
    ctx = RunContext(cfg=None, run_dir=tmp_path)
    metrics, results = evaluate(evaluators, PREDICTIONS, ctx)  # the pipeline's own call: no clash
    tool_metrics = {k: v for k, v in metrics.items() if k.startswith("tool_call.")}
    assert tool_metrics == pytest.approx({
        # reference calls are 1-6; 1-5 parsed as calls, 6 did not
        "tool_call.parse_rate": 5 / 6,
        # right tool in 1, 2, 4, 5 of the 6
        "tool_call.name_accuracy": 4 / 6,
        # correct 1+2+0+1+1+0 = 5, predicted 1+2+1+1+2+0 = 7, reference 1+2+1+2+1+1 = 8
        "tool_call.args_precision": 5 / 7,
        "tool_call.args_recall": 5 / 8,
        # 2·(5/7)·(5/8) / (5/7 + 5/8) = (50/56) / (75/56) = 2/3
        "tool_call.args_f1": 2 / 3,
        # 1, 2 and 7 of the 8 scored examples
        "tool_call.exact_match": 3 / 8,
        # calls with tools in extra: 1-5 (8 has none); 2 is invalid → 4/5
        "tool_call.schema_valid": 4 / 5,
        # 6 (no call where one was expected) and 8 (a call where none was) are wrong → 6/8
        "tool_call.call_decision_accuracy": 6 / 8,
    })

    details = results["tool_call"].details
    # skipped 0: the pipeline hands evaluators only rows with a reference (it counts the others)
    assert details["counts"] == {
        "examples": 8, "skipped_no_reference": 0, "reference_calls": 6, "reference_no_calls": 2,
        "predicted_calls": 6,  # 1-5 and 8
        "not_json": 2,  # 6 and 7 hold no JSON object
        "multiple_calls": 0, "schema_checked": 5, "schema_invalid": 1,
    }
    assert details["per_tool"] == {
        # refs 1, 2, 4: names all right; exact 1, 2; pairs 4 correct / 4 predicted / 5 reference
        # → P = 1, R = 4/5, F1 = (8/5) / (9/5) = 8/9
        "INSTANT_MEETING": {"support": 3, "name_accuracy": 1.0, "exact_match": pytest.approx(2 / 3),
                            "args_f1": pytest.approx(8 / 9)},
        # refs 3, 5, 6: right name only in 5; none exact; pairs 1 / 3 / 3 → P = R = F1 = 1/3
        "SET_VOLUME": {"support": 3, "name_accuracy": pytest.approx(1 / 3), "exact_match": 0.0,
                       "args_f1": pytest.approx(1 / 3)},
        # refs 7, 8: 7 exact, 8 not
        "(no call)": {"support": 2, "name_accuracy": None, "exact_match": 0.5, "args_f1": None},
    }
    # Worst first: not JSON (6), wrong decision (8), wrong tool (3), then argument errors (4, 5 in order).
    failures = details["worst_failures"]
    assert [(f["input"], f["reason"]) for f in failures] == [
        ("q6", "not JSON"),
        ("q8", "unexpected call to INSTANT_MEETING"),
        ("q3", "wrong tool INSTANT_MEETING, expected SET_VOLUME; missing argument level; extra argument meeting_name"),
        ("q4", "missing argument duration"),
        ("q5", "extra argument mute"),
    ]
    assert failures[0]["prediction"] == "好的，音量调到7"
    # called directly, the evaluator skips and counts the row without a reference itself
    assert evaluators["tool_call"].evaluate(PREDICTIONS, ctx).details["counts"]["skipped_no_reference"] == 1
    assert failures[0]["reference"] == tool_call_json("SET_VOLUME", level=7)
    assert details["schema_errors"] == [
        {"input": "q2", "errors": ['arguments.duration: expected integer, got "30"']}
    ]


def test_wrong_value_reason_and_failure_cap(tmp_path):
    evaluator = get_registry().get("evaluator", "tool_call")
    ctx = RunContext(cfg=None, run_dir=tmp_path)
    wrong = [pred(tool_call_json("M", room="A"), tool_call_json("M", room="B"), input=f"q{i}") for i in range(12)]
    result = evaluator.evaluate(wrong, ctx)
    assert len(result.details["worst_failures"]) == 10  # capped
    assert result.details["worst_failures"][0]["reason"] == 'wrong value for room: "B" != "A"'
    # Name right everywhere, every pair wrong: name accuracy 1, args F1 0, exact 0.
    assert result.metrics["tool_call.name_accuracy"] == 1.0
    assert result.metrics["tool_call.args_f1"] == 0.0
    assert result.metrics["tool_call.exact_match"] == 0.0


def test_malformed_arguments_are_never_exact(tmp_path):
    evaluator = get_registry().get("evaluator", "tool_call")
    ctx = RunContext(cfg=None, run_dir=tmp_path)
    # The reference has no arguments and the answer's are unusable: the name is right, the call is not.
    result = evaluator.evaluate([pred(tool_call_json("M"), '{"name": "M", "arguments": [1]}', tools=False)], ctx)
    assert result.metrics["tool_call.name_accuracy"] == 1.0
    assert result.metrics["tool_call.exact_match"] == 0.0
    assert result.details["worst_failures"][0]["reason"] == "arguments are a JSON array, not an object"


def test_no_reference_calls_and_no_tools(tmp_path):
    evaluator = get_registry().get("evaluator", "tool_call")
    ctx = RunContext(cfg=None, run_dir=tmp_path)
    result = evaluator.evaluate([pred("你好", "你好", tools=False),
                                 pred("再见", tool_call_json("M"), tools=False)], ctx)
    # No reference call: parse/name/argument metrics have nothing to average and are left out;
    # no tools anywhere: no schema metric. Exact and decision: 1 of 2.
    assert result.metrics == {"tool_call.exact_match": 0.5, "tool_call.call_decision_accuracy": 0.5}
    assert "no reference is a tool call" in result.details["reason"]


def test_nothing_to_score(tmp_path):
    evaluator = get_registry().get("evaluator", "tool_call")
    ctx = RunContext(cfg=None, run_dir=tmp_path)
    for predictions, reason in (([], "there are no predictions"),
                                ([pred(None, "x")], "none of the 1 predictions has a reference answer")):
        result = evaluator.evaluate(predictions, ctx)
        assert result.metrics == {"tool_call.exact_match": 0.0, "tool_call.call_decision_accuracy": 0.0}
        assert result.details["reason"] == reason


def test_prediction_that_is_not_text(tmp_path):
    evaluator = get_registry().get("evaluator", "tool_call")
    ctx = RunContext(cfg=None, run_dir=tmp_path)
    result = evaluator.evaluate([pred(tool_call_json("M", a=1), None, tools=False)], ctx)
    assert result.metrics["tool_call.parse_rate"] == 0.0
    assert result.details["worst_failures"][0]["reason"] == "not JSON"


def test_report_table_and_escaping(tmp_path):
    evaluator = get_registry().get("evaluator", "tool_call")
    ctx = RunContext(cfg=None, run_dir=tmp_path)
    report = evaluator.evaluate(PREDICTIONS, ctx).report_md
    lines = report.splitlines()
    assert lines[:5] == [
        "| tool | support | name acc | args F1 | exact |",
        "|---|---:|---:|---:|---:|",
        "| INSTANT_MEETING | 3 | 1.000 | 0.889 | 0.667 |",
        "| SET_VOLUME | 3 | 0.333 | 0.333 | 0.000 |",
        "| (no call) | 2 | – | – | 0.500 |",
    ]
    assert "Worst failures:" in lines
    first_failure = lines[lines.index("Worst failures:") + 2]
    assert first_failure.startswith("- **not JSON**: input: q6; answer: 好的，音量调到7; reference: ")

    # "|" in a tool name, an answer or an input must not break the table or the list; newlines neither.
    piped = evaluator.evaluate([pred(tool_call_json("A|B", x="1|2"), "no\n| call", input="a|b", tools=False)],
                               ctx).report_md
    assert "| A\\|B | 1 | 0.000 | 0.000 | 0.000 |" in piped
    failure = piped.splitlines()[-1]
    assert failure.startswith("- **not JSON**: input: a\\|b; answer: no \\| call; reference: ")
    assert "|" not in failure.replace("\\|", "")


def test_a_model_that_writes_no_call_is_said_to_have_made_none(tmp_path):
    """A base model answering in prose scores the no-call rows' share as exact match; the report
    says that this number is not about calling."""
    evaluator = get_registry().get("evaluator", "tool_call")
    ctx = RunContext(cfg=None, run_dir=tmp_path)
    prose = [pred(tool_call_json("SET_VOLUME", level=5), "好的，音量调到5", input="q1"),
             pred(tool_call_json("INSTANT_MEETING", meeting_name="周会"), "好的", input="q2"),
             pred("好的，有什么可以帮您？", "您好，请讲", input="q3")]  # no call needed: exact
    result = evaluator.evaluate(prose, ctx)
    assert result.metrics["tool_call.exact_match"] == pytest.approx(1 / 3)
    assert result.report_md.splitlines()[0] == (
        "No answer here is a tool call: all 2 rows that need a call were missed, and the exact match 0.333 "
        "comes only from the 1 row that needs no call.")
    # Every row needs a call: the line says they were missed, not where a 0 came from (it named "the 0
    # rows that need no call" before).
    only_calls = evaluator.evaluate(prose[:2], ctx).report_md.splitlines()[0]
    assert only_calls == "No answer here is a tool call: all 2 rows that need a call were missed."
    # One call written, right or wrong: no such line.
    one_call = evaluator.evaluate([*prose[:1], pred(prose[1].reference, prose[1].reference, input="q2"), prose[2]], ctx)
    assert one_call.report_md.startswith("| tool |")
