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
    format: str = "text_label"  # the data-format plugin that reads the files (text_label, alpaca, messages, toolcall)
    train_path: str = MISSING  # the training file: JSON array, JSON Lines or CSV with a header
    eval_path: str = MISSING  # the file both the base and the fine-tuned model are scored on
    text_field: str = "text"  # text_label: the column holding the text
    label_field: str = "label"  # text_label: the column holding the class name
    max_train_rows: Optional[int] = None  # keep only the first N rows (quick experiments)
    max_eval_rows: Optional[int] = None  # keep only the first N eval rows
    # Column names in the file for the format's canonical fields, e.g. {instruction: instruct}
    # for alpaca-style data exported with other names. Unlisted fields keep their own names.
    columns: Any = None  # a mapping; typed Any so `data.columns={...}` can set new keys
    # Clean text cells before validation: strip HTML tags, collapse whitespace; rows whose
    # required fields end up empty are dropped and counted (CSV exports from databases/Excel).
    clean: bool = False
    on_error: OnError = OnError.error  # a bad row: error (stop with file:line) or skip (count and list it)
    # Tool-call data: a JSON list of OpenAI tool schemas; rows' tool names are checked against it.
    tools_file: Optional[str] = None


@dataclass
class TaskConfig:
    name: str = MISSING  # the task's name (run directories are outputs/<name>/...)
    head: str = MISSING  # the task-head plugin: seq_cls (classification) or causal_lm (generation)
    trainer: str = MISSING  # the trainer plugin: hf or sft
    prompt_template: str = "text"  # how an example becomes model input: text, auto, chat, alpaca, plain, file
    evaluators: List[str] = field(default_factory=list)  # evaluator plugins that score the predictions
    main_metric: str = MISSING  # the metric sweeps rank by and the leaderboard sorts on
    labels: List[str] = field(default_factory=list)  # classification: the class names; rows with other labels are dropped
    max_length: int = 128  # longest row in tokens; longer rows are cut and counted
    system_prompt: Optional[str] = None  # generation: the system prompt when a row has none
    # How the ``text`` template lays out the input; {text} is the example's text. A fixed cue
    # at the end (e.g. "{text}\nIntent:") gives a classification head a consistent last token.
    input_format: str = "{text}"
    # The ``file`` prompt template reads its layout from this YAML file (see CONTRIBUTING.md).
    template_file: Optional[str] = None
    # Generation tasks: the most tokens generated per answer at evaluation (greedy decoding).
    max_new_tokens: int = 64


@dataclass
class ModelConfig:
    name: str = MISSING  # the model's short name, as in results.json
    hub_id: str = MISSING  # its Hugging Face hub id (looked up in the local cache; never downloaded here)
    source: ModelSource = ModelSource.hf  # where the weights come from: hf, modelscope, local or embedded
    path: Optional[str] = None  # a local folder; overrides hub_id when set
    embedded_package: Optional[str] = None  # source=embedded: the pip package that ships the GGUF file
    embedded_file: Optional[str] = None  # source=embedded: the GGUF file's path inside that package
    # A GGUF file too big for one pip package ships as chunks in several: "package/path" of each
    # chunk in order; they are joined into ``embedded_file`` once, checked against the sha256.
    embedded_parts: List[str] = field(default_factory=list)
    embedded_sha256: Optional[str] = None  # the joined GGUF file's sha256, checked before converting
    # For a base model whose tokenizer has no chat template: the Jinja template to give it, and
    # the tokens that end an assistant turn (added to the stop tokens of generation).
    chat_template: Optional[str] = None
    stop_tokens: List[str] = field(default_factory=list)  # extra tokens that end an answer
    cache_dir: Optional[str] = None  # None: $PLUGTUNE_CACHE, else ~/.cache/plugtune
    dtype: str = "float32"  # weights' dtype: auto (bf16/fp16 on GPUs, fp32 on CPU), float32, bfloat16, float16
    quantization: str = "none"  # none | 4bit | 8bit (QLoRA with bitsandbytes; needs CUDA)
    target_modules: List[str] = field(default_factory=lambda: ["q_proj", "v_proj"])  # LoRA's default layers for this model


@dataclass
class PeftConfig:
    r: int = 8  # LoRA rank
    alpha: int = 16  # LoRA scaling numerator (the update is scaled by alpha / r)
    dropout: float = 0.05  # dropout on the LoRA input
    target_modules: Optional[List[str]] = None  # None: the model file's target_modules
    top_layers: Optional[int] = None  # LoRA only on the last N decoder layers; None: all layers
    bias: str = "none"  # which biases train: none, all or lora_only


@dataclass
class TrainConfig:
    epochs: float = 1.0  # passes over the training rows
    lr: float = 2e-4  # peak learning rate (AdamW)
    batch_size: int = 16  # training rows per step and process
    eval_batch_size: int = 64  # rows per batch when predicting
    grad_accum: int = 1  # steps whose gradients add up before one optimizer update
    weight_decay: float = 0.01  # AdamW weight decay
    warmup: float = 0.0  # a fraction of the total steps when < 1, else a number of steps
    scheduler: str = "linear"  # learning-rate schedule: linear, cosine, constant, ... (transformers' names)
    max_steps: int = -1  # stop after N optimizer steps; -1: train.epochs decides
    logging_steps: int = 5  # log the loss every N steps (the loss curve's points)
    group_by_length: bool = True  # batch rows of similar length (less padding), in a seeded order
    gradient_checkpointing: bool = False  # less activation memory, ~30% slower steps
    packing: bool = False  # sft only: pack short examples into max_length rows (needs flash attention)
    eval_steps: Optional[int] = None  # sft only: eval loss on the eval split every N steps; None: off
    threads: Optional[int] = None  # torch CPU threads; None: one per core
    # The training kit's speed-ups, each switchable by name, e.g. train.speedups.compile=true
    # (core/speedups/, docs/speed.md).
    speedups: SpeedupsConfig = field(default_factory=SpeedupsConfig)
    save_steps: Optional[int] = 50  # checkpoint every N optimizer steps (last 2 kept); None: never
    # null: continue this run dir's own checkpoint when config and data match it (fingerprint.json);
    # true: also the newest unfinished sibling run with the same overrides; false: start over in place.
    resume: Optional[bool] = None
    # Multi-GPU engines, passed through to the Trainer (need CUDA; docs/scaling.md):
    deepspeed: Optional[str] = None  # a DeepSpeed JSON config file, e.g. ZeRO-2
    fsdp: Optional[str] = None  # FSDP options, e.g. "full_shard auto_wrap"


@dataclass
class PlugtuneConfig:
    task: TaskConfig = field(default_factory=TaskConfig)
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    peft: PeftConfig = field(default_factory=PeftConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    seed: int = 42  # seeds data order, LoRA init and the classification layer
    mode: Mode = Mode.train  # train (the whole run) or inspect (check the data, show one example)
    overwrite: bool = False  # re-run into a run dir that holds a finished run (results.json), replacing it


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
