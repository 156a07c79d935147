"""CONTRIBUTING.md's hook reference: its examples run together in a real run on the tiny model."""

import json
import re
import types
from pathlib import Path

import pytest

from core.pipeline import run
from core.testing import REPO, compose_config, inline_plugin, tiny_overrides

SECTION = re.compile(r"^### (\w+)\(([^)]*)\)\n(.*?)(?=^### |\Z)", re.M | re.S)

CODE = re.compile(r"```python\n(.*?)```", re.S)


def reference_sections() -> list[tuple[str, list[str], str]]:
    """(hook name, argument names, example code) per section of '## Hook reference'."""
    text = (REPO / "CONTRIBUTING.md").read_text(encoding="utf-8")
    reference = text.split("## Hook reference", 1)[1]
    sections = []
    for name, args, body in SECTION.findall(reference):
        code = CODE.findall(body)
        assert len(code) == 1, f"section {name} must have exactly one python example"
        sections.append((name, [a.strip() for a in args.split(",") if a.strip()], code[0]))
    return sections


def load_example(name: str, code: str, directory: Path) -> types.ModuleType:
    """Execute one example as a module file, as a plugin author's package would hold it."""
    path = directory / f"example_{name}.py"
    path.write_text(code, encoding="utf-8")
    module = types.ModuleType(f"example_{name}")
    module.__file__ = str(path)
    exec(compile(code, str(path), "exec"), module.__dict__)
    return module


@pytest.fixture
def examples(tmp_path) -> dict[str, types.ModuleType]:
    return {name: load_example(name, code, tmp_path) for name, _, code in reference_sections()}


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
