"""Training time with and without ``train.speedups.frozen_block_cache`` (the frozen bottom blocks run
once instead of every epoch), same task, rows, epochs and seed, side by side.

Each variant trains through plugtune's own trainer on the embedded model; the time includes
computing the cache. The final training loss shows both trained the same thing.

    python bench/frozen_prefix.py                                  # intent, qa, toolcall; 3 epochs
    python bench/frozen_prefix.py --task qa --train-rows 16        # a smoke run
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from common import emit, peak_rss_mib, print_table, run_variant


def train_once(task: str, train_rows: int, epochs: int, cache: str) -> dict:
    from transformers import set_seed

    from core.data import load_data
    from core.kinds import RunContext
    from core.models import resolve_model_dir
    from core.pipeline import Plugins, configure_threads
    from core.testing import compose_config

    cfg = compose_config([f"task={task}", f"data.max_train_rows={train_rows}", f"train.epochs={epochs}",
                          "train.save_steps=null", f"train.speedups.frozen_block_cache={cache}"])
    configure_threads(cfg)
    set_seed(cfg.seed)  # the classification layer and LoRA A start from the same draw in both variants
    plugins = Plugins.resolve(cfg)
    data = load_data(cfg, plugins.data_format)
    labels = list(cfg.task.labels) if cfg.task.labels else []
    with tempfile.TemporaryDirectory() as tmp:
        ctx = RunContext(cfg=cfg, run_dir=Path(tmp), model_dir=resolve_model_dir(cfg.model), labels=labels)
        model = plugins.head.load(ctx)
        rows = plugins.head.encode(ctx, data.train)
        result = plugins.trainer.train(ctx, model, plugins.head, rows, None)
    final_loss = [r["train_loss"] for r in result.log_history if "train_loss" in r][-1]
    return {"rows": len(rows), "epochs": epochs, "train_seconds": result.seconds,
            "tokens_per_second": result.tokens / result.seconds, "cached_blocks": result.speedups["frozen_block_cache"]["cached_blocks"],
            "final_train_loss": final_loss, "peak_rss_mib": peak_rss_mib()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", choices=["plain", "cached"])
    parser.add_argument("--task", choices=["intent", "qa", "toolcall"], nargs="+", default=["intent", "qa", "toolcall"])
    parser.add_argument("--train-rows", type=int, default=96)
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    if args.variant:
        emit(train_once(args.task[0], args.train_rows, args.epochs, "true" if args.variant == "cached" else "false"))
        return
    for task in args.task:
        extra = ["--task", task, "--train-rows", str(args.train_rows), "--epochs", str(args.epochs)]
        rows = [{"variant": name, **run_variant(__file__, name, extra)} for name in ("plain", "cached")]
        print(f"\ntask={task}, {args.train_rows} rows, {args.epochs} epochs")
        print_table(rows, [
            ("cached_blocks", "blocks cached", "d"), ("train_seconds", "train s", ".1f"),
            ("tokens_per_second", "train tokens/s", ".1f"), ("peak_rss_mib", "peak RSS MiB", ".0f"),
            ("final_train_loss", "mean train loss", ".4f"),
        ], reference="plain")


if __name__ == "__main__":
    main()
