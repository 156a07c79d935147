"""No silent drops in classification data (no model): labels normalised with a count, case variants
of a known label named with "did you mean", eval labels missing from train warned about and reported.
The model-backed cases (answers cut by task.max_length, chat templates that drop tool calls) are in
tests/integration/test_silent_drops.py."""

import logging

from core.data import load_data
from core.report import render_report
from core.testing import compose_config, write_intent_rows
from plugins.text_label import TextLabelFormat

LABELS = ["fraud_risk", "refund", "balance", "card_lost", "other"]
TRAIN = [("诈骗电话", "fraud_risk"), ("退款", "refund"), ("余额", "balance"), ("卡丢了", "card_lost")]


def load(tmp_path, train_rows, eval_rows, caplog):
    train = write_intent_rows(tmp_path / "train.jsonl", train_rows)
    eval_ = write_intent_rows(tmp_path / "eval.jsonl", eval_rows)
    cfg = compose_config([f"data.train_path={train}", f"data.eval_path={eval_}", f"task.labels=[{','.join(LABELS)}]"])
    with caplog.at_level(logging.INFO, logger="plugtune"):
        data = load_data(cfg, TextLabelFormat())
    return cfg, data, train, eval_


def warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def test_label_whitespace_is_normalised_with_a_count(tmp_path, caplog):
    cfg, data, train, _ = load(tmp_path, TRAIN + [("退款了", " refund "), ("查余额", "balance\t")], TRAIN, caplog)
    assert [ex.label for ex in data.train][-2:] == ["refund", "balance"]
    (line,) = [m for m in warnings(caplog) if "whitespace" in m]
    assert line.startswith(f"{train}: stripped leading/trailing whitespace from 2 labels")
    assert f"{train}:5 ' refund '" in line


def test_case_variant_of_a_known_label_says_did_you_mean(tmp_path, caplog):
    rows = TRAIN + [("卡没了", "Card_lost"), ("骗子", "FRAUD_RISK"), ("贷款", "loan")]
    cfg, data, train, _ = load(tmp_path, rows, TRAIN, caplog)
    assert data.dropped == {"train": {"Card_lost": 1, "FRAUD_RISK": 1, "loan": 1}}
    (line,) = [m for m in warnings(caplog) if "dropped" in m]
    assert "Card_lost (1, did you mean 'card_lost'?)" in line
    assert "FRAUD_RISK (1, did you mean 'fraud_risk'?)" in line
    assert "loan (1)" in line and "loan (1, did" not in line
    report = render_report(fake_results(cfg, data), {}, {}, [])
    assert "Card_lost (1, did you mean 'card_lost'?)" in report


def test_eval_label_missing_from_train_is_warned_and_reported(tmp_path, caplog):
    eval_rows = TRAIN + [("开门", "other"), ("开门2", "other")]
    cfg, data, _, eval_ = load(tmp_path, TRAIN, eval_rows, caplog)
    stats = data.stats()
    assert stats["eval_labels_not_in_train"] == {"other": 2}
    (line,) = [m for m in warnings(caplog) if "never occur" in m]
    assert line == f"{eval_}: eval labels that never occur in the training data: other (2 rows)"
    report = render_report(fake_results(cfg, data), {}, {}, [])
    assert "- eval labels never seen in training: other (2 rows)" in report


def test_no_warning_when_eval_labels_all_occur_in_train(tmp_path, caplog):
    _, data, _, _ = load(tmp_path, TRAIN + [("开门", "other")], TRAIN, caplog)
    assert data.stats()["eval_labels_not_in_train"] == {}
    assert not warnings(caplog)


def test_a_task_label_no_training_row_has_is_warned_with_the_dropped_label_it_meant(tmp_path, caplog):
    rows = TRAIN + [("开门", "other"), ("余额多少", "balanse")]  # the file's 'balanse' against task.labels' 'balance'
    load(tmp_path, [r for r in rows if r[1] != "balance"], TRAIN, caplog)
    (line,) = [m for m in warnings(caplog) if m.startswith("task.labels")]
    assert line.startswith("task.labels: no training row has the label 'balance' (did you mean 'balanse', "
                           "1 rows dropped?): the model cannot learn it")


def fake_results(cfg, data) -> dict:
    """The parts of a results.json that render_report reads, around real data stats."""
    from omegaconf import OmegaConf

    return {
        "task": "intent", "model": "tiny", "metrics": {"finetuned": {}},
        "train": {"seconds": 1.0, "examples": 1, "examples_per_second": 1.0, "tokens_per_second": 1.0},
        "data": {**data.stats(), "truncated_rows": {}},
        "config": OmegaConf.to_container(cfg, resolve=True),
    }


def test_report_says_the_intervals_are_about_recall_when_eval_rows_are_the_train_rows(tmp_path, caplog):
    from core.audit import audit

    cfg, data, _, _ = load(tmp_path, TRAIN, TRAIN, caplog)
    confidence = {"metric": "accuracy", "level": 0.95, "method": "percentile bootstrap", "resamples": 1000,
                  "rows": 4, "seed": 42, "gains": {},
                  "models": {"finetuned": {"value": 1.0, "low": 1.0, "high": 1.0}}}
    results = {**fake_results(cfg, data), "confidence": confidence}
    without = render_report({**results, "audit": audit(data.train[:2], data.train)}, {}, {}, [])  # 2 of 4 eval rows trained
    assert "## Confidence" in without and "these intervals are about recalling them" not in without
    report = render_report({**results, "audit": audit(data.train, data.eval)}, {}, {}, [])
    assert "The eval rows are the train rows: these intervals are about recalling them" in report
