"""Experiment tracking (``train.report_to``): TensorBoard, MLflow, SwanLab, Trackio, Weights & Biases.

The Trainer's own integrations (transformers.integrations) log the loss and validation curves
during training; this module points them at the run directory, offline, and afterwards logs
plugtune's results (baseline and fine-tuned metrics, intervals, validation, the resolved
config) into the same tracker run.

Each tracker's package is an optional extra (``pip install 'plugtune[mlflow]'``); ``check``
names the missing one before any model loads. Unless the environment says otherwise, nothing
leaves the machine:

* tensorboard: event files in ``RUN/tensorboard`` (``TENSORBOARD_LOGGING_DIR`` moves them);
* mlflow: a SQLite store ``RUN/mlflow.db`` with artifacts in ``RUN/mlartifacts``
  (``MLFLOW_TRACKING_URI`` / ``MLFLOW_EXPERIMENT_NAME`` choose another store or experiment);
* swanlab: local mode, logs in ``RUN/swanlog`` (``SWANLAB_MODE``, ``SWANLAB_LOG_DIR``);
* trackio: its local database in ``RUN/trackio`` (``TRACKIO_DIR``; ``TRACKIO_SPACE_ID`` to publish);
* wandb: offline, files in ``RUN/wandb`` (``WANDB_MODE``, ``WANDB_DIR``).
"""

from __future__ import annotations

import importlib.util
import json
import logging
import math
import os
from pathlib import Path

from core.errors import PlugtuneError

log = logging.getLogger("plugtune")

#: report_to name -> the module it needs (each name is also the plugtune extra that installs it).
TRACKERS = {
    "tensorboard": "tensorboard",
    "mlflow": "mlflow",
    "swanlab": "swanlab",
    "trackio": "trackio",
    "wandb": "wandb",
}
PROJECT = "plugtune"  # project / experiment name where a tracker needs one and the environment names none

# Environment variables this module set, with the value: a later run in the same process (a
# sweep) may replace these, never the ones the user set.
_env_set: dict[str, str] = {}
# The current run's tracking state: run_dir, run_name, the trackers' run ids, the last step.
_current: dict = {}


def names(cfg) -> list[str]:
    """``train.report_to`` as a list without repeats, in the given order."""
    report_to = cfg.train.report_to or []
    if isinstance(report_to, str):
        report_to = [report_to]
    return list(dict.fromkeys(str(name).strip().lower() for name in report_to))


def check(cfg) -> list[str]:
    """Fail in one line on an unknown tracker or a missing package; return the trackers named.

    Cheap (no import of the trackers): call it before any model loads.
    """
    chosen = names(cfg)
    for name in chosen:
        if name not in TRACKERS:
            raise PlugtuneError(f"train.report_to: unknown tracker {name!r}; accepted: {', '.join(TRACKERS)}")
        if importlib.util.find_spec(TRACKERS[name]) is None:
            raise PlugtuneError(f"train.report_to={name} needs the {TRACKERS[name]} package: "
                                f"pip install 'plugtune[{name}]'")
    return chosen


def trainer_kwargs(cfg, run_dir) -> dict:
    """TrainingArguments keywords for the trackers named in ``train.report_to``.

    Also points each tracker at ``run_dir`` (module docstring) before the Trainer builds its
    integration callbacks, which read their settings from the environment.
    """
    chosen = check(cfg)
    if not chosen:
        return {"report_to": []}
    run_dir = Path(run_dir).resolve()
    run_name = prepare(cfg, run_dir, chosen)
    kwargs = {"report_to": chosen, "run_name": run_name}
    if "trackio" in chosen:
        kwargs["project"] = PROJECT
    return kwargs


def callbacks(cfg) -> list:
    """TrainerCallbacks the trackers need beside the Trainer's own integrations: one that notes
    the trackers' run ids and the last step, so ``log_results`` adds to the same runs."""
    return [run_recorder()] if names(cfg) else []


def log_results(cfg, run_dir, results: dict) -> None:
    """Log plugtune's own results (metrics, intervals, validation, config) to the trackers' runs.

    A tracker that fails here is reported as a warning: results.json is already written.
    """
    chosen = names(cfg)
    if not chosen:
        return
    run_dir = Path(run_dir).resolve()
    if _current.get("run_dir") != run_dir:  # a trainer that built no TrainingArguments of ours
        prepare(cfg, run_dir, chosen)
    metrics = result_metrics(results)
    config = results.get("config") or {}
    for name in chosen:
        try:
            LOGGERS[name](run_dir, metrics, config, results)
        except Exception as error:  # noqa: BLE001 - one tracker must not lose the finished run
            log.warning("train.report_to=%s: could not log the results: %s", name, error)
    _current.clear()


def result_metrics(results: dict) -> dict[str, float]:
    """The numbers of results.json that trackers get, as ``section/name`` keys:
    ``baseline/<metric>``, ``finetuned/<metric>`` and, when present, ``confidence/...``,
    ``validation/...`` and ``classic_baseline/...``. The validation checks themselves are left out:
    the Trainer's integration already logged each as a point of the ``eval/<metric>`` curve, and
    here each would become a scalar of one point."""
    out: dict[str, float] = {}
    for model, metrics in (results.get("metrics") or {}).items():
        flatten_numbers(metrics, model, out)
    for section in ("confidence", "validation", "classic_baseline"):
        if results.get(section) is not None:
            value = results[section]
            if section == "validation":
                value = {key: item for key, item in value.items() if key != "checks"}
            flatten_numbers(value, section, out)
    return out


def flatten_numbers(value, prefix: str, out: dict) -> dict:
    """Every finite int/float inside nested dicts, keyed by its ``/``-joined path (lists use indices)."""
    if isinstance(value, bool):
        return out
    if isinstance(value, (int, float)):
        if math.isfinite(value):
            out[prefix] = float(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            flatten_numbers(item, f"{prefix}/{key}", out)
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            flatten_numbers(item, f"{prefix}/{i}", out)
    return out


def flatten_config(config, prefix: str = "") -> dict[str, str]:
    """The resolved config as ``dotted.key -> value`` strings (MLflow params)."""
    out = {}
    for key, value in (config or {}).items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            out.update(flatten_config(value, f"{name}."))
        else:
            out[name] = json.dumps(value) if isinstance(value, (list, dict)) else str(value)
    return out


# ---------------------------------------------------------------------------------------------
# Where each tracker writes


def set_env_default(name: str, value: str) -> None:
    """Set an environment variable unless the user set it (a value this module set is replaced)."""
    if user_env(name):
        return
    os.environ[name] = value
    _env_set[name] = value


def user_env(name: str) -> bool:
    """Whether ``name`` is set in the environment by the user (not by this module)."""
    return bool(os.environ.get(name)) and _env_set.get(name) != os.environ[name]


def prepare(cfg, run_dir: Path, chosen: list[str]) -> str:
    """Point the chosen trackers at ``run_dir``, offline; return the run name they use."""
    run_name = f"{cfg.task.name}-{run_dir.name}"
    _current.clear()
    _current.update(run_dir=run_dir, run_name=run_name, step=0)
    if "tensorboard" in chosen:
        set_env_default("TENSORBOARD_LOGGING_DIR", str(run_dir / "tensorboard"))
    if "mlflow" in chosen:
        prepare_mlflow(run_dir)
    if "swanlab" in chosen:
        set_env_default("SWANLAB_MODE", "local")
        set_env_default("SWANLAB_LOG_DIR", str(run_dir / "swanlog"))
        start_swanlab(run_name)
    if "trackio" in chosen:
        set_env_default("TRACKIO_DIR", str(run_dir / "trackio"))
    if "wandb" in chosen:
        set_env_default("WANDB_MODE", "offline")
        set_env_default("WANDB_DIR", str(run_dir))
        set_env_default("WANDB_PROJECT", PROJECT)
    return run_name


def swanlab_run_open(swanlab) -> bool:
    """Whether a SwanLab run is open (swanlab 0.10's ``get_run`` raises when none is)."""
    if hasattr(swanlab, "has_run"):
        return swanlab.has_run()
    return swanlab.get_run() is not None


def start_swanlab(run_name: str) -> None:
    """Open the SwanLab run before the Trainer does: transformers' SwanLabCallback checks for an
    open run with ``swanlab.get_run() is None``, which swanlab 0.10 answers by raising. It then
    logs into this run, and ``log_results`` finishes it."""
    import swanlab

    from core.distributed import is_main_process

    if is_main_process() and not swanlab_run_open(swanlab):
        swanlab.init(name=run_name, **({} if os.environ.get("SWANLAB_PROJECT") else {"project": PROJECT}))


def prepare_mlflow(run_dir: Path) -> None:
    """A SQLite store in the run directory and an experiment whose artifacts stay there, unless
    ``MLFLOW_TRACKING_URI`` names another store."""
    import mlflow

    from core.distributed import is_main_process

    if user_env("MLFLOW_TRACKING_URI"):
        return
    mlflow.set_tracking_uri(f"sqlite:///{run_dir / 'mlflow.db'}")
    if user_env("MLFLOW_EXPERIMENT_NAME") or user_env("MLFLOW_EXPERIMENT_ID") or not is_main_process():
        return
    experiment = mlflow.get_experiment_by_name(PROJECT)
    experiment_id = experiment.experiment_id if experiment else mlflow.create_experiment(
        PROJECT, artifact_location=(run_dir / "mlartifacts").as_uri())
    mlflow.set_experiment(experiment_id=experiment_id)


# ---------------------------------------------------------------------------------------------
# During training


def run_recorder():
    """A TrainerCallback that notes the trackers' run ids once their integrations started them
    (it runs after them: the Trainer puts report_to's callbacks first), and the last step."""
    from transformers import TrainerCallback

    class RunRecorder(TrainerCallback):
        def on_train_begin(self, args, state, control, **kwargs):
            if state.is_world_process_zero and "mlflow" in (args.report_to or []):
                import mlflow

                run = mlflow.active_run()
                if run is not None:
                    _current["mlflow_run_id"] = run.info.run_id

        def on_train_end(self, args, state, control, **kwargs):
            if state.is_world_process_zero:
                _current["step"] = state.global_step

    return RunRecorder()


# ---------------------------------------------------------------------------------------------
# After evaluation: each tracker's results logger


def log_tensorboard(run_dir: Path, metrics: dict, config: dict, results: dict) -> None:
    """Scalars at the last training step and the config as text, in the training run's log dir
    (a second event file there, which TensorBoard reads as the same run)."""
    from torch.utils.tensorboard import SummaryWriter

    logdir = os.environ.get("TENSORBOARD_LOGGING_DIR") or str(run_dir / "tensorboard")
    step = _current.get("step", 0)
    with SummaryWriter(log_dir=logdir) as writer:
        for key, value in metrics.items():
            writer.add_scalar(key, value, step)
        writer.add_text("plugtune/config", "```json\n" + json.dumps(config, indent=2) + "\n```", step)


def log_mlflow(run_dir: Path, metrics: dict, config: dict, results: dict) -> None:
    """Metrics, the config as params and a JSON artifact, tags: in the run the Trainer's
    MLflowCallback opened (reopened by its id), or a new run when training logged none."""
    import mlflow
    from mlflow.utils.validation import MAX_PARAM_VAL_LENGTH, MAX_PARAMS_TAGS_PER_BATCH

    run_id = _current.get("mlflow_run_id")
    active = mlflow.active_run()
    if active is not None and active.info.run_id != run_id:
        mlflow.end_run()
    with mlflow.start_run(run_id=run_id, run_name=None if run_id else _current.get("run_name")):
        mlflow.log_metrics(metrics, step=_current.get("step", 0))
        params = {key: value[:MAX_PARAM_VAL_LENGTH] for key, value in flatten_config(config).items()}
        items = list(params.items())
        for i in range(0, len(items), MAX_PARAMS_TAGS_PER_BATCH):
            mlflow.log_params(dict(items[i:i + MAX_PARAMS_TAGS_PER_BATCH]))
        mlflow.set_tags({"plugtune.task": results.get("task"), "plugtune.model": results.get("model"),
                         "plugtune.main_metric": results.get("main_metric"), "plugtune.run_dir": str(run_dir)})
        mlflow.log_dict(config, "plugtune/config.json")


def log_swanlab(run_dir: Path, metrics: dict, config: dict, results: dict) -> None:
    """Metrics and the config into the run opened for training (SwanLabCallback does not finish
    it), then finish it."""
    import swanlab

    if not swanlab_run_open(swanlab):
        start_swanlab(_current.get("run_name"))
    step = _current.get("step", 0)
    swanlab.log({**metrics, "train/global_step": step}, step=step)
    swanlab.config.update({"plugtune": config})
    swanlab.finish()


def log_trackio(run_dir: Path, metrics: dict, config: dict, results: dict) -> None:
    """TrackioCallback finishes its run after training; reopen it by project and name."""
    import trackio

    trackio.init(project=PROJECT, name=_current.get("run_name"), resume="allow")
    trackio.log({**metrics, "train/global_step": _current.get("step", 0)})
    trackio.config.update({"plugtune": config}, allow_val_change=True)
    trackio.finish()


def log_wandb(run_dir: Path, metrics: dict, config: dict, results: dict) -> None:
    """Metrics (also as the run summary) and the config into the run WandbCallback left open."""
    import wandb

    if wandb.run is None:
        wandb.init(project=os.environ.get("WANDB_PROJECT", PROJECT), name=_current.get("run_name"))
    wandb.log({**metrics, "train/global_step": _current.get("step", 0)})
    wandb.run.summary.update(metrics)
    wandb.config.update({"plugtune": config}, allow_val_change=True)
    wandb.finish()


LOGGERS = {
    "tensorboard": log_tensorboard,
    "mlflow": log_mlflow,
    "swanlab": log_swanlab,
    "trackio": log_trackio,
    "wandb": log_wandb,
}
