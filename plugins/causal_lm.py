"""``causal_lm`` task head: supervised fine-tuning of a chat model, evaluated by generation.

Encoding tokenises the template's training text piece by piece, cut at the template's answer
spans: each prompt piece and each answer piece on its own, the ids concatenated (as the tutorial
scripts do). Tokens never straddle a span boundary, so the answer tokens (``completion_mask``) are
exactly the answers and their end-of-turn markers, the generation prompt's ids are a prefix of the
training ids, and the first answer token carries a label whatever the template's last prompt
character is (``plain``'s prompt ends in a space, which whole-text tokenisation merged into the
first answer token, leaving it out of the loss). ``train.loss_on=all`` marks every token of the
rendered text instead, prompt included (the whole-text recipes: the CSV-export tutorial's TRL
script, the business Q&A tutorial).

Rows longer than ``task.max_length`` keep their start and are counted as truncated; a row whose
answer is cut away entirely trains nothing (whatever ``train.loss_on``): it is marked
``answer_cut`` and named by ``file:line`` in the log, ``results.json`` (``data.untrained_rows``)
and ``report.md``.

Evaluation generates an answer for each eval prompt with the run's ``generation.*`` settings
(``core.generation``: greedy unless ``generation.do_sample``; batched, left padded, stopping at
the end-of-sequence / end-of-turn tokens), for the baseline and the fine-tuned model
alike, with the same template as training.
"""

from __future__ import annotations

import logging

from core import Example, PlugtuneError, Prediction, hookimpl, lookup
from core.generation import generate
from core.generation import settings as generation_settings
from core.heads import LoraHead, load_tokenizer, quantization_kwargs, remote_code_hint, resolve_dtype, trust_remote_code
from core.kinds import RunContext

log = logging.getLogger("plugtune")


def split_at_spans(text: str, spans: list[tuple[int, int]]) -> list[tuple[str, bool]]:
    """``text`` cut at the edges of the character ``spans``: ``(piece, inside a span)`` in order,
    empty pieces left out. The pieces join back to ``text``."""
    pieces, at = [], 0
    for start, end in sorted(spans):
        if start < at or end < start or end > len(text):
            # A template plugin's mistake, named rather than silently training the wrong tokens.
            raise PlugtuneError(f"prompt template: answer spans {sorted(spans)} overlap or leave the "
                                f"{len(text)}-character text they belong to")
        pieces += [(text[at:start], False), (text[start:end], True)]
        at = end
    pieces.append((text[at:], False))
    return [(piece, inside) for piece, inside in pieces if piece]


def tokenize_at_spans(tokenizer, text: str, spans: list[tuple[int, int]]) -> tuple[list[int], list[int], int]:
    """``text`` tokenised piece by piece (:func:`split_at_spans`, no special tokens added), the ids
    concatenated: ``(ids, mask, prompt_length)`` with ``mask`` 1 on the tokens of the span pieces
    and ``prompt_length`` the number of ids before the last span (all of them when no span has text)."""
    pieces = split_at_spans(text, spans)
    parts = [tokenizer(piece, add_special_tokens=False)["input_ids"] for piece, _ in pieces]
    ids = [token for part in parts for token in part]
    mask = [int(inside) for (_, inside), part in zip(pieces, parts) for _ in part]
    answers = [i for i, (_, inside) in enumerate(pieces) if inside]
    prompt_length = sum(len(part) for part in parts[: answers[-1]]) if answers else len(ids)
    return ids, mask, prompt_length


def last_user_text(example: Example) -> str:
    """What a person would call the input: the last user turn's text."""
    for message in reversed(example.messages):
        if message["role"] == "user":
            return message.get("content") or ""
    return ""


def answer_stop_text(template, tokenizer, task_cfg) -> list[str]:
    """Literal text the template ends every answer with (``</s>`` written out, as the business
    Q&A layout does), which the end-of-sequence token does not cover: generation stops there too."""
    stop_text = getattr(template, "stop_text", None)
    text = stop_text(tokenizer, task_cfg) if callable(stop_text) else None
    return [text] if text else []


class CausalLmHead(LoraHead):
    task_type = "CAUSAL_LM"

    def load_tokenizer(self, ctx: RunContext) -> None:
        ctx.tokenizer = load_tokenizer(ctx.model_dir, trust_remote_code=trust_remote_code(ctx))

    def load_base(self, ctx: RunContext):
        """The base model without LoRA (export, chat)."""
        from transformers import AutoModelForCausalLM

        if ctx.tokenizer is None:
            self.load_tokenizer(ctx)
        with remote_code_hint(ctx.model_dir, ctx.cfg.model.name):
            model = AutoModelForCausalLM.from_pretrained(
                ctx.model_dir, dtype=resolve_dtype(ctx.cfg.model.dtype, ctx.cfg.train.get("precision", "auto")),
                trust_remote_code=trust_remote_code(ctx), **quantization_kwargs(ctx.cfg.model),
            )
        model.config.pad_token_id = ctx.tokenizer.pad_token_id
        return model

    def encode(self, ctx: RunContext, examples: list[Example]) -> list[dict]:
        template = ctx.template
        if template is None:  # a RunContext built without the resolved template (older callers)
            template = lookup("prompt_template", ctx.cfg.task.prompt_template)
        tokenizer, task = ctx.tokenizer, ctx.cfg.task
        whole_text = ctx.cfg.train.loss_on == "all"  # LossOn is a str enum: equal to its value
        # Room for the answer when a long prompt is cut for generation.
        prompt_limit = max(task.max_length - ctx.cfg.generation.max_new_tokens, task.max_length // 2)
        rows = []
        for example in examples:
            rendered = template.render(example, tokenizer, task)
            if rendered.answer is None:
                # A row without an answer is for prediction only (core.chat): nothing to train.
                ids = prompt_ids = tokenizer(rendered.prompt, add_special_tokens=False)["input_ids"]
                mask = [0] * len(ids)
            else:
                text = rendered.text or rendered.prompt + rendered.answer
                spans = rendered.train_spans or [(len(rendered.prompt), len(text))]
                # Cut at the span edges, so no token straddles the start of an answer: the ids
                # before the last answer are the generation prompt, and the first answer token
                # is trained.
                ids, mask, prompt_length = tokenize_at_spans(tokenizer, text, spans)
                prompt_ids = ids[:prompt_length]
            truncated = len(ids) > task.max_length
            had_answer = any(mask)
            ids, mask = ids[: task.max_length], mask[: task.max_length]
            answer_cut = had_answer and not any(mask)
            if whole_text and had_answer and not answer_cut:
                # train.loss_on=all: the whole rendered text carries the loss, prompt included
                # (a row whose answer was cut away still trains nothing, as reported).
                mask = [1] * len(ids)
            rows.append({
                "input_ids": ids,
                "completion_mask": mask,
                "prompt_ids": prompt_ids[-prompt_limit:],  # keep the end: the question and the cue
                "prompt": rendered.prompt,
                "answer": rendered.answer,
                "input": last_user_text(example),
                "truncated": truncated or len(prompt_ids) > prompt_limit,
                # The answer was cut away entirely: the row trains nothing (trainers leave it out,
                # the pipeline names it in the log, results.json and report.md).
                "answer_cut": answer_cut,
                "source": example.source,
            })
        return rows

    def collator(self, ctx: RunContext):
        """Right-padded batches whose labels are -100 outside the answers (for the ``hf`` trainer)."""
        import torch

        pad_id = ctx.tokenizer.pad_token_id

        def collate(rows):
            width = max(len(r["input_ids"]) for r in rows)
            ids, mask, labels = [], [], []
            for r in rows:
                fill = width - len(r["input_ids"])
                ids.append(r["input_ids"] + [pad_id] * fill)
                mask.append([1] * len(r["input_ids"]) + [0] * fill)
                labels.append([t if m else -100 for t, m in zip(r["input_ids"], r["completion_mask"])] + [-100] * fill)
            return {"input_ids": torch.tensor(ids), "attention_mask": torch.tensor(mask), "labels": torch.tensor(labels)}

        return collate

    def predict(self, ctx, model, encoded, examples, model_name) -> list[Prediction]:
        # Decoding as generation.* says (greedy unless generation.do_sample), as core.chat does.
        answers = generate(
            model, ctx.tokenizer, [r["prompt_ids"] for r in encoded], generation_settings(ctx.cfg),
            ctx.cfg.train.eval_batch_size, desc=f"generate {model_name}",
            stop_strings=answer_stop_text(ctx.template, ctx.tokenizer, ctx.cfg.task),
        )
        # generation.max_new_tokens ended these answers, not the model: they may be unfinished
        cut = [answer.cut_at_limit for answer in answers]
        if any(cut):
            log.info("%s: %d of %d answers reached generation.max_new_tokens=%d and may be unfinished "
                     "(cut_at_limit in predictions.jsonl)", model_name, sum(cut), len(answers),
                     generation_settings(ctx.cfg).max_new_tokens)
        return [
            Prediction(model=model_name, input=r["input"], reference=r["answer"], prediction=answer,
                       extra={"source": r["source"], "prompt": ctx.tokenizer.decode(r["prompt_ids"]),
                              **({"cut_at_limit": True} if was_cut else {})})
            for r, answer, was_cut in zip(encoded, answers, cut)
        ]


@hookimpl
def register_task_heads(register):
    register("causal_lm", CausalLmHead())
