"""Requests for an export or a server that cannot be met are one line before any model loads."""

import importlib.metadata
import importlib.util

import pytest
from omegaconf import OmegaConf

from core.errors import PlugtuneError
from core.export import check_request
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


def test_a_near_miss_quantization_is_named():
    with pytest.raises(PlugtuneError, match=r"quantization=q4_km: unknown \(did you mean q4_k_m\?\)"):
        check_request(GENERATION, "gguf", "q4_km")
