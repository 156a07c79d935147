"""What every benchmark shares: run each variant in its own process (so peak memory is its
own), collect the JSON it prints, and print a table with ratios against a reference variant."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RESULT_PREFIX = "BENCH_RESULT "


def peak_rss_mib() -> float:
    """This process's peak resident memory in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def peak_gpu_mib() -> float | None:
    """Peak GPU memory this process's tensors held, in MiB; None without CUDA."""
    torch = sys.modules.get("torch")  # a variant that never imported torch used no GPU
    if torch is None or not torch.cuda.is_available():
        return None
    return torch.cuda.max_memory_allocated() / 2**20


def on_gpu() -> bool:
    """Whether the variants train on a CUDA GPU (the recipes' scripts would too: they pass
    ``use_cpu`` only where there is no GPU)."""
    import torch

    return torch.cuda.is_available()


def memory_figures() -> dict:
    """Peak RSS, and peak GPU memory when there is a GPU."""
    gpu = peak_gpu_mib()
    return {"peak_rss_mib": peak_rss_mib(), **({"peak_gpu_mib": gpu} if gpu is not None else {})}


def add_override_argument(parser) -> None:
    """``--set KEY=VALUE`` (repeatable): config overrides every variant gets, e.g.
    ``--set model.path=DIR`` to benchmark another model (bench/random_model.py writes one)."""
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="a config override for every variant (repeatable), e.g. model.path=DIR")


def override_args(overrides: list[str]) -> list[str]:
    """The ``--set`` arguments that pass ``overrides`` on to a variant's process."""
    return [arg for override in overrides for arg in ("--set", override)]


def emit(result: dict) -> None:
    """Print a variant's figures where the driver finds them."""
    print(RESULT_PREFIX + json.dumps(result), flush=True)


def run_variant(script: str, variant: str, extra: list[str]) -> dict:
    """Run ``python SCRIPT --variant NAME`` in a fresh process and return the figures it emitted."""
    path = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p)  # keep the caller's entries
    env = {**os.environ, "PLUGTUNE_PROGRESS": "0", "PYTHONPATH": path}
    proc = subprocess.run([sys.executable, script, "--variant", variant, *extra], cwd=REPO, env=env,
                          capture_output=True, text=True)
    lines = [line for line in proc.stdout.splitlines() if line.startswith(RESULT_PREFIX)]
    if proc.returncode != 0 or not lines:
        raise SystemExit(f"variant {variant} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(lines[-1][len(RESULT_PREFIX):])


def print_table(rows: list[dict], columns: list[tuple[str, str, str]], reference: str) -> None:
    """Markdown table: one row per variant; ``columns`` are (key, header, format). Every numeric
    column also gets its ratio to the ``reference`` variant, so figures compare side by side; a row
    with a ``ratio_keys`` set gets ratios in those columns only (one that did other work)."""
    ref = next(r for r in rows if r["variant"] == reference)
    columns = [c for c in columns if any(r.get(c[0]) is not None for r in rows)]  # e.g. GPU memory on a CPU
    header = ["variant"] + [h for _, h, _ in columns]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        cells = [row["variant"]]
        for key, _, fmt in columns:
            value = row.get(key)
            if value is None:
                cells.append("")
                continue
            cell = format(value, fmt)
            wants_ratio = key in row.get("ratio_keys", {key})
            if isinstance(value, (int, float)) and ref.get(key) and row is not ref and wants_ratio:
                cell += f" ({value / ref[key]:.2f}×)"
            cells.append(cell)
        print("| " + " | ".join(cells) + " |")
