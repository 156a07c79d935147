"""torchrun: two CPU processes (gloo) train one run; rank 0 alone evaluates and writes."""

import json
import os
import subprocess
import sys

from core.data import load_data
from core.pipeline import Plugins, evaluate
from core.runs import load_run, load_with_adapter
from core.testing import REPO, tiny_overrides


def test_torchrun_two_processes_one_run_dir_rank0_outputs(tiny_model, tiny_data, tmp_path):
    runs = tmp_path / "runs"
    command = [
        sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--standalone",
        "-m", "core", *tiny_overrides(tiny_model, *tiny_data), "train.threads=1",
        f"hydra.run.dir={runs}/${{plugtune_stamp:}}",
    ]
    env = {**os.environ, "PLUGTUNE_PROGRESS": "0", "OMP_NUM_THREADS": "1"}
    result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    run_dirs = list(runs.iterdir())
    assert len(run_dirs) == 1, f"ranks disagreed on the run dir: {run_dirs}"
    run_dir = run_dirs[0]
    assert (run_dir / "results.json").is_file() and (run_dir / "adapter" / "adapter_config.json").is_file()
    assert result.stdout.count("run directory:") == 1  # only rank 0 printed the summary
    results = json.loads((run_dir / "results.json").read_text())
    # DDP splits each epoch: 40 rows, batch 8, 2 epochs are 10 steps in one process, 6 on 2 ranks.
    steps = max(row["step"] for row in json.loads((run_dir / "train_log.json").read_text()))
    assert steps == 6

    # Evaluate the saved adapter in this single process: the same metrics as rank 0 reported.
    ctx, head = load_run(run_dir)
    model = load_with_adapter(ctx, head)
    data = load_data(ctx.cfg, Plugins.resolve(ctx.cfg).data_format)
    predictions = head.predict(ctx, model, head.encode(ctx, data.eval), data.eval, "finetuned")
    metrics, _ = evaluate(Plugins.resolve(ctx.cfg).evaluators, predictions, ctx)
    for name, value in results["metrics"]["finetuned"].items():
        assert metrics[name] == value, name
