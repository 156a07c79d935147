import pytest

from core import Prediction
from core.registry import get_registry
from core.testing import compose_config
from plugtune_calibration import CalibrationEvaluator, expected_calibration_error


def test_perfectly_calibrated_is_zero():
    assert expected_calibration_error([1.0, 1.0], [True, True]) == 0.0
    assert expected_calibration_error([0.5, 0.5], [True, False]) == 0.0


def test_overconfident_wrong_answers():
    # Two predictions at 0.9 confidence, one right: |0.9 - 0.5| = 0.4.
    assert expected_calibration_error([0.9, 0.9], [True, False]) == pytest.approx(0.4)
    # Bins are weighted by size: 0.25 * |0.95 - 0| + 0.75 * |0.35 - 1/3|.
    ece = expected_calibration_error([0.95, 0.35, 0.35, 0.35], [False, True, False, False])
    assert ece == pytest.approx(0.25 * 0.95 + 0.75 * (0.35 - 1 / 3))


def test_evaluator_reads_probabilities():
    preds = [Prediction("finetuned", "x", "a", "a", {"probability": 0.8}),
             Prediction("finetuned", "y", "b", "a", {"probability": 0.6})]
    result = CalibrationEvaluator().evaluate(preds, ctx=None)
    assert result.metrics["calibration.mean_confidence"] == pytest.approx(0.7)
    assert result.metrics["calibration.ece"] == pytest.approx(0.5 * 0.2 + 0.5 * 0.6)


def test_registered_through_entry_point():
    assert get_registry().names("evaluator")["calibration"] == "calibration"


def test_shipped_task_composes():
    cfg = compose_config(["task=intent_calibrated"])
    assert cfg.task.name == "intent_calibrated"
    assert list(cfg.task.evaluators) == ["macro_f1", "calibration"]
    assert list(cfg.data.shipped.labels) == ["fraud_risk", "refund", "balance", "card_lost", "other"]
