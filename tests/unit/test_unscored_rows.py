"""Eval rows without a reference answer (no model): evaluators score only rows with one, the others
are written unscored (predictions.jsonl "scored", results.json "scoring", report.md side by side),
and a run with nothing scored reports NaN instead of failing (main metric, summary, leaderboard).
A report lists each training file when there are several. The tiny-model runs are in
tests/integration/test_prediction_only.py."""

import json
import logging
import math
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from core import EvalResult, Prediction
from core.leaderboard import LeaderboardCallback, write_leaderboard
from core.pipeline import evaluate, main_metric, print_summary, scoring_counts, write_outputs
from core.report import UNSCORED_LISTED, render_report
from core.testing import compose_config, read_csv
from plugins.generation_metrics import MeanScoreEvaluator, exact_match_score
from plugins.macro_f1 import MacroF1Evaluator

QUESTIONS = [("北京是哪国首都", "中国"), ("What is 2+2?", None), ("法国首都", "巴黎"), ("Say hi", None)]


def preds(model: str, rows=QUESTIONS, answer=lambda q, ref: ref or f"answer to {q}") -> list[Prediction]:
    return [Prediction(model=model, input=q, reference=ref, prediction=answer(q, ref)) for q, ref in rows]


class Recording:
    """An evaluator that records what it was given (and fails on a missing reference, as a
    third-party evaluator written before unscored rows existed may)."""

    def __init__(self):
        self.seen = []

    def evaluate(self, predictions, ctx):
        self.seen.append([p.input for p in predictions])
        assert all(p.reference is not None for p in predictions)
        return EvalResult(metrics={"recorded": float(len(predictions))})


def fake_results(metrics: dict, scoring: dict, cfg_overrides=(), data_extra=None) -> dict:
    cfg = compose_config(["task=chat", "model.path=/does/not/matter", *cfg_overrides])
    return {
        "task": "chat", "model": "tiny", "main_metric": "exact_match", "metrics": metrics, "scoring": scoring,
        "train": {"seconds": 1.0, "examples": 1, "examples_per_second": 1.0, "tokens_per_second": 1.0},
        "data": {"train_rows": 3, "eval_rows": scoring.get("eval_rows", 0), **(data_extra or {})},
        "config": OmegaConf.to_container(cfg, resolve=True),
    }


# Fails before the change: evaluators were handed every row, None references included.
def test_evaluators_see_only_rows_with_a_reference():
    recording = Recording()
    metrics, results = evaluate({"rec": recording, "exact_match": MeanScoreEvaluator("exact_match", exact_match_score)},
                                preds("finetuned"), ctx=None)
    assert recording.seen == [["北京是哪国首都", "法国首都"]]
    assert metrics == {"recorded": 2.0, "exact_match": 1.0}
    assert results["exact_match"].details["count"] == 2


# Fails before the change: evaluators ran on rows with no reference and reported 0.0.
def test_nothing_to_score_runs_no_evaluator():
    recording = Recording()
    rows = [(q, None) for q, _ in QUESTIONS]
    metrics, results = evaluate({"rec": recording}, preds("finetuned", rows), ctx=None)
    assert (metrics, results, recording.seen) == ({}, {}, [])
    assert scoring_counts(preds("finetuned", rows)) == {"eval_rows": 4, "scored": 0, "unscored": 4}
    assert scoring_counts(preds("finetuned")) == {"eval_rows": 4, "scored": 2, "unscored": 2}


# Fails before the change: sklearn refused the None reference (mix of str and None labels).
def test_macro_f1_scores_labelled_rows_only():
    ctx = type("Ctx", (), {"labels": ["refund", "balance"]})()
    rows = [Prediction("finetuned", "退款", "refund", "refund"), Prediction("finetuned", "余额", "balance", "refund"),
            Prediction("finetuned", "查一下", None, "balance")]
    result = MacroF1Evaluator().evaluate(rows, ctx)
    assert result.metrics["accuracy"] == pytest.approx(0.5)
    assert result.details["skipped_no_reference"] == 1 and result.details["count"] == 2
    assert sum(map(sum, result.details["confusion_matrix"])) == 2
    none = MacroF1Evaluator().evaluate([rows[2]], ctx)
    assert none.metrics == {"accuracy": 0.0, "macro_f1": 0.0} and "reference" in none.details["reason"]
    assert none.plots == {}


# Fails before the change: no "scored" field, no "scoring" key, no side-by-side table.
def test_outputs_mark_unscored_rows_and_show_answers_side_by_side(tmp_path):
    predictions = {"baseline": preds("baseline", answer=lambda q, ref: f"base: {q}"), "finetuned": preds("finetuned")}
    scoring = scoring_counts(predictions["finetuned"])
    results = fake_results({"baseline": {"exact_match": 0.0}, "finetuned": {"exact_match": 1.0}}, scoring)
    write_outputs(tmp_path, results, {}, predictions, [])
    rows = [json.loads(line) for line in (tmp_path / "predictions.jsonl").read_text().splitlines()]
    assert [(r["model"], r["scored"]) for r in rows] == [(m, s) for m in ("baseline", "finetuned")
                                                         for s in (True, False, True, False)]
    assert json.loads((tmp_path / "results.json").read_text())["scoring"] == {"eval_rows": 4, "scored": 2, "unscored": 2}
    report = (tmp_path / "report.md").read_text()
    assert "Scored on 2 of 4 eval rows; 2 have no reference answer" in report
    side = report.split("## Answers without a reference", 1)[1]
    assert "| input | baseline | fine-tuned |" in side
    assert "| What is 2+2? | base: What is 2+2? | answer to What is 2+2? |" in side
    assert "| Say hi | base: Say hi | answer to Say hi |" in side
    predictions["finetuned"][1].prediction = " "
    assert "| What is 2+2? | base: What is 2+2? | *(empty)* |" in render_report(results, {}, predictions, [])
    samples = report.split("## Sample predictions", 1)[1].split("## Answers without a reference")[0]
    assert "北京是哪国首都" in samples and "What is 2+2?" not in samples  # the scored rows only


def test_side_by_side_table_is_capped(tmp_path):
    rows = [(f"question {i}", None) for i in range(UNSCORED_LISTED + 7)]
    predictions = {"baseline": preds("baseline", rows), "finetuned": preds("finetuned", rows)}
    results = fake_results({"baseline": {}, "finetuned": {}}, scoring_counts(predictions["finetuned"]))
    report = render_report(results, {}, predictions, [])
    assert f"| question {UNSCORED_LISTED - 1} |" in report and f"| question {UNSCORED_LISTED} |" not in report
    assert "7 more in predictions.jsonl" in report
    assert "## Sample predictions" not in report  # no scored row to show


# Fails before the change: main_metric raised "not reported by the evaluators".
def test_nothing_scored_gives_nan_and_one_summary_line(capsys, tmp_path):
    results = fake_results({"baseline": {}, "finetuned": {}}, {"eval_rows": 2, "scored": 0, "unscored": 2})
    assert math.isnan(main_metric(results))
    print_summary(results, tmp_path)
    out = capsys.readouterr().out
    (line,) = [line for line in out.splitlines() if "scored" in line and "run directory" not in line]
    assert line == "nothing was scored: none of the 2 eval rows has a reference answer (answers side by side in report.md)"
    report = render_report(results, {}, {"baseline": [], "finetuned": []}, [])
    assert "Nothing was scored: none of the 2 eval rows has a reference answer" in report
    # A metric that is missing although rows were scored is still a configuration error.
    with pytest.raises(Exception, match="task.main_metric"):
        main_metric(fake_results({"baseline": {}, "finetuned": {"char_f1": 1.0}}, {"eval_rows": 2, "scored": 2, "unscored": 0}))
    # results.json files written before the "scoring" key keep the old check
    old = fake_results({"baseline": {}, "finetuned": {}}, {})
    del old["scoring"]
    with pytest.raises(Exception, match="task.main_metric"):
        main_metric(old)


def test_summary_counts_unscored_rows(capsys, tmp_path):
    results = fake_results({"baseline": {"exact_match": 0.0}, "finetuned": {"exact_match": 0.5}},
                           {"eval_rows": 4, "scored": 2, "unscored": 2})
    print_summary(results, tmp_path)
    assert "scored 2 of 4 eval rows (2 without a reference answer: side by side in report.md)" in capsys.readouterr().out


# Fails before the change: the table went to the console only, so plugtune.log never said how the run came out.
def test_summary_also_ends_the_run_log(capsys, tmp_path):
    results = fake_results({"baseline": {"exact_match": 0.25}, "finetuned": {"exact_match": 0.75}},
                           {"eval_rows": 4, "scored": 4, "unscored": 0})
    handler = logging.FileHandler(tmp_path / "plugtune.log", encoding="utf-8")
    logging.getLogger("plugtune").addHandler(handler)
    try:
        print_summary(results, tmp_path)
    finally:
        logging.getLogger("plugtune").removeHandler(handler)
        handler.close()
    console = capsys.readouterr().out
    table_row = next(line for line in console.splitlines() if "exact_match" in line)
    assert "0.25" in table_row and "0.75" in table_row
    logged = (tmp_path / "plugtune.log").read_text(encoding="utf-8")
    assert table_row in logged.splitlines() and f"run directory: {tmp_path}" in logged


# Fails before the change: "600 examples" stood alone, and a reader took it for 600 rows.
def test_the_report_says_what_the_trained_examples_count_is_made_of():
    results = fake_results({"baseline": {}, "finetuned": {}}, {"eval_rows": 2, "scored": 0, "unscored": 2})
    results["train"].update(examples=600, length={"rows": 200, "rows_per_step": 8, "steps_per_epoch": 25, "epochs_asked": 3.0,
                                                  "min_steps": 60, "epochs": 3.0, "steps": 75, "decided_by": "train.epochs"})
    assert "Training: 1.0 s, 600 examples trained (200 rows × 3 epochs) (1.0/s)" in render_report(results, {}, {}, [])
    del results["train"]["length"]  # results.json files from before the length was recorded
    assert "Training: 1.0 s, 600 examples trained (1.0/s)" in render_report(results, {}, {}, [])


def unscored_job(sweep: Path, num: int, overrides: list[str], finetuned=None) -> None:
    job = sweep / str(num)
    (job / ".hydra").mkdir(parents=True)
    (job / ".hydra" / "overrides.yaml").write_text(OmegaConf.to_yaml(overrides))
    scored = finetuned is not None
    results = {"main_metric": "exact_match",
               "metrics": {"baseline": {"exact_match": 0.0} if scored else {},
                           "finetuned": {"exact_match": finetuned} if scored else {}},
               "scoring": {"eval_rows": 2, "scored": 2 if scored else 0, "unscored": 0 if scored else 2},
               "train": {"seconds": 3.0}}
    (job / "results.json").write_text(json.dumps(results))


# Fails before the change: the job showed blank cells and the callback named it the best job.
def test_leaderboard_lists_a_job_with_nothing_scored(tmp_path, capsys):
    sweep = tmp_path / "sweep"
    unscored_job(sweep, 0, ["train.lr=1e-4"])
    unscored_job(sweep, 1, ["train.lr=1e-3"], finetuned=0.5)
    rows = write_leaderboard(sweep)
    assert [(r.job, r.status) for r in rows] == [("1", "ok"), ("0", "ok")]
    markdown = (sweep / "leaderboard.md").read_text()
    assert "| 2 | 1e-4 | not scored | not scored | 3.0 | 0 |" in markdown
    assert [r["finetuned"] for r in read_csv(sweep / "leaderboard.csv")] == ["0.5", ""]

    only = tmp_path / "only"
    unscored_job(only, 0, ["train.lr=1e-4"])
    LeaderboardCallback().on_multirun_end(OmegaConf.create({"hydra": {"sweep": {"dir": str(only)}}}))
    assert "(1 jobs, no job scored: no eval row has a reference answer)" in capsys.readouterr().out


# Fails before the change: the data line printed the Python list of training files.
def test_report_lists_each_training_file(tmp_path):
    files = [{"path": "/d/domain.jsonl", "format": "messages", "rows_read": 100, "weight": 1.0, "rows_used": 98,
              "without_answer": 2},
             {"path": "/d/general.jsonl", "format": "alpaca", "rows_read": 1000, "weight": 0.3, "rows_used": 300}]
    without = {"train": {"count": 2, "rows": ["/d/domain.jsonl:4", "/d/domain.jsonl:9"]},
               "eval": {"count": 1, "rows": ["/d/eval.jsonl:2"]}}
    results = fake_results({"finetuned": {}}, {}, ["data.train_path=[/d/domain.jsonl,/d/general.jsonl]",
                                                   "data.eval_path=/d/eval.jsonl"],
                           {"train_files": files, "rows_without_answer": without})
    report = render_report(results, {}, {}, [])
    assert "- data: train 2 files, eval `/d/eval.jsonl`" in report
    assert "  - `/d/domain.jsonl` (format `messages`, weight 1.0): 100 rows read, 98 used (2 without an answer)" in report
    assert "  - `/d/general.jsonl` (format `alpaca`, weight 0.3): 1000 rows read, 300 used\n" in report
    assert "- left out of training (train): 2 rows without an answer\n  - /d/domain.jsonl:4\n" in report
    assert "- eval rows without a reference answer: 1 (answered by both models, not scored" in report
    # a list without H4's per-file stats (an older results.json): still one line per file
    plain = render_report(fake_results({"finetuned": {}}, {}, ["data.train_path=[/d/a.jsonl,/d/b.jsonl]"]), {}, {}, [])
    assert "- data: train 2 files, eval " in plain
    assert "  - `/d/a.jsonl`" in plain and "  - `/d/b.jsonl`" in plain and "['/d/a.jsonl'" not in plain
    single = render_report(fake_results({"finetuned": {}}, {}, ["data.train_path=/d/one.jsonl"]), {}, {}, [])
    assert "- data: train `/d/one.jsonl`, eval " in single
    one_file = [{"path": "/d/one.jsonl", "format": "messages", "rows_read": 3, "weight": 1.0, "rows_used": 3}]
    single = render_report(fake_results({"finetuned": {}}, {}, ["data.train_path=/d/one.jsonl"],
                                        {"train_files": one_file}), {}, {}, [])
    assert "- data: train `/d/one.jsonl`, eval " in single and "1 files" not in single


# Fails before the change: the sections read "## tool_call: baseline", and a reader took the
# baseline's "Worst failures" for the trained model's.
def test_evaluator_sections_say_which_model_in_words():
    results = fake_results({"baseline": {"exact_match": 0.0}, "finetuned": {"exact_match": 0.5}},
                           {"eval_rows": 4, "scored": 2, "unscored": 2})
    evals = {model: {"tool_call": EvalResult(metrics={}, report_md=f"Worst failures: {model}")}
             for model in ("baseline", "finetuned")}
    report = render_report(results, evals, {"baseline": preds("baseline"), "finetuned": preds("finetuned")}, [])
    trained = report.index("## tool_call: finetuned (the trained model)")
    before = report.index("## tool_call: baseline (the model before training)")
    assert trained < report.index("Worst failures: finetuned") < before < report.index("Worst failures: baseline")
