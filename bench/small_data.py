"""Small data with the defaults: each case trained as set (its epochs, ``train.min_steps=0``; its
rows only, ``data.vary_arguments_until=0``) and with the defaults (the floor of optimizer steps,
``train.min_steps``; tool-call rows copied with new argument values, ``data.vary_arguments_until``),
side by side.

Cases (the files of tests/e2e/data/):
- facts: 12 alpaca rows of a company's facts, train file = eval file, ``task=qa``; recall is
  how many answers contain their fact;
- intent24: 24 intent rows with 3 labels, 12 other phrasings to test, ``task=intent``;
- office_tools: 104 tool-call rows over 8 office tools of our own, 24 test rows whose argument
  values never occur in training, ``task=toolcall`` (Gemma 3 270M).

    python bench/small_data.py                     # every case (~15 min on 2 CPU cores)
    python bench/small_data.py --case facts --set train.min_steps=100
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from common import REPO, add_override_argument, emit, memory_figures, override_args, print_table, run_variant

DATA = REPO / "tests" / "e2e" / "data"
OFFICE = DATA / "office_tools"
CASES = {
    "facts": ["task=qa", f"data.train_path={DATA / 'company_facts.json'}", f"data.eval_path={DATA / 'company_facts.json'}"],
    "intent24": ["task=intent", f"data.train_path={DATA / 'small_intent_train.jsonl'}",
                 f"data.eval_path={DATA / 'small_intent_test.jsonl'}"],
    "office_tools": ["task=toolcall", f"data.train_path={OFFICE / 'train.json'}", f"data.eval_path={OFFICE / 'test.json'}",
                     f"data.tools_file={OFFICE / 'tools.json'}"],
}
VARIANTS = {"as-set": ["train.min_steps=0", "data.vary_arguments_until=0"], "default": []}


def recall(run_dir: Path) -> int | None:
    """Facts case: fine-tuned answers containing their fact (tests/e2e/test_small_data.py's keys)."""
    import sys

    sys.path.insert(0, str(REPO))
    from tests.e2e.test_small_data import FACT_KEYS, FACTS

    questions = [row["instruction"] for row in json.loads(FACTS.read_text(encoding="utf-8"))]
    rows = [json.loads(line) for line in (run_dir / "predictions.jsonl").read_text(encoding="utf-8").splitlines()]
    answers = {q: r["prediction"] for r in rows if r["model"] == "finetuned" for q in questions if q in r["input"]}
    return sum(key in answers.get(q, "") for q, key in zip(questions, FACT_KEYS))


def variant(case: str, name: str, overrides: list[str]) -> dict:
    from core.pipeline import run
    from core.testing import compose_config

    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(tmp) / "run"
        results = run(compose_config([*CASES[case], *VARIANTS[name], *overrides]), run_dir)
        recalled = recall(run_dir) if case == "facts" else None
    length = results["train"]["length"]
    return {
        "rows": length["rows"], "steps": length["steps"], "epochs": length["epochs"],
        "train_seconds": results["train"]["seconds"], "wall_seconds": time.perf_counter() - started,
        "main_metric": results["metrics"]["finetuned"][results["main_metric"]],
        "baseline_metric": results["metrics"]["baseline"][results["main_metric"]],
        **({"recalled": recalled} if recalled is not None else {}), **memory_figures(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", nargs="+", default=list(CASES), choices=list(CASES))
    parser.add_argument("--variant", help=argparse.SUPPRESS)  # NAME:CASE, run by the driver in a fresh process
    add_override_argument(parser)
    args = parser.parse_args()
    if args.variant:
        name, case = args.variant.split(":")
        emit(variant(case, name, args.overrides))
        return
    for case in args.case:
        rows = [{"variant": name, **run_variant(__file__, f"{name}:{case}", override_args(args.overrides))}
                for name in VARIANTS]
        print(f"\n### {case}: {' '.join(CASES[case][:1] + args.overrides)}\n")
        print_table(rows, [("rows", "train rows", "d"), ("epochs", "epochs", "g"), ("steps", "steps", "d"),
                           ("train_seconds", "training s", ".1f"), ("wall_seconds", "whole run s", ".1f"),
                           ("baseline_metric", "base main metric", ".4f"), ("main_metric", "fine-tuned main metric", ".4f"),
                           ("recalled", "facts recalled of 12", "d")],
                    reference="as-set")


if __name__ == "__main__":
    main()
