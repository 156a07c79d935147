"""Prompt templates reach each other by name (``core.lookup``), not by importing each other."""

from __future__ import annotations

from omegaconf import OmegaConf

from core import Example, RenderedPrompt, hookimpl, lookup
from core.testing import inline_plugin
from plugins.chat_template import AutoTemplate
from plugins.instruction_templates import load_template_file

ROW = Example(
    messages=[{"role": "user", "content": "q\n\nctx"}, {"role": "assistant", "content": "a"}],
    fields={"instruction": "q", "input": "ctx", "output": "a"},
)
TASK = OmegaConf.create({"system_prompt": None})


class NoChatTemplate:
    eos_token = "</s>"
    chat_template = None


def test_auto_without_a_chat_template_renders_exactly_as_alpaca():
    auto = lookup("prompt_template", "auto").render(ROW, NoChatTemplate(), TASK)
    alpaca = lookup("prompt_template", "alpaca").render(ROW, NoChatTemplate(), TASK)
    assert auto == alpaca
    assert auto.text == "### Instruction:\nq\n\n### Input:\nctx\n\n### Response:\na</s>"


def test_auto_falls_back_to_whatever_is_registered_under_its_fallback_name():
    class Marked:
        def render(self, example, tokenizer, task_cfg):
            return RenderedPrompt(prompt="marked", answer=None)

    class Plugin:
        @hookimpl
        def register_prompt_templates(self, register):
            register("marked", Marked())

    auto = AutoTemplate(lookup("prompt_template", "chat"), fallback="marked")
    with inline_plugin(Plugin()):
        assert auto.render(ROW, NoChatTemplate(), TASK).prompt == "marked"


def test_a_file_template_with_a_jinja_chat_template_is_the_chat_template_using_it(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text('chat_template: "{% for m in messages %}<{{ m.role }}>{{ m.content }}{% endfor %}"\n')
    loaded = load_template_file(path)
    chat = lookup("prompt_template", "chat")
    assert type(loaded) is type(chat) and loaded is not chat
    assert loaded.chat_template == "{% for m in messages %}<{{ m.role }}>{{ m.content }}{% endfor %}"
    assert chat.chat_template is None
