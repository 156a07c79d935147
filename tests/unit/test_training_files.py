"""Several training files (issue 26, item 2): data.train_path as a list, per-file weights
(data.mix or an entry's weight) and formats, rows used per file, and the resume fingerprint of
every file (no model)."""

import json
import logging
from pathlib import Path

import pytest

from core.checkpoints import fingerprint, resume_or_start
from core.data import load_data
from core.errors import PlugtuneError
from core.registry import get_registry
from core.shipped_data import resolve_data_paths
from core.testing import compose_config, write_intent_rows


def alpaca_rows(path: Path, name: str, count: int) -> Path:
    rows = [{"instruction": f"{name} question {i}", "output": f"{name} answer {i}"} for i in range(count)]
    path.write_text(json.dumps(rows, ensure_ascii=False, indent=0), encoding="utf-8")
    return path


def chat_rows(path: Path, name: str, count: int) -> Path:
    lines = [json.dumps({"messages": [{"role": "user", "content": f"{name} q{i}"},
                                      {"role": "assistant", "content": f"{name} a{i}"}]}) for i in range(count)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def qa_config(*overrides: str):
    cfg = compose_config(["task=qa", *overrides])
    resolve_data_paths(cfg)
    return cfg


def load(cfg):
    return load_data(cfg, get_registry().get("data_format", cfg.data.format))


def by_file(data) -> dict[str, list[str]]:
    """The training examples' instructions, grouped by the file's name prefix."""
    groups: dict[str, list[str]] = {}
    for example in data.train:
        text = example.messages[-2]["content"]
        groups.setdefault(text.split()[0], []).append(text)
    return groups


@pytest.fixture
def two_files(tmp_path):
    return alpaca_rows(tmp_path / "domain.json", "domain", 10), alpaca_rows(tmp_path / "general.json", "general", 20)


def test_a_list_and_mix_from_the_command_line(two_files, tmp_path, caplog):
    domain, general = two_files
    eval_ = alpaca_rows(tmp_path / "eval.json", "eval", 3)
    cfg = qa_config(f"data.train_path=[{domain},{general}]", "data.mix=[1,0.3]", f"data.eval_path={eval_}")
    with caplog.at_level(logging.INFO, logger="plugtune"):
        data = load(cfg)
    groups = by_file(data)
    assert len(groups["domain"]) == 10 and len(groups["general"]) == 6  # 30 % of 20, seeded
    assert len(set(groups["general"])) == 6
    assert data.stats()["train_files"] == [
        {"path": str(domain), "format": "alpaca", "rows_read": 10, "weight": 1.0, "rows_used": 10},
        {"path": str(general), "format": "alpaca", "rows_read": 20, "weight": 0.3, "rows_used": 6},
    ]
    lines = [r.getMessage() for r in caplog.records if "train file" in r.getMessage()]
    assert len(lines) == 2 and "20 rows read, weight 0.3: 6 rows used" in lines[1], lines


def test_the_sample_is_seeded(two_files):
    domain, general = two_files
    overrides = [f"data.train_path=[{domain},{general}]", "data.mix=[0,0.5]"]
    first = by_file(load(qa_config(*overrides)))["general"]
    assert first == by_file(load(qa_config(*overrides)))["general"]
    assert first != by_file(load(qa_config(*overrides, "seed=7")))["general"]
    assert "domain" not in by_file(load(qa_config(*overrides)))  # weight 0: read and checked, not used


def test_whole_weights_repeat_rows_and_fractions_add_a_sample(two_files):
    domain, general = two_files
    data = load(qa_config(f"data.train_path=[{domain},{general}]", "data.mix=[2,1.5]"))
    groups = by_file(data)
    assert len(groups["domain"]) == 20 and sorted(set(groups["domain"])) == sorted(groups["domain"][:10])
    assert len(groups["general"]) == 30 and len(set(groups["general"])) == 20


def test_entries_with_their_own_format_and_weight(two_files, tmp_path):
    domain, _ = two_files
    chat = chat_rows(tmp_path / "chat.jsonl", "chat", 4)
    # The entry's weight wins over data.mix; the eval file defaults to the first file, in its format.
    cfg = qa_config(f"data.train_path=[{{path: {chat}, format: messages, weight: 2}},{domain}]", "data.mix=[5,1]")
    data = load(cfg)
    assert cfg.data.eval_path == str(chat)
    assert [f["format"] for f in data.stats()["train_files"]] == ["messages", "alpaca"]
    assert [f["rows_used"] for f in data.stats()["train_files"]] == [8, 10]
    assert len(data.eval) == 4 and data.eval[0].messages[0]["content"] == "chat q0"


def test_max_train_rows_applies_to_each_file_before_its_weight(two_files):
    domain, general = two_files
    data = load(qa_config(f"data.train_path=[{domain},{general}]", "data.mix=[2,0.5]", "data.max_train_rows=4"))
    assert [(f["rows_read"], f["rows_used"]) for f in data.stats()["train_files"]] == [(10, 8), (20, 2)]


def test_dropped_labels_are_counted_per_file(tmp_path):
    first = write_intent_rows(tmp_path / "a.jsonl", [("x", "yes"), ("y", "no")])
    second = write_intent_rows(tmp_path / "b.jsonl", [("z", "yes"), ("w", "maybe")])
    cfg = compose_config([f"data.train_path=[{first},{second}]", "task.labels=[yes,no]", f"data.eval_path={first}"])
    resolve_data_paths(cfg)
    stats = load(cfg).stats()
    files = stats["train_files"]
    assert [f["rows_used"] for f in files] == [2, 1]
    assert files[1]["dropped_unknown_labels"] == {"maybe": 1} and "dropped_unknown_labels" not in files[0]
    assert stats["dropped_unknown_labels"] == {"train": {"maybe": 1}}


def test_skipped_rows_are_counted_per_file(two_files, tmp_path):
    domain, _ = two_files
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"instruction": "q", "output": "a"}\n{oops\n{"instruction": "q2", "output": 3.5}\n',
                      encoding="utf-8")
    stats = load(qa_config(f"data.train_path=[{domain},{broken}]", "data.on_error=skip")).stats()
    assert [f.get("skipped_rows") for f in stats["train_files"]] == [None, 1]
    assert [f["rows_read"] for f in stats["train_files"]] == [10, 2]
    assert stats["skipped_rows"]["train"]["count"] == 1


@pytest.mark.parametrize("overrides,message", [
    (["data.mix=[1,0.3,2]"], "data.mix has 3 weights but data.train_path names 2 files"),
    (["data.mix=[1,-1]"], "data.mix[1]=-1.0: a weight must be 0 or more"),
    (["data.mix=[0,0]"], "no training rows: every file's weight is 0"),
])
def test_bad_weights_are_one_line(two_files, overrides, message):
    domain, general = two_files
    cfg = qa_config(f"data.train_path=[{domain},{general}]", *overrides)
    with pytest.raises(PlugtuneError) as info:
        load(cfg)
    assert message in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize("entry,message", [
    ("{path: X, weight: -2}", "data.train_path[1].weight=-2: a weight must be 0 or more"),
    ("{path: X, wieght: 2}", "data.train_path[1]: unknown key 'wieght'; an entry has path, format, weight"),
    ("{format: alpaca}", "data.train_path[1]: an entry needs a path"),
    ("{path: X, format: alpacca}", "data.train_path[1].format='alpacca': unknown data format; available:"),
])
def test_bad_entries_are_one_line(two_files, entry, message):
    domain, general = two_files
    cfg = qa_config(f"data.train_path=[{domain},{entry.replace('X', str(general))}]", f"data.eval_path={domain}")
    with pytest.raises(PlugtuneError) as info:
        load(cfg)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_a_single_file_reports_itself_too(two_files):
    domain, _ = two_files
    data = load(qa_config(f"data.train_path={domain}"))
    assert data.stats()["train_files"] == [
        {"path": str(domain), "format": "alpaca", "rows_read": 10, "weight": 1.0, "rows_used": 10}]


# --- the resume fingerprint covers every file -------------------------------------------------------


def make_checkpoint(run_dir: Path) -> None:
    path = run_dir / "checkpoints" / "checkpoint-4"
    path.mkdir(parents=True)
    (path / "trainer_state.json").write_text(json.dumps({"global_step": 4, "max_steps": 10}))


def test_a_changed_second_file_blocks_resume(two_files, tmp_path):
    domain, general = two_files
    overrides = [f"data.train_path=[{domain},{{path: {general}, weight: 0.5}}]", f"data.eval_path={domain}"]
    run_dir = tmp_path / "run"
    resume_or_start(qa_config(*overrides), run_dir)
    make_checkpoint(run_dir)
    assert resume_or_start(qa_config(*overrides), run_dir) is not None  # unchanged: resumed
    alpaca_rows(general, "general", 21)
    with pytest.raises(PlugtuneError, match=r"data.train_path\[1\]: the file's content differs"):
        resume_or_start(qa_config(*overrides), run_dir)


def test_the_fingerprint_has_each_files_digest_and_its_weight(two_files):
    domain, general = two_files
    listed = fingerprint(qa_config(f"data.train_path=[{domain},{{path: {general}, weight: 0.5}}]"))
    assert set(listed["data"]) >= {"data.train_path[0]", "data.train_path[1]"}
    assert all(listed["data"][key] for key in ("data.train_path[0]", "data.train_path[1]"))
    heavier = fingerprint(qa_config(f"data.train_path=[{domain},{{path: {general}, weight: 2}}]"))
    assert listed["config"] != heavier["config"]  # a changed weight is another run
    # One path, as before (fingerprints recorded by earlier versions still match).
    single = fingerprint(qa_config(f"data.train_path={domain}"))
    assert "data.train_path" in single["data"] and single["data"]["data.train_path"]
