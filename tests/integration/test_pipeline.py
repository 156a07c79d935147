"""The whole run on the tiny model through the real CLI: run directory, overrides, adapter."""

import json

import pytest
import torch

from core.testing import INTENT_LABELS, assert_adapter_reproduces, run_cli, tiny_overrides
from plugins.macro_f1 import classification_scores


@pytest.fixture(scope="module")
def tiny_run(tiny_model, tmp_path_factory):
    from core.testing import tiny_intent_data

    root = tmp_path_factory.mktemp("tiny-run")
    train, eval_ = tiny_intent_data(root / "data")
    run_dir = root / "run"
    overrides = tiny_overrides(tiny_model, train, eval_)
    # The DESIGN contract overrides, given last so they win.
    result = run_cli("core", *overrides, f"hydra.run.dir={run_dir}", "train.epochs=1", "peft.r=4", "seed=3")
    assert result.returncode == 0, result.stderr[-3000:]
    return run_dir, result, train, eval_


def test_run_directory_contract(tiny_run):
    run_dir, _, _, eval_ = tiny_run
    for name in ("results.json", "report.md", "predictions.jsonl", "loss_curve.png",
                 "confusion_matrix_baseline.png", "confusion_matrix_finetuned.png",
                 "adapter/adapter_config.json", "adapter/adapter_model.safetensors", ".hydra/config.yaml"):
        assert (run_dir / name).is_file(), name
    results = json.loads((run_dir / "results.json").read_text())
    assert results["task"] == "intent" and results["model"] == "smollm2-135m"
    for model in ("baseline", "finetuned"):
        assert set(results["metrics"][model]) == {"accuracy", "macro_f1"}
    train = results["train"]
    assert train["examples"] == 40 and train["seconds"] > 0
    assert train["examples_per_second"] == pytest.approx(40 / train["seconds"], rel=0.02)
    assert train["tokens_per_second"] > 0
    rows = [json.loads(line) for line in (run_dir / "predictions.jsonl").read_text().splitlines()]
    eval_rows = len(eval_.read_text().splitlines())
    assert [r["model"] for r in rows] == ["baseline"] * eval_rows + ["finetuned"] * eval_rows
    for model in ("baseline", "finetuned"):
        mine = [r for r in rows if r["model"] == model]
        scores = classification_scores([r["reference"] for r in mine], [r["prediction"] for r in mine], INTENT_LABELS)
        assert results["metrics"][model]["macro_f1"] == pytest.approx(scores["macro_f1"])
        assert results["metrics"][model]["accuracy"] == pytest.approx(scores["accuracy"])
    # the classic baseline: its own file, scored on the same rows, beside (not in) metrics
    assert set(results["metrics"]) == {"baseline", "finetuned"}
    classic = [json.loads(line) for line in (run_dir / "classic_predictions.jsonl").read_text().splitlines()]
    assert [r["reference"] for r in classic] == [r["reference"] for r in rows if r["model"] == "baseline"]
    scores = classification_scores([r["reference"] for r in classic], [r["prediction"] for r in classic], INTENT_LABELS)
    assert results["classic_baseline"]["metrics"]["macro_f1"] == pytest.approx(scores["macro_f1"])


def test_overrides_are_used_and_reported(tiny_run):
    run_dir, _, train, eval_ = tiny_run
    config = json.loads((run_dir / "results.json").read_text())["config"]
    assert config["train"]["epochs"] == 1 and config["peft"]["r"] == 4 and config["seed"] == 3
    assert (config["data"]["train_path"], config["data"]["eval_path"]) == (str(train), str(eval_))
    adapter_config = json.loads((run_dir / "adapter/adapter_config.json").read_text())
    assert adapter_config["r"] == 4
    report = (run_dir / "report.md").read_text()
    assert "r=4," in report and "epochs=1.0" in report and str(train) in report
    assert "| macro_f1 |" in report and "## Sample predictions" in report


def test_prints_comparison_table(tiny_run):
    _, result, _, _ = tiny_run
    results = json.loads((tiny_run[0] / "results.json").read_text())
    base = results["metrics"]["baseline"]["macro_f1"]
    tuned = results["metrics"]["finetuned"]["macro_f1"]
    conf = results["confidence"]["models"]
    line = next(line for line in result.stdout.splitlines() if line.startswith("macro_f1"))
    cells = [cell.strip() for cell in line.split("  ") if cell.strip()]
    interval = lambda model: f"[{conf[model]['low']:.3f}, {conf[model]['high']:.3f}]"  # noqa: E731
    assert cells[1:4] == [f"{base:.4f} {interval('baseline')}", f"{tuned:.4f} {interval('finetuned')}",
                          f"{tuned - base:+.4f}"]
    classic = results["classic_baseline"]["metrics"]["macro_f1"]
    assert cells[4] == f"{classic:.4f} {interval('classic')}"  # the classic baseline's column


def test_adapter_reloads_with_plain_peft(tiny_run, tiny_model):
    assert_adapter_reproduces(tiny_model, tiny_run[0])


def test_long_input_is_cut_at_the_start_keeping_the_cue(tiny_model, tmp_path):
    from core import Example
    from core.kinds import RunContext
    from core.testing import compose_config
    from plugins.seq_cls import SeqClsHead

    ctx = RunContext(cfg=compose_config(["task.max_length=16"]), run_dir=tmp_path,
                     model_dir=str(tiny_model), labels=INTENT_LABELS)
    head = SeqClsHead()
    head.load(ctx)
    long_text = "前面的话" * 40 + "我的卡丢了"
    (row,) = head.encode(ctx, [Example(messages=[{"role": "user", "content": long_text}], label="card_lost")])
    assert len(row["input_ids"]) == 16
    assert ctx.tokenizer.decode(row["input_ids"]).endswith("卡丢了\nIntent:")
    assert row["labels"] == INTENT_LABELS.index("card_lost")


def test_a_half_precision_base_trains_its_classification_head_in_fp32(tiny_model, tiny_data, tmp_path):
    # model.dtype=bfloat16 is what `auto` gives on a GPU. PEFT keeps LoRA in fp32 but would train
    # its copy of the score head in bf16; plugtune stores every trainable weight in fp32.
    from core.kinds import RunContext
    from core.pipeline import Plugins, run
    from core.testing import compose_config

    cfg = compose_config(tiny_overrides(tiny_model, *tiny_data) + ["model.dtype=bfloat16"])
    ctx = RunContext(cfg=cfg, run_dir=tmp_path, model_dir=str(tiny_model), labels=list(cfg.task.labels))
    model = Plugins.resolve(cfg).head.load(ctx)
    trainable = {name: p.dtype for name, p in model.named_parameters() if p.requires_grad}
    assert any("score" in name for name in trainable)
    assert set(trainable.values()) == {torch.float32}
    assert next(p for p in model.parameters() if not p.requires_grad).dtype == torch.bfloat16

    results = run(cfg, tmp_path / "run")  # and the bf16 base with fp32 head trains and evaluates
    assert 0.0 <= results["metrics"]["finetuned"]["macro_f1"] <= 1.0
    losses = [r["loss"] for r in json.loads((tmp_path / "run" / "train_log.json").read_text()) if "loss" in r]
    assert losses and all(loss == loss for loss in losses)  # no NaN
