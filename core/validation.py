"""Scoring the validation split during training; keeping the best checkpoint; stopping early.

At every evaluation the Trainer runs (``train.eval_strategy``: each epoch by default when a
validation split exists) the task's own evaluators score the validation rows (the first
``train.val_max_rows`` of them, answered as in the final evaluation: batched, greedy), and the
results join the Trainer's eval loss in its log as ``eval_<metric>`` (so they reach
``train_log.json``, the loss-curve plot and every tracker of ``train.report_to``).

:class:`BestCheckpoint` keeps a copy of the adapter (LoRA weights and any trained head) each
time the main metric improves by more than ``train.early_stopping_threshold`` (or, with no
threshold, ties with a lower validation loss), in memory (an
adapter is a few MB), stops training after ``train.early_stopping_patience`` evaluations without
improvement, and with ``train.load_best`` puts the best copy back when training ends, so the
fine-tuned evaluation, the saved ``adapter/``, export and chat all use it. The final weights
are scored too when the last evaluation came before the last step. A resumed run chooses among
the checks made after it resumed.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable

log = logging.getLogger("plugtune")


@dataclass
class Validator:
    """Scores a model on the validation split with the task's evaluators (``score``)."""

    ctx: Any
    head: Any
    encoded: list[dict]
    examples: list
    metric: str  # task.main_metric: higher is better
    evaluate: Callable[[list], dict]  # predictions -> flat metrics (the pipeline's evaluators)
    max_rows: int | None = None  # train.val_max_rows
    seconds: float = 0.0  # time spent scoring, all checks together
    callback: Any = None  # the run's BestCheckpoint callback (best_checkpoint_callback)

    @property
    def rows(self) -> int:
        """How many validation rows each check scores."""
        return len(self.examples) if self.max_rows is None else min(self.max_rows, len(self.examples))

    def score(self, model) -> dict[str, float]:
        """The evaluators' metrics on the validation rows; the model is left in the mode it was in."""
        start = time.perf_counter()
        was_training = getattr(model, "training", False)
        n = self.rows
        try:
            predictions = self.head.predict(self.ctx, model, self.encoded[:n], self.examples[:n], "validation")
            metrics = self.evaluate(predictions)
        finally:
            if was_training:
                model.train()
            self.seconds += time.perf_counter() - start
        return metrics


def trainer_mixin(validator_of: Callable[[Any], Validator | None]):
    """A Trainer mixin whose evaluation loop adds the validator's metrics (``eval_<name>``) to the
    eval loss, so the Trainer logs them and hands them to its callbacks (``on_evaluate``)."""

    class ScoresValidation:
        def evaluation_loop(self, dataloader, description, prediction_loss_only=None, ignore_keys=None,
                            metric_key_prefix="eval"):
            output = super().evaluation_loop(dataloader, description, prediction_loss_only, ignore_keys,
                                             metric_key_prefix)
            validator = validator_of(self)
            if validator is not None and metric_key_prefix == "eval":
                scores = validator.score(self.model)
                output.metrics.update({f"{metric_key_prefix}_{name}": value for name, value in scores.items()})
            return output

    return ScoresValidation


def adapter_state(model) -> dict:
    """A CPU copy of what training changes: the PEFT adapter's weights (LoRA and any trained
    head), or every trainable parameter of a model that is not a PEFT model."""
    try:
        from peft import PeftModel, get_peft_model_state_dict

        if isinstance(model, PeftModel):
            return {k: v.detach().to("cpu", copy=True) for k, v in get_peft_model_state_dict(model).items()}
    except ImportError:  # pragma: no cover - peft is a dependency
        pass
    return {n: p.detach().to("cpu", copy=True) for n, p in model.named_parameters() if p.requires_grad}


def restore_adapter_state(model, state: dict) -> None:
    """Put an :func:`adapter_state` copy back into ``model``."""
    import torch
    from peft import PeftModel, set_peft_model_state_dict

    if isinstance(model, PeftModel):
        set_peft_model_state_dict(model, state)
        return
    params = dict(model.named_parameters())
    with torch.no_grad():
        for name, value in state.items():
            params[name].copy_(value.to(params[name].device))


@dataclass
class Check:
    """One scoring of the validation split."""

    step: int
    epoch: float
    value: float
    loss: float | None = None
    metrics: dict = field(default_factory=dict)


def ties_with_lower_loss(check: Check, best: Check) -> bool:
    """The same main metric (small validation splits often tie, e.g. at 1.0) with a lower
    validation loss: the model is as right and surer of it, so the later check wins."""
    return check.value == best.value and check.loss is not None and best.loss is not None and check.loss < best.loss


def best_checkpoint_callback(validator: Validator, load_best: bool, patience: int | None, threshold: float):
    """A TrainerCallback (:class:`BestCheckpoint`) for ``validator``'s checks."""
    from transformers import TrainerCallback

    class BestCheckpoint(TrainerCallback):
        def __init__(self):
            self.checks: list[Check] = []
            self.best: Check | None = None
            self.best_state: dict | None = None
            self.since_best = 0
            self.stopped_early = False
            self.restored = False

        def record(self, state, metrics: dict, model) -> None:
            key = f"eval_{validator.metric}"
            value = metrics.get(key, metrics.get(validator.metric))
            if value is None:
                log.warning("validation: %s was not reported by the evaluators; no checkpoint is chosen", validator.metric)
                return
            value = float(value)
            check = Check(step=int(state.global_step), epoch=round(float(state.epoch or 0.0), 4), value=value,
                          loss=metrics.get("eval_loss"),
                          metrics={k.removeprefix("eval_"): v for k, v in metrics.items()
                                   if isinstance(v, (int, float)) and not k.endswith(("_runtime", "per_second"))})
            self.checks.append(check)
            improved = not math.isnan(value) and (self.best is None or value > self.best.value + threshold
                                                  or (not threshold and ties_with_lower_loss(check, self.best)))
            if improved:
                self.best, self.since_best = check, 0
                self.best_state = adapter_state(model)
            else:
                self.since_best += 1
            log.info("validation at step %d (epoch %.2f): %s=%.4f%s", check.step, check.epoch, validator.metric, value,
                     " (best so far)" if improved else f" (best {self.best.value:.4f} at step {self.best.step})"
                     if self.best else "")

        def on_evaluate(self, args, state, control, metrics=None, model=None, **kwargs):
            self.record(state, metrics or {}, model)
            if patience and self.since_best >= patience:
                self.stopped_early = True
                control.should_training_stop = True
                log.info("early stopping: %d validations without a gain over %s=%.4f (train.early_stopping_patience=%d)",
                         self.since_best, validator.metric, self.best.value if self.best else float("nan"), patience)
            return control

        def on_train_end(self, args, state, control, model=None, **kwargs):
            if not self.checks or self.checks[-1].step != state.global_step:
                # the last steps were never scored: score the final weights too
                self.record(state, {f"eval_{k}": v for k, v in validator.score(model).items()}, model)
            last = self.checks[-1] if self.checks else None
            if load_best and self.best is not None and last is not None and self.best.step != last.step:
                restore_adapter_state(model, self.best_state)
                self.restored = True
                log.info("train.load_best: the fine-tuned model is the checkpoint of step %d (epoch %.2f), %s=%.4f on "
                         "the validation split (the last step scored %.4f)", self.best.step, self.best.epoch,
                         validator.metric, self.best.value, last.value)

        def summary(self) -> dict:
            """results.json's ``validation`` entry."""
            as_dict = lambda c: {"step": c.step, "epoch": c.epoch, "value": c.value, "loss": c.loss}  # noqa: E731
            last = self.checks[-1] if self.checks else None
            return {
                "metric": validator.metric,
                "rows_scored": validator.rows,
                "checks": [{**as_dict(c), "metrics": c.metrics} for c in self.checks],
                "best": as_dict(self.best) if self.best else None,
                "last": as_dict(last) if last else None,
                "load_best": load_best,
                "used": "best" if self.restored or (self.best and last and self.best.step == last.step) else "last",
                "early_stopping_patience": patience,
                "stopped_early": self.stopped_early,
                "seconds": round(validator.seconds, 2),
            }

    return BestCheckpoint()
