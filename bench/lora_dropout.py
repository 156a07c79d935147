"""What LoRA dropout costs per training step on the CPU.

PEFT applies dropout to the input of every adapted layer before the low-rank branch, so each
adapted module draws a fresh Bernoulli mask over its whole input on every step; with
``lora_dropout=0`` it is an identity. This times the same training steps (the embedded model
and the shipped intent rows as `task=intent` builds and encodes them: classification head, LoRA
r8 on the last 12 blocks, the input cue; batches of 8 rows of similar length, AdamW) with dropout
0.05 and 0.0, for LoRA on q/v and on every linear layer. The variants take turns step by step
in one process, so drifts in the machine's speed hit all of them alike.

    python bench/lora_dropout.py             # 40 steps per variant (~3 min on 2 CPU cores)
    python bench/lora_dropout.py --steps 10
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from common import print_table

VARIANTS = {  # name: (peft.target_modules, peft.dropout)
    "q,v dropout 0.05": ("[q_proj,v_proj]", 0.05),
    "q,v dropout 0": ("[q_proj,v_proj]", 0.0),
    "all-linear dropout 0.05": ("[all-linear]", 0.05),
    "all-linear dropout 0": ("[all-linear]", 0.0),
}
BATCH = 8


def intent_config(targets: str, dropout: float):
    """``task=intent`` (LoRA r8 on the last 12 blocks) with the variant's targets and dropout."""
    from core.testing import compose_config

    return compose_config(["task=intent", f"peft.target_modules={targets}", f"peft.dropout={dropout}"])


def build(cfg, tmp: str):
    """The model as ``task=intent`` trains it (classification head, LoRA), its optimizer, and the
    run context; built by the intent head itself."""
    import torch
    from transformers import set_seed

    from core.kinds import RunContext
    from core.models import resolve_model_dir
    from core.pipeline import Plugins

    set_seed(cfg.seed)
    head = Plugins.resolve(cfg).head
    ctx = RunContext(cfg=cfg, run_dir=Path(tmp), model_dir=resolve_model_dir(cfg.model), labels=list(cfg.task.labels))
    model = head.load(ctx)
    model.train()
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    return model, optimizer, ctx


def intent_batches(cfg, ctx, count: int) -> list[dict]:
    """``count`` batches of shipped intent rows encoded and padded by the intent head, each of
    rows of similar length, spread over the range of lengths."""
    from core.data import load_data
    from core.pipeline import Plugins

    plugins = Plugins.resolve(cfg)
    rows = sorted(plugins.head.encode(ctx, load_data(cfg, plugins.data_format).train), key=lambda r: len(r["input_ids"]))
    stride = max(1, len(rows) // (count * BATCH))
    collate = plugins.head.collator(ctx)
    return [collate(rows[b * BATCH * stride : b * BATCH * stride + BATCH]) for b in range(count)]


def step(model, optimizer, batch: dict) -> float:
    """One timed training step (forward, backward, optimizer) in seconds."""
    start = time.perf_counter()
    model(**batch).loss.backward()
    optimizer.step()
    optimizer.zero_grad()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=40)
    args = parser.parse_args()

    import torch

    from core.pipeline import configure_threads

    configs = {name: intent_config(*spec) for name, spec in VARIANTS.items()}
    reference = configs["q,v dropout 0.05"]
    configure_threads(reference)
    with tempfile.TemporaryDirectory() as tmp:
        built = {name: build(cfg, tmp) for name, cfg in configs.items()}
        batches = intent_batches(reference, built["q,v dropout 0.05"][2], args.steps)
        times = {name: [] for name in VARIANTS}
        for model, optimizer, _ in built.values():  # warm-up, not timed
            step(model, optimizer, batches[0])
        for batch in batches:
            for name, (model, optimizer, _) in built.items():
                times[name].append(step(model, optimizer, batch))
    tokens = sum(int(batch["attention_mask"].sum()) for batch in batches)
    rows = []
    for name, seconds in times.items():
        total = sum(seconds)
        rows.append({"variant": name, "ms_per_step": 1000 * statistics.median(seconds),
                     "tokens_per_second": tokens / total, "seconds": total})
    peft = reference.peft
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {args.steps} steps of batch {BATCH}, "
          f"{tokens} tokens, LoRA r{peft.r} on the last {peft.top_layers} blocks of the embedded model\n")
    print_table(rows, [("ms_per_step", "median ms/step", ".1f"), ("tokens_per_second", "train tokens/s", ".0f"),
                       ("seconds", "total s", ".1f")], reference="q,v dropout 0.05")


if __name__ == "__main__":
    main()
