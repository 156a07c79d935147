"""Score what you ship: the run's eval set through an exported artifact, called as a user's code
calls it, beside the adapter's answers.

Each artifact gets raw input, with no plugtune formatting applied outside it:

- a merged classification model: transformers' ``pipeline("text-classification")`` on the message;
- a merged generation model: ``tokenizer.apply_chat_template(messages, add_generation_prompt=True)``
  and ``model.generate`` with the folder's own generation config;
- a GGUF file: llama-cpp-python's ``create_chat_completion`` with the messages (the chat
  template and stop tokens are the file's own);
- a server (``core.serve``): the official ``openai`` client.

The answers are scored with the run's evaluators and compared with the adapter's answers to the
same rows. ``export_check.json`` (beside the artifact) and a section of ``RUN/report.md`` hold the
main metric on both and the rows whose answers differ. What passes (:func:`default_rule`):

- the merged model and the server run the adapter's weights in the same library: every answer
  must be the adapter's;
- an unquantised GGUF (f32, f16, bf16) computes in llama.cpp with rounding of its own: the main
  metric may not drop at all, and at most :data:`UNQUANTISED_CHANGED_SHARE` of the answers may
  change (a lost chat template or stop token changes most of them, even where the metric cannot
  show it);
- a quantised GGUF may lower the main metric by :data:`QUANTISED_TOLERANCE`.

``tolerance=X`` allows a drop of X instead (the answer rule stays). A failed check is one
``PlugtuneError`` line naming the artifact and the first differing row.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import PlugtuneError
from core.types import Example, Prediction

CHECK_FILE = "export_check.json"
UNQUANTISED_GGUF = ("f32", "f16", "bf16")
UNQUANTISED_CHANGED_SHARE = 0.1  # answers an unquantised GGUF may change by rounding
QUANTISED_TOLERANCE = 0.05  # the main metric may drop this much (absolute) through a quantised GGUF


def default_rule(fmt: str, tolerance: float | None = None) -> tuple[float, float]:
    """(allowed drop of the main metric, allowed share of changed answers) for an artifact of
    format ``fmt`` (see the module docstring); ``tolerance`` replaces the allowed drop."""
    if fmt in ("merged", "server"):  # the adapter's weights in the same library: the same answers
        drop, share = 0.0, 0.0
    elif fmt in UNQUANTISED_GGUF:
        drop, share = 0.0, UNQUANTISED_CHANGED_SHARE
    else:
        drop, share = QUANTISED_TOLERANCE, 1.0
    return (drop if tolerance is None else float(tolerance)), share


# ----------------------------------------------------------------------------------------------
# What a user's code sends.
# ----------------------------------------------------------------------------------------------

def request_messages(example: Example) -> list[dict]:
    """The conversation a user's code sends for ``example``: every turn before the last
    assistant turn (the reference), as the data holds it (no system prompt added)."""
    messages = list(example.messages)
    last = max((i for i, m in enumerate(messages) if m["role"] == "assistant"), default=None)
    return messages[:last] if last is not None else messages


def raw_text(example: Example) -> str:
    """The message a user's code classifies: the row's non-assistant text, as the ``text``
    template joins it, without the input format around it."""
    return "\n".join(m["content"] for m in example.messages if m["role"] in ("system", "user", "tool"))


# ----------------------------------------------------------------------------------------------
# Artifacts answering.
# ----------------------------------------------------------------------------------------------

def classify_merged(folder, examples: list[Example], batch_size: int = 32) -> list[tuple[str, float]]:
    """(label, probability) for each example from the merged classifier in ``folder``, through
    transformers' text-classification pipeline on the raw message."""
    from transformers import pipeline

    classifier = pipeline("text-classification", model=str(folder), tokenizer=str(folder), device="cpu")
    out = classifier([raw_text(ex) for ex in examples], batch_size=batch_size)
    return [(row["label"], float(row["score"])) for row in out]


def generate_merged(folder, examples: list[Example], spec: dict, batch_size: int = 8, desc: str = "merged") -> list[str]:
    """The merged generation model's answers: the tokenizer's chat template on the raw messages
    (and the row's tools), ``generate`` with the folder's generation config, decoded without special
    tokens and cut at the spec's stop strings (:data:`core.artifact.INFERENCE_FILE`)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from core.generation import decode_whole_characters
    from core.progress import progress

    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    tokenizer.padding_side = "left"
    model = AutoModelForCausalLM.from_pretrained(str(folder)).eval()
    prompts = [
        tokenizer.apply_chat_template(request_messages(ex), tools=ex.tools or None, add_generation_prompt=True,
                                      tokenize=False)
        for ex in examples
    ]
    stops = [s for s in spec.get("stop_strings") or [] if s]
    answers: list[str] = []
    with torch.no_grad(), progress(total=len(prompts), desc=f"generate {desc}") as bar:
        for start in range(0, len(prompts), batch_size):
            batch = tokenizer(prompts[start : start + batch_size], return_tensors="pt", padding=True,
                              add_special_tokens=False)
            extra = {"stop_strings": stops, "tokenizer": tokenizer} if stops else {}
            output = model.generate(**batch, **extra)
            width = batch["input_ids"].shape[1]
            stop_ids = model.generation_config.eos_token_id
            stop_ids = [stop_ids] if isinstance(stop_ids, int) else list(stop_ids or [])
            for row in output[:, width:].tolist():
                cut = next((k for k, token in enumerate(row) if token in stop_ids), len(row))
                text = decode_whole_characters(tokenizer, row[:cut])
                for stop in stops:
                    text = text.split(stop, 1)[0]
                answers.append(text.strip())
            bar.update(len(batch["input_ids"]))
    return answers


# ----------------------------------------------------------------------------------------------
# Comparing.
# ----------------------------------------------------------------------------------------------

@dataclass
class Check:
    """One artifact's check: the main metric on the adapter and on the artifact, and the rows
    whose answers differ."""

    artifact: str
    format: str
    main_metric: str
    adapter: float
    exported: float
    tolerance: float  # the main metric may drop this much
    changed_share: float  # this share of the answers may change
    rows: int
    differing: list[dict] = field(default_factory=list)
    how_called: str = ""

    @property
    def drop(self) -> float:
        return self.adapter - self.exported

    @property
    def passed(self) -> bool:
        if len(self.differing) > self.changed_share * self.rows + 1e-9:
            return False
        if math.isnan(self.adapter) or math.isnan(self.exported):
            return True  # nothing scored: the answers decide
        return self.drop <= self.tolerance + 1e-9

    def _rule(self) -> str:
        return _rule_text(self.tolerance, self.changed_share)

    def as_dict(self) -> dict:
        return {"artifact": self.artifact, "format": self.format, "how_called": self.how_called,
                "main_metric": self.main_metric, "adapter": self.adapter, "artifact_value": self.exported,
                "drop": self.drop, "tolerance": self.tolerance, "changed_share": self.changed_share,
                "passed": self.passed, "rows": self.rows,
                "differing_rows": len(self.differing), "differing": self.differing[:50]}

    def line(self) -> str:
        """One console line: both values, the differing rows, pass or fail."""
        verdict = "ok" if self.passed else f"FAILED ({self._rule()})"
        return (f"export check {self.artifact}: {self.main_metric} adapter {self.adapter:.4f}, "
                f"{self.format} {self.exported:.4f}; {len(self.differing)} of {self.rows} answers differ: {verdict}")

    def failure(self) -> str:
        """The one-line error of a failed check: the artifact and the first differing row."""
        first = self.differing[0] if self.differing else None
        where = (f"; first differing row {first['source']}: adapter {first['adapter']!r}, artifact {first['artifact']!r}"
                 if first else "")
        return (f"export check failed for {self.artifact}: {self.main_metric} {self.adapter:.4f} on the adapter, "
                f"{self.exported:.4f} on the {self.format} artifact, {len(self.differing)} of {self.rows} answers "
                f"changed ({self._rule()}; {self._way_out()}){where}")

    def _way_out(self) -> str:
        if self.format in ("merged", "server") or self.format in UNQUANTISED_GGUF:
            return "tolerance=X allows a metric drop of X"
        return "a finer quantization (q8_0) loses less; tolerance=X accepts a drop of X"


def main_value(metrics: dict, name: str) -> float:
    value = metrics.get(name)
    return float("nan") if value is None else float(value)


def compare(ctx, adapter: list[Prediction], answers: list, artifact: str, fmt: str, tolerance: float | None,
            how_called: str) -> Check:
    """Score the artifact's ``answers`` (one per adapter prediction: text, or (label, probability))
    with the run's evaluators beside the adapter's predictions. ``tolerance``: the main metric's
    allowed drop, None for the format's default (:func:`default_rule`)."""
    from core.pipeline import Plugins, evaluate

    evaluators = Plugins.resolve(ctx.cfg).evaluators
    exported = []
    for p, answer in zip(adapter, answers):
        extra = {}
        if isinstance(answer, tuple):
            answer, probability = answer
            extra["probability"] = round(probability, 4)
        exported.append(Prediction(model="artifact", input=p.input, reference=p.reference, prediction=answer, extra=extra))
    name = ctx.cfg.task.main_metric
    allowed_drop, share = default_rule(fmt, tolerance)
    adapter_metrics, _ = evaluate(evaluators, adapter, ctx)
    artifact_metrics, _ = evaluate(evaluators, exported, ctx)
    differing = [
        {"source": p.extra.get("source") or f"row {i + 1}", "input": p.input, "reference": p.reference,
         "adapter": p.prediction, "artifact": e.prediction}
        for i, (p, e) in enumerate(zip(adapter, exported)) if str(p.prediction) != str(e.prediction)
    ]
    return Check(artifact=artifact, format=fmt, main_metric=name, adapter=main_value(adapter_metrics, name),
                 exported=main_value(artifact_metrics, name), tolerance=allowed_drop, changed_share=share, rows=len(adapter),
                 differing=differing, how_called=how_called)


def adapter_predictions(ctx, head, model, examples: list[Example]) -> list[Prediction]:
    """The adapter's predictions for ``examples``, as the run's evaluation makes them, each
    carrying its row's source."""
    encoded = head.encode(ctx, examples)
    predictions = head.predict(ctx, model, encoded, examples, "adapter")
    for p, ex in zip(predictions, examples):
        p.extra.setdefault("source", ex.source)
    return predictions


def write_check(folder, checks: list[Check]) -> list[dict]:
    """Record ``checks`` in ``folder/export_check.json`` (the artifacts' folder), replacing earlier
    checks of the same artifacts and keeping the others (a q8_0 and an f16 export side by side);
    returns every check recorded there."""
    from core.rundir import write_json_atomic

    path = Path(folder) / CHECK_FILE
    try:
        earlier = json.loads(path.read_text(encoding="utf-8")).get("checks", []) if path.is_file() else []
    except ValueError:
        earlier = []
    names = {c.artifact for c in checks}
    fields = set(checks[0].as_dict()) if checks else set()
    # Earlier checks of other artifacts stay; one written by an older plugtune (other fields) goes.
    recorded = [c for c in earlier if isinstance(c, dict) and c.get("artifact") not in names and fields <= set(c)]
    recorded += [c.as_dict() for c in checks]
    write_json_atomic(path, {"checks": recorded})
    return recorded


def report_section(checks: list[dict]) -> str:
    """The Markdown section ``RUN/report.md`` gets for the recorded checks (:meth:`Check.as_dict`)."""
    lines = ["## Export check", "",
             "The run's eval set through each exported artifact, called as a user's code calls it, beside the adapter.",
             "", "| artifact | called through | main metric | adapter | artifact | answers differing | result |",
             "|---|---|---|---|---|---|---|"]
    for c in checks:
        lines.append(f"| `{c['artifact']}` | {c['how_called']} | {c['main_metric']} | {c['adapter']:.4f} | "
                     f"{c['artifact_value']:.4f} | {c['differing_rows']} of {c['rows']} | "
                     f"{'passed' if c['passed'] else 'failed'} ({_rule_text(c['tolerance'], c['changed_share'])}) |")
    for c in checks:
        if c["differing"]:
            lines += ["", f"First differing rows of `{c['artifact']}`:", ""]
            for d in c["differing"][:5]:
                lines.append(f"- {d['source']}: adapter `{_short(d['adapter'])}`, artifact `{_short(d['artifact'])}`")
    return "\n".join(lines) + "\n"


def _rule_text(tolerance: float, changed_share: float) -> str:
    answers = ("no answer may change" if changed_share == 0 else
               f"at most {changed_share:.0%} of answers may change" if changed_share < 1 else "")
    return ", ".join(part for part in (answers, f"the main metric may drop {tolerance:g}") if part)


def _short(value, limit: int = 80) -> str:
    text = str(value).replace("`", "'").replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"


SECTION_START, SECTION_END = "<!-- export check -->", "<!-- /export check -->"


def add_to_report(run_dir, checks: list[dict]) -> None:
    """Put the export-check section into ``RUN/report.md``, replacing an earlier one."""
    from core.rundir import write_text_atomic

    path = Path(run_dir) / "report.md"
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    if SECTION_START in text:
        head, _, rest = text.partition(SECTION_START)
        _, _, tail = rest.partition(SECTION_END)
        text = head.rstrip("\n") + "\n" + tail.lstrip("\n")
    text = text.rstrip("\n") + f"\n\n{SECTION_START}\n{report_section(checks)}{SECTION_END}\n"
    write_text_atomic(path, text)


def verdict(checks: list[Check]) -> None:
    """Print each check's line; the first failed one is raised as its one-line error."""
    for c in checks:
        print(c.line())
    failed = [c for c in checks if not c.passed]
    if failed:
        raise PlugtuneError(failed[0].failure())


# ----------------------------------------------------------------------------------------------
# One artifact, end to end.
# ----------------------------------------------------------------------------------------------

MERGED_CALL = {"classification": "transformers pipeline('text-classification') on the raw message",
               "generation": "transformers apply_chat_template + generate on the raw messages"}
GGUF_CALL = "llama-cpp-python create_chat_completion on the raw messages"


def check_merged(ctx, adapter: list[Prediction], examples: list[Example], folder, spec: dict,
                 tolerance: float | None = None) -> Check:
    """The merged model in ``folder`` answering ``examples`` beside the adapter's ``adapter``."""
    if spec["kind"] == "classification":
        answers = classify_merged(folder, examples)
    else:
        answers = generate_merged(folder, examples, spec, ctx.cfg.train.eval_batch_size)
    return compare(ctx, adapter, answers, str(folder), "merged",
                   tolerance, MERGED_CALL[spec["kind"]])


def check_gguf(ctx, adapter: list[Prediction], examples: list[Example], path, spec: dict,
               tolerance: float | None = None) -> Check:
    """The GGUF file ``path`` answering ``examples`` through llama-cpp-python beside the adapter."""
    from core.gguf_export import gguf_quantization, generate_gguf

    fmt = gguf_quantization(path)
    answers = generate_gguf(Path(path), examples, spec, n_ctx=int(ctx.cfg.task.max_length) * 4)
    return compare(ctx, adapter, answers, str(path), fmt, tolerance,
                   GGUF_CALL)


SERVER_CALL = "the openai client's chat.completions against the server"


def answers_from_server(base_url: str, examples: list[Example], desc: str = "server") -> list:
    """Each example's answer from an OpenAI-compatible server (``core.serve``) through the
    official client: the raw messages in, the message text out (a classifier's label)."""
    from openai import OpenAI

    from core.progress import progress

    client = OpenAI(base_url=base_url, api_key="unused", max_retries=0, timeout=600)
    model = client.models.list().data[0].id
    answers = []
    with progress(total=len(examples), desc=f"ask {desc}") as bar:
        for ex in examples:
            reply = client.chat.completions.create(model=model, messages=request_messages(ex))
            answers.append((reply.choices[0].message.content or "").strip())
            bar.update(1)
    return answers


def check_artifact(run_dir, artifact, tolerance: float | None = None) -> Check:
    """``python -m core.export_check run_dir=RUN artifact=PATH``: check an artifact already
    written (a merged folder, or a GGUF file with ``plugtune_inference.json`` beside it), e.g.
    after changing it by hand, or a running server (``artifact=http://HOST:PORT/v1``, answers
    through the openai client, which must be the adapter's); records the check like an export does
    (a server's in ``RUN/export_check.json``)."""
    from core.artifact import read_spec
    from core.data import read_eval
    from core.runs import load_run, load_with_adapter

    if str(artifact).startswith(("http://", "https://")):
        ctx, head = load_run(run_dir)
        examples = read_eval(ctx.cfg)
        adapter = adapter_predictions(ctx, head, load_with_adapter(ctx, head), examples)
        answers = answers_from_server(str(artifact), examples)
        if ctx.cfg.task.head == "seq_cls":
            answers = [(label, float("nan")) for label in answers]
        check = compare(ctx, adapter, answers, str(artifact), "server", tolerance, SERVER_CALL)
        add_to_report(run_dir, write_check(run_dir, [check]))
        return check
    artifact = Path(artifact)
    if not artifact.exists():
        raise PlugtuneError(f"artifact={artifact}: no such file or folder")
    spec = read_spec(artifact.parent if artifact.is_file() else artifact)
    ctx, head = load_run(run_dir)
    examples = read_eval(ctx.cfg)
    adapter = adapter_predictions(ctx, head, load_with_adapter(ctx, head), examples)
    if artifact.is_file():
        check = check_gguf(ctx, adapter, examples, artifact, spec, tolerance)
    else:
        check = check_merged(ctx, adapter, examples, artifact, spec, tolerance)
    recorded = write_check(artifact.parent if artifact.is_file() else artifact, [check])
    add_to_report(run_dir, recorded)
    return check


def main(argv: list[str] | None = None) -> None:
    import sys

    from core.runs import parse_key_values

    usage = "python -m core.export_check run_dir=RUN artifact=PATH [tolerance=X]"
    args = parse_key_values(sys.argv[1:] if argv is None else argv, ("run_dir", "artifact", "tolerance"),
                            ("run_dir", "artifact"), usage)
    try:
        tolerance = float(args["tolerance"]) if args["tolerance"] is not None else None
    except ValueError:
        raise PlugtuneError(f"tolerance={args['tolerance']}: must be a number (the main metric's allowed drop)") from None
    verdict([check_artifact(args["run_dir"], args["artifact"], tolerance)])


if __name__ == "__main__":
    from core.runs import exit_on_error

    exit_on_error(main)
