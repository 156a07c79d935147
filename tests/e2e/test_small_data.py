"""Small data learns with the defaults (the embedded model): a dozen company facts asked back, as
the tutorials test, and a 24-row intent file. train.min_steps raises the epochs; the run says so."""

import json
import time
from pathlib import Path

import pytest

from core.testing import run_cli

pytestmark = pytest.mark.slow

DATA = Path(__file__).parent / "data"
FACTS = DATA / "company_facts.json"  # 12 alpaca rows: a company's facts, asked back
SMALL_INTENT_TRAIN = DATA / "small_intent_train.jsonl"  # 24 rows, 3 labels
SMALL_INTENT_TEST = DATA / "small_intent_test.jsonl"  # 12 other phrasings
#: the part of each answer that must come back (the fact, not the wording around it)
FACT_KEYS = ["2013", "杭州", "400-820-6688", "9点", "15天", "99元", "周明远", "云帆", "100分", "3个工作日", "两年",
             "0.15元"]


def test_a_dozen_facts_are_recalled_with_the_defaults(tmp_path):
    run_dir = tmp_path / "run"
    started = time.perf_counter()
    result = run_cli("core", "task=qa", f"data.train_path={FACTS}", f"data.eval_path={FACTS}",
                     f"hydra.run.dir={run_dir}", timeout=600)
    seconds = time.perf_counter() - started
    assert result.returncode == 0, result.stderr[-3000:]
    assert "eval rows are the train rows: this measures recall, not generalisation" in result.stdout
    log = (run_dir / "plugtune.log").read_text(encoding="utf-8")
    assert "training length: 12 rows, 8 a step: 2 steps an epoch; train.epochs=4 gives 8 steps" in log
    rows = [json.loads(line) for line in (run_dir / "predictions.jsonl").read_text(encoding="utf-8").splitlines()]
    questions = [q["instruction"] for q in json.loads(FACTS.read_text(encoding="utf-8"))]
    answers = {question: row["prediction"] for row in rows if row["model"] == "finetuned"
               for question in questions if question in row["input"]}
    assert len(answers) == 12, [row["input"] for row in rows]
    recalled = [key for question, key in zip(questions, FACT_KEYS) if key in answers[question]]
    assert len(recalled) >= 11, [(key, answers[q]) for q, key in zip(questions, FACT_KEYS)]
    assert not any(answer.endswith("\ufffd") for answer in answers.values())
    assert seconds <= 300, f"{seconds:.0f} s"


def test_a_24_row_intent_file_learns_above_chance_with_the_defaults(tmp_path):
    run_dir = tmp_path / "run"
    result = run_cli("core", "task=intent", f"data.train_path={SMALL_INTENT_TRAIN}", f"data.eval_path={SMALL_INTENT_TEST}",
                     f"hydra.run.dir={run_dir}", timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    results = json.loads((run_dir / "results.json").read_text(encoding="utf-8"))
    assert results["train"]["length"]["decided_by"] == "train.min_steps"
    # 12 test rows, 3 labels: chance is 4 right; the untrained head's guess is the baseline column
    assert results["metrics"]["finetuned"]["accuracy"] >= 0.75, results["metrics"]
    assert results["metrics"]["finetuned"]["macro_f1"] > results["metrics"]["baseline"]["macro_f1"], results["metrics"]
