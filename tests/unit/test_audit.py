"""The data audit: planted duplicates (exact and normalised), conflicting labels and answers,
label distributions, labels and tools never seen in training, on rows read through the real data
formats; clean data gives no warnings. Expected numbers are worked out in the comments."""

import json
import time
from pathlib import Path

import pytest

from core import Example, ReadResult
from core.audit import audit, called_tools, input_text, markdown_lines, normalise, text_lines, warnings
from core.testing import compose_config
from plugins.alpaca import AlpacaFormat
from plugins.messages import MessagesFormat
from plugins.text_label import TextLabelFormat
from plugins.toolcall_data import ToolcallFormat

FORMATS = {"text_label": TextLabelFormat, "alpaca": AlpacaFormat, "messages": MessagesFormat,
           "toolcall": ToolcallFormat}


def read(path: Path, format_name: str) -> list[Example]:
    cfg = compose_config([f"data.format={format_name}", "data.tools_file=null"])
    return ReadResult.of(FORMATS[format_name]().read(path, cfg.data)).examples


def jsonl(path: Path, *rows) -> Path:
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    return path


def labelled(path: Path, *rows: tuple[str, str]) -> list[Example]:
    return read(jsonl(path, *({"text": text, "label": label} for text, label in rows)), "text_label")


# ---------------------------------------------------------------------------------------------
# Normalisation and what an example's input is


@pytest.mark.parametrize("first, second", [
    ("ＡＢＣ", "ABC"),                     # full width folds to half width
    ("退款！", "退款"),                    # full-width punctuation goes
    ("退款？。，", "退款"),
    ("how   do I\tget a refund", "How do I get a refund?"),  # whitespace, case, punctuation
    ("退 款", "退款"),
    ("zero\u200bwidth", "zerowidth"),      # an invisible format character
])
def test_normalise_makes_variants_equal(first, second):
    assert normalise(first) == normalise(second)


@pytest.mark.parametrize("first, second", [("c++", "c"), ("退款", "退货"), ("$5", "5"), ("a<b", "ab")])
def test_normalise_keeps_what_changes_the_meaning(first, second):
    assert normalise(first) != normalise(second)


def test_punctuation_only_texts_stay_apart():
    assert normalise("？？") == "??" and normalise("！") == "!"


def test_input_leaves_out_the_system_prompt_and_answers(tmp_path):
    def chat(system, user, answer):
        return {"messages": [{"role": "system", "content": system}, {"role": "user", "content": user},
                             {"role": "assistant", "content": answer}]}
    rows = read(jsonl(tmp_path / "chat.jsonl", chat("你是客服", "退款", "好的"), chat("你是客服", "改密码", "好的"),
                      chat("You are an agent", "退款", "Sure")), "messages")
    assert input_text(rows[0]) == "退款"
    report = audit(rows, [])
    # a shared system prompt makes no duplicate; the same user turn under another one is a duplicate
    assert report["duplicates"]["within_train"]["exact"] == 1
    assert report["duplicates"]["within_train"]["examples"][0]["second"]["source"].endswith("chat.jsonl:3")


def test_input_without_user_text_falls_back_on_all_but_the_answers():
    example = Example(messages=[{"role": "system", "content": "你是客服"}, {"role": "user", "content": ""},
                                {"role": "assistant", "content": "好的"}])
    assert input_text(example) == "你是客服\n"


def test_alpaca_input_is_instruction_and_input(tmp_path):
    [row] = read(jsonl(tmp_path / "qa.jsonl", {"instruction": "Answer.", "input": "price?", "output": "39"}), "alpaca")
    assert input_text(row) == "Answer.\n\nprice?"


# ---------------------------------------------------------------------------------------------
# Classification data with planted problems


@pytest.fixture
def planted(tmp_path):
    train = labelled(tmp_path / "train.jsonl",
                     ("ABC退款", "refund"),                  # 1
                     ("how do I get a refund", "refund"),    # 2
                     ("ＡＢＣ退款！", "refund"),              # 3: normalised repeat of 1
                     ("how do I get a refund", "refund"),    # 4: exact repeat of 2
                     ("card lost", "card_lost"),             # 5
                     ("Card   Lost!!", "other"),             # 6: normalised repeat of 5, another label
                     ("退款", "refund"))                     # 7
    evaluation = labelled(tmp_path / "test.jsonl",
                          ("how do I get a refund", "refund"),        # 1: exact, train 2
                          ("ＨＯＷ do i get a refund？", "refund"),    # 2: normalised, train 2
                          ("退款！", "refund"),                        # 3: normalised, train 7
                          ("my balance", "balance"),                  # 4: new, a label train lacks
                          ("card lost", "fraud_risk"))                # 5: exact, train 5, another label
    return train, evaluation, audit(train, evaluation)


def test_duplicates_between_train_and_eval_counted_with_sources(planted):
    _, _, report = planted
    found = report["duplicates"]["train_eval"]
    assert (found["rows"], found["of"], found["exact"], found["normalised"]) == (4, 5, 2, 2)
    pairs = [(e["kind"], e["first"]["source"].rsplit("/", 1)[1], e["second"]["source"].rsplit("/", 1)[1])
             for e in found["examples"]]
    assert pairs == [("exact", "train.jsonl:2", "test.jsonl:1"), ("normalised", "train.jsonl:2", "test.jsonl:2"),
                     ("normalised", "train.jsonl:7", "test.jsonl:3"), ("exact", "train.jsonl:5", "test.jsonl:5")]
    assert found["examples"][1]["second"]["text"] == "ＨＯＷ do i get a refund？"
    assert "val_eval" not in report["duplicates"] and "train_val" not in report["duplicates"]


def test_duplicates_within_train_counted_with_sources(planted):
    _, _, report = planted
    found = report["duplicates"]["within_train"]
    assert (found["rows"], found["of"], found["exact"], found["normalised"]) == (3, 7, 1, 2)
    pairs = [(e["kind"], e["first"]["source"].rsplit(":", 1)[1], e["second"]["source"].rsplit(":", 1)[1])
             for e in found["examples"]]
    assert pairs == [("normalised", "1", "3"), ("exact", "2", "4"), ("normalised", "5", "6")]


def test_examples_listed_caps_the_examples_not_the_counts(planted):
    train, evaluation, _ = planted
    report = audit(train, evaluation, examples_listed=1)
    assert report["duplicates"]["train_eval"]["rows"] == 4 and len(report["duplicates"]["train_eval"]["examples"]) == 1


def test_conflicting_labels_within_train_and_across(planted):
    _, _, report = planted
    within, across = report["conflicts"]["within_train"], report["conflicts"]["train_eval"]
    assert (within["inputs"], within["rows"]) == (1, 2)  # "card lost" (card_lost) and "Card   Lost!!" (other)
    assert [(a["answer"], a["rows"]) for a in within["examples"][0]["answers"]] == [("card_lost", 1), ("other", 1)]
    assert within["examples"][0]["answers"][1]["sources"][0].endswith("train.jsonl:6")
    assert across["rows"] == 1  # test.jsonl:5 says fraud_risk; the refund twins agree with train
    assert across["examples"][0]["eval"] == {"source": across["examples"][0]["eval"]["source"], "answer": "fraud_risk"}
    assert across["examples"][0]["eval"]["source"].endswith("test.jsonl:5")


def test_label_distribution_per_split(planted):
    _, _, report = planted
    distribution = report["distribution"]
    assert distribution["of"] == "label"
    assert distribution["splits"]["train"]["counts"] == {"card_lost": 1, "other": 1, "refund": 5}
    assert distribution["splits"]["train"]["shares"]["refund"] == pytest.approx(5 / 7, abs=1e-4)
    assert distribution["splits"]["eval"]["counts"] == {"balance": 1, "fraud_risk": 1, "refund": 3}
    # |5/7 - 3/5| + 1/7 + 1/7 + 1/5 + 1/5 = 0.8, halved
    assert distribution["distance"] == {"train_eval": pytest.approx(0.4, abs=1e-4)}
    assert distribution["skewed"] == []  # 5 and 7 rows: too few to flag


def test_unseen_eval_labels(planted):
    _, _, report = planted
    assert report["unseen_labels"] == {"eval": {"balance": 1, "fraud_risk": 1}}
    assert "unseen_tools" not in report


def test_findings_become_one_warning_each(planted):
    _, _, report = planted
    lines = warnings(report)
    assert len(lines) == 5, lines  # train/eval, within train, two conflicts, unseen labels
    assert all("\n" not in line for line in lines)
    assert lines[0].startswith("data audit: eval rows whose input is also in train: 4 of 5 (80.0%; 2 exact, 2 after")
    assert "test.jsonl:1 = train.jsonl:2 'how do I get a refund'" in lines[0]
    assert lines[1].startswith("data audit: train rows repeating an earlier train row's input: 3 of 7 (1 exact, 2")
    assert "inputs in train with different labels: 1 (2 rows)" in lines[2]
    assert "'card_lost' (train.jsonl:5), 'other' (train.jsonl:6)" in lines[2]
    assert "eval rows whose train twin has another label: 1" in lines[3] and "'fraud_risk'" in lines[3]
    assert lines[4] == "data audit: eval labels never seen in training: balance (1 row), fraud_risk (1 row)"


def test_report_and_inspect_lines(planted):
    _, _, report = planted
    json.loads(json.dumps(report))  # results.json can hold it
    md = "\n".join(markdown_lines(report))
    assert md.startswith("## Data audit\n")
    assert "| eval rows whose input is also in train | 4 of 5 | 2 | 2 |" in md
    assert "| refund | 5 (71.4%) | 3 (60.0%) |" in md and "| balance | 0 (0.0%) | 1 (20.0%) |" in md
    assert "Eval labels never seen in training: balance (1 row), fraud_risk (1 row)." in md
    text = "\n".join(text_lines(report))
    assert "  eval rows whose input is also in train: 4 of 5 (80.0%; 2 exact, 2 after normalising)" in text
    assert "  total variation distance train/eval: 0.40" in text


# ---------------------------------------------------------------------------------------------
# Validation split, skew, clean data


def test_val_compared_with_train_and_eval():
    def rows(split, *texts):
        return [Example(messages=[{"role": "user", "content": t}], label="a", source=f"{split}:{i}")
                for i, t in enumerate(texts, 1)]
    report = audit(rows("train", "x", "y"), rows("eval", "z", "Ｗ"), val=rows("val", "X!", "w", "v"))
    assert report["rows"] == {"train": 2, "val": 3, "eval": 2}
    assert (report["duplicates"]["val_eval"]["rows"], report["duplicates"]["val_eval"]["normalised"]) == (1, 1)
    assert report["duplicates"]["val_eval"]["examples"][0]["first"]["source"] == "val:2"
    assert (report["duplicates"]["train_val"]["rows"], report["duplicates"]["train_val"]["of"]) == (1, 3)
    assert report["duplicates"]["train_eval"]["rows"] == 0


def spread(split: str, counts: dict[str, int]) -> list[Example]:
    """Distinct texts with ``counts`` rows per label."""
    return [Example(messages=[{"role": "user", "content": f"{split} {label} text {i}"}], label=label,
                    source=f"{split}.jsonl:{i}")
            for label, n in counts.items() for i in range(n)]


def test_skew_flagged_above_the_distance_with_enough_rows():
    train = spread("train", {"a": 50, "b": 50})
    report = audit(train, spread("eval", {"a": 54, "b": 6}))  # |0.5 - 0.9| = 0.4
    assert report["distribution"]["distance"]["train_eval"] == pytest.approx(0.4)
    assert report["distribution"]["skewed"] == ["train_eval"]
    [line] = warnings(report)
    assert line.startswith("data audit: label shares differ between train and eval (total variation distance 0.40 > 0.2)")
    assert "eval a 90%, b 10%" in line
    close = audit(train, spread("eval", {"a": 33, "b": 27}))  # |0.5 - 0.55| = 0.05
    assert close["distribution"]["skewed"] == [] and warnings(close) == []
    small = audit(train, spread("eval", {"a": 9, "b": 1}))  # distance 0.4, but 10 eval rows
    assert small["distribution"]["skewed"] == []


def test_clean_data_gives_no_warnings(tmp_path):
    train = labelled(tmp_path / "train.jsonl", ("我要退款", "refund"), ("卡丢了", "card_lost"),
                     ("余额多少", "balance"), ("退货退款怎么弄", "refund"))
    evaluation = labelled(tmp_path / "test.jsonl", ("退款进度", "refund"), ("我的卡不见了", "card_lost"))
    report = audit(train, evaluation, val=[])
    assert warnings(report) == []
    assert report["rows"] == {"train": 4, "eval": 2}
    assert "SKEWED" not in "\n".join(text_lines(report))


# ---------------------------------------------------------------------------------------------
# Generation and tool-call data


def test_same_prompt_different_answers_worded_as_answers(tmp_path):
    train = read(jsonl(tmp_path / "train.jsonl",
                       {"instruction": "退款要多久?", "output": "3天。", "system": "你是客服"},
                       {"instruction": "退款要多久？", "output": "5天。", "system": "你是客服"},
                       {"instruction": "人工客服几点上班", "output": "8点", "system": "你是客服"},
                       {"instruction": "人工客服几点上班！", "output": "8 点", "system": "你是客服"}), "alpaca")
    evaluation = read(jsonl(tmp_path / "test.jsonl", {"instruction": "退款要多久", "output": "7天"},
                            {"instruction": "会员多少钱"}), "alpaca")
    report = audit(train, evaluation)
    assert report["answers"] == "answers" and report["distribution"] is None and report["unseen_labels"] == {}
    # "8点" and "8 点" are one answer once normalised; 3天 and 5天 are two
    assert (report["conflicts"]["within_train"]["inputs"], report["conflicts"]["within_train"]["rows"]) == (1, 2)
    assert report["conflicts"]["train_eval"]["rows"] == 1
    assert report["duplicates"]["within_train"]["normalised"] == 2
    assert report["duplicates"]["train_eval"]["rows"] == 1  # the unanswered prompt has no twin
    lines = warnings(report)
    assert any("inputs in train with different answers: 1 (2 rows)" in line for line in lines)
    assert any("eval rows whose train twin has another answer: 1" in line for line in lines)
    assert not any("label" in line for line in lines)


def test_unseen_tools_and_tool_distribution(tmp_path):
    def call(name, text):
        return {"instruct": text, "input": "", "output": {"tool_name": name, "parameters": {}}}
    train = read(jsonl(tmp_path / "train.jsonl", call("INSTANT_MEETING", "开会"), call("END_MEETING", "结束会议"),
                       {"instruct": "你好", "output": "你好，请说指令。"}), "toolcall")
    evaluation = read(jsonl(tmp_path / "test.jsonl", call("SET_REMINDER", "提醒我"), call("INSTANT_MEETING", "开个会"),
                            {"messages": [{"role": "user", "content": "静音"}, {"role": "assistant", "content": "",
                             "tool_calls": [{"type": "function", "function": {"name": "MUTE_ALL", "arguments": "{}"}}]}]}),
                      "toolcall")
    assert called_tools(evaluation[2]) == ["MUTE_ALL"] and called_tools(train[2]) == []
    report = audit(train, evaluation)
    assert report["unseen_tools"] == {"eval": {"MUTE_ALL": 1, "SET_REMINDER": 1}}
    assert report["distribution"]["of"] == "tool"
    assert report["distribution"]["splits"]["train"]["counts"] == {"(no tool)": 1, "END_MEETING": 1, "INSTANT_MEETING": 1}
    assert warnings(report) == ["data audit: eval tools never seen in training: MUTE_ALL (1 row), SET_REMINDER (1 row)"]
    assert "  eval tools never seen in training: MUTE_ALL (1 row), SET_REMINDER (1 row)" in text_lines(report)


def test_a_json_answer_that_is_not_a_call_names_no_tool():
    example = Example(messages=[{"role": "user", "content": "who"}, {"role": "assistant", "content": '{"name": "Bob"}'}])
    assert called_tools(example) == []


# ---------------------------------------------------------------------------------------------
# Cost


def test_ten_thousand_rows_take_well_under_a_few_seconds():
    train = [Example(messages=[{"role": "user", "content": f"第{i}号问题：退款要多久？ＡＢＣ {i % 97}"}],
                     label=f"l{i % 7}", source=f"train.jsonl:{i}") for i in range(10_000)]
    evaluation = [Example(messages=[{"role": "user", "content": f"第{i}号问题：退款要多久? abc {i % 97}"}],
                          label=f"l{i % 7}", source=f"test.jsonl:{i}") for i in range(2_000)]
    start = time.perf_counter()
    report = audit(train, evaluation)
    elapsed = time.perf_counter() - start
    assert report["duplicates"]["train_eval"]["normalised"] == 2_000  # every eval row, after normalising
    assert elapsed < 3.0, elapsed  # linear: about 0.2 s here; a pairwise comparison would take minutes


# ---------------------------------------------------------------------------------------------
# Train file = eval file: a recall test, said once, not warned about


def test_eval_rows_that_are_the_train_rows_are_a_recall_test_not_a_warning(tmp_path):
    facts = [("公司成立于哪一年？", "2015"), ("客服电话是多少？", "400-800-1234"), ("总部在哪里？", "杭州")]
    train = labelled(tmp_path / "train.jsonl", *facts)
    report = audit(train, labelled(tmp_path / "eval.jsonl", *facts))
    assert report["recall"] is True
    assert not any("also in train" in line for line in warnings(report))
    assert "  eval rows are the train rows: this measures recall, not generalisation" in text_lines(report)
    assert "**Eval rows are the train rows: this measures recall, not generalisation.**" in markdown_lines(report)


def test_some_eval_rows_in_train_is_contamination_not_recall(tmp_path, planted):
    _, _, report = planted  # 2 of 5 eval rows exactly in train, 2 more after normalising
    assert report["recall"] is False
    assert any("eval rows whose input is also in train" in line for line in warnings(report))
