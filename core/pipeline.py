"""One run: data → baseline evaluation → LoRA training → fine-tuned evaluation → run directory.

Every name in the config is resolved through the registry before any model loads, so a typo in
``task.evaluators`` fails in a second, not after a model download.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import shutil
from pathlib import Path

from omegaconf import OmegaConf

from core import classic_baseline, confidence, tracking, training_length
from core.audit import audit as audit_data
from core.audit import RECALL_LINE
from core.audit import warnings as audit_warnings
from core.checkpoints import CHECKPOINT_DIR, remaining_fraction, resume_or_start
from core.data import load_data
from core.distributed import is_main_process
from core.errors import PlugtuneError, log_to_files
from core.kinds import RunContext
from core.models import check_quantization, resolve_model_dir
from core.plots import draw_loss_curve
from core.plugins import get_plugin_manager
from core.registry import get_registry, provenance
from core.report import comparison_table, render_report
from core.rundir import save_dir_atomic, write_json_atomic, write_jsonl_atomic, write_text_atomic
from core.types import EvalResult, Prediction
from core.shipped_data import resolve_data_paths
from core.validate import check_values

log = logging.getLogger("plugtune")
CLASSIC_PREDICTIONS = "classic_predictions.jsonl"  # the classic baseline's answers (classification)
RESOLVED_CONFIG = "config.yaml"  # the config as the run used it (.hydra/config.yaml: as composed)


@dataclasses.dataclass
class Plugins:
    """The plugin objects one run uses, resolved by name from the config."""

    data_format: object
    head: object
    trainer: object
    evaluators: dict[str, object]
    template: object = None  # task.prompt_template, handed to the head as RunContext.template

    @classmethod
    def resolve(cls, cfg) -> "Plugins":
        registry = get_registry()
        return cls(
            template=registry.get("prompt_template", cfg.task.prompt_template),  # fails now, not mid-run
            data_format=registry.get("data_format", cfg.data.format),
            head=registry.get("task_head", cfg.task.head),
            trainer=registry.get("trainer", cfg.task.trainer),
            evaluators={name: registry.get("evaluator", name) for name in cfg.task.evaluators},
        )


def is_scored(prediction: Prediction) -> bool:
    """True when the eval row has a reference answer (or label) to score against. Rows without one
    (a question typed for a look at the answers) are generated and written, never scored."""
    return prediction.reference is not None


def scoring_counts(predictions: list[Prediction]) -> dict[str, int]:
    """results.json's ``scoring``: how many eval rows were scored and how many had no reference."""
    scored = sum(1 for p in predictions if is_scored(p))
    return {"eval_rows": len(predictions), "scored": scored, "unscored": len(predictions) - scored}


def evaluate(evaluators: dict, predictions: list[Prediction], ctx: RunContext) -> tuple[dict, dict]:
    """Run every evaluator on one model's predictions; return flat metrics and full results.

    Evaluators get only the predictions that have a reference (:func:`is_scored`), so none has to
    cope with a missing one; with no such prediction no evaluator runs and both dicts are empty
    (the run reports its answers and a NaN main metric)."""
    metrics: dict[str, float] = {}
    results: dict[str, EvalResult] = {}
    scored = [p for p in predictions if is_scored(p)]
    if not scored:
        return metrics, results
    for name, evaluator in evaluators.items():
        result = evaluator.evaluate(scored, ctx)
        clash = set(metrics) & set(result.metrics)
        if clash:
            raise PlugtuneError(f"evaluator {name!r} reports metrics already reported: {sorted(clash)}")
        metrics.update(result.metrics)
        results[name] = result
    return metrics, results


def count_truncated(splits: dict[str, list[dict]], max_length: int) -> dict[str, int]:
    """Rows cut to ``task.max_length`` per split; logged, and reported in results.json."""
    counts = {name: sum(1 for row in rows if row.get("truncated")) for name, rows in splits.items()}
    for name, count in counts.items():
        if count:
            log.warning("%s: %d of %d rows cut to task.max_length=%d", name, count, len(splits[name]), max_length)
    return counts


def configure_threads(cfg) -> None:
    """torch's CPU threads: ``train.threads``, else ``OMP_NUM_THREADS`` or one per usable core
    (core.cpu_threads)."""
    import torch

    from core.cpu_threads import default_cpu_threads

    threads = cfg.train.threads or default_cpu_threads()
    torch.set_num_threads(threads)


def run(cfg, run_dir: Path) -> dict | None:
    """Run the task described by ``cfg`` into ``run_dir`` and return the ``results.json`` dict
    (None on DDP ranks other than 0, which train and write nothing)."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    plugins = Plugins.resolve(cfg)
    resolve_data_paths(cfg)
    check_quantization(cfg.model)
    check_values(cfg)  # also for callers that skip the CLI
    tracking.check(cfg)  # train.report_to: an unknown tracker or a missing extra, before any model loads
    hook = get_plugin_manager().hook
    if is_main_process():
        hook.on_run_start(cfg=cfg, run_dir=run_dir)

    # Refuses a finished run (without overwrite=true) and another run's checkpoints; records
    # fingerprint.json. Before the data loads: the fingerprint holds task.labels as the user set
    # them, as the command-line check before the run sees them, not the training file's.
    resume_from = resume_or_start(cfg, run_dir, main_process=is_main_process())
    data = load_data(cfg, plugins.data_format)
    log.info("data: %d train rows, %d eval rows%s", len(data.train), len(data.eval),
             f", {len(data.val)} validation rows" if data.val else "")
    data_audit = audit_data(data.train, data.eval, data.val)
    for line in audit_warnings(data_audit):
        log.warning("%s", line)
    if data_audit["recall"]:
        log.info("%s", RECALL_LINE)
    length = training_length.choose(cfg, len(data.train))  # train.min_steps on small data: before the config is saved
    log.info("%s", training_length.describe(length))
    if is_main_process():  # what core.export / core.chat reopen: files, shipped settings and labels filled in
        write_text_atomic(run_dir / RESOLVED_CONFIG, OmegaConf.to_yaml(cfg, resolve=True))
    model_dir = resolve_model_dir(cfg.model)

    from transformers import set_seed

    configure_threads(cfg)
    set_seed(cfg.seed)
    remaining = remaining_fraction(resume_from)  # read now: the checkpoints go once the adapter is saved
    if resume_from is not None:
        log.info("resuming training from %s", resume_from)
    ctx = RunContext(
        cfg=cfg, run_dir=run_dir, model_dir=model_dir, labels=list(cfg.task.labels),
        resume_from=str(resume_from) if resume_from else None, template=plugins.template,
    )
    head = plugins.head
    model = head.load(ctx)
    encoded_train = head.encode(ctx, data.train)
    encoded_eval = head.encode(ctx, data.eval)  # encoded once, used for both evaluations
    encoded_val = head.encode(ctx, data.val) if data.val else []
    truncated = count_truncated({"train": encoded_train, "eval": encoded_eval, **({"validation": encoded_val} if data.val else {})},
                                cfg.task.max_length)
    data.note_untrained("train", encoded_train, cfg.task.max_length)  # answers cut away: named, never silent

    main = is_main_process()
    predictions, metrics, evals = {}, {}, {}
    if main:  # other DDP ranks only train; rank 0 evaluates on the whole eval set
        # LoRA starts as a no-op (B = 0), so the wrapped model before training is the base model.
        predictions["baseline"] = head.predict(ctx, model, encoded_eval, data.eval, "baseline")
        metrics["baseline"], evals["baseline"] = evaluate(plugins.evaluators, predictions["baseline"], ctx)
        hook.on_metrics(model="baseline", metrics=metrics["baseline"], run_dir=run_dir)

    ctx.validation = make_validator(ctx, plugins, data, encoded_val)
    # With a validation split the trainer's eval loss is computed on it, never on the eval rows.
    trained = plugins.trainer.train(ctx, model, head, encoded_train, encoded_val if data.val else encoded_eval)
    if not main:
        return None
    # Save the adapter as soon as it exists: a failure in evaluation must not lose it.
    save_dir_atomic(run_dir / "adapter", lambda tmp: head.save_adapter(ctx, model, tmp))
    if not cfg.train.keep_checkpoints:  # kept: python -m core.export run_dir=RUN checkpoint=N merges one
        shutil.rmtree(run_dir / CHECKPOINT_DIR, ignore_errors=True)

    predictions["finetuned"] = head.predict(ctx, model, encoded_eval, data.eval, "finetuned")
    metrics["finetuned"], evals["finetuned"] = evaluate(plugins.evaluators, predictions["finetuned"], ctx)
    hook.on_metrics(model="finetuned", metrics=metrics["finetuned"], run_dir=run_dir)

    classic = None
    if classic_baseline.wanted(cfg, data.train):  # the same training rows (validation rows set aside), the same eval rows
        classic = classic_baseline.fit_predict(data.train, data.eval, list(cfg.task.labels), cfg.seed)
        predictions["classic"] = classic.predictions
        classic_metrics, evals["classic"] = evaluate(plugins.evaluators, classic.predictions, ctx)
        log.info("classic baseline (%s): %s in %.1f s", classic.description,
                 ", ".join(f"{k}={v:.4f}" for k, v in classic_metrics.items()), classic.seconds)
    confidence_block = confidence_of(predictions, plugins.evaluators, ctx)

    # A resumed run's throughput counts only what this process trained (examples: the whole run's).
    examples_here = round(trained.examples * remaining)
    tokens_here = trained.tokens * remaining
    results = {
        "task": cfg.task.name,
        "model": cfg.model.name,
        "main_metric": cfg.task.main_metric,
        "metrics": metrics,
        "train": {
            "seconds": round(trained.seconds, 2),
            "examples": trained.examples,
            "examples_this_process": examples_here,
            "examples_per_second": round(examples_here / trained.seconds, 2) if trained.seconds else 0.0,
            "tokens_per_second": round(tokens_here / trained.seconds, 1) if trained.seconds else 0.0,
            "resumed_from": ctx.resume_from,
            "precision": trained.precision,
            "speedups": trained.speedups,
            "length": length,
        },
        "data": {**data.stats(), "truncated_rows": truncated},
        "audit": data_audit,
        **({"validation": validation_summary(ctx, data, cfg.task.trainer)} if data.val else {}),
        # Eval rows without a reference answer are generated and written, not scored.
        "scoring": scoring_counts(predictions["finetuned"]),
        **({"confidence": confidence_block} if confidence_block else {}),
        # beside metrics, not in it: metrics holds the two language models (the run-directory contract)
        **({"classic_baseline": {"metrics": classic_metrics, "seconds": round(classic.seconds, 2),
                                 "description": classic.description, **classic.settings}} if classic else {}),
        "details": {model: {n: r.details for n, r in per.items()} for model, per in evals.items()},
        "plugins": provenance(cfg),  # which plugin, distribution and version provided each name used
        "config": OmegaConf.to_container(cfg, resolve=True, enum_to_str=True),
    }
    write_outputs(run_dir, results, evals, predictions, trained.log_history)
    tracking.log_results(cfg, run_dir, results)
    hook.on_run_end(results=results, run_dir=run_dir)
    return results


def confidence_of(predictions: dict[str, list[Prediction]], evaluators: dict, ctx: RunContext) -> dict | None:
    """Bootstrap intervals and paired tests of the main metric (``core.confidence``) over the scored
    rows every model answered; None when there is nothing to resample (or the models' rows differ,
    which is logged rather than losing a finished run)."""
    cfg = ctx.cfg
    scored = {name: [p for p in preds if is_scored(p)] for name, preds in predictions.items()}
    try:
        return confidence.compute(scored, evaluators, cfg.task.main_metric, ctx, level=float(cfg.confidence.level),
                                  resamples=int(cfg.confidence.resamples), seed=int(cfg.seed))
    except ValueError as error:
        log.warning("confidence intervals left out: %s", error)
        return None


def make_validator(ctx: RunContext, plugins: Plugins, data, encoded_val: list[dict]):
    """The validation split's scorer and best-checkpoint keeper (``core.validation``), or None
    without a validation split (or with ``train.eval_strategy=no``, said in the log)."""
    from core.training import eval_strategy
    from core.validation import Validator, best_checkpoint_callback

    train = ctx.cfg.train
    if not data.val:
        return None
    if eval_strategy(train, validating=True) == "no":
        log.warning("train.eval_strategy=no: the %d validation rows are never scored, so no best checkpoint is chosen "
                    "(the last step is the fine-tuned model)", len(data.val))
        return None
    validator = Validator(
        ctx=ctx, head=plugins.head, encoded=encoded_val, examples=data.val, metric=ctx.cfg.task.main_metric,
        evaluate=lambda predictions: evaluate(plugins.evaluators, predictions, ctx)[0], max_rows=train.val_max_rows,
    )
    validator.callback = best_checkpoint_callback(validator, load_best=bool(train.load_best),
                                                  patience=train.early_stopping_patience,
                                                  threshold=float(train.early_stopping_threshold))
    return validator


def validation_summary(ctx: RunContext, data, trainer_name: str) -> dict:
    """results.json's ``validation``: where the rows came from, every check, the best and the one
    used (``core.validation``)."""
    summary = dict(data.validation)
    if ctx.validation is None:
        return {**summary, "checks": [], "used": "last"}
    summary.update(ctx.validation.callback.summary())
    if not summary["checks"]:
        log.warning("task.trainer=%s did not score the validation split (it does not use core.training's "
                    "trainer_class and trainer_callbacks): the last step is the fine-tuned model", trainer_name)
    return summary


def write_outputs(run_dir: Path, results: dict, evals: dict, predictions: dict, log_history: list) -> None:
    """Predictions, plots, report, and results.json last (its presence means the run finished)."""
    def rows_of(models: tuple[str, ...]) -> list[dict]:
        return [{"model": pred.model, "input": pred.input, "reference": pred.reference, "prediction": pred.prediction,
                 "scored": is_scored(pred), **pred.extra} for name in models for pred in predictions.get(name, [])]

    write_jsonl_atomic(run_dir / "predictions.jsonl", rows_of(("baseline", "finetuned")))
    if predictions.get("classic"):  # its own file: predictions.jsonl holds the two language models' answers
        write_jsonl_atomic(run_dir / CLASSIC_PREDICTIONS, rows_of(("classic",)))
    plots = []
    validation = results.get("validation") or {}
    best = validation.get("best") or {}
    if draw_loss_curve(log_history, run_dir / "loss_curve.png", metric=validation.get("metric"),
                       best_step=best.get("step") if validation.get("used") == "best" else None,
                       loss_label="validation loss" if validation else "eval loss"):
        plots.append("loss_curve.png")
    for per_model in evals.values():
        for result in per_model.values():
            for name, draw in result.plots.items():
                draw(run_dir / name)
                plots.append(name)
    write_json_atomic(run_dir / "train_log.json", log_history)
    write_text_atomic(run_dir / "report.md", render_report(results, evals, predictions, plots))
    write_json_atomic(run_dir / "results.json", results)


def main_metric(results: dict) -> float:
    """The fine-tuned value of the task's main metric (what a sweeper optimises); NaN when no eval
    row had a reference answer, so nothing was scored (a sweeper then counts the trial as failed)."""
    name = results["main_metric"]
    if results.get("scoring", {}).get("scored") == 0:
        return math.nan
    value = results["metrics"]["finetuned"].get(name)
    if value is None:
        raise PlugtuneError(
            f"task.main_metric: {name!r} is not reported by the evaluators; "
            f"reported: {sorted(results['metrics']['finetuned'])}"
        )
    return float(value)


def print_summary(results: dict, run_dir: Path) -> None:
    """The end of a run on the terminal: the comparison table and one line on unscored eval rows.
    The same lines end the run's ``plugtune.log``, so the log alone tells how the run came out."""
    lines = ["", f"{results['task']} on {results['model']}: {results['train']['seconds']:.0f} s training"]
    scoring = results.get("scoring", {})
    if scoring.get("scored") == 0:
        lines.append(f"nothing was scored: none of the {scoring['eval_rows']} eval rows has a reference answer "
                     "(answers side by side in report.md)")
    else:
        lines.append(comparison_table(results["metrics"], results.get("confidence"),
                                      (results.get("classic_baseline") or {}).get("metrics"), results.get("main_metric")))
        lines.extend(confidence.console_lines(results.get("confidence")))
        if scoring.get("unscored"):
            lines.append(f"scored {scoring['scored']} of {scoring['eval_rows']} eval rows ({scoring['unscored']} "
                         "without a reference answer: side by side in report.md)")
    if (results.get("audit") or {}).get("recall"):
        lines.append(RECALL_LINE)
    line = checkpoint_line(results.get("validation"))
    if line:
        lines.append(line)
    lines.append(f"run directory: {run_dir}")
    text = "\n".join(lines)
    print(text)
    log_to_files(f"results:{text}", level=logging.INFO)


def checkpoint_line(validation: dict | None) -> str | None:
    """One line on which weights the fine-tuned column scored: the best validation check or the last
    step, and whether training stopped early; None when no validation split was used."""
    if not validation or not validation.get("best"):
        return None
    best, last, metric = validation["best"], validation["last"], validation["metric"]
    where = lambda c: f"step {c['step']} (epoch {c['epoch']:g}, {metric} {c['value']:.4f})"  # noqa: E731
    if validation["used"] == "best" and best["step"] != last["step"]:
        text = f"fine-tuned = best validation checkpoint: {where(best)}; last was {where(last)}"
    elif validation["used"] == "best":
        text = f"fine-tuned = last step, also the best validation check: {where(best)}"
    else:
        text = f"fine-tuned = last step {where(last)} (train.load_best=false; best was {where(best)})"
    if validation.get("stopped_early"):
        text += f"; stopped early (patience {validation['early_stopping_patience']})"
    return text
