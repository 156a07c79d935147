"""Requests for an export or a server that cannot be met are one line before any model loads."""

import importlib.metadata
import importlib.util

import pytest
from omegaconf import OmegaConf

from core.errors import PlugtuneError
from core.export import check_request
from core.gguf_export import KNOWN_SPLIT_PATTERNS, pre_tokenizer_name
from core.serve import check_port_free, require_server_packages

GENERATION = OmegaConf.create({"task": {"head": "causal_lm"}})
CLASSIFIER = OmegaConf.create({"task": {"head": "seq_cls"}})


def test_quantizations_are_listed_checked_and_lower_cased():
    assert check_request(GENERATION, "gguf", None) == ["f16"]
    assert check_request(GENERATION, "gguf", "Q8_0, f16,q8_0") == ["q8_0", "f16"]
    assert check_request(GENERATION, "merged", None) == []
    with pytest.raises(PlugtuneError, match=r"quantization=q9: unknown; choose one of f32, f16, bf16, q8_0, q4_0"):
        check_request(GENERATION, "gguf", "q9")
    with pytest.raises(PlugtuneError, match="only format=gguf is quantized"):
        check_request(GENERATION, "merged", "q8_0")
    with pytest.raises(PlugtuneError, match="format=safetensors: unknown; choose one of merged, gguf"):
        check_request(GENERATION, "safetensors", None)


def test_a_classifier_is_pointed_to_the_merged_export():
    with pytest.raises(PlugtuneError, match=r"format=gguf: .* this run is a classifier; export it with format=merged"):
        check_request(CLASSIFIER, "gguf", "q8_0")


def test_missing_llama_cpp_names_the_extra(monkeypatch):
    def not_installed(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "version", not_installed)
    with pytest.raises(PlugtuneError, match=r'needs llama-cpp-python .*pip install "plugtune\[gguf\]"'):
        check_request(GENERATION, "gguf", "f16")


def test_missing_server_packages_name_the_extra(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "uvicorn" else real(name, *a))
    with pytest.raises(PlugtuneError, match=r'core.serve needs uvicorn: pip install "plugtune\[serve\]"'):
        require_server_packages()


def test_a_taken_port_is_one_line():
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(PlugtuneError, match=f"port={port}: cannot listen on 127.0.0.1:{port}"):
            check_port_free("127.0.0.1", port)


def test_the_pre_tokenizer_is_named_from_the_split_pattern(tmp_path):
    import json

    from core.testing import embedded_tokenizer

    embedded_tokenizer().save_pretrained(tmp_path)
    assert pre_tokenizer_name(tmp_path) == "gpt-2"  # the embedded SmolLM2 tokenizer: byte-level, GPT-2's pattern
    data = json.loads((tmp_path / "tokenizer.json").read_text())
    data["pre_tokenizer"] = {"type": "Sequence", "pretokenizers": [
        {"type": "Split", "pattern": {"Regex": next(iter(KNOWN_SPLIT_PATTERNS))}, "behavior": "Isolated", "invert": False},
        {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}]}
    (tmp_path / "tokenizer.json").write_text(json.dumps(data))
    assert pre_tokenizer_name(tmp_path) == "qwen2"  # a Qwen2 tokenizer's pattern
    data["pre_tokenizer"] = {"type": "Whitespace"}
    (tmp_path / "tokenizer.json").write_text(json.dumps(data))
    assert pre_tokenizer_name(tmp_path) == "-"  # unknown: the converter's own refusal stands


def test_a_near_miss_quantization_is_named():
    with pytest.raises(PlugtuneError, match=r"quantization=q4_km: unknown \(did you mean q4_k_m\?\)"):
        check_request(GENERATION, "gguf", "q4_km")
