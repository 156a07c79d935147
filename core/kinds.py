"""The interfaces plugin objects implement, one per registrable kind.

These are ``typing.Protocol`` classes: a plugin object needs the methods, not the base class.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

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


@dataclass
class TrainResult:
    """What a trainer reports: timings and the loss log used for the loss-curve plot."""

    seconds: float
    examples: int
    tokens: int
    log_history: list[dict[str, Any]] = field(default_factory=list)
    # Bottom decoder blocks run once instead of every epoch (train.cache_frozen_layers); 0: none.
    cached_frozen_blocks: int = 0
    # Decoder blocks the training steps ran through torch.compile (train.compile); 0: none.
    compiled_blocks: int = 0
    # What the training steps computed in: fp32, or bf16/fp16 autocast (GPUs; train.cpu_bf16 on CPUs).
    precision: str = "fp32"


class DataFormat(Protocol):
    def read(self, path: Path, data_cfg: Any) -> list[Example]: ...


class PromptTemplate(Protocol):
    def render(self, example: Example, tokenizer: Any, task_cfg: Any) -> RenderedPrompt: ...


class TaskHead(Protocol):
    def load_tokenizer(self, ctx: RunContext) -> None:
        """Load the tokenizer alone into ``ctx.tokenizer`` (``mode=inspect`` needs no weights)."""

    def load_base(self, ctx: RunContext) -> Any:
        """Load the base model as the head shapes it, without LoRA (for export and chat)."""

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


class Trainer(Protocol):
    def train(
        self, ctx: RunContext, model: Any, head: TaskHead, train_dataset: Any, eval_dataset: Any = None
    ) -> TrainResult:
        """Train ``model`` in place on the head's encoded rows; ``eval_dataset`` is for eval loss."""


class Evaluator(Protocol):
    def evaluate(self, predictions: list[Prediction], ctx: RunContext) -> EvalResult: ...
