"""Resume after SIGKILL, and determinism."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.checkpoints import latest_checkpoint
from core.pipeline import run
from core.testing import REPO, compose_config, tiny_intent_data, tiny_overrides


def test_same_seed_and_config_give_the_same_metrics(tiny_model, tiny_data, tmp_path):
    cfg = compose_config(tiny_overrides(tiny_model, *tiny_data))
    first, second = run(cfg, tmp_path / "a"), run(cfg, tmp_path / "b")
    assert first["metrics"] == second["metrics"]
    assert (tmp_path / "a/predictions.jsonl").read_text() == (tmp_path / "b/predictions.jsonl").read_text()


def test_the_sft_trainers_batch_order_depends_on_seed_and_epoch_only(tiny_model, tmp_path):
    """Both trainers share the replayable order; the sft one is checked here, hf end to end below."""
    import torch

    from core.kinds import RunContext
    from core.types import Example
    from plugins.causal_lm import CausalLmHead
    from plugins.sft_trainer import SftTrainer

    cfg = compose_config(["task=qa", "train.batch_size=2", "model.source=local", f"model.path={tiny_model}"])
    ctx = RunContext(cfg=cfg, run_dir=tmp_path, model_dir=str(tiny_model))
    head = CausalLmHead()
    model = head.load(ctx)
    examples = [Example(messages=[{"role": "user", "content": "word " * n}, {"role": "assistant", "content": "ok"}])
                for n in range(1, 17)]
    rows = head.encode(ctx, examples)

    def order(epoch: int) -> list[int]:
        torch.rand(7)  # whatever the global RNG went through before must not matter
        sampler = SftTrainer().build(ctx, model, head, rows)._get_train_sampler()
        sampler.set_epoch(epoch)
        return list(sampler)

    assert sorted(order(1)) == list(range(16))
    assert order(1) == order(1)
    assert order(1) != order(2)


def start_cli(args: list[str]) -> subprocess.Popen:
    env = {**os.environ, "PLUGTUNE_PROGRESS": "0"}
    return subprocess.Popen([sys.executable, "-m", "core", *args], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def run_to_end(args: list[str]) -> None:
    finished = subprocess.run([sys.executable, "-m", "core", *args], cwd=REPO, capture_output=True, text=True,
                              env={**os.environ, "PLUGTUNE_PROGRESS": "0"})
    assert finished.returncode == 0, finished.stderr


def checkpoint_step(run_dir: Path) -> int:
    latest = latest_checkpoint(run_dir)
    return int(latest.name.split("-")[1]) if latest else 0


@pytest.mark.parametrize("settings", [
    ["train.group_by_length=true"],
    ["train.group_by_length=false"],
    # The resumed second epoch has to freeze block 1 again before its first step.
    ["train.group_by_length=true", "train.speedups.freeze_schedule=[2,1]"],
], ids=["grouped", "random", "freeze-schedule"])
def test_sigkill_in_a_later_epoch_then_rerun_resumes_to_the_same_metrics(tiny_model, tmp_path, settings):
    train, eval_ = tiny_intent_data(tmp_path / "data", per_label=40)  # 200 rows: 25 steps an epoch
    args = tiny_overrides(tiny_model, train, eval_) + [
        "train.epochs=3", "train.save_steps=10", "train.logging_steps=5", *settings]
    killed_dir, clean_dir = tmp_path / "killed", tmp_path / "clean"

    # Killed after step 30, i.e. mid-way through the second epoch: the resumed run has to skip
    # the batches of that epoch already trained and replay the order of the epochs around it.
    process = start_cli([*args, f"hydra.run.dir={killed_dir}"])
    deadline = time.time() + 600
    while checkpoint_step(killed_dir) < 30:
        assert process.poll() is None, "the run ended before it could be killed:\n" + process.stdout.read()
        assert time.time() < deadline, "no checkpoint-30 after 600 s"
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    killed_at = latest_checkpoint(killed_dir).name
    assert killed_at in ("checkpoint-30", "checkpoint-40"), killed_at  # second epoch: steps 26-50
    assert not (killed_dir / "results.json").exists() and not (killed_dir / "adapter").exists()

    run_to_end([*args, f"hydra.run.dir={killed_dir}"])
    run_to_end([*args, f"hydra.run.dir={clean_dir}"])

    resumed_results = json.loads((killed_dir / "results.json").read_text())
    clean_results = json.loads((clean_dir / "results.json").read_text())
    assert resumed_results["train"]["resumed_from"].endswith(killed_at)
    assert clean_results["train"]["resumed_from"] is None
    for model in ("baseline", "finetuned"):
        for name, value in clean_results["metrics"][model].items():
            assert resumed_results["metrics"][model][name] == pytest.approx(value, abs=1e-6), (model, name)
    probabilities = lambda d: [json.loads(l)["probability"] for l in (d / "predictions.jsonl").read_text().splitlines()]  # noqa: E731
    assert probabilities(killed_dir) == pytest.approx(probabilities(clean_dir), abs=1e-4)
    assert not (killed_dir / "checkpoints").exists()  # removed once the adapter is saved
