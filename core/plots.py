"""Plots every run writes, independent of the task (task-specific plots come from evaluators)."""

from __future__ import annotations

from pathlib import Path


def draw_loss_curve(log_history: list[dict], path: Path, metric: str | None = None, best_step: int | None = None,
                    loss_label: str = "eval loss") -> bool:
    """Plot training loss against step from a Trainer-style log, with the evaluation loss beside
    it when logged (``loss_label``: the validation split's, or the eval split's). With ``metric``
    (the task's main metric) its validation values (``eval_<metric>``) go on a second axis, the
    ``best_step`` marked. False when there is no loss."""
    points = [(row["step"], row["loss"]) for row in log_history if "loss" in row and "step" in row]
    evals = [(row["step"], row["eval_loss"]) for row in log_history if "eval_loss" in row and "step" in row]
    scores = [(row["step"], row[f"eval_{metric}"]) for row in log_history
              if metric and f"eval_{metric}" in row and "step" in row]
    if not points:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 3.5))
    lines = ax.plot([p[0] for p in points], [p[1] for p in points], marker=".", label="training loss")
    if evals:
        lines += ax.plot([p[0] for p in evals], [p[1] for p in evals], marker="o", label=loss_label)
    if scores:
        right = ax.twinx()
        lines += right.plot([p[0] for p in scores], [p[1] for p in scores], marker="s", color="tab:green",
                            label=f"validation {metric}")
        right.set_ylabel(metric)
        if best_step is not None:
            best = [value for step, value in scores if step == best_step]
            if best:
                lines += right.plot([best_step], best, marker="*", markersize=14, linestyle="", color="tab:red",
                                    label="best checkpoint")
    if len(lines) > 1:
        ax.legend(lines, [line.get_label() for line in lines], fontsize="small", loc="center right")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_title("loss curve" + (" and validation" if scores else ""))
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True
