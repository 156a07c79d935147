"""The interfaces plugin objects implement, one per registrable kind.

These are ``typing.Protocol`` classes: a plugin object needs the methods, not the base class.
They are the one source of each contract: the registration hook's docstring in
``core/hookspecs.py`` and CONTRIBUTING's hook reference list exactly these methods, and every
registered object must have them with compatible signatures (``tests/unit/test_contracts.py``).
``isinstance(obj, TaskHead)`` checks that the methods are there (they are ``runtime_checkable``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from core.types import EvalResult, Example, Prediction, RenderedPrompt


@dataclass
class RunContext:
    """What every plugin call of one run can see.

    ``cfg`` is the composed config, ``run_dir`` the output directory, ``model_dir`` the local
    folder holding the base model weights, ``labels`` the task's class names (empty for
    generation tasks) and ``tokenizer`` the loaded tokenizer once the head has loaded it.
    ``resume_from`` is the checkpoint a trainer must continue from (``core.checkpoints``).
    ``template`` is the prompt template named by ``task.prompt_template``, resolved once by
    whoever builds the context (the pipeline, ``mode=inspect``, ``core.runs``); heads render
    with it. None when a caller did not resolve it: a head then looks it up by name.
    """

    cfg: Any
    run_dir: Path
    model_dir: str = ""
    labels: list[str] = field(default_factory=list)
    tokenizer: Any = None
    resume_from: str | None = None  # a checkpoint folder the trainer continues from
    template: Any = None  # the resolved prompt template (a core.kinds.PromptTemplate)
    # The validation split's scorer (core.validation.Validator) when the run has one: trainers
    # built on core.training's trainer_class and trainer_callbacks score it at each evaluation.
    validation: Any = None


@dataclass
class TrainResult:
    """What a trainer reports: timings and the loss log used for the loss-curve plot."""

    seconds: float
    examples: int
    tokens: int
    log_history: list[dict[str, Any]] = field(default_factory=list)
    # What the training steps computed in: fp32, or bf16/fp16 autocast (GPUs; the cpu_bf16 speed-up).
    precision: str = "fp32"
    # What each speed-up did, by name (``core.speedups.report``); results.json's train.speedups.
    speedups: dict[str, dict[str, Any]] = field(default_factory=dict)


@runtime_checkable
class DataFormat(Protocol):
    """Reads a raw file into canonical examples (``register_data_formats``, ``data.format``)."""

    def read(self, path: Path, data_cfg: Any) -> list[Example]:
        """Return the file's ``core.Example``s (or a ``core.ReadResult`` naming skipped rows).

        A malformed row raises ``core.DataError(path, line, reason)``, never a bare exception.
        """


@runtime_checkable
class PromptTemplate(Protocol):
    """Renders an example as model text (``register_prompt_templates``, ``task.prompt_template``)."""

    def render(self, example: Example, tokenizer: Any, task_cfg: Any) -> RenderedPrompt:
        """Return ``core.RenderedPrompt(prompt, answer, text, train_spans)`` for one example.

        ``prompt`` is what generation starts from, ``answer`` the final answer; ``text`` is the
        whole training text and ``train_spans`` the character spans of it the loss covers
        (empty: the answer after the prompt).
        """


@runtime_checkable
class TaskHead(Protocol):
    """Builds the model with LoRA, tokenises, and predicts (``register_task_heads``, ``task.head``)."""

    def load_tokenizer(self, ctx: RunContext) -> None:
        """Load the tokenizer alone into ``ctx.tokenizer`` (``mode=inspect`` needs no weights)."""

    def load_base(self, ctx: RunContext) -> Any:
        """Load the base model as the head shapes it, without LoRA, for export and chat.

        ``core.runs`` attaches a finished run's ``adapter/`` to it (``peft.PeftModel``), so it
        must build the same modules ``load`` wraps (e.g. the classification layer).
        """

    def load(self, ctx: RunContext) -> Any:
        """Load tokenizer (set ``ctx.tokenizer``) and the base model wrapped for LoRA training."""

    def encode(self, ctx: RunContext, examples: list[Example]) -> list[dict]:
        """Tokenise examples into rows the trainer and ``predict`` accept.

        Each row has ``input_ids`` and ``truncated`` (cut to ``task.max_length``); heads that
        train on part of the text add ``completion_mask`` (1 = in the loss).
        """

    def collator(self, ctx: RunContext) -> Any:
        """Return the batch collator for encoded examples."""

    def predict(
        self, ctx: RunContext, model: Any, encoded: Any, examples: list[Example], model_name: str
    ) -> list[Prediction]:
        """Run the model over encoded eval examples and return one Prediction per example."""

    def save_adapter(self, ctx: RunContext, model: Any, path: Path) -> None:
        """Save what training produced (a PEFT adapter) so plain PEFT can load it."""


@runtime_checkable
class Trainer(Protocol):
    """Trains a head's model on encoded rows (``register_trainers``, ``task.trainer``)."""

    def train(
        self, ctx: RunContext, model: Any, head: TaskHead, train_dataset: Any, eval_dataset: Any = None
    ) -> TrainResult:
        """Train ``model`` in place on the head's encoded rows and return a ``TrainResult``.

        ``head.collator(ctx)`` batches the rows; ``ctx.resume_from`` is a checkpoint to continue
        from; ``eval_dataset`` is for an eval loss during training, if the trainer logs one.
        """


@runtime_checkable
class Evaluator(Protocol):
    """Scores one model's predictions (``register_evaluators``, listed in ``task.evaluators``)."""

    def evaluate(self, predictions: list[Prediction], ctx: RunContext) -> EvalResult:
        """Return ``core.EvalResult(metrics, details, report_md, plots)`` for one model's predictions.

        ``predictions`` are the ``core.Prediction``s of one model (baseline or fine-tuned); metric
        names must not clash with another evaluator's.
        """
