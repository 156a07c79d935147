"""torchrun: two CPU processes (gloo) train one run; rank 0 alone evaluates and writes."""

import json
import os
import subprocess
import sys

from conftest import REPO, tiny_overrides
from core.data import load_data
from core.distributed import local_device, run_stamp, to_local_device
from core.pipeline import Plugins, evaluate
from core.runs import load_run, load_with_adapter


def test_run_stamp_is_the_launchers_start_time_under_torchrun(monkeypatch):
    run_stamp.cache_clear()
    monkeypatch.setenv("WORLD_SIZE", "2")
    try:
        from core.distributed import STAMP_FORMAT, _process_start_time
        import time

        expected = time.strftime(STAMP_FORMAT, time.localtime(_process_start_time(os.getppid())))
        assert run_stamp() == expected
    finally:
        run_stamp.cache_clear()


def test_models_go_to_this_ranks_gpu_when_there_is_one(monkeypatch):
    import torch
    from omegaconf import OmegaConf

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert local_device() == torch.device("cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setenv("LOCAL_RANK", "3")
    assert local_device() == torch.device("cuda", 3)

    moved = []

    class Model:
        def to(self, device):
            moved.append(device)
            return self

    to_local_device(Model(), OmegaConf.create({"quantization": "none"}))
    to_local_device(Model(), OmegaConf.create({"quantization": "4bit"}))  # bitsandbytes placed it: not moved
    assert moved == [torch.device("cuda", 3)]


def test_torchrun_two_processes_one_run_dir_rank0_outputs(tiny_model, tiny_data, tmp_path):
    runs = tmp_path / "runs"
    command = [
        sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--standalone",
        "-m", "core", *tiny_overrides(tiny_model, *tiny_data), "train.threads=1",
        f"hydra.run.dir={runs}/${{plugtune_stamp:}}",
    ]
    env = {**os.environ, "PLUGTUNE_PROGRESS": "0", "OMP_NUM_THREADS": "1"}
    result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    run_dirs = list(runs.iterdir())
    assert len(run_dirs) == 1, f"ranks disagreed on the run dir: {run_dirs}"
    run_dir = run_dirs[0]
    assert (run_dir / "results.json").is_file() and (run_dir / "adapter" / "adapter_config.json").is_file()
    assert result.stdout.count("run directory:") == 1  # only rank 0 printed the summary
    results = json.loads((run_dir / "results.json").read_text())
    # DDP splits each epoch: 40 rows, batch 8, 2 epochs are 10 steps in one process, 6 on 2 ranks.
    steps = max(row["step"] for row in json.loads((run_dir / "train_log.json").read_text()))
    assert steps == 6

    # Evaluate the saved adapter in this single process: the same metrics as rank 0 reported.
    ctx, head = load_run(run_dir)
    model = load_with_adapter(ctx, head)
    data = load_data(ctx.cfg, Plugins.resolve(ctx.cfg).data_format)
    predictions = head.predict(ctx, model, head.encode(ctx, data.eval), data.eval, "finetuned")
    metrics, _ = evaluate(Plugins.resolve(ctx.cfg).evaluators, predictions, ctx)
    for name, value in results["metrics"]["finetuned"].items():
        assert metrics[name] == value, name


def test_deepspeed_and_fsdp_pass_through_or_fail_in_one_line(tmp_path, monkeypatch):
    import pytest
    import torch

    from core.errors import PlugtuneError
    from core.testing import compose_config
    from core.training import engine_kwargs

    assert engine_kwargs(compose_config().train) == {}
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert engine_kwargs(compose_config(["train.fsdp=full_shard auto_wrap"]).train) == {"fsdp": "full_shard auto_wrap"}
    with pytest.raises(PlugtuneError, match="train.deepspeed: .*nope.json is not a file"):
        engine_kwargs(compose_config([f"train.deepspeed={tmp_path / 'nope.json'}"]).train)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(PlugtuneError, match="train.fsdp needs CUDA GPUs and this machine has none"):
        engine_kwargs(compose_config(["train.fsdp=full_shard"]).train)


def test_train_gradient_checkpointing_reaches_the_trainer_without_a_deprecation_warning(tmp_path):
    import warnings

    from core.kinds import RunContext
    from core.testing import compose_config
    from core.training import training_arguments

    for value in (True, False):
        ctx = RunContext(cfg=compose_config([f"train.gradient_checkpointing={str(value).lower()}"]), run_dir=tmp_path)
        with warnings.catch_warnings():
            warnings.simplefilter("error", FutureWarning)
            args = training_arguments(ctx, str(tmp_path / "out"))
        assert args.gradient_checkpointing is value
