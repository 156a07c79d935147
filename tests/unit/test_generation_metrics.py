"""Generation metrics: normalisation, mixed CJK/Latin tokens, token F1, ROUGE-L, the evaluators.

Every expected value is computed by hand in the comment next to it.
"""

import pytest

from core import Prediction
from core.kinds import RunContext
from core.pipeline import evaluate
from core.registry import get_registry
from plugins.generation_metrics import (
    ROUGE_MAX_TOKENS,
    answer_tokens,
    lcs_length,
    normalize_answer,
    rouge_l_f1,
    token_f1,
)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("ＡＢＣ１２３", "abc123"),  # NFKC: full-width letters and digits become ASCII
        ("ＯＫ！", "ok"),  # full-width "！" becomes "!", then is stripped as trailing
        ("  Paris.  ", "paris"),  # case, outer spaces, trailing "."
        ("北京市。", "北京市"),  # trailing CJK full stop
        ("答案 。", "答案"),  # trailing whitespace goes with the punctuation
        ("Wait...?!", "wait"),  # a run of trailing punctuation
        ("北京  市 ", "北京市"),  # spaces between two CJK characters removed
        ("第 2 章", "第 2 章"),  # ... but not between CJK and a digit
        ("New \t  York", "new york"),  # inner whitespace collapsed to one space
        ("v2.1", "v2.1"),  # inner punctuation kept
        ("Hello, world!", "hello, world"),  # inner comma kept, trailing "!" dropped
        ("", ""),
    ],
)
def test_normalize_answer(text, expected):
    assert normalize_answer(text) == expected


def test_inner_punctuation_keeps_answers_apart():
    assert normalize_answer("v2.1") != normalize_answer("v21")
    assert normalize_answer("3.14") != normalize_answer("314")


def test_answer_tokens_on_mixed_text():
    # Each Han character alone; "Python", "3", "12" are letter/digit runs split at "." and " ".
    assert answer_tokens("2023年Python 3.12发布！") == ["2023", "年", "python", "3", "12", "发", "布"]
    # 《》 and "," and "~" are punctuation and dropped; "1715." loses its full stop.
    assert answer_tokens("《红楼梦》的作者是曹雪芹, born ~1715.") == [
        "红", "楼", "梦", "的", "作", "者", "是", "曹", "雪", "芹", "born", "1715",
    ]
    # NFKC first: full-width "ＧＰＴ－４" is "GPT-4", two words.
    assert answer_tokens("ＧＰＴ－４模型") == ["gpt", "4", "模", "型"]
    assert answer_tokens("Café au LAIT") == ["café", "au", "lait"]
    assert answer_tokens("。，！") == []


@pytest.mark.parametrize(
    "prediction, reference, expected",
    [
        # 北京市 vs 北京: overlap 2, P = 2/3, R = 2/2 → F1 = 2·(2/3)·1 / (5/3) = 4/5
        ("北京市", "北京", 0.8),
        # "the cat sat" vs "the cat sat down": overlap 3, P = 1, R = 3/4 → 2·(3/4) / (7/4) = 6/7
        ("the cat sat", "the cat sat down", 6 / 7),
        # multiset: "the" ×3 vs "the cat": overlap min(3, 1) = 1, P = 1/3, R = 1/2 → 2/5
        ("the the the", "the cat", 0.4),
        # mixed: [iphone, 15, 发, 布, 了] vs [iphone15, 发, 布] ("iPhone15" is one run);
        # overlap 2 (发 布), P = 2/5, R = 2/3 → 2·(4/15) / (16/15) = 1/2
        ("iPhone 15 发布了", "iPhone15发布", 0.5),
        # [2023, 年] vs [2023, 年, 3, 月]: overlap 2, P = 1, R = 1/2 → 2/3
        ("2023年", "2023年3月", 2 / 3),
        ("上海", "北京", 0.0),  # no overlap
        ("京北", "北京", 1.0),  # order does not matter for F1
        ("", "", 1.0),  # both empty
        ("。", "", 1.0),  # punctuation only has no tokens: both empty
        ("北京", "", 0.0),  # one empty
        ("", "北京", 0.0),
    ],
)
def test_token_f1(prediction, reference, expected):
    assert token_f1(prediction, reference) == pytest.approx(expected)


def test_lcs_length():
    assert lcs_length("ABCBDAB", "BDCABA") == 4  # the textbook example: "BCBA"
    assert lcs_length(["a", "b", "c"], ["b", "a", "c"]) == 2  # "a c" or "b c"
    assert lcs_length([], ["a"]) == 0


@pytest.mark.parametrize(
    "prediction, reference, expected",
    [
        # LCS(北京市, 北京) = 2, P = 2/3, R = 1 → 4/5
        ("北京市", "北京", 0.8),
        # [the cat sat on the mat] vs [the cat is on the mat]: LCS "the cat on the mat" = 5,
        # P = R = 5/6 → 5/6
        ("the cat sat on the mat", "the cat is on the mat", 5 / 6),
        # [答 案 是 42 号] vs [42 号 是 答 案]: LCS 2 ("答案" or "42号"), P = R = 2/5 → 2/5
        ("答案是42号", "42号是答案", 0.4),
        # reordered: F1 is 1 but LCS(京北, 北京) = 1, P = R = 1/2 → 1/2
        ("京北", "北京", 0.5),
        # reordered words: LCS(b a c, a b c) = 2, P = R = 2/3 → 2/3
        ("b a c", "a b c", 2 / 3),
        ("", "", 1.0),
        ("北京", "", 0.0),
        ("", "北京", 0.0),
        ("上海", "北京", 0.0),
    ],
)
def test_rouge_l_f1(prediction, reference, expected):
    assert rouge_l_f1(prediction, reference) == pytest.approx(expected)


def test_reordered_tokens_f1_is_one_but_rouge_l_is_not():
    assert token_f1("42号是答案", "答案是42号") == 1.0
    assert rouge_l_f1("42号是答案", "答案是42号") < 1.0


def test_rouge_l_caps_token_lists():
    # Past the cap only the first ROUGE_MAX_TOKENS tokens count: both lists become 512 "a"s,
    # so the differing last token is ignored (without the cap: P = R = 512/513).
    a_run = "a " * ROUGE_MAX_TOKENS
    assert rouge_l_f1(a_run + "b", a_run + "c") == 1.0
    assert token_f1(a_run + "b", a_run + "c") == pytest.approx(512 / 513)  # F1 is not capped


def _pred(reference, prediction):
    return Prediction(model="finetuned", input="question", reference=reference, prediction=prediction)


PREDICTIONS = [
    # reference, prediction                       exact  char_f1  rouge_l
    _pred("北京", "北京。"),                        # 1      1        1
    _pred("the cat sat on the mat", "The cat is on the mat."),  # 0  5/6  5/6
    _pred("北京", "北京市"),                        # 0      4/5      4/5
    _pred("a b c", "b a c"),                      # 0      1        2/3
    _pred("42", ""),                              # 0      0        0     (empty prediction)
    _pred(None, "anything"),                      # skipped: no reference
]


def test_evaluators_are_registered_by_this_plugin():
    names = get_registry().names("evaluator")
    for name in ("exact_match", "char_f1", "rouge_l"):
        assert names[name] == "generation_metrics"


def test_evaluators_through_the_registry(tmp_path):
    registry = get_registry()
    evaluators = {name: registry.get("evaluator", name) for name in ("exact_match", "char_f1", "rouge_l")}
    ctx = RunContext(cfg=None, run_dir=tmp_path)
    metrics, results = evaluate(evaluators, PREDICTIONS, ctx)  # the pipeline's own call: no clash
    # Means over the 5 examples that have a reference:
    assert metrics["exact_match"] == pytest.approx(1 / 5)
    # (1 + 5/6 + 4/5 + 1 + 0) / 5 = (109/30) / 5
    assert metrics["char_f1"] == pytest.approx(109 / 150)
    # (1 + 5/6 + 4/5 + 2/3 + 0) / 5 = (99/30) / 5
    assert metrics["rouge_l"] == pytest.approx(99 / 150)
    for result in results.values():
        # The pipeline hands evaluators only rows with a reference (it counts the others itself,
        # results.json "scoring"); called directly, an evaluator skips and counts them (below).
        assert result.details == {"count": 5, "empty_predictions": 1, "skipped_no_reference": 0}
        assert result.report_md == ""
    direct = evaluators["exact_match"].evaluate(PREDICTIONS, ctx)
    assert direct.details["skipped_no_reference"] == 1
    assert direct.report_md == "Not scored (no reference answer): 1 of 6 predictions."


def test_no_reference_left_gives_zero_and_a_reason(tmp_path):
    ctx = RunContext(cfg=None, run_dir=tmp_path)
    for name in ("exact_match", "char_f1", "rouge_l"):
        evaluator = get_registry().get("evaluator", name)
        result = evaluator.evaluate([_pred(None, "x"), _pred(None, "")], ctx)
        assert result.metrics == {name: 0.0}
        assert result.details["count"] == 0 and result.details["skipped_no_reference"] == 2
        assert "reference" in result.details["reason"]
        empty = evaluator.evaluate([], ctx)
        assert empty.metrics == {name: 0.0} and empty.details["reason"] == "there are no predictions"


def test_full_references_without_skips_have_no_report(tmp_path):
    ctx = RunContext(cfg=None, run_dir=tmp_path)
    result = get_registry().get("evaluator", "exact_match").evaluate(PREDICTIONS[:2], ctx)
    assert result.metrics == {"exact_match": 0.5}
    assert result.report_md == ""
