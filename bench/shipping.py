"""Shipping speed on this machine: the server, batch prediction and a q8_0 GGUF, each beside plain
transformers ``generate`` on the same rows.

A ``task=qa`` run on the embedded SmolLM2-135M (the shipped Q&A rows, ``train.max_steps`` 20;
or ``--run-dir`` of a finished generation run) is exported (merged, and GGUF q8_0), then:

- server: ``core.serve`` queried with the openai client, one request at a time: latency of a
  whole answer (p50/p95) and, streamed, of the first text piece; beside it the merged model's
  ``generate`` in this process on the same prompts (a whole answer; one new token);
- batch prediction: the run's prediction path (``core.predict`` batches prompts by length,
  ``train.eval_batch_size``) in answer tokens/s, beside plain ``generate`` on the merged model
  in batches of the same size;
- GGUF: llama-cpp-python's ``create_chat_completion`` on the q8_0 file, one row at a time, in
  answer tokens/s and latency, beside the merged model's ``generate`` one row at a time.

    python bench/shipping.py [--rows 20] [--run-dir RUN]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import REPO

sys.path.insert(0, str(REPO))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def latency(values: list[float]) -> str:
    return f"p50 {statistics.median(values) * 1000:.0f} ms, p95 {percentile(values, 0.95) * 1000:.0f} ms"


def train(root: Path) -> Path:
    from core.pipeline import run
    from core.testing import compose_config

    run_dir = root / "run"
    run(compose_config(["task=qa", "train.max_steps=20"]), run_dir)
    return run_dir


class Merged:
    """The merged model in plain transformers: chat template, generate, as a user's code would."""

    def __init__(self, folder: Path):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.torch = torch
        self.tokenizer = AutoTokenizer.from_pretrained(folder)
        self.tokenizer.padding_side = "left"
        self.model = AutoModelForCausalLM.from_pretrained(folder).eval()

    def prompts(self, conversations):
        return [self.tokenizer.apply_chat_template(m, add_generation_prompt=True, tokenize=False) for m in conversations]

    def generate(self, texts: list[str], **settings) -> int:
        """Generate for ``texts`` in one batch; returns the answer tokens (up to the stop)."""
        batch = self.tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)
        with self.torch.no_grad():
            out = self.model.generate(**batch, **settings)
        stops = self.model.generation_config.eos_token_id
        stops = {stops} if isinstance(stops, int) else set(stops)
        new = out[:, batch["input_ids"].shape[1]:].tolist()
        return sum(next((k for k, t in enumerate(row) if t in stops), len(row)) for row in new)


def bench_server(run_dir: Path, conversations, merged: Merged) -> list[dict]:
    from openai import OpenAI

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "core.serve", f"run_dir={run_dir}", f"port={port}", "idle_exit=300"],
                              cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        while "serving" not in (line := server.stdout.readline()):
            if not line:
                raise SystemExit("the server did not start")
        client = OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="unused", max_retries=0)
        client.chat.completions.create(model="run", messages=conversations[0])  # warm-up
        whole, first = [], []
        for messages in conversations:
            started = time.perf_counter()
            client.chat.completions.create(model="run", messages=messages)
            whole.append(time.perf_counter() - started)
            started, seen = time.perf_counter(), None
            for chunk in client.chat.completions.create(model="run", messages=messages, stream=True):
                if seen is None and chunk.choices and chunk.choices[0].delta.content:
                    seen = time.perf_counter() - started
            first.append(seen)  # the whole stream is read, so the next request starts on an idle server
    finally:
        server.terminate()
        server.wait()
    plain_whole, plain_first = [], []
    prompts = merged.prompts(conversations)
    merged.generate(prompts[:1])  # warm-up
    for prompt in prompts:
        started = time.perf_counter()
        merged.generate([prompt])
        plain_whole.append(time.perf_counter() - started)
        started = time.perf_counter()
        merged.generate([prompt], max_new_tokens=1)
        plain_first.append(time.perf_counter() - started)
    return [
        {"what": "server (openai client): whole answer", "figure": latency(whole), "p50": statistics.median(whole)},
        {"what": "transformers generate: whole answer", "figure": latency(plain_whole), "p50": statistics.median(plain_whole)},
        {"what": "server, streamed: first text", "figure": latency(first), "p50": statistics.median(first)},
        {"what": "transformers generate: one new token", "figure": latency(plain_first), "p50": statistics.median(plain_first)},
    ]


def bench_batch(run_dir: Path, examples, merged: Merged, conversations) -> list[dict]:
    from core.generation import generate, settings
    from core.runs import load_run, load_with_adapter

    ctx, head = load_run(run_dir)
    model = load_with_adapter(ctx, head)
    batch_size = int(ctx.cfg.train.eval_batch_size)
    prompts = [row["prompt_ids"] for row in head.encode(ctx, examples)]
    started = time.perf_counter()
    answers = generate(model, ctx.tokenizer, prompts, settings(ctx.cfg), batch_size, desc="predict")
    predicted = time.perf_counter() - started
    tokens = sum(a.tokens or 0 for a in answers)
    texts = merged.prompts(conversations)
    started = time.perf_counter()
    plain_tokens = sum(merged.generate(texts[i : i + batch_size]) for i in range(0, len(texts), batch_size))
    plain = time.perf_counter() - started
    return [
        {"what": f"batch prediction (core.predict's path, batches of {batch_size})",
         "figure": f"{tokens / predicted:.1f} answer tokens/s ({tokens} tokens, {predicted:.1f} s)", "rate": tokens / predicted},
        {"what": f"transformers generate, batches of {batch_size}",
         "figure": f"{plain_tokens / plain:.1f} answer tokens/s ({plain_tokens} tokens, {plain:.1f} s)",
         "rate": plain_tokens / plain},
    ]


def bench_gguf(gguf_file: Path, conversations, merged: Merged, spec: dict) -> list[dict]:
    from core.gguf_export import open_gguf

    llm = open_gguf(gguf_file, n_ctx=1024, n_threads=os.cpu_count() or 1)
    max_tokens = int(spec["decoding"]["max_new_tokens"])
    llm.create_chat_completion(messages=conversations[0], max_tokens=max_tokens, temperature=0.0)  # warm-up
    times, tokens = [], 0
    for messages in conversations:
        started = time.perf_counter()
        out = llm.create_chat_completion(messages=messages, max_tokens=max_tokens, temperature=0.0, repeat_penalty=1.0)
        times.append(time.perf_counter() - started)
        tokens += out["usage"]["completion_tokens"]
    plain_times, plain_tokens = [], 0
    for prompt in merged.prompts(conversations):
        started = time.perf_counter()
        plain_tokens += merged.generate([prompt])
        plain_times.append(time.perf_counter() - started)
    return [
        {"what": "GGUF q8_0 (llama-cpp-python), one row at a time",
         "figure": f"{tokens / sum(times):.1f} answer tokens/s, {latency(times)}", "rate": tokens / sum(times)},
        {"what": "merged model (transformers generate), one row at a time",
         "figure": f"{plain_tokens / sum(plain_times):.1f} answer tokens/s, {latency(plain_times)}",
         "rate": plain_tokens / sum(plain_times)},
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=20, help="eval rows to time (default 20)")
    parser.add_argument("--run-dir", help="a finished generation run (default: train a short task=qa run)")
    args = parser.parse_args()
    os.environ.setdefault("PLUGTUNE_PROGRESS", "0")
    import torch

    from core.artifact import read_spec
    from core.data import read_eval
    from core.export import export
    from core.export_check import request_messages
    from core.runs import saved_config

    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(args.run_dir) if args.run_dir else train(Path(tmp))
        gguf_dir = export(run_dir, fmt="gguf", quantization="q8_0")
        examples = read_eval(saved_config(run_dir))[: args.rows]
        conversations = [request_messages(ex) for ex in examples]
        merged = Merged(run_dir / "merged")
        rows = (bench_server(run_dir, conversations, merged) + bench_batch(run_dir, examples, merged, conversations)
                + bench_gguf(gguf_dir / "model-q8_0.gguf", conversations, merged, read_spec(gguf_dir)))
        cfg = saved_config(run_dir)
    print(f"\n{len(conversations)} rows of {cfg.task.name} on {cfg.model.name}, {torch.get_num_threads()} threads")
    print("| measured | figure | ratio to the line below |")
    print("|---|---|---|")
    for upper, lower in zip(rows[::2], rows[1::2]):
        key = "p50" if "p50" in upper else "rate"
        print(f"| {upper['what']} | {upper['figure']} | {upper[key] / lower[key]:.2f}× |")
        print(f"| {lower['what']} | {lower['figure']} | |")
    print(json.dumps({r["what"]: r["figure"] for r in rows}, ensure_ascii=False))


if __name__ == "__main__":
    main()
