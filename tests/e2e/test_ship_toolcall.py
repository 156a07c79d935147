"""Shipping a tool-call run on the embedded Gemma 3 270M (the shared run of conftest.py, also
checked by test_toolcall.py): GGUF q8_0 (the Modelfile's default) through llama.cpp's converter,
checked against the adapter on the eval rows (f16 is checked on a tiny model in
tests/integration/test_ship.py), and the OpenAI client getting ``tool_calls`` back from
``core.serve``."""

import json
import time

import pytest

from core.testing import REPO, ServedRun, run_cli

pytestmark = pytest.mark.slow


def test_gguf_q8_0_export_is_checked_against_the_adapter(shipped_toolcall_run):
    toolcall_run, rows = shipped_toolcall_run.run_dir, shipped_toolcall_run.eval_rows
    result = run_cli("core.export", f"run_dir={toolcall_run}", "format=gguf", "quantization=q8_0",
                     env={"PLUGTUNE_CACHE": str(shipped_toolcall_run.cache)}, timeout=1800)
    assert result.returncode == 0, result.stderr[-3000:]
    folder = toolcall_run / "gguf"
    checks = {c["format"]: c for c in json.loads((folder / "export_check.json").read_text())["checks"]}
    assert set(checks) == {"merged", "q8_0"}
    adapter = checks["merged"]["adapter"]
    assert adapter > 0.5  # the shared run makes calls, most of them exact
    assert checks["merged"]["differing_rows"] == 0 and checks["merged"]["artifact_value"] == adapter
    check = checks["q8_0"]
    assert check["passed"] and check["rows"] == rows and check["adapter"] == adapter
    assert f"tool_call.exact_match adapter {adapter:.4f}, q8_0 {check['artifact_value']:.4f}" in result.stdout
    # Quantized: 300 MB here, where the f16 file is 551 MB.
    assert (folder / "model-q8_0.gguf").stat().st_size < 400e6
    modelfile = (folder / "Modelfile").read_text()
    assert "FROM ./model-q8_0.gguf" in modelfile and 'PARAMETER stop "<end_of_turn>"' in modelfile
    assert "<start_of_turn>model\n{{ .Response }}<end_of_turn>" in modelfile


def test_the_openai_client_gets_tool_calls_from_the_server(shipped_toolcall_run):
    toolcall_run, rows = shipped_toolcall_run.run_dir, shipped_toolcall_run.eval_rows
    cache = {"PLUGTUNE_CACHE": str(shipped_toolcall_run.cache)}
    with ServedRun(toolcall_run, idle_exit=120, client_timeout=120, env=cache) as server:
        client = server.client()
        tools = json.loads((REPO / "data" / "toolcall" / "tools.json").read_text(encoding="utf-8"))
        reply = client.chat.completions.create(model="run", messages=[{"role": "user", "content": "邀请王磊参加会议"}],
                                               tools=tools)
        choice = reply.choices[0]
        assert choice.finish_reason == "tool_calls" and choice.message.content is None
        (call,) = choice.message.tool_calls
        assert call.type == "function" and call.function.name in {t["function"]["name"] for t in tools}
        assert isinstance(json.loads(call.function.arguments), dict)
        # Streamed: the call arrives whole in one delta at the end.
        chunks = list(client.chat.completions.create(model="run", messages=[{"role": "user", "content": "邀请王磊参加会议"}],
                                                     tools=tools, stream=True))
        streamed = [c.choices[0].delta.tool_calls for c in chunks if c.choices and c.choices[0].delta.tool_calls]
        assert streamed and streamed[0][0].function.name == call.function.name
        assert chunks[-1].choices[0].finish_reason == "tool_calls"
        # The server's answers to the eval rows are the adapter's (the export check through the client).
        started = time.monotonic()
        checked = run_cli("core.export_check", f"run_dir={toolcall_run}", f"artifact={server.url}", env=cache,
                          timeout=900)
        assert checked.returncode == 0, checked.stderr[-3000:]
        assert f"0 of {rows} answers differ: ok" in checked.stdout, (checked.stdout[-2000:], time.monotonic() - started)
