"""``seq_cls`` task head: a sequence-classification model with a LoRA adapter.

The base model gets a fresh ``score`` layer (normal, std 0.02) with one output per label;
PEFT's SEQ_CLS task type trains and saves that layer together with the adapter, so
``PeftModel.from_pretrained(base, adapter_dir)`` restores the whole classifier.
"""

from __future__ import annotations


from core import Example, Prediction, hookimpl, lookup, speedups
from core.heads import LoraHead, load_tokenizer, quantization_kwargs, remote_code_hint, resolve_dtype, trust_remote_code
from core.kinds import RunContext
from core.progress import progress


def load_classifier(model_dir: str, labels: list[str], pad_token_id: int, dtype="auto", **load_kwargs):
    """Load the base model with a classification layer sized for ``labels`` (``dtype``: a
    ``model.dtype`` name or a torch dtype; ``load_kwargs`` go to ``from_pretrained``, e.g. a
    quantization config or ``trust_remote_code``)."""
    from transformers import AutoModelForSequenceClassification
    from transformers.utils import logging as hf_logging

    # The new score layer is reported as "MISSING" from the checkpoint; that is expected here.
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        model = AutoModelForSequenceClassification.from_pretrained(
            model_dir,
            num_labels=len(labels),
            id2label=dict(enumerate(labels)),
            label2id={label: i for i, label in enumerate(labels)},
            dtype=dtype if not isinstance(dtype, str) else resolve_dtype(dtype),
            **load_kwargs,
        )
    finally:
        hf_logging.set_verbosity(verbosity)
    model.config.pad_token_id = pad_token_id
    # A classifier never generates: without this its forward fills a key/value cache every step,
    # and under the compile speed-up each block's cache index would force a recompile.
    model.config.use_cache = False
    return model


class SeqClsHead(LoraHead):
    task_type = "SEQ_CLS"

    def load_tokenizer(self, ctx: RunContext) -> None:
        ctx.tokenizer = load_tokenizer(ctx.model_dir, trust_remote_code=trust_remote_code(ctx))
        # The head reads the last token, so an over-long input loses its start, not the end of
        # the message and the input_format cue after it.
        ctx.tokenizer.truncation_side = "left"
        # Right padding keeps the real tokens' positions the same as in an unpadded input, so
        # batched predictions equal one-by-one predictions.
        ctx.tokenizer.padding_side = "right"

    def load_base(self, ctx: RunContext):
        """The base model with a fresh classification layer, without LoRA (export, chat)."""
        import torch

        if ctx.tokenizer is None:
            self.load_tokenizer(ctx)
        dtype = resolve_dtype(ctx.cfg.model.dtype, ctx.cfg.train.get("precision", "auto"))  # older saved configs lack it
        with remote_code_hint(ctx.model_dir, ctx.cfg.model.name):
            model = load_classifier(
                ctx.model_dir, ctx.labels, ctx.tokenizer.pad_token_id, dtype,
                trust_remote_code=trust_remote_code(ctx), **quantization_kwargs(ctx.cfg.model),
            )
        speedups.prepare_model(model, ctx.cfg)  # pooled_top_mlp
        # The intent-classification tutorial re-initialises the head: an untrained head is the
        # honest baseline.
        torch.nn.init.normal_(model.score.weight, mean=0.0, std=0.02)
        return model

    def encode(self, ctx: RunContext, examples: list[Example]) -> list[dict]:
        template = ctx.template
        if template is None:  # a RunContext built without the resolved template (older callers)
            template = lookup("prompt_template", ctx.cfg.task.prompt_template)
        label_ids = {label: i for i, label in enumerate(ctx.labels)}
        texts = [template.render(ex, ctx.tokenizer, ctx.cfg.task).prompt for ex in examples]
        max_length = ctx.cfg.task.max_length
        full_lengths = [len(ids) for ids in ctx.tokenizer(texts)["input_ids"]]
        encoded = ctx.tokenizer(texts, truncation=True, max_length=max_length)
        return [
            # Unlabelled rows (prediction only, e.g. core.chat) get the ignore index.
            {"input_ids": ids, "attention_mask": mask, "labels": label_ids.get(ex.label, -100), "text": text,
             "truncated": full > max_length}
            for ids, mask, ex, text, full in zip(
                encoded["input_ids"], encoded["attention_mask"], examples, texts, full_lengths
            )
        ]

    def collator(self, ctx: RunContext):
        from transformers import DataCollatorWithPadding

        pad = DataCollatorWithPadding(ctx.tokenizer)

        def collate(rows):
            return pad([{k: r[k] for k in ("input_ids", "attention_mask", "labels")} for r in rows])

        return collate

    def predict(self, ctx, model, encoded, examples, model_name) -> list[Prediction]:
        import torch

        collate = self.collator(ctx)
        batch_size = ctx.cfg.train.eval_batch_size
        # Sorting by length keeps padding (wasted compute) small; results go back in order.
        order = sorted(range(len(encoded)), key=lambda i: len(encoded[i]["input_ids"]))
        probs: dict[int, list[float]] = {}
        model.eval()
        device = next(model.parameters()).device
        with torch.no_grad(), progress(total=len(order), desc=f"evaluate {model_name}") as bar:
            for start in range(0, len(order), batch_size):
                idx = order[start : start + batch_size]
                batch = collate([encoded[i] for i in idx])
                batch.pop("labels")
                logits = model(**{k: v.to(device) for k, v in batch.items()}).logits
                for i, row in zip(idx, torch.softmax(logits.float(), dim=-1).tolist()):
                    probs[i] = row
                bar.update(len(idx))
        predictions = []
        for i, ex in enumerate(examples):
            best = max(range(len(ctx.labels)), key=lambda j: probs[i][j])
            predictions.append(
                Prediction(
                    model=model_name,
                    input=encoded[i]["text"],
                    reference=ex.label,
                    prediction=ctx.labels[best],
                    extra={"probability": round(probs[i][best], 4)},
                )
            )
        return predictions


@hookimpl
def register_task_heads(register):
    register("seq_cls", SeqClsHead())
