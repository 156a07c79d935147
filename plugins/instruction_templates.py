"""Instruction-style prompt templates: ``alpaca``, ``plain`` and ``file`` (a layout from YAML).

Each user turn is laid out with a format string, its answer follows, then ``answer_suffix``
(the end-of-sequence token by default, so the model learns to stop). Multi-turn examples repeat
the layout per turn, joined by ``separator``; every answer plus its suffix is trained.

``alpaca`` (W3)::

    ### Instruction:
    {instruction}

    ### Input:          <- only when the example has an input
    {input}

    ### Response:
    {answer}</s>

``plain`` (W2): ``Instruction: {instruction}\\nInput: {input}\\nAnswer: {answer}</s>``.

``file`` reads the same keys from the YAML file named by ``task.template_file``::

    # my_template.yaml: placeholders {instruction} {input} {system} {eos}; {{ }} for literal braces
    system: "{system}\\n\\n"              # laid out before the first turn when there is a system prompt
    prompt: "<s>### Instruction:\\n{instruction}{input_block}\\n### Response:\\n"
    input_block: "\\n{input}"             # inserted as {input_block} only when the input is not empty
    answer_suffix: "</s>"
    separator: "\\n"

or a Jinja chat template under ``chat_template:`` (rendered like the model's own by the template
registered as ``chat``).
``{instruction}``/``{input}`` come from alpaca data as written; for other data the user turn's
text is the instruction and the input is empty. The system prompt comes from the data, else
``task.system_prompt``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core import Example, PlugtuneError, RenderedPrompt, hookimpl, lookup

TEMPLATE_KEYS = ("system", "prompt", "input_block", "answer_suffix", "separator")


@dataclass
class TurnTemplate:
    """A per-turn layout given by format strings."""

    prompt: str
    input_block: str = ""
    system: str = "{system}\n\n"
    answer_suffix: str = "{eos}"
    separator: str = "\n\n"
    name: str = "template"

    def _format(self, pattern: str, source: str, **values) -> str:
        try:
            return pattern.format(**values)
        except (KeyError, IndexError, ValueError) as exc:
            raise PlugtuneError(
                f"prompt template {self.name!r}: cannot fill {pattern!r} ({exc!r}); placeholders are "
                "{instruction} {input} {input_block} {system} {eos}, and {{ }} for literal braces"
            ) from None

    def turns(self, example: Example, task_cfg) -> tuple[str | None, list[tuple[str, str, str | None]]]:
        """The system prompt and ``(instruction, input, answer)`` per user turn."""
        system = None
        turns: list[tuple[str, str, str | None]] = []
        for message in example.messages:
            role, content = message["role"], message.get("content") or ""
            if role == "system":
                system = content
            elif role == "user":
                turns.append((content, "", None))
            elif role == "assistant" and turns and turns[-1][2] is None:
                turns[-1] = (turns[-1][0], turns[-1][1], content)
            else:
                raise PlugtuneError(
                    f"{example.source}: prompt template {self.name!r} lays out user/assistant pairs; "
                    f"a {role!r} turn there needs task.prompt_template=chat"
                )
        if example.fields.get("instruction") is not None and turns:
            # alpaca data keeps instruction and input apart for layouts with an Input section.
            turns[-1] = (example.fields["instruction"], example.fields.get("input", ""), turns[-1][2])
        return system or task_cfg.get("system_prompt"), turns

    def render(self, example: Example, tokenizer, task_cfg) -> RenderedPrompt:
        eos = getattr(tokenizer, "eos_token", None) or ""
        system, turns = self.turns(example, task_cfg)
        text = self._format(self.system, example.source, system=system, eos=eos) if system else ""
        spans: list[tuple[int, int]] = []
        prompt, answer = text, None
        for number, (instruction, input_text, turn_answer) in enumerate(turns):
            if number:
                text += self.separator
            block = self._format(self.input_block, example.source, input=input_text, eos=eos) if input_text else ""
            text += self._format(
                self.prompt, example.source, instruction=instruction, input=input_text,
                input_block=block, system=system or "", eos=eos,
            )
            prompt, answer = text, turn_answer
            if turn_answer is None:
                break
            start = len(text)
            text += turn_answer + self._format(self.answer_suffix, example.source, eos=eos)
            spans.append((start, len(text)))
        if answer is None:
            return RenderedPrompt(prompt=prompt, answer=None)
        return RenderedPrompt(prompt=prompt, answer=answer, text=text, train_spans=spans)


ALPACA = TurnTemplate(
    name="alpaca",
    prompt="### Instruction:\n{instruction}{input_block}\n\n### Response:\n",
    input_block="\n\n### Input:\n{input}",
)
PLAIN = TurnTemplate(
    name="plain",
    prompt="Instruction: {instruction}{input_block}\nAnswer: ",
    input_block="\nInput: {input}",
    system="{system}\n",
    separator="\n",
)


def load_template_file(path) -> object:
    """Build a template from a YAML file: format-string keys, or a Jinja ``chat_template``."""
    import yaml

    path = Path(path)
    if not path.is_file():
        raise PlugtuneError(f"task.template_file: {path} not found")
    try:
        spec = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise PlugtuneError(f"task.template_file: {path} is not valid YAML ({exc})") from None
    if not isinstance(spec, dict):
        raise PlugtuneError(f"task.template_file: {path} must be a mapping of template keys")
    if "chat_template" in spec:
        # The chat plugin's template, by name, rendering with this Jinja template instead.
        return lookup("prompt_template", "chat").using(spec["chat_template"])
    unknown = sorted(set(spec) - set(TEMPLATE_KEYS))
    if unknown or "prompt" not in spec:
        raise PlugtuneError(
            f"task.template_file: {path} needs a 'prompt' key (or 'chat_template'); allowed keys: "
            f"{', '.join(TEMPLATE_KEYS)}; unknown: {', '.join(unknown) or 'none'}"
        )
    return TurnTemplate(name=path.name, **{k: str(v) for k, v in spec.items()})


class FileTemplate:
    """The layout named by ``task.template_file``, loaded once per file."""

    def __init__(self):
        self._loaded: dict[str, object] = {}

    def render(self, example: Example, tokenizer, task_cfg) -> RenderedPrompt:
        path = task_cfg.get("template_file")
        if not path:
            raise PlugtuneError("task.prompt_template=file needs task.template_file=PATH.yaml")
        if path not in self._loaded:
            self._loaded[path] = load_template_file(path)
        return self._loaded[path].render(example, tokenizer, task_cfg)


@hookimpl
def register_prompt_templates(register):
    register("alpaca", ALPACA)
    register("plain", PLAIN)
    register("file", FileTemplate())
