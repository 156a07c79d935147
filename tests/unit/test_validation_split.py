"""core.validation_split: the share set aside is stratified, seeded, never an eval row's prompt."""

import pytest

from core import Example, PlugtuneError
from core.validation_split import carve, from_file, prompt_key


def row(text: str, label: str | None = None, answer: str | None = None, source: str = "") -> Example:
    messages = [{"role": "user", "content": text}] + ([{"role": "assistant", "content": answer}] if answer else [])
    return Example(messages=messages, label=label, source=source or text)


def labelled(counts: dict[str, int]) -> list[Example]:
    return [row(f"{label}-{i}", label) for label, n in counts.items() for i in range(n)]


def test_stratified_share_of_every_label_and_seeded():
    parts = [labelled({"a": 50, "b": 30}), labelled({"c": 20})]
    remaining, val, info = carve(parts, 0.1, seed=7, eval_rows=[])
    counts = {label: sum(ex.label == label for ex in val) for label in "abc"}
    assert counts == {"a": 5, "b": 3, "c": 2} and info["rows"] == 10 and info["stratified"]
    assert [len(p) for p in remaining] == [72, 18]
    assert not {ex.source for ex in val} & {ex.source for p in remaining for ex in p}
    again = carve(parts, 0.1, seed=7, eval_rows=[])[1]
    other = carve(parts, 0.1, seed=8, eval_rows=[])[1]
    assert [ex.source for ex in again] == [ex.source for ex in val]
    assert [ex.source for ex in other] != [ex.source for ex in val]


def test_generation_rows_are_drawn_without_labels():
    parts = [[row(f"q{i}", answer=f"a{i}") for i in range(40)]]
    _, val, info = carve(parts, 0.25, seed=1, eval_rows=[])
    assert len(val) == 10 and not info["stratified"] and "label_counts" not in info


def test_eval_prompts_never_validate():
    parts = [labelled({"a": 10})]
    eval_rows = [row("a-0", "a"), row("a-1", "b")]  # same prompt: left in training whatever the label
    _, val, info = carve(parts, 0.9, seed=3, eval_rows=eval_rows)
    assert {prompt_key(ex) for ex in val}.isdisjoint({prompt_key(ex) for ex in eval_rows})
    assert info["train_rows_not_eligible"] == 2 and len(val) == 7


def test_nothing_to_validate_is_one_line():
    parts = [labelled({"a": 4})]
    with pytest.raises(PlugtuneError, match="every training row is also an eval row"):
        carve(parts, 0.5, seed=0, eval_rows=parts[0])
    with pytest.raises(PlugtuneError, match="give no validation row"):
        carve([labelled({"a": 2, "b": 2})], 0.1, seed=0, eval_rows=[])


def test_val_file_drops_eval_rows_and_refuses_the_eval_file():
    rows = [row("x", "a"), row("y", "b")]
    kept, info = from_file("dev.jsonl", rows, [row("x", "a")], "test.jsonl")
    assert [ex.source for ex in kept] == ["y"] and info["left_out_as_eval_rows"] == 1
    with pytest.raises(PlugtuneError, match="is the eval file"):
        from_file("test.jsonl", rows, [], "test.jsonl")
    with pytest.raises(PlugtuneError, match="no validation row left"):
        from_file("dev.jsonl", rows[:1], rows[:1], "test.jsonl")
