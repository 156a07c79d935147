"""GGUF export with llama.cpp's own converter, an Ollama Modelfile beside it, and answers through
llama-cpp-python for the export check.

The converter: ``convert_hf_to_gguf.py`` and ``convert_lora_to_gguf.py`` with their ``conversion``
package and ``gguf-py``, taken from the llama.cpp sources inside the ``llama-cpp-python`` source
distribution of the version installed (``pip install "plugtune[gguf]"``), so the converter and
the runtime that reads its files are the same llama.cpp. They are fetched once with
``pip download`` into ``$PLUGTUNE_CACHE/llama.cpp/VERSION`` (only those files are kept);
``PLUGTUNE_LLAMA_CPP=DIR`` uses a llama.cpp checkout instead.

Quantizations: ``f32``, ``f16``, ``bf16`` and ``q8_0`` come from the converter directly; the
others (:data:`LIBRARY_QUANTIZATIONS`) are made from the f16 file by llama.cpp's quantizer
through llama-cpp-python.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
from pathlib import Path

from core.cpu_threads import default_cpu_threads
from core.errors import PlugtuneError

EXTRA_HINT = 'pip install "plugtune[gguf]"'
CONVERTER_QUANTIZATIONS = ("f32", "f16", "bf16", "q8_0")
# Made from the f16 file by llama.cpp's quantizer: name -> llama.cpp file type constant's suffix.
LIBRARY_QUANTIZATIONS = {
    "q4_0": "Q4_0", "q4_1": "Q4_1", "q5_0": "Q5_0", "q5_1": "Q5_1", "q2_k": "Q2_K", "q3_k_m": "Q3_K_M",
    "q4_k_s": "Q4_K_S", "q4_k_m": "Q4_K_M", "q5_k_s": "Q5_K_S", "q5_k_m": "Q5_K_M", "q6_k": "Q6_K",
}
QUANTIZATIONS = CONVERTER_QUANTIZATIONS + tuple(LIBRARY_QUANTIZATIONS)
CONVERTER_FILES = ("convert_hf_to_gguf.py", "convert_lora_to_gguf.py", "conversion", "gguf-py", "LICENSE")

# Split patterns of byte-level tokenizers, as tokenizer.json writes them, and llama.cpp's name for
# each: used only when the converter does not recognise a tokenizer by its hash (core.gguf_convert).
KNOWN_SPLIT_PATTERNS = {
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+": "qwen2",
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+": "llama-bpe",
}


def check_quantization(value: str) -> str:
    """``value`` lower-cased when it is a quantization plugtune makes, else one line listing them."""
    import difflib

    name = str(value).lower()
    if name not in QUANTIZATIONS:
        close = difflib.get_close_matches(name, QUANTIZATIONS, n=1, cutoff=0.7)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise PlugtuneError(f"quantization={value}: unknown{hint}; choose one of {', '.join(QUANTIZATIONS)}")
    return name


def llama_cpp_version() -> str:
    """The installed llama-cpp-python's version, or one line naming the extra to install."""
    from importlib import metadata

    try:
        return metadata.version("llama_cpp_python")
    except metadata.PackageNotFoundError:
        raise PlugtuneError(f"format=gguf needs llama-cpp-python (llama.cpp's converter and runtime): {EXTRA_HINT}") from None


def converter_dir(cache: Path) -> Path:
    """The folder holding llama.cpp's converter scripts (see the module docstring)."""
    given = os.environ.get("PLUGTUNE_LLAMA_CPP")
    if given:
        if not (Path(given) / "convert_hf_to_gguf.py").is_file():
            raise PlugtuneError(f"PLUGTUNE_LLAMA_CPP={given}: no convert_hf_to_gguf.py there; point it at a llama.cpp checkout")
        return Path(given)
    version = llama_cpp_version()
    target = cache / "llama.cpp" / version
    if (target / "convert_hf_to_gguf.py").is_file():
        return target
    print(f"fetching llama.cpp's converter from the llama-cpp-python {version} sources (once) into {target}")
    with tempfile.TemporaryDirectory() as tmp:
        done = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
             f"llama-cpp-python=={version}", "-d", tmp], capture_output=True, text=True)
        archives = sorted(Path(tmp).glob("llama_cpp_python-*.tar.gz"))
        if done.returncode != 0 or not archives:
            last = (done.stderr.strip().splitlines() or ["no archive"])[-1]
            raise PlugtuneError(f"format=gguf: could not download the llama-cpp-python {version} sources for the "
                                f"converter ({last}); set PLUGTUNE_LLAMA_CPP to a llama.cpp checkout")
        staging = Path(tmp) / "converter"
        with tarfile.open(archives[0]) as archive:
            for member in archive.getmembers():
                parts = Path(member.name).parts
                if len(parts) > 3 and parts[1:3] == ("vendor", "llama.cpp") and parts[3] in CONVERTER_FILES:
                    member.name = str(Path(*parts[3:]))
                    archive.extract(member, staging, filter="data")
        if not (staging / "convert_hf_to_gguf.py").is_file():
            raise PlugtuneError(f"format=gguf: llama-cpp-python {version}'s sources hold no convert_hf_to_gguf.py")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(target, ignore_errors=True)
        shutil.move(str(staging), str(target))
    return target


def pre_tokenizer_name(model_dir) -> str:
    """llama.cpp's name for the tokenizer's split pattern (:data:`KNOWN_SPLIT_PATTERNS`), or ``-``."""
    path = Path(model_dir) / "tokenizer.json"
    if not path.is_file():
        return "-"
    pre = json.loads(path.read_text(encoding="utf-8")).get("pre_tokenizer") or {}
    steps = [step for step in pre.get("pretokenizers", [pre]) if isinstance(step, dict)]
    for step in steps:
        pattern = (step.get("pattern") or {}).get("Regex")
        if pattern in KNOWN_SPLIT_PATTERNS:
            return KNOWN_SPLIT_PATTERNS[pattern]
    if [step.get("type") for step in steps] == ["ByteLevel"] and steps[0].get("use_regex", True):
        return "gpt-2"  # byte-level with GPT-2's own split pattern and nothing else
    return "-"


def run_converter(converter: Path, script: str, args: list[str], pre: str, what: str) -> None:
    """Run one converter script (through core.gguf_convert); a failure is one line with its last error."""
    command = [sys.executable, "-m", "core.gguf_convert", str(converter), pre, script, *args]
    done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "NO_LOCAL_GGUF": ""})
    if done.returncode != 0:
        lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
        raise PlugtuneError(f"format=gguf: llama.cpp's {script} failed on {what}: {lines[-1] if lines else 'no message'}")


def convert_model(converter: Path, merged_dir: Path, out_file: Path, quantization: str) -> Path:
    """The merged model in ``merged_dir`` as one GGUF file ``out_file`` at ``quantization``."""
    pre = pre_tokenizer_name(merged_dir)
    if quantization in CONVERTER_QUANTIZATIONS:
        run_converter(converter, "convert_hf_to_gguf.py",
                      [str(merged_dir), "--outfile", str(out_file), "--outtype", quantization], pre, str(merged_dir))
        return out_file
    f16 = out_file.with_name(out_file.stem + ".f16-tmp.gguf")
    run_converter(converter, "convert_hf_to_gguf.py", [str(merged_dir), "--outfile", str(f16), "--outtype", "f16"],
                  pre, str(merged_dir))
    try:
        quantize(f16, out_file, quantization)
    finally:
        f16.unlink(missing_ok=True)
    return out_file


def quantize(source: Path, out_file: Path, quantization: str) -> None:
    """llama.cpp's quantizer (through llama-cpp-python) from ``source`` to ``out_file``."""
    from llama_cpp import llama_cpp as lib

    params = lib.llama_model_quantize_default_params()
    params.ftype = getattr(lib, f"LLAMA_FTYPE_MOSTLY_{LIBRARY_QUANTIZATIONS[quantization]}")
    params.nthread = default_cpu_threads()
    status = lib.llama_model_quantize(str(source).encode(), str(out_file).encode(), params)
    if status != 0:
        raise PlugtuneError(f"quantization={quantization}: llama.cpp's quantizer failed on {source} (status {status})")


def convert_adapter(converter: Path, adapter_dir: Path, base_dir: Path, out_file: Path) -> Path | None:
    """The LoRA adapter alone as a GGUF LoRA (f16) for the base model in ``base_dir``; None with a
    note when the converter cannot convert it (the merged file serves the same answers)."""
    try:
        run_converter(converter, "convert_lora_to_gguf.py",
                      [str(adapter_dir), "--base", str(base_dir), "--outfile", str(out_file), "--outtype", "f16"],
                      pre_tokenizer_name(base_dir), str(adapter_dir))
    except PlugtuneError as exc:
        print(f"note: the adapter alone was not written as a GGUF LoRA: {exc}")
        return None
    return out_file


# ----------------------------------------------------------------------------------------------
# Ollama
# ----------------------------------------------------------------------------------------------

_PROBE = {"system": "\u2063S\u2063", "prompt": "\u2063P\u2063", "response": "\u2063R\u2063"}
_GO = {"system": "{{ .System }}", "prompt": "{{ .Prompt }}", "response": "{{ .Response }}"}


def _go_template(rendered: str, bos: str | None) -> str:
    """A rendering with probe markers as an Ollama (Go) template: markers become the variables,
    literal ``{{`` is escaped, and a leading ``bos`` text is left to the runtime (given only when
    the model adds its BOS itself, :func:`adds_bos`)."""
    if bos and rendered.startswith(bos):
        rendered = rendered[len(bos):]
    text = rendered.replace("{{", '{{ "{{" }}')
    for name, marker in _PROBE.items():
        text = text.replace(marker, _GO[name])
    return text


def adds_bos(tokenizer) -> bool:
    """Whether the tokenizer puts its BOS token before a text on its own (the GGUF then says so,
    and llama.cpp and Ollama add it): a template's leading BOS text must then not be repeated."""
    bos_id = getattr(tokenizer, "bos_token_id", None)
    if bos_id is None:
        return False
    ids = tokenizer("a")["input_ids"]
    return bool(ids) and ids[0] == bos_id and len(ids) > len(tokenizer("a", add_special_tokens=False)["input_ids"])


def ollama_template(tokenizer, chat_template: str) -> str:
    """The Go template that lays out one exchange as ``chat_template`` does (with a system prompt
    when Ollama passes one, the template's own default otherwise), then the answer and its
    end-of-turn text: Ollama repeats it per exchange for a conversation."""

    def render(messages):
        return tokenizer.apply_chat_template(messages, chat_template=chat_template, tokenize=False)

    bos = getattr(tokenizer, "bos_token", None) if adds_bos(tokenizer) else None
    answer = {"role": "assistant", "content": _PROBE["response"]}
    user = {"role": "user", "content": _PROBE["prompt"]}
    with_system = render([{"role": "system", "content": _PROBE["system"]}, user, answer])
    without = render([user, answer])
    return ("{{- if .System }}" + _go_template(with_system, bos) + "{{- else }}" + _go_template(without, bos)
            + "{{- end }}")


def fill_ollama_template(template: str, system: str | None, prompt: str, response: str = "") -> str:
    """``template`` (:func:`ollama_template`) filled as Ollama fills it for one exchange: what the
    tests compare with plugtune's own rendering."""
    with_system, _, without = template.removeprefix("{{- if .System }}").removesuffix("{{- end }}").partition("{{- else }}")
    text = with_system if system else without
    text = text.replace(_GO["system"], system or "").replace(_GO["prompt"], prompt).replace(_GO["response"], response)
    return text.replace('{{ "{{" }}', "{{")


def modelfile(spec: dict, gguf_name: str, tokenizer) -> str:
    """An Ollama Modelfile for the GGUF ``gguf_name``: FROM, the template that matches training,
    the system prompt, stop tokens and decoding parameters."""
    decoding = spec.get("decoding") or {}
    template = ollama_template(tokenizer, spec["chat_template"])
    lines = [f"# Ollama: ollama create NAME -f Modelfile (run {spec['task']} on {spec['model']}, made by plugtune)",
             f"FROM ./{gguf_name}", f'TEMPLATE """{template}"""']
    if spec.get("system_prompt"):
        lines.append(f'SYSTEM """{spec["system_prompt"]}"""')
    stops = list(dict.fromkeys([*(spec.get("stop_tokens") or []), *(spec.get("stop_strings") or [])]))
    lines += [f"PARAMETER stop {json.dumps(stop, ensure_ascii=False)}" for stop in stops if stop]
    if decoding.get("do_sample"):
        lines += [f"PARAMETER temperature {decoding.get('temperature', 1.0)}", f"PARAMETER top_p {decoding.get('top_p', 1.0)}"]
        if decoding.get("top_k"):
            lines.append(f"PARAMETER top_k {decoding['top_k']}")
    else:
        lines.append("PARAMETER temperature 0")
    lines += [f"PARAMETER repeat_penalty {decoding.get('repetition_penalty', 1.0)}",
              f"PARAMETER num_predict {decoding.get('max_new_tokens', 128)}"]
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------------------------
# Answers through llama-cpp-python
# ----------------------------------------------------------------------------------------------

_LOAD_LOCK = threading.Lock()


def open_gguf(path: Path, n_ctx: int, n_threads: int | None = None, seed: int = 0):
    """llama-cpp-python's ``Llama`` on ``path``, with llama.cpp's extra weight buffers off.

    The extra buffers repack the weights for faster kernels, AMX tiles among them on Intel CPUs
    that report AMX. Some virtual machines report AMX but fault on its first instruction
    (``ldtilecfg``): answering then kills the process with a segmentation fault. The plain CPU
    kernels run everywhere, and the export check measures the file's answers, not llama.cpp's
    speed. ``Llama()`` has no argument for this (``use_extra_bufts`` in llama.cpp's
    model parameters), so the default parameters it starts from are swapped for the load only."""
    import llama_cpp.llama as llama_module
    from llama_cpp import Llama

    library = llama_module.llama_cpp
    with _LOAD_LOCK:
        defaults = library.llama_model_default_params

        def without_extra_buffers():
            params = defaults()
            params.use_extra_bufts = False
            return params

        library.llama_model_default_params = without_extra_buffers
        try:
            return Llama(model_path=str(path), n_ctx=n_ctx, n_threads=n_threads or default_cpu_threads(),
                         verbose=False, seed=seed)
        finally:
            library.llama_model_default_params = defaults


def generate_gguf(path: Path, examples, spec: dict, n_ctx: int = 2048, desc: str = "gguf") -> list[str]:
    """The GGUF model's answers: llama-cpp-python's ``create_chat_completion`` on the raw messages
    (the file's own chat template and stop tokens), decoding as the run did."""
    from core.export_check import request_messages
    from core.progress import progress

    decoding = spec.get("decoding") or {}
    llm = open_gguf(path, n_ctx, seed=int(decoding.get("seed") or 0))
    sampling = ({"temperature": float(decoding.get("temperature", 1.0)), "top_p": float(decoding.get("top_p", 1.0)),
                 "top_k": int(decoding.get("top_k") or 0)} if decoding.get("do_sample") else {"temperature": 0.0})
    answers = []
    with progress(total=len(examples), desc=f"generate {desc}") as bar:
        for ex in examples:
            out = llm.create_chat_completion(
                messages=request_messages(ex), max_tokens=int(decoding.get("max_new_tokens", 128)),
                repeat_penalty=float(decoding.get("repetition_penalty", 1.0)), stop=spec.get("stop_strings") or None,
                **sampling)
            answers.append((out["choices"][0]["message"].get("content") or "").strip())
            bar.update(1)
    return answers


def write_gguf(ctx, merged_dir: Path, out_dir: Path, quantization: str, adapter_dir: Path, spec: dict, tokenizer,
               with_adapter: bool = True, modelfile_for: bool = True) -> Path:
    """Write ``out_dir/model-QUANT.gguf`` from the merged model and ``plugtune_inference.json``;
    with ``with_adapter`` also ``adapter-f16.gguf`` (the LoRA alone, for the base model), with
    ``modelfile_for`` the Ollama ``Modelfile`` for this file. Each file is written under a
    temporary name and renamed once complete. Returns the model file."""
    from core.artifact import INFERENCE_FILE
    from core.models import cache_root
    from core.rundir import write_text_atomic

    converter = converter_dir(cache_root(ctx.cfg.model))
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"model-{quantization}.gguf"
    partial = out_dir / f".{target.name}.partial"
    try:
        convert_model(converter, merged_dir, partial, quantization)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    print(f"GGUF ({quantization}) written to {target}")
    lora, lora_partial = out_dir / "adapter-f16.gguf", out_dir / ".adapter-f16.gguf.partial"
    try:
        if with_adapter and convert_adapter(converter, Path(adapter_dir), Path(ctx.model_dir), lora_partial):
            os.replace(lora_partial, lora)
            print(f"GGUF LoRA adapter (for the base model) written to {lora}")
    finally:
        lora_partial.unlink(missing_ok=True)
    if not modelfile_for:
        write_text_atomic(out_dir / INFERENCE_FILE, json.dumps(spec, ensure_ascii=False, indent=2) + "\n")
        return target
    write_text_atomic(out_dir / "Modelfile", modelfile(spec, target.name, tokenizer))
    write_text_atomic(out_dir / INFERENCE_FILE, json.dumps(spec, ensure_ascii=False, indent=2) + "\n")
    print(f"Ollama Modelfile written to {out_dir / 'Modelfile'} (ollama create NAME -f {out_dir / 'Modelfile'})")
    return target


def gguf_quantization(path) -> str:
    """The quantization named in a file written by :func:`write_gguf` (``model-q8_0.gguf``), else
    ``gguf`` (checked like a quantised file)."""
    stem = Path(path).stem
    name = stem.removeprefix("model-")
    return name if name in QUANTIZATIONS else "gguf"
