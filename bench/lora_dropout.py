"""What LoRA dropout costs per training step on the CPU.

PEFT applies dropout to the input of every adapted layer before the low-rank branch, so each
adapted module draws a fresh Bernoulli mask over its whole input on every step; with
``lora_dropout=0`` it is an identity. This times the same training steps (the embedded model,
the shipped intent rows with the task's input cue, batches of 8 of similar length, LoRA r8 on the
last 12 blocks, classification head, AdamW) with dropout 0.05 and 0.0, for LoRA on q/v and on
every linear layer. The variants take turns step by step in one process, so drifts in the
machine's speed hit all of them alike.

    python bench/lora_dropout.py             # 40 steps per variant (~3 min on 2 CPU cores)
    python bench/lora_dropout.py --steps 10
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from common import REPO, print_table

QV = ["q_proj", "v_proj"]
ALL_LINEAR = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
VARIANTS = {  # name: (target modules, dropout)
    "q,v dropout 0.05": (QV, 0.05),
    "q,v dropout 0": (QV, 0.0),
    "all-linear dropout 0.05": (ALL_LINEAR, 0.05),
    "all-linear dropout 0": (ALL_LINEAR, 0.0),
}
TOP_LAYERS = 12
BATCH = 8


def intent_batches(tokenizer, count: int):
    """``count`` padded batches of shipped intent rows, each of rows of similar length."""
    import torch

    path = REPO / "data" / "intent" / "train.jsonl"
    texts = [json.loads(line)["text"] + "\nIntent:" for line in path.read_text(encoding="utf-8").splitlines()]
    ids = sorted((tokenizer(t)["input_ids"] for t in texts), key=len)
    stride = max(1, len(ids) // (count * BATCH))
    batches = []
    for b in range(count):
        rows = ids[b * BATCH * stride : b * BATCH * stride + BATCH]
        width = max(map(len, rows))
        input_ids = torch.full((len(rows), width), tokenizer.pad_token_id)
        mask = torch.zeros(len(rows), width, dtype=torch.long)
        for i, row in enumerate(rows):
            input_ids[i, : len(row)] = torch.tensor(row)
            mask[i, : len(row)] = 1
        batches.append((input_ids, mask, torch.arange(len(rows)) % 5))
    return batches


def build(model_dir: Path, targets: list[str], dropout: float):
    """The embedded model with a classification head and LoRA, and its optimizer."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForSequenceClassification

    torch.manual_seed(0)
    model = AutoModelForSequenceClassification.from_pretrained(model_dir, num_labels=5)
    model.config.pad_token_id = model.config.eos_token_id
    layers = model.config.num_hidden_layers
    config = LoraConfig(task_type="SEQ_CLS", r=8, lora_alpha=16, lora_dropout=dropout, target_modules=targets,
                        layers_to_transform=list(range(layers - TOP_LAYERS, layers)))
    model = get_peft_model(model, config)
    model.train()
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    return model, optimizer


def step(model, optimizer, batch) -> float:
    """One timed training step (forward, backward, optimizer) in seconds."""
    input_ids, mask, labels = batch
    start = time.perf_counter()
    model(input_ids=input_ids, attention_mask=mask, labels=labels).loss.backward()
    optimizer.step()
    optimizer.zero_grad()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=40)
    args = parser.parse_args()

    import torch
    from transformers import AutoTokenizer

    from core.models import embedded_model_dir
    from core.testing import compose_config

    model_dir = embedded_model_dir(compose_config().model)
    batches = intent_batches(AutoTokenizer.from_pretrained(model_dir), args.steps)
    built = {name: build(model_dir, *spec) for name, spec in VARIANTS.items()}
    times = {name: [] for name in VARIANTS}
    for name, (model, optimizer) in built.items():  # warm-up, not timed
        step(model, optimizer, batches[0])
    for batch in batches:
        for name, (model, optimizer) in built.items():
            times[name].append(step(model, optimizer, batch))
    tokens = sum(int(mask.sum()) for _, mask, _ in batches)
    rows = []
    for name, seconds in times.items():
        total = sum(seconds)
        rows.append({"variant": name, "ms_per_step": 1000 * statistics.median(seconds),
                     "tokens_per_second": tokens / total, "seconds": total})
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {args.steps} steps of batch {BATCH}, "
          f"{tokens} tokens, LoRA r8 on the last {TOP_LAYERS} blocks of the embedded model\n")
    print_table(rows, [("ms_per_step", "median ms/step", ".1f"), ("tokens_per_second", "train tokens/s", ".0f"),
                       ("seconds", "total s", ".1f")], reference="q,v dropout 0.05")


if __name__ == "__main__":
    main()
