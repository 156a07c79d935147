"""The embedded model's conversion, and chat layouts read from a model's own tokenizer."""

import json

import pytest

from core import PlugtuneError
from core.models import embedded_model_dir
from core.testing import compose_config


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


def test_chat_layout_from_the_model_config(tiny_model):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from core.models import give_chat_layout

    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    model = AutoModelForCausalLM.from_pretrained(tiny_model)
    own_template = tokenizer.chat_template
    cfg = compose_config(["model=gemma3-270m"]).model
    cfg.stop_tokens = ["<|im_end|>"]
    give_chat_layout(cfg, tokenizer, model)
    assert tokenizer.chat_template == own_template  # a tokenizer's own template wins
    assert model.generation_config.eos_token_id == sorted({tokenizer.eos_token_id, tokenizer.convert_tokens_to_ids("<|im_end|>")})
    tokenizer.chat_template = None
    give_chat_layout(cfg, tokenizer, model)
    assert tokenizer.chat_template == cfg.chat_template
    cfg.stop_tokens = ["<end_of_turn>"]  # not in this vocabulary
    with pytest.raises(PlugtuneError, match="model.stop_tokens: '<end_of_turn>' is not a token"):
        give_chat_layout(cfg, tokenizer, model)


def test_gemma_template_puts_the_system_prompt_in_the_first_user_turn(tiny_model):
    from transformers import AutoTokenizer

    template = compose_config(["model=gemma3-270m"]).model.chat_template
    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    bos = tokenizer.bos_token or ""
    messages = [{"role": "system", "content": "S"}, {"role": "user", "content": "静音"},
                {"role": "assistant", "content": '{"tool_name":"MUTE_ALL","parameters":{}}'}]
    text = tokenizer.apply_chat_template(messages, tokenize=False, chat_template=template)
    assert text == (f'{bos}<start_of_turn>user\nS\n\n静音<end_of_turn>\n'
                    '<start_of_turn>model\n{"tool_name":"MUTE_ALL","parameters":{}}<end_of_turn>\n')
    prompt = tokenizer.apply_chat_template(messages[1:2], tokenize=False, add_generation_prompt=True, chat_template=template)
    assert prompt == f"{bos}<start_of_turn>user\n静音<end_of_turn>\n<start_of_turn>model\n"
    call = {"type": "function", "function": {"name": "MUTE_ALL", "arguments": {}}}
    calls = tokenizer.apply_chat_template([messages[1], {"role": "assistant", "content": None, "tool_calls": [call]}],
                                          tokenize=False, chat_template=template)
    assert json.loads(calls.split("<start_of_turn>model\n")[1].split("<end_of_turn>")[0]) == {"tool_calls": [call]}
