"""Running under torchrun: run stamps, devices and launcher settings (no processes started)."""

import os

from core.distributed import local_device, run_stamp, to_local_device


def test_run_stamp_is_the_launchers_start_time_under_torchrun(monkeypatch):
    run_stamp.cache_clear()
    monkeypatch.setenv("WORLD_SIZE", "2")
    try:
        from core.distributed import STAMP_FORMAT, _process_start_time
        import time

        expected = time.strftime(STAMP_FORMAT, time.localtime(_process_start_time(os.getppid())))
        assert run_stamp().startswith(expected + ".")
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
