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

from core.speedups.config import LEGACY_KEYS as SPEEDUPS_LEGACY_KEYS
from core.speedups.config import SpeedupsConfig


class Mode(str, Enum):
    train = "train"  # baseline eval, LoRA training, fine-tuned eval, run directory
    inspect = "inspect"  # validate the data and show one example as the model sees it; no weights


class OnError(str, Enum):
    error = "error"  # a bad row stops the run with file:line and the reason
    skip = "skip"  # bad rows are skipped, counted and listed in the log and report


class LossOn(str, Enum):
    answer = "answer"  # only the answers (and their end-of-turn markers) carry a loss
    all = "all"  # every token of the rendered text, prompt included (causal_lm only)


class Precision(str, Enum):
    auto = "auto"  # bf16 (or fp16) on a GPU that has it; fp32 on CPU unless train.speedups.cpu_bf16 says otherwise
    fp32 = "fp32"  # full precision everywhere
    bf16 = "bf16"  # bf16 autocast: a GPU with bf16, or a CPU with native bf16 (AMX or AVX512-BF16)
    fp16 = "fp16"  # fp16 autocast with loss scaling: CUDA GPUs only


class Strategy(str, Enum):
    steps = "steps"  # every N optimizer steps (train.save_steps / train.eval_steps)
    epoch = "epoch"  # at the end of every epoch
    no = "no"  # never


class ModelSource(str, Enum):
    hf = "hf"  # Hugging Face hub id, resolved from the local cache or downloaded
    modelscope = "modelscope"
    local = "local"  # model.path points at a folder with config.json and weights
    embedded = "embedded"  # a GGUF file shipped inside a pip package, converted once and cached


@dataclass
class ShippedDataConfig:
    """The example data a task ships with, and the settings that describe only that data."""

    train_path: Optional[str] = None  # the shipped training file, used when data.train_path is not given
    eval_path: Optional[str] = None  # the shipped eval file, used with the shipped training file
    tools_file: Optional[str] = None  # the shipped tools list (tool-call data); a user's own files get none
    system_prompt: Optional[str] = None  # the shipped data's system prompt; a user's own files get none
    labels: List[str] = field(default_factory=list)  # the shipped data's class names


@dataclass
class DataConfig:
    format: str = "text_label"  # the data-format plugin that reads the files (text_label, alpaca, messages, toolcall)
    # The training file (JSON array, JSON Lines or CSV with a header), or a list of files, each a
    # path or {path, format, weight}; null: the task's shipped example data (data.shipped).
    train_path: Any = None
    # The file both the base and the fine-tuned model are scored on; null: the shipped eval file
    # with the shipped training data, else the training file itself (said in the log).
    eval_path: Optional[str] = None
    # Per training file: how many times its rows are used per epoch (2: each row twice; 0.3: a
    # seeded 30 % of them); null: every row once. Mixing general data into domain data this way
    # keeps the model from forgetting it.
    mix: Optional[List[float]] = None
    instruction: Optional[str] = None  # the instruction given to alpaca and toolcall rows that have none
    # Multi-turn data: every assistant turn becomes its own sample (its earlier turns dropped), as
    # tutorials that flatten conversations to pairs do; false: whole dialogues, every turn trained.
    split_turns: bool = False
    shipped: ShippedDataConfig = field(default_factory=ShippedDataConfig)  # set by each task's config
    text_field: str = "text"  # text_label: the column holding the text
    label_field: str = "label"  # text_label: the column holding the class name
    max_train_rows: Optional[int] = None  # keep only each training file's first N rows, before its weight
    max_eval_rows: Optional[int] = None  # keep only the first N eval rows
    # The validation split that picks the best checkpoint and stops training early (never the
    # eval file): a file of its own, or data.val_fraction of the training rows set aside
    # (stratified by label for classification, drawn with the run's seed). null: none.
    val_path: Optional[str] = None
    val_fraction: Optional[float] = None  # e.g. 0.1: a tenth of the training rows validate instead of train
    # Column names in the file for the format's canonical fields, e.g. {instruction: instruct}
    # for alpaca-style data exported with other names. Unlisted fields keep their own names.
    columns: Any = None  # a mapping; typed Any so `data.columns={...}` can set new keys
    # Clean text cells before validation: strip HTML tags, collapse whitespace; rows whose
    # required fields end up empty are dropped and counted (CSV exports from databases/Excel).
    clean: bool = False
    on_error: OnError = OnError.error  # a bad row: error (stop with file:line) or skip (count and list it)
    # Tool-call data: a JSON list of OpenAI tool schemas; rows' tool names are checked against it.
    tools_file: Optional[str] = None
    # Tool-call data with fewer training rows than this gets copies of its rows whose argument
    # values (those copied from the request) are replaced by new strings, up to about this many
    # rows, so a small model learns to copy values instead of recalling training ones
    # (core/argument_variants.py). 0: off; task=toolcall sets 500.
    vary_arguments_until: int = 0


@dataclass
class TaskConfig:
    name: str = MISSING  # the task's name (run directories are outputs/<name>/...)
    head: str = MISSING  # the task-head plugin: seq_cls (classification) or causal_lm (generation)
    trainer: str = MISSING  # the trainer plugin: hf or sft
    prompt_template: str = "text"  # how an example becomes model input: text, auto, chat, alpaca, plain, instruction_response, file
    evaluators: List[str] = field(default_factory=list)  # evaluator plugins that score the predictions
    main_metric: str = MISSING  # the metric sweeps rank by and the leaderboard sorts on
    labels: List[str] = field(default_factory=list)  # classification: the class names; rows with other labels are dropped
    max_length: int = 128  # longest row in tokens; longer rows are cut and counted
    system_prompt: Optional[str] = None  # generation: the system prompt when a row has none
    # How the ``text`` template lays out the input; {text} is the example's text. A fixed cue
    # at the end (e.g. "{text}\nIntent:") gives a classification head a consistent last token.
    input_format: str = "{text}"
    # A classic text classifier (TF-IDF character n-grams + logistic regression, scikit-learn)
    # trained on the same training rows and scored on the same eval rows: the third column of the
    # comparison. null: on for tasks with class labels, off for generation.
    classic_baseline: Optional[bool] = None
    # The ``file`` prompt template reads its layout from this YAML file (see CONTRIBUTING.md).
    template_file: Optional[str] = None


@dataclass
class GenerationConfig:
    """How answers are generated: evaluation, core.chat and everything else that generates."""

    max_new_tokens: int = 64  # the most tokens generated per answer
    do_sample: bool = False  # false: greedy decoding (the default for scoring); true: sample
    temperature: float = 1.0  # sampling: below 1 sharper, above 1 flatter
    top_p: float = 1.0  # sampling: keep the smallest set of tokens whose probability adds up to top_p
    top_k: Optional[int] = None  # sampling: keep the k most likely tokens; null: no limit
    repetition_penalty: float = 1.0  # above 1 discourages repeating tokens already in the text
    no_repeat_ngram_size: int = 0  # never repeat an n-gram of this size; 0: off
    seed: Optional[int] = None  # the sampling seed; null: the run's seed


@dataclass
class ConfidenceConfig:
    """How sure the comparison is: bootstrap intervals and paired tests on the main metric."""

    level: float = 0.95  # the intervals' coverage
    resamples: int = 1000  # bootstrap resamples of the eval rows (drawn with the run's seed)


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
    # Run the model's own Python code from its folder (models such as the original Qwen-1.8B need
    # it); only for weights you trust. Logged when on.
    trust_remote_code: bool = False
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
    # At least this many optimizer steps: on small data train.epochs rises to the whole epochs that
    # reach it (the log says rows, steps and epochs); 0: train.epochs as set.
    min_steps: int = 60
    logging_steps: int = 5  # log the loss every N steps (the loss curve's points)
    group_by_length: bool = True  # batch rows of similar length (less padding), in a seeded order
    gradient_checkpointing: bool = False  # less activation memory, ~30% slower steps
    packing: bool = False  # sft only: pack short examples into max_length rows (needs flash attention)
    loss_on: LossOn = LossOn.answer  # generation tasks: which tokens carry the loss (answer or all)
    precision: Precision = Precision.auto  # auto, fp32, bf16 or fp16; any but auto wins over train.speedups.cpu_bf16
    # When the validation split is scored (main metric and loss) or, without one, the eval split's
    # loss is logged: steps, epoch or no; null: epoch with a validation split, else no.
    eval_strategy: Optional[Strategy] = None
    eval_steps: Optional[int] = None  # eval_strategy=steps: every N steps (setting it alone turns on steps)
    # With a validation split: the fine-tuned evaluation, export and chat use the checkpoint that
    # scored best on it (task.main_metric), not the last step.
    load_best: bool = True
    early_stopping_patience: Optional[int] = None  # stop after N validations without improvement; null: never
    early_stopping_threshold: float = 0.0  # the least gain in the main metric that counts as improvement
    val_max_rows: Optional[int] = 200  # validation rows scored per check (the loss uses them all); null: all
    # Experiment trackers the run logs to: tensorboard, mlflow, swanlab, trackio, wandb (each an
    # optional extra, e.g. pip install 'plugtune[mlflow]'); empty: none.
    report_to: List[str] = field(default_factory=list)
    threads: Optional[int] = None  # torch CPU threads; None: OMP_NUM_THREADS when set, else one per core
    # The training kit's speed-ups, each switchable by name, e.g. train.speedups.compile=true
    # (core/speedups/, docs/speed.md).
    speedups: SpeedupsConfig = field(default_factory=SpeedupsConfig)
    save_strategy: Strategy = Strategy.steps  # when checkpoints are written: steps, epoch or no
    save_steps: Optional[int] = 50  # save_strategy=steps: checkpoint every N optimizer steps; null: never
    save_total_limit: Optional[int] = 2  # checkpoints kept on disk (the newest); null: all
    # Keep RUN/checkpoints/ after the run (python -m core.export run_dir=RUN checkpoint=N merges
    # one); false: they are deleted once the final adapter is saved.
    keep_checkpoints: bool = False
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
    generation: GenerationConfig = field(default_factory=GenerationConfig)
    confidence: ConfidenceConfig = field(default_factory=ConfidenceConfig)
    seed: int = 42  # seeds data order, LoRA init and the classification layer
    mode: Mode = Mode.train  # train (the whole run) or inspect (check the data, show one example)
    overwrite: bool = False  # re-run into a run dir that holds a finished run (results.json), replacing it


# Keys that moved, still accepted on the command line (renamed, with a log line) and read from
# saved run configs by the new home's settings accessor: old key -> new key.
LEGACY_KEYS = {
    **SPEEDUPS_LEGACY_KEYS,  # train.compile -> train.speedups.compile, ... (core.speedups.settings reads them)
    "task.max_new_tokens": "generation.max_new_tokens",  # core.generation.settings reads it
}


def rename_legacy_overrides(overrides: list[str], table: dict[str, str] | None = None,
                            notes: list[str] | None = None) -> list[str]:
    """Command-line overrides with the older keys of ``table`` (default :data:`LEGACY_KEYS`)
    replaced by their new names (``task.max_new_tokens=8`` -> ``generation.max_new_tokens=8``;
    ``+``/``~`` prefixes kept). Each rename is logged, or added to ``notes`` as its log line
    (``python -m core`` renames before Hydra sets up logging, and logs them once it has)."""
    import logging

    table = LEGACY_KEYS if table is None else table
    renamed = []
    for override in overrides:
        prefix = override[: len(override) - len(override.lstrip("+~"))]
        key, sep, value = override[len(prefix):].partition("=")
        if key in table:
            note = f"{key} is now {table[key]}"
            if notes is None:
                logging.getLogger("plugtune").info(note)
            else:
                notes.append(note)
            override = f"{prefix}{table[key]}{sep}{value}"
        renamed.append(override)
    return renamed


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
