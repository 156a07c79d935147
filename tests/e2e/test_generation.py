"""End to end on the embedded model: task=qa learns the shipped product facts (shortened run)."""

import json
import re

import pytest

from core.testing import run_cli

pytestmark = pytest.mark.slow


def test_qa_run_learns_the_product_facts(tmp_path):
    """The shipped training with 20 eval questions (~6 minutes on 2 cores). On all 60 the default
    reaches char_f1 0.54 from 0.17 (README); on these 20 it recalls the figures of 5 of the 18
    answers that have one, so 3 leaves room for run-to-run noise. Two epochs recalled only 1:
    the numbers are the last thing learned."""
    run_dir = tmp_path / "run"
    result = run_cli("core", "task=qa", "data.max_eval_rows=20", f"hydra.run.dir={run_dir}",
                     timeout=1200)
    assert result.returncode == 0, result.stderr[-3000:]
    results = json.loads((run_dir / "results.json").read_text())
    base, tuned = results["metrics"]["baseline"], results["metrics"]["finetuned"]
    assert tuned["char_f1"] - base["char_f1"] >= 0.15, results["metrics"]
    assert tuned["rouge_l"] > base["rouge_l"], results["metrics"]
    rows = [json.loads(line) for line in (run_dir / "predictions.jsonl").read_text().splitlines()]
    finetuned = [r for r in rows if r["model"] == "finetuned"]

    def numbers(text: str) -> set[str]:
        return set(re.findall(r"\d+", text))

    # The invented figures (prices, sizes, days) turn up in the fine-tuned answers.
    recalled = sum(1 for r in finetuned if numbers(r["reference"]) and numbers(r["reference"]) <= numbers(r["prediction"]))
    assert recalled >= 3, [(r["reference"], r["prediction"]) for r in finetuned]
    assert "| input | reference | baseline | fine-tuned |" in (run_dir / "report.md").read_text()
