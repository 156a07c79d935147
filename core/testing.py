"""Helpers for testing plugtune and plugins: a tiny model, tiny data, inline plugins, configs.

Used by plugtune's own tests and meant for plugin authors' tests too::

    from core.testing import compose_config, inline_plugin, tiny_model_dir

- Building blocks: :func:`tiny_model_dir` (a random 2-block model with the embedded model's
  tokenizer), :func:`embedded_tokenizer`, :func:`tiny_intent_data` / :func:`write_intent_rows`,
  :func:`compose_config`, :func:`inline_plugin`.
- Running plugtune: :func:`tiny_overrides` (intent) and :func:`generation_overrides` (chat, qa,
  toolcall) point a run at the tiny model; :func:`run_cli` runs ``python -m core ...``;
  :data:`CHAT_TRAIN` / :data:`CHAT_EVAL`, :func:`write_chat_data` and :func:`run_tiny_chat` give a
  small ``task=chat`` run.
- Serving a run: :class:`ServedRun` starts ``python -m core.serve`` on 127.0.0.1 and a free port
  and stops it (``with ServedRun(run_dir) as server: server.client()...``).
- Reading a run: :func:`predictions`, :func:`finetuned_probabilities`, :func:`losses`;
  :func:`assert_adapter_reproduces` (the adapter, reloaded with plain PEFT, predicts what the run
  reported) and :func:`assert_sft_cache_trains_the_same_model`.

Nothing here is imported by plugtune itself; heavy imports (torch, transformers, pytest) happen
inside the functions that need them.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

INTENT_LABELS = ["fraud_risk", "refund", "balance", "card_lost", "other"]


def embedded_tokenizer():
    """The embedded model's real tokenizer, read from the converted cache (converting once)."""
    from transformers import AutoTokenizer

    from core.models import embedded_model_dir

    return AutoTokenizer.from_pretrained(embedded_model_dir(compose_config(["model=smollm2-135m"]).model))


def tiny_model_dir(path: Path, seed: int = 0, layers: int = 2) -> Path:
    """Write a randomly initialised Qwen2 model (``layers`` blocks, hidden 64) with a real tokenizer.

    Loads in well under a second, so unit tests can run the whole pipeline on it.
    """
    import torch
    from transformers import AutoModelForCausalLM, Qwen2Config

    path = Path(path)
    if (path / "config.json").is_file():
        return path
    tokenizer = embedded_tokenizer()
    torch.manual_seed(seed)
    config = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=512,
        tie_word_embeddings=True,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    AutoModelForCausalLM.from_config(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def write_intent_rows(path: Path, rows: list[tuple[str, str]]) -> Path:
    """Write ``(text, label)`` pairs as text/label JSONL."""
    path = Path(path)
    path.write_text("".join(json.dumps({"text": t, "label": l}, ensure_ascii=False) + "\n" for t, l in rows), encoding="utf-8")
    return path


def tiny_intent_data(directory: Path, per_label: int = 8) -> tuple[Path, Path]:
    """Small, easy train/eval files for the five intent labels (keyword per label)."""
    keywords = {"fraud_risk": "诈骗", "refund": "退款", "balance": "余额", "card_lost": "挂失", "other": "开门"}
    train = [(f"{kw}{'请问' * (i % 3)}{i}", label) for label, kw in keywords.items() for i in range(per_label)]
    evals = [(f"{kw}你好{i}", label) for label, kw in keywords.items() for i in range(2)]
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    return write_intent_rows(directory / "train.jsonl", train), write_intent_rows(directory / "eval.jsonl", evals)


def compose_config(overrides: list[str] | None = None, return_hydra_config: bool = False):
    """Compose plugtune's config as ``python -m core`` would, without running anything.

    ``return_hydra_config=True`` keeps the ``hydra`` node (sweeper, launcher, callbacks).
    """
    from hydra import compose, initialize_config_module

    import core.config  # noqa: F401  (registers the schema)
    from core.config import rename_legacy_overrides

    with initialize_config_module(config_module="conf", version_base="1.3"):
        return compose(config_name="config", overrides=rename_legacy_overrides(list(overrides or [])),
                       return_hydra_config=return_hydra_config)


@contextlib.contextmanager
def inline_plugin(plugin, name: str = "inline-test-plugin"):
    """Register ``plugin`` (a module or object with @hookimpl functions) for the block's duration."""
    from core.plugins import get_plugin_manager

    pm = get_plugin_manager()
    pm.register(plugin, name=name)
    try:
        yield pm
    finally:
        pm.unregister(name=name)


# ---------------------------------------------------------------------------------------------
# Running plugtune in a test: overrides for the tiny model, the command line, chat data.
# ---------------------------------------------------------------------------------------------

#: The directory ``run_cli`` runs from: the checkout (or site-packages) that holds ``core``.
REPO = Path(__file__).resolve().parent.parent


def run_cli(*args: str, env: dict | None = None, timeout: int = 600, cwd: Path | None = None):
    """Run ``python -m ARGS`` (e.g. ``run_cli("core", "task=chat", ...)``), capturing output.

    Runs from ``cwd`` (default: :data:`REPO`) with progress bars off and ``env`` added to the
    environment; returns the ``subprocess.CompletedProcess`` (``.returncode``, ``.stdout``, ``.stderr``).
    """
    import os
    import subprocess
    import sys

    full_env = {**os.environ, "PLUGTUNE_PROGRESS": "0", **(env or {})}
    full_env.pop("HYDRA_FULL_ERROR", None)
    return subprocess.run([sys.executable, "-m", *args], cwd=cwd or REPO, env=full_env,
                          capture_output=True, text=True, timeout=timeout)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ServedRun:
    """``python -m core.serve run_dir=RUN_DIR ARGS`` in a subprocess on 127.0.0.1 and a free port,
    started when made (its banner read, at most ``start_timeout`` s) and stopped by :meth:`stop` or
    on leaving a ``with`` block. ``idle_exit`` makes the server stop by itself after that many
    seconds without requests, so a crashed test leaves nothing listening. ``env`` is added to the
    server's environment (e.g. ``PLUGTUNE_CACHE``)."""

    def __init__(self, run_dir, *args: str, idle_exit: int = 60, start_timeout: int = 120,
                 client_timeout: int = 60, env: dict | None = None):
        import os
        import subprocess
        import sys
        import time

        self.port = free_port()
        self.client_timeout = client_timeout
        self.process = subprocess.Popen(
            [sys.executable, "-m", "core.serve", f"run_dir={run_dir}", f"port={self.port}",
             f"idle_exit={idle_exit}", *args],
            cwd=REPO, env={**os.environ, **(env or {})}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True)
        deadline = time.monotonic() + start_timeout
        self.banner = ""
        while "serving" not in self.banner:
            line = self.process.stdout.readline()
            if not line or time.monotonic() > deadline:
                self.stop()
                raise AssertionError(f"server did not start: {self.banner[-2000:]}")
            self.banner += line
        self.url = f"http://127.0.0.1:{self.port}/v1"

    def client(self):
        """The official OpenAI client pointed at the server."""
        from openai import OpenAI

        return OpenAI(base_url=self.url, api_key="unused", max_retries=0, timeout=self.client_timeout)

    def stop(self) -> None:
        """Terminate the server and wait for it (killed after 30 s: never left behind)."""
        import subprocess

        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> "ServedRun":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def tiny_overrides(tiny_model: Path, train: Path, eval_: Path) -> list[str]:
    """Overrides that run the intent task on the tiny model and tiny data, quickly.

    ``tiny_model`` is a :func:`tiny_model_dir`, ``train``/``eval_`` a :func:`tiny_intent_data` pair.
    """
    return [
        "model.source=local",
        f"model.path={tiny_model}",
        f"data.train_path={train}",
        f"data.eval_path={eval_}",
        f"task.labels=[{','.join(INTENT_LABELS)}]",  # named, as a user would: fixed label ids
        "train.epochs=2",
        "train.min_steps=0",  # the tiny data's own epochs: 2 (small data would otherwise train 60 steps)
        "train.lr=5e-3",
        "train.batch_size=8",
        "train.logging_steps=1",
        # fp32 on every CPU: tests that compare losses exactly must not depend on the machine's AMX.
        "train.speedups.cpu_bf16=false",
    ]


#: Six (product title, product name) pairs for ``task=chat`` runs: training rows ...
CHAT_TRAIN = [
    ("【官方正品】小米 Redmi 蓝牙耳机 降噪", "蓝牙耳机"),
    ("2024新款 不锈钢保温杯 大容量 男女同款", "保温杯"),
    ("Apple/苹果 机械键盘 RGB 背光 游戏专用", "机械键盘"),
    ("包邮 纯棉连衣裙 夏季 碎花 显瘦", "连衣裙"),
    ("限时秒杀 电动牙刷 声波 成人 软毛", "电动牙刷"),
    ("进口猫粮 成猫 全价 鸡肉味 2kg", "猫粮"),
]
#: ... and two evaluation rows.
CHAT_EVAL = [("华为 无线蓝牙耳机 运动 防水", "蓝牙耳机"), ("304 保温杯 学生 便携 500ml", "保温杯")]


def chat_row(title: str, product: str) -> dict:
    """One ``messages`` row: a system prompt, the title as the user turn, the product as the answer."""
    return {"messages": [
        {"role": "system", "content": "从商品标题中提取核心商品名称。"},
        {"role": "user", "content": title},
        {"role": "assistant", "content": product},
    ]}


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    """Write ``rows`` as UTF-8 JSONL to ``path``; returns ``path``."""
    path = Path(path)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def write_chat_data(root: Path) -> tuple[Path, Path]:
    """The CHAT_TRAIN and CHAT_EVAL rows as ``messages`` JSONL files in ``root``: (train, eval)."""
    root = Path(root)
    return (write_jsonl(root / "train.jsonl", [chat_row(*r) for r in CHAT_TRAIN]),
            write_jsonl(root / "eval.jsonl", [chat_row(*r) for r in CHAT_EVAL]))


def generation_overrides(tiny_model: Path, train: Path, eval_: Path) -> list[str]:
    """Overrides that run a generative task (chat, qa, toolcall) on the tiny model, quickly."""
    return [
        "model.source=local", f"model.path={tiny_model}", f"data.train_path={train}", f"data.eval_path={eval_}",
        "train.epochs=2", "train.min_steps=0", "train.batch_size=4", "train.logging_steps=1",
        "generation.max_new_tokens=6",
        "data.vary_arguments_until=0",  # the tiny tool-call rows as written (task=toolcall would add copies)
    ]


def run_tiny_chat(root: Path, tiny_model: Path, *overrides: str):
    """``task=chat`` on the tiny model and the CHAT_* rows in ``root``; returns (run_dir, result, train, eval).

    Runs the real command line (:func:`run_cli`) and asserts it succeeded.
    """
    train, eval_ = write_chat_data(root)
    run_dir = Path(root) / "run"
    result = run_cli("core", "task=chat", *generation_overrides(tiny_model, train, eval_), *overrides,
                     f"hydra.run.dir={run_dir}")
    assert result.returncode == 0, result.stderr[-3000:]
    return run_dir, result, train, eval_


# ---------------------------------------------------------------------------------------------
# Reading what a run wrote, and comparing runs.
# ---------------------------------------------------------------------------------------------

def predictions(run_dir: Path) -> list[dict]:
    """The rows of a run's ``predictions.jsonl`` (baseline and finetuned)."""
    return [json.loads(line) for line in (Path(run_dir) / "predictions.jsonl").read_text().splitlines()]


def finetuned_probabilities(run_dir: Path) -> list[float]:
    """The fine-tuned model's probability for each evaluation row of a classification run."""
    return [p["probability"] for p in predictions(run_dir) if p["model"] == "finetuned"]


def losses(run_dir: Path) -> list[float]:
    """The training losses a run logged, in order."""
    return [e["loss"] for e in json.loads((Path(run_dir) / "train_log.json").read_text()) if "loss" in e]


def reload_predictions(model_dir: Path, adapter_dir: Path, texts: list[str], max_length: int,
                       labels: list[str] = INTENT_LABELS) -> list[tuple[str, float]]:
    """Plain transformers + PEFT, no plugtune code: base model, adapter, predict one by one
    (no padding), truncating as the seq_cls head does. Returns (label, probability) per text."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir, truncation_side="left")
    base = AutoModelForSequenceClassification.from_pretrained(
        model_dir, num_labels=len(labels), pad_token_id=tokenizer.pad_token_id
    )
    model = PeftModel.from_pretrained(base, adapter_dir).eval()
    out = []
    with torch.no_grad():
        for text in texts:
            inputs = tokenizer(text, truncation=True, max_length=max_length, return_tensors="pt")
            probs = torch.softmax(model(**inputs).logits[0], -1)
            out.append((labels[int(probs.argmax())], float(probs.max())))
    return out


def assert_adapter_reproduces(model_dir: Path, run_dir: Path):
    """A classification run's adapter, reloaded with plain PEFT on ``model_dir``, gives the labels
    and (within 2e-3) the probabilities the run wrote to ``predictions.jsonl``."""
    import pytest

    rows = predictions(run_dir)
    tuned = [r for r in rows if r["model"] == "finetuned"]
    max_length = json.loads((Path(run_dir) / "results.json").read_text())["config"]["task"]["max_length"]
    again = reload_predictions(model_dir, Path(run_dir) / "adapter", [r["input"] for r in tuned], max_length)
    assert [label for label, _ in again] == [r["prediction"] for r in tuned]
    for (_, prob), row in zip(again, tuned):
        assert prob == pytest.approx(row["probability"], abs=2e-3)


def assert_sft_cache_trains_the_same_model(model_dir, tmp_path, overrides: list[str], cached_blocks: int, min_steps: int):
    """``task=chat`` with and without the cache: same losses and answers, ``cached_blocks`` deep at the end.

    Runs the pipeline in-process twice (``train.speedups.frozen_block_cache=true`` / ``false``)
    under ``tmp_path/cached`` and ``tmp_path/plain``.
    """
    import pytest

    from core.pipeline import run

    train, eval_ = write_chat_data(tmp_path)
    base = ["task=chat", *generation_overrides(model_dir, train, eval_), *overrides]
    cached = run(compose_config(base + ["train.speedups.frozen_block_cache=true"]), tmp_path / "cached")
    plain = run(compose_config(base + ["train.speedups.frozen_block_cache=false"]), tmp_path / "plain")
    assert cached["train"]["speedups"]["frozen_block_cache"]["cached_blocks"] == cached_blocks and plain["train"]["speedups"]["frozen_block_cache"]["cached_blocks"] == 0
    assert len(losses(tmp_path / "plain")) >= min_steps
    assert losses(tmp_path / "cached") == pytest.approx(losses(tmp_path / "plain"), rel=1e-4)
    answers = lambda d: [p["prediction"] for p in predictions(d) if p["model"] == "finetuned"]  # noqa: E731
    assert answers(tmp_path / "cached") == answers(tmp_path / "plain")


def fake_plugin_distribution(root: Path, module: str, body: str, version: str = "0.3.1") -> Path:
    """Write ``body`` as module ``module`` in ``root`` with a ``.dist-info`` declaring it in
    entry-point group ``plugtune``, as ``pip install`` would; put ``root`` on ``sys.path`` (or
    ``PYTHONPATH``) and plugtune loads it. Returns ``root``."""
    import textwrap

    root = Path(root)
    (root / f"{module}.py").write_text(textwrap.dedent(body))
    info = root / f"{module}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}\nVersion: {version}\n")
    (info / "entry_points.txt").write_text(f"[plugtune]\n{module} = {module}\n")
    return root


def fake_sweep_job(sweep: Path, num: int, overrides: list[str], finetuned: float | None = None,
                   baseline: float | None = None, error: str | None = None, confidence: dict | None = None) -> Path:
    """A sweep job directory without running it: Hydra's ``overrides.yaml`` and either a
    ``failed.json`` (``error``) or a ``results.json`` of the intent task's macro-F1 (``finetuned``;
    ``baseline`` defaults to ``0.1 + num / 100``, training seconds are ``10 + num``)."""
    from omegaconf import OmegaConf

    job = Path(sweep) / str(num)
    (job / ".hydra").mkdir(parents=True)
    (job / ".hydra" / "overrides.yaml").write_text(OmegaConf.to_yaml(overrides))
    if error:
        (job / "failed.json").write_text(json.dumps({"error": error}))
    elif finetuned is not None:
        results = {
            "main_metric": "macro_f1",
            "metrics": {"baseline": {"macro_f1": 0.1 + num / 100 if baseline is None else baseline},
                        "finetuned": {"macro_f1": finetuned}},
            "train": {"seconds": 10.0 + num},
            "scoring": {"eval_rows": 200, "scored": 200, "unscored": 0},
            **({"confidence": confidence} if confidence else {}),
        }
        (job / "results.json").write_text(json.dumps(results))
        (job / "report.md").write_text("# report\n")
    return job


def read_csv(path: Path) -> list[dict]:
    """The rows of a CSV file with a header (e.g. a sweep's ``leaderboard.csv``)."""
    import csv

    with Path(path).open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def assert_leaderboard_matches_jobs(sweep: Path, expected_jobs: int) -> list[dict]:
    """Every job of the sweep in ``sweep`` has ``results.json``, the leaderboard's numbers are
    exactly those, best first; returns the leaderboard's rows."""
    table = read_csv(Path(sweep) / "leaderboard.csv")
    assert len(table) == expected_jobs
    for row in table:
        results = json.loads((Path(sweep) / row["job"] / "results.json").read_text())
        name = results["main_metric"]
        assert row["status"] == "ok" and row["main_metric"] == name
        assert float(row["finetuned"]) == results["metrics"]["finetuned"][name]
        assert float(row["baseline"]) == results["metrics"]["baseline"][name]
        assert float(row["train_seconds"]) == results["train"]["seconds"]
    finetuned = [float(r["finetuned"]) for r in table]
    assert finetuned == sorted(finetuned, reverse=True)
    return table
