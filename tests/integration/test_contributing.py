"""CONTRIBUTING.md's hook reference: its examples run together in a real run on the tiny model."""

import json
import types

from core.pipeline import run
from core.testing import compose_config, inline_plugin, tiny_overrides


def test_examples_run_together_in_a_real_run(examples, tiny_model, tiny_data, tmp_path):
    """The data format, head, trainer and on_run_end examples drive one pipeline run."""
    train, eval_ = (tmp_path / "train.tsv", tmp_path / "eval.tsv")
    for source, target in zip(tiny_data, (train, eval_)):
        rows = [json.loads(line) for line in source.read_text(encoding="utf-8").splitlines()]
        target.write_text("".join(f"{r['text']}\t{r['label']}\n" for r in rows), encoding="utf-8")
    cfg = compose_config(
        tiny_overrides(tiny_model, train, eval_)
        + ["data.format=tsv_label", "task.head=seq_cls_lower", "task.trainer=none", "task.evaluators=[macro_f1]"]
    )
    plugins = ["register_data_formats", "register_task_heads", "register_trainers", "on_run_end"]
    with inline_plugin(types.SimpleNamespace(**{h: getattr(examples[h], h) for h in plugins}), name="examples"):
        results = run(cfg, tmp_path / "run")
    assert results["metrics"]["finetuned"] == results["metrics"]["baseline"]  # "none" trains nothing
    assert results["train"]["examples"] == 0
    assert json.loads((tmp_path / "run" / "metrics_only.json").read_text()) == results["metrics"]
