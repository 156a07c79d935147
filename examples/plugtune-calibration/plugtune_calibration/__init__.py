"""plugtune-calibration: an example third-party plugtune plugin.

Registers the ``calibration`` evaluator (expected calibration error of a classifier's
confidence) and ships a config group option, ``task=intent_calibrated``.
"""

from __future__ import annotations

from pathlib import Path

from core import EvalResult, hookimpl


def expected_calibration_error(confidences: list[float], correct: list[bool], bins: int = 10) -> float:
    """Weighted mean gap between confidence and accuracy over equal-width confidence bins."""
    if not confidences:
        return 0.0
    total = 0.0
    for b in range(bins):
        low, high = b / bins, (b + 1) / bins
        members = [i for i, c in enumerate(confidences) if low < c <= high or (b == 0 and c == 0.0)]
        if members:
            confidence = sum(confidences[i] for i in members) / len(members)
            accuracy = sum(correct[i] for i in members) / len(members)
            total += len(members) * abs(confidence - accuracy)
    return total / len(confidences)


class CalibrationEvaluator:
    """Scores predictions that carry a ``probability`` (the seq_cls head adds it)."""

    def evaluate(self, predictions, ctx) -> EvalResult:
        confidences = [float(p.extra["probability"]) for p in predictions]
        correct = [p.prediction == p.reference for p in predictions]
        ece = expected_calibration_error(confidences, correct)
        mean_confidence = sum(confidences) / len(confidences) if confidences else 0.0
        return EvalResult(
            metrics={"calibration.ece": ece, "calibration.mean_confidence": mean_confidence},
            report_md=f"Expected calibration error {ece:.4f}, mean confidence {mean_confidence:.4f}.",
        )


@hookimpl
def register_evaluators(register):
    register("calibration", CalibrationEvaluator())


@hookimpl
def register_config_dirs():
    return [str(Path(__file__).parent / "conf")]
