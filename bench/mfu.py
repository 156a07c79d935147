"""Model FLOPs utilisation: how close plugtune's training gets to this machine's matmul peak.

In one run: the matmul peak (the best of square matmuls of a few sizes: fp32 on a CPU, where
plugtune trains in fp32; bf16 on a GPU, where it trains under bf16 autocast), then plugtune's
`task=qa` training on the embedded model (as in bench/sft.py), then

* MFU (6N rule): 6 * N * tokens/s / peak, the conventional figure, as if every weight were
  trained (N = the model's matmul parameters, output layer included);
* MFU (LoRA, estimated): the FLOPs a frozen-base LoRA step really needs: the forward pass
  (2 * N per token, the output layer only on answer tokens with plugtune's loss) plus the
  backward pass for activations through the LoRA blocks and everything above them (2 * N_above
  per token); LoRA's own weight gradients are small and left out.

    python bench/mfu.py [--train-rows 64] [--set model.path=DIR]
"""

from __future__ import annotations

import argparse
import time

from common import add_override_argument, emit, on_gpu, override_args, run_variant


def matmul_peak(seconds_each: float = 2.0) -> tuple[float, str]:
    """Best FLOP/s of ``a @ b`` over a few square sizes, and what was measured: fp32 on the CPU,
    bf16 on a GPU (timed after a synchronize, so queued products are counted only once done)."""
    import torch

    gpu = on_gpu()
    device, dtype, sizes = ("cuda", torch.bfloat16, (4096, 8192)) if gpu else ("cpu", torch.float32, (512, 1024, 2048))
    sync = torch.cuda.synchronize if gpu else (lambda: None)
    best = 0.0
    for n in sizes:
        a, b = torch.randn(n, n, device=device, dtype=dtype), torch.randn(n, n, device=device, dtype=dtype)
        for _ in range(3):
            a @ b  # warm-up
        sync()
        count, started = 0, time.perf_counter()
        while time.perf_counter() - started < seconds_each:
            a @ b
            count += 1
            if gpu and count % 10 == 0:
                sync()  # keep the queue short, so the loop's clock follows the GPU
        sync()
        best = max(best, 2 * n**3 * count / (time.perf_counter() - started))
    return best, f"{'bf16 ' + torch.cuda.get_device_name() if gpu else 'fp32 CPU'} matmul peak"


def parameter_counts(model_cfg, top_layers: int | None) -> dict:
    """Matmul parameters of the run's model: all, the output layer, and those a LoRA backward
    pass goes through (the top ``top_layers`` blocks and the output layer)."""
    from transformers import AutoConfig

    from core.models import resolve_model_dir

    config = AutoConfig.from_pretrained(resolve_model_dir(model_cfg))
    h, inter, layers = config.hidden_size, config.intermediate_size, config.num_hidden_layers
    kv = config.num_key_value_heads * (getattr(config, "head_dim", None) or h // config.num_attention_heads)
    per_block = h * h * 2 + h * kv * 2 + 3 * h * inter  # q, o; k, v; gate, up, down
    output = h * config.vocab_size
    above = min(top_layers or layers, layers)
    return {"n": per_block * layers + output, "blocks": per_block * layers, "output": output,
            "n_above": per_block * above + output, "layers": layers}


def mfu_figures(qa: dict, counts: dict, peak: float, peak_name: str) -> dict:
    """MFU of a bench/sft.py ``plugtune`` qa result ``qa`` for a model of ``counts`` against ``peak``."""
    tokens_per_second = qa["tokens_per_second"]
    answer_share = qa["answer_tokens"] / qa["tokens"]
    six_n = 6 * counts["n"] * tokens_per_second
    lora = (2 * counts["blocks"] + 2 * counts["output"] * answer_share + 2 * counts["n_above"]) * tokens_per_second
    return {"peak_name": peak_name, "peak_gflops": peak / 1e9, "tokens_per_second": tokens_per_second,
            "n_params_m": counts["n"] / 1e6, "n_above_m": counts["n_above"] / 1e6, "answer_share": answer_share,
            "six_n_gflops": six_n / 1e9, "mfu_six_n": six_n / peak, "lora_gflops": lora / 1e9, "mfu_lora": lora / peak}


def measure(train_rows: int, overrides: list[str]) -> dict:
    from core.testing import compose_config

    peak, peak_name = matmul_peak()
    qa = run_variant(__file__.replace("mfu.py", "sft.py"), "plugtune",
                     ["--task", "qa", "--train-rows", str(train_rows), *override_args(overrides)])
    cfg = compose_config(["task=qa", *overrides])
    return mfu_figures(qa, parameter_counts(cfg.model, cfg.peft.top_layers), peak, peak_name)


def print_mfu(result: dict) -> None:
    print(f"{result['peak_name']:<26} {result['peak_gflops']:.1f} GFLOP/s")
    print(f"plugtune task=qa training  {result['tokens_per_second']:.1f} tokens/s "
          f"(N = {result['n_params_m']:.1f} M matmul parameters, {result['n_above_m']:.1f} M in the LoRA blocks and above, "
          f"{result['answer_share']:.0%} answer tokens)")
    print(f"MFU, 6N rule               {result['six_n_gflops']:.2f} GFLOP/s = {result['mfu_six_n']:.1%} of peak")
    print(f"MFU, LoRA estimate         {result['lora_gflops']:.2f} GFLOP/s = {result['mfu_lora']:.1%} of peak")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-rows", type=int, default=64)
    add_override_argument(parser)
    args = parser.parse_args()
    result = measure(args.train_rows, args.overrides)
    print_mfu(result)
    emit(result)


if __name__ == "__main__":
    main()
