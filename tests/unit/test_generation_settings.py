"""generation.*: one set of decoding settings, mapped onto transformers' GenerationConfig; the
old ``task.max_new_tokens`` still works; bad values are one line each. No model is loaded."""

from __future__ import annotations

import dataclasses
import logging

import pytest
from omegaconf import OmegaConf

from core.config import GenerationConfig
from core.errors import PlugtuneError
from core.testing import compose_config


def test_greedy_is_the_default_and_sets_no_sampling_flags():
    from core.generation import generation_config, settings

    gen = generation_config(settings(compose_config(["task=chat"])), stop_ids=[5, 7], pad_token_id=0)
    assert gen.do_sample is False and gen.max_new_tokens == 24  # conf/task/chat.yaml's value
    assert gen.eos_token_id == [5, 7] and gen.pad_token_id == 0
    assert gen.repetition_penalty == 1.0 and gen.no_repeat_ngram_size == 0
    # Sampling-only flags stay unset: transformers warns about them under greedy decoding.
    assert gen.temperature is None and gen.top_p is None and gen.top_k is None


def test_sampling_settings_map_one_to_one():
    from core.generation import generation_config, settings

    cfg = compose_config(["generation.do_sample=true", "generation.temperature=0.7", "generation.top_p=0.9",
                          "generation.top_k=40", "generation.repetition_penalty=1.2",
                          "generation.no_repeat_ngram_size=3", "generation.max_new_tokens=50"])
    gen = generation_config(settings(cfg), stop_ids=[2], pad_token_id=1)
    assert (gen.do_sample, gen.temperature, gen.top_p, gen.top_k, gen.repetition_penalty,
            gen.no_repeat_ngram_size, gen.max_new_tokens) == (True, 0.7, 0.9, 40, 1.2, 3, 50)
    gen.validate(strict=True)  # nothing transformers would warn about
    # top_k=null means no limit: 0, not transformers' default of 50 nor the model's own value.
    no_limit = generation_config(settings(compose_config(["generation.do_sample=true"])), stop_ids=[2], pad_token_id=1)
    assert no_limit.top_k == 0 and no_limit.temperature == 1.0 and no_limit.top_p == 1.0


def test_seed_is_the_generation_seed_else_the_runs():
    from core.generation import settings

    assert settings(compose_config(["seed=5"])).seed == 5
    assert settings(compose_config(["seed=5", "generation.seed=9"])).seed == 9


def test_a_saved_config_from_before_the_generation_node_reads_the_old_key():
    from core.generation import settings

    saved = OmegaConf.create({"seed": 3, "task": {"name": "chat", "max_new_tokens": 12}})
    assert OmegaConf.to_container(settings(saved)) == {**dataclasses.asdict(GenerationConfig()), "max_new_tokens": 12,
                                                       "seed": 3}
    # A newer config's generation node wins over anything under task.
    both = OmegaConf.create({"seed": 3, "task": {"max_new_tokens": 12}, "generation": {"max_new_tokens": 30}})
    assert settings(both).max_new_tokens == 30


def test_the_old_key_is_renamed_on_the_command_line(caplog):
    from core.config import LEGACY_KEYS, rename_legacy_overrides

    with caplog.at_level(logging.INFO, logger="plugtune"):
        assert rename_legacy_overrides(["task.max_new_tokens=8", "+task.max_new_tokens=9", "train.compile=true",
                                        "task.max_length=64"]) == [
            "generation.max_new_tokens=8", "+generation.max_new_tokens=9", "train.speedups.compile=true",
            "task.max_length=64"]
    assert "task.max_new_tokens is now generation.max_new_tokens" in caplog.text
    # The speed-up kit's own table holds only its keys; the general one holds everything.
    from core.speedups.config import LEGACY_KEYS as KIT_KEYS

    assert not any(new.startswith("generation.") for new in KIT_KEYS.values())
    assert KIT_KEYS.items() <= LEGACY_KEYS.items()
    assert compose_config(["task.max_new_tokens=8"]).generation.max_new_tokens == 8


@pytest.mark.parametrize("override,message", [
    ("generation.temperature=0", "generation.temperature=0.0: must be > 0"),
    ("generation.top_p=0", "generation.top_p=0.0: must be > 0 and <= 1"),
    ("generation.top_p=1.5", "generation.top_p=1.5: must be > 0 and <= 1"),
    ("generation.top_k=0", "generation.top_k=0: must be null (no limit) or an integer >= 1"),
    ("generation.repetition_penalty=0", "generation.repetition_penalty=0.0: must be > 0"),
    ("generation.no_repeat_ngram_size=-1", "generation.no_repeat_ngram_size=-1: must be an integer >= 0"),
    ("generation.seed=-1", "generation.seed=-1: must be null (the run's seed) or an integer >= 0 and < 2**32"),
    ("generation.seed=4294967296", "generation.seed=4294967296: must be null (the run's seed) or an integer >= 0 and < 2**32"),
])
def test_bad_values_are_one_line_naming_the_key(override, message):
    from core.validate import check_values

    with pytest.raises(PlugtuneError) as caught:
        check_values(compose_config([override]))
    text = str(caught.value)
    assert "\n" not in text and text.startswith(message), text


def test_good_values_pass():
    from core.validate import check_values

    check_values(compose_config(["generation.do_sample=true", "generation.temperature=0.01", "generation.top_p=1",
                                 "generation.top_k=1", "generation.repetition_penalty=0.5",
                                 "generation.no_repeat_ngram_size=0", "generation.seed=4294967295"]))


def test_bad_chat_setting_is_one_line():
    from core.chat import generation_overrides

    cfg = OmegaConf.create({"seed": 1, "generation": {"max_new_tokens": 4}})
    with pytest.raises(PlugtuneError) as caught:
        generation_overrides(cfg, {"temperature": "0"})
    assert str(caught.value) == "generation.temperature=0.0: must be > 0 (below 1 sharper, above 1 flatter)"
    with pytest.raises(PlugtuneError) as caught:
        generation_overrides(cfg, {"top_k": "many"})
    assert str(caught.value).startswith("top_k=many: ") and "\n" not in str(caught.value)
    # Good ones apply, by short name; seed=null is the run's seed.
    gen = generation_overrides(cfg, {"temperature": "0.7", "do_sample": "true", "seed": "null", "top_k": "40"})
    assert (gen.temperature, gen.do_sample, gen.seed, gen.top_k, gen.max_new_tokens) == (0.7, True, 1, 40, 4)
