"""What inference needs, carried inside an exported model.

plugtune formats every input before the model sees it: a classification run puts the message in
``task.input_format`` (``{text}\\nIntent:``) after the system prompt, a generation run renders the
conversation with its template and system prompt, stops at the template's end-of-turn token and
decodes with ``generation.*``. A merged model that forgets any of this answers worse when a
user's code calls it directly. :func:`bake` writes it into the exported folder, where plain
transformers (and the GGUF converter after it) pick it up:

- generation runs: ``tokenizer.chat_template`` renders exactly the training layout, with the
  run's system prompt when the conversation has none (the model's own template wrapped, or one
  written from an instruction layout such as ``alpaca``); ``generation_config.json`` holds the
  stop token ids and the decoding settings;
- classification runs: the tokenizer's post-processor adds the input format's text around the
  message, so ``pipeline("text-classification")`` on the raw message sees the training input;
  ``config.json`` holds the labels (``id2label``);
- both: :data:`INFERENCE_FILE` records all of it in one JSON file (task, labels, input format,
  system prompt, stop strings and ids, decoding, the tools of a tool-call run), the one
  documented place for what a serving stack must be told by hand (stop strings: transformers
  refuses ``stop_strings`` in a generation config without a tokenizer passed to ``generate``).
"""

from __future__ import annotations

import json
from pathlib import Path

from core.errors import PlugtuneError

INFERENCE_FILE = "plugtune_inference.json"
_MARK = "\u2063{}\u2063"  # placeholders no real text contains


def is_classification(cfg) -> bool:
    """Whether the run's head predicts a label (its exported model is a sequence classifier)."""
    return cfg.task.head == "seq_cls"


# ----------------------------------------------------------------------------------------------
# Generation runs: the chat template that renders as training did.
# ----------------------------------------------------------------------------------------------

def _jinja_text(text: str) -> str:
    """``text`` as a Jinja expression that prints it verbatim (a JSON string is a Jinja string)."""
    return "{{ " + json.dumps(text, ensure_ascii=False) + " }}" if text else ""


def _jinja_pattern(pattern: str, **slots: str) -> str:
    """A filled format string where each slot's marker becomes the Jinja expression ``slots[name]``
    and everything else is literal text."""
    out, rest = [], pattern
    while rest:
        cut = min(((rest.find(_MARK.format(name)), name) for name in slots if _MARK.format(name) in rest),
                  default=(-1, None))
        if cut[0] < 0:
            out.append(_jinja_text(rest))
            break
        start, name = cut
        out.append(_jinja_text(rest[:start]))
        out.append("{{ " + slots[name] + " }}")
        rest = rest[start + len(_MARK.format(name)):]
    return "".join(out)


def turn_layout_template(layout, eos: str) -> str:
    """A Jinja chat template that lays a conversation out as the instruction ``layout``
    (:class:`plugins.instruction_templates.TurnTemplate`) does for ``messages`` data: the system
    prompt, then per user turn the prompt pattern (the turn's text as ``{instruction}``, no input
    block) and the answer plus its suffix, turns joined by the separator. The generation prompt
    is the prompt pattern itself, which ends where the answer starts."""
    fill = {name: _MARK.format(name) for name in ("instruction", "system")}
    system = layout._format(layout.system, layout.name, system=fill["system"], eos=eos)
    prompt = layout._format(layout.prompt, layout.name, instruction=fill["instruction"], input="",
                            input_block="", system=fill["system"], eos=eos)
    suffix = layout._format(layout.answer_suffix, layout.name, eos=eos)
    return "".join([
        "{%- set ns = namespace(first=true, system='') -%}",
        "{%- for m in messages if m.role == 'system' -%}{%- set ns.system = m.content -%}{%- endfor -%}",
        "{%- if ns.system -%}", _jinja_pattern(system, system="ns.system"), "{%- endif -%}",
        "{%- for m in messages if m.role != 'system' -%}",
        "{%- if m.role == 'user' -%}",
        "{%- if not ns.first -%}", _jinja_text(layout.separator), "{%- endif -%}",
        "{%- set ns.first = false -%}",
        _jinja_pattern(prompt, instruction="m.content", system="ns.system"),
        "{%- elif m.role == 'assistant' -%}{{ m.content }}", _jinja_text(suffix),
        "{%- endif -%}{%- endfor -%}",
    ])


def with_default_system(template: str, system_prompt: str | None) -> str:
    """``template`` with ``system_prompt`` put first into a conversation that has no system turn,
    as training did (``task.system_prompt``)."""
    if not system_prompt:
        return template
    head = ("{%- if not messages or messages[0].role != 'system' -%}"
            "{%- set messages = [{'role': 'system', 'content': " + json.dumps(system_prompt, ensure_ascii=False)
            + "}] + messages -%}{%- endif -%}")
    return head + template


def data_system_prompt(cfg) -> str | None:
    """The first training row's system prompt (of the first training file, when the run trained
    on several), or None: the prompt a run whose rows carry their own trained with."""
    from omegaconf import OmegaConf

    from core.registry import get_registry
    from core.shipped_data import training_paths
    from core.types import ReadResult

    paths = training_paths(cfg.data.train_path)
    if not paths:
        return None
    entries = cfg.data.train_path
    first_entry = entries[0] if OmegaConf.is_list(entries) else None
    format_name = (first_entry.get("format") if OmegaConf.is_dict(first_entry) else None) or cfg.data.format
    try:
        result = ReadResult.of(get_registry().get("data_format", format_name).read(paths[0], cfg.data))
    except PlugtuneError:
        return None  # the training file moved
    if not result.examples:
        return None
    first = result.examples[0].messages[0]
    return first["content"] if first["role"] == "system" else None


def run_system_prompt(cfg) -> str | None:
    """The system prompt a run trained with: ``task.system_prompt``, else the first training row's."""
    return cfg.task.get("system_prompt") or data_system_prompt(cfg)


def training_chat_template(ctx) -> str:
    """The Jinja chat template that renders a generation run's conversations as its training did."""
    from plugins.chat_template import AutoTemplate, ChatTemplate
    from plugins.instruction_templates import FileTemplate, TurnTemplate

    template, tokenizer, task = ctx.template, ctx.tokenizer, ctx.cfg.task
    if isinstance(template, FileTemplate):
        template = template._template(task)
    if isinstance(template, AutoTemplate):
        template = template.chat if getattr(tokenizer, "chat_template", None) else _registered(template.fallback)
    if isinstance(template, ChatTemplate):
        base = template.chat_template or tokenizer.chat_template
    elif isinstance(template, TurnTemplate):
        base = turn_layout_template(template, getattr(tokenizer, "eos_token", None) or "")
    else:
        raise PlugtuneError(
            f"task.prompt_template={task.prompt_template}: plugtune cannot write this template into the exported "
            "model's chat template (it knows chat templates and instruction layouts)"
        )
    return with_default_system(base, run_system_prompt(ctx.cfg))


def _registered(name: str):
    from core import lookup

    return lookup("prompt_template", name)


# ----------------------------------------------------------------------------------------------
# Classification runs: the input format inside the tokenizer.
# ----------------------------------------------------------------------------------------------

def input_frame(cfg) -> tuple[str, str]:
    """The text a classification run puts before and after the message: the system prompt and
    ``task.input_format`` around ``{text}`` (as the ``text`` prompt template lays it out)."""
    fmt = cfg.task.get("input_format") or "{text}"
    if "{text}" not in fmt:
        raise PlugtuneError(f"task.input_format={fmt!r}: has no {{text}}, so the message has no place in it")
    before, _, after = fmt.partition("{text}")
    system = cfg.task.get("system_prompt")
    return (f"{system}\n{before}" if system else before), after


def frame_tokenizer(tokenizer, before: str, after: str) -> None:
    """Make ``tokenizer`` (a fast tokenizer) add ``before``/``after`` around every single input it
    encodes with special tokens, through its post-processor, so a pipeline on the raw message
    encodes the framed text. What the original post-processor added (a BOS, say) stays outermost;
    one template replaces it (a sequence of processors in ``tokenizers`` drops or refuses a second
    template's additions)."""
    from tokenizers import processors

    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:
        raise PlugtuneError("export: the input format needs a fast tokenizer to travel inside the model")
    probe = "a"
    plain = tokenizer(probe, add_special_tokens=False)["input_ids"]
    full = tokenizer(probe)["input_ids"]
    at = next((i for i in range(len(full) - len(plain) + 1) if full[i : i + len(plain)] == plain), None)
    if at is None:
        raise PlugtuneError("export: cannot tell which tokens the tokenizer adds around a text")
    pieces = {"plugtune_outer_before": full[:at],
              "plugtune_before": tokenizer(before, add_special_tokens=False)["input_ids"] if before else [],
              "plugtune_after": tokenizer(after, add_special_tokens=False)["input_ids"] if after else [],
              "plugtune_outer_after": full[at + len(plain):]}
    special = [{"id": name, "ids": ids, "tokens": tokenizer.convert_ids_to_tokens(ids)}
               for name, ids in pieces.items() if ids]
    order = ["plugtune_outer_before", "plugtune_before", "$A", "plugtune_after", "plugtune_outer_after"]
    single = " ".join(name for name in order if name == "$A" or pieces[name])
    backend.post_processor = processors.TemplateProcessing(single=single, special_tokens=special)


# ----------------------------------------------------------------------------------------------
# The spec file and the baking.
# ----------------------------------------------------------------------------------------------

def inference_spec(ctx, stop_ids: list[int], chat_template: str | None) -> dict:
    """What inference needs for ``ctx``'s run, as written to :data:`INFERENCE_FILE`."""
    from omegaconf import OmegaConf

    from core.generation import settings as generation_settings
    from plugins.causal_lm import answer_stop_text

    cfg = ctx.cfg
    spec = {"task": cfg.task.name, "model": cfg.model.name, "system_prompt": run_system_prompt(cfg)}
    if cfg.model.get("path"):  # a local folder under a preset's name: say which
        spec["model_path"] = str(cfg.model.path)
    if is_classification(cfg):
        before, after = input_frame(cfg)
        spec.update(kind="classification", labels=list(ctx.labels), input_format=cfg.task.get("input_format") or "{text}",
                    framed_by_tokenizer={"before": before, "after": after})
        return spec
    tokenizer = ctx.tokenizer
    spec.update(
        kind="generation",
        prompt_template=cfg.task.prompt_template,
        chat_template=chat_template,
        stop_token_ids=list(stop_ids),
        stop_tokens=[tokenizer.convert_ids_to_tokens(i) for i in stop_ids],
        stop_strings=answer_stop_text(ctx.template, tokenizer, cfg.task),
        decoding=OmegaConf.to_container(generation_settings(cfg)),
    )
    tools = run_tools_list(cfg)
    if tools:
        spec["tools"] = tools
    return spec


def run_tools_list(cfg) -> list | None:
    """The tools a tool-call run checked its calls against (``data.tools_file``), or None."""
    path = cfg.data.get("tools_file")
    if not path or not Path(path).is_file():
        return None
    return json.loads(Path(path).read_text(encoding="utf-8"))


def bake(ctx, model, tokenizer) -> dict:
    """Write what inference needs into ``model``'s config/generation config and ``tokenizer``
    (see the module docstring); returns the spec for :data:`INFERENCE_FILE`."""
    from core.generation import generation_config, settings as generation_settings, stop_token_ids

    if is_classification(ctx.cfg):
        frame_tokenizer(tokenizer, *input_frame(ctx.cfg))
        model.config.id2label = dict(enumerate(ctx.labels))
        model.config.label2id = {label: i for i, label in enumerate(ctx.labels)}
        return inference_spec(ctx, [], None)
    chat_template = training_chat_template(ctx)
    tokenizer.chat_template = chat_template
    stops = stop_token_ids(ctx.tokenizer, model)
    model.generation_config = generation_config(generation_settings(ctx.cfg), stops, tokenizer.pad_token_id)
    return inference_spec(ctx, stops, chat_template)


def read_spec(folder) -> dict:
    """The :data:`INFERENCE_FILE` of an exported folder."""
    path = Path(folder) / INFERENCE_FILE
    if not path.is_file():
        raise PlugtuneError(f"{folder}: no {INFERENCE_FILE}; export the run again with python -m core.export")
    return json.loads(path.read_text(encoding="utf-8"))
