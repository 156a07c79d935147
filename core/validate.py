"""Checks run on the composed config before any model or data loads (``python -m core``).

The schema (core/config.py) already checks keys and types; these check what a type cannot say:
ranges, positive counts and the known choices of string settings. A bad value is one
``PlugtuneError`` line naming the key, the value and what is allowed (exit 2 on the CLI).

``check_overrides`` looks at the command line before Hydra composes: a removed key, or a config
group option (``task=foo``) that does not exist, perhaps because the plugin that ships it is
disabled or failed to load, is one line instead of Hydra's search-path dump.
"""

from __future__ import annotations

import math
from typing import Any, Callable

from core.errors import PlugtuneError

# transformers' SchedulerType values (``train.scheduler``), listed here because importing
# transformers.trainer_utils takes seconds; tests/unit/test_config_values.py keeps them in sync.
SCHEDULERS = (
    "linear", "cosine", "cosine_with_restarts", "polynomial", "constant", "constant_with_warmup", "inverse_sqrt",
    "reduce_lr_on_plateau", "cosine_with_min_lr", "cosine_warmup_with_min_lr", "warmup_stable_decay", "greedy",
)
DTYPES = ("auto", "float32", "bfloat16", "float16")
QUANTIZATIONS = ("none", "4bit", "8bit")
LORA_BIASES = ("none", "all", "lora_only")
STRATEGIES = ("steps", "epoch", "no")  # train.save_strategy / train.eval_strategy
PRECISIONS = ("auto", "fp32", "bf16", "fp16")  # train.precision

# Keys that were accepted but read by nothing, removed from the schema: key -> what to do instead.
REMOVED_KEYS = {
    "peft.method": "LoRA is the only adapter method; drop the override",
    "model.notes": "notes about a model are comments in its conf/model/*.yaml file; drop the override",
}


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and not math.isnan(value)


def _positive(value) -> bool:
    return _number(value) and value > 0


def _at_least(low) -> Callable[[Any], bool]:
    return lambda value: _number(value) and value >= low


def _count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _optional_count(value) -> bool:
    return value is None or _count(value)


def _one_of(choices) -> Callable[[Any], bool]:
    return lambda value: str(value) in choices


def _enum_of(choices) -> Callable[[Any], bool]:
    """An enum setting (schema-typed configs hold the Enum, saved ones the string)."""
    return lambda value: str(getattr(value, "value", value)) in choices


# (key, test, what is allowed); keys are read with OmegaConf.select, so a node a config lacks is skipped.
RULES: list[tuple[str, Callable[[Any], bool], str]] = [
    ("train.lr", _positive, "must be > 0 (the peak learning rate, e.g. 2e-4)"),
    ("train.batch_size", _count, "must be an integer >= 1"),
    ("train.eval_batch_size", _count, "must be an integer >= 1"),
    ("train.grad_accum", _count, "must be an integer >= 1"),
    ("train.max_steps", lambda v: v == -1 or _count(v), "must be -1 (train.epochs decide) or an integer >= 1"),
    ("train.min_steps", lambda v: _count(v) or (v == 0 and not isinstance(v, bool)), "must be 0 (train.epochs as set) or an integer >= 1"),
    ("train.warmup", _at_least(0), "must be >= 0 (a fraction of the steps when < 1, else a number of steps)"),
    ("train.weight_decay", _at_least(0), "must be >= 0"),
    ("train.logging_steps", _count, "must be an integer >= 1"),
    ("train.save_steps", _optional_count, "must be null (no checkpoints) or an integer >= 1"),
    ("train.eval_steps", _optional_count, "must be null (off) or an integer >= 1"),
    ("train.save_total_limit", _optional_count, "must be null (keep every checkpoint) or an integer >= 1"),
    ("train.save_strategy", _enum_of(STRATEGIES), f"must be one of {', '.join(STRATEGIES)}"),
    ("train.eval_strategy", lambda v: v is None or _enum_of(STRATEGIES)(v),
     f"must be null (epoch with a validation split, else no) or one of {', '.join(STRATEGIES)}"),
    ("train.early_stopping_patience", _optional_count, "must be null (never stop early) or an integer >= 1"),
    ("train.early_stopping_threshold", _at_least(0), "must be >= 0 (the least gain that counts as improvement)"),
    ("train.val_max_rows", _optional_count, "must be null (every validation row) or an integer >= 1"),
    ("data.val_fraction", lambda v: v is None or (_number(v) and 0 < v < 1),
     "must be null (no validation split) or a fraction between 0 and 1, e.g. 0.1"),
    ("confidence.level", lambda v: _number(v) and 0.5 <= v < 1, "must be >= 0.5 and < 1, e.g. 0.95"),
    ("confidence.resamples", lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 100,
     "must be an integer >= 100 (bootstrap resamples)"),
    ("train.precision", _enum_of(PRECISIONS), f"must be one of {', '.join(PRECISIONS)}"),
    ("train.threads", _optional_count, "must be null (one per core) or an integer >= 1"),
    ("train.scheduler", _one_of(SCHEDULERS), f"must be one of {', '.join(SCHEDULERS)}"),
    ("data.max_train_rows", _optional_count, "must be null (all rows) or an integer >= 1"),
    ("data.max_eval_rows", _optional_count, "must be null (all rows) or an integer >= 1"),
    ("data.vary_arguments_until", lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0,
     "must be 0 (off) or an integer >= 1 (the rows small tool-call data is grown to)"),
    ("peft.r", _count, "must be an integer >= 1 (the LoRA rank)"),
    ("peft.alpha", _positive, "must be > 0"),
    ("peft.dropout", lambda v: _number(v) and 0 <= v < 1, "must be 0 <= dropout < 1"),
    ("peft.top_layers", _optional_count, "must be null (every layer) or an integer >= 1"),
    ("peft.target_modules", lambda v: v is None or len(v) > 0, "must be null (the model's target_modules) or a non-empty list"),
    ("peft.bias", _one_of(LORA_BIASES), f"must be one of {', '.join(LORA_BIASES)}"),
    ("model.dtype", _one_of(DTYPES), f"must be one of {', '.join(DTYPES)}"),
    ("model.quantization", _one_of(QUANTIZATIONS), f"must be one of {', '.join(QUANTIZATIONS)}"),
    ("model.target_modules", lambda v: v is not None and len(v) > 0, "must list at least one module name"),
    ("task.max_length", _count, "must be an integer >= 1 (tokens per row)"),
    ("generation.max_new_tokens", _count, "must be an integer >= 1"),
    ("generation.temperature", _positive, "must be > 0 (below 1 sharper, above 1 flatter)"),
    ("generation.top_p", lambda v: _number(v) and 0 < v <= 1, "must be > 0 and <= 1 (1: no cut)"),
    ("generation.top_k", _optional_count, "must be null (no limit) or an integer >= 1"),
    ("generation.repetition_penalty", _positive, "must be > 0 (1.0: off; above 1 discourages repeats)"),
    ("generation.no_repeat_ngram_size", lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0,
     "must be an integer >= 0 (0: off)"),
    ("generation.seed", lambda v: v is None or (isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 2**32),
     "must be null (the run's seed) or an integer >= 0 and < 2**32"),
    ("seed", lambda v: isinstance(v, int) and 0 <= v < 2**32, "must be an integer >= 0 and < 2**32"),
]


def _show(value: Any) -> str:
    from omegaconf import OmegaConf

    if OmegaConf.is_config(value):
        value = OmegaConf.to_container(value)
    if value is None:
        return "null"
    if isinstance(value, list):
        return "[" + ",".join(map(str, value)) + "]"
    return str(value)


def problems(cfg) -> list[str]:
    """Every bad value of ``cfg`` as ``key=value: what is allowed``; empty when all are fine."""
    from omegaconf import OmegaConf

    found = []
    for key, ok, allowed in RULES:
        value = OmegaConf.select(cfg, key, default=_ABSENT, throw_on_missing=False)
        if value is _ABSENT:
            continue
        if not ok(value):
            found.append(f"{key}={_show(value)}: {allowed}")
    # A run of 0 epochs trains nothing and would save the untrained adapter as if trained.
    epochs, max_steps = OmegaConf.select(cfg, "train.epochs"), OmegaConf.select(cfg, "train.max_steps")
    if not (_number(max_steps) and max_steps > 0) and not _positive(epochs):
        found.append(f"train.epochs={_show(epochs)}: must be > 0 (or set train.max_steps to a number of steps); "
                     "0 epochs would train nothing")
    found.extend(_loss_scope_problems(cfg))
    return found


_ABSENT = object()


def _loss_scope_problems(cfg) -> list[str]:
    """``train.loss_on=all`` trains the prompt's tokens too: only a causal_lm head has text to train."""
    from omegaconf import OmegaConf

    loss_on, head = OmegaConf.select(cfg, "train.loss_on"), OmegaConf.select(cfg, "task.head")
    if str(getattr(loss_on, "value", loss_on)) != "all" or head is None or str(head) == "causal_lm":
        return []
    if str(head) == "seq_cls":
        return ["train.loss_on=all: task.head=seq_cls predicts a label and has no text to train; "
                "loss_on applies to causal_lm tasks only (drop train.loss_on=all)"]
    return [f"train.loss_on=all: applies to causal_lm tasks only, not task.head={head} (drop train.loss_on=all)"]


def check_values(cfg) -> None:
    """Raise one ``PlugtuneError`` line naming every bad value of ``cfg`` (see ``RULES``); the
    training kit's settings (``train.speedups.*``) are checked by the kit itself."""
    found = problems(cfg)
    if found:
        raise PlugtuneError("; ".join(found))
    from omegaconf import OmegaConf

    if OmegaConf.select(cfg, "train") is not None:
        from core import speedups
        from core.training import check_precision

        speedups.check(cfg)
        check_precision(cfg)  # a precision this machine cannot run (fp16 without CUDA, ...)


def check_overrides(args: list[str]) -> None:
    """Check the command line's overrides before Hydra composes (see the module docstring).

    Anything this cannot parse is left to Hydra, which reports it in its own words.
    """
    from hydra._internal.utils import get_args_parser

    try:
        parsed = get_args_parser().parse_args(args)
    except SystemExit:  # --help and friends, or a bad flag: Hydra's own parser says so
        return
    overrides = _parse(parsed.overrides)
    for override in overrides:
        key = override.key_or_group.lstrip("~+")
        if key in REMOVED_KEYS:
            raise PlugtuneError(f"{key} was removed: {REMOVED_KEYS[key]}")
    if parsed.config_dir or parsed.config_name or parsed.config_path:
        return  # another primary config or search path: Hydra knows its options
    _check_group_options(overrides)


def quote_plain_text(args: list[str]) -> list[str]:
    """Command-line overrides whose value Hydra's grammar cannot read unquoted (Chinese text,
    punctuation: ``data.instruction=请回答用户的问题。``) quoted for it, so plain text works as
    typed; anything that still does not parse is left to Hydra's own message."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parser = OverridesParser.create()
    quoted = []
    for arg in args:
        key, sep, value = arg.partition("=")
        if arg.startswith("-") or not sep or not value or any(q in value for q in "'\"\\"):
            quoted.append(arg)
            continue
        try:
            parser.parse_overrides([arg])
        except Exception:  # noqa: BLE001 - Hydra's grammar error: try the value as a quoted string
            candidate = f"{key}='{value}'"
            try:
                parser.parse_overrides([candidate])
            except Exception:  # noqa: BLE001 - quoting does not help: Hydra says what is wrong
                candidate = arg
            arg = candidate
        quoted.append(arg)
    return quoted


def _parse(overrides: list[str]) -> list:
    from hydra.core.override_parser.overrides_parser import OverridesParser

    try:
        return OverridesParser.create().parse_overrides(overrides)
    except Exception:  # noqa: BLE001 - a syntax error: Hydra reports it
        return []


def _values(override) -> list[str]:
    """The option names an override selects: one, or each choice of a sweep (``task=a,b``)."""
    from hydra.core.override_parser.types import ChoiceSweep

    if override.is_delete():
        return []
    value = override.value()
    if isinstance(value, str):
        return [value]
    if isinstance(value, ChoiceSweep) and all(isinstance(v, str) for v in value.list):
        return list(value.list)
    return []  # a glob, a range or an interpolation: Hydra expands and checks it


def _check_group_options(overrides: list) -> None:
    from hydra._internal.config_repository import ConfigRepository
    from hydra._internal.utils import create_config_search_path
    from hydra.core.object_type import ObjectType

    groups = [o for o in overrides if o.package is None and not o.key_or_group.startswith("hydra")]
    if not groups:
        return
    repo = None
    for override in groups:
        values = _values(override)
        if not values or "." in override.key_or_group:
            continue
        if repo is None:
            repo = ConfigRepository(config_search_path=create_config_search_path("pkg://conf"))
        group = override.key_or_group
        if not repo.group_exists(group):
            continue  # a key, not a group (seed=1)
        options = repo.get_group_options(group, ObjectType.CONFIG)
        for value in values:
            if value not in options and "${" not in value:  # an interpolation: Hydra resolves it
                raise PlugtuneError(f"{group}={value}: no such {group} option; available: {', '.join(options)}"
                                    f"{_plugin_hint()}")


def _plugin_hint() -> str:
    """Plugins that are disabled or failed to load may be the ones shipping a missing option."""
    from core.plugins import DISABLE_ENV, disabled_plugins, load_failures

    hint = ""
    try:
        failed = load_failures()
    except PlugtuneError:  # the plugins themselves are broken: the run says so when it builds them
        failed = []
    if failed:
        hint += "; plugins that failed to load may ship it: " + ", ".join(f"{f.name!r} from {f.distribution}" for f in failed)
    if disabled_plugins():
        hint += f"; plugins disabled by {DISABLE_ENV} may ship it: {', '.join(sorted(disabled_plugins()))}"
    return hint
