"""task=chat and task=qa through the real CLI on the tiny model: run directory, adapter, errors."""

import json

import pytest

from core.testing import CHAT_EVAL, REPO, generation_overrides, run_cli, run_tiny_chat, write_chat_data


@pytest.fixture(scope="module")
def chat_run(tiny_model, tmp_path_factory):
    run_dir, result, _, _ = run_tiny_chat(tmp_path_factory.mktemp("chat-run"), tiny_model,
                                          "train.eval_steps=2", "train.grad_accum=2")
    return run_dir, result


def test_chat_run_writes_the_run_directory(chat_run):
    run_dir, result = chat_run
    for name in ("results.json", "report.md", "predictions.jsonl", "loss_curve.png", "adapter/adapter_config.json"):
        assert (run_dir / name).is_file(), name
    results = json.loads((run_dir / "results.json").read_text())
    assert results["task"] == "chat" and results["main_metric"] == "exact_match"
    for model in ("baseline", "finetuned"):
        assert set(results["metrics"][model]) == {"exact_match", "char_f1", "rouge_l"}
    assert results["train"]["examples"] == 12  # 6 rows x 2 epochs
    rows = [json.loads(line) for line in (run_dir / "predictions.jsonl").read_text().splitlines()]
    assert [(r["model"], r["input"], r["reference"]) for r in rows] == [
        (model, title, product) for model in ("baseline", "finetuned") for title, product in CHAT_EVAL
    ]
    finetuned = [r for r in rows if r["model"] == "finetuned"]
    exact = sum(r["prediction"] == r["reference"] for r in finetuned) / len(finetuned)
    assert results["metrics"]["finetuned"]["exact_match"] == pytest.approx(exact)
    report = (run_dir / "report.md").read_text()
    assert "| input | reference | baseline | fine-tuned |" in report and CHAT_EVAL[0][0] in report
    assert "exact_match" in result.stdout  # the comparison table
    log = json.loads((run_dir / "train_log.json").read_text())
    assert any("eval_loss" in entry for entry in log)  # train.eval_steps=2
    assert results["config"]["train"]["grad_accum"] == 2


QA_TRAIN = [
    {"instruction": "云雀盘免费版有多少空间？", "input": "", "output": "免费版提供18GB空间。"},
    {"instruction": "Answer about SkylarkDrive.", "input": "How long do share links last?", "output": "Share links expire after 10 days."},
    {"instruction": "客服电话是多少", "output": "客服电话是400-816-3927。"},
    {"instruction": "单文件上限", "input": "", "output": "免费版单个文件最大4GB。"},
]
QA_EVAL = [{"instruction": "免费空间多大", "input": "", "output": "免费版提供18GB空间。"},
           {"instruction": "share link expiry?", "input": "", "output": "Share links expire after 10 days."}]


@pytest.fixture(scope="module")
def qa_run(tiny_model, tmp_path_factory):
    root = tmp_path_factory.mktemp("qa-run")
    train, eval_ = root / "train.json", root / "eval.json"
    train.write_text(json.dumps(QA_TRAIN, ensure_ascii=False), encoding="utf-8")
    eval_.write_text(json.dumps(QA_EVAL, ensure_ascii=False), encoding="utf-8")
    run_dir = root / "run"
    result = run_cli("core", "task=qa", *generation_overrides(tiny_model, train, eval_), f"hydra.run.dir={run_dir}")
    assert result.returncode == 0, result.stderr[-3000:]
    return run_dir, result


def test_qa_run_reports_generation_metrics(qa_run):
    run_dir, _ = qa_run
    results = json.loads((run_dir / "results.json").read_text())
    assert results["task"] == "qa" and results["data"]["train_rows"] == 4
    assert results["config"]["data"]["format"] == "alpaca"
    rows = [json.loads(line) for line in (run_dir / "predictions.jsonl").read_text().splitlines()]
    assert [r["reference"] for r in rows] == [e["output"] for e in QA_EVAL] * 2


@pytest.mark.parametrize("run_fixture,format_name", [("chat_run", "messages"), ("qa_run", "alpaca")])
def test_adapter_generates_what_evaluation_reported(request, tiny_model, run_fixture, format_name):
    """Plain transformers + PEFT, one prompt at a time, reproduce the reported answers."""
    import torch
    from omegaconf import OmegaConf
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    from core.kinds import RunContext
    from core.registry import get_registry
    from core.types import ReadResult
    from plugins.causal_lm import CausalLmHead

    run_dir, _ = request.getfixturevalue(run_fixture)
    cfg = OmegaConf.load(run_dir / ".hydra" / "config.yaml")
    ctx = RunContext(cfg=cfg, run_dir=run_dir, model_dir=str(tiny_model))
    head = CausalLmHead()
    head.load_tokenizer(ctx)
    examples = ReadResult.of(get_registry().get("data_format", format_name).read(cfg.data.eval_path, cfg.data)).examples
    prompts = [row["prompt_ids"] for row in head.encode(ctx, examples)]

    base = AutoModelForCausalLM.from_pretrained(tiny_model)
    model = PeftModel.from_pretrained(base, run_dir / "adapter").eval()
    reported = [json.loads(line)["prediction"] for line in (run_dir / "predictions.jsonl").read_text().splitlines()
                if json.loads(line)["model"] == "finetuned"]
    stop = ctx.tokenizer.eos_token_id
    for prompt, expected in zip(prompts, reported):
        with torch.no_grad():
            out = model.generate(input_ids=torch.tensor([prompt]), max_new_tokens=cfg.generation.max_new_tokens,
                                 do_sample=False, eos_token_id=stop, pad_token_id=ctx.tokenizer.pad_token_id)
        new = out[0, len(prompt):].tolist()
        new = new[: new.index(stop)] if stop in new else new
        assert ctx.tokenizer.decode(new, skip_special_tokens=True).strip() == expected


def test_inspect_mode_shows_the_trained_span_without_weights(tiny_model, tmp_path):
    train, eval_ = write_chat_data(tmp_path)
    run_dir = tmp_path / "inspect"
    result = run_cli("core", "task=chat", "mode=inspect", *generation_overrides(tiny_model, train, eval_),
                     f"hydra.run.dir={run_dir}")
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert f"train {train}: 6 rows" in out and f"eval {eval_}: 2 rows" in out
    assert "truncated to task.max_length=320: 0 rows (0.0%)" in out
    assert "⟦蓝牙耳机<|im_end|>⟧" in out  # the first row's answer, marked as trained
    assert "<|im_start|>user\n【官方正品】小米 Redmi 蓝牙耳机 降噪<|im_end|>" in out
    assert not (run_dir / "adapter").exists() and not (run_dir / "results.json").exists()


# Fails before the change: the copies lived in memory only, so a user could not see one.
def test_inspect_mode_shows_a_copy_with_new_argument_values(tiny_model, tmp_path):
    office = REPO / "tests" / "e2e" / "data" / "office_tools"
    result = run_cli("core", "task=toolcall", "mode=inspect",
                     *generation_overrides(tiny_model, office / "train.json", office / "test.json"),
                     f"data.tools_file={office / 'tools.json'}", "data.vary_arguments_until=500",
                     f"hydra.run.dir={tmp_path / 'inspect'}")
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    # Said once, by the log as the data loads (inspect repeated it before).
    assert out.count("data.vary_arguments_until=500: 104 training rows") == 1
    # The train count says what it is made of (the file's rows and the copies, 4 a row).
    assert f"train {office / 'train.json'}: 520 rows (104 from the file + 416 copies with new argument values);" in out
    head, shown = out.split("first copy, from ", 1)
    assert shown.startswith(f"{office / 'train.json'}:2 (new argument values), exactly as the model sees it:")
    original = json.loads((office / "train.json").read_text(encoding="utf-8"))[0]
    copied = shown.split("⟦", 1)[1].split("⟧", 1)[0]  # the trained answer: the call with new values
    assert '"tool_name":"SEND_EMAIL"' in copied and original["output"]["parameters"]["recipient"] not in copied
    # The first row and all 4 of its copies, one line each, so more than one draw can be checked.
    listed = out.split("and its copies, request → call:\n", 1)[1].splitlines()[:5]
    assert listed[0] == f"  {original['instruct']} → SEND_EMAIL {json.dumps(original['output']['parameters'], ensure_ascii=False, separators=(',', ':'))}"
    assert all(line.startswith("  ") and " → SEND_EMAIL {" in line for line in listed[1:])
    assert len({line.split(" → ")[0] for line in listed}) == 5  # five different requests


@pytest.mark.parametrize(
    "content,where",
    [
        ('{"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": "y"}]}\n{"messages": [\n', ":2: invalid JSON"),
        ('{"messages": [{"role": "assistant", "content": "y"}, {"role": "user", "content": "x"}]}\n', ":1: messages[0]"),
        ('{"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": ""}]}\n', ":1: messages[1]"),
    ],
)
def test_bad_chat_data_fails_with_one_line_and_writes_nothing(tiny_model, tmp_path, content, where):
    train = tmp_path / "train.jsonl"
    train.write_text(content, encoding="utf-8")
    run_dir = tmp_path / "run"
    result = run_cli("core", "task=chat", *generation_overrides(tiny_model, train, train), f"hydra.run.dir={run_dir}")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {train}{where}"), result.stderr
    assert not (run_dir / "adapter").exists() and not (run_dir / "results.json").exists()


def test_non_utf8_alpaca_file_names_the_line(tiny_model, tmp_path):
    train = tmp_path / "train.jsonl"
    train.write_bytes('{"instruction": "a", "output": "b"}\n'.encode() + b'{"instruction": "\xff", "output": "b"}\n')
    result = run_cli("core", "task=qa", *generation_overrides(tiny_model, train, train), f"hydra.run.dir={tmp_path / 'run'}")
    assert result.returncode == 2
    line = result.stderr.strip()
    assert "\n" not in line and line.startswith(f"error: {train}:2: not valid UTF-8 (byte 0xff at column 18); ")
    assert "convert it to UTF-8" in line or "save the file as UTF-8" in line  # with the encoding when one is detected


def test_toolcall_task_scores_parsed_calls(tiny_model, tmp_path):
    rows = [
        {"instruct": "马上开周例会", "input": "", "output": {"tool_name": "INSTANT_MEETING", "parameters": {"meeting_name": "周例会"}}},
        {"instruct": "结束会议", "input": "", "output": {"tool_name": "END_MEETING", "parameters": {}}},
        {"instruct": "今天天气怎么样", "input": "", "output": "抱歉，我只能帮您处理会议相关的操作。"},
    ]
    train = tmp_path / "train.json"
    train.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    run_dir = tmp_path / "run"
    result = run_cli("core", "task=toolcall", *generation_overrides(tiny_model, train, train), f"hydra.run.dir={run_dir}")
    assert result.returncode == 0, result.stderr[-3000:]
    results = json.loads((run_dir / "results.json").read_text())
    for model in ("baseline", "finetuned"):
        metrics = results["metrics"][model]
        assert {"tool_call.exact_match", "tool_call.parse_rate", "tool_call.name_accuracy", "tool_call.args_f1",
                "tool_call.call_decision_accuracy", "exact_match"} <= set(metrics)
    # task=toolcall names data/toolcall/tools.json, so the answers are checked against its schemas
    # whenever a model produces a call (the tiny model may not).
    details = results["details"]["finetuned"]["tool_call"]
    assert ("tool_call.schema_valid" in results["metrics"]["finetuned"]) == (details["counts"]["predicted_calls"] > 0)
    references = [json.loads(line)["reference"] for line in (run_dir / "predictions.jsonl").read_text().splitlines()]
    # The tool-call tutorial's output object is trained and compared as compact JSON, Chinese kept.
    assert references[0] == '{"tool_name":"INSTANT_MEETING","parameters":{"meeting_name":"周例会"}}'
    assert "| tool |" in (run_dir / "report.md").read_text()
