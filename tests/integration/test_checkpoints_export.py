"""Keeping checkpoints, the save/eval strategies on both trainers, core.export checkpoint=N,
train.precision in results.json and model.trust_remote_code, on the tiny model."""

import json
import logging
import shutil

import pytest

from core import PlugtuneError
from core.testing import compose_config, run_cli, run_tiny_chat, tiny_overrides


@pytest.fixture(scope="module")
def chat_run(tiny_model, tmp_path_factory):
    """task=chat (causal_lm, sft trainer), 6 rows of batch 4: 2 steps an epoch, 2 epochs."""
    run_dir, _, _, _ = run_tiny_chat(tmp_path_factory.mktemp("keep"), tiny_model, "train.lr=5e-3",
                                     "train.keep_checkpoints=true", "train.save_strategy=epoch",
                                     "train.eval_strategy=epoch")
    return run_dir


def eval_losses(run_dir) -> list[dict]:
    return [row for row in json.loads((run_dir / "train_log.json").read_text()) if "eval_loss" in row]


def test_kept_checkpoints_and_eval_loss_per_epoch_with_the_sft_trainer(chat_run):
    """Fails before the change: checkpoints were deleted, saved every 50 steps, eval only with eval_steps."""
    assert sorted(p.name for p in (chat_run / "checkpoints").glob("checkpoint-*")) == ["checkpoint-2", "checkpoint-4"]
    assert [row["epoch"] for row in eval_losses(chat_run)] == [1.0, 2.0]


def test_export_of_a_kept_checkpoint_loads_in_plain_transformers(chat_run):
    """Fails before the change: core.export took no checkpoint= argument."""
    import torch
    from transformers import AutoModelForCausalLM

    from core.runs import load_run, load_with_adapter

    result = run_cli("core.export", f"run_dir={chat_run}", "checkpoint=2")
    assert result.returncode == 0, result.stderr[-3000:]
    out = chat_run / "merged-checkpoint-2"
    assert f"merged model written to {out}" in result.stdout
    assert (out / "config.json").is_file() and not (out / "adapter_config.json").exists()

    merged = AutoModelForCausalLM.from_pretrained(out).eval()  # no peft involved
    ctx, head = load_run(chat_run)
    ids = torch.tensor([ctx.tokenizer("蓝牙耳机 降噪 保温杯", add_special_tokens=False)["input_ids"]])
    with torch.no_grad():
        logits = merged(input_ids=ids).logits
        at_checkpoint = load_with_adapter(ctx, head, chat_run / "checkpoints" / "checkpoint-2")(input_ids=ids).logits
        final = load_with_adapter(ctx, head)(input_ids=ids).logits
    assert torch.allclose(logits, at_checkpoint, atol=1e-5)
    assert not torch.allclose(logits, final, atol=1e-3)


def test_export_of_a_checkpoint_not_kept_is_one_line(chat_run):
    result = run_cli("core.export", f"run_dir={chat_run}", "checkpoint=3")
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: checkpoint=3: {chat_run}/checkpoints has no checkpoint-3; kept: 2, 4"


def test_classification_eval_loss_limit_and_precision(tiny_model, tiny_data, tmp_path):
    """task=intent (seq_cls, hf trainer): 40 rows of batch 8, 5 steps an epoch.

    Fails before the change: the hf trainer computed no eval loss, kept 2 checkpoints (and the
    pipeline deleted them), and train.speedups.cpu_bf16=true trained in bf16 whatever
    train.precision said."""
    run_dir = tmp_path / "run"
    result = run_cli("core", *tiny_overrides(tiny_model, *tiny_data), "train.eval_strategy=epoch",
                     "train.save_strategy=epoch", "train.save_total_limit=1", "train.keep_checkpoints=true",
                     "train.precision=fp32", "train.speedups.cpu_bf16=true", f"hydra.run.dir={run_dir}")
    assert result.returncode == 0, result.stderr[-3000:]
    assert [row["epoch"] for row in eval_losses(run_dir)] == [1.0, 2.0]
    assert all(row["eval_loss"] > 0 for row in eval_losses(run_dir))
    assert [p.name for p in (run_dir / "checkpoints").glob("checkpoint-*")] == ["checkpoint-10"]
    results = json.loads((run_dir / "results.json").read_text())
    assert results["train"]["precision"] == "fp32"
    assert not results["train"]["speedups"]["cpu_bf16"]["active"]
    log = (run_dir / "plugtune.log").read_text()
    assert "train.keep_checkpoints=true: checkpoint-10 kept in" in log


CUSTOM_CONFIG = '''from transformers import Qwen2Config


class CustomConfig(Qwen2Config):
    model_type = "plugtune-custom-qwen2"
'''
CUSTOM_MODEL = '''from transformers import Qwen2ForCausalLM

from .configuration_custom import CustomConfig


class CustomForCausalLM(Qwen2ForCausalLM):
    config_class = CustomConfig
'''


@pytest.fixture
def remote_code_model(tiny_model, tmp_path):
    """The tiny model as a folder that ships its own code (auto_map), as Qwen-1.8B does."""
    folder = tmp_path / "custom-model"
    shutil.copytree(tiny_model, folder)
    (folder / "configuration_custom.py").write_text(CUSTOM_CONFIG)
    (folder / "modeling_custom.py").write_text(CUSTOM_MODEL)
    config = json.loads((folder / "config.json").read_text())
    config.update(model_type="plugtune-custom-qwen2", architectures=["CustomForCausalLM"], auto_map={
        "AutoConfig": "configuration_custom.CustomConfig", "AutoModelForCausalLM": "modeling_custom.CustomForCausalLM"})
    (folder / "config.json").write_text(json.dumps(config))
    return folder


def remote_code_context(folder, tmp_path, trusted: bool):
    from core.kinds import RunContext

    cfg = compose_config(["task=chat", "model.source=local", f"model.path={folder}",
                          f"model.trust_remote_code={str(trusted).lower()}"])
    return RunContext(cfg=cfg, run_dir=tmp_path, model_dir=str(folder))


def test_trust_remote_code_reaches_every_load_and_is_logged_once(remote_code_model, tmp_path, caplog):
    """Fails before the change: the setting was read by nothing, so such a model could not load."""
    from plugins.causal_lm import CausalLmHead

    ctx = remote_code_context(remote_code_model, tmp_path, trusted=True)
    with caplog.at_level(logging.WARNING, logger="plugtune"):
        model = CausalLmHead().load(ctx)
    assert type(model.get_base_model()).__name__ == "CustomForCausalLM"
    notes = [r.getMessage() for r in caplog.records if "trust_remote_code" in r.getMessage()]
    assert notes == [f"model {ctx.cfg.model.name}: trust_remote_code=true: running the model's own code from {remote_code_model}"]


def test_a_model_with_its_own_code_needs_trust_remote_code(remote_code_model, tmp_path):
    from plugins.causal_lm import CausalLmHead

    ctx = remote_code_context(remote_code_model, tmp_path, trusted=False)
    with pytest.raises(PlugtuneError) as info:
        head = CausalLmHead()
        head.load_tokenizer(ctx)
        head.load_base(ctx)
    message = str(info.value)
    assert "\n" not in message and "ships its own model code" in message and "model.trust_remote_code=true" in message


def test_a_run_killed_after_an_epoch_checkpoint_resumes_from_it(tiny_model, tiny_data, tmp_path):
    """save_strategy=epoch with resume (core/checkpoints.py): 40 rows of batch 8, 5 steps an epoch."""
    from core.pipeline import run

    cfg = compose_config(tiny_overrides(tiny_model, *tiny_data) + [
        "train.save_strategy=epoch", "train.keep_checkpoints=true", "train.save_total_limit=null"])
    run_dir = tmp_path / "run"
    whole = run(cfg, run_dir)
    assert sorted(p.name for p in (run_dir / "checkpoints").glob("checkpoint-*")) == ["checkpoint-10", "checkpoint-5"]
    # As if killed during the second epoch: only the first epoch's checkpoint, no result.
    shutil.rmtree(run_dir / "checkpoints" / "checkpoint-10")
    (run_dir / "results.json").unlink()
    resumed = run(cfg, run_dir)
    assert resumed["train"]["resumed_from"].endswith("checkpoint-5")
    assert resumed["train"]["examples_this_process"] == 40
    assert resumed["metrics"] == whole["metrics"]


def test_fp16_without_cuda_is_refused_on_the_command_line_before_anything_loads(tiny_model, tiny_data, tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA: fp16 runs here")
    result = run_cli("core", *tiny_overrides(tiny_model, *tiny_data), "train.precision=fp16",
                     f"hydra.run.dir={tmp_path / 'run'}")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "error: train.precision=fp16: needs a CUDA GPU; this machine has none (use train.precision=fp32 or auto)")
    assert not (tmp_path / "run" / "fingerprint.json").exists()  # refused before training set anything up
