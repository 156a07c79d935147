"""The prompt template is resolved once and handed to the head as ``RunContext.template``."""

from __future__ import annotations

import pytest
from omegaconf import OmegaConf

from core import Example, PlugtuneError, RenderedPrompt, lookup
from core.kinds import RunContext
from core.pipeline import Plugins
from core.testing import compose_config
from plugins.causal_lm import CausalLmHead
from plugins.seq_cls import SeqClsHead

EXAMPLES = [Example(messages=[{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}], label="a",
                    source="x:1")]


class RecordingTemplate:
    """A template that marks what it renders, so the test sees which template the head used."""

    def __init__(self):
        self.rendered = 0

    def render(self, example, tokenizer, task_cfg):
        self.rendered += 1
        return RenderedPrompt(prompt="<<hi>>", answer="yo")


class CharTokenizer:
    """One id per character; enough of a tokenizer for the heads' encode."""

    is_fast = True

    def __call__(self, text, add_special_tokens=True, return_offsets_mapping=False, truncation=False, max_length=None):
        if isinstance(text, list):
            rows = [self(t, truncation=truncation, max_length=max_length) for t in text]
            return {key: [r[key] for r in rows] for key in ("input_ids", "attention_mask")}
        ids = [ord(c) for c in text][: max_length if truncation else None]
        out = {"input_ids": ids, "attention_mask": [1] * len(ids)}
        if return_offsets_mapping:
            out["offset_mapping"] = [(i, i + 1) for i in range(len(ids))]
        return out


def context(template) -> RunContext:
    # No template of this name is registered: a head that looked the name up would fail.
    cfg = OmegaConf.create({"task": {"prompt_template": "not_registered", "max_length": 64},
                            "generation": {"max_new_tokens": 8}, "train": {"loss_on": "answer"},
                            "model": {"name": "stub"}})
    return RunContext(cfg=cfg, run_dir=None, labels=["a"], tokenizer=CharTokenizer(), template=template)


@pytest.mark.parametrize("head", [SeqClsHead(), CausalLmHead()], ids=["seq_cls", "causal_lm"])
def test_heads_render_with_the_template_in_the_context(head):
    template = RecordingTemplate()
    rows = head.encode(context(template), EXAMPLES)
    assert template.rendered == 1
    assert [chr(i) for i in rows[0]["input_ids"][:6]] == list("<<hi>>")


@pytest.mark.parametrize("head", [SeqClsHead(), CausalLmHead()], ids=["seq_cls", "causal_lm"])
def test_without_a_template_the_head_looks_the_name_up(head):
    with pytest.raises(PlugtuneError, match="unknown prompt_template 'not_registered'"):
        head.encode(context(None), EXAMPLES)


def test_the_pipeline_resolves_the_configured_template():
    cfg = compose_config(["task=qa"])
    assert Plugins.resolve(cfg).template is lookup("prompt_template", cfg.task.prompt_template)
