"""The shipped example set's settings stay with it: a user's own files start clean (no model)."""

import logging

import pytest

from core.data import load_data
from core.errors import PlugtuneError
from core.shipped_data import resolve_data_paths, training_paths, uses_shipped_data
from core.testing import compose_config, write_intent_rows
from plugins.text_label import TextLabelFormat


def test_no_training_file_means_the_shipped_set_with_its_settings():
    cfg = compose_config(["task=toolcall"])
    resolve_data_paths(cfg)
    assert uses_shipped_data(cfg)
    assert cfg.data.train_path.endswith("toolcall/train.json") and cfg.data.eval_path.endswith("toolcall/test.json")
    assert cfg.data.tools_file.endswith("toolcall/tools.json")
    assert cfg.task.system_prompt.startswith("你是会议语音助手")


@pytest.mark.parametrize("task", ["toolcall", "qa", "intent", "chat"])
def test_own_training_file_gets_none_of_the_shipped_settings(tmp_path, task, caplog):
    own = tmp_path / "mine.json"
    own.write_text("[]", encoding="utf-8")
    cfg = compose_config([f"task={task}", f"data.train_path={own}"])
    with caplog.at_level(logging.WARNING, logger="plugtune"):
        resolve_data_paths(cfg)
    assert not uses_shipped_data(cfg)
    assert cfg.data.tools_file is None and cfg.task.system_prompt is None and list(cfg.task.labels) == []
    # No eval file named: scored on the training file, and the log says so.
    assert cfg.data.eval_path == str(own)
    assert any(f"scoring on the training file {own}" in r.getMessage() for r in caplog.records)


def test_settings_the_user_names_are_kept_with_own_files(tmp_path):
    cfg = compose_config(["task=toolcall", f"data.train_path={tmp_path}/a.json", f"data.eval_path={tmp_path}/b.json",
                          "task.system_prompt=hello", f"data.tools_file={tmp_path}/tools.json"])
    resolve_data_paths(cfg)
    assert (cfg.task.system_prompt, cfg.data.tools_file) == ("hello", f"{tmp_path}/tools.json")
    assert cfg.data.eval_path == f"{tmp_path}/b.json"


def test_resolving_twice_changes_nothing():
    cfg = compose_config(["task=qa"])
    resolve_data_paths(cfg)
    first = dict(train=cfg.data.train_path, eval=cfg.data.eval_path, system=cfg.task.system_prompt)
    resolve_data_paths(cfg)
    assert first == dict(train=cfg.data.train_path, eval=cfg.data.eval_path, system=cfg.task.system_prompt)


def test_a_task_without_shipped_data_needs_a_training_file():
    cfg = compose_config(["data.shipped.train_path=null"])
    with pytest.raises(PlugtuneError, match="data.train_path is not set"):
        resolve_data_paths(cfg)


def test_training_paths_accepts_lists_and_entries():
    assert training_paths("a.json") == ["a.json"]
    assert training_paths(["a.json", {"path": "b.csv", "format": "alpaca"}]) == ["a.json", "b.csv"]


def test_own_classification_file_takes_its_labels_from_training_with_counts(tmp_path, caplog):
    train = write_intent_rows(tmp_path / "t.jsonl", [("a", "yes"), ("b", "no"), ("c", "yes")])
    cfg = compose_config([f"data.train_path={train}"])
    resolve_data_paths(cfg)
    with caplog.at_level(logging.INFO, logger="plugtune"):
        data = load_data(cfg, TextLabelFormat())
    assert list(cfg.task.labels) == ["no", "yes"] and len(data.train) == 3
    assert any("no (1), yes (2)" in r.getMessage() for r in caplog.records)
