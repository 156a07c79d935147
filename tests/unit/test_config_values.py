"""Config values are checked when the config is composed, before any model or data loads.

``core.validate.check_values`` runs in ``python -m core`` (train and inspect) before anything is
read; a bad value is one line naming the key, the value and what is allowed (the CLI's exit 2 is
checked in tests/integration/test_config_values.py).
"""

import ast
import importlib.util
import re
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from core import PlugtuneError
from core.config import PlugtuneConfig
from core.testing import compose_config
from core.validate import SCHEDULERS, check_values

REPO = Path(__file__).resolve().parents[2]
CONF = REPO / "conf"
OPTIONS = [(g.name, f.stem) for g in sorted(CONF.iterdir()) if g.is_dir() and g.name in {"task", "model", "peft", "train"}
           for f in sorted(g.glob("*.yaml"))]

# override -> (what the message starts with: key=value, what it says is allowed)
BAD = {
    "train.lr=-1e-3": ("train.lr=-0.001", "> 0"),
    "train.lr=0": ("train.lr=0.0", "> 0"),
    "train.batch_size=0": ("train.batch_size=0", ">= 1"),
    "train.eval_batch_size=0": ("train.eval_batch_size=0", ">= 1"),
    "train.grad_accum=0": ("train.grad_accum=0", ">= 1"),
    "train.epochs=0": ("train.epochs=0.0", "train.max_steps"),
    "train.epochs=-1": ("train.epochs=-1.0", "> 0"),
    "train.max_steps=0": ("train.max_steps=0", "-1"),
    "train.warmup=-0.1": ("train.warmup=-0.1", ">= 0"),
    "train.weight_decay=-1": ("train.weight_decay=-1.0", ">= 0"),
    "train.logging_steps=0": ("train.logging_steps=0", ">= 1"),
    "train.save_steps=0": ("train.save_steps=0", "null"),
    "train.eval_steps=-5": ("train.eval_steps=-5", "null"),
    "train.threads=0": ("train.threads=0", "null"),
    "train.scheduler=cosin": ("train.scheduler=cosin", "cosine_with_restarts"),
    "data.max_train_rows=0": ("data.max_train_rows=0", "null"),
    "data.max_eval_rows=-3": ("data.max_eval_rows=-3", "null"),
    "data.vary_arguments_until=-1": ("data.vary_arguments_until=-1", "0 (off)"),
    "peft.r=0": ("peft.r=0", ">= 1"),
    "peft.alpha=0": ("peft.alpha=0", "> 0"),
    "peft.dropout=1": ("peft.dropout=1.0", "0 <= "),
    "peft.dropout=-0.1": ("peft.dropout=-0.1", "0 <= "),
    "peft.top_layers=0": ("peft.top_layers=0", "null"),
    "peft.bias=some": ("peft.bias=some", "none, all, lora_only"),
    "peft.target_modules=[]": ("peft.target_modules=[]", "null"),
    "model.dtype=fp16": ("model.dtype=fp16", "auto, float32, bfloat16, float16"),
    "model.quantization=4-bit": ("model.quantization=4-bit", "none, 4bit, 8bit"),
    "model.target_modules=[]": ("model.target_modules=[]", "at least one"),
    "task.max_length=0": ("task.max_length=0", ">= 1"),
    "generation.max_new_tokens=0": ("generation.max_new_tokens=0", ">= 1"),
    "seed=-1": ("seed=-1", ">= 0"),
}


@pytest.fixture(scope="module")
def default_config():
    return compose_config()


def with_overrides(cfg, overrides: list[str]):
    """``cfg`` with dotlist overrides merged in (typed by the schema; faster than composing again)."""
    return OmegaConf.merge(cfg, OmegaConf.from_dotlist(overrides))


@pytest.mark.parametrize("override", sorted(BAD))
def test_bad_value_is_one_line_naming_key_value_and_what_is_allowed(default_config, override):
    starts, allowed = BAD[override]
    with pytest.raises(PlugtuneError) as info:
        check_values(with_overrides(default_config, [override]))
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(starts + ": "), message
    assert allowed in message, message


def test_every_bad_value_is_named_at_once(default_config):
    with pytest.raises(PlugtuneError) as info:
        check_values(with_overrides(default_config, ["train.lr=-1", "train.batch_size=0"]))
    message = str(info.value)
    assert "train.lr=-1.0" in message and "train.batch_size=0" in message and "\n" not in message


@pytest.mark.parametrize("group,option", OPTIONS, ids=[f"{g}={o}" for g, o in OPTIONS])
def test_every_shipped_option_passes(group, option):
    check_values(compose_config([f"{group}={option}"]))


@pytest.mark.parametrize("overrides", [
    ["train.epochs=0", "train.max_steps=5"],  # max_steps decides: epochs are not read
    ["train.epochs=0.5"],
    ["data.max_train_rows=null", "data.max_eval_rows=1"],
    ["data.vary_arguments_until=0"],
    ["peft.dropout=0", "peft.target_modules=null", "train.warmup=0", "train.save_steps=null"],
    ["model.dtype=auto", "model.quantization=4bit", "peft.bias=lora_only", "seed=0"],
    *([f"train.scheduler={name}"] for name in SCHEDULERS),
])
def test_good_values_pass(default_config, overrides):
    check_values(with_overrides(default_config, overrides))


def test_composed_overrides_are_checked_as_merged_ones():
    with pytest.raises(PlugtuneError, match=r"^train\.lr=-0\.001: must be > 0"):
        check_values(compose_config(["train.lr=-1e-3"]))


def test_schedulers_are_transformers_names():
    """SCHEDULERS is transformers' SchedulerType, read from its source (importing it takes ~10 s)."""
    spec = importlib.util.find_spec("transformers")
    source = Path(spec.submodule_search_locations[0], "trainer_utils.py").read_text(encoding="utf-8")
    cls = next(node for node in ast.walk(ast.parse(source))
               if isinstance(node, ast.ClassDef) and node.name == "SchedulerType")
    names = [node.value.value for node in cls.body
             if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)]
    assert names and set(SCHEDULERS) == set(names)


def schema_keys(node=None, prefix=""):
    node = OmegaConf.structured(PlugtuneConfig) if node is None else node
    for key in node.keys():
        child = node._get_node(key)
        if OmegaConf.is_dict(child):
            yield from schema_keys(child, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}"


def test_every_schema_key_is_read():
    """A key nothing reads is a setting that silently does nothing (peft.method, model.notes were)."""
    readers = [p for d in ("core", "plugins") for p in (REPO / d).rglob("*.py")
               if p.name not in {"config.py", "config_docs.py", "validate.py"}]
    source = "\n".join(p.read_text(encoding="utf-8") for p in readers)
    unread = [key for key in schema_keys()
              if not re.search(rf"\.{re.escape(key.rsplit('.', 1)[-1])}\b|['\"]{re.escape(key.rsplit('.', 1)[-1])}['\"]", source)]
    assert not unread, f"schema keys read by nothing: {unread}"


def test_removed_keys_are_gone_and_model_files_compose():
    keys = set(schema_keys())
    assert "peft.method" not in keys and "model.notes" not in keys
    for path in sorted((CONF / "model").glob("*.yaml")):
        assert "notes" not in OmegaConf.load(path), path


def test_plain_text_values_need_no_quotes_on_the_command_line():
    """Hydra's grammar refuses unquoted Chinese text and punctuation (a LexerNoViableAltException
    with no hint): such values are quoted for it; values it reads, and flags, stay as typed."""
    from core.validate import quote_plain_text

    args = ["data.instruction=请回答星河云盘用户的问题。", "task.system_prompt=你是客服,请简短回答", "train.lr=1e-3",
            "'data.mix=[1,0.3]'", "data.mix=[1,0.3]", "--cfg", "job", "task.system_prompt=it's"]
    assert quote_plain_text(args) == [
        "data.instruction='请回答星河云盘用户的问题。'", "task.system_prompt='你是客服,请简短回答'", "train.lr=1e-3",
        "'data.mix=[1,0.3]'", "data.mix=[1,0.3]", "--cfg", "job", "task.system_prompt=it's"]
    cfg = compose_config(quote_plain_text(["task=qa", "data.instruction=请回答星河云盘用户的问题。"]))
    assert cfg.data.instruction == "请回答星河云盘用户的问题。"
