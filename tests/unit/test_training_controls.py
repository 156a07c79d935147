"""train.precision, the save/eval strategies, save_total_limit and core.export's checkpoint=N
argument, checked without loading a model: the Trainer arguments they turn into, and the
one-line refusals (before anything loads)."""

from pathlib import Path

import pytest
from omegaconf import OmegaConf

from core import PlugtuneError
from core.kinds import RunContext
from core.testing import compose_config
from core.validate import check_values


@pytest.fixture(scope="module")
def default_config():
    return compose_config()


def with_overrides(cfg, overrides: list[str]):
    return OmegaConf.merge(cfg, OmegaConf.from_dotlist(overrides))


@pytest.fixture
def machine(monkeypatch):
    """Pretend to be a machine: ``machine("cpu", native_bf16=False)`` or ``machine("gpu", bf16=True)``."""
    import torch

    import core.training

    def pretend(kind: str, native_bf16: bool = False, bf16: bool = True):
        monkeypatch.setattr(torch.cuda, "is_available", lambda: kind == "gpu")
        monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: bf16)
        monkeypatch.setattr(core.training, "cpu_has_native_bf16", lambda: native_bf16)
        monkeypatch.setattr("core.speedups.cpu_bf16.cpu_has_amx", lambda: native_bf16)

    return pretend


def kwargs_for(cfg, tmp_path, **extra):
    from core.training import training_kwargs

    return training_kwargs(RunContext(cfg=cfg, run_dir=tmp_path), str(tmp_path / "checkpoints"), **extra)


# --- train.precision ---------------------------------------------------------------------------

@pytest.mark.parametrize("kind,native,gpu_bf16,cpu_bf16,precision,expected", [
    # auto: today's behaviour
    ("gpu", False, True, "false", "auto", "bf16"),
    ("gpu", False, False, "false", "auto", "fp16"),
    ("cpu", False, True, "false", "auto", "fp32"),
    ("cpu", True, True, "auto", "auto", "bf16"),
    ("cpu", False, True, "true", "auto", "bf16"),  # forced by the speed-up, as before
    # precision wins over train.speedups.cpu_bf16 when not auto
    ("gpu", False, True, "false", "fp32", "fp32"),
    ("cpu", True, True, "true", "fp32", "fp32"),
    ("cpu", True, True, "false", "bf16", "bf16"),
    ("gpu", False, True, "false", "bf16", "bf16"),
    ("gpu", False, True, "false", "fp16", "fp16"),
])
def test_precision_decides_the_autocast(default_config, tmp_path, machine, kind, native, gpu_bf16, cpu_bf16,
                                        precision, expected):
    """Fails before the change: train.precision was read by nothing (fp32 on a GPU ran bf16)."""
    machine(kind, native_bf16=native, bf16=gpu_bf16)
    cfg = with_overrides(default_config, [f"train.precision={precision}", f"train.speedups.cpu_bf16={cpu_bf16}"])
    kwargs = kwargs_for(cfg, tmp_path)
    ran = "bf16" if kwargs["bf16"] else "fp16" if kwargs["fp16"] else "fp32"
    assert ran == expected
    assert not (kwargs["bf16"] and kwargs["fp16"])


@pytest.mark.parametrize("kind,native,gpu_bf16,precision,message", [
    ("cpu", False, True, "fp16",
     "train.precision=fp16: needs a CUDA GPU; this machine has none (use train.precision=fp32 or auto)"),
    ("cpu", True, True, "fp16",
     "train.precision=fp16: needs a CUDA GPU; this machine has none (use train.precision=fp32 or auto)"),
    ("cpu", False, True, "bf16",
     "train.precision=bf16: this CPU has no native bf16 (AMX or AVX512-BF16), where bf16 runs slower than fp32 "
     "(use train.precision=fp32 or auto)"),
    ("gpu", False, False, "bf16",
     "train.precision=bf16: this GPU has no bf16 support (use train.precision=fp16, fp32 or auto)"),
])
def test_precision_the_machine_cannot_run_is_one_line_before_anything_loads(default_config, machine, kind, native,
                                                                             gpu_bf16, precision, message):
    """Fails before the change: nothing checked train.precision."""
    machine(kind, native_bf16=native, bf16=gpu_bf16)
    with pytest.raises(PlugtuneError) as info:
        check_values(with_overrides(default_config, [f"train.precision={precision}"]))
    assert str(info.value) == message


def test_native_bf16_is_amx_or_avx512_bf16(monkeypatch, tmp_path):
    from core import training

    monkeypatch.setattr(training, "cpu_has_amx", lambda: False)
    monkeypatch.setattr(training, "CPUINFO", tmp_path / "cpuinfo")
    (tmp_path / "cpuinfo").write_text("flags\t\t: fpu sse avx512f avx512_bf16 avx512_vnni\n")
    assert training.cpu_has_native_bf16()
    (tmp_path / "cpuinfo").write_text("flags\t\t: fpu sse avx512f avx512_vnni\n")
    assert not training.cpu_has_native_bf16()
    monkeypatch.setattr(training, "cpu_has_amx", lambda: True)
    assert training.cpu_has_native_bf16()


# --- save and eval strategies ------------------------------------------------------------------

@pytest.mark.parametrize("overrides,expected", [
    ([], {"save_strategy": "steps", "save_steps": 50, "save_total_limit": 2}),  # the defaults, as before
    (["train.save_strategy=epoch"], {"save_strategy": "epoch", "save_total_limit": 2}),
    (["train.save_strategy='no'"], {"save_strategy": "no"}),  # quoted: from_dotlist reads a bare no as false
    (["train.save_steps=null"], {"save_strategy": "no"}),  # save_steps null: never, as before
    (["train.save_total_limit=null"], {"save_total_limit": None}),  # keep all
    (["train.save_total_limit=5", "train.save_steps=7"], {"save_steps": 7, "save_total_limit": 5}),
])
def test_save_strategy_and_limit(default_config, tmp_path, machine, overrides, expected):
    """Fails before the change: save_total_limit was fixed at 2, save_strategy read by nothing."""
    machine("cpu")
    kwargs = kwargs_for(with_overrides(default_config, overrides), tmp_path)
    assert {k: kwargs[k] for k in expected} == expected


@pytest.mark.parametrize("overrides,expected", [
    ([], {"eval_strategy": "no"}),
    (["train.eval_steps=3"], {"eval_strategy": "steps", "eval_steps": 3}),  # eval_steps alone: steps, as before
    (["train.eval_strategy=epoch"], {"eval_strategy": "epoch"}),
    (["train.eval_strategy=steps", "train.eval_steps=4"], {"eval_strategy": "steps", "eval_steps": 4}),
    (["train.eval_strategy=steps", "train.logging_steps=6"], {"eval_strategy": "steps", "eval_steps": 6}),
    (["train.eval_strategy='no'", "train.eval_steps=3"], {"eval_strategy": "steps", "eval_steps": 3}),
])
def test_eval_strategy_with_an_eval_split(default_config, tmp_path, machine, overrides, expected):
    """Fails before the change: only the sft trainer evaluated, and only with eval_steps."""
    machine("cpu")
    cfg = with_overrides(default_config, overrides)
    kwargs = kwargs_for(cfg, tmp_path, with_eval=True)
    assert {k: kwargs[k] for k in expected} == expected
    if expected["eval_strategy"] != "no":
        assert kwargs["prediction_loss_only"] and kwargs["per_device_eval_batch_size"] == cfg.train.eval_batch_size
    assert kwargs_for(cfg, tmp_path)["eval_strategy"] == "no"  # no eval split with references: no eval loss


def test_eval_rows_are_those_with_something_to_score():
    """The hf trainer's eval split: classification rows with a label, generation rows with answer tokens."""
    from plugins.hf_trainer import rows_with_labels

    rows = [{"input_ids": [1], "labels": 0}, {"input_ids": [2], "labels": -100},
            {"input_ids": [3], "completion_mask": [0, 1]}, {"input_ids": [4], "completion_mask": [0, 0]}]
    assert [r["input_ids"] for r in rows_with_labels(rows)] == [[1], [3]]


# --- validation --------------------------------------------------------------------------------

@pytest.mark.parametrize("overrides,message", [
    (["train.loss_on=all"],  # the default task is intent: seq_cls
     "train.loss_on=all: task.head=seq_cls predicts a label and has no text to train; "
     "loss_on applies to causal_lm tasks only (drop train.loss_on=all)"),
    (["train.save_total_limit=0"],
     "train.save_total_limit=0: must be null (keep every checkpoint) or an integer >= 1"),
])
def test_refusals_are_one_line(default_config, overrides, message):
    """Fails before the change: both were accepted (the second would make the Trainer keep nothing)."""
    with pytest.raises(PlugtuneError) as info:
        check_values(with_overrides(default_config, overrides))
    assert str(info.value) == message


def test_strategies_outside_the_schema_are_checked(default_config):
    """A config built without the schema (a saved config, a plugin's) still gets its strategies checked."""
    cfg = OmegaConf.create(OmegaConf.to_container(default_config, enum_to_str=True))
    cfg.train.save_strategy = "epochs"
    cfg.train.eval_strategy = "always"
    with pytest.raises(PlugtuneError) as info:
        check_values(cfg)
    message = str(info.value)
    assert "train.save_strategy=epochs: must be one of steps, epoch, no" in message
    assert "train.eval_strategy=always: must be null (epoch with a validation split, else no) or one of steps, epoch, no" in message and "\n" not in message


def test_loss_on_all_passes_for_generation(default_config):
    check_values(with_overrides(default_config, ["task.head=causal_lm", "train.loss_on=all"]))


# --- core.export checkpoint=N ------------------------------------------------------------------

def fake_run(root: Path, steps: list[int]) -> Path:
    (root / ".hydra").mkdir(parents=True)
    (root / ".hydra" / "config.yaml").write_text("seed: 1\n")
    for step in steps:
        (root / "checkpoints" / f"checkpoint-{step}").mkdir(parents=True)
        (root / "checkpoints" / f"checkpoint-{step}" / "adapter_config.json").write_text("{}")
    return root


def test_export_of_a_missing_checkpoint_lists_those_kept(tmp_path):
    """Fails before the change: core.export took no checkpoint= argument."""
    from core.export import checkpoint_adapter

    run_dir = fake_run(tmp_path / "run", [12, 6])
    assert checkpoint_adapter(run_dir, "6") == run_dir / "checkpoints" / "checkpoint-6"
    with pytest.raises(PlugtuneError) as info:
        checkpoint_adapter(run_dir, "7")
    assert str(info.value) == f"checkpoint=7: {run_dir}/checkpoints has no checkpoint-7; kept: 6, 12"
    with pytest.raises(PlugtuneError) as info:
        checkpoint_adapter(run_dir, "last")
    assert str(info.value) == "checkpoint=last: must be a step number, one of the kept checkpoints: 6, 12"


def test_export_of_a_run_that_kept_no_checkpoints_says_how_to_keep_them(tmp_path):
    from core.export import checkpoint_adapter

    run_dir = fake_run(tmp_path / "run", [])
    with pytest.raises(PlugtuneError) as info:
        checkpoint_adapter(run_dir, "7")
    assert str(info.value) == (
        f"checkpoint=7: {run_dir} kept no checkpoints (they are deleted once the adapter is saved); "
        "train with train.keep_checkpoints=true to keep them")


def test_a_reopened_run_gets_the_labels_and_files_it_ran_with(tmp_path):
    """Classification on an own file takes its labels from the file at run time, after Hydra
    saved the composed config: the run's config.yaml (written once the data is read) has them;
    a run without one gets them from results.json, and its files resolved as the run resolved them."""
    import json

    from omegaconf import OmegaConf

    from core.runs import run_labels, saved_config

    run_dir = fake_run(tmp_path / "run", [4])
    assert run_labels(run_dir) == []
    (run_dir / "results.json").write_text(json.dumps({"config": {"task": {"labels": ["b", "c", "d"]}}}))
    assert run_labels(run_dir) == ["b", "c", "d"]
    composed = compose_config(["task=qa"])
    (run_dir / ".hydra").mkdir(exist_ok=True)
    (run_dir / ".hydra" / "config.yaml").write_text(OmegaConf.to_yaml(composed))
    cfg = saved_config(run_dir)
    assert cfg.data.train_path.endswith("qa/train.json") and cfg.task.system_prompt  # the shipped set's
    assert list(cfg.task.labels) == ["b", "c", "d"]
    composed.task.labels = ["x"]
    (run_dir / "config.yaml").write_text(OmegaConf.to_yaml(composed))
    assert list(saved_config(run_dir).task.labels) == ["x"]


@pytest.mark.parametrize("precision,expected", [("auto", "bfloat16"), ("fp32", "float32"), ("bf16", "bfloat16"),
                                                ("fp16", "float16")])
def test_model_dtype_auto_follows_the_precision_on_a_gpu(machine, precision, expected):
    """Fails before the change: model.dtype=auto loaded bf16 weights on a GPU even for an fp32 run."""
    import torch

    from core.heads import resolve_dtype

    machine("gpu", bf16=True)
    assert resolve_dtype("auto", precision) == getattr(torch, expected)
    assert resolve_dtype("float32", "bf16") == torch.float32  # an explicit dtype stays
    machine("cpu")
    assert resolve_dtype("auto", precision) == torch.float32
