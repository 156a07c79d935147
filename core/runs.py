"""Reopening a finished run: its saved config, its task head, and its model with the adapter.

Used by ``core.export`` and ``core.chat``, which take ``key=value`` arguments like the main CLI.
"""

from __future__ import annotations

from pathlib import Path

from core.errors import PlugtuneError, report_error
from core.kinds import RunContext


def parse_key_values(argv: list[str], keys: tuple[str, ...], required: tuple[str, ...], usage: str) -> dict[str, str | None]:
    """``key=value`` arguments into a dict (absent keys are None); unknown keys and missing
    required keys are errors that show ``usage``; ``-h`` or ``--help`` prints it and exits."""
    values: dict[str, str | None] = dict.fromkeys(keys)
    if any(arg in ("-h", "--help") for arg in argv):
        print(f"usage: {usage}")
        raise SystemExit(0)
    for arg in argv:
        key, sep, value = arg.partition("=")
        if not sep or key not in values:
            raise PlugtuneError(f"unexpected argument {arg!r}; usage: {usage}")
        values[key] = value
    for key in required:
        if not values[key]:
            raise PlugtuneError(f"{key}= is required; usage: {usage}")
    return values


def saved_config(run_dir):
    """The config a run ran with: ``RUN/config.yaml`` (written once its data is read: files,
    shipped-data settings and labels filled in), else ``RUN/.hydra/config.yaml`` as composed
    (a run from before that file, or one that stopped earlier) with its files resolved."""
    from omegaconf import OmegaConf

    import core.config  # noqa: F401  (registers the plugtune_data resolver used in saved configs)
    from core.shipped_data import resolve_data_paths

    run_dir = Path(run_dir)
    resolved = run_dir / "config.yaml"
    if resolved.is_file():
        return OmegaConf.load(resolved)
    saved = run_dir / ".hydra" / "config.yaml"
    if not saved.is_file():
        raise PlugtuneError(f"run_dir: {run_dir} has no .hydra/config.yaml; pass the folder of a finished run")
    cfg = OmegaConf.load(saved)
    if "train_path" in cfg.get("data", {}):
        resolve_data_paths(cfg, quiet=True)
    if not cfg.task.get("labels"):  # classification labels taken from the training file at run time
        cfg.task.labels = run_labels(run_dir)
    return cfg


def run_labels(run_dir) -> list[str]:
    """The labels a run trained with when its composed config names none (a classification run
    on its own file takes them from the training file once it has read it): from
    ``results.json``'s config, else none."""
    import json

    try:
        return list(json.loads((Path(run_dir) / "results.json").read_text(encoding="utf-8"))["config"]["task"]["labels"])
    except (OSError, ValueError, KeyError, TypeError):
        return []


def load_run(run_dir, adapter=None) -> tuple[RunContext, object]:
    """The run's config as it ran, a RunContext for it and its task head (tokenizer loaded).
    ``adapter``: the adapter folder to use instead of ``RUN/adapter`` (a kept checkpoint)."""
    from core.models import resolve_model_dir
    from core.registry import get_registry

    run_dir = Path(run_dir)
    cfg = saved_config(run_dir)
    if adapter is None and not (run_dir / "adapter" / "adapter_config.json").is_file():
        raise PlugtuneError(f"run_dir: {run_dir} has no adapter/ (the run did not finish training)")
    registry = get_registry()
    ctx = RunContext(cfg=cfg, run_dir=run_dir, model_dir=resolve_model_dir(cfg.model), labels=list(cfg.task.labels),
                     template=registry.get("prompt_template", cfg.task.prompt_template))
    head = registry.get("task_head", cfg.task.head)
    head.load_tokenizer(ctx)
    return ctx, head


def load_with_adapter(ctx: RunContext, head, adapter=None):
    """The base model with the run's adapter attached (not merged), in eval mode; ``adapter``: a
    folder to take it from instead of ``RUN/adapter`` (a kept checkpoint)."""
    from peft import PeftModel
    from transformers import set_seed

    from core.distributed import to_local_device
    from core.heads import peft_quietly

    set_seed(ctx.cfg.seed)  # a freshly initialised layer (seq_cls score) comes out as in the run
    base = head.load_base(ctx)
    adapter = adapter or ctx.run_dir / "adapter"
    with peft_quietly():
        model = PeftModel.from_pretrained(base, str(adapter))
    return to_local_device(model, ctx.cfg.model).eval()


def load_exported(cfg, folder):
    """A folder written by ``core.export`` (merged weights), loaded with the class the run's
    head needs; a folder that is not a model is one line."""
    from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification

    if not (Path(folder) / "config.json").is_file():
        raise PlugtuneError(f"merged={folder}: not a model folder; write one with python -m core.export run_dir=RUN")
    loader = AutoModelForSequenceClassification if cfg.task.head == "seq_cls" else AutoModelForCausalLM
    return loader.from_pretrained(str(folder)).eval()


def exit_on_error(main):
    """Run ``main()``; a PlugtuneError is one line on stderr and exit status 2."""
    try:
        main()
    except PlugtuneError as exc:
        report_error(exc)
