"""Which tokens SFT trains on: the text is cut at the answer spans and each piece tokenised alone."""

import pytest

from core import PlugtuneError
from plugins.causal_lm import split_at_spans


def test_the_text_is_cut_at_the_answer_spans():
    text = "Answer: Paris.</s>\nAnswer: Rome.</s>"
    assert split_at_spans(text, [(8, 18)]) == [("Answer: ", False), ("Paris.</s>", True), ("\nAnswer: Rome.</s>", False)]
    pieces = split_at_spans(text, [(27, 36), (8, 18)])
    assert "".join(p for p, _ in pieces) == text
    assert [p for p, inside in pieces if inside] == ["Paris.</s>", "Rome.</s>"]
    assert split_at_spans("ab", [(0, 2)]) == [("ab", True)]  # no empty pieces


def test_overlapping_spans_are_refused():
    with pytest.raises(PlugtuneError, match="overlap or leave"):
        split_at_spans("abcdef", [(0, 4), (2, 5)])
