"""plugtune-legacy-example: a third-party plugin written from CONTRIBUTING.md as it was documented
before issue 24, importing only ``core``, ``core.datafiles`` and ``core.kinds``.

Registers a data format (``utterance_csv``), a prompt template (``customer_turn``), an evaluator
(``label_recall``) and ships ``task=legacy_intent``. Kept unchanged on purpose: it is the test
that plugins written against that API still run (tests/integration/test_legacy_plugin.py).
"""

from __future__ import annotations

from pathlib import Path

from core import DataError, EvalResult, Example, RenderedPrompt, hookimpl
from core.datafiles import iter_records
from core.kinds import RunContext


class UtteranceFormat:
    """Rows with an ``utterance`` (the customer's words) and an ``intent`` (the label)."""

    def read(self, path, data_cfg):
        examples = []
        for line, row in iter_records(path):
            text, intent = (row.get("utterance") or "").strip(), (row.get("intent") or "").strip()
            if not text or not intent:
                raise DataError(path, line, "expected non-empty 'utterance' and 'intent' columns")
            examples.append(Example(messages=[{"role": "user", "content": text}], label=intent, source=f"{path}:{line}"))
        return examples


class CustomerTurnTemplate:
    """``Customer: …`` then ``Intent:``; the answer is the label."""

    def render(self, example, tokenizer, task_cfg):
        text = next(m["content"] for m in example.messages if m["role"] == "user")
        return RenderedPrompt(prompt=f"Customer: {text}\nIntent:", answer=example.label)


class LabelRecall:
    """Accuracy, and the recall of each of the task's labels (the worst one as a metric)."""

    def evaluate(self, predictions, ctx: RunContext) -> EvalResult:
        recall = {}
        for label in ctx.labels:
            rows = [p for p in predictions if p.reference == label]
            if rows:
                recall[label] = sum(p.prediction == label for p in rows) / len(rows)
        correct = sum(p.prediction == p.reference for p in predictions)
        return EvalResult(
            metrics={
                "label_recall.accuracy": correct / len(predictions) if predictions else 0.0,
                "label_recall.worst": min(recall.values()) if recall else 0.0,
            },
            details={"recall": recall},
            report_md="\n".join(f"- {label}: {value:.3f}" for label, value in recall.items()),
        )


@hookimpl
def register_data_formats(register):
    register("utterance_csv", UtteranceFormat())


@hookimpl
def register_prompt_templates(register):
    register("customer_turn", CustomerTurnTemplate())


@hookimpl
def register_evaluators(register):
    register("label_recall", LabelRecall())


@hookimpl
def register_config_dirs():
    return [str(Path(__file__).parent / "conf")]
