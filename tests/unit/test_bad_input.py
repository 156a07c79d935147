"""Bad rows name their file and line (read in-process, no model); the CLI's one-line errors are in tests/integration."""

from pathlib import Path

import pytest

from core import DataError
from core.data import keep_known_labels, untrained_labels
from core.testing import compose_config
from plugins.text_label import TextLabelFormat

GOOD = '{"text": "卡丢了", "label": "card_lost"}\n'


def read(path: Path, **overrides):
    cfg = compose_config([f"data.{k}={v}" for k, v in overrides.items()])
    return TextLabelFormat().read(path, cfg.data)


@pytest.mark.parametrize(
    "content,line,reason",
    [
        (GOOD + '{"text": "退款", "label": "refund"\n', 2, "invalid JSON"),
        (GOOD + GOOD + '{"label": "refund"}\n', 3, "field 'text': expected a non-empty string, got missing"),
        ('{"text": "  ", "label": "refund"}\n', 1, "field 'text': expected a non-empty string"),
        # (a null label is a row to classify unscored now: tests/unit/test_data_layouts.py)
        ('{"text": "余额", "label": ["a"]}\n', 1, "field 'label': expected a label string"),
        ('["text", "label"]\n', 1, "expected a JSON object, got list"),
    ],
)
def test_malformed_rows_name_file_and_line(tmp_path, content, line, reason):
    path = tmp_path / "bad.jsonl"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DataError) as info:
        read(path)
    assert str(info.value).startswith(f"{path}:{line}: {reason}")


def test_empty_and_missing_files(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    with pytest.raises(DataError, match="empty.jsonl: no rows"):
        read(empty)
    blank = tmp_path / "blank.jsonl"
    blank.write_text("\n\n")
    with pytest.raises(DataError, match="blank.jsonl: no rows"):
        read(blank)
    with pytest.raises(DataError, match="nope.jsonl: file not found"):
        read(tmp_path / "nope.jsonl")


def test_csv_rows_and_custom_fields(tmp_path):
    path = tmp_path / "rows.csv"
    path.write_text("query,intent\n查余额,balance\n,refund\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"rows.csv:3: field 'query'"):
        read(path, text_field="query", label_field="intent")
    path.write_text("query,intent\n查余额,balance\n", encoding="utf-8")
    (example,) = read(path, text_field="query", label_field="intent")
    assert example.messages == [{"role": "user", "content": "查余额"}] and example.label == "balance"


def test_unknown_labels_are_dropped_and_counted(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_text(GOOD + '{"text": "贷款", "label": "loan"}\n' + '{"text": "贷款2", "label": "loan"}\n')
    kept, dropped = keep_known_labels(read(path), ["card_lost", "refund"])
    assert [ex.label for ex in kept] == ["card_lost"]
    assert dropped == {"loan": 2}


def test_a_misspelled_task_label_is_named_with_the_dropped_label_it_meant(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_text(GOOD + '{"text": "退款", "label": "refund"}\n')
    labels = ["card_lsot", "refund", "loan"]
    kept, dropped = keep_known_labels(read(path), labels)
    assert untrained_labels(labels, kept, dropped) == [
        "'card_lsot' (did you mean 'card_lost', 1 rows dropped?)", "'loan'"]
    assert untrained_labels(["card_lost", "refund"], read(path), {}) == []
