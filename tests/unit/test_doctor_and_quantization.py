"""QLoRA's fail-fast on CPU: the quantization setting is checked before anything loads."""

import pytest
import torch

from core.errors import PlugtuneError
from core.models import check_quantization
from core.testing import compose_config


def test_quantization_needs_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    for choice in ("4bit", "8bit"):
        with pytest.raises(PlugtuneError, match=f"model.quantization={choice} needs a CUDA GPU .* run with model.quantization=none"):
            check_quantization(compose_config([f"model.quantization={choice}"]).model)
    check_quantization(compose_config().model)  # none: nothing to check
    with pytest.raises(PlugtuneError, match="'3bit' is not one of none, 4bit, 8bit"):
        check_quantization(compose_config(["model.quantization=3bit"]).model)
