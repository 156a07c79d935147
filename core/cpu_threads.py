"""How many CPU threads plugtune's own work uses when ``train.threads`` is not set."""

import os


def default_cpu_threads() -> int:
    """``OMP_NUM_THREADS`` when it is set to a positive integer (the usual way to share a machine
    between processes, and what torch itself reads), else one per core this process may run on
    (its CPU affinity, so ``taskset`` and container CPU sets are respected)."""
    value = os.environ.get("OMP_NUM_THREADS", "").strip()
    if value.isdigit() and int(value) > 0:
        return int(value)
    return usable_cores()


def usable_cores() -> int:
    """The cores this process may run on: its CPU affinity, or every core where the platform has
    no affinity (macOS)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:
        return os.cpu_count() or 1
