"""core.classic_baseline: the TF-IDF + logistic-regression column beside baseline and fine-tuned."""

import pytest
from omegaconf import OmegaConf

from core import Example, PlugtuneError
from core import classic_baseline
from core.classic_baseline import example_text, fit_predict, wanted


def row(text, label=None):
    return Example(messages=[{"role": "user", "content": text}], label=label, source="t:1")


# Each class has its own character cues (English and Chinese); the held-out rows mix them into new sentences.
TRAIN = [
    row("I want a refund please", "refund"), row("refund my money now", "refund"),
    row("where is my refund", "refund"), row("退款什么时候到账", "refund"), row("我要退款", "refund"),
    row("请尽快退款给我", "refund"),
    row("I lost my card yesterday", "card_lost"), row("my card is lost", "card_lost"),
    row("lost card, block it", "card_lost"), row("我的卡丢了", "card_lost"), row("卡丢了怎么办", "card_lost"),
    row("银行卡丢了要挂失", "card_lost"),
    row("what is my balance", "balance"), row("check balance please", "balance"),
    row("balance on my account", "balance"), row("查一下余额", "balance"), row("我的余额是多少", "balance"),
    row("余额不够了吗", "balance"),
]
LABELS = ["refund", "card_lost", "balance"]
HELD_OUT = [
    row("hello, refund it", "refund"), row("退款还没到", "refund"),
    row("help, lost my card", "card_lost"), row("卡丢了", "card_lost"),
    row("show balance", "balance"), row("余额多少", "balance"),
]


def test_learns_character_cues_and_predicts_held_out_variants():
    result = fit_predict(TRAIN, HELD_OUT, LABELS, seed=0)
    assert [p.prediction for p in result.predictions] == [ex.label for ex in HELD_OUT]
    for p in result.predictions:
        assert p.model == "classic"
        assert 1 / 3 < p.extra["probability"] <= 1.0  # the winning class of three
    assert result.seconds > 0
    assert "logistic regression" in result.description and "training rows" in result.description
    assert result.settings["C"] in classic_baseline.C_GRID
    assert set(result.settings["cv_macro_f1"]) == {f"{c:g}" for c in classic_baseline.C_GRID}


def test_same_seed_same_predictions_and_choice():
    first = fit_predict(TRAIN, HELD_OUT, LABELS, seed=3)
    second = fit_predict(TRAIN, HELD_OUT, LABELS, seed=3)
    assert [(p.prediction, p.extra) for p in first.predictions] == [(p.prediction, p.extra) for p in second.predictions]
    assert first.settings == second.settings


def test_predictions_follow_eval_order_and_carry_the_text():
    evaluation = list(reversed(HELD_OUT)) + [HELD_OUT[0]]
    result = fit_predict(TRAIN, evaluation, LABELS, seed=0)
    assert [p.input for p in result.predictions] == [ex.messages[0]["content"] for ex in evaluation]
    assert [p.reference for p in result.predictions] == [ex.label for ex in evaluation]
    assert [p.prediction for p in result.predictions] == [ex.label for ex in evaluation]


def test_eval_labels_are_never_read():
    # The same eval texts with wrong or no references: the same predictions, the same C.
    relabelled = [row(ex.messages[0]["content"], "balance") for ex in HELD_OUT]
    unlabelled = [row(ex.messages[0]["content"]) for ex in HELD_OUT]
    runs = [fit_predict(TRAIN, rows, LABELS, seed=0) for rows in (HELD_OUT, relabelled, unlabelled)]
    assert len({tuple(p.prediction for p in r.predictions) for r in runs}) == 1
    assert len({r.settings["C"] for r in runs}) == 1


def test_unlabelled_eval_rows_are_predicted_with_reference_none():
    result = fit_predict(TRAIN, [row("refund please"), row("余额")], LABELS, seed=0)
    assert [p.reference for p in result.predictions] == [None, None]
    assert [p.prediction for p in result.predictions] == ["refund", "balance"]


def test_empty_eval_gives_no_predictions():
    result = fit_predict(TRAIN, [], LABELS, seed=0)
    assert result.predictions == []
    assert result.settings["C"] in classic_baseline.C_GRID


def test_single_class_training_predicts_it_and_says_so():
    train = [row(f"退款 {i}", "refund") for i in range(4)]
    result = fit_predict(train, HELD_OUT[:3], LABELS, seed=0)
    assert [p.prediction for p in result.predictions] == ["refund"] * 3
    assert {p.extra["probability"] for p in result.predictions} == {1.0}
    assert "only one class (refund)" in result.description


def test_a_label_seen_once_in_training_does_not_break_cross_validation():
    train = TRAIN + [row("open a new account", "account_opening")]
    result = fit_predict(train, HELD_OUT, LABELS + ["account_opening"], seed=0)
    assert result.settings["folds"] == 5  # the largest class has 6 rows
    assert [p.prediction for p in result.predictions] == [ex.label for ex in HELD_OUT]


def test_too_few_rows_to_cross_validate_uses_the_default_c():
    train = [row("refund money", "refund"), row("lost card", "card_lost")]
    result = fit_predict(train, [row("refund money back")], LABELS, seed=0)
    assert result.settings["folds"] == 0 and result.settings["C"] == classic_baseline.DEFAULT_C
    assert "too few training rows" in result.description
    assert result.predictions[0].prediction == "refund"


def test_training_rows_outside_the_labels_are_left_out():
    train = TRAIN + [row(f"refund loan {i}", "loan") for i in range(6)]
    result = fit_predict(train, HELD_OUT, LABELS, seed=0)
    assert "loan" not in {p.prediction for p in result.predictions}
    assert "18 training rows" in result.description


def test_no_labelled_training_rows_is_one_line_error():
    with pytest.raises(PlugtuneError, match="no labelled training rows"):
        fit_predict([row("hello")], HELD_OUT, LABELS, seed=0)


def test_text_is_the_user_turns():
    example = Example(messages=[{"role": "system", "content": "You are a bank bot."},
                                {"role": "user", "content": "卡丢了"},
                                {"role": "assistant", "content": "card_lost"}], label="card_lost")
    assert example_text(example) == "卡丢了"


def cfg(setting, head="seq_cls"):
    return OmegaConf.create({"task": {"head": head, "classic_baseline": setting}})


GENERATION_ROWS = [Example(messages=[{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}])]


@pytest.mark.parametrize("setting, head, train, expected", [
    (None, "seq_cls", TRAIN, True),  # classification: on by default
    (None, "causal_lm", TRAIN, True),  # a generated label from labelled rows is classification too
    (None, "causal_lm", GENERATION_ROWS, False),  # generation: the base model stays the baseline
    (False, "seq_cls", TRAIN, False),
    (True, "seq_cls", TRAIN, True),
])
def test_wanted(setting, head, train, expected):
    assert wanted(cfg(setting, head), train) is expected


def test_wanted_true_without_labels_is_one_line_error():
    with pytest.raises(PlugtuneError, match="task.classic_baseline=true") as raised:
        wanted(cfg(True, "causal_lm"), GENERATION_ROWS)
    assert "\n" not in str(raised.value)
