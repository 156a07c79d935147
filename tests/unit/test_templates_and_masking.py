"""Which tokens SFT trains on: the span mask."""

from plugins.causal_lm import span_mask


def test_span_mask_marks_tokens_starting_inside_a_span():
    offsets = [(0, 3), (3, 5), (5, 9), (9, 9), (9, 12)]
    assert span_mask(offsets, [(3, 9)]) == [0, 1, 1, 0, 0]
    assert span_mask(offsets, [(0, 3), (9, 12)]) == [1, 0, 0, 0, 1]
