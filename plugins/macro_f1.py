"""``macro_f1`` evaluator: accuracy, macro-F1, per-class precision/recall/F1, confusion matrix.

Macro-F1 averages over every label in the task's label list (as the intent-classification
tutorial does with scikit-learn and all label ids), so a class the model never predicts counts as
F1 0 instead of being skipped.

Rows without a label (``reference`` None: an eval row kept for prediction only) are not scored:
the pipeline hands evaluators only rows with a reference and writes the others' predicted label
to predictions.jsonl with ``"scored": false``. Called directly with such rows, this evaluator
leaves them out too and counts them in ``details["skipped_no_reference"]``; with no labelled row
left, accuracy and macro-F1 are 0.0, ``details["reason"]`` says why and no plot is drawn (as the
generation evaluators do).

For bootstrap intervals (core.confidence) the evaluator also gives ``row_scores`` (accuracy is
the mean of per-row 0/1 hits) and ``resampled``, which computes accuracy and macro-F1 on many
resamples of the rows at once from per-resample confusion counts, with the same formula as
scikit-learn's (per class ``F1 = 2 TP / (predicted + actual)``, 0 for a class with neither).
"""

from __future__ import annotations

from core import EvalResult, Prediction, hookimpl
from core.kinds import RunContext


def classification_scores(references: list[str], predictions: list[str], labels: list[str]) -> dict:
    """Accuracy, macro-F1, per-class scores and the confusion matrix (rows = reference)."""
    from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support

    precision, recall, f1, support = precision_recall_fscore_support(
        references, predictions, labels=labels, average=None, zero_division=0
    )
    return {
        "accuracy": float(accuracy_score(references, predictions)),
        "macro_f1": float(f1.mean()),
        "per_class": {
            label: {
                "precision": float(p),
                "recall": float(r),
                "f1": float(f),
                "support": int(s),
            }
            for label, p, r, f, s in zip(labels, precision, recall, f1, support)
        },
        "confusion_matrix": confusion_matrix(references, predictions, labels=labels).tolist(),
    }


def draw_confusion_matrix(matrix: list[list[int]], labels: list[str], title: str, path) -> None:
    """Save a labelled confusion-matrix heat map as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(1.2 * len(labels) + 2, 1.1 * len(labels) + 1.5))
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("reference")
    ax.set_title(title)
    peak = max(max(row) for row in matrix) or 1
    for i, row in enumerate(matrix):
        for j, count in enumerate(row):
            ax.text(j, i, count, ha="center", va="center", color="white" if count > peak / 2 else "black")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def per_class_table(per_class: dict) -> str:
    lines = ["| label | precision | recall | F1 | support |", "|---|---|---|---|---|"]
    for label, s in per_class.items():
        lines.append(
            f"| {label} | {s['precision']:.3f} | {s['recall']:.3f} | {s['f1']:.3f} | {s['support']} |"
        )
    return "\n".join(lines)


class MacroF1Evaluator:
    def evaluate(self, predictions: list[Prediction], ctx: RunContext) -> EvalResult:
        labels = list(ctx.labels)
        scored = [p for p in predictions if p.reference is not None]
        skipped = len(predictions) - len(scored)
        if not scored:
            reason = (f"none of the {len(predictions)} predictions has a reference label" if predictions
                      else "there are no predictions")
            details = {"labels": labels, "count": 0, "skipped_no_reference": skipped, "reason": reason}
            return EvalResult(metrics={"accuracy": 0.0, "macro_f1": 0.0}, details=details, report_md=f"macro_f1: {reason}.")
        scores = classification_scores([p.reference for p in scored], [p.prediction for p in scored], labels)
        model = scored[0].model
        matrix = scores["confusion_matrix"]
        return EvalResult(
            metrics={"accuracy": scores["accuracy"], "macro_f1": scores["macro_f1"]},
            details={"labels": labels, "per_class": scores["per_class"], "confusion_matrix": matrix,
                     "count": len(scored), "skipped_no_reference": skipped},
            report_md=per_class_table(scores["per_class"]),
            plots={
                f"confusion_matrix_{model}.png": lambda path: draw_confusion_matrix(
                    matrix, labels, f"confusion matrix ({model})", path
                )
            },
        )


    def row_scores(self, predictions: list[Prediction], ctx: RunContext) -> dict[str, list[float]]:
        """Per-row accuracy hits (1.0 or 0.0) of the rows :meth:`evaluate` scores, in order."""
        scored = [p for p in predictions if p.reference is not None]
        return {"accuracy": [float(p.prediction == p.reference) for p in scored]}

    def resampled(self, predictions: list[Prediction], ctx: RunContext, indices) -> dict:
        """Accuracy and macro-F1 on each resample: ``indices`` is a ``(resamples, rows)`` array of
        indices into the rows :meth:`evaluate` scores; returns one value per resample."""
        import numpy as np

        scored = [p for p in predictions if p.reference is not None]
        labels = list(ctx.labels)
        references = [p.reference for p in scored]
        answers = [p.prediction for p in scored]
        # One-hot (rows, labels): a label outside the list counts for no class, as in scikit-learn.
        actual = np.array([[r == label for label in labels] for r in references], dtype=np.float64).reshape(len(scored), len(labels))
        predicted = np.array([[a == label for label in labels] for a in answers], dtype=np.float64).reshape(len(scored), len(labels))
        hits = np.array([a == r for a, r in zip(answers, references)], dtype=np.float64)
        indices = np.asarray(indices)
        size, rows = indices.shape
        flat = (indices + np.arange(size)[:, None] * len(scored)).ravel()
        counts = np.bincount(flat, minlength=size * len(scored)).reshape(size, len(scored)).astype(np.float64)
        # One product gives every count (whole numbers, exact in float64): TP, predicted + actual, hits.
        k = len(labels)
        totals = counts @ np.hstack([actual * predicted, actual + predicted, hits[:, None]])
        true_positive, denominator = totals[:, :k], totals[:, k:2 * k]
        f1 = np.divide(2.0 * true_positive, denominator, out=np.zeros_like(true_positive), where=denominator > 0)
        return {"accuracy": totals[:, 2 * k] / rows, "macro_f1": f1.mean(axis=1)}


@hookimpl
def register_evaluators(register):
    register("macro_f1", MacroF1Evaluator())
