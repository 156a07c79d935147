"""Errors that point at the real cause (issue 25): the wrong shape of a JSON file, a CSV with
another delimiter, a null value, a file in another encoding, a custom template the sandbox
refuses or that does not parse. Read in-process: no model, no tokenizer (a stub renders Jinja
with transformers' own sandboxed renderer)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from core import DataError, Example, PlugtuneError, lookup
from core.testing import compose_config


def read(format_name: str, path: Path, *overrides: str):
    cfg = compose_config([f"data.format={format_name}", *overrides])
    result = lookup("data_format", format_name).read(path, cfg.data)
    return result if isinstance(result, list) else result.examples


def error(format_name: str, path: Path, *overrides: str) -> str:
    with pytest.raises(DataError) as info:
        read(format_name, path, *overrides)
    return str(info.value)


# --- 1. a JSON object where rows were expected ---------------------------------------------------


def test_a_pretty_printed_json_object_is_named_as_such(tmp_path):
    path = tmp_path / "qa.json"
    path.write_text(json.dumps({"instruction": "退货要多久?", "output": "3 到 5 天"}, ensure_ascii=False, indent=2),
                    encoding="utf-8")
    message = error("alpaca", path)
    assert message == (f"{path}:1: a JSON object (lines 1-4), expected an array of rows or JSON Lines; "
                       "wrap the rows in [...] or put one per line")
    assert "invalid JSON" not in message


def test_an_object_wrapping_the_rows_says_which_key_holds_them(tmp_path):
    path = tmp_path / "export.json"
    rows = [{"instruction": "q1", "output": "a1"}, {"instruction": "q2", "output": "a2"}]
    path.write_text(json.dumps({"version": 1, "data": rows}, indent=2), encoding="utf-8")
    assert error("alpaca", path, "data.on_error=skip").endswith(
        "wrap the rows in [...] or put one per line (its 'data' key holds 2 rows: save that list as the file)")


def test_pretty_printed_rows_one_after_another_say_one_row_per_line(tmp_path):
    path = tmp_path / "chat.jsonl"
    row = {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}
    path.write_text(json.dumps(row, indent=2) + "\n" + json.dumps(row, indent=2) + "\n", encoding="utf-8")
    assert error("messages", path).startswith(
        f"{path}:1: a JSON object spread over lines 1-12; JSON Lines needs each row on one line")


def test_a_pretty_printed_array_in_a_jsonl_file_is_read_as_an_array(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_text(json.dumps([{"text": "卡丢了", "label": "card_lost"}], ensure_ascii=False, indent=2), encoding="utf-8")
    (example,) = read("text_label", path)
    assert example.label == "card_lost" and example.source == f"{path}:2"


def test_json_lines_keep_line_separators_inside_strings(tmp_path):
    # U+2028 is legal, unescaped, inside a JSON string; str.splitlines() used to split the row there.
    path = tmp_path / "rows.jsonl"
    path.write_text('{"text": "第一行\u2028第二行", "label": "a"}\n{"text": "x", "label": "b"}\n', encoding="utf-8")
    examples = read("text_label", path)
    assert [e.source for e in examples] == [f"{path}:1", f"{path}:2"]


# --- 2. CSV delimiters -----------------------------------------------------------------------------


@pytest.mark.parametrize("delimiter,name", [(";", "semicolon"), ("\t", "tab"), ("|", "pipe")])
def test_csv_delimiter_is_sniffed_from_the_header(tmp_path, caplog, delimiter, name):
    path = tmp_path / "intents.csv"
    path.write_text(f"text{delimiter}label\n卡丢了{delimiter}card_lost\n退款, 多久{delimiter}refund\n", encoding="utf-8")
    with caplog.at_level(logging.INFO, logger="plugtune"):
        examples = read("text_label", path)
    assert [(e.messages[0]["content"], e.label) for e in examples] == [("卡丢了", "card_lost"), ("退款, 多久", "refund")]
    assert f"reading it as {name}-delimited CSV" in caplog.text


def test_semicolon_csv_for_alpaca(tmp_path):
    path = tmp_path / "qa.csv"
    path.write_text('instruction;output\n"退货; 要多久?";3 到 5 天\n', encoding="utf-8")
    (example,) = read("alpaca", path)
    assert example.fields["instruction"] == "退货; 要多久?" and example.fields["output"] == "3 到 5 天"


def test_a_row_with_more_cells_names_the_header_and_the_delimiter(tmp_path):
    path = tmp_path / "intents.csv"
    path.write_text("text,label\n卡丢了,card_lost\n退款,多久,refund\n", encoding="utf-8")
    assert error("text_label", path) == (
        f"{path}:3: 3 cells, but the header has 2 columns (comma-delimited: 'text', 'label'); "
        "quote cells that contain the delimiter")


def test_a_missing_alpaca_column_lists_the_columns_found(tmp_path):
    path = tmp_path / "qa.csv"
    path.write_text("frage,antwort\nq,a\n", encoding="utf-8")
    assert error("alpaca", path).endswith("set data.columns.instruction); the row has columns 'frage', 'antwort'")


# --- 3. null is null, not missing ------------------------------------------------------------------


@pytest.mark.parametrize("format_name,row,reason", [
    # A null or missing label is a row to classify unscored now: tests/unit/test_data_layouts.py
    ("text_label", {"text": None, "label": "a"}, "field 'text': expected a non-empty string, got null"),
    # A null output (or conversation output in the last turn) is a prompt now: tests/unit/test_data_layouts.py
    ("alpaca", {"instruction": "问", "output": "答", "history": [["q", None]]},
     "field 'history[0][1]': expected a non-empty string, got null"),
    ("alpaca", {"instruction": None, "output": "答"}, "field 'instruction': expected a non-empty string, got null"),
    ("messages", {"messages": [{"role": "user", "content": None}, {"role": "assistant", "content": "a"}]},
     "messages[0]: content is null"),
    ("messages", {"conversation": [{"input": "q", "output": None}, {"input": "r", "output": "s"}]},
     "conversation[0]: output is null"),
    ("toolcall", {"instruction": None, "output": "答"}, "field 'instruction': expected a non-empty string, got null"),
])
def test_a_null_value_is_reported_as_null(tmp_path, format_name, row, reason):
    path = tmp_path / "rows.jsonl"
    path.write_text(json.dumps(row, ensure_ascii=False) + "\n", encoding="utf-8")
    assert error(format_name, path) == f"{path}:1: {reason}"


def test_a_short_csv_row_is_missing_its_last_cells_not_null(tmp_path):
    # (a text_label row without its label cell is a row to classify now; alpaca's instruction is required)
    path = tmp_path / "qa.csv"
    path.write_text("output,instruction\n答\n", encoding="utf-8")
    assert error("alpaca", path).startswith(f"{path}:2: field 'instruction': expected a non-empty string, got missing")


# --- 4. a file in another encoding -----------------------------------------------------------------

EXCEL_ROWS = [("我的银行卡丢了怎么办", "card_lost"), ("请问退款多久能到账", "refund"), ("信用卡额度怎么提高", "limit"),
              ("怎么修改绑定的手机号码", "phone"), ("转账为什么一直没有到账", "transfer"), ("如何注销我的账户", "close")]


def test_a_gb18030_excel_export_names_its_encoding_and_how_to_convert(tmp_path):
    path = tmp_path / "intents.csv"
    path.write_bytes(("text,label\r\n" + "".join(f"{t},{l}\r\n" for t, l in EXCEL_ROWS)).encode("gb18030"))
    assert error("text_label", path) == (
        f"{path}:2: not valid UTF-8 (byte 0xce at column 1); it looks like GB18030 (charset-normalizer's guess): "
        "convert it to UTF-8, e.g. iconv -f GB18030 -t UTF-8 intents.csv > intents.utf8.csv "
        "or save it from Excel as 'CSV UTF-8'")


def test_a_utf16_file_names_its_encoding(tmp_path):
    path = tmp_path / "qa.jsonl"
    path.write_bytes(('{"instruction": "q", "output": "a"}\n' * 4).encode("utf-16"))
    assert "it looks like UTF-16 (charset-normalizer's guess)" in error("alpaca", path)


# --- 5. custom templates ---------------------------------------------------------------------------


class StubTokenizer:
    """apply_chat_template through transformers' own sandboxed renderer; no tokenizer is loaded."""

    eos_token = "</s>"
    chat_template = None

    def apply_chat_template(self, messages, tools=None, tokenize=False, add_generation_prompt=False,
                            chat_template=None, **kwargs):
        from transformers.utils.chat_template_utils import render_jinja_template

        rendered, _ = render_jinja_template(conversations=[messages], tools=tools, chat_template=chat_template,
                                            add_generation_prompt=add_generation_prompt)
        return rendered[0]


EXAMPLE = Example(messages=[{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}],
                  source="qa.jsonl:1", fields={"instruction": "q", "input": "", "output": "a"})


def render_file(tmp_path: Path, body: str):
    path = tmp_path / "my_template.yaml"
    path.write_text(body, encoding="utf-8")
    return path, lookup("prompt_template", "file").render(EXAMPLE, StubTokenizer(), {"template_file": str(path)})


def template_error(tmp_path: Path, body: str) -> tuple[Path, str]:
    with pytest.raises(PlugtuneError) as info:
        render_file(tmp_path, body)
    return tmp_path / "my_template.yaml", str(info.value)


def test_a_working_jinja_file_template_renders(tmp_path):
    _, rendered = render_file(tmp_path, "chat_template: |\n  {% for m in messages %}<{{ m.role }}>{{ m.content }}\n  {% endfor %}\n")
    assert rendered.text == "<user>q\n<assistant>a\n"


def test_a_jinja_syntax_error_is_one_line_with_file_and_line(tmp_path):
    path, message = template_error(
        tmp_path, "# my layout\nchat_template: |\n  {% for m in messages %}\n  {{ m.content }\n  {% endfor %}\n")
    assert message == f"task.template_file: {path}:4: chat_template line 2: Jinja syntax error: unexpected '}}'"


def test_what_the_sandbox_refuses_is_one_line_with_file_and_line(tmp_path):
    path, message = template_error(
        tmp_path, "chat_template: |\n  {% for m in messages %}\n  {{ m.content.__class__.__mro__ }}\n  {% endfor %}\n")
    assert message == (f"task.template_file: {path}:3: chat_template line 2: refused by the sandbox: "
                       "access to attribute '__class__' of 'str' object is unsafe. (rendering qa.jsonl:1)")


@pytest.mark.parametrize("prompt,placeholder", [
    ("{instruction.__class__}", "{instruction.__class__}"),
    ("{instruction.__class__.__mro__}", "{instruction.__class__.__mro__}"),
    ("{input[0]}", "{input[0]}"),
    ("### {instruction:{input.__class__}}", "{input.__class__}"),
])
def test_format_string_templates_refuse_attribute_and_index_walking(tmp_path, prompt, placeholder):
    path, message = template_error(tmp_path, f"prompt: {json.dumps(prompt)}\n")
    assert message == (f"task.template_file: {path}: prompt: placeholder {placeholder} walks into an attribute or "
                       "index; only plain placeholders are allowed (placeholders for prompt: {instruction} {input} "
                       "{input_block} {system} {eos}; {{ }} for literal braces)")


def test_a_placeholder_the_key_is_not_filled_with_is_refused_on_load(tmp_path):
    path, message = template_error(tmp_path, 'prompt: "{instruction}"\nanswer_suffix: "{instruction}"\n')
    assert message.startswith(f"task.template_file: {path}: answer_suffix: placeholder {{instruction}} is not filled here")


def test_plain_placeholders_still_render(tmp_path):
    _, rendered = render_file(tmp_path, 'prompt: "Q: {instruction}{input_block} {{ok}}\\nA: "\nanswer_suffix: "{eos}"\n')
    assert rendered.text == "Q: q {ok}\nA: a</s>"


# --- what tests/unit/test_fuzz_formats.py found: other exceptions than DataError ------------------


@pytest.mark.parametrize("name,content,reason", [
    ("deep.json", "[" * 3000 + "]" * 3000, "invalid JSON (nested too deeply)"),
    ("deep.jsonl", '{"text": ' + "[" * 3000 + "]" * 3000 + ', "label": "a"}\n', "invalid JSON (nested too deeply)"),
    ("big.jsonl", '{"text": ' + "7" * 5000 + ', "label": "a"}\n', "invalid JSON (a number with more than 4300 digits)"),
    ("cell.csv", 'text,label\n"' + "x" * 140000 + ",a\n", "invalid CSV (field larger than field limit (131072)); "
     'is a " quote opened here or above never closed?'),
    ("lone.jsonl", '{"text": "a\\ud83d", "label": "b"}\n', "invalid JSON (a lone UTF-16 surrogate \\ud83d in a string"),
])
def test_what_fuzzing_found_is_a_data_error(tmp_path, name, content, reason):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    assert error("text_label", path).startswith(f"{path}:{2 if name.endswith('.csv') else 1}: {reason}")


@pytest.mark.parametrize("output", ["[" * 3000, "{\"tool_name\": " + "7" * 5000 + "}"])
def test_toolcall_output_json_text_that_json_refuses_is_a_row_error(tmp_path, output):
    path = tmp_path / "calls.jsonl"
    path.write_text(json.dumps({"instruction": "q", "output": output}) + "\n", encoding="utf-8")
    assert error("toolcall", path).startswith(f"{path}:1: field 'output': invalid JSON (")
