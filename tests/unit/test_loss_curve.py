"""The loss curve: the training loss, and the eval split's loss beside it when it was logged."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from core.plots import draw_loss_curve  # noqa: E402


def drawn_lines(monkeypatch, tmp_path, history) -> dict[str, int]:
    figures = []
    monkeypatch.setattr(plt, "close", figures.append)
    assert draw_loss_curve(history, tmp_path / "loss.png")
    assert (tmp_path / "loss.png").stat().st_size > 0
    (axes,) = figures[0].axes
    return {line.get_label(): len(line.get_xdata()) for line in axes.get_lines()}


def test_eval_loss_is_drawn_beside_the_training_loss(monkeypatch, tmp_path):
    history = [{"step": 1, "loss": 2.0}, {"step": 2, "loss": 1.5}, {"step": 2, "eval_loss": 1.8},
               {"step": 3, "loss": 1.0}, {"step": 4, "loss": 0.8}, {"step": 4, "eval_loss": 1.2}]
    assert drawn_lines(monkeypatch, tmp_path, history) == {"training loss": 4, "eval loss": 2}


def test_without_eval_loss_only_the_training_loss(monkeypatch, tmp_path):
    assert drawn_lines(monkeypatch, tmp_path, [{"step": 1, "loss": 2.0}]) == {"training loss": 1}
    assert not draw_loss_curve([{"step": 1, "eval_loss": 2.0}], tmp_path / "none.png")
