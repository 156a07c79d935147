"""Bad input on the command line gives one clear line, exit status 2, no traceback and no adapter."""

import time

import pytest

from core.testing import run_cli

GOOD = '{"text": "卡丢了", "label": "card_lost"}\n'


def cli_error(result) -> str:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr, result.stderr
    return result.stderr


@pytest.mark.parametrize(
    "content,expected",
    [
        (GOOD + "{oops\n", "bad.jsonl:2: invalid JSON"),
        (GOOD + '{"txt": "x", "label": "refund"}\n', "bad.jsonl:2: field 'text'"),
        ("", "bad.jsonl: no rows"),
        ('{"text": "贷款", "label": "loan"}\n', "no rows left after dropping unknown labels"),
    ],
    ids=["malformed-json", "missing-text", "empty-file", "only-unknown-labels"],
)
def test_cli_bad_data_is_one_line(tmp_path, content, expected):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(content, encoding="utf-8")
    run_dir = tmp_path / "run"
    result = run_cli("core", f"data.train_path={bad}", f"hydra.run.dir={run_dir}",
                     "task.labels=[fraud_risk,refund,balance,card_lost,other]")
    err = cli_error(result)
    assert result.returncode == 2
    error_lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(error_lines) == 1 and expected in error_lines[0], err
    assert not (run_dir / "adapter").exists() and not (run_dir / "results.json").exists()


def test_cli_nonexistent_path(tmp_path):
    result = run_cli("core", f"data.eval_path={tmp_path}/missing.jsonl", f"hydra.run.dir={tmp_path}/run")
    assert "missing.jsonl: file not found" in cli_error(result)


@pytest.mark.parametrize(
    "override,expected",
    [
        ("task=nope", "task=nope: no such task option; available: chat, intent"),
        ("model=nope", "model=nope: no such model option; available: "),
        ("train.epochs=lots", "train.epochs"),
        ("train.learning_rate=1", "train.learning_rate"),
    ],
)
def test_cli_bad_overrides(tmp_path, override, expected):
    result = run_cli("core", override, f"hydra.run.dir={tmp_path}/run")
    assert expected in cli_error(result)
    assert not (tmp_path / "run").exists()


def test_absent_hub_model_fails_fast_naming_the_fix(tmp_path):
    start = time.perf_counter()
    result = run_cli("core", "task=intent", "model=qwen2.5-1.5b", f"hydra.run.dir={tmp_path}/run",
                     env={"HF_HOME": str(tmp_path / "hf")})
    seconds = time.perf_counter() - start
    err = cli_error(result)
    assert "Qwen/Qwen2.5-1.5B-Instruct" in err and "model.path=" in err, err
    assert seconds < 60
    assert not (tmp_path / "run" / "adapter").exists()


def test_model_path_without_weights(tmp_path):
    result = run_cli("core", f"model.path={tmp_path}", f"hydra.run.dir={tmp_path}/run")
    assert "is not a model folder" in cli_error(result)
