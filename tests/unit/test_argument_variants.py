"""Tool-call rows copied with new argument values (data.vary_arguments_until,
core/argument_variants.py): which rows, what changes in the request and in the call, how many
copies, and that the defaults grow the office tool-call set but not the shipped one. No model."""

import json
import logging
import random
from pathlib import Path

from omegaconf import OmegaConf

from core.argument_variants import NUMBER, chinese_number, chinese_value, new_numbers, new_value, vary
from core.data import load_data
from core.registry import get_registry
from core.report import render_report
from core.shipped_data import resolve_data_paths
from core.testing import compose_config
from core.types import Example

OFFICE = Path(__file__).resolve().parents[1] / "e2e" / "data" / "office_tools"


def tutorial_row(text: str, tool: str, **arguments) -> Example:
    answer = json.dumps({"tool_name": tool, "parameters": arguments}, ensure_ascii=False, separators=(",", ":"))
    return Example(messages=[{"role": "user", "content": text}, {"role": "assistant", "content": answer}],
                   source=f"train.json:{len(text)}", fields={"instruction": text, "input": "", "output": answer})


def openai_row(text: str, tool: str, **arguments) -> Example:
    call = {"type": "function", "function": {"name": tool, "arguments": json.dumps(arguments, ensure_ascii=False)}}
    return Example(messages=[{"role": "user", "content": text},
                             {"role": "assistant", "content": "", "tool_calls": [call]}], source="chat.jsonl:1")


def call_of(example: Example) -> tuple[str, dict]:
    answer = example.messages[-1]
    if answer.get("tool_calls"):
        function = answer["tool_calls"][0]["function"]
        return function["name"], json.loads(function["arguments"])
    parsed = json.loads(answer["content"])
    return parsed["tool_name"], parsed["parameters"]


ROWS = [
    tutorial_row("帮我订明天下午三点的天山厅", "BOOK_ROOM", room="天山厅", date="明天", time="下午三点"),
    tutorial_row("后天上午十点要用3号会议室", "BOOK_ROOM", room="3号会议室", date="后天", time="上午十点"),
    tutorial_row("给李娜打电话", "CALL_CONTACT", name="李娜"),
    tutorial_row("给郑浩打个电话", "CALL_CONTACT", name="郑浩"),
]


def test_copies_replace_each_copied_value_in_the_request_and_the_call_alike():
    grown, summary = vary(ROWS, until=12, seed=0)
    assert grown[: len(ROWS)] == ROWS
    assert summary == {"rows": 4, "rows_with_copied_values": 4, "copies_per_row": 2, "rows_added": 8, "until": 12}
    assert len(grown) == 12
    training_values = {value for row in ROWS for value in call_of(row)[1].values()}
    for copy in grown[len(ROWS):]:
        tool, arguments = call_of(copy)
        request = copy.messages[0]["content"]
        assert copy.fields["instruction"] == request and copy.fields["output"] == copy.messages[-1]["content"]
        assert all(value in request for value in arguments.values()), (request, arguments)
        assert not set(arguments.values()) & training_values, arguments  # every value is new
        assert copy.source.endswith("(new argument values)")
    original, copy = ROWS[2], grown[len(ROWS) + 2]
    assert copy.messages[0]["content"].startswith("给") and copy.messages[0]["content"].endswith("打电话")
    assert call_of(copy)[0] == call_of(original)[0] == "CALL_CONTACT"


def test_new_values_are_splices_of_the_same_arguments_values_and_never_one_of_them():
    values = ["李娜", "郑浩", "王建国", "张小红"]
    rng = random.Random(1)
    made = [new_value(values, rng) for _ in range(200)]
    assert not set(made) & set(values)
    splices = {a[:i] + b[j:] for a in values for b in values for i in range(1, len(a)) for j in range(1, len(b))}
    assert set(made) <= splices
    assert len(set(made)) > 15
    joined = {"张王", "王张", "张张", "王王"}
    assert new_value(["张", "王"], random.Random(0)) in joined  # one character: joined whole
    assert new_value(["明天", "后天"], random.Random(0)) in {"明天后天", "后天明天", "明天明天", "后天后天"}  # no new splice


# Fails before the change: splices only recombined the file's own numbers (十点, 三点), so a
# model trained on them answered 上午十一点 with 上午十点.
def test_the_numbers_in_a_new_value_are_drawn_anew_in_the_same_script():
    values = ["上午十点", "下午三点", "6月18号", "3月2号"]
    masked = lambda text: NUMBER.sub("#", text)  # noqa: E731
    splices = {masked(a[:i] + b[j:]) for a in values for b in values for i in range(1, len(a)) for j in range(1, len(b))}
    made = [new_value(values, random.Random(seed)) for seed in range(300)]
    assert {masked(value) for value in made} <= splices | {masked(a + b) for a in values for b in values}
    numbers = {number for value in made for number in NUMBER.findall(value)}
    assert {"十一", "二十", "7", "25"} & numbers and not numbers <= {"十", "三", "6", "18", "3", "2"}
    rng = random.Random(0)
    for _ in range(50):  # each number keeps its script and the text around it
        chinese, digits = new_numbers("上午十点", rng), new_numbers("6月18号", rng)
        assert chinese.startswith("上午") and chinese.endswith("点") and NUMBER.fullmatch(chinese[2:-1])
        assert not any(c.isascii() for c in chinese)
        month, day = digits.removesuffix("号").split("月")
        assert month.isdigit() and day.isdigit() and 1 <= int(day) <= 36
    for n in range(1, 100):
        assert chinese_value(chinese_number(n)) == n
    # A splice can make a number of 50 or more (上午九点 + 十二点 → 九十二): drawn up to 2n it went past
    # 99, where chinese_number has no numerals, and the run stopped with an IndexError.
    for text in ("上午九十二点", "五十天", "99号"):
        redrawn = {new_numbers(text, random.Random(seed)) for seed in range(200)}
        values = [chinese_value(n) if not n.isascii() else int(n) for t in redrawn for n in NUMBER.findall(t)]
        assert max(values) <= 99 and min(values) >= 1 and len(redrawn) > 20
    assert chinese_value("两") == 2 and chinese_value("一二") is None


def test_a_value_inside_a_longer_value_is_replaced_only_where_it_stands_alone():
    row = tutorial_row("明天下午三点去首都机场，明天就出发", "BOOK_TAXI", destination="首都机场", time="明天下午三点",
                       date="明天")
    other = tutorial_row("后天晚上七点去北京南站，后天就出发", "BOOK_TAXI", destination="北京南站", time="后天晚上七点",
                         date="后天")
    grown, _ = vary([row, other], until=6, seed=3)
    assert len(grown) == 6
    for copy in grown[2:]:
        _, arguments = call_of(copy)
        request = copy.messages[0]["content"]
        assert all(value in request for value in arguments.values())
        assert arguments["date"] not in ("明天", "后天") and arguments["time"] not in ("明天下午三点", "后天晚上七点")


def test_openai_tool_calls_keep_their_arguments_as_text():
    rows = [openai_row("给李娜打电话", "CALL_CONTACT", name="李娜"), openai_row("给郑浩打个电话", "CALL_CONTACT", name="郑浩")]
    grown, summary = vary(rows, until=4, seed=0)
    assert summary["rows_added"] == 2
    for copy in grown[2:]:
        arguments = copy.messages[-1]["tool_calls"][0]["function"]["arguments"]
        assert isinstance(arguments, str)
        name = json.loads(arguments)["name"]
        assert name not in ("李娜", "郑浩") and name in copy.messages[0]["content"]
    assert json.loads(rows[0].messages[-1]["tool_calls"][0]["function"]["arguments"]) == {"name": "李娜"}  # untouched


def test_rows_it_cannot_vary_are_left_alone():
    plain = Example(messages=[{"role": "user", "content": "你好"}, {"role": "assistant", "content": "你好！"}])
    not_copied = tutorial_row("打给我老板", "CALL_CONTACT", name="王建国")  # the value is not in the request
    spaced = Example(messages=[{"role": "user", "content": "给李娜打电话"},
                               {"role": "assistant", "content": '{"tool_name": "CALL_CONTACT", "parameters": {"name": "李娜"}}'}])
    assert vary([plain, not_copied, spaced], until=100, seed=0) == ([plain, not_copied, spaced], None)
    assert vary(ROWS, until=0, seed=0) == (ROWS, None)  # off
    assert vary(ROWS, until=4, seed=0) == (ROWS, None)  # enough rows already
    assert vary(ROWS, until=10_000, seed=0)[1]["copies_per_row"] == 4  # at most MAX_COPIES


def test_no_two_rows_share_a_request_after_the_copies():
    rows = [tutorial_row(f"给{name}打电话", "CALL_CONTACT", name=name) for name in ("李娜", "郑浩", "孙丽", "刘洋")]
    for seed in range(20):  # 4 rows x 4 copies from 12 possible splices: draws repeat without the check
        grown, _ = vary(rows, until=20, seed=seed)
        requests = [row.messages[0]["content"] for row in grown]
        assert len(set(requests)) == len(requests), seed


def test_the_same_seed_makes_the_same_copies():
    first, _ = vary(ROWS, until=12, seed=7)
    again, _ = vary(ROWS, until=12, seed=7)
    other, _ = vary(ROWS, until=12, seed=8)
    assert [row.messages for row in first] == [row.messages for row in again]
    assert [row.messages for row in first] != [row.messages for row in other]


def load(*overrides: str, config: bool = False):
    cfg = compose_config(["task=toolcall", *overrides])
    resolve_data_paths(cfg)
    data = load_data(cfg, get_registry().get("data_format", cfg.data.format))
    return (cfg, data) if config else data


def test_the_toolcall_defaults_grow_small_data_and_leave_the_shipped_data_as_it_is(caplog):
    with caplog.at_level(logging.INFO, logger="plugtune"):
        cfg, office = load(f"data.train_path={OFFICE / 'train.json'}", f"data.eval_path={OFFICE / 'test.json'}",
                           f"data.tools_file={OFFICE / 'tools.json'}", config=True)
    assert office.argument_variants["rows"] == 104 and office.argument_variants["copies_per_row"] == 4
    assert len(office.train) == 104 + office.argument_variants["rows_added"] >= 500
    added = office.argument_variants["rows_added"]
    assert any(record.getMessage().startswith(f"data.vary_arguments_until=500: 104 training rows, 104 of them with "
                                              f"argument values copied from the request; added {added} copies")
               for record in caplog.records)
    results = {"task": "toolcall", "model": "tiny", "metrics": {"finetuned": {}},
               "train": {"seconds": 1.0, "examples": 1, "examples_per_second": 1.0, "tokens_per_second": 1.0},
               "data": {**office.stats(), "truncated_rows": {}}, "config": OmegaConf.to_container(cfg, resolve=True)}
    assert (f"- of those, {added} are copies of the 104 rows with new argument values (4 per row, "
            "data.vary_arguments_until=500)") in render_report(results, {}, {}, [])
    shipped = load()
    assert shipped.argument_variants is None and "argument_variants" not in shipped.stats()
    off = load(f"data.train_path={OFFICE / 'train.json'}", f"data.eval_path={OFFICE / 'test.json'}",
               "data.vary_arguments_until=0")
    assert len(off.train) == 104 and off.argument_variants is None
