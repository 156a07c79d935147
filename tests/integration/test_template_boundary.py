"""The trained span starts exactly where generation starts, for every registered prompt template.

For each template the registry holds (a new one is covered without touching this file) and each
real tokenizer (the two embedded models' and the tiny test model's), the causal_lm head's rows
must satisfy: the generation prompt's ids are a prefix of the training ids, the token right after
them (the first answer token) carries a label, and the trained tokens are exactly the template's
answer spans. ``plain``'s prompt ends in a space that whole-text tokenisation merged into the first
answer token, which then lay outside the span and was never trained.
"""

from __future__ import annotations

import pytest

from core import Example, PlugtuneError, lookup
from core.heads import load_tokenizer
from core.kinds import RunContext
from core.models import resolve_model_dir
from core.registry import get_registry
from core.testing import compose_config
from plugins.causal_lm import CausalLmHead

EXAMPLES = {
    "with_input": Example(
        messages=[{"role": "user", "content": "Summarise the sentence\n\nThe app supports five devices."},
                  {"role": "assistant", "content": "Five devices at most."}],
        fields={"instruction": "Summarise the sentence", "input": "The app supports five devices."},
        source="mem:1",
    ),
    "no_input": Example(
        messages=[{"role": "user", "content": "What is the capital of France?"},
                  {"role": "assistant", "content": "Paris."}],
        source="mem:2",
    ),
    "multi_turn": Example(
        messages=[
            {"role": "system", "content": "You are a support agent."},
            {"role": "user", "content": "How much space is free?"},
            {"role": "assistant", "content": "15 GB."},
            {"role": "user", "content": "And the largest file?"},
            {"role": "assistant", "content": "4 GB per file."},
        ],
        source="mem:3",
    ),
    "chinese": Example(
        messages=[{"role": "user", "content": "免费版有多少空间？"}, {"role": "assistant", "content": "最多 15 GB。"}],
        source="mem:4",
    ),
}

FORMAT_FILE = (  # a prompt that ends in a space, like plain's: the hard case
    'system: "{system}\\n"\n'
    'prompt: "Q: {instruction}{input_block}\\nA: "\n'
    'input_block: " ({input})"\n'
    'answer_suffix: "{eos}"\n'
    'separator: "\\n"\n'
)
JINJA_FILE = (
    "chat_template: \"{% for m in messages %}[{{ m['role'] }}] {{ m['content'] }}\\n{% endfor %}"
    "{% if add_generation_prompt %}[assistant] {% endif %}\"\n"
)


@pytest.fixture(scope="module", params=["smollm2-135m", "gemma3-270m", "tiny"])
def tokenizer(request, tmp_path_factory):
    if request.param == "tiny":
        model_dir = request.getfixturevalue("tiny_model")
    else:
        model_dir = resolve_model_dir(compose_config([f"model={request.param}"]).model)
    return load_tokenizer(str(model_dir))


def template_cases(tmp_path) -> list[tuple[str, str | None]]:
    """(registered name, template file) for every registered prompt template; ``file`` once per kind of file."""
    cases = []
    for name in sorted(get_registry().names("prompt_template")):
        if name == "file":
            for kind, body in (("format", FORMAT_FILE), ("jinja", JINJA_FILE)):
                path = tmp_path / f"{kind}.yaml"
                path.write_text(body, encoding="utf-8")
                cases.append((name, str(path)))
        else:
            cases.append((name, None))
    return cases


def context(tokenizer, template: str, template_file: str | None, loss_on: str = "answer") -> RunContext:
    overrides = ["task=qa", "task.max_length=1024", f"task.prompt_template={template}", f"train.loss_on={loss_on}"]
    if template_file:
        overrides.append(f"task.template_file={template_file}")
    cfg = compose_config(overrides)
    return RunContext(cfg=cfg, run_dir=None, tokenizer=tokenizer, template=lookup("prompt_template", template))


def trained_text(tokenizer, ids: list[int], mask: list[int]) -> str:
    """The trained tokens' text, each run of consecutive trained tokens decoded whole (a character
    can span several byte tokens)."""
    runs, run = [], []
    for token, trained in [*zip(ids, mask), (None, 0)]:
        if trained:
            run.append(token)
        elif run:
            runs.append(tokenizer.decode(run))
            run = []
    return "".join(runs)


def test_every_template_trains_from_where_generation_starts(tokenizer, tmp_path):
    head = CausalLmHead()
    checked, expected = set(), set()
    for name, template_file in template_cases(tmp_path):
        if name in ("chat", "auto") and not getattr(tokenizer, "chat_template", None):
            continue  # auto falls back to alpaca, checked on its own
        expected.add(name)
        ctx = context(tokenizer, name, template_file)
        for label, example in EXAMPLES.items():
            case = f"{name} {template_file or ''} {label} ({tokenizer.name_or_path})"
            try:
                rendered = ctx.template.render(example, tokenizer, ctx.cfg.task)
            except PlugtuneError:
                continue  # a layout this template refuses (checked elsewhere)
            [row] = head.encode(ctx, [example])
            ids, mask, prompt = row["input_ids"], row["completion_mask"], row["prompt_ids"]
            assert ids[: len(prompt)] == prompt, f"{case}: generation prompt is not a prefix of the training ids"
            first = tokenizer.decode(ids[len(prompt)])
            assert mask[len(prompt)] == 1, f"{case}: first answer token {first!r} is not trained"
            text = rendered.text or rendered.prompt + rendered.answer
            spans = rendered.train_spans or [(len(rendered.prompt), len(text))]
            assert tokenizer.decode(ids) == text, case
            assert trained_text(tokenizer, ids, mask) == "".join(text[a:b] for a, b in spans), case
            checked.add(name)
    assert checked == expected  # every template rendered at least one of the examples
    assert {"alpaca", "plain", "file", "text", "instruction_response"} <= checked


def test_plain_trains_the_first_answer_token(tokenizer):
    ctx = context(tokenizer, "plain", None)
    [row] = CausalLmHead().encode(ctx, [EXAMPLES["no_input"]])
    first = len(row["prompt_ids"])
    assert tokenizer.decode(row["input_ids"][first:]).startswith("Paris.")
    assert row["completion_mask"][first] == 1
    assert tokenizer.decode(row["prompt_ids"]) == "Instruction: What is the capital of France?\nAnswer: "


def test_instruction_response_is_the_business_qa_tutorials_layout(tokenizer):
    """The business Q&A tutorial builds ``<s>### Instruction:\\n{instruction}\\n### Response:\\n{response}</s>``."""
    ctx = context(tokenizer, "instruction_response", None)
    template = ctx.template
    rendered = template.render(EXAMPLES["no_input"], tokenizer, ctx.cfg.task)
    assert rendered.text == "<s>### Instruction:\nWhat is the capital of France?\n### Response:\nParis.</s>"
    assert rendered.prompt == "<s>### Instruction:\nWhat is the capital of France?\n### Response:\n"
    assert [rendered.text[a:b] for a, b in rendered.train_spans] == ["Paris.</s>"]
    with_input = template.render(EXAMPLES["with_input"], tokenizer, ctx.cfg.task)
    assert with_input.text == ("<s>### Instruction:\nSummarise the sentence\nThe app supports five devices.\n"
                               "### Response:\nFive devices at most.</s>")


def test_chat_rows_keep_the_model_templates_own_ids(tokenizer):
    """Cutting at the answer spans changes nothing for the chat layouts: every cut falls next to a
    special token or a newline, so the ids are apply_chat_template's."""
    ctx = context(tokenizer, "chat", None)
    for example in EXAMPLES.values():
        [row] = CausalLmHead().encode(ctx, [example])
        reference = tokenizer.apply_chat_template(example.messages, tokenize=True, return_dict=True)["input_ids"]
        assert row["input_ids"] == list(reference), example.source
