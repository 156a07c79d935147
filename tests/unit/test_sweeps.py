"""Multirun sweeps without running jobs: the leaderboard and the Optuna / joblib / submitit presets."""



from core.leaderboard import main as leaderboard_main, parse_overrides, swept_keys, write_leaderboard
from core.testing import compose_config, read_csv
from core.testing import fake_sweep_job as fake_job




def test_parse_overrides_handles_append_and_delete():
    assert parse_overrides(["train.lr=1e-4", "+foo=bar", "~baz", "peft.target_modules=[qv]"]) == {
        "train.lr": "1e-4", "foo": "bar", "baz": "", "peft.target_modules": "[qv]",
    }


def test_leaderboard_ranks_finished_jobs_and_lists_failures(tmp_path):
    sweep = tmp_path / "sweep"
    fake_job(sweep, 0, ["task=intent", "train.lr=1e-4"], finetuned=0.5)
    fake_job(sweep, 1, ["task=intent", "train.lr=5e-4"], finetuned=0.8)
    fake_job(sweep, 2, ["task=intent", "train.lr=1e-2"], error="data.eval_path: /x.jsonl does not exist")
    fake_job(sweep, 10, ["task=intent", "train.lr=1e-3"], finetuned=0.7)
    fake_job(sweep, 3, ["task=intent", "train.lr=2e-3"])  # killed: neither results nor failure

    rows = write_leaderboard(sweep)

    assert [r.job for r in rows] == ["1", "10", "0", "2", "3"]
    assert [r.status for r in rows] == ["ok", "ok", "ok", "failed", "incomplete"]
    assert swept_keys(rows) == ["train.lr"]
    table = read_csv(sweep / "leaderboard.csv")
    assert [float(r["finetuned"]) for r in table[:3]] == [0.8, 0.7, 0.5]
    assert [float(r["baseline"]) for r in table[:3]] == [0.11, 0.2, 0.1]
    assert table[3]["error"] == "data.eval_path: /x.jsonl does not exist"
    markdown = (sweep / "leaderboard.md").read_text()
    assert "| 1 | 5e-4 | 0.1100 | 0.8000 | 11.0 | [1](1/report.md) |" in markdown
    assert "| 4 | 1e-2 | failed | data.eval_path: /x.jsonl does not exist |  | 2 |" in markdown
    assert "Common overrides: `task=intent`" in markdown
    assert (sweep / "leaderboard.png").stat().st_size > 1000


def test_leaderboard_cli_rebuilds_and_rejects_a_missing_dir(tmp_path, capsys):
    sweep = tmp_path / "sweep"
    fake_job(sweep, 0, ["peft.r=4"], finetuned=0.25)
    fake_job(sweep, 1, ["peft.r=8"], finetuned=0.75)
    assert leaderboard_main([str(sweep)]) == 0
    assert "| 1 | 8 |" in capsys.readouterr().out
    assert [r["job"] for r in read_csv(sweep / "leaderboard.csv")] == ["1", "0"]
    assert leaderboard_main([str(tmp_path / "nope")]) == 2
    assert "usage: python -m core.leaderboard SWEEP_DIR" in capsys.readouterr().err


def test_optuna_preset_composes_with_in_memory_storage():
    cfg = compose_config(["hparams_search=optuna"], return_hydra_config=True)
    sweeper = cfg.hydra.sweeper
    assert sweeper.direction == "maximize" and sweeper.storage is None
    assert set(sweeper.params) == {"train.lr", "peft.r", "peft.alpha", "train.epochs", "peft.target_modules"}


def test_launcher_presets_compose():
    parallel = compose_config(["hydra/launcher=local_parallel"], return_hydra_config=True).hydra.launcher
    assert parallel._target_.endswith("JoblibLauncher") and parallel.n_jobs == 2
    slurm = compose_config(["hydra/launcher=slurm"], return_hydra_config=True).hydra.launcher
    assert slurm._target_.endswith("SlurmLauncher") and slurm.gpus_per_node == 1
