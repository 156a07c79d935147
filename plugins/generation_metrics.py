"""Evaluators for generation tasks: ``exact_match``, ``char_f1`` and ``rouge_l``.

Each compares the model's answer (greedy decoding) with the reference answer and reports the
mean over evaluation examples, between 0 and 1, under the evaluator's own name::

    python -m core task=qa 'task.evaluators=[exact_match,char_f1,rouge_l]'

``exact_match``
    The fraction of answers equal to the reference after light normalisation
    (:func:`normalize_answer`): Unicode NFKC (full-width ``ＡＢＣ１２３`` becomes ``ABC123``),
    case folding, outer whitespace stripped and inner runs collapsed to one space, spaces
    between two CJK characters removed (``北京 市`` = ``北京市``), and trailing sentence
    punctuation (``。．.！!？?；;，,``) dropped. Nothing else changes: inner punctuation stays, so
    ``v2.1`` and ``v21`` are different answers. Strict; best for short factual answers.

``char_f1``
    Token-overlap F1 per example, averaged. Tokens (:func:`answer_tokens`) use the mixed
    segmentation of Chinese reading-comprehension evaluations (CMRC, DuReader): every CJK
    character is a token of its own, so Chinese needs no word segmenter, and every run of
    letters/digits of other scripts is one case-folded word, so English is compared word by
    word. Punctuation (CJK or not) is dropped. Overlap counts repeated tokens as often as both
    sides have them; word order does not matter. Credits partly right answers.

``rouge_l``
    ROUGE-L F1 (beta = 1) per example, averaged, over the same tokens: the longest common
    subsequence of the two token lists gives precision (LCS / answer length) and recall
    (LCS / reference length). Unlike ``char_f1`` it rewards tokens in the reference's order.
    Token lists longer than 512 are cut to their first 512 tokens (see :data:`ROUGE_MAX_TOKENS`).

For ``char_f1`` and ``rouge_l``, an example where both answer and reference have no tokens
scores 1, one where only one side is empty scores 0.

In a run the pipeline hands evaluators only the eval rows that have a reference answer; the
others are generated, written to predictions.jsonl with ``"scored": false``, shown side by side
in report.md and counted in results.json's ``scoring``. Called directly, these evaluators leave
out examples whose reference is not a string (``None``: no reference answer) themselves and count
them in ``details["skipped_no_reference"]``; if no example is left, the metric is 0.0 and
``details["reason"]`` says why (a run with nothing to score runs no evaluator at all). ``details`` also has ``count`` (examples scored) and
``empty_predictions`` (scored examples where the model produced only whitespace).

Each evaluator also has ``row_scores`` (the per-example scores it averages), which
core.confidence resamples for bootstrap intervals.

The helpers :func:`normalize_answer`, :func:`answer_tokens`, :func:`token_f1`,
:func:`lcs_length` and :func:`rouge_l_f1` are plain functions other plugins may import.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from typing import Callable, Sequence

from core import EvalResult, Prediction, hookimpl
from core.kinds import RunContext

# CJK characters: CJK symbols and punctuation, Hiragana and Katakana, Han ideographs (extension A,
# the unified block, compatibility ideographs, and the supplementary planes' extensions B-H).
# Hangul is left out on purpose: Korean writes spaces between words, so it is tokenised by words.
_CJK_RANGES = "\u3000-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U000323af"
_CJK = re.compile(f"[{_CJK_RANGES}]")
_SPACE_BETWEEN_CJK = re.compile(f"(?<=[{_CJK_RANGES}]) (?=[{_CJK_RANGES}])")

# Sentence-final punctuation a model tends to append ("北京。", "Paris."); full-width forms are
# listed too, so the set is complete even for text that did not go through NFKC first.
TRAILING_PUNCTUATION = "。．.！!？?；;，,"

# ROUGE-L's dynamic programme is O(n·m) in pure Python; cutting both token lists to this length
# bounds one example to ~260k steps (a fraction of a second) however long a rambling answer is.
ROUGE_MAX_TOKENS = 512


def normalize_answer(text: str) -> str:
    """Normalise an answer for exact match (see the module docstring for the exact rules)."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = " ".join(text.split())  # strips and collapses every kind of whitespace
    text = _SPACE_BETWEEN_CJK.sub("", text)
    # Whitespace is stripped together with the punctuation so "答案 。" ends as "答案".
    return text.rstrip(TRAILING_PUNCTUATION + " ")


def is_cjk(char: str) -> bool:
    return bool(_CJK.fullmatch(char))


def answer_tokens(text: str) -> list[str]:
    """Split text into CJK characters and case-folded letter/digit words; drop punctuation.

    ``"2023年Python 3.12发布！"`` gives ``["2023", "年", "python", "3", "12", "发", "布"]``.
    """
    # NFKC first so full-width letters and digits join the words they belong to.
    text = unicodedata.normalize("NFKC", text).casefold()
    tokens: list[str] = []
    word: list[str] = []
    for char in text:
        if char.isalnum() and not is_cjk(char):
            word.append(char)
            continue
        if word:
            tokens.append("".join(word))
            word = []
        # CJK letters (and numerals such as 〇) are tokens; CJK punctuation like 。「」 is not.
        if is_cjk(char) and unicodedata.category(char)[0] in "LN":
            tokens.append(char)
    if word:
        tokens.append("".join(word))
    return tokens


def _as_tokens(value: str | Sequence[str]) -> list[str]:
    # The scoring helpers take raw text or an already tokenised list.
    return answer_tokens(value) if isinstance(value, str) else list(value)


def token_f1(prediction: str | Sequence[str], reference: str | Sequence[str]) -> float:
    """Multiset token-overlap F1; both empty → 1.0, one empty → 0.0."""
    pred, ref = _as_tokens(prediction), _as_tokens(reference)
    if not pred or not ref:
        return float(pred == ref)
    overlap = sum((Counter(pred) & Counter(ref)).values())
    if overlap == 0:
        return 0.0
    precision, recall = overlap / len(pred), overlap / len(ref)
    return 2 * precision * recall / (precision + recall)


def lcs_length(a: Sequence, b: Sequence) -> int:
    """Length of the longest common subsequence (classic DP, keeping one row)."""
    if len(a) < len(b):
        a, b = b, a  # the row is as long as the shorter sequence
    row = [0] * (len(b) + 1)
    for x in a:
        diagonal = 0  # row[j - 1] of the previous row
        for j, y in enumerate(b, start=1):
            above = row[j]
            row[j] = diagonal + 1 if x == y else max(above, row[j - 1])
            diagonal = above
    return row[-1]


def rouge_l_f1(prediction: str | Sequence[str], reference: str | Sequence[str]) -> float:
    """ROUGE-L F1 (beta = 1) over :func:`answer_tokens`; both empty → 1.0, one empty → 0.0."""
    pred = _as_tokens(prediction)[:ROUGE_MAX_TOKENS]
    ref = _as_tokens(reference)[:ROUGE_MAX_TOKENS]
    if not pred or not ref:
        return float(pred == ref)
    lcs = lcs_length(pred, ref)
    if lcs == 0:
        return 0.0
    precision, recall = lcs / len(pred), lcs / len(ref)
    return 2 * precision * recall / (precision + recall)


def exact_match_score(prediction: str, reference: str) -> float:
    return float(normalize_answer(prediction) == normalize_answer(reference))


def _answer(p: Prediction) -> str:
    # A head may hand back None for an answer it could not produce; score it as empty.
    return p.prediction if isinstance(p.prediction, str) else ""


class MeanScoreEvaluator:
    """Average ``score(prediction, reference)`` over the examples that have a reference."""

    def __init__(self, name: str, score: Callable[[str, str], float]) -> None:
        self.name = name
        self.score = score

    def row_scores(self, predictions: list[Prediction], ctx: RunContext) -> dict[str, list[float]]:
        """The per-example scores :meth:`evaluate` averages (examples with a reference, in order);
        core.confidence resamples them for bootstrap intervals."""
        scored = [p for p in predictions if isinstance(p.reference, str)]
        return {self.name: [self.score(_answer(p), p.reference) for p in scored]}

    def evaluate(self, predictions: list[Prediction], ctx: RunContext) -> EvalResult:
        scored = [p for p in predictions if isinstance(p.reference, str)]
        skipped = len(predictions) - len(scored)
        answers = [_answer(p) for p in scored]
        details = {
            "count": len(scored),
            "empty_predictions": sum(1 for a in answers if not a.strip()),
            "skipped_no_reference": skipped,
        }
        if not scored:
            details["reason"] = (
                f"none of the {len(predictions)} predictions has a reference answer"
                if predictions
                else "there are no predictions"
            )
            return EvalResult(
                metrics={self.name: 0.0}, details=details, report_md=f"{self.name}: {details['reason']}."
            )
        scores = self.row_scores(scored, ctx)[self.name]
        mean = sum(scores) / len(scores)
        # The metric table already shows the value; only a skip is worth a line in report.md.
        report = ""
        if skipped:
            report = f"Not scored (no reference answer): {skipped} of {len(predictions)} predictions."
        return EvalResult(metrics={self.name: mean}, details=details, report_md=report)


@hookimpl
def register_evaluators(register):
    register("exact_match", MeanScoreEvaluator("exact_match", exact_match_score))
    register("char_f1", MeanScoreEvaluator("char_f1", token_f1))
    register("rouge_l", MeanScoreEvaluator("rouge_l", rouge_l_f1))
