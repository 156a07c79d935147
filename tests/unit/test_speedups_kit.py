"""The training kit: one ordered list of units, each switchable by name and documented."""

import dataclasses
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from core import speedups
from core.speedups.config import LEGACY_KEYS, SpeedupsConfig, rename_legacy_overrides, settings

DOCS = Path(__file__).resolve().parents[2] / "docs" / "speed.md"


def test_every_switchable_unit_has_exactly_one_setting_and_a_docs_section():
    switchable = [u.name for u in speedups.UNITS if u.switchable]
    assert sorted(switchable) == sorted(f.name for f in dataclasses.fields(SpeedupsConfig))
    text = DOCS.read_text(encoding="utf-8")
    for unit in speedups.UNITS:
        assert unit.summary and unit.requires, unit.name
        if unit.switchable:
            assert f"train.speedups.{unit.name}" in text, f"docs/speed.md does not say how to switch {unit.name}"


def test_the_mixins_compose_in_the_declared_order():
    class Base:
        pass

    composed = speedups.trainer_class(Base)
    mixins = [u.mixin() for u in speedups.UNITS if u.mixin is not None]
    mro = composed.__mro__
    assert [mro.index(m) for m in mixins] == sorted(mro.index(m) for m in mixins)
    assert mro.index(mixins[-1]) < mro.index(Base)
    # cpu_bf16's autocast must wrap answer_logits' loss: it comes first.
    assert mixins[0].__name__ == "CpuBf16" and mixins[1].__name__ == "AnswerLogits"


def test_configure_switches_units_by_name():
    cfg = OmegaConf.create({"train": {"epochs": 3, "max_steps": -1, "packing": False, "speedups": {
        "frozen_block_cache": "false", "freeze_schedule": [2, 1], "compile": True, "answer_logits": False}}})
    trainer = type("T", (), {})()
    speedups.configure(trainer, cfg)
    assert (trainer.cache_frozen_layers, trainer.top_layers_per_epoch, trainer.compile_blocks, trainer.answer_logits) == (
        False, [2, 1], True, False)
    trainer.model = None
    reported = speedups.report(trainer)
    assert reported["freeze_schedule"] == {"active": True, "schedule": [2, 1], "setting": [2, 1]}
    assert reported["frozen_block_cache"]["setting"] == "false" and reported["compile"]["setting"] is True
    cfg.train.speedups.frozen_block_cache = "auto"
    speedups.configure(trainer, cfg)
    assert trainer.cache_frozen_layers is True  # auto: more than one epoch


@pytest.mark.parametrize("key, value, says", [
    ("frozen_block_cache", "sometimes", "train.speedups.frozen_block_cache: 'sometimes' is not one of auto, true, false"),
    ("cpu_bf16", "maybe", "train.speedups.cpu_bf16: 'maybe' is not one of auto, true, false"),
    ("freeze_schedule", [1, 2], r"train.speedups.freeze_schedule: \[1, 2\] rises"),
])
def test_a_bad_setting_is_one_line_before_anything_loads(key, value, says):
    from core.errors import PlugtuneError

    cfg = OmegaConf.create({"train": {"speedups": {key: value}}})
    with pytest.raises(PlugtuneError, match=says):
        speedups.check(cfg)


def test_older_keys_are_renamed_on_the_command_line_and_read_from_saved_configs():
    assert rename_legacy_overrides(["train.compile=true", "+train.cpu_bf16=auto", "train.lr=1e-3",
                                    "train.top_layers_per_epoch=[4,2]"]) == [
        "train.speedups.compile=true", "+train.speedups.cpu_bf16=auto", "train.lr=1e-3",
        "train.speedups.freeze_schedule=[4,2]"]
    saved = OmegaConf.create({"train": {"cache_frozen_layers": "false", "top_layers_per_epoch": [12, 6],
                                        "compile": True, "cpu_bf16": "auto"}})
    assert OmegaConf.to_container(settings(saved)) == {**dataclasses.asdict(SpeedupsConfig()), "frozen_block_cache": "false",
                                                       "freeze_schedule": [12, 6], "compile": True, "cpu_bf16": "auto"}
    assert set(LEGACY_KEYS.values()) <= {f"train.speedups.{f.name}" for f in dataclasses.fields(SpeedupsConfig)}


def test_the_composed_config_accepts_older_keys(monkeypatch):
    from core.testing import compose_config

    cfg = compose_config(["train.compile=true", "train.cache_frozen_layers=false"])
    assert cfg.train.speedups.compile is True and str(cfg.train.speedups.frozen_block_cache).lower() == "false"
    assert "compile" not in cfg.train


def test_report_names_every_reporting_unit_even_on_a_bare_trainer():
    bare = type("T", (), {"model": None})()
    reported = speedups.report(bare)
    assert set(reported) == {u.name for u in speedups.UNITS if u.report is not None}
    assert all(entry["active"] is False for entry in reported.values())


def test_the_config_check_covers_the_kits_settings():
    """``core.validate.check_values`` (run by the CLI before anything loads) checks train.speedups too."""
    from core.errors import PlugtuneError
    from core.testing import compose_config
    from core.validate import check_values

    check_values(compose_config([]))
    with pytest.raises(PlugtuneError, match="train.speedups.cpu_bf16: 'maybe' is not one of auto, true, false"):
        check_values(compose_config(["train.speedups.cpu_bf16=maybe"]))
