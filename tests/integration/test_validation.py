"""The validation split on the tiny model: carved from train (stratified, seeded, apart from the
eval rows) or read from data.val_path; the best checkpoint by the main metric is the fine-tuned
model; early stopping stops."""

import json

import pytest

from core import PlugtuneError
from core.testing import compose_config, run_cli, tiny_overrides, write_intent_rows

KEYWORDS = {"fraud_risk": "诈骗", "refund": "退款", "balance": "余额", "card_lost": "挂失", "other": "开门"}


def results(run_dir):
    return json.loads((run_dir / "results.json").read_text(encoding="utf-8"))


def run(tmp_path, tiny_model, train, eval_, *overrides):
    run_dir = tmp_path / "run"
    result = run_cli("core", *tiny_overrides(tiny_model, train, eval_), f"hydra.run.dir={run_dir}", *overrides)
    assert result.returncode == 0, result.stderr[-3000:]
    return run_dir, result


@pytest.fixture(scope="module")
def intent_files(tmp_path_factory):
    root = tmp_path_factory.mktemp("val-data")
    train = [(f"{kw}{'请问' * (i % 3)}{i}", label) for label, kw in KEYWORDS.items() for i in range(10)]
    evals = [(f"{kw}你好{i}", label) for label, kw in KEYWORDS.items() for i in range(2)]
    # One training row is word for word an eval row: it must never be a validation row.
    train.append(evals[0])
    return write_intent_rows(root / "train.jsonl", train), write_intent_rows(root / "eval.jsonl", evals)


@pytest.fixture(scope="module")
def fraction_run(tiny_model, intent_files, tmp_path_factory):
    return run(tmp_path_factory.mktemp("fraction"), tiny_model, *intent_files, "data.val_fraction=0.2", "train.epochs=3")


def test_val_fraction_is_stratified_seeded_and_apart_from_eval(fraction_run, intent_files):
    """Fails before the change: there was no validation split."""
    run_dir, _ = fraction_run
    out = results(run_dir)
    validation = out["validation"]
    assert validation["source"] == "data.val_fraction" and validation["rows"] == 10
    assert validation["label_counts"] == {label: 2 for label in KEYWORDS}  # 20 % of each label's 10 eligible rows
    assert out["data"]["train_rows"] == 51 - 10 and out["data"]["val_rows"] == 10
    assert validation["train_rows_not_eligible"] == 1  # the row that is also an eval row
    # every epoch scored; the best check is the one with the highest macro-F1
    checks = validation["checks"]
    assert [c["epoch"] for c in checks] == [1.0, 2.0, 3.0]
    best = max(checks, key=lambda c: c["value"])
    assert validation["best"]["value"] == best["value"]
    assert all(c["loss"] is not None for c in checks)  # the eval loss is the validation split's
    log = json.loads((run_dir / "train_log.json").read_text())
    assert [row["eval_macro_f1"] for row in log if "eval_macro_f1" in row] == [c["value"] for c in checks]


def test_val_rows_never_overlap_eval_rows(tiny_model, intent_files, tmp_path):
    """The carve leaves eval prompts in training; a val_path row that is an eval row is left out."""
    from core.data import load_data
    from core.registry import get_registry
    from core.validation_split import prompt_key

    train, eval_ = intent_files
    for seed in (1, 2, 3):
        cfg = compose_config(tiny_overrides(tiny_model, train, eval_) + ["data.val_fraction=0.5", f"seed={seed}"])
        data = load_data(cfg, get_registry().get("data_format", "text_label"))
        assert not {prompt_key(ex) for ex in data.val} & {prompt_key(ex) for ex in data.eval}
        assert not {ex.source for ex in data.val} & {ex.source for ex in data.train}
    val_file = write_intent_rows(tmp_path / "val.jsonl", [("诈骗你好0", "fraud_risk"), ("退款呢", "refund")])
    cfg = compose_config(tiny_overrides(tiny_model, train, eval_) + [f"data.val_path={val_file}"])
    data = load_data(cfg, get_registry().get("data_format", "text_label"))
    assert [ex.messages[-1]["content"] if ex.messages else None for ex in data.val] != []
    assert data.validation["rows"] == 1 and data.validation["left_out_as_eval_rows"] == 1
    cfg = compose_config(tiny_overrides(tiny_model, train, eval_) + [f"data.val_path={eval_}"])
    with pytest.raises(PlugtuneError, match="is the eval file"):
        load_data(cfg, get_registry().get("data_format", "text_label"))


def test_best_checkpoint_is_used_when_the_last_epoch_is_worse(tiny_model, intent_files, tmp_path):
    """Validation rows carry other labels of training rows with the same keywords, so the
    more the model learns the training labels, the worse it validates: the best check comes before
    the last, and the saved adapter scores the best check's value, not the last one's."""
    train, eval_ = intent_files
    labels = list(KEYWORDS)
    flipped = [(f"{kw}吗{i}", labels[(j + 1) % len(labels)]) for j, kw in enumerate(KEYWORDS.values()) for i in range(4)]
    val = write_intent_rows(tmp_path / "val.jsonl", flipped)
    run_dir, result = run(tmp_path, tiny_model, train, eval_, f"data.val_path={val}", "train.epochs=4", "train.lr=1e-3")
    validation = results(run_dir)["validation"]
    values = [c["value"] for c in validation["checks"]]
    assert validation["best"]["step"] != validation["last"]["step"], values  # the constructed case holds
    assert validation["best"]["value"] == max(values) > validation["last"]["value"]
    assert validation["used"] == "best"
    assert "train.load_best" in result.stdout + result.stderr
    from core.runs import load_run, load_with_adapter

    # the saved adapter is the best check's weights: re-scoring the validation rows gives its value
    from core.registry import get_registry

    ctx, head = load_run(run_dir)
    model = load_with_adapter(ctx, head)
    examples = get_registry().get("data_format", "text_label").read(val, ctx.cfg.data)
    predictions = head.predict(ctx, model, head.encode(ctx, examples), examples, "reloaded")
    rescored = get_registry().get("evaluator", "macro_f1").evaluate(predictions, ctx).metrics["macro_f1"]
    assert rescored == pytest.approx(validation["best"]["value"], abs=1e-6)


def test_early_stopping_stops(tiny_model, intent_files, tmp_path):
    """No gain can exceed a threshold of 1.0, so with patience 1 training stops after the second
    check: 2 of the 5 epochs."""
    train, eval_ = intent_files
    run_dir, result = run(tmp_path, tiny_model, train, eval_, "data.val_fraction=0.2", "train.epochs=5",
                          "train.early_stopping_patience=1", "train.early_stopping_threshold=1.0")
    out = results(run_dir)
    validation = out["validation"]
    assert validation["stopped_early"] is True
    assert [c["epoch"] for c in validation["checks"]] == [1.0, 2.0]
    steps_per_epoch = validation["checks"][0]["step"]
    assert validation["last"]["step"] == 2 * steps_per_epoch
    assert "early stopping" in result.stdout + result.stderr
