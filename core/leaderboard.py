"""The sweep leaderboard: every job of a Hydra multirun, ranked by the task's main metric.

Jobs talk to the leaderboard only through files in their own directories: a finished job has
``results.json``, a failed one ``failed.json`` (written by the CLI), and Hydra writes each
job's overrides to ``.hydra/overrides.yaml``. So the leaderboard can be rebuilt at any time::

    python -m core.leaderboard SWEEP_DIR

and the ``leaderboard`` Hydra callback (``conf/hydra/callbacks/leaderboard.yaml``) builds it
when a sweep ends; the sweep then exits 1 if any job failed. Every main metric plugtune ships is higher-is-better, so rows are ranked
by the fine-tuned value, descending. A job whose results.json has a ``confidence`` interval for the
main metric shows the fine-tuned interval beside its value.

A sweep that varies ``seed`` also gets its jobs grouped over seeds (:func:`seed_groups`): for
each combination of the other swept keys, the mean, sample standard deviation and number of the
scored jobs' fine-tuned and baseline values, in leaderboard.md and ``leaderboard_seeds.csv``.
"""

from __future__ import annotations

import csv
import io
import json
import math
import statistics
import sys
from dataclasses import dataclass, field
from pathlib import Path

from core.rundir import OVERRIDES_FILE, read_overrides, write_text_atomic

FAILED_FILE = "failed.json"
NOT_SCORED = "not scored"  # leaderboard.md's cell for a job whose eval set has no reference answer
CSV_COLUMNS = ["rank", "job", "status", "main_metric", "baseline", "finetuned", "train_seconds", "overrides", "report", "error",
               "finetuned_low", "finetuned_high"]
SEED_KEY = "seed"
SEEDS_CSV = "leaderboard_seeds.csv"
SEED_CSV_COLUMNS = ["rank", "group", "n", "seeds", "main_metric", "finetuned_mean", "finetuned_sd",
                    "baseline_mean", "baseline_sd", "not_scored"]


@dataclass
class JobRow:
    """One job of a sweep, as read back from its directory."""

    job: str  # directory relative to the sweep dir
    overrides: dict[str, str] = field(default_factory=dict)
    status: str = "incomplete"  # "ok", "failed", or "incomplete" (no results.json, no failed.json)
    main_metric: str | None = None
    baseline: float | None = None
    finetuned: float | None = None
    train_seconds: float | None = None
    report: str | None = None
    error: str | None = None
    scored: int | None = None  # eval rows scored (results.json "scoring"); 0: no row had a reference answer
    # The fine-tuned main metric's bootstrap interval (results.json "confidence"), when the run made one.
    finetuned_low: float | None = None
    finetuned_high: float | None = None
    confidence_level: float | None = None

    @property
    def ranked(self) -> bool:
        """Finished and scored: has a fine-tuned value to rank by."""
        return self.status == "ok" and self.finetuned is not None and not math.isnan(self.finetuned)


def parse_overrides(lines: list[str]) -> dict[str, str]:
    """Turn Hydra override strings (``key=value``, ``+key=value``, ``~key``) into a dict."""
    parsed = {}
    for line in lines:
        key, _, value = str(line).partition("=")
        parsed[key.lstrip("+~")] = value
    return parsed


def _metric(metrics: dict, name: str) -> float | None:
    value = metrics.get(name)
    return float(value) if isinstance(value, (int, float)) else None


def read_job(sweep_dir: Path, job_dir: Path) -> JobRow:
    """Read one job directory into a :class:`JobRow`."""
    row = JobRow(job=job_dir.relative_to(sweep_dir).as_posix(), overrides=parse_overrides(read_overrides(job_dir) or []))
    results_path, failed_path = job_dir / "results.json", job_dir / FAILED_FILE
    if results_path.is_file():
        results = json.loads(results_path.read_text(encoding="utf-8"))
        name = results["main_metric"]
        row.status, row.main_metric = "ok", name
        row.baseline = _metric(results["metrics"].get("baseline", {}), name)
        row.finetuned = _metric(results["metrics"].get("finetuned", {}), name)
        row.train_seconds = results.get("train", {}).get("seconds")
        row.scored = results.get("scoring", {}).get("scored")
        confidence = results.get("confidence") or {}
        interval = confidence.get("models", {}).get("finetuned") if confidence.get("metric") == name else None
        if interval:
            row.finetuned_low, row.finetuned_high = _metric(interval, "low"), _metric(interval, "high")
            row.confidence_level = _metric(confidence, "level")
        if (job_dir / "report.md").is_file():
            row.report = f"{row.job}/report.md"
    elif failed_path.is_file():
        failure = json.loads(failed_path.read_text(encoding="utf-8"))
        row.status, row.error = "failed", failure.get("error", "unknown error")
    return row


def job_dirs(sweep_dir: Path) -> list[Path]:
    """Every job directory under ``sweep_dir`` (those Hydra wrote ``.hydra/overrides.yaml`` into)."""
    found = [p.parent.parent for p in Path(sweep_dir).rglob(str(OVERRIDES_FILE))]
    # Hydra numbers jobs 0, 1, ..., 10: sort numerically where the names are numbers.
    return sorted(found, key=lambda p: [int(part) if part.isdigit() else part for part in p.relative_to(sweep_dir).parts])


def collect(sweep_dir: Path) -> list[JobRow]:
    """Read every job of a sweep, best fine-tuned main metric first, failures last."""
    sweep_dir = Path(sweep_dir)
    rows = [read_job(sweep_dir, d) for d in job_dirs(sweep_dir)]

    def order(row: JobRow):
        return (0 if row.ranked else 1 if row.status == "ok" else 2, -(row.finetuned or 0.0) if row.ranked else 0.0)

    return sorted(rows, key=order)


def swept_keys(rows: list[JobRow]) -> list[str]:
    """Override keys whose value differs between jobs (what the sweep varied)."""
    keys = sorted({k for r in rows for k in r.overrides})
    return [k for k in keys if len({r.overrides.get(k) for r in rows}) > 1]


def _fmt(value: float | None, digits: int = 4) -> str:
    return "" if value is None else f"{value:.{digits}f}"


@dataclass
class SeedGroup:
    """The jobs of a sweep that differ only in ``seed``, summarised."""

    overrides: dict[str, str]  # the other swept keys' values shared by the group
    seeds: list[str]  # of the scored jobs
    main_metric: str | None
    finetuned_mean: float | None
    finetuned_sd: float | None  # sample standard deviation (n - 1); None below 2 jobs
    baseline_mean: float | None
    baseline_sd: float | None
    not_scored: int  # jobs of the group that failed, did not finish or scored no row

    @property
    def n(self) -> int:
        return len(self.seeds)

    @property
    def label(self) -> str:
        return " ".join(f"{k}={v}" for k, v in self.overrides.items()) or "(all jobs)"


def _mean_sd(values: list[float]) -> tuple[float | None, float | None]:
    if not values:
        return None, None
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else None


def _seed_order(seed: str):
    number = _as_number(seed)
    return (0, number, "") if number is not None else (1, 0.0, seed)


def seed_groups(rows: list[JobRow]) -> list[SeedGroup]:
    """Jobs grouped over seeds, best mean fine-tuned value first; empty unless the sweep varied ``seed``."""
    swept = swept_keys(rows)
    if SEED_KEY not in swept:
        return []
    others = [k for k in swept if k != SEED_KEY]
    members: dict[tuple, list[JobRow]] = {}
    for row in rows:
        members.setdefault(tuple(row.overrides.get(k, "") for k in others), []).append(row)
    groups = []
    for key, jobs in members.items():
        # Seeds listed in their own order (numbers numerically), not by score.
        scored = sorted((r for r in jobs if r.ranked), key=lambda r: _seed_order(r.overrides.get(SEED_KEY, "")))
        finetuned_mean, finetuned_sd = _mean_sd([r.finetuned for r in scored])
        baseline_mean, baseline_sd = _mean_sd([r.baseline for r in scored if r.baseline is not None])
        groups.append(SeedGroup(
            overrides=dict(zip(others, key)), seeds=[r.overrides.get(SEED_KEY, "") for r in scored],
            main_metric=next((r.main_metric for r in scored), None),
            finetuned_mean=finetuned_mean, finetuned_sd=finetuned_sd,
            baseline_mean=baseline_mean, baseline_sd=baseline_sd, not_scored=len(jobs) - len(scored),
        ))
    return sorted(groups, key=lambda g: (g.finetuned_mean is None, -(g.finetuned_mean or 0.0)))


def _mean_sd_cell(mean: float | None, sd: float | None) -> str:
    if mean is None:
        return ""
    return _fmt(mean) if sd is None else f"{_fmt(mean)} ± {_fmt(sd)}"


def render_seed_groups(groups: list[SeedGroup], metric: str) -> list[str]:
    """leaderboard.md's section on jobs grouped over seeds (no lines when there are no groups)."""
    if not groups:
        return []
    keys = list(groups[0].overrides)
    lines = [
        "", "## Over seeds", "",
        f"Jobs that differ only in `{SEED_KEY}`, grouped: mean ± sample standard deviation of `{metric}` "
        f"over the n scored jobs (ranked by the fine-tuned mean).",
        "", "| " + " | ".join(["rank", *keys, "n", "baseline", "fine-tuned", "seeds"]) + " |",
        "|" + "---|" * (len(keys) + 5),
    ]
    for rank, g in enumerate(groups, 1):
        seeds = " ".join(filter(None, [", ".join(g.seeds), f"({g.not_scored} not scored)" if g.not_scored else ""]))
        cells = [str(rank), *(g.overrides[k] for k in keys), str(g.n),
                 _mean_sd_cell(g.baseline_mean, g.baseline_sd), _mean_sd_cell(g.finetuned_mean, g.finetuned_sd), seeds]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def render_seeds_csv(groups: list[SeedGroup]) -> str:
    """The seed groups as CSV (``leaderboard_seeds.csv``), the group's overrides as one string."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=SEED_CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    blank = lambda value: "" if value is None else value  # noqa: E731
    for rank, g in enumerate(groups, 1):
        writer.writerow({
            "rank": rank, "group": g.label, "n": g.n, "seeds": " ".join(g.seeds), "main_metric": g.main_metric or "",
            "finetuned_mean": blank(g.finetuned_mean), "finetuned_sd": blank(g.finetuned_sd),
            "baseline_mean": blank(g.baseline_mean), "baseline_sd": blank(g.baseline_sd), "not_scored": g.not_scored,
        })
    return out.getvalue()


def render_markdown(sweep_dir: Path, rows: list[JobRow], plot: str | None) -> str:
    """The leaderboard as a Markdown page."""
    swept = swept_keys(rows)
    common = {k: v for k, v in (rows[0].overrides.items() if rows else []) if k not in swept}
    metric = next((r.main_metric for r in rows if r.main_metric), "main metric")
    failed = sum(r.status != "ok" for r in rows)
    lines = [
        f"# Leaderboard: {Path(sweep_dir).name}",
        "",
        f"{len(rows)} jobs, {len(rows) - failed} finished, {failed} failed or incomplete. "
        f"Ranked by fine-tuned `{metric}` (higher is better).",
    ]
    if common:
        lines += ["", "Common overrides: " + " ".join(f"`{k}={v}`" for k, v in common.items())]
    level = next((r.confidence_level for r in rows if r.confidence_level), None)
    interval = [f"{level * 100:g}% interval"] if level else []  # only when some job has one
    header = ["rank", *swept, "baseline", "fine-tuned", *interval, "train s", "job"]
    lines += ["", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for rank, row in enumerate(rows, 1):
        job = f"[{row.job}]({row.report})" if row.report else row.job
        span = ([f"[{_fmt(row.finetuned_low)}, {_fmt(row.finetuned_high)}]" if row.finetuned_low is not None else ""]
                if interval else [])
        if row.status == "ok" and row.scored == 0:  # trained and answered, but no eval row had a reference
            tail = [NOT_SCORED, NOT_SCORED, *span, _fmt(row.train_seconds, 1), job]
        elif row.status == "ok":
            tail = [_fmt(row.baseline), _fmt(row.finetuned), *span, _fmt(row.train_seconds, 1), job]
        else:
            tail = [row.status, (row.error or "no results.json").replace("|", "\\|"), *span, "", job]
        lines.append("| " + " | ".join([str(rank), *(row.overrides.get(k, "") for k in swept), *tail]) + " |")
    if plot:
        lines += ["", f"![{metric} against each swept parameter]({plot})"]
    lines += render_seed_groups(seed_groups(rows), metric)
    return "\n".join(lines) + "\n"


def render_csv(rows: list[JobRow]) -> str:
    """The leaderboard as CSV, one row per job, overrides as one ``key=value`` string."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for rank, row in enumerate(rows, 1):
        writer.writerow({
            "rank": rank, "job": row.job, "status": row.status, "main_metric": row.main_metric or "",
            "baseline": "" if row.baseline is None else row.baseline,
            "finetuned": "" if row.finetuned is None else row.finetuned,
            "train_seconds": "" if row.train_seconds is None else row.train_seconds,
            "overrides": " ".join(f"{k}={v}" for k, v in row.overrides.items()),
            "report": row.report or "", "error": row.error or "",
            "finetuned_low": "" if row.finetuned_low is None else row.finetuned_low,
            "finetuned_high": "" if row.finetuned_high is None else row.finetuned_high,
        })
    return out.getvalue()


def _as_number(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None


def draw_plot(rows: list[JobRow], path: Path) -> bool:
    """One panel per swept parameter: fine-tuned main metric against its value. False if nothing to plot."""
    scored = [r for r in rows if r.status == "ok" and r.finetuned is not None]
    swept = swept_keys(rows)
    if not scored or not swept:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(swept), figsize=(4 * len(swept), 3.5), squeeze=False)
    for ax, key in zip(axes[0], swept):
        values = [r.overrides.get(key, "") for r in scored]
        numbers = [_as_number(v) for v in values]
        if all(n is not None for n in numbers):
            xs = numbers
        else:  # categorical values (target modules, schedulers): evenly spaced, labelled
            categories = sorted(set(values))
            xs = [categories.index(v) for v in values]
            ax.set_xticks(range(len(categories)), categories, rotation=20)
        ax.scatter(xs, [r.finetuned for r in scored])
        ax.set_xlabel(key)
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel(scored[0].main_metric)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


def write_leaderboard(sweep_dir: Path) -> list[JobRow]:
    """Write ``leaderboard.md``, ``leaderboard.csv`` and ``leaderboard.png`` into ``sweep_dir``,
    and ``leaderboard_seeds.csv`` when the sweep varied ``seed``."""
    sweep_dir = Path(sweep_dir)
    rows = collect(sweep_dir)
    plot = "leaderboard.png" if draw_plot(rows, sweep_dir / "leaderboard.png") else None
    write_text_atomic(sweep_dir / "leaderboard.csv", render_csv(rows))
    groups = seed_groups(rows)
    if groups:
        write_text_atomic(sweep_dir / SEEDS_CSV, render_seeds_csv(groups))
    write_text_atomic(sweep_dir / "leaderboard.md", render_markdown(sweep_dir, rows, plot))
    return rows


try:
    from hydra.experimental.callback import Callback
except ImportError:  # pragma: no cover - hydra-core is a dependency; keep the module importable anyway
    Callback = object


class LeaderboardCallback(Callback):
    """Hydra callback: build the leaderboard in the sweep dir when a multirun ends, then exit 1
    when any job failed or did not finish."""

    def on_multirun_end(self, config, **kwargs) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        rows = write_leaderboard(sweep_dir)
        finished = [row for row in rows if row.status == "ok"]
        # collect() puts scored jobs first; a job with no reference answers has no value to be best at.
        best = finished[0] if finished and finished[0].finetuned is not None else None
        if best:
            summary = f"best {best.main_metric}={_fmt(best.finetuned)} ({best.job})"
        elif finished:
            summary = "no job scored: no eval row has a reference answer"
        else:
            summary = "no job finished"
        best_group = next((g for g in seed_groups(rows) if g.finetuned_mean is not None), None)
        if best_group:
            spread = f" ± {_fmt(best_group.finetuned_sd)}" if best_group.finetuned_sd is not None else ""
            summary += (f"; best over seeds: {best_group.label} {best_group.main_metric}="
                        f"{_fmt(best_group.finetuned_mean)}{spread} (n={best_group.n})")
        print(f"leaderboard: {sweep_dir / 'leaderboard.md'} ({len(rows)} jobs, {summary})")
        failed = [row for row in rows if row.status != "ok"]
        if failed:  # after the leaderboard is written: scripts and schedulers must notice
            print(f"error: sweep: {len(failed)} of {len(rows)} jobs failed or did not finish "
                  f"({', '.join(row.job for row in failed[:5])}); see {sweep_dir / 'leaderboard.md'}", file=sys.stderr)
            sys.exit(1)


def main(argv: list[str] | None = None) -> int:
    """``python -m core.leaderboard SWEEP_DIR``: rebuild a sweep's leaderboard from its job dirs."""
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1 or not Path(argv[0]).is_dir():
        print("usage: python -m core.leaderboard SWEEP_DIR", file=sys.stderr)
        return 2
    rows = write_leaderboard(Path(argv[0]))
    print(render_markdown(Path(argv[0]), rows, None), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
