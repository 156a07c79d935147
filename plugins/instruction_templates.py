"""Instruction-style prompt templates: ``alpaca``, ``plain``, ``instruction_response`` and ``file``
(a layout from YAML).

Each user turn is laid out with a format string, its answer follows, then ``answer_suffix``
(the end-of-sequence token by default, so the model learns to stop). Multi-turn examples repeat
the layout per turn, joined by ``separator``; every answer plus its suffix is trained.

``alpaca`` (the CSV-export tutorial)::

    ### Instruction:
    {instruction}

    ### Input:          <- only when the example has an input
    {input}

    ### Response:
    {answer}</s>

``plain`` (the alpaca Q&A tutorial):
``Instruction: {instruction}\\nInput: {input}\\nAnswer: {answer}</s>``.

``instruction_response`` (the business Q&A tutorial):
``<s>### Instruction:\\n{instruction}\\n{input}\\n### Response:\\n{answer}</s>``
with ``<s>``/``</s>`` as literal text, as the tutorial writes them (the ``\\n{input}`` line only
when there is an input; turns joined with nothing between them).

The causal_lm head tokenises the prompt and each answer separately, so a prompt that ends in a
space (``plain``'s ``Answer: ``) trains and generates the same tokens.

``file`` reads the same keys from the YAML file named by ``task.template_file``::

    # my_template.yaml: placeholders {instruction} {input} {system} {eos}; {{ }} for literal braces
    system: "{system}\\n\\n"              # laid out before the first turn when there is a system prompt
    prompt: "<s>### Instruction:\\n{instruction}{input_block}\\n### Response:\\n"
    input_block: "\\n{input}"             # inserted as {input_block} only when the input is not empty
    answer_suffix: "</s>"
    separator: "\\n"

or a Jinja chat template under ``chat_template:`` (rendered like the model's own by the template
registered as ``chat``, in transformers' sandbox).

Placeholders are plain names: ``{instruction.__class__}`` or ``{input[0]}`` (attribute or index
walking) and names a key does not fill are refused when the file is loaded, with one line naming
the file, the key and the placeholder. A ``chat_template`` with a Jinja syntax error, or one the
sandbox refuses while rendering (e.g. ``{{ messages.__class__ }}``), is one line naming the file,
the line and the reason: ``task.template_file: t.yaml:4: chat_template line 2: ...``.
``{instruction}``/``{input}`` come from alpaca data as written; for other data the user turn's
text is the instruction and the input is empty. The system prompt comes from the data, else
``task.system_prompt``.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from pathlib import Path

from core import Example, PlugtuneError, RenderedPrompt, hookimpl, lookup

TEMPLATE_KEYS = ("system", "prompt", "input_block", "answer_suffix", "separator")
# The placeholders each format-string key is filled with (``separator`` is literal text).
PLACEHOLDERS = {
    "system": ("system", "eos"),
    "prompt": ("instruction", "input", "input_block", "system", "eos"),
    "input_block": ("input", "eos"),
    "answer_suffix": ("eos",),
}


def placeholder_problem(key: str, pattern: str) -> str | None:
    """Why ``pattern`` (the value of template key ``key``) is not a safe format string, or None.

    Only plain placeholders that ``key`` is filled with are allowed: no attribute or index walking
    (``{instruction.__class__}``, ``{input[0]}``), no nested fields in a format spec."""
    allowed = PLACEHOLDERS.get(key)
    if allowed is None:
        return None
    pending = [pattern]
    while pending:
        try:
            parts = list(string.Formatter().parse(pending.pop()))
        except ValueError as exc:
            return f"{key}: {exc} in {pattern!r} (write {{{{ and }}}} for literal braces)"
        for _, field, spec, _ in parts:
            if field is None:
                continue
            if field not in allowed:
                what = ("walks into an attribute or index; only plain placeholders are allowed"
                        if any(c in field for c in ".[") else "is not filled here")
                return (f"{key}: placeholder {{{field}}} {what} (placeholders for {key}: "
                        f"{' '.join('{' + name + '}' for name in allowed)}; {{{{ }}}} for literal braces)")
            if spec:
                pending.append(spec)
    return None


@dataclass
class TurnTemplate:
    """A per-turn layout given by format strings."""

    prompt: str
    input_block: str = ""
    system: str = "{system}\n\n"
    answer_suffix: str = "{eos}"
    separator: str = "\n\n"
    name: str = "template"

    def __post_init__(self):
        for key in PLACEHOLDERS:
            problem = placeholder_problem(key, getattr(self, key))
            if problem:
                raise PlugtuneError(f"prompt template {self.name!r}: {problem}")

    def stop_text(self, tokenizer, task_cfg=None) -> str | None:
        """The answer suffix when it is literal text rather than the end-of-sequence token (which
        generation stops at anyway): ``</s>`` written out in a layout. None otherwise."""
        eos = getattr(tokenizer, "eos_token", None) or ""
        suffix = self._format(self.answer_suffix, self.name, eos=eos).strip()
        if not suffix or suffix == eos or suffix in (getattr(tokenizer, "all_special_tokens", None) or []):
            return None
        return suffix

    def _format(self, pattern: str, source: str, **values) -> str:
        try:
            return _SAFE_FORMATTER.vformat(pattern, (), values)
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
            elif role == "user" and turns and turns[-1][2] is None:
                # Two user turns in a row (a message sent in two parts): one instruction.
                turns[-1] = (turns[-1][0] + "\n" + content, "", None)
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


class _PlainFieldFormatter(string.Formatter):
    """``str.format`` without attribute or index walking: ``{instruction.__class__}`` is refused."""

    def get_field(self, field_name, args, kwargs):
        if any(c in field_name for c in ".["):
            raise ValueError(f"placeholder {{{field_name}}} walks into an attribute or index")
        return super().get_field(field_name, args, kwargs)


_SAFE_FORMATTER = _PlainFieldFormatter()


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
# The business Q&A tutorial's layout: ``<s>`` and ``</s>`` are literal text, as its script writes
# them, and it lays out no system prompt (a row's system text is not shown to the model).
INSTRUCTION_RESPONSE = TurnTemplate(
    name="instruction_response",
    prompt="<s>### Instruction:\n{instruction}{input_block}\n### Response:\n",
    input_block="\n{input}",
    system="",
    answer_suffix="</s>",
    separator="",
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
        jinja = spec["chat_template"]
        if not isinstance(jinja, str) or not jinja.strip():
            raise PlugtuneError(f"task.template_file: {path}: chat_template must be a non-empty Jinja template text")
        _check_jinja(path, jinja)
        # The chat plugin's template, by name, rendering with this Jinja template instead.
        return lookup("prompt_template", "chat").using(jinja)
    unknown = sorted(set(spec) - set(TEMPLATE_KEYS))
    if unknown or "prompt" not in spec:
        raise PlugtuneError(
            f"task.template_file: {path} needs a 'prompt' key (or 'chat_template'); allowed keys: "
            f"{', '.join(TEMPLATE_KEYS)}; unknown: {', '.join(unknown) or 'none'}"
        )
    values = {k: str(v) for k, v in spec.items()}
    for key, pattern in values.items():
        problem = placeholder_problem(key, pattern)
        if problem:
            raise PlugtuneError(f"task.template_file: {path}: {problem}")
    return TurnTemplate(name=path.name, **values)


def _chat_template_line(path: Path) -> int | None:
    """The file line where a block-literal ``chat_template: |`` text starts (its line 1), else None."""
    import yaml

    try:
        node = yaml.compose(path.read_text(encoding="utf-8"))
    except yaml.YAMLError:
        return None
    for key, value in getattr(node, "value", ()):
        if getattr(key, "value", None) == "chat_template" and getattr(value, "style", None) in ("|", ">"):
            return value.start_mark.line + 2  # 0-based line of the "|", then the next line
    return None


def _where(path: Path, template_line: int | None) -> str:
    """``file:line: chat_template line N`` for a line of the Jinja text (the file line when the
    text is a ``|`` block, where its lines are the file's)."""
    if template_line is None:
        return f"{path}: chat_template"
    first = _chat_template_line(path)
    if first is None:
        return f"{path}: chat_template line {template_line}"
    return f"{path}:{first + template_line - 1}: chat_template line {template_line}"


def _check_jinja(path: Path, jinja: str) -> None:
    """Compile the Jinja text as transformers will (its sandboxed environment): a syntax error
    is one PlugtuneError line, not a traceback at the first render."""
    import jinja2

    try:
        from transformers.utils.chat_template_utils import _compile_jinja_template as compile_template
    except ImportError:  # pragma: no cover - a private helper; fall back to a plain sandbox
        from jinja2.ext import loopcontrols
        from jinja2.sandbox import ImmutableSandboxedEnvironment

        def compile_template(text):
            return ImmutableSandboxedEnvironment(extensions=[loopcontrols]).parse(text)

    try:
        compile_template(jinja)
    except jinja2.TemplateSyntaxError as exc:
        raise PlugtuneError(f"task.template_file: {_where(path, exc.lineno)}: Jinja syntax error: {exc.message}") from None


def _template_line(exc: BaseException) -> int | None:
    """The line of the Jinja template an exception was raised at (jinja rewrites its traceback
    so template frames carry the template's line numbers), or None."""
    line = None
    traceback = exc.__traceback__
    while traceback is not None:
        if traceback.tb_frame.f_code.co_filename == "<template>":
            line = traceback.tb_lineno
        traceback = traceback.tb_next
    return line


class FileTemplate:
    """The layout named by ``task.template_file``, loaded once per file."""

    def __init__(self):
        self._loaded: dict[str, object] = {}

    def _template(self, task_cfg):
        path = task_cfg.get("template_file")
        if not path:
            raise PlugtuneError("task.prompt_template=file needs task.template_file=PATH.yaml")
        if path not in self._loaded:
            self._loaded[path] = load_template_file(path)
        return self._loaded[path]

    def stop_text(self, tokenizer, task_cfg) -> str | None:
        """The file layout's literal answer suffix (see ``TurnTemplate.stop_text``)."""
        template = self._template(task_cfg)
        return template.stop_text(tokenizer, task_cfg) if isinstance(template, TurnTemplate) else None

    def render(self, example: Example, tokenizer, task_cfg) -> RenderedPrompt:
        template, path = self._template(task_cfg), task_cfg.get("template_file")
        if isinstance(template, TurnTemplate):
            return template.render(example, tokenizer, task_cfg)
        import jinja2

        try:
            return template.render(example, tokenizer, task_cfg)
        except PlugtuneError:
            raise
        except jinja2.TemplateError as exc:
            reason = "refused by the sandbox" if isinstance(exc, jinja2.exceptions.SecurityError) else type(exc).__name__
            raise PlugtuneError(
                f"task.template_file: {_where(Path(path), _template_line(exc))}: {reason}: {exc} "
                f"(rendering {example.source})"
            ) from None
        except Exception as exc:
            line = _template_line(exc)
            if line is None:  # not raised by the template's own code
                raise
            raise PlugtuneError(
                f"task.template_file: {_where(Path(path), line)}: {type(exc).__name__}: {exc} (rendering {example.source})"
            ) from None


@hookimpl
def register_prompt_templates(register):
    register("alpaca", ALPACA)
    register("plain", PLAIN)
    register("instruction_response", INSTRUCTION_RESPONSE)
    register("file", FileTemplate())
