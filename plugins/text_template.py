"""``text`` prompt template: the conversation's non-assistant turns as plain text.

Used by classification heads, which read the whole input and predict a label; the system prompt
(from the data, else ``task.system_prompt``) comes first when there is one. ``task.input_format``
places the text in a fixed frame, e.g. ``"{text}\nIntent:"``.
"""

from __future__ import annotations

from core import Example, RenderedPrompt, hookimpl


class TextTemplate:
    def render(self, example: Example, tokenizer, task_cfg) -> RenderedPrompt:
        parts = [m["content"] for m in example.messages if m["role"] in ("system", "user", "tool")]
        has_system = any(m["role"] == "system" for m in example.messages)
        if not has_system and task_cfg.get("system_prompt"):
            parts.insert(0, task_cfg.system_prompt)
        answers = [m["content"] for m in example.messages if m["role"] == "assistant"]
        prompt = task_cfg.get("input_format", "{text}").replace("{text}", "\n".join(parts))
        return RenderedPrompt(prompt=prompt, answer=answers[-1] if answers else None)


@hookimpl
def register_prompt_templates(register):
    register("text", TextTemplate())
