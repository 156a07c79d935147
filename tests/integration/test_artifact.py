"""What an export carries for inference (core.artifact) and the Ollama template (core.gguf_export)
lay inputs out exactly as plugtune's own templates do; the converter is told the right pre-tokenizer."""

import pytest
from omegaconf import OmegaConf

from core.artifact import frame_tokenizer, input_frame, turn_layout_template, with_default_system
from core.gguf_export import KNOWN_SPLIT_PATTERNS, adds_bos, fill_ollama_template, ollama_template, pre_tokenizer_name
from core.testing import embedded_tokenizer
from core.types import Example
from plugins.chat_template import ChatTemplate
from plugins.instruction_templates import ALPACA, INSTRUCTION_RESPONSE, PLAIN, TurnTemplate

CONVERSATION = [
    {"role": "system", "content": "你是客服。"},
    {"role": "user", "content": "怎么退款？"},
    {"role": "assistant", "content": "在订单页点退款。"},
    {"role": "user", "content": "多久到账 {braces} \"quotes\"?"},
]


@pytest.fixture(scope="module")
def tokenizer():
    return embedded_tokenizer()


def render_jinja(tokenizer, template: str, messages, generation_prompt=True) -> str:
    return tokenizer.apply_chat_template(messages, chat_template=template, tokenize=False,
                                         add_generation_prompt=generation_prompt)


@pytest.mark.parametrize("layout", [ALPACA, PLAIN, INSTRUCTION_RESPONSE], ids=lambda t: t.name)
@pytest.mark.parametrize("with_system", [True, False])
def test_an_instruction_layout_becomes_a_chat_template_that_renders_the_same_text(tokenizer, layout, with_system):
    messages = CONVERSATION if with_system else CONVERSATION[1:]
    task = OmegaConf.create({"system_prompt": None})
    template = turn_layout_template(layout, tokenizer.eos_token)
    # The generation prompt (a conversation ending on the user) and the whole trained text.
    expected_prompt = layout.render(Example(messages=messages), tokenizer, task).prompt
    assert render_jinja(tokenizer, template, messages) == expected_prompt
    answered = [*messages, {"role": "assistant", "content": "一到三天。"}]
    assert render_jinja(tokenizer, template, answered, False) == layout.render(Example(messages=answered), tokenizer, task).text


def test_a_file_layout_with_its_own_suffix_and_separator_too(tokenizer):
    layout = TurnTemplate(name="mine", prompt="<|user|>{instruction}\n<|bot|>", system="[{system}]\n",
                          answer_suffix="<|end|>{eos}", separator="\n---\n")
    template = turn_layout_template(layout, tokenizer.eos_token)
    task = OmegaConf.create({"system_prompt": None})
    answered = [*CONVERSATION, {"role": "assistant", "content": "一到三天。"}]
    assert render_jinja(tokenizer, template, answered, False) == layout.render(Example(messages=answered), tokenizer, task).text


def test_the_default_system_prompt_goes_first_only_when_the_conversation_has_none(tokenizer):
    template = with_default_system(tokenizer.chat_template, "你是会议助手。")
    bare = render_jinja(tokenizer, template, [{"role": "user", "content": "开会"}])
    assert "你是会议助手。" in bare and "You are a helpful AI assistant" not in bare
    own = render_jinja(tokenizer, template, [{"role": "system", "content": "别的"}, {"role": "user", "content": "开会"}])
    assert "别的" in own and "你是会议助手。" not in own
    # And it renders what the run's chat template rendered with task.system_prompt set.
    task = OmegaConf.create({"system_prompt": "你是会议助手。"})
    expected = ChatTemplate().render(Example(messages=[{"role": "user", "content": "开会"}]), tokenizer, task).prompt
    assert bare == expected


@pytest.mark.parametrize("fmt, system", [("{text}\nIntent:", None), ("用户说：{text}\n意图：", "分类客户消息。"), ("{text}", None)])
def test_the_tokenizer_frames_a_raw_message_as_the_run_did(tokenizer, fmt, system):
    import copy

    cfg = OmegaConf.create({"task": {"input_format": fmt, "system_prompt": system}})
    before, after = input_frame(cfg)
    framed = copy.deepcopy(tokenizer)
    frame_tokenizer(framed, before, after)
    for text in ["我的卡丢了", "refund my order #123 please", "余额多少？ 100元"]:
        run_text = fmt.replace("{text}", text) if not system else f"{system}\n" + fmt.replace("{text}", text)
        assert framed(text)["input_ids"] == tokenizer(run_text)["input_ids"], text


GEMMA_TEMPLATE = OmegaConf.load("conf/model/gemma3-270m.yaml").chat_template


@pytest.mark.parametrize("chat_template", [None, GEMMA_TEMPLATE], ids=["smollm2", "gemma3"])
def test_the_ollama_template_lays_out_an_exchange_as_the_training_template(tokenizer, chat_template):
    template = with_default_system(chat_template or tokenizer.chat_template, "从标题中提取商品名。")
    go = ollama_template(tokenizer, template)
    bos = tokenizer.bos_token if adds_bos(tokenizer) else ""
    for system in ("从标题中提取商品名。", None):
        messages = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": "小米 蓝牙耳机"}]
        answered = [*messages, {"role": "assistant", "content": "蓝牙耳机"}]
        expected = render_jinja(tokenizer, template, answered, False)
        filled = fill_ollama_template(go, system, "小米 蓝牙耳机", "蓝牙耳机")
        assert bos + filled == expected


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
