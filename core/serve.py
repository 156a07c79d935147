"""``python -m core.serve run_dir=RUN``: an OpenAI-compatible server for a finished run.

::

    python -m core.serve run_dir=RUN [merged=DIR] [host=127.0.0.1] [port=8000] [name=ID] [idle_exit=SECONDS]

Serves the run's base model with its adapter merged in memory (or, with ``merged=DIR``, a folder
written by ``python -m core.export``) on FastAPI + uvicorn (``pip install "plugtune[serve]"``):

- ``GET /v1/models``: the one model, named ``name`` (default: the run folder's name);
- ``POST /v1/chat/completions``: the conversation rendered with the run's template and system
  prompt, decoded with its ``generation.*`` settings (a request's ``max_tokens``, ``temperature``,
  ``top_p`` and ``seed`` override them; ``temperature`` 0 is greedy), ``stream: true`` sent as
  server-sent events. A tool-call run given ``tools`` answers with OpenAI ``tool_calls``, parsed
  from the model's answer by the code the ``tool_call`` evaluator scores with. A classification
  run answers with the label as the message text;
- ``POST /v1/classify`` (classification runs): ``{"input": TEXT or [TEXT, ...]}`` ->
  ``{"data": [{"label", "probabilities": {label: p}}]}``.

``transformers serve`` was considered: it serves a model folder, but not a base model with an
adapter, a classifier, or this run's tool-call layout, so plugtune has its own small app.

Bad input is one line and exit status 2: a run that is not finished, a port in use, FastAPI or
uvicorn not installed. ``idle_exit=SECONDS`` stops the server after that long without a request.
"""

# No ``from __future__ import annotations`` here: FastAPI reads the endpoints' annotations
# (``request: Request``) as real objects, and Request is imported inside build_app.
import json
import socket
import sys
import threading
import time
import uuid
from pathlib import Path

from core.errors import PlugtuneError
from core.runs import exit_on_error, parse_key_values

EXTRA_HINT = 'pip install "plugtune[serve]"'
USAGE = ("python -m core.serve run_dir=RUN [merged=DIR] [host=127.0.0.1] [port=8000] [name=ID] "
         "[idle_exit=SECONDS]")


def require_server_packages() -> None:
    """FastAPI and uvicorn, or one line naming the extra."""
    import importlib.util

    missing = [name for name in ("fastapi", "uvicorn") if importlib.util.find_spec(name) is None]
    if missing:
        raise PlugtuneError(f"core.serve needs {' and '.join(missing)}: {EXTRA_HINT}")


def check_port_free(host: str, port: int) -> None:
    """One line when ``host:port`` cannot be listened on (another server has it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise PlugtuneError(f"port={port}: cannot listen on {host}:{port} ({exc.strerror}); choose another port=") from None


class ServedRun:
    """A finished run's model, answering OpenAI-style requests one at a time."""

    def __init__(self, run_dir, merged: str | None = None):
        import os
        from concurrent.futures import ThreadPoolExecutor

        os.environ.setdefault("PLUGTUNE_PROGRESS", "0")  # one request at a time needs no bar
        # Every call into the model runs on this one thread, loading included, and one at a time
        # (the model is not re-entrant). torch's OpenMP thread pool belongs to the thread that
        # calls it: answers computed on several threads (the server's worker threads, a thread
        # per stream) start a pool each, and with more pool threads than cores OpenMP stops
        # spin-waiting between operations, so every small matrix product waits to be woken up
        # (answers took 1.5x as long on a 2-core machine).
        self.model_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="plugtune-model")
        self.on_model_thread(self._load, run_dir, merged)

    def _load(self, run_dir, merged: str | None) -> None:
        from core.generation import settings as generation_settings
        from core.runs import load_exported, load_run, load_with_adapter

        self.ctx, self.head = load_run(run_dir)
        self.cfg = self.ctx.cfg
        self.classifier = self.cfg.task.head == "seq_cls"
        # The adapter merged into the weights in memory: the same answers (the export check finds
        # none changed), at the speed of a plain model, with no extra matrix products per layer.
        self.model = (load_exported(self.cfg, merged) if merged
                      else load_with_adapter(self.ctx, self.head).merge_and_unload())
        self.model.eval()
        self.generation = generation_settings(self.cfg)
        self.tool_calls = "tool_call" in list(self.cfg.task.evaluators)

    def on_model_thread(self, function, *args):
        """``function(*args)`` run on the model's thread (after the calls queued before it)."""
        return self.model_thread.submit(function, *args).result()

    # -- requests -------------------------------------------------------------------------------

    def decoding(self, body: dict):
        """The run's decoding with the request's OpenAI settings applied."""
        from omegaconf import OmegaConf

        gen = OmegaConf.create(OmegaConf.to_container(self.generation))
        if body.get("max_tokens") or body.get("max_completion_tokens"):
            gen.max_new_tokens = int(body.get("max_completion_tokens") or body["max_tokens"])
        if body.get("temperature") is not None:
            temperature = float(body["temperature"])
            gen.do_sample = temperature > 0
            if temperature > 0:
                gen.temperature = temperature
        if body.get("top_p") is not None:
            gen.top_p = float(body["top_p"])
        if body.get("seed") is not None:
            gen.seed = int(body["seed"])
        return gen

    def example(self, body: dict):
        from core.types import Example

        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise PlugtuneError("messages: must be a non-empty list of {role, content}")
        cleaned = []
        for number, message in enumerate(messages):
            if not isinstance(message, dict) or message.get("role") not in ("system", "user", "assistant", "tool"):
                raise PlugtuneError(f"messages[{number}]: must be an object with role system, user, assistant or tool")
            content = message.get("content")
            if isinstance(content, list):  # OpenAI content parts: the text ones
                content = "".join(part.get("text", "") for part in content if isinstance(part, dict))
            cleaned.append({**message, "content": content or ""})
        return Example(messages=cleaned, tools=body.get("tools") or [], source="request")

    def prompt_ids(self, example) -> list[int]:
        (row,) = self.head.encode(self.ctx, [example])
        return row["prompt_ids"]

    def classify(self, texts: list[str]) -> list[dict]:
        """Label and probabilities for each text, with the run's input format."""
        return self.on_model_thread(self._classify, texts)

    def _classify(self, texts: list[str]) -> list[dict]:
        import torch

        from core.types import Example

        examples = [Example(messages=[{"role": "user", "content": t}], source="request") for t in texts]
        encoded = self.head.encode(self.ctx, examples)
        batch = self.head.collator(self.ctx)(encoded)
        batch.pop("labels", None)
        with torch.no_grad():
            logits = self.model(**batch).logits
        out = []
        for row in torch.softmax(logits.float(), dim=-1).tolist():
            best = max(range(len(row)), key=row.__getitem__)
            out.append({"label": self.ctx.labels[best],
                        "probabilities": {label: round(p, 6) for label, p in zip(self.ctx.labels, row)}})
        return out

    def answer(self, body: dict) -> tuple[str, int, int, bool]:
        """(text, prompt tokens, answer tokens, cut at the limit) for a chat request."""
        from core.generation import generate
        from plugins.causal_lm import answer_stop_text

        example = self.example(body)
        if self.classifier:
            text = next((m["content"] for m in reversed(example.messages) if m["role"] == "user"), "")
            return self.classify([text])[0]["label"], 0, 1, False
        ids = self.prompt_ids(example)
        gen = self.decoding(body)
        stops = answer_stop_text(self.ctx.template, self.ctx.tokenizer, self.cfg.task)
        (text,) = self.on_model_thread(lambda: generate(self.model, self.ctx.tokenizer, [ids], gen, 1, desc="serve",
                                                        stop_strings=stops))
        return str(text), len(ids), int(text.tokens or 0), bool(text.cut_at_limit)

    def stream(self, body: dict):
        """The answer's text pieces as they are generated (greedy or sampled as :meth:`decoding`)."""
        import torch
        from transformers import StoppingCriteria, StoppingCriteriaList, TextIteratorStreamer

        from core.generation import generation_config, stop_token_ids
        from plugins.causal_lm import answer_stop_text

        ids = self.prompt_ids(self.example(body))
        gen = self.decoding(body)
        tokenizer = self.ctx.tokenizer
        config = generation_config(gen, stop_token_ids(tokenizer, self.model), tokenizer.pad_token_id)
        stops = answer_stop_text(self.ctx.template, tokenizer, self.cfg.task)
        extra = {"stop_strings": stops, "tokenizer": tokenizer} if stops else {}
        streamer = TextIteratorStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True)
        if gen.do_sample and gen.seed is not None:
            torch.manual_seed(int(gen.seed))
        # Set when the client stops reading (it disconnected): generation ends at the next token
        # rather than holding the model for the rest of an answer nobody reads.
        abandoned = threading.Event()

        class Abandoned(StoppingCriteria):
            def __call__(self, input_ids, scores, **kwargs):
                return abandoned.is_set()

        def run():
            try:
                with torch.no_grad():
                    self.model.generate(input_ids=torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long),
                                        generation_config=config, streamer=streamer,
                                        stopping_criteria=StoppingCriteriaList([Abandoned()]), **extra)
            except BaseException:
                streamer.end()  # the reader below would otherwise wait for text forever
                raise

        worker = self.model_thread.submit(run)
        raw, sent, finished = "", "", False
        try:
            for piece in streamer:
                raw += piece
                text = raw.lstrip()  # as the whole answer is stripped
                for stop in stops:
                    text = text.split(stop, 1)[0]
                if len(text) > len(sent):
                    yield text[len(sent):]
                    sent = text
            finished = True
        finally:
            if not finished:  # the client went away: stop, and read what the worker still puts
                abandoned.set()
                for _ in streamer:
                    pass
            worker.result()


def tool_calls_of(text: str) -> list[dict] | None:
    """OpenAI ``tool_calls`` for an answer that holds a tool call, read by the tool_call
    evaluator's parser; None for an answer that calls no tool."""
    from plugins.tool_call import parse_tool_call

    call = parse_tool_call(text)
    if call is None or not call.is_call:
        return None
    return [{"id": f"call_{uuid.uuid4().hex[:12]}", "type": "function",
             "function": {"name": call.name, "arguments": json.dumps(call.arguments, ensure_ascii=False)}}]


def build_app(served: ServedRun, name: str, on_request=None):
    """The FastAPI app serving ``served`` as model ``name``; ``on_request`` is called on each request."""
    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse, StreamingResponse

    app = FastAPI(title=f"plugtune: {name}")
    created = int(time.time())

    def error(message: str, status: int = 400):
        return JSONResponse({"error": {"message": message, "type": "invalid_request_error", "code": None}}, status)

    @app.middleware("http")
    async def touch(request, call_next):
        if on_request:
            on_request()
        return await call_next(request)

    @app.get("/v1/models")
    def models():
        return {"object": "list", "data": [{"id": name, "object": "model", "created": created, "owned_by": "plugtune"}]}

    @app.post("/v1/classify")
    async def classify(request: Request):
        if not served.classifier:
            return error("/v1/classify: this run generates text; use /v1/chat/completions")
        body = await request.json()
        texts = body.get("input")
        texts = [texts] if isinstance(texts, str) else texts
        if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
            return error("input: must be a text or a non-empty list of texts")
        import anyio

        return {"object": "list", "model": name, "data": await anyio.to_thread.run_sync(served.classify, texts)}

    @app.post("/v1/chat/completions")
    async def chat(request: Request):
        try:
            body = await request.json()
        except ValueError:
            return error("the request body is not JSON")
        completion_id = f"chatcmpl-{uuid.uuid4().hex[:16]}"
        wants_tools = served.tool_calls and bool(body.get("tools"))
        try:
            if body.get("stream") and not served.classifier:
                served.example(body)  # bad messages or settings: a 400 before the stream starts
                served.decoding(body)
                return StreamingResponse(_until_disconnected(_events(served, body, name, completion_id, wants_tools),
                                                             request), media_type="text/event-stream")
            import anyio

            text, prompt_tokens, answer_tokens, cut = await anyio.to_thread.run_sync(served.answer, body)
        except PlugtuneError as exc:
            return error(str(exc))
        except (TypeError, ValueError) as exc:  # a setting that is not a number (temperature: "hot")
            return error(f"bad request setting: {exc}")
        message, finish = {"role": "assistant", "content": text}, "length" if cut else "stop"
        calls = tool_calls_of(text) if wants_tools else None
        if calls:
            message, finish = {"role": "assistant", "content": None, "tool_calls": calls}, "tool_calls"
        if body.get("stream"):  # a classifier's label, sent as one event
            return StreamingResponse(_one_event(name, completion_id, text), media_type="text/event-stream")
        return {"id": completion_id, "object": "chat.completion", "created": int(time.time()), "model": name,
                "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": answer_tokens,
                          "total_tokens": prompt_tokens + answer_tokens}}

    return app


def _chunk(name: str, completion_id: str, delta: dict, finish: str | None = None) -> str:
    body = {"id": completion_id, "object": "chat.completion.chunk", "created": int(time.time()), "model": name,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
    return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"


def _one_event(name: str, completion_id: str, text: str):
    yield _chunk(name, completion_id, {"role": "assistant", "content": text})
    yield _chunk(name, completion_id, {}, "stop")
    yield "data: [DONE]\n\n"


async def _until_disconnected(events, request):
    """The server-sent ``events`` (a generator that generates as it goes) for as long as the client
    is connected; once it goes away (or the answer ends) the generator is closed, which stops the
    generation instead of holding the model for an answer nobody reads."""
    import anyio

    try:
        while True:
            chunk = await anyio.to_thread.run_sync(next, events, None)
            if chunk is None or await request.is_disconnected():
                break
            yield chunk
    finally:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(events.close)


def _events(served: ServedRun, body: dict, name: str, completion_id: str, wants_tools: bool):
    """Server-sent events of a streamed answer: text deltas as they come; a tool call (which is
    only known once the whole answer is in) as one ``tool_calls`` delta at the end."""
    yield _chunk(name, completion_id, {"role": "assistant", "content": ""})
    pieces = []
    for piece in served.stream(body):
        pieces.append(piece)
        if not wants_tools:
            yield _chunk(name, completion_id, {"content": piece})
    text = "".join(pieces).strip()
    calls = tool_calls_of(text) if wants_tools else None
    if calls:
        yield _chunk(name, completion_id, {"tool_calls": [{**c, "index": i} for i, c in enumerate(calls)]}, None)
        yield _chunk(name, completion_id, {}, "tool_calls")
    else:
        if wants_tools:
            yield _chunk(name, completion_id, {"content": text})
        yield _chunk(name, completion_id, {}, "stop")
    yield "data: [DONE]\n\n"


def serve(run_dir, merged=None, host="127.0.0.1", port=8000, name=None, idle_exit: float | None = None) -> None:
    """Load the run and serve it until interrupted (or ``idle_exit`` seconds without a request)."""
    from core.runs import saved_config

    require_server_packages()
    import uvicorn

    saved_config(run_dir)  # not a run: one line before anything loads
    check_port_free(host, port)
    served = ServedRun(run_dir, merged)
    name = name or Path(run_dir).resolve().name
    last = [time.monotonic()]
    app = build_app(served, name, on_request=lambda: last.__setitem__(0, time.monotonic()))
    # A stop (Ctrl-C, idle_exit) waits at most 5 s for answers in flight, then closes them.
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=5))
    kind = "classifier (/v1/classify, /v1/chat/completions)" if served.classifier else "/v1/chat/completions"
    idle = [False]  # set when idle_exit stops the server, which says so itself

    def watch():
        # The banner once the socket listens (a client may connect as soon as it reads it), then
        # the idle clock.
        while not server.started and not server.should_exit:
            time.sleep(0.05)
        until = f"; stops after {idle_exit:g} s without a request" if idle_exit else "; Ctrl-C stops it"
        print(f"serving {name} ({served.cfg.task.name}, {kind}) on http://{host}:{port}/v1{until}", flush=True)
        while idle_exit and not server.should_exit:
            time.sleep(0.5)
            if time.monotonic() - last[0] > idle_exit:
                print(f"no request for {idle_exit:g} s: stopping (idle_exit)", flush=True)
                idle[0] = True
                server.should_exit = True

    threading.Thread(target=watch, daemon=True).start()
    try:
        server.run()
    except KeyboardInterrupt:  # uvicorn has shut down and passes Ctrl-C on: the usual way to stop
        pass
    if not idle[0]:
        print("stopped", flush=True)


def main(argv: list[str] | None = None) -> None:
    args = parse_key_values(sys.argv[1:] if argv is None else argv,
                            ("run_dir", "merged", "host", "port", "name", "idle_exit"), ("run_dir",), USAGE)
    try:
        port = int(args["port"] or 8000)
        idle_exit = float(args["idle_exit"]) if args["idle_exit"] else None
    except ValueError:
        raise PlugtuneError("port= and idle_exit= must be numbers") from None
    if not 0 < port < 65536:
        raise PlugtuneError(f"port={port}: must be between 1 and 65535")
    serve(args["run_dir"], args["merged"], args["host"] or "127.0.0.1", port, args["name"], idle_exit)


if __name__ == "__main__":
    exit_on_error(main)
