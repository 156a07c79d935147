"""Small data learns with the defaults (the embedded model): a dozen company facts asked back, as
the tutorials test, and a 24-row intent file. train.min_steps raises the epochs; the run says so."""

import json
import time
from pathlib import Path

import pytest

from core.testing import run_cli, write_intent_rows

pytestmark = pytest.mark.slow

FACTS = Path(__file__).parent / "data" / "company_facts.json"
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
    texts = {
        "refund": ["我要退款", "申请退款", "钱退给我", "退货退款怎么弄", "这单帮我退了", "怎么还没退钱", "退款多久到账", "不想要了退钱"],
        "balance": ["查一下余额", "卡里还有多少钱", "余额是多少", "看看账户余额", "我还剩多少钱", "查询余额", "账户里有多少", "帮我查余额"],
        "card_lost": ["卡丢了", "银行卡不见了", "我的卡被偷了", "挂失银行卡", "卡找不到了", "钱包和卡都丢了", "要挂失", "卡掉了怎么办"],
    }
    train = write_intent_rows(tmp_path / "train.jsonl", [(t, label) for label, ts in texts.items() for t in ts])
    tests = [("想退款", "refund"), ("退钱给我吧", "refund"), ("帮我办退款", "refund"), ("订单退款", "refund"),
             ("余额还有多少", "balance"), ("查查我的余额", "balance"), ("账户还剩多少", "balance"), ("余额查询", "balance"),
             ("卡丢了要挂失", "card_lost"), ("银行卡丢了", "card_lost"), ("我的卡被偷了怎么办", "card_lost"), ("挂失", "card_lost")]
    eval_ = write_intent_rows(tmp_path / "test.jsonl", tests)
    run_dir = tmp_path / "run"
    result = run_cli("core", "task=intent", f"data.train_path={train}", f"data.eval_path={eval_}",
                     f"hydra.run.dir={run_dir}", timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    results = json.loads((run_dir / "results.json").read_text(encoding="utf-8"))
    assert results["train"]["length"]["decided_by"] == "train.min_steps"
    # chance is 1/3 (4 of 12); the untrained head's guess is the baseline column
    assert results["metrics"]["finetuned"]["accuracy"] >= 0.75, results["metrics"]
    assert results["metrics"]["finetuned"]["macro_f1"] > results["metrics"]["baseline"]["macro_f1"], results["metrics"]
