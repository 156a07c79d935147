"""core.export merges an adapter into a plain model; core.chat answers with base and fine-tuned."""

import json
import subprocess
import sys

import pytest

from core.testing import CHAT_EVAL, CHAT_TRAIN, REPO, run_cli, run_tiny_chat, tiny_overrides


@pytest.fixture(scope="module")
def chat_run(tiny_model, tmp_path_factory):
    run_dir, _, train, eval_ = run_tiny_chat(tmp_path_factory.mktemp("export-chat"), tiny_model, "train.lr=5e-3")
    return run_dir, train, eval_


def test_merged_model_generates_what_the_adapter_does(chat_run, tmp_path):
    from transformers import AutoModelForCausalLM

    from core.export import export
    from core.runs import load_run, load_with_adapter
    from core.types import Example
    from plugins.causal_lm import generate

    run_dir, _, _ = chat_run
    out = export(run_dir, tmp_path / "merged")
    assert (out / "config.json").is_file() and not (out / "adapter_config.json").exists()
    ctx, head = load_run(run_dir)
    titles = [title for title, _ in CHAT_TRAIN[:3] + CHAT_EVAL]
    examples = [Example(messages=[{"role": "user", "content": t}]) for t in titles]
    prompts = [row["prompt_ids"] for row in head.encode(ctx, examples)]
    assert len(prompts) == 5
    adapter_model = load_with_adapter(ctx, head)
    merged_model = AutoModelForCausalLM.from_pretrained(out).eval()
    # As the pipeline decodes (stopping at end-of-turn) ...
    assert generate(merged_model, ctx.tokenizer, prompts, 8, 8, "m") == generate(adapter_model, ctx.tokenizer, prompts, 8, 8, "a")
    # ... and token by token with the stop disabled, so an early end-of-turn cannot hide a difference.
    import torch

    for prompt in prompts:
        ids = torch.tensor([prompt])
        with torch.no_grad():
            a = adapter_model.generate(input_ids=ids, max_new_tokens=8, min_new_tokens=8, do_sample=False)
            m = merged_model.generate(input_ids=ids, max_new_tokens=8, min_new_tokens=8, do_sample=False)
        assert m.tolist() == a.tolist() and m.shape[1] == len(prompt) + 8


def test_seq_cls_adapter_exports_too(tiny_model, tiny_data, tmp_path):
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from core.export import export
    from core.runs import load_run, load_with_adapter

    run_dir = tmp_path / "run"
    result = run_cli("core", *tiny_overrides(tiny_model, *tiny_data), f"hydra.run.dir={run_dir}")
    assert result.returncode == 0, result.stderr[-3000:]
    out = export(run_dir)
    assert out == run_dir / "merged"
    ctx, head = load_run(run_dir)
    batch = AutoTokenizer.from_pretrained(out)(["卡丢了\nIntent:", "查余额\nIntent:"], return_tensors="pt", padding=True)
    merged = AutoModelForSequenceClassification.from_pretrained(out).eval()
    # The run's labels (taken from the training file, in results.json), not an unnamed classifier.
    labels = json.loads((run_dir / "results.json").read_text())["config"]["task"]["labels"]
    assert len(labels) == 5 and merged.config.id2label == dict(enumerate(labels))
    with torch.no_grad():
        assert torch.allclose(merged(**batch).logits, load_with_adapter(ctx, head)(**batch).logits, atol=1e-5)


def test_chat_batch_mode_prints_and_writes_both_columns(chat_run, tmp_path):
    run_dir, _, eval_ = chat_run
    out = tmp_path / "answers.jsonl"
    result = run_cli("core.chat", f"run_dir={run_dir}", f"input={eval_}", f"output={out}")
    assert result.returncode == 0, result.stderr[-3000:]
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    reported = [json.loads(line) for line in (run_dir / "predictions.jsonl").read_text().splitlines()]
    # The same answers the run reported for both models: same template, system prompt, decoding.
    assert [r["baseline"] for r in rows] == [r["prediction"] for r in reported if r["model"] == "baseline"]
    assert [r["finetuned"] for r in rows] == [r["prediction"] for r in reported if r["model"] == "finetuned"]
    assert [(r["input"], r["reference"]) for r in rows] == CHAT_EVAL
    assert result.stdout.count("fine-tuned: ") == 2 and f"input:      {CHAT_EVAL[0][0]}" in result.stdout


def test_chat_interactive_mode_answers_each_line(chat_run):
    run_dir, _, _ = chat_run
    result = subprocess.run(
        [sys.executable, "-m", "core.chat", f"run_dir={run_dir}"], cwd=REPO, input="蓝牙耳机 降噪\n\n",
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.count("base:       ") == 1 and result.stdout.count("fine-tuned: ") == 1
    # Typed messages get the system prompt the rows were trained with.
    assert "system prompt (as in training; system=... to change): 从商品标题中提取核心商品名称。" in result.stdout


def test_chat_and_export_errors_are_one_line(tmp_path):
    result = run_cli("core.export", f"run_dir={tmp_path}")
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: run_dir: {tmp_path} has no .hydra/config.yaml; pass the folder of a finished run"
    result = run_cli("core.chat", "rundir=x")
    assert result.returncode == 2 and result.stderr.startswith("error: unexpected argument 'rundir=x'; usage:")
