"""core.tracking without training: train.report_to's one-line errors, the numbers trackers get,
and which environment settings plugtune leaves to the user."""

import importlib.util
import os

import pytest

from core import PlugtuneError, tracking
from core.testing import compose_config


def config(report_to: str):
    return compose_config([f"train.report_to={report_to}"])


def test_default_is_no_tracker():
    cfg = compose_config([])
    assert tracking.check(cfg) == []
    assert tracking.trainer_kwargs(cfg, "/nowhere") == {"report_to": []}
    assert tracking.callbacks(cfg) == []


def test_unknown_tracker_lists_the_accepted_ones():
    with pytest.raises(PlugtuneError) as error:
        tracking.check(config("[tensorboard,comet]"))
    assert str(error.value) == ("train.report_to: unknown tracker 'comet'; "
                                "accepted: tensorboard, mlflow, swanlab, trackio, wandb")


@pytest.mark.parametrize("name", ["trackio", "wandb"])
def test_missing_package_names_the_extra(name):
    if importlib.util.find_spec(name) is not None:
        pytest.skip(f"{name} is installed here")
    with pytest.raises(PlugtuneError) as error:
        tracking.check(config(f"[{name}]"))
    assert str(error.value) == f"train.report_to={name} needs the {name} package: pip install 'plugtune[{name}]'"


def test_names_are_lowercased_without_repeats():
    assert tracking.names(config("[TensorBoard,tensorboard,mlflow]")) == ["tensorboard", "mlflow"]


def test_result_metrics_takes_numbers_of_every_section_present():
    results = {
        "metrics": {"baseline": {"accuracy": 0.25, "macro_f1": 0.2}, "finetuned": {"accuracy": 0.75, "n": 8}},
        "confidence": {"finetuned": {"accuracy": {"low": 0.5, "high": 0.9, "method": "bootstrap"}}},
        "validation": {"best": {"step": 4, "value": 0.5}, "checks": [{"step": 2, "value": 0.5}], "load_best": True},
        "classic_baseline": None,
    }
    assert tracking.result_metrics(results) == {
        "baseline/accuracy": 0.25, "baseline/macro_f1": 0.2, "finetuned/accuracy": 0.75, "finetuned/n": 8.0,
        "confidence/finetuned/accuracy/low": 0.5, "confidence/finetuned/accuracy/high": 0.9,
        "validation/best/step": 4.0, "validation/best/value": 0.5,
    }


def test_flatten_config_gives_dotted_string_params():
    assert tracking.flatten_config({"train": {"lr": 0.005, "report_to": ["mlflow"]}, "seed": 42}) == {
        "train.lr": "0.005", "train.report_to": '["mlflow"]', "seed": "42"}


def test_users_environment_wins_and_plugtunes_own_value_is_replaced(monkeypatch):
    monkeypatch.setattr(tracking, "_env_set", {})
    monkeypatch.setenv("WANDB_MODE", "online")
    monkeypatch.delenv("WANDB_DIR", raising=False)
    tracking.set_env_default("WANDB_MODE", "offline")
    tracking.set_env_default("WANDB_DIR", "/runs/a")
    assert os.environ["WANDB_MODE"] == "online"
    tracking.set_env_default("WANDB_DIR", "/runs/b")  # the next run of a sweep in this process
    assert os.environ["WANDB_DIR"] == "/runs/b"
