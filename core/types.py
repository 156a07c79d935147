"""The small data types that flow between plugins."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable


@dataclass
class Example:
    """One canonical training or evaluation example, whatever file format it came from.

    ``messages`` is an OpenAI-style list of ``{"role", "content"}`` dicts (roles system, user,
    assistant, tool); ``label`` is set for classification data; ``tools`` holds JSON schemas for
    tool-calling data; ``source`` is ``file:line`` so errors and reports can point at the row.
    ``fields`` keeps format-specific parts a template may lay out on its own (alpaca's
    ``instruction`` and ``input``); templates that do not know them use ``messages``.
    """

    messages: list[dict[str, Any]]
    label: str | None = None
    tools: list[dict[str, Any]] | None = None
    source: str = ""
    fields: dict[str, str] = field(default_factory=dict)


@dataclass
class SkippedRow:
    """A row a data format skipped (``data.on_error=skip`` or emptied by ``data.clean``)."""

    source: str  # file:line
    reason: str


@dataclass
class ReadResult:
    """What a data format may return instead of a plain list: the examples and what it skipped.

    Skipped rows are counted in the log, ``results.json`` and ``report.md``; never silent.
    """

    examples: list[Example]
    skipped: list[SkippedRow] = field(default_factory=list)

    @classmethod
    def of(cls, value: "ReadResult | list[Example]") -> "ReadResult":
        """What ``DataFormat.read`` returned, as a ReadResult (a plain list skipped nothing)."""
        return value if isinstance(value, cls) else cls(examples=list(value))


@dataclass
class RenderedPrompt:
    """What a prompt template produces for one example.

    ``prompt`` is the generation input: everything before the final answer, ending where the
    model starts writing. ``answer`` is that final answer (the reference at evaluation).
    ``text`` is the whole training text and ``train_spans`` the ``(start, end)`` character
    ranges of ``text`` the loss covers (each answer plus its end-of-turn marker). Templates that
    leave ``text`` empty get ``prompt + answer`` with the answer as the only span.
    """

    prompt: str
    answer: str | None = None
    text: str = ""
    train_spans: list[tuple[int, int]] = field(default_factory=list)


@dataclass
class Prediction:
    """One model output on one evaluation example.

    ``model`` is ``"baseline"`` or ``"finetuned"``; ``extra`` holds head-specific detail such as
    class probabilities, and is written to ``predictions.jsonl`` alongside the core fields.
    """

    model: str
    input: str
    reference: Any
    prediction: Any
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class EvalResult:
    """What an evaluator returns for one model's predictions.

    ``metrics`` are flat ``name -> float`` pairs that go into ``results.json``;
    ``details`` is any JSON-serialisable breakdown (per class, confusion matrix);
    ``report_md`` is a Markdown section for ``report.md``; ``plots`` maps a PNG file name to a
    function that draws the plot into that path.
    """

    metrics: dict[str, float]
    details: dict[str, Any] = field(default_factory=dict)
    report_md: str = ""
    plots: dict[str, Callable[[Any], None]] = field(default_factory=dict)
