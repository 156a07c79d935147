"""The sweep leaderboard's grouping over seeds and its confidence-interval column, on fake job dirs."""

import statistics

import pytest
from omegaconf import OmegaConf

from core.leaderboard import LeaderboardCallback, seed_groups, collect, write_leaderboard
from core.testing import read_csv
from core.testing import fake_sweep_job as fake_job




# lr x seed: lr=1e-4 is better on average, lr=1e-3 has the single best job.
JOBS = [
    (["train.lr=1e-3", "seed=1"], 0.95, 0.20),
    (["train.lr=1e-3", "seed=2"], 0.70, 0.22),
    (["train.lr=1e-3", "seed=3"], 0.75, 0.24),
    (["train.lr=1e-4", "seed=1"], 0.90, 0.10),
    (["train.lr=1e-4", "seed=2"], 0.88, 0.12),
    (["train.lr=1e-4", "seed=3"], 0.86, 0.14),
]


@pytest.fixture
def sweep(tmp_path):
    for num, (overrides, finetuned, baseline) in enumerate(JOBS):
        fake_job(tmp_path, num, overrides, finetuned, baseline)
    return tmp_path


def test_jobs_group_over_seeds_with_mean_sample_sd_and_n(sweep):
    groups = seed_groups(collect(sweep))
    assert [g.overrides for g in groups] == [{"train.lr": "1e-4"}, {"train.lr": "1e-3"}]
    best, other = groups
    assert best.n == 3 and sorted(best.seeds) == ["1", "2", "3"]
    assert best.finetuned_mean == pytest.approx(0.88)
    assert best.finetuned_sd == pytest.approx(0.02)  # sample sd of 0.90, 0.88, 0.86
    assert best.baseline_mean == pytest.approx(0.12) and best.baseline_sd == pytest.approx(0.02)
    assert other.finetuned_mean == pytest.approx(0.80)
    assert other.finetuned_sd == pytest.approx(statistics.stdev([0.95, 0.70, 0.75]))
    assert other.finetuned_sd == pytest.approx(0.1322876, abs=1e-6)


def test_leaderboard_md_and_csv_show_the_groups(sweep, capsys):
    write_leaderboard(sweep)
    markdown = (sweep / "leaderboard.md").read_text()
    per_job, _, over_seeds = markdown.partition("## Over seeds")
    assert "| 1 | 1 | 1e-3 | 0.2000 | 0.9500 |" in per_job  # the per-job table is unchanged, first
    assert "| 1 | 1e-4 | 3 | 0.1200 ± 0.0200 | 0.8800 ± 0.0200 |" in over_seeds
    assert "| 2 | 1e-3 | 3 | 0.2200 ± 0.0200 | 0.8000 ± 0.1323 | 1, 2, 3 |" in over_seeds  # seeds in order
    rows = read_csv(sweep / "leaderboard_seeds.csv")
    assert [r["group"] for r in rows] == ["train.lr=1e-4", "train.lr=1e-3"]
    assert [(r["n"], r["seeds"]) for r in rows] == [("3", "1 2 3"), ("3", "1 2 3")]
    assert float(rows[0]["finetuned_mean"]) == pytest.approx(0.88)
    assert float(rows[1]["finetuned_sd"]) == pytest.approx(0.1322876, abs=1e-6)
    assert rows[0]["main_metric"] == "macro_f1" and rows[0]["not_scored"] == "0"

    config = OmegaConf.create({"hydra": {"sweep": {"dir": str(sweep)}}})
    LeaderboardCallback().on_multirun_end(config)
    printed = capsys.readouterr().out
    assert "best macro_f1=0.9500 (0)" in printed
    assert "best over seeds: train.lr=1e-4 macro_f1=0.8800 ± 0.0200 (n=3)" in printed


def test_failed_jobs_count_against_their_group_and_one_seed_has_no_sd(tmp_path):
    fake_job(tmp_path, 0, ["train.lr=1e-3", "seed=1"], 0.9)
    fake_job(tmp_path, 1, ["train.lr=1e-3", "seed=2"], error="CUDA out of memory")
    fake_job(tmp_path, 2, ["train.lr=1e-4", "seed=1"], error="boom")
    fake_job(tmp_path, 3, ["train.lr=1e-4", "seed=2"], error="boom")
    groups = seed_groups(collect(tmp_path))
    assert [(g.label, g.n, g.not_scored) for g in groups] == [("train.lr=1e-3", 1, 1), ("train.lr=1e-4", 0, 2)]
    assert groups[0].finetuned_mean == 0.9 and groups[0].finetuned_sd is None
    assert groups[1].finetuned_mean is None
    write_leaderboard(tmp_path)
    over_seeds = (tmp_path / "leaderboard.md").read_text().partition("## Over seeds")[2]
    assert "| 1 | 1e-3 | 1 | 0.1000 | 0.9000 | 1 (1 not scored) |" in over_seeds
    assert "| 2 | 1e-4 | 0 |  |  | (2 not scored) |" in over_seeds


def test_only_seed_swept_gives_one_group_and_no_seed_sweep_gives_none(tmp_path):
    for num, value in enumerate([0.8, 0.9, 1.0]):
        fake_job(tmp_path / "seeds", num, ["train.lr=1e-4", f"seed={num}"], value)
    groups = seed_groups(collect(tmp_path / "seeds"))
    assert [(g.label, g.n) for g in groups] == [("(all jobs)", 3)]
    assert groups[0].finetuned_mean == pytest.approx(0.9) and groups[0].finetuned_sd == pytest.approx(0.1)

    for num, lr in enumerate(["1e-3", "1e-4"]):
        fake_job(tmp_path / "lrs", num, [f"train.lr={lr}", "seed=42"], 0.5)
    assert seed_groups(collect(tmp_path / "lrs")) == []
    write_leaderboard(tmp_path / "lrs")
    assert not (tmp_path / "lrs" / "leaderboard_seeds.csv").exists()
    assert "## Over seeds" not in (tmp_path / "lrs" / "leaderboard.md").read_text()


def test_the_fine_tuned_interval_shows_beside_its_value(tmp_path):
    confidence = {"metric": "macro_f1", "level": 0.95, "models": {
        "baseline": {"value": 0.2, "low": 0.15, "high": 0.25},
        "finetuned": {"value": 0.91, "low": 0.87, "high": 0.95}}}
    fake_job(tmp_path, 0, ["train.lr=1e-3"], 0.91, confidence=confidence)
    fake_job(tmp_path, 1, ["train.lr=1e-4"], 0.80)  # an older run: no interval
    write_leaderboard(tmp_path)
    markdown = (tmp_path / "leaderboard.md").read_text()
    assert "| rank | train.lr | baseline | fine-tuned | 95% interval | train s | job |" in markdown
    assert "| 1 | 1e-3 | 0.1000 | 0.9100 | [0.8700, 0.9500] | 10.0 | [0](0/report.md) |" in markdown
    assert "| 2 | 1e-4 | 0.1100 | 0.8000 |  | 11.0 | [1](1/report.md) |" in markdown
    rows = read_csv(tmp_path / "leaderboard.csv")
    assert (rows[0]["finetuned_low"], rows[0]["finetuned_high"]) == ("0.87", "0.95")
    assert rows[1]["finetuned_low"] == ""
