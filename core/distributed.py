"""Runs launched as several processes (``torchrun``, ``accelerate launch``): DDP on the
existing engines, so plugtune only has to agree on two things.

* One run directory for every rank. Hydra's ``${now:}`` is read in each process, a few
  milliseconds apart, so the run dir uses ``${plugtune_stamp:}``: the launcher's start time
  and a suffix derived from the launcher, which every rank on a node shares. Runs over several nodes set
  ``hydra.run.dir`` explicitly.
* Rank 0 alone evaluates and writes reports, plots and the adapter; every rank trains.
"""

from __future__ import annotations

import functools
import hashlib
import os
import secrets
import socket
import time
from pathlib import Path

STAMP_FORMAT = "%Y-%m-%d_%H-%M-%S"


def world_size() -> int:
    """Processes in this run (``WORLD_SIZE``, set by torchrun and accelerate; 1 otherwise)."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def rank() -> int:
    """This process's global rank (0 in a single-process run)."""
    return int(os.environ.get("RANK", "0"))


def is_main_process() -> bool:
    """Whether this process writes the run's outputs."""
    return rank() == 0


def _process_start_time(pid: int) -> float | None:
    """When process ``pid`` started, in seconds since the epoch (Linux /proc), or None."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        started_ticks = int(fields[19])  # field 22 of stat, counted after the ")" of the name
        boot = next(int(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines() if line.startswith("btime"))
    except (OSError, IndexError, ValueError, StopIteration):
        return None
    return boot + started_ticks / os.sysconf("SC_CLK_TCK")


@functools.lru_cache(maxsize=1)
def run_stamp() -> str:
    """The run directory's name: start time to the millisecond and a 4-hex suffix, unique per run
    even when two start in the same second, e.g. ``2026-12-03_19-50-04.123-a3f9``.

    A single process uses now and a random suffix. Under torchrun every local rank uses the
    launcher's start time and a suffix derived from the launcher (host, pid, start time), so the
    ranks agree on one directory while two launchers started together still get two.
    """
    started = suffix = None
    if world_size() > 1:
        launcher = os.getppid()  # the launcher all local ranks share
        started = _process_start_time(launcher)
        if started is not None:
            token = f"{socket.gethostname()}:{launcher}:{started}"
            suffix = hashlib.sha256(token.encode()).hexdigest()[:4]
    when = started if started is not None else time.time()
    suffix = suffix or secrets.token_hex(2)
    return f"{time.strftime(STAMP_FORMAT, time.localtime(when))}.{int(when * 1000) % 1000:03d}-{suffix}"


def local_device():
    """Where this process's model lives: its own GPU (``LOCAL_RANK`` under torchrun) when CUDA is
    there, else the CPU. Placing the model there at load time means the baseline evaluation,
    which runs before the Trainer would move it, runs on the GPU too."""
    import torch

    if torch.cuda.is_available():
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    return torch.device("cpu")


def to_local_device(model, model_cfg):
    """``model`` moved to :func:`local_device` (a quantized model stays where bitsandbytes put it
    at load time: it cannot be moved)."""
    if str(model_cfg.quantization) == "none":
        model = model.to(local_device())
    return model
