"""The console line that says which weights the fine-tuned column scored."""
from core.pipeline import checkpoint_line


def _validation(used, best_step, last_step, stopped=False):
    check = lambda step, value: {"step": step, "epoch": step / 10, "value": value, "loss": 1.0}  # noqa: E731
    return {"metric": "macro_f1", "best": check(best_step, 0.9), "last": check(last_step, 0.7),
            "used": used, "stopped_early": stopped, "early_stopping_patience": 2 if stopped else None}


def test_no_validation_prints_nothing():
    assert checkpoint_line(None) is None
    assert checkpoint_line({"metric": "macro_f1", "best": None, "last": None, "used": "last"}) is None


def test_best_before_last_names_both_steps():
    line = checkpoint_line(_validation("best", 20, 40))
    assert "best validation checkpoint: step 20 (epoch 2, macro_f1 0.9000)" in line
    assert "last was step 40" in line


def test_last_is_best():
    assert "last step, also the best" in checkpoint_line(_validation("best", 40, 40))


def test_load_best_off_and_early_stop_said():
    line = checkpoint_line(_validation("last", 20, 40, stopped=True))
    assert "train.load_best=false" in line and "best was step 20" in line
    assert "stopped early (patience 2)" in line
