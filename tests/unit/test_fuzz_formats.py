"""Property-based tests (hypothesis) for every built-in data format (issue 25, "Fuzzing").

Whatever a file holds, reading it either gives valid examples (``core.Example`` with non-empty
messages of role and text content) or raises ``core.DataError`` naming the file, and the line
unless the problem is the whole file's ("no rows ..."); never another exception. Three sources:
any byte string written as a ``.json`` / ``.jsonl`` / ``.csv`` file, rows generated as JSON
values shaped like each format's rows (written as JSON Lines or a JSON array), and such rows
written as CSV. Formats read files only, so no model is needed. Example counts stay modest
(``MAX_EXAMPLES`` per format and source) so the unit tier stays fast.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core import DataError, Example, lookup
from core.testing import compose_config

FORMATS = ("text_label", "alpaca", "messages", "toolcall")
MAX_EXAMPLES = 100
SETTINGS = settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

_CONFIGS: dict[tuple[str, str], object] = {}


def data_cfg(format_name: str, on_error: str):
    key = (format_name, on_error)
    if key not in _CONFIGS:  # composing is slow; once per format and on_error
        _CONFIGS[key] = compose_config([f"data.format={format_name}", f"data.on_error={on_error}"]).data
    return _CONFIGS[key]


def check_read(format_name: str, path: Path, on_error: str = "error") -> list[Example]:
    """Read ``path``; assert the promise (valid examples or a located DataError); return the examples."""
    try:
        result = lookup("data_format", format_name).read(path, data_cfg(format_name, on_error))
    except DataError as exc:
        assert exc.path == str(path), exc
        assert exc.line is not None or exc.reason.startswith("no rows"), exc
        assert "\n" not in str(exc).strip(), f"not one line: {exc!r}"
        return []
    examples = result if isinstance(result, list) else result.examples
    assert examples, "a read without an error returns examples"
    for example in examples:
        assert isinstance(example, Example)
        assert isinstance(example.messages, list) and example.messages
        for message in example.messages:
            assert message["role"] in ("system", "user", "assistant", "tool")
            assert isinstance(message["content"], str)
            message["content"].encode("utf-8")  # real text: no lone surrogates for the tokenizer to choke on
        assert example.source.startswith(f"{path}:")
        if format_name == "text_label":  # None: a row without a label (to classify, unscored)
            assert example.label is None or (isinstance(example.label, str) and example.label.strip())
    return examples


def write(directory: str, name: str, content: bytes | str) -> Path:
    path = Path(directory) / name
    if isinstance(content, str):
        content = content.encode("utf-8", "surrogatepass")
    path.write_bytes(content)
    return path


# --- any bytes -------------------------------------------------------------------------------------

# Raw bytes, and bytes that look like data (mostly JSON / CSV punctuation and text) so the parsers
# get past their first character more often than random bytes would.
TEXTY = st.text(alphabet=st.sampled_from(list('{}[]",:;\t|\n\r\\ ab01-.nulltrue卡\u2028\ufeff')), max_size=200)
# What breaks parsers rather than rows: nesting past the recursion limit, integers past Python's
# 4300-digit limit, a CSV cell past csv.field_size_limit() (an unclosed quote), lone surrogates.
DEPTH = st.integers(min_value=900, max_value=3000)
EXTREME = st.one_of(
    DEPTH.map(lambda n: "[" * n + "]" * n),
    DEPTH.map(lambda n: '{"text": ' + "[" * n + "]" * n + ', "label": "a"}\n'),
    DEPTH.map(lambda n: '{"instruction": "q", "output": "' + "[" * n + '"}\n'),
    DEPTH.map(lambda n: "instruction,output\nq," + '"' + "{" * n + '"\n'),
    st.integers(min_value=4301, max_value=6000).map(lambda n: '{"text": ' + "7" * n + ', "label": "a"}\n'),
    st.integers(min_value=4301, max_value=6000).map(lambda n: '[{"instruction": "q", "output": ' + "7" * n + "}]"),
    st.integers(min_value=131073, max_value=140000).map(lambda n: 'text,label\n"' + "x" * n + ",a\n"),
    st.sampled_from(["\\ud83d", "\\udc00x", "\\ud83d\\ude00"]).map(
        lambda s: '{"text": "a' + s + '", "label": "b", "instruction": "q' + s + '", "output": "o", '
                  '"messages": [{"role": "user", "content": "' + s + '"}, {"role": "assistant", "content": "a"}]}\n'),
).map(lambda t: t.encode("utf-8"))
BYTES = st.one_of(st.binary(max_size=300), TEXTY.map(lambda t: t.encode("utf-8")),
                  TEXTY.map(lambda t: t.encode("utf-16")), TEXTY.map(lambda t: t.encode("gb18030")), EXTREME)


@pytest.mark.parametrize("format_name", FORMATS)
@SETTINGS
@given(content=BYTES, suffix=st.sampled_from([".json", ".jsonl", ".csv"]), on_error=st.sampled_from(["error", "skip"]))
def test_any_bytes_give_examples_or_a_located_data_error(format_name, content, suffix, on_error):
    with tempfile.TemporaryDirectory() as directory:
        check_read(format_name, write(directory, "data" + suffix, content), on_error)


# --- generated rows --------------------------------------------------------------------------------

TEXT = st.text(max_size=20)
SCALAR = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), TEXT)
JSON = st.recursive(SCALAR, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                    st.dictionaries(TEXT, inner, max_size=3)), max_leaves=8)
ROLE = st.sampled_from(["system", "user", "assistant", "tool", "assitant", None, 1])
MESSAGE = st.fixed_dictionaries(
    {"role": ROLE},
    optional={"content": st.one_of(TEXT, st.none(), JSON), "tool_calls": st.one_of(JSON, st.lists(
        st.fixed_dictionaries({"id": TEXT}, optional={"function": st.one_of(JSON, st.fixed_dictionaries(
            {"name": st.one_of(TEXT, JSON)}, optional={"arguments": st.one_of(TEXT, JSON)}))}), max_size=2)),
        "name": JSON, "tool_call_id": JSON},
)
TURN = st.fixed_dictionaries({}, optional={"system": st.one_of(TEXT, JSON), "input": st.one_of(TEXT, JSON),
                                           "output": st.one_of(TEXT, JSON)})
TOOL_OUTPUT = st.one_of(TEXT, JSON, st.fixed_dictionaries({"tool_name": st.one_of(TEXT, JSON)},
                                                          optional={"parameters": JSON}))
FIELD_VALUES = {
    "text": st.one_of(TEXT, JSON), "label": st.one_of(TEXT, JSON),
    "instruction": st.one_of(TEXT, JSON), "input": st.one_of(TEXT, JSON), "output": st.one_of(TOOL_OUTPUT, JSON),
    "system": st.one_of(TEXT, JSON), "instruct": TEXT, "response": TEXT,
    "history": st.one_of(JSON, st.lists(st.lists(st.one_of(TEXT, JSON), max_size=3), max_size=2)),
    "messages": st.one_of(JSON, st.lists(MESSAGE, max_size=5)),
    "conversation": st.one_of(JSON, st.lists(TURN, max_size=3)),
    "tools": st.one_of(JSON, st.lists(st.dictionaries(TEXT, JSON, max_size=2), max_size=2)),
}
ROW = st.one_of(
    st.fixed_dictionaries({}, optional=FIELD_VALUES),  # shaped like some format's rows
    st.dictionaries(TEXT, JSON, max_size=4),  # any object
    JSON,  # any JSON value, object or not
)
ROWS = st.lists(ROW, min_size=1, max_size=4)


@pytest.mark.parametrize("format_name", FORMATS)
@SETTINGS
@given(rows=ROWS, layout=st.sampled_from(["jsonl", "array", "pretty"]), on_error=st.sampled_from(["error", "skip"]))
def test_generated_json_rows_give_examples_or_a_located_data_error(format_name, rows, layout, on_error):
    if layout == "jsonl":
        name, content = "rows.jsonl", "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    elif layout == "array":
        name, content = "rows.json", json.dumps(rows, ensure_ascii=False)
    else:
        name, content = "rows.json", json.dumps(rows, ensure_ascii=False, indent=2)
    with tempfile.TemporaryDirectory() as directory:
        examples = check_read(format_name, write(directory, name, content), on_error)
        if layout == "jsonl" and on_error == "error" and examples:
            assert len(examples) <= len(rows)  # a row yields at most one example, never a duplicate


@pytest.mark.parametrize("format_name", FORMATS)
@SETTINGS
@given(rows=st.lists(st.fixed_dictionaries({}, optional=FIELD_VALUES), min_size=1, max_size=4))
def test_json_lines_and_a_json_array_of_the_same_rows_read_the_same(format_name, rows):
    """Layout is no reason for a row to be read differently (e.g. U+2028 inside a string once split
    a JSON Lines row in two)."""
    with tempfile.TemporaryDirectory() as directory:
        outcomes = []
        for name, content in [("rows.jsonl", "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)),
                              ("rows.json", "[\n" + ",\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n]")]:
            path = write(directory, name, content)
            try:
                result = lookup("data_format", format_name).read(path, data_cfg(format_name, "error"))
                examples = result if isinstance(result, list) else result.examples
                outcomes.append(("examples", [(e.messages, e.label, e.source.rsplit(":", 1)[1]) for e in examples]))
            except DataError as exc:
                outcomes.append(("error", exc.reason.split(" (")[0] if exc.line is None else exc.reason))
        jsonl, array = outcomes
        if array[0] == "examples" and jsonl[0] == "examples":  # the array's rows start on line 2
            array = ("examples", [(m, l, str(int(line) - 1)) for m, l, line in array[1]])
        assert jsonl == array


def cell(value) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


@pytest.mark.parametrize("format_name", FORMATS)
@SETTINGS
@given(rows=st.lists(st.fixed_dictionaries({}, optional=FIELD_VALUES), min_size=1, max_size=4),
       delimiter=st.sampled_from([",", ";", "\t", "|"]), on_error=st.sampled_from(["error", "skip"]))
def test_generated_csv_rows_give_examples_or_a_located_data_error(format_name, rows, delimiter, on_error):
    columns = sorted({key for row in rows for key in row}) or ["text"]
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([cell(row[key]) if key in row else "" for key in columns])
    with tempfile.TemporaryDirectory() as directory:
        check_read(format_name, write(directory, "rows.csv", out.getvalue()), on_error)


def test_every_built_in_format_is_fuzzed():
    from core.registry import get_registry

    names = get_registry().names("data_format")  # {name: plugin}
    shipped = Path(__file__).resolve().parents[2] / "plugins"
    built_in = {name for name, plugin in names.items() if (shipped / f"{plugin}.py").is_file()}
    assert {"text_label", "alpaca", "messages", "toolcall"} <= built_in
    assert built_in <= set(FORMATS), f"fuzz these formats too: {sorted(built_in - set(FORMATS))}"
