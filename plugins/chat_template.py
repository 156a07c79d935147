"""``chat`` and ``auto`` prompt templates: the conversation through the tokenizer's chat template.

``chat`` renders the whole conversation with ``tokenizer.apply_chat_template``, so the text is
exactly what the model's own template gives (the causal_lm head tokenises it cut at the answer
spans; for the embedded models' layouts those are the whole text's ids, since every cut falls
next to a special token or a newline). Every assistant turn plus its end-of-turn
marker is trained; the generation prompt is every turn before the last assistant turn followed
by the template's assistant header. ``auto`` is ``chat`` when the tokenizer has a chat template,
else the template registered as ``alpaca`` (looked up by name, ``core.lookup``).

The system prompt comes from the data, else from ``task.system_prompt``. Some chat templates add
their own default system prompt when there is none (SmolLM2's does); that is logged once, with
the text, so it is never silent.

Tool calls: a row whose assistant turns carry ``tool_calls`` is rendered a second time with each
call's name, then its arguments, replaced by a marker; a template whose text does not change
(SmolLM2's renders only ``content``, so the turn would train as an empty answer) stops the run
with one line naming the template, the row and the way out. A template that leaves out a row's
``tools`` (Gemma's ``model.chat_template`` does) is noted once in the log: the model then learns
the calls without seeing the schemas.
"""

from __future__ import annotations

import json
import logging

from core import Example, PlugtuneError, RenderedPrompt, hookimpl, lookup

log = logging.getLogger("plugtune")

_PROBE = "\u2063probe\u2063"  # text no real conversation contains


def with_system_prompt(messages: list[dict], task_cfg) -> list[dict]:
    """The messages with ``task.system_prompt`` first when the data has no system turn."""
    if messages and messages[0]["role"] == "system":
        return messages
    system_prompt = task_cfg.get("system_prompt")
    if system_prompt:
        return [{"role": "system", "content": system_prompt}, *messages]
    return messages


def default_system_prompt(tokenizer, chat_template: str | None = None) -> str | None:
    """The system prompt a chat template adds on its own when a conversation has none."""
    user = [{"role": "user", "content": _PROBE}]
    bare = tokenizer.apply_chat_template(user, tokenize=False, chat_template=chat_template)
    marked = tokenizer.apply_chat_template(
        [{"role": "system", "content": _PROBE * 2}, *user], tokenize=False, chat_template=chat_template
    )
    head, _, tail = marked.partition(_PROBE * 2)
    if bare == marked.replace(_PROBE * 2, "", 1) or not (bare.startswith(head) and bare.endswith(tail)):
        return None
    injected = bare[len(head) : len(bare) - len(tail)]
    return injected or None


def _with_calls(messages: list[dict], part: str) -> list[dict]:
    """``messages`` with every tool call's ``part`` (``name`` or ``arguments``) replaced by a marker;
    arguments keep their type (JSON text or an object), so templates branching on it still work."""
    out = []
    for message in messages:
        if message.get("tool_calls"):
            calls = []
            for call in message["tool_calls"]:
                function = dict(call.get("function") or {})
                if part == "name":
                    function["name"] = _PROBE_NAME
                else:
                    probe = {_PROBE_NAME: _PROBE}
                    function["arguments"] = json.dumps(probe) if isinstance(function.get("arguments"), str) else probe
                calls.append({**call, "function": function})
            message = {**message, "tool_calls": calls}
        out.append(message)
    return out


def _with_tool_names(tools: list[dict]) -> list[dict]:
    """``tools`` with every tool's name replaced by a marker (OpenAI or flat layout)."""
    out = []
    for tool in tools:
        if isinstance(tool, dict) and isinstance(tool.get("function"), dict):
            tool = {**tool, "function": {**tool["function"], "name": _PROBE_NAME}}
        elif isinstance(tool, dict):
            tool = {**tool, "name": _PROBE_NAME}
        out.append(tool)
    return out


def _called_names(messages: list[dict]) -> str:
    names = [(c.get("function") or {}).get("name") for m in messages for c in m.get("tool_calls") or ()]
    return ", ".join(dict.fromkeys(str(n) for n in names if n))


def _tool_names(tools: list[dict]) -> str:
    names = [(t.get("function") or t).get("name") if isinstance(t, dict) else None for t in tools]
    return ", ".join(dict.fromkeys(str(n) for n in names if n))


_PROBE_NAME = "plugtune_probe_tool"
WAY_OUT = (
    "use a model whose chat template renders tool calls (task=toolcall's default model=gemma3-270m, "
    "or a Qwen2.5 model), or a file template with a chat_template: that renders them"
)


class ChatTemplate:
    """Render with the tokenizer's chat template, or with ``chat_template`` when given."""

    def __init__(self, chat_template: str | None = None):
        self.chat_template = chat_template
        self._warned_default_system: set[int] = set()
        self._checked_tools: set[int] = set()

    def _name(self, tokenizer) -> str:
        """Which template renders, for messages: the given one, or the model's (by its path)."""
        if self.chat_template:
            return "the chat template given as chat_template (task.prompt_template=chat)"
        return f"the chat template of {getattr(tokenizer, 'name_or_path', '') or 'the model'} (task.prompt_template=chat)"

    def _check_tools_rendered(self, example: Example, tokenizer, messages, tools, text: str) -> None:
        """Stop when the template drops a row's tool calls (name or arguments): the assistant turn
        would train as an empty (or partial) answer. Note once when it leaves out the row's tools."""
        if any(m.get("tool_calls") for m in messages):
            for part, what, effect in (
                ("name", "tool_calls", "as an empty answer"),
                ("arguments", "tool_calls' arguments", "without its arguments"),
            ):
                if self._render(tokenizer, _with_calls(messages, part), tools) == text:
                    raise PlugtuneError(
                        f"{example.source}: {self._name(tokenizer)} does not render the assistant's {what} "
                        f"({_called_names(messages)}), so the turn would train {effect}; {WAY_OUT}"
                    )
        if tools and id(tokenizer) not in self._checked_tools:  # once per tokenizer: same template
            self._checked_tools.add(id(tokenizer))
            if self._render(tokenizer, messages, _with_tool_names(tools)) == text:
                log.warning(
                    "%s does not render tools lists (data.tools_file or a row's own tools): the model never "
                    "sees the tool schemas, in training or when answering; they only check the data and score "
                    "the calls (said once; e.g. %s: %s; Qwen2.5 models' chat templates render them)",
                    self._name(tokenizer), example.source, _tool_names(tools),
                )

    def using(self, chat_template: str) -> "ChatTemplate":
        """A ``chat`` template that renders with the Jinja ``chat_template`` given instead of the
        tokenizer's (the ``file`` template's ``chat_template:`` key)."""
        return type(self)(chat_template=chat_template)

    def _render(self, tokenizer, messages, tools, generation_prompt=False) -> str:
        return tokenizer.apply_chat_template(
            messages,
            tools=tools,
            tokenize=False,
            add_generation_prompt=generation_prompt,
            chat_template=self.chat_template,
        )

    def _note_default_system(self, tokenizer, messages) -> None:
        if messages[0]["role"] == "system" or id(tokenizer) in self._warned_default_system:
            return
        self._warned_default_system.add(id(tokenizer))
        injected = default_system_prompt(tokenizer, self.chat_template)
        if injected:
            log.warning(
                "the model's chat template adds its own system prompt when none is given: %r; "
                "set task.system_prompt to replace it", injected.strip()
            )

    def render(self, example: Example, tokenizer, task_cfg) -> RenderedPrompt:
        if not (self.chat_template or getattr(tokenizer, "chat_template", None)):
            raise PlugtuneError(
                "task.prompt_template=chat: this model's tokenizer has no chat template; "
                "use task.prompt_template=alpaca (or plain, or file)"
            )
        messages = with_system_prompt(example.messages, task_cfg)
        self._note_default_system(tokenizer, messages)
        tools = example.tools or None
        text = self._render(tokenizer, messages, tools)
        self._check_tools_rendered(example, tokenizer, messages, tools, text)
        assistant_turns = [i for i, m in enumerate(messages) if m["role"] == "assistant"]
        if not assistant_turns or messages[-1]["role"] == "user":
            # No answer to learn or compare (a question typed for the comparison, or a dialogue
            # that ends on the user): the whole dialogue is the prompt, for generation only.
            prompt = self._render(tokenizer, messages, tools, generation_prompt=True)
            return RenderedPrompt(prompt=prompt, answer=None)
        spans = []
        for index in assistant_turns:
            before = self._render(tokenizer, messages[:index], tools, generation_prompt=True)
            through = self._render(tokenizer, messages[: index + 1], tools)
            # Offsets into ``text`` are only right when each partial rendering is a prefix of
            # the whole; templates that rewrite earlier turns (e.g. drop reasoning) break that.
            if not (text.startswith(before) and text.startswith(through)):
                raise PlugtuneError(
                    f"{example.source}: the chat template renders earlier turns differently once later "
                    "turns are added, so the answer span cannot be located; use "
                    "task.prompt_template=alpaca or a file template"
                )
            # The newline after the end-of-turn marker belongs to the layout, not the answer.
            spans.append((len(before), len(through.rstrip())))
        last = assistant_turns[-1]
        prompt = self._render(tokenizer, messages[:last], tools, generation_prompt=True)
        answer = messages[last].get("content") or ""
        if not answer and messages[last].get("tool_calls"):
            # The reference for a turn that only calls tools is the calls themselves, in the
            # OpenAI layout the tool_call evaluator parses.
            answer = json.dumps({"tool_calls": messages[last]["tool_calls"]}, ensure_ascii=False)
        return RenderedPrompt(prompt=prompt, answer=answer, text=text, train_spans=spans)


class AutoTemplate:
    """``chat`` when the tokenizer has a chat template, else the template registered as
    ``fallback`` (``alpaca``, from the instruction_templates plugin)."""

    def __init__(self, chat: ChatTemplate, fallback: str = "alpaca"):
        self.chat = chat
        self.fallback = fallback

    def render(self, example: Example, tokenizer, task_cfg) -> RenderedPrompt:
        if getattr(tokenizer, "chat_template", None):
            return self.chat.render(example, tokenizer, task_cfg)
        return lookup("prompt_template", self.fallback).render(example, tokenizer, task_cfg)


@hookimpl
def register_prompt_templates(register):
    chat = ChatTemplate()
    register("chat", chat)
    register("auto", AutoTemplate(chat, "alpaca"))
