"""core.confidence: bootstrap intervals and paired tests, and the evaluators' fast paths."""

import json
import random

import numpy as np
import pytest
from scipy.stats import binomtest

from core import Prediction
from core.confidence import (
    MAX_EVALUATE_RESAMPLES, bootstrap_p, compute, console_lines, markdown_lines, mcnemar_p,
    paired_rate_difference_interval, resample_indices, row_counts, wilson_interval,
)
from core.kinds import RunContext
from plugins.generation_metrics import MeanScoreEvaluator, exact_match_score, rouge_l_f1, token_f1
from plugins.macro_f1 import MacroF1Evaluator
from plugins.tool_call import ToolCallEvaluator

LABELS = ["alarm", "music", "weather", "email", "news"]


def ctx(labels=LABELS):
    return RunContext(cfg=None, run_dir=".", labels=list(labels))


def classified(model: str, references: list[str], right: list[bool], seed: int = 0) -> list[Prediction]:
    """Predictions that are right exactly where ``right`` says, otherwise a different label."""
    rng = random.Random(seed)
    out = []
    for ref, ok in zip(references, right):
        answer = ref if ok else rng.choice([label for label in LABELS if label != ref])
        out.append(Prediction(model, "text", ref, answer))
    return out


def references(n: int, seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    return [rng.choice(LABELS) for _ in range(n)]


def with_accuracy(n: int, accuracy: float, seed: int) -> list[bool]:
    """Exactly round(accuracy * n) right rows, in a shuffled order."""
    right = [i < round(accuracy * n) for i in range(n)]
    random.Random(seed).shuffle(right)
    return right


def run(predictions, metric="macro_f1", evaluators=None, resamples=1000, seed=7, labels=LABELS):
    evaluators = evaluators or {"macro_f1": MacroF1Evaluator()}
    return compute(predictions, evaluators, metric, ctx(labels), level=0.95, resamples=resamples, seed=seed)


def pair(n: int, base_acc: float, tuned_acc: float):
    refs = references(n)
    return {
        "baseline": classified("baseline", refs, with_accuracy(n, base_acc, 2), seed=3),
        "finetuned": classified("finetuned", refs, with_accuracy(n, tuned_acc, 4), seed=5),
    }


@pytest.mark.parametrize("metric", ["macro_f1", "accuracy"])
def test_intervals_contain_the_point_estimate_and_match_evaluate(metric):
    predictions = pair(200, 0.3, 0.85)
    conf = run(predictions, metric)
    for name, preds in predictions.items():
        model = conf["models"][name]
        assert model["low"] < model["value"] < model["high"]
        assert model["value"] == MacroF1Evaluator().evaluate(preds, ctx()).metrics[metric]
    gain = conf["gains"]["finetuned_vs_baseline"]
    assert gain["value"] == pytest.approx(conf["models"]["finetuned"]["value"] - conf["models"]["baseline"]["value"])
    assert gain["low"] < gain["value"] < gain["high"]
    assert conf["rows"] == 200 and conf["resamples"] == 1000 and conf["level"] == 0.95 and conf["seed"] == 7
    json.dumps(conf)  # goes into results.json as is


def test_intervals_shrink_as_the_eval_set_grows():
    small, large = run(pair(50, 0.4, 0.8), "accuracy"), run(pair(800, 0.4, 0.8), "accuracy")
    for name in ("baseline", "finetuned"):
        assert small["models"][name]["value"] == large["models"][name]["value"]  # same accuracy
        width_small = small["models"][name]["high"] - small["models"][name]["low"]
        width_large = large["models"][name]["high"] - large["models"][name]["low"]
        # Standard error goes as 1/sqrt(n): 16 times the rows, about a quarter of the width.
        assert width_large < 0.4 * width_small
    gain_small = small["gains"]["finetuned_vs_baseline"]
    gain_large = large["gains"]["finetuned_vs_baseline"]
    assert gain_large["high"] - gain_large["low"] < 0.4 * (gain_small["high"] - gain_small["low"])


def test_the_seed_makes_intervals_reproducible():
    predictions = pair(120, 0.5, 0.7)
    first, again, other = run(predictions, seed=11), run(predictions, seed=11), run(predictions, seed=12)
    strip = lambda c: {k: v for k, v in c.items() if k != "seconds"}  # noqa: E731
    assert strip(first) == strip(again)
    assert first["models"]["finetuned"]["low"] != other["models"]["finetuned"]["low"] or \
        first["models"]["finetuned"]["high"] != other["models"]["finetuned"]["high"]


def test_mcnemar_is_the_exact_binomial_test_on_discordant_rows():
    # 40 rows: both right on 20, both wrong on 4, only the fine-tuned model right on 12, only the baseline on 4.
    both, neither, tuned_only, base_only = 20, 4, 12, 4
    base_right = [True] * both + [False] * neither + [False] * tuned_only + [True] * base_only
    tuned_right = [True] * both + [False] * neither + [True] * tuned_only + [False] * base_only
    refs = references(len(base_right))
    predictions = {"baseline": classified("baseline", refs, base_right, 1),
                   "finetuned": classified("finetuned", refs, tuned_right, 2)}
    gain = run(predictions, "accuracy")["gains"]["finetuned_vs_baseline"]
    expected = binomtest(base_only, tuned_only + base_only, 0.5).pvalue
    assert gain["test"] == "mcnemar"
    assert gain["discordant"] == {"finetuned_only": 12, "baseline_only": 4}
    assert gain["p_value"] == pytest.approx(expected, rel=1e-12)
    assert 0.05 < gain["p_value"] < 0.1  # 12 vs 4 is suggestive, not conclusive
    for b, c in [(0, 0), (3, 3), (0, 9), (30, 70), (400, 455)]:
        reference = binomtest(min(b, c), b + c, 0.5).pvalue if b + c else 1.0
        assert mcnemar_p(b, c) == pytest.approx(reference, rel=1e-12)


def test_a_clearly_better_model_is_significant_and_an_identical_one_is_not():
    clear = run(pair(200, 0.3, 0.85))  # macro-F1: paired bootstrap
    gain = clear["gains"]["finetuned_vs_baseline"]
    assert gain["test"] == "paired_bootstrap" and gain["p_value"] < 0.01 and gain["low"] > 0.3
    clear_acc = run(pair(200, 0.3, 0.85), "accuracy")["gains"]["finetuned_vs_baseline"]
    assert clear_acc["test"] == "mcnemar" and clear_acc["p_value"] < 1e-6

    refs = references(150)
    same = classified("baseline", refs, with_accuracy(150, 0.6, 2), seed=3)
    identical = {"baseline": same, "finetuned": [Prediction("finetuned", p.input, p.reference, p.prediction) for p in same]}
    for metric in ("macro_f1", "accuracy"):
        gain = run(identical, metric)["gains"]["finetuned_vs_baseline"]
        assert gain["p_value"] == 1.0
        assert gain["value"] == 0.0 and gain["low"] <= 0.0 <= gain["high"]


def test_a_small_difference_has_an_interval_through_zero():
    # Two independent models of nearly the same accuracy on 100 rows: the gain is noise.
    conf = run(pair(100, 0.70, 0.72), "accuracy")
    gain = conf["gains"]["finetuned_vs_baseline"]
    assert gain["low"] < 0 < gain["high"] and gain["p_value"] > 0.05


def test_bootstrap_p_value_counts_the_far_tail():
    gains = np.array([-0.1, 0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7])
    assert bootstrap_p(gains, 0.3) == pytest.approx(2 * (1 + 2) / 10)  # -0.1 and 0.0 are on the far side
    assert bootstrap_p(np.zeros(99), 0.0) == 1.0
    assert bootstrap_p(np.full(999, 0.2), 0.2) == pytest.approx(2 / 1000)


def test_the_classic_baseline_gets_an_interval_and_a_gain():
    refs = references(200)
    predictions = {
        "baseline": classified("baseline", refs, with_accuracy(200, 0.2, 2), 3),
        "finetuned": classified("finetuned", refs, with_accuracy(200, 0.9, 4), 5),
        "classic": classified("classic", refs, with_accuracy(200, 0.88, 6), 7),
    }
    conf = run(predictions)
    assert list(conf["models"]) == ["baseline", "classic", "finetuned"]
    assert set(conf["gains"]) == {"finetuned_vs_baseline", "finetuned_vs_classic"}
    # Same rows, same draws: the gain over the classic model is far narrower than either interval.
    vs_classic = conf["gains"]["finetuned_vs_classic"]
    assert vs_classic["low"] < 0.02 < vs_classic["high"]


def test_nothing_to_say_on_fewer_than_two_rows_or_an_unknown_metric():
    assert run(pair(1, 0, 1)) is None
    assert run(pair(50, 0.5, 0.6), "no_such_metric") is None
    with pytest.raises(ValueError, match="different numbers of rows"):
        run({"baseline": pair(5, 0.5, 0.5)["baseline"], "finetuned": pair(6, 0.5, 0.5)["finetuned"]})


# ---------------------------------------------------------------------------------------------
# Fast paths equal evaluate()


def test_macro_f1_resampled_equals_evaluate_on_each_resample():
    # Labels outside the list, a class never predicted, a class never present: scikit-learn's rules.
    refs = references(60) + ["alarm", "weather"]
    answers = [random.Random(i).choice(LABELS + ["other"]) for i in range(60)] + ["alarm", "other"]
    preds = [Prediction("finetuned", "t", r, a) for r, a in zip(refs, answers)]
    evaluator = MacroF1Evaluator()
    full = evaluator.resampled(preds, ctx(LABELS + ["unused"]), np.arange(len(preds))[None, :])
    expected = evaluator.evaluate(preds, ctx(LABELS + ["unused"])).metrics
    assert full["macro_f1"][0] == expected["macro_f1"] and full["accuracy"][0] == expected["accuracy"]
    indices = np.random.default_rng(0).integers(0, len(preds), size=(5, len(preds)))
    fast = evaluator.resampled(preds, ctx(LABELS + ["unused"]), indices)
    for b, idx in enumerate(indices):
        slow = evaluator.evaluate([preds[i] for i in idx], ctx(LABELS + ["unused"])).metrics
        assert fast["macro_f1"][b] == pytest.approx(slow["macro_f1"], abs=1e-15)
        assert fast["accuracy"][b] == pytest.approx(slow["accuracy"], abs=1e-15)


GENERATION = [
    ("北京市", "北京 市。"), ("Paris.", "paris"), ("the cat sat", "a cat sat on the mat"),
    ("", ""), ("", "something"), ("2023年Python 3.12发布！", "python 3.12 发布"), ("v2.1", "v21"),
]


@pytest.mark.parametrize("name,score", [("exact_match", exact_match_score), ("char_f1", token_f1), ("rouge_l", rouge_l_f1)])
def test_generation_row_scores_average_to_evaluate(name, score):
    preds = [Prediction("finetuned", "q", ref, answer) for answer, ref in GENERATION]
    preds.append(Prediction("finetuned", "q", "kept out", None))  # no answer: scored as empty
    evaluator = MeanScoreEvaluator(name, score)
    rows = evaluator.row_scores(preds, ctx([]))[name]
    assert len(rows) == len(preds)
    assert sum(rows) / len(rows) == evaluator.evaluate(preds, ctx([])).metrics[name]
    conf = run({"baseline": preds, "finetuned": preds}, name, {name: evaluator})
    assert conf["models"]["finetuned"]["value"] == evaluator.evaluate(preds, ctx([])).metrics[name]


def test_tool_call_row_scores_average_to_evaluate():
    call = lambda name, **args: json.dumps({"name": name, "arguments": args})  # noqa: E731
    rows = [
        (call("weather", city="Paris"), call("weather", city="paris")),
        (call("weather", city="Rome"), call("weather", city="Paris")),
        ("no call needed", "Sure, here you go."),
        (call("alarm", at="7"), "plain answer"),
        ("not json", call("alarm", at=7)),
    ]
    preds = [Prediction("finetuned", "q", ref, answer) for answer, ref in rows]
    evaluator = ToolCallEvaluator()
    expected = evaluator.evaluate(preds, ctx([])).metrics
    scores = evaluator.row_scores(preds, ctx([]))
    for metric, values in scores.items():
        assert sum(values) / len(values) == expected[metric]
    assert scores["tool_call.exact_match"] == [1.0, 0.0, 1.0, 0.0, 0.0]
    conf = run({"baseline": preds, "finetuned": preds}, "tool_call.exact_match", {"tool_call": evaluator})
    assert conf["path"] == "row scores" and conf["gains"]["finetuned_vs_baseline"]["test"] == "mcnemar"


class EvaluateOnly:
    """An evaluator with neither fast path: a mean over rows, through evaluate() only."""

    def evaluate(self, predictions, ctx):
        from core import EvalResult

        hits = [p.prediction == p.reference for p in predictions]
        return EvalResult(metrics={"hit_rate": sum(hits) / len(hits)}, details={})


def test_an_evaluator_without_a_fast_path_is_called_per_resample_with_a_cap():
    predictions = pair(80, 0.4, 0.8)
    slow = run(predictions, "hit_rate", {"plain": EvaluateOnly()}, resamples=1000)
    fast = run(predictions, "accuracy", resamples=MAX_EVALUATE_RESAMPLES)
    assert slow["path"] == "evaluate per resample" and slow["resamples"] == MAX_EVALUATE_RESAMPLES
    for name in ("baseline", "finetuned"):
        assert slow["models"][name]["value"] == fast["models"][name]["value"]
    # Same seed, same draws: the generic path's gain interval is the percentile interval of the
    # per-row hits resampled on those draws (accuracy's own gain interval is Newcombe's, not drawn).
    hits = np.array([[p.prediction == p.reference for p in predictions[name]] for name in ("finetuned", "baseline")],
                    dtype=np.float64).T
    gains = np.concatenate([row_counts(idx, 80) @ (hits[:, 0] - hits[:, 1]) / 80
                            for idx in resample_indices(80, MAX_EVALUATE_RESAMPLES, 7)])
    low, high = np.quantile(gains, [0.025, 0.975])
    gain = slow["gains"]["finetuned_vs_baseline"]
    assert (gain["low"], gain["high"]) == (pytest.approx(low, abs=1e-12), pytest.approx(high, abs=1e-12))
    assert gain["value"] == pytest.approx(fast["gains"]["finetuned_vs_baseline"]["value"], abs=1e-12)
    assert gain["test"] == "paired_bootstrap" and slow["gain_interval"] == "percentile bootstrap"


def test_console_and_markdown_lines_name_the_numbers():
    conf = run(pair(200, 0.3, 0.85), "accuracy")
    base, tuned = conf["models"]["baseline"], conf["models"]["finetuned"]
    console = "\n".join(console_lines(conf))
    assert f"baseline {base['value']:.3f} [{base['low']:.3f}, {base['high']:.3f}]" in console
    assert f"finetuned {tuned['value']:.3f}" in console and "McNemar p < 0.001" in console
    markdown = markdown_lines(conf)
    assert markdown[0] == "## Confidence"
    assert any("includes 0 is not shown to be real" in line for line in markdown)
    assert f"| finetuned | {tuned['value']:.4f} | [{tuned['low']:.4f}, {tuned['high']:.4f}] |" in markdown
    assert console_lines(None) == [] and markdown_lines(None) == []


def test_the_gain_interval_is_paired_on_the_same_rows():
    # The fine-tuned model gets the baseline's 100 rows right and 20 more: the per-row difference
    # is 0 or 1 on 200 rows, so the paired interval is far narrower than either model's.
    refs = references(200)
    base_right = [i < 100 for i in range(200)]
    tuned_right = [i < 120 for i in range(200)]
    conf = run({"baseline": classified("baseline", refs, base_right, 1),
                "finetuned": classified("finetuned", refs, tuned_right, 2)}, "accuracy")
    gain, tuned = conf["gains"]["finetuned_vs_baseline"], conf["models"]["finetuned"]
    assert gain["value"] == pytest.approx(0.1)
    assert gain["high"] - gain["low"] < 0.7 * (tuned["high"] - tuned["low"])
    assert gain["low"] > 0  # never below: no row went the other way
    assert gain["discordant"] == {"finetuned_only": 20, "baseline_only": 0}


# Fails before the change: six rows all right read [1.000, 1.000] (every resample the same).
def test_a_right_or_wrong_rate_gets_the_wilson_interval_even_when_every_row_agrees():
    refs = references(6)
    conf = run({"baseline": classified("baseline", refs, [False] * 6, 1),
                "finetuned": classified("finetuned", refs, [True] * 6, 2)}, "accuracy")
    tuned, base = conf["models"]["finetuned"], conf["models"]["baseline"]
    assert (tuned["value"], base["value"]) == (1.0, 0.0)
    # Wilson at 95 %, z = 1.96: 6 of 6 -> [n / (n + z^2), 1], 0 of 6 -> [0, z^2 / (n + z^2)]
    assert tuned["low"] == pytest.approx(6 / (6 + 1.959964**2), abs=1e-6) and tuned["high"] == 1.0
    assert base["low"] == 0.0 and base["high"] == pytest.approx(1.959964**2 / (6 + 1.959964**2), abs=1e-6)
    assert conf["model_interval"] == "Wilson score" and conf["method"] == "percentile bootstrap"
    assert any("Wilson score interval of its rate" in line for line in markdown_lines(conf))
    assert console_lines(conf)[0].startswith(
        "accuracy 95% interval (6 rows, each model's: Wilson score; the gains': Newcombe paired score): baseline 0.000 [0.000, 0.390], finetuned 1.000 [0.610, 1.000]")
    assert [wilson_interval(0, n, 0.95)[0] for n in range(1, 200)] == [0.0] * 199  # exactly, not 3e-17
    assert [wilson_interval(n, n, 0.95)[1] for n in range(1, 200)] == [1.0] * 199
    middle = run(pair(24, 0.25, 0.75), "accuracy")["models"]["finetuned"]  # 18 of 24
    assert (round(middle["low"], 3), round(middle["high"], 3)) == (0.551, 0.880)
    assert run(pair(24, 0.25, 0.75))["model_interval"] == "percentile bootstrap"  # macro-F1: drawn


# Fails before the change: the gain on 10 rows, 0 right before and 7 after, read [+0.400, +1.000]
# (a percentile bootstrap of the tuned rate, which can resample to 10 of 10).
def test_a_gain_in_a_right_or_wrong_rate_gets_newcombes_paired_interval():
    refs = references(10)
    conf = run({"baseline": classified("baseline", refs, [False] * 10, 1),
                "finetuned": classified("finetuned", refs, [True] * 7 + [False] * 3, 2)}, "accuracy")
    gain = conf["gains"]["finetuned_vs_baseline"]
    assert gain["value"] == pytest.approx(0.7)
    # No row right before, so the rows' correlation is 0: the distances to the two Wilson bounds
    # (0/10: up to 0.278; 7/10: [0.397, 0.892]) add in quadrature.
    tuned_low, tuned_high = wilson_interval(7, 10, 0.95)
    base_high = wilson_interval(0, 10, 0.95)[1]
    assert gain["low"] == pytest.approx(0.7 - ((0.7 - tuned_low) ** 2 + base_high ** 2) ** 0.5)
    assert gain["high"] == pytest.approx(tuned_high)
    assert (round(gain["low"], 3), round(gain["high"], 3)) == (0.289, 0.892)
    assert conf["gain_interval"] == "Newcombe paired score"
    assert "the gains' are Newcombe paired score intervals" in "\n".join(markdown_lines(conf))


def test_the_paired_interval_gives_the_published_figures():
    # Fagerland, Lydersen and Laake's worked example of the paired 2x2 table (Cavo et al., 2012):
    # 59 rows right under both, 6 under the first only, 16 under the second only, 80 under neither:
    # difference -0.0621, 95 % interval -0.1186 to -0.0046.
    low, high = paired_rate_difference_interval(59, 6, 16, 80, 0.95)
    assert (round(low, 4), round(high, 4)) == (-0.1186, -0.0046)
    # Rows that agree more give a narrower interval for the same difference.
    independent = paired_rate_difference_interval(10, 20, 10, 60, 0.95)
    correlated = paired_rate_difference_interval(30, 10, 0, 60, 0.95)
    assert correlated[1] - correlated[0] < independent[1] - independent[0]
    assert paired_rate_difference_interval(0, 0, 0, 12, 0.95)[0] < 0 < paired_rate_difference_interval(0, 0, 0, 12, 0.95)[1]
