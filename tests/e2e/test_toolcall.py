"""End to end on the embedded Gemma 3 270M: task=toolcall learns calls (shortened run).

Converts the model from its four part packages into a fresh cache first, so the join, the
sha256 check, the chat template and the end-of-turn stop token are exercised for real.
"""

import json

import pytest

pytestmark = pytest.mark.slow


def test_toolcall_on_gemma_learns_calls(shipped_toolcall_run):
    """The default schedule (3 epochs) on the first 300 of the 886 train rows, 24 test rows
    (the shared run in conftest.py, ~5 minutes on 2 cores with the conversion): exact match
    0.875 here (21 of 24). Seeds moved the full run's exact match by up to 0.1 (README), so the
    bar leaves room for another CPU's rounding to take another path; the base model is at 0."""
    run_dir, cache = shipped_toolcall_run.run_dir, shipped_toolcall_run.cache

    converted = cache / "models" / "gemma3-270m"
    assert not list(cache.glob("models/.gemma3-270m-*")), "scratch folders (joined GGUF) were left behind"
    from transformers import AutoTokenizer, GenerationConfig

    tokenizer = AutoTokenizer.from_pretrained(converted)
    assert "<start_of_turn>" in tokenizer.chat_template
    end_of_turn = tokenizer.convert_tokens_to_ids("<end_of_turn>")
    assert end_of_turn in GenerationConfig.from_pretrained(converted).eos_token_id

    results = json.loads((run_dir / "results.json").read_text())
    assert results["model"] == "gemma3-270m"
    base, tuned = results["metrics"]["baseline"], results["metrics"]["finetuned"]
    # The pretrained base writes prose, never a call: its exact match is the no-call rows' share.
    assert base["tool_call.parse_rate"] <= 0.1, base
    assert tuned["tool_call.parse_rate"] >= 0.8, tuned
    assert tuned["tool_call.exact_match"] >= 0.6, tuned
    rows = [json.loads(line) for line in (run_dir / "predictions.jsonl").read_text().splitlines()]
    finetuned = [r["prediction"] for r in rows if r["model"] == "finetuned"]
    assert len(finetuned) == shipped_toolcall_run.eval_rows
    # Generation stops at <end_of_turn>: every answer here is one line (compact JSON or the no-call
    # reply); without the stop token the model runs on into "\n<start_of_turn>user\n…".
    assert not any("\n" in answer or "start_of_turn" in answer for answer in finetuned), finetuned
