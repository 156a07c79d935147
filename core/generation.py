"""Generating answers with a run's ``generation.*`` settings: the one place decoding is decided.

The evaluation (``causal_lm``'s predict), ``core.chat`` and anything else that generates call
:func:`generate` with :func:`settings` of the run's config::

    from core import generation

    gen = generation.settings(ctx.cfg)  # defaults filled in, the seed resolved, old configs read
    answers = generation.generate(model, tokenizer, prompt_ids, gen, batch_size=8, desc="generate")

Greedy decoding is the default (scores comparable run to run). With ``generation.do_sample=true``
each prompt samples from its own random stream, seeded from ``generation.seed`` (null: the run's
``seed``) and the prompt's position in the list: the same settings give the same answers run to
run, whatever the batch size. :func:`generation_config` gives the same settings as a transformers
``GenerationConfig`` for code that calls ``model.generate`` itself.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from typing import Any

from core.progress import progress

log = logging.getLogger("plugtune")

_warned_sampling = False  # the "scores vary with the seed" line is logged once per process


def settings(cfg) -> Any:
    """The ``generation`` node of the run config ``cfg`` with every default filled in and ``seed``
    resolved (``generation.seed``, else the run's ``seed``).

    Works on a composed config and on a run's saved ``.hydra/config.yaml`` read without the
    schema, including one from before the ``generation`` node (``task.max_new_tokens``).
    """
    from omegaconf import OmegaConf

    from core.config import LEGACY_KEYS, GenerationConfig

    merged = OmegaConf.structured(GenerationConfig)
    for old, new in LEGACY_KEYS.items():  # task.max_new_tokens in a run saved before generation.*
        value = OmegaConf.select(cfg, old, default=None) if new.startswith("generation.") else None
        if value is not None:
            merged[new.split(".", 1)[1]] = value
    node = OmegaConf.select(cfg, "generation", default=None)
    if node is not None:
        merged = OmegaConf.merge(merged, node)
    if merged.seed is None:
        run_seed = OmegaConf.select(cfg, "seed", default=None)
        merged.seed = run_seed if run_seed is not None else _schema_seed()
    return merged


def _schema_seed() -> int:
    """The run seed's default in the schema (for settings given without a run seed)."""
    from core.config import PlugtuneConfig

    return next(f.default for f in dataclasses.fields(PlugtuneConfig) if f.name == "seed")


def describe(gen) -> str:
    """One line saying how answers are decoded, e.g. for a log or core.chat's banner."""
    if not gen.do_sample:
        text = f"greedy, at most {gen.max_new_tokens} new tokens"
    else:
        top_k = "none" if gen.top_k is None else gen.top_k
        text = (f"sampling (temperature {gen.temperature}, top_p {gen.top_p}, top_k {top_k}, seed {gen.seed}), "
                f"at most {gen.max_new_tokens} new tokens")
    if gen.repetition_penalty != 1.0:
        text += f", repetition_penalty {gen.repetition_penalty}"
    if gen.no_repeat_ngram_size:
        text += f", no_repeat_ngram_size {gen.no_repeat_ngram_size}"
    return text


def stop_token_ids(tokenizer, model) -> list[int]:
    """End-of-sequence ids of the tokenizer and the model's generation config (which holds
    ``model.stop_tokens``, core.models adds them there)."""
    ids = set()
    if tokenizer.eos_token_id is not None:
        ids.add(tokenizer.eos_token_id)
    configured = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    if isinstance(configured, int):
        ids.add(configured)
    elif configured:
        ids.update(configured)
    return sorted(ids)


def generation_config(gen, stop_ids: list[int], pad_token_id: int | None):
    """A transformers ``GenerationConfig`` for the settings ``gen`` (:func:`settings`), stopping
    at ``stop_ids``.

    Every setting is given explicitly, so a model's own ``generation_config.json`` (a
    repetition_penalty, a top_k) cannot change plugtune's decoding. Under greedy decoding the
    sampling-only flags stay unset (transformers warns about them); ``top_k`` null is 0 (no limit).
    """
    from transformers import GenerationConfig

    kwargs = dict(max_new_tokens=gen.max_new_tokens, do_sample=bool(gen.do_sample),
                  repetition_penalty=float(gen.repetition_penalty), no_repeat_ngram_size=gen.no_repeat_ngram_size,
                  eos_token_id=list(stop_ids), pad_token_id=pad_token_id)
    if gen.do_sample:
        kwargs.update(temperature=float(gen.temperature), top_p=float(gen.top_p),
                      top_k=0 if gen.top_k is None else gen.top_k)
    return GenerationConfig(**kwargs)


def row_seed(seed: int, row: int) -> int:
    """The seed of prompt number ``row``'s random stream: a hash, so nearby seeds share no rows."""
    digest = hashlib.sha256(f"plugtune-generation:{seed}:{row}".encode()).digest()
    return int.from_bytes(digest[:8], "little") & (2**63 - 1)


def _sampling_processors(config, rows: list[int]):
    """Logits processors that sample each row from its own generator, for a greedy ``generate``.

    transformers samples a whole batch from the global random state, so a row's answer would
    depend on which rows share its batch. Here the usual warpers (temperature, top_k, top_p, in
    transformers' order) shape the distribution, then each row draws its token with its own
    generator and every other token is masked out: the greedy step picks the drawn token.
    """
    import torch
    from transformers import LogitsProcessor, LogitsProcessorList
    from transformers.generation import TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper

    generators = []  # made on the first step, on the device the logits are on

    class RowSampler(LogitsProcessor):
        def __call__(self, input_ids, scores):
            if not generators:
                generators.extend(torch.Generator(device=scores.device).manual_seed(seed) for seed in rows)
            probs = torch.softmax(scores.float(), dim=-1)
            drawn = torch.cat([torch.multinomial(probs[i], 1, generator=g) for i, g in enumerate(generators)])
            picked = torch.full_like(scores, float("-inf"))
            picked[torch.arange(len(generators), device=scores.device), drawn] = 0.0
            return picked

    processors = LogitsProcessorList()
    if config.temperature != 1.0:
        processors.append(TemperatureLogitsWarper(config.temperature))
    if config.top_k:
        processors.append(TopKLogitsWarper(top_k=config.top_k))
    if config.top_p < 1.0:
        processors.append(TopPLogitsWarper(top_p=config.top_p))
    processors.append(RowSampler())
    return processors


def generate(model, tokenizer, prompts: list[list[int]], gen, batch_size: int = 8, desc: str = "generate",
             stop_strings: list[str] | None = None) -> list[Answer]:
    """Answers to the tokenised ``prompts`` (token id lists), in the input order.

    ``gen`` is :func:`settings` of the run config (an int is read as greedy decoding of at most
    that many new tokens, the older signature). Prompts are batched by length, left padded, with
    a progress bar; each answer is cut at the first stop token (:func:`stop_token_ids`) and decoded
    without special tokens. ``stop_strings``: text that ends an answer too (a template whose
    answers end in literal text such as ``</s>`` rather than a special token); generation stops
    there and the answer is cut before it. Sampling is seeded per prompt (see the module docstring).
    """
    import torch

    if isinstance(gen, int):
        from omegaconf import OmegaConf

        from core.config import GenerationConfig

        gen = OmegaConf.structured(GenerationConfig(max_new_tokens=gen))
    stops = stop_token_ids(tokenizer, model)
    config = generation_config(gen, stops, tokenizer.pad_token_id)
    seed = gen.seed if gen.seed is not None else _schema_seed()
    if config.do_sample:
        _warn_sampling(gen)
        sampled, config = config, generation_config(_greedy(gen), stops, tokenizer.pad_token_id)
    stop_strings = [text for text in (stop_strings or []) if text]
    if stop_strings:
        config.stop_strings = stop_strings
    order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))
    answers: dict[int, str] = {}
    device = next(model.parameters()).device
    model.eval()
    with torch.no_grad(), progress(total=len(prompts), desc=desc) as bar:
        for first in range(0, len(order), batch_size):
            idx = order[first : first + batch_size]
            width = max(len(prompts[i]) for i in idx)
            # Left padding: every prompt ends where generation starts.
            ids = [[tokenizer.pad_token_id] * (width - len(prompts[i])) + prompts[i] for i in idx]
            mask = [[0] * (width - len(prompts[i])) + [1] * len(prompts[i]) for i in idx]
            extra = {"tokenizer": tokenizer} if stop_strings else {}  # transformers matches stop strings with it
            if gen.do_sample:
                extra["logits_processor"] = _sampling_processors(sampled, [row_seed(seed, i) for i in idx])
            output = model.generate(
                input_ids=torch.tensor(ids, device=device),
                attention_mask=torch.tensor(mask, device=device),
                generation_config=config,
                **extra,
            )
            for i, row in zip(idx, output[:, width:].tolist()):
                cut = next((k for k, token in enumerate(row) if token in stops), len(row))
                answer = decode_whole_characters(tokenizer, row[:cut])
                ended = cut < len(row) or any(text in answer for text in stop_strings)
                for text in stop_strings:
                    answer = answer.split(text, 1)[0]
                answers[i] = Answer(answer.strip(), cut_at_limit=not ended and len(row) >= config.max_new_tokens, tokens=cut)
            bar.update(len(idx))
    return [answers[i] for i in range(len(prompts))]


class Answer(str):
    """A generated answer: the text, ``cut_at_limit`` when generation stopped at
    ``generation.max_new_tokens`` rather than at a stop token (the answer may be unfinished), and
    ``tokens``, how many tokens were generated before the stop (None when not known)."""

    cut_at_limit: bool
    tokens: int | None

    def __new__(cls, text: str, cut_at_limit: bool = False, tokens: int | None = None):
        answer = super().__new__(cls, text)
        answer.cut_at_limit = cut_at_limit
        answer.tokens = tokens
        return answer


PARTIAL_CHARACTER_TOKENS = 3  # a UTF-8 character is at most 4 bytes: at most 3 trailing byte tokens are a partial one


def decode_whole_characters(tokenizer, ids: list[int]) -> str:
    """``ids`` decoded without special tokens, less a partial multi-byte character at the end.

    Byte-level tokenizers spend several tokens on one Chinese character; an answer cut by
    ``max_new_tokens`` can end between them, which decodes to U+FFFD. The trailing tokens that
    make it are dropped (at most :data:`PARTIAL_CHARACTER_TOKENS`), so no answer ends in a broken
    character; one the model wrote whole is kept."""
    text = tokenizer.decode(ids, skip_special_tokens=True)
    end = len(ids)
    while text.endswith("\ufffd") and end > 0 and len(ids) - end < PARTIAL_CHARACTER_TOKENS:
        end -= 1
        shorter = tokenizer.decode(ids[:end], skip_special_tokens=True)
        if not shorter.endswith("\ufffd") or end == 0:
            return shorter
    return text


def _greedy(gen):
    from omegaconf import OmegaConf

    greedy = OmegaConf.create(OmegaConf.to_container(gen))
    greedy.do_sample = False
    return greedy


def _warn_sampling(gen) -> None:
    global _warned_sampling
    if _warned_sampling:
        return
    _warned_sampling = True
    log.warning("answers are sampled (generation.do_sample=true, seed %s): the same seed gives the same answers, "
                "but scores computed from them vary with generation.seed; generation.do_sample=false decodes "
                "greedily", gen.seed)
