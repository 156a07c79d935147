"""Every option of every config group composes against the schema; bad values fail clearly."""

from pathlib import Path

import pytest
from omegaconf import OmegaConf

from core.shipped_data import resolve_data_paths
from core.testing import compose_config

CONF = Path(__file__).resolve().parents[2] / "conf"
GROUPS = sorted(p.name for p in CONF.iterdir() if p.is_dir() and not p.name.startswith("_"))
OPTIONS = [(g, f.stem) for g in GROUPS for f in sorted((CONF / g).glob("*.yaml"))]


def test_groups_found():
    assert {"task", "model", "peft", "train"} <= set(GROUPS)
    assert len(OPTIONS) >= 10


@pytest.mark.parametrize("group,option", OPTIONS, ids=[f"{g}={o}" for g, o in OPTIONS])
def test_every_option_composes(group, option):
    cfg = compose_config([f"{group}={option}"])
    container = OmegaConf.to_container(cfg, resolve=True)  # every interpolation resolves
    assert container["task"]["name"]
    assert container["model"]["name"]
    if group == "model":
        assert cfg.model.name == option


def test_defaults_are_intent_on_embedded_model():
    cfg = compose_config()
    resolve_data_paths(cfg)
    assert cfg.task.name == "intent"
    assert cfg.model.name == "smollm2-135m"
    assert Path(cfg.data.train_path).is_file()
    assert Path(cfg.data.eval_path).is_file()


def test_contract_overrides_apply():
    cfg = compose_config(
        ["train.epochs=3", "train.lr=0.01", "train.batch_size=4", "peft.r=4", "peft.alpha=8",
         "peft.target_modules=[q_proj,k_proj]", "seed=7", "data.train_path=/x.jsonl", "data.eval_path=/y.jsonl"]
    )
    assert (cfg.train.epochs, cfg.train.lr, cfg.train.batch_size) == (3, 0.01, 4)
    assert (cfg.peft.r, cfg.peft.alpha, list(cfg.peft.target_modules)) == (4, 8, ["q_proj", "k_proj"])
    assert (cfg.seed, cfg.data.train_path, cfg.data.eval_path) == (7, "/x.jsonl", "/y.jsonl")


def test_wrong_type_is_rejected():
    with pytest.raises(Exception, match="train.epochs"):
        compose_config(["train.epochs=many"])


def test_typo_key_is_rejected():
    with pytest.raises(Exception, match="lrr"):
        compose_config(["train.lrr=0.1"])
