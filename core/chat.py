"""``python -m core.chat run_dir=RUN``: ask the base and the fine-tuned model side by side.

Interactive (no ``input=``): type a message, get the base model's answer and the fine-tuned
model's answer under it, rendered with the run's own template, system prompt and decoding
(for classification runs: each model's label and its probability). An empty line or Ctrl-D
ends the session. Typed messages get the system prompt the run trained with
(``task.system_prompt``, else the first training row's); ``system=TEXT`` sets another.

Batch: ``input=FILE`` reads examples with the run's data format (``format=NAME`` for another,
e.g. ``format=text_label`` for a JSONL of ``{"text", "label"}``), prints both answers for each
row and writes them to ``output=FILE`` (default ``RUN/chat_predictions.jsonl``) as one JSON
object per example: ``input``, ``reference``, ``baseline``, ``finetuned`` (+ probabilities).

Answers are decoded with the run's ``generation.*`` settings (core.generation; a run saved
before them: its ``task.max_new_tokens``, greedy). Any of them can be set for the session by
name, with or without ``generation.``: ``do_sample=true temperature=0.7 top_p=0.9 seed=3``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from core.errors import PlugtuneError
from core.generation import describe as describe_decoding
from core.generation import settings as generation_settings
from core.runs import exit_on_error, load_run, load_with_adapter, parse_key_values
from core.types import Example, ReadResult

# The generation.* settings a session can change, by their short name or as generation.NAME.
GENERATION_KEYS = ("max_new_tokens", "do_sample", "temperature", "top_p", "top_k", "repetition_penalty",
                   "no_repeat_ngram_size", "seed")
USAGE = ("python -m core.chat run_dir=RUN [system=TEXT] [input=FILE.jsonl] [output=FILE.jsonl] [format=NAME] "
         f"[SETTING=VALUE ...] (generation settings: {', '.join(GENERATION_KEYS)})")
# What a value of each setting must look like, for the one-line error on one that does not parse.
_KINDS = {"max_new_tokens": "an integer", "do_sample": "true or false", "top_k": "null or an integer",
          "no_repeat_ngram_size": "an integer", "seed": "null or an integer"}


def generation_overrides(cfg, values: dict[str, str]):
    """The run's generation settings (:func:`core.generation.settings` of ``cfg``) with the
    session's ``values`` (setting name -> text as typed) applied and checked like the command
    line's; a bad value is one ``PlugtuneError`` line naming the setting and what it must be."""
    import yaml
    from omegaconf import OmegaConf
    from omegaconf.errors import ValidationError

    from core.validate import problems

    gen = generation_settings(cfg)
    for name, text in values.items():
        try:
            gen[name] = yaml.safe_load(text)
        except (ValidationError, yaml.YAMLError):
            raise PlugtuneError(f"{name}={text}: must be {_KINDS.get(name, 'a number')}") from None
    if gen.seed is None:  # seed=null: the run's seed, as in a config
        gen.seed = generation_settings(OmegaConf.create({"seed": cfg.get("seed")})).seed
    # The command line's checks (core.validate.RULES); the others need a whole run config.
    found = [p for p in problems(OmegaConf.create({"generation": gen})) if p.startswith("generation.")]
    if found:
        raise PlugtuneError("; ".join(found))
    return gen


class SideBySide:
    """One run's base model and fine-tuned model, answering the same examples."""

    def __init__(self, run_dir, generation: dict[str, str] | None = None):
        import os

        os.environ.setdefault("PLUGTUNE_PROGRESS", "0")  # one answer at a time needs no bar
        self.ctx, self.head = load_run(run_dir)
        # The run's decoding (an older run's task.max_new_tokens read) with the session's changes,
        # put where the task head reads it.
        self.ctx.cfg.generation = generation_overrides(self.ctx.cfg, generation or {})
        self.model = load_with_adapter(self.ctx, self.head)

    def answer(self, examples: list[Example]) -> list[dict]:
        """Both models' predictions for ``examples``, one dict per example."""
        encoded = self.head.encode(self.ctx, examples)
        with self.model.disable_adapter():  # the base model, exactly as the baseline was run
            base = self.head.predict(self.ctx, self.model, encoded, examples, "baseline")
        tuned = self.head.predict(self.ctx, self.model, encoded, examples, "finetuned")
        rows = []
        for b, t in zip(base, tuned):
            row = {"input": t.input, "reference": t.reference, "baseline": b.prediction, "finetuned": t.prediction}
            if "probability" in t.extra:
                row["baseline_probability"] = b.extra["probability"]
                row["finetuned_probability"] = t.extra["probability"]
            rows.append(row)
        return rows


def describe(row: dict) -> str:
    def show(model: str) -> str:
        probability = row.get(f"{model}_probability")
        return f"{row[model]} ({probability:.2f})" if probability is not None else str(row[model])

    lines = [f"input:      {row['input']}"]
    if row.get("reference") is not None:
        lines.append(f"reference:  {row['reference']}")
    lines += [f"base:       {show('baseline')}", f"fine-tuned: {show('finetuned')}"]
    return "\n".join(lines)


def batch(chat: SideBySide, input_path: str, output: str | None, format_name: str | None) -> Path:
    from core.registry import get_registry

    cfg = chat.ctx.cfg
    print(f"decoding: {describe_decoding(cfg.generation)}")
    reader = get_registry().get("data_format", format_name or cfg.data.format)
    rows = chat.answer(ReadResult.of(reader.read(input_path, cfg.data)).examples)
    for row in rows:
        print(describe(row), end="\n\n")
    out = Path(output) if output else chat.ctx.run_dir / "chat_predictions.jsonl"
    from core.rundir import write_jsonl_atomic

    write_jsonl_atomic(out, rows)
    print(f"{len(rows)} examples written to {out}")
    return out


def training_system_prompt(chat: SideBySide) -> str | None:
    """The system prompt typed messages need: None when ``task.system_prompt`` is set (the
    template adds it itself), else the first training row's (:func:`core.artifact.data_system_prompt`)."""
    from core.artifact import data_system_prompt

    if chat.ctx.cfg.task.get("system_prompt"):
        return None
    return data_system_prompt(chat.ctx.cfg)


def interactive(chat: SideBySide, system: str | None) -> None:
    print(f"{chat.ctx.cfg.task.name} on {chat.ctx.cfg.model.name}: base vs fine-tuned. Empty line or Ctrl-D ends.")
    if system is None:
        system = training_system_prompt(chat)
    if system:
        print(f"system prompt (as in training; system=... to change): {system}")
    print(f"decoding: {describe_decoding(chat.ctx.cfg.generation)} (temperature=..., do_sample=... to change)")
    preamble = [{"role": "system", "content": system}] if system else []
    while True:
        try:
            text = input("> ").strip()
        except EOFError:
            print()
            return
        if not text:
            return
        (row,) = chat.answer([Example(messages=[*preamble, {"role": "user", "content": text}], source="stdin")])
        print(describe(row).split("\n", 1)[1], end="\n\n")


def main(argv: list[str] | None = None) -> None:
    session = ("run_dir", "input", "output", "format", "system")
    args = parse_key_values(
        sys.argv[1:] if argv is None else argv,
        session + GENERATION_KEYS + tuple(f"generation.{name}" for name in GENERATION_KEYS), ("run_dir",), USAGE,
    )
    generation = {key.removeprefix("generation."): value for key, value in args.items()
                  if key not in session and value is not None}
    chat = SideBySide(args["run_dir"], generation)
    if args["input"]:
        batch(chat, args["input"], args["output"], args["format"])
    else:
        interactive(chat, args["system"])


if __name__ == "__main__":
    exit_on_error(main)
