"""Shipping a run on the tiny model: GGUF export with the export check, the failures it must
catch (a wrong stop token, a GGUF without its chat template), batch prediction, and the
OpenAI-compatible server queried by the official client."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from core.testing import CHAT_EVAL, ServedRun, predictions, run_cli, run_tiny_chat, tiny_overrides


@pytest.fixture(scope="module")
def chat_run(tiny_model, tmp_path_factory):
    run_dir, *_ = run_tiny_chat(tmp_path_factory.mktemp("ship-chat"), tiny_model, "train.lr=5e-3")
    return run_dir


@pytest.fixture(scope="module")
def gguf_export(chat_run):
    result = run_cli("core.export", f"run_dir={chat_run}", "format=gguf", "quantization=f16")
    assert result.returncode == 0, result.stderr[-3000:]
    return chat_run / "gguf", result


def finetuned_answers(run_dir: Path) -> list[str]:
    return [p["prediction"] for p in predictions(run_dir) if p["model"] == "finetuned"]


def test_gguf_export_writes_the_model_the_lora_and_a_modelfile_and_checks_them(chat_run, gguf_export):
    folder, result = gguf_export
    assert (folder / "model-f16.gguf").stat().st_size > 1_000_000
    assert (folder / "adapter-f16.gguf").is_file()
    checks = json.loads((folder / "export_check.json").read_text())["checks"]
    assert [c["format"] for c in checks] == ["merged", "f16"]
    for check in checks:
        assert check["passed"] and check["rows"] == len(CHAT_EVAL) and check["differing_rows"] == 0, check
        assert check["artifact_value"] == check["adapter"]
    assert "export check" in result.stdout and "0 of 2 answers differ: ok" in result.stdout
    assert "## Export check" in (chat_run / "report.md").read_text()
    modelfile = (folder / "Modelfile").read_text()
    assert "FROM ./model-f16.gguf" in modelfile and 'PARAMETER stop "<|im_end|>"' in modelfile
    assert 'SYSTEM """从商品标题中提取核心商品名称。"""' in modelfile  # the rows' own system prompt
    spec = json.loads((folder / "plugtune_inference.json").read_text())
    assert spec["kind"] == "generation" and spec["decoding"]["max_new_tokens"] == 6


# Fails before the change: llama.cpp loaded the file with its extra weight buffers, whose AMX
# kernels kill the process (segmentation fault) on virtual machines that report AMX but fault on it.
def test_gguf_answers_come_from_llama_cpp_without_its_extra_weight_buffers(gguf_export):
    from llama_cpp import llama_cpp as library

    from core.gguf_export import open_gguf

    folder, _ = gguf_export
    llm = open_gguf(folder / "model-f16.gguf", n_ctx=256, n_threads=1)
    assert llm.model_params.use_extra_bufts is False
    assert library.llama_model_default_params().use_extra_bufts is True  # swapped for the load only
    out = llm.create_completion("商品", max_tokens=3, temperature=0.0)
    assert out["usage"]["completion_tokens"] >= 1


def test_a_gguf_that_lost_its_chat_template_fails_the_check(chat_run, gguf_export, tmp_path):
    folder, _ = gguf_export
    broken = tmp_path / "gguf"
    broken.mkdir()
    shutil.copy(folder / "plugtune_inference.json", broken)
    done = subprocess.run([sys.executable, "-m", "gguf.scripts.gguf_new_metadata", str(folder / "model-f16.gguf"),
                           str(broken / "model-f16.gguf"), "--remove-metadata", "tokenizer.chat_template", "--force"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    result = run_cli("core.export_check", f"run_dir={chat_run}", f"artifact={broken / 'model-f16.gguf'}")
    assert result.returncode == 2, result.stdout[-2000:]
    error = result.stderr.strip().splitlines()[-1]
    assert error.startswith(f"error: export check failed for {broken / 'model-f16.gguf'}")
    assert "first differing row" in error and "eval.jsonl:" in error
    assert json.loads((broken / "export_check.json").read_text())["checks"][0]["passed"] is False


def test_a_wrong_stop_token_in_the_merged_model_fails_the_check(chat_run, gguf_export, tmp_path):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    merged = tmp_path / "merged"
    shutil.copytree(chat_run / "merged", merged)
    # The stop token becomes the first token the model answers the first eval row with: that
    # answer is cut off before it starts.
    tokenizer = AutoTokenizer.from_pretrained(merged)
    messages = [{"role": "system", "content": "从商品标题中提取核心商品名称。"}, {"role": "user", "content": CHAT_EVAL[0][0]}]
    prompt = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    ids = tokenizer(prompt, add_special_tokens=False, return_tensors="pt")["input_ids"]
    with torch.no_grad():
        first = int(AutoModelForCausalLM.from_pretrained(merged)(input_ids=ids).logits[0, -1].argmax())
    config = json.loads((merged / "generation_config.json").read_text())
    config["eos_token_id"] = [first]
    (merged / "generation_config.json").write_text(json.dumps(config))
    result = run_cli("core.export_check", f"run_dir={chat_run}", f"artifact={merged}")
    assert result.returncode == 2
    error = result.stderr.strip().splitlines()[-1]
    assert error.startswith(f"error: export check failed for {merged}") and "no answer may change" in error
    assert "eval.jsonl:1: adapter" in error


def test_bad_export_requests_are_one_line(chat_run, tiny_model, tiny_data, tmp_path):
    cases = [
        (["format=onnx"], "format=onnx: unknown; choose one of merged, gguf"),
        (["format=gguf", "quantization=q3"], "quantization=q3: unknown; choose one of f32, f16, bf16, q8_0"),
    ]
    for args, expected in cases:
        result = run_cli("core.export", f"run_dir={chat_run}", *args)
        assert result.returncode == 2 and expected in result.stderr, result.stderr[-2000:]
        assert len(result.stderr.strip().splitlines()) == 1
    not_a_run = run_cli("core.export", f"run_dir={tmp_path}", "format=gguf")
    assert not_a_run.returncode == 2 and "has no .hydra/config.yaml" in not_a_run.stderr
    classifier = tmp_path / "intent"
    assert run_cli("core", *tiny_overrides(tiny_model, *tiny_data), f"hydra.run.dir={classifier}").returncode == 0
    result = run_cli("core.export", f"run_dir={classifier}", "format=gguf")
    assert result.returncode == 2 and "format=merged" in result.stderr and "classifier" in result.stderr
    assert not (classifier / "gguf").exists() and not (classifier / "merged").exists()


def test_the_merged_classifier_scores_as_the_run_through_a_plain_pipeline(tiny_model, tiny_data, tmp_path):
    run_dir = tmp_path / "intent"
    assert run_cli("core", *tiny_overrides(tiny_model, *tiny_data), f"hydra.run.dir={run_dir}").returncode == 0
    result = run_cli("core.export", f"run_dir={run_dir}")
    assert result.returncode == 0, result.stderr[-2000:]
    (check,) = json.loads((run_dir / "merged" / "export_check.json").read_text())["checks"]
    assert check["passed"] and check["differing_rows"] == 0 and check["rows"] == 10
    assert "text-classification" in check["how_called"]


def test_batch_prediction_writes_and_scores_every_row(chat_run, tmp_path):
    out = tmp_path / "out.jsonl"
    eval_file = chat_run.parent / "eval.jsonl"
    result = run_cli("core.predict", f"run_dir={chat_run}", f"input={eval_file}", f"output={out}", "batch_size=1")
    assert result.returncode == 0, result.stderr[-2000:]
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["prediction"] for r in rows] == finetuned_answers(chat_run)  # the run's own answers
    assert [r["reference"] for r in rows] == [product for _, product in CHAT_EVAL]
    metrics = json.loads(out.with_name("out.jsonl.metrics.json").read_text())
    assert metrics["scored"] == 2 and "exact_match" in metrics["metrics"]
    assert "scored 2 rows with references" in result.stdout
    missing = run_cli("core.predict", f"run_dir={chat_run}", f"input={tmp_path / 'none.jsonl'}")
    assert missing.returncode == 2 and "no such file" in missing.stderr


# ----------------------------------------------------------------------------------------------
# The server
# ----------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def served_chat(chat_run):
    with ServedRun(chat_run) as server:
        yield server


def test_the_openai_client_gets_the_runs_answers_streamed_and_whole(chat_run, served_chat):
    client = served_chat.client()
    assert [m.id for m in client.models.list().data] == [chat_run.name]
    answers = finetuned_answers(chat_run)
    for (title, _), expected in zip(CHAT_EVAL, answers):
        messages = [{"role": "system", "content": "从商品标题中提取核心商品名称。"}, {"role": "user", "content": title}]
        reply = client.chat.completions.create(model=chat_run.name, messages=messages)
        assert reply.choices[0].message.content == expected
        assert reply.choices[0].finish_reason == "length" and reply.usage.completion_tokens > 0
        chunks = list(client.chat.completions.create(model=chat_run.name, messages=messages, stream=True))
        streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        assert streamed.strip() == expected and len(chunks) > 3
    fewer = client.chat.completions.create(model=chat_run.name, messages=[{"role": "user", "content": "x"}], max_tokens=2)
    assert fewer.usage.completion_tokens <= 2


def test_the_server_runs_the_model_on_one_thread_only(chat_run, monkeypatch):
    """torch's OpenMP pool belongs to the thread that calls it: answers computed on several
    threads start several pools, and with more pool threads than cores every operation waits to
    be woken up. Loading, whole answers and streams asked from two other threads must all run on
    one model thread."""
    import threading

    import core.runs
    from core import serve

    calls = []
    load_with_adapter = core.runs.load_with_adapter

    def recorded_load(*args, **kwargs):
        calls.append(("load", threading.get_ident()))
        return load_with_adapter(*args, **kwargs)

    monkeypatch.setattr(core.runs, "load_with_adapter", recorded_load)
    served = serve.ServedRun(chat_run)
    served.model.register_forward_pre_hook(lambda module, args: calls.append(("forward", threading.get_ident())))
    body = {"messages": [{"role": "system", "content": "从商品标题中提取核心商品名称。"},
                         {"role": "user", "content": CHAT_EVAL[0][0]}]}
    answers = []
    for ask in (lambda: answers.append(served.answer(body)[0]), lambda: answers.append("".join(served.stream(body)))):
        caller = threading.Thread(target=ask)
        caller.start()
        caller.join()
    assert answers[0] == answers[1].strip() == finetuned_answers(chat_run)[0]
    assert {what for what, _ in calls} == {"load", "forward"}
    threads = {thread for _, thread in calls}
    assert len(threads) == 1 and threading.get_ident() not in threads


def test_a_stream_whose_generation_fails_ends_with_the_error(chat_run):
    import threading

    from core import serve

    served = serve.ServedRun(chat_run)

    def broken_generate(**kwargs):
        raise RuntimeError("generation failed")

    served.model.generate = broken_generate
    outcome = []

    def read():
        try:
            outcome.append("".join(served.stream({"messages": [{"role": "user", "content": "x"}]})))
        except RuntimeError as exc:
            outcome.append(exc)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout=30)
    assert not reader.is_alive(), "the stream waited for text that never came"
    assert isinstance(outcome[0], RuntimeError) and str(outcome[0]) == "generation failed"


def test_the_server_starts_and_stops_on_ctrl_c_with_one_line_each(chat_run):
    import signal

    server = ServedRun(chat_run, idle_exit=60)
    try:
        assert "stops after 60 s without a request" in server.banner and "Warning" not in server.banner
        server.process.send_signal(signal.SIGINT)
        output, _ = server.process.communicate(timeout=30)
    finally:
        server.stop()
    assert server.process.returncode == 0 and "Traceback" not in output
    assert output.strip().splitlines()[-1] == "stopped"


def test_the_server_refuses_bad_requests_and_a_taken_port(chat_run, served_chat):
    import openai

    with pytest.raises(openai.BadRequestError, match="messages"):
        served_chat.client().chat.completions.create(model="x", messages=[])
    with pytest.raises(openai.BadRequestError, match="bad request setting"):
        served_chat.client().chat.completions.create(model="x", messages=[{"role": "user", "content": "x"}],
                                                     extra_body={"temperature": "hot"})
    taken = run_cli("core.serve", f"run_dir={chat_run}", f"port={served_chat.port}")
    assert taken.returncode == 2 and f"port={served_chat.port}: cannot listen" in taken.stderr
    not_a_run = run_cli("core.serve", f"run_dir={chat_run.parent}")
    assert not_a_run.returncode == 2 and "has no .hydra/config.yaml" in not_a_run.stderr


def test_a_classifier_is_served_with_its_labels_and_probabilities(tiny_model, tiny_data, tmp_path):
    import urllib.request

    run_dir = tmp_path / "intent"
    assert run_cli("core", *tiny_overrides(tiny_model, *tiny_data), f"hydra.run.dir={run_dir}").returncode == 0
    expected = [(p["input"].rsplit("\nIntent:", 1)[0], p["prediction"], p["probability"])
                for p in predictions(run_dir) if p["model"] == "finetuned"]
    with ServedRun(run_dir) as server:
        body = json.dumps({"input": [text for text, _, _ in expected]}).encode()
        request = urllib.request.Request(f"{server.url}/classify", data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as response:
            data = json.loads(response.read())["data"]
        assert len(data) == len(expected) == 10
        for row, (_, label, probability) in zip(data, expected):
            assert row["label"] == label and abs(row["probabilities"][label] - probability) < 1e-3
            assert abs(sum(row["probabilities"].values()) - 1) < 1e-4
        reply = server.client().chat.completions.create(model="x", messages=[{"role": "user", "content": expected[0][0]}])
        assert reply.choices[0].message.content == expected[0][1]
