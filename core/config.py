"""Structured config schemas: a typo'd key or a wrong-typed value fails in Hydra's own words.

The schemas are stored in Hydra's ConfigStore as ``plugtune_schema``; ``conf/config.yaml``
lists it first in its defaults so every group file is validated against it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, List, Optional

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING, OmegaConf

from core.speedups.config import SpeedupsConfig


class Mode(str, Enum):
    train = "train"  # baseline eval, LoRA training, fine-tuned eval, run directory
    inspect = "inspect"  # validate the data and show one example as the model sees it; no weights


class OnError(str, Enum):
    error = "error"  # a bad row stops the run with file:line and the reason
    skip = "skip"  # bad rows are skipped, counted and listed in the log and report


class ModelSource(str, Enum):
    hf = "hf"  # Hugging Face hub id, resolved from the local cache or downloaded
    modelscope = "modelscope"
    local = "local"  # model.path points at a folder with config.json and weights
    embedded = "embedded"  # a GGUF file shipped inside a pip package, converted once and cached


@dataclass
class DataConfig:
    format: str = "text_label"
    train_path: str = MISSING
    eval_path: str = MISSING
    text_field: str = "text"
    label_field: str = "label"
    max_train_rows: Optional[int] = None  # keep only the first N rows (quick experiments)
    max_eval_rows: Optional[int] = None
    # Column names in the file for the format's canonical fields, e.g. {instruction: instruct}
    # for alpaca-style data exported with other names. Unlisted fields keep their own names.
    columns: Any = None  # a mapping; typed Any so `data.columns={...}` can set new keys
    # Clean text cells before validation: strip HTML tags, collapse whitespace; rows whose
    # required fields end up empty are dropped and counted (CSV exports from databases/Excel).
    clean: bool = False
    on_error: OnError = OnError.error
    # Tool-call data: a JSON list of OpenAI tool schemas; rows' tool names are checked against it.
    tools_file: Optional[str] = None


@dataclass
class TaskConfig:
    name: str = MISSING
    head: str = MISSING
    trainer: str = MISSING
    prompt_template: str = "text"
    evaluators: List[str] = field(default_factory=list)
    main_metric: str = MISSING
    labels: List[str] = field(default_factory=list)
    max_length: int = 128
    system_prompt: Optional[str] = None
    # How the ``text`` template lays out the input; {text} is the example's text. A fixed cue
    # at the end (e.g. "{text}\nIntent:") gives a classification head a consistent last token.
    input_format: str = "{text}"
    # The ``file`` prompt template reads its layout from this YAML file (see CONTRIBUTING.md).
    template_file: Optional[str] = None
    # Generation tasks: the most tokens generated per answer at evaluation (greedy decoding).
    max_new_tokens: int = 64


@dataclass
class ModelConfig:
    name: str = MISSING
    hub_id: str = MISSING
    source: ModelSource = ModelSource.hf
    path: Optional[str] = None  # a local folder; overrides hub_id when set
    embedded_package: Optional[str] = None
    embedded_file: Optional[str] = None
    # A GGUF file too big for one pip package ships as chunks in several: "package/path" of each
    # chunk in order; they are joined into ``embedded_file`` once, checked against the sha256.
    embedded_parts: List[str] = field(default_factory=list)
    embedded_sha256: Optional[str] = None
    # For a base model whose tokenizer has no chat template: the Jinja template to give it, and
    # the tokens that end an assistant turn (added to the stop tokens of generation).
    chat_template: Optional[str] = None
    stop_tokens: List[str] = field(default_factory=list)
    cache_dir: Optional[str] = None  # None: $PLUGTUNE_CACHE, else ~/.cache/plugtune
    dtype: str = "float32"
    quantization: str = "none"  # none | 4bit | 8bit (QLoRA with bitsandbytes; needs CUDA)
    target_modules: List[str] = field(default_factory=lambda: ["q_proj", "v_proj"])
    notes: str = ""


@dataclass
class PeftConfig:
    method: str = "lora"
    r: int = 8
    alpha: int = 16
    dropout: float = 0.05
    target_modules: Optional[List[str]] = None  # None: the model file's target_modules
    top_layers: Optional[int] = None  # LoRA only on the last N decoder layers; None: all layers
    bias: str = "none"


@dataclass
class TrainConfig:
    epochs: float = 1.0
    lr: float = 2e-4
    batch_size: int = 16
    eval_batch_size: int = 64
    grad_accum: int = 1
    weight_decay: float = 0.01
    warmup: float = 0.0  # a fraction of the total steps when < 1, else a number of steps
    scheduler: str = "linear"
    max_steps: int = -1
    logging_steps: int = 5
    group_by_length: bool = True
    gradient_checkpointing: bool = False  # less activation memory, ~30% slower steps
    packing: bool = False  # sft only: pack short examples into max_length rows (needs flash attention)
    eval_steps: Optional[int] = None  # sft only: eval loss on the eval split every N steps; None: off
    threads: Optional[int] = None  # torch CPU threads; None: one per core
    # The training kit's speed-ups, each switchable by name, e.g. train.speedups.compile=true
    # (core/speedups/, docs/speed.md).
    speedups: SpeedupsConfig = field(default_factory=SpeedupsConfig)
    save_steps: Optional[int] = 50  # checkpoint every N optimizer steps (last 2 kept); None: never
    resume: bool = False  # also resume the newest unfinished sibling run with the same overrides
    # Multi-GPU engines, passed through to the Trainer (need CUDA; see README "More than one process"):
    deepspeed: Optional[str] = None  # a DeepSpeed JSON config file, e.g. ZeRO-2
    fsdp: Optional[str] = None  # FSDP options, e.g. "full_shard auto_wrap"


@dataclass
class PlugtuneConfig:
    task: TaskConfig = field(default_factory=TaskConfig)
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    peft: PeftConfig = field(default_factory=PeftConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    seed: int = 42
    mode: Mode = Mode.train


def register_schemas() -> None:
    """Store the schemas in Hydra's ConfigStore (idempotent)."""
    ConfigStore.instance().store(name="plugtune_schema", node=PlugtuneConfig)


register_schemas()


def _shipped_data(relative: str) -> str:
    """``${plugtune_data:intent/train.jsonl}``: a data file shipped in the repository's data/."""
    from pathlib import Path

    return str(Path(__file__).resolve().parent.parent / "data" / relative)


def _run_stamp() -> str:
    """``${plugtune_stamp:}``: the run directory's timestamp, the same on every rank of a DDP run."""
    from core.distributed import run_stamp

    return run_stamp()


if not OmegaConf.has_resolver("plugtune_data"):
    OmegaConf.register_new_resolver("plugtune_data", _shipped_data)
if not OmegaConf.has_resolver("plugtune_stamp"):
    OmegaConf.register_new_resolver("plugtune_stamp", _run_stamp)
