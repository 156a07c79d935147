"""Plots every run writes, independent of the task (task-specific plots come from evaluators)."""

from __future__ import annotations

from pathlib import Path


def draw_loss_curve(log_history: list[dict], path: Path) -> bool:
    """Plot training loss against step from a Trainer-style log, with the eval split's loss
    (``train.eval_strategy``) beside it when logged; False when there is no loss."""
    points = [(row["step"], row["loss"]) for row in log_history if "loss" in row and "step" in row]
    evals = [(row["step"], row["eval_loss"]) for row in log_history if "eval_loss" in row and "step" in row]
    if not points:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot([p[0] for p in points], [p[1] for p in points], marker=".", label="training loss")
    if evals:
        ax.plot([p[0] for p in evals], [p[1] for p in evals], marker="o", label="eval loss")
        ax.legend()
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_title("loss curve")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True

