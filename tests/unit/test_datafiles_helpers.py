"""core.datafiles' row helpers, the public API data-format plugins build on."""

from __future__ import annotations

import textwrap

import pytest
from omegaconf import OmegaConf

import core.datafiles
from core import DataError, PlugtuneError
from core.datafiles import AlpacaRows, RowProblem, column_mapping, read_examples, row_messages, row_tools, text_value


def docstring_example():
    """The minimal format in core.datafiles' docstring, executed as a plugin author would."""
    doc = core.datafiles.__doc__
    code = textwrap.dedent(doc.split("A minimal format built from them::", 1)[1])
    namespace: dict = {}
    exec(compile(code, "core.datafiles docstring", "exec"), namespace)
    return namespace["QuestionAnswerFormat"]()


def test_the_docstring_example_reads_rows_and_reports_bad_ones(tmp_path):
    path = tmp_path / "qa.jsonl"
    path.write_text('{"question": "q1", "answer": "a1"}\n{"question": "q2"}\n', encoding="utf-8")
    fmt = docstring_example()
    with pytest.raises(DataError, match=r"qa.jsonl:2: field 'answer': expected a non-empty string, got missing"):
        fmt.read(path, OmegaConf.create({}))
    result = fmt.read(path, OmegaConf.create({"on_error": "skip"}))
    assert [e.messages[1]["content"] for e in result.examples] == ["a1"]
    assert [(s.source, s.reason) for s in result.skipped] == [(f"{path}:2", "field 'answer': expected a non-empty string, got missing")]


def test_emptied_rows_are_skipped_not_errors(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_text('{"t": "<p>x</p>"}\n{"t": "<br>"}\n', encoding="utf-8")
    result = read_examples(path, OmegaConf.create({}), lambda line, row: text_value("t", row["t"], required=True, clean=True))
    assert result.examples == ["x"] and result.skipped[0].reason == "empty 't' after cleaning"


def test_column_mapping_rejects_a_field_the_format_lacks():
    assert column_mapping(OmegaConf.create({"columns": {"a": "b"}}), ("a",), "mine") == {"a": "b"}
    with pytest.raises(PlugtuneError, match="the mine format has no field 'z'; its fields are a"):
        column_mapping(OmegaConf.create({"columns": {"z": "b"}}), ("a",), "mine")


def test_row_layouts(tmp_path):
    example = AlpacaRows(tmp_path / "f.csv", {}, clean=False).example(3, {"question": "q", "answer": {"k": "值"}})
    assert example.messages == [{"role": "user", "content": "q"}, {"role": "assistant", "content": '{"k":"值"}'}]
    assert example.source == f"{tmp_path / 'f.csv'}:3"
    keys = {"messages": "messages", "conversation": "conversation"}
    assert row_messages({"conversation": [{"input": "i", "output": "o"}]}, keys, clean=False) == [
        {"role": "user", "content": "i"}, {"role": "assistant", "content": "o"}]
    with pytest.raises(RowProblem, match=r"messages\[1\]: expected assistant after user, got user"):
        row_messages({"messages": [{"role": "user", "content": "a"}, {"role": "user", "content": "b"},
                                   {"role": "assistant", "content": "c"}]}, keys, clean=False)
    assert row_tools("") is None and row_tools('[{"name": "x"}]') == [{"name": "x"}]
