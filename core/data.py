"""Reading a task's train and eval files through their data-format plugins.

Training files: ``data.train_path`` is one file or a list, each entry a path or ``{path,
format, weight}`` (see :func:`training_files`). Each file is read with its own format (default
``data.format``), then, per file and in this order: ``data.split_turns`` (one sample per
exchange), the classification label filter, rows without an answer left out (counted),
``data.max_train_rows`` (the file's first N samples, so every file of a mix stays in it and its
weight keeps its meaning), and the file's weight: the whole part repeats every row (2: each row
twice), the fractional part adds a sample of that share of the rows, drawn with ``seed`` (0.3: a
seeded 30 %). The files' rows are then put one after the other (the trainer shuffles), and
small tool-call data gets copies with new argument values (``data.vary_arguments_until``,
core/argument_variants.py).
``LoadedData.stats()["train_files"]`` says per file what was read and used; one log line each.

The eval file (``data.eval_path``) is read with ``data.format`` (or, when it is one of the
training files, that entry's format). Its rows without a reference answer are kept: they are
answered and written, and left unscored (counted, one log line).
"""

from __future__ import annotations

import difflib
import logging
import math
import random
from collections import Counter
from dataclasses import dataclass, field

from core import argument_variants
from core.errors import PlugtuneError
from core.types import Example, ReadResult, SkippedRow

log = logging.getLogger("plugtune")


@dataclass
class LoadedData:
    """Examples after label filtering, with what was dropped (reported, never silent)."""

    train: list[Example]
    eval: list[Example]
    # the validation split (data.val_path, or data.val_fraction of the training rows); [] without one
    val: list[Example] = field(default_factory=list)
    validation: dict = field(default_factory=dict)  # where the validation rows came from (results.json)
    dropped: dict[str, dict[str, int]] = field(default_factory=dict)  # split -> label -> rows
    skipped: dict[str, list[SkippedRow]] = field(default_factory=dict)  # split -> rows the format skipped
    # split -> file:line of rows whose answer task.max_length cut away entirely (they train nothing)
    untrained: dict[str, list[str]] = field(default_factory=dict)
    # split -> file:line of rows without a reference answer (train: left out; eval: answered, unscored)
    without_answer: dict[str, list[str]] = field(default_factory=dict)
    # one dict per training file: path, format, rows_read, weight, rows_used (+ what was left out)
    train_files: list[dict] = field(default_factory=list)
    # what data.vary_arguments_until added (core.argument_variants); None when it added nothing
    argument_variants: dict | None = None

    def eval_labels_not_in_train(self) -> dict[str, int]:
        """Eval labels (and their row counts) that no training row has: the model cannot learn them."""
        seen = {ex.label for ex in self.train}
        return dict(sorted(Counter(ex.label for ex in self.eval if ex.label and ex.label not in seen).items()))

    def note_untrained(self, split: str, rows: list[dict], max_length: int) -> None:
        """Record (and log) the encoded rows of ``split`` that train nothing because ``task.max_length``
        cut their answer away entirely (``answer_cut``, set by the causal_lm head)."""
        sources = [row.get("source") or "?" for row in rows if row.get("answer_cut")]
        if not sources:
            return
        self.untrained[split] = sources
        log.warning(
            "%s: %d of %d rows left out of training: task.max_length=%d cuts their answer away entirely "
            "(raise task.max_length or shorten them): %s", split, len(sources), len(rows), max_length,
            ", ".join(sources[:SKIPPED_LISTED]) + (" ..." if len(sources) > SKIPPED_LISTED else ""),
        )

    def stats(self) -> dict:
        """What was read and used, for results.json's ``data`` and the report. ``train_files``:
        per training file ``{path, format, rows_read, weight, rows_used}``, plus ``skipped_rows``,
        ``dropped_unknown_labels`` and ``without_answer`` counts when the file had any."""
        return {
            "train_rows": len(self.train),
            "eval_rows": len(self.eval),
            "train_files": self.train_files,
            "dropped_unknown_labels": self.dropped,
            "skipped_rows": {
                split: {"count": len(rows), "rows": [f"{r.source}: {r.reason}" for r in rows[:SKIPPED_LISTED]]}
                for split, rows in self.skipped.items()
            },
            "untrained_rows": {
                split: {"count": len(rows), "rows": rows[:SKIPPED_LISTED]} for split, rows in self.untrained.items()
            },
            "rows_without_answer": {
                split: {"count": len(rows), "rows": rows[:SKIPPED_LISTED]} for split, rows in self.without_answer.items()
            },
            "train_label_counts": dict(Counter(ex.label for ex in self.train if ex.label)),
            **({"val_rows": len(self.val), "validation": self.validation} if self.val else {}),
            **({"argument_variants": self.argument_variants} if self.argument_variants else {}),
            "eval_labels_not_in_train": self.eval_labels_not_in_train(),
        }


SKIPPED_LISTED = 20  # skipped (or untrained) rows listed by file:line in results.json and the report


def did_you_mean(label: str, labels: list[str]) -> str | None:
    """The known label that ``label`` is a case (or whitespace) variant of, if any."""
    wanted = label.strip().casefold()
    return next((known for known in labels if known.casefold() == wanted), None)


def describe_dropped(dropped: dict[str, int], labels: list[str]) -> str:
    """``loan (2), Card_lost (1, did you mean 'card_lost'?)``: the dropped labels with their counts."""
    parts = []
    for label, count in sorted(dropped.items()):
        hint = did_you_mean(label, labels)
        parts.append(f"{label} ({count}, did you mean {hint!r}?)" if hint else f"{label} ({count})")
    return ", ".join(parts)


def keep_known_labels(examples: list[Example], labels: list[str]) -> tuple[list[Example], dict[str, int]]:
    """Drop rows whose label is not in ``labels`` (as the intent-classification tutorial does) and
    count them per label; rows without a label stay (they are counted as rows without an answer)."""
    known = set(labels)
    kept = [ex for ex in examples if ex.label is None or ex.label in known]
    dropped = Counter(ex.label for ex in examples if ex.label is not None and ex.label not in known)
    return kept, dict(dropped)


def labels_from_training_file(cfg, examples: list[Example], path) -> None:
    """Classification data with no ``task.labels``: the class names are the training file's labels
    (sorted), set into ``cfg.task.labels`` and logged with their counts."""
    if cfg.task.labels:
        return
    counts = Counter(ex.label for ex in examples if ex.label)
    if not counts:
        return
    cfg.task.labels = sorted(counts)
    log.info("task.labels not set: %d labels from %s: %s (set task.labels=[...] to choose them)", len(counts), path,
             ", ".join(f"{label} ({counts[label]})" for label in cfg.task.labels))



# --- training files and their weights ---------------------------------------------------------------

ENTRY_KEYS = ("path", "format", "weight")


@dataclass
class TrainingFile:
    """One entry of ``data.train_path``: its file, the format that reads it and its weight."""

    path: str
    format: str
    weight: float


def _weight(key: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value) or math.isinf(value):
        raise PlugtuneError(f"{key}={value!r}: a weight must be a number (2: each row twice, 0.3: a seeded 30 % sample)")
    if value < 0:
        raise PlugtuneError(f"{key}={value!r}: a weight must be 0 or more (2: each row twice, 0.3: a seeded 30 % sample)")
    return float(value)


def training_files(data_cfg) -> list[TrainingFile]:
    """``data.train_path`` (one path, or a list of paths and ``{path, format, weight}`` entries)
    and ``data.mix`` (one weight per file; an entry's own weight wins) as TrainingFiles, checked:
    a bad entry or weight, or a ``data.mix`` of another length, is one PlugtuneError line."""
    from omegaconf import OmegaConf

    raw = data_cfg.train_path
    if OmegaConf.is_config(raw):
        raw = OmegaConf.to_container(raw, resolve=True)
    listed = isinstance(raw, list)
    entries = raw if listed else [raw]
    if not entries or raw is None:
        raise PlugtuneError("data.train_path: no training file; pass data.train_path=FILE or a list [A,B]")
    mix = data_cfg.get("mix") if hasattr(data_cfg, "get") else getattr(data_cfg, "mix", None)
    if mix is not None:
        mix = list(mix)
        if len(mix) != len(entries):
            raise PlugtuneError(
                f"data.mix has {len(mix)} weights but data.train_path names {len(entries)} "
                f"file{'s' if len(entries) != 1 else ''}; give one weight per file, e.g. data.mix=[1,0.3]"
            )
    files = []
    for index, entry in enumerate(entries):
        key = f"data.train_path[{index}]" if listed else "data.train_path"
        weight = _weight(f"data.mix[{index}]", mix[index]) if mix is not None else 1.0
        fmt = str(data_cfg.format)
        if isinstance(entry, dict):
            unknown = [k for k in entry if k not in ENTRY_KEYS]
            if unknown:
                raise PlugtuneError(f"{key}: unknown key {unknown[0]!r}; an entry has {', '.join(ENTRY_KEYS)}")
            if entry.get("path") in (None, ""):
                raise PlugtuneError(f"{key}: an entry needs a path, e.g. {{path: general.json, weight: 0.3}}")
            if entry.get("weight") is not None:
                weight = _weight(f"{key}.weight", entry["weight"])
            fmt = str(entry["format"]) if entry.get("format") else fmt
            path = str(entry["path"])
        elif isinstance(entry, (str, int, float)) and not isinstance(entry, bool) and str(entry).strip():
            path = str(entry)
        else:
            raise PlugtuneError(f"{key}: expected a path or {{path, format, weight}}, got {entry!r}")
        files.append(TrainingFile(path=path, format=fmt, weight=weight))
    return files


def weighted(examples: list[Example], weight: float, rng: random.Random) -> list[Example]:
    """``examples`` used ``weight`` times: the whole part repeats them all, the fractional part
    adds a sample (drawn with ``rng``, kept in file order) of that share of them."""
    whole = int(weight)
    share = weight - whole
    used = examples * whole
    count = round(share * len(examples))
    if count:
        used += [examples[i] for i in sorted(rng.sample(range(len(examples)), count))]
    return used


# --- multi-turn rows -----------------------------------------------------------------------------


def split_turns(example: Example) -> list[Example]:
    """``data.split_turns``: one Example per exchange of a multi-turn example (a user turn and the
    assistant and tool turns answering it), each with the example's system turn and nothing of the
    exchanges before it; sources ``file:line#N``. An example of one exchange comes back as it is."""
    messages = example.messages
    system = messages[:1] if messages and messages[0]["role"] == "system" else []
    body = messages[len(system):]
    if not body or body[0]["role"] != "user":
        return [example]
    exchanges: list[list[dict]] = []
    for message in body:
        # A new exchange starts at a user turn that follows a reply (user turns in a row are one prompt).
        if message["role"] == "user" and (not exchanges or exchanges[-1][-1]["role"] != "user"):
            exchanges.append([message])
        else:
            exchanges[-1].append(message)
    if len(exchanges) == 1:
        return [example]
    last = len(exchanges)
    return [
        Example(messages=system + turns, label=example.label, tools=example.tools,
                source=f"{example.source}#{number}",
                # the alpaca fields (instruction, input) describe the row's last exchange only
                fields=dict(example.fields) if number == last else {})
        for number, turns in enumerate(exchanges, start=1)
    ]


def has_answer(example: Example) -> bool:
    """Whether an example has its reference answer: a label, or a last turn by the assistant."""
    if example.label is not None:
        return True
    return bool(example.messages) and example.messages[-1]["role"] == "assistant"


# --- reading -------------------------------------------------------------------------------------


def _listed(sources: list[str]) -> str:
    return ", ".join(sources[:3]) + (" ..." if len(sources) > 3 else "")


def _read(path, data_format, data_cfg, split_multi_turn: bool) -> tuple[list[Example], list[SkippedRow], int]:
    """The file's examples (split into exchanges when asked), its skipped rows, and its row count."""
    result = ReadResult.of(data_format.read(path, data_cfg))
    if result.skipped:
        log.warning(
            "%s: skipped %d rows, first: %s", path, len(result.skipped),
            "; ".join(f"{r.source}: {r.reason}" for r in result.skipped[:3]),
        )
    examples = result.examples
    if not examples:
        raise PlugtuneError(f"{path}: no usable rows (every row was skipped; see the warnings above)")
    rows = len(examples)
    if split_multi_turn:
        examples = [part for example in examples for part in split_turns(example)]
        if len(examples) != rows:
            log.info("%s: data.split_turns: %d rows -> %d samples (one per exchange, system kept)", path, rows,
                     len(examples))
    return examples, result.skipped, rows


def _format_plugins(cfg, data_format, names: list[str], keys: list[str]) -> dict:
    """The format plugin of each name used (``data_format`` for ``data.format``)."""
    from core.registry import get_registry

    plugins = {str(cfg.data.format): data_format}
    for name, key in zip(names, keys):
        if name in plugins:
            continue
        known = get_registry().names("data_format")
        if name not in known:
            raise PlugtuneError(f"{key}.format={name!r}: unknown data format; available: {', '.join(sorted(known))}")
        plugins[name] = get_registry().get("data_format", name)
    return plugins


def _check_instruction(cfg, plugins: dict, used: set[str]) -> None:
    """``data.instruction`` with only formats whose rows have no instruction would do nothing:
    refused. With a mix of formats, the files it does not apply to are named in one log line."""
    instruction = cfg.data.get("instruction")
    if not instruction:
        return
    without = sorted(name for name in used if getattr(plugins[name], "reads_instruction", None) is False)
    if without and len(without) == len(used):
        raise PlugtuneError(
            f"data.instruction: the {', '.join(without)} format has no instruction field (it applies to "
            "alpaca and toolcall rows); for a fixed line before every conversation set task.system_prompt=TEXT, "
            "or drop data.instruction"
        )
    if without:
        log.info("data.instruction applies to the alpaca-style rows only, not to the %s files", ", ".join(without))


def load_data(cfg, data_format) -> LoadedData:
    """Read the training files and the eval file (see the module docstring); for classification
    tasks drop rows with labels outside ``task.labels``. ``data_format`` reads ``data.format``."""
    files = training_files(cfg.data)
    listed = len(files) > 1 or not isinstance(cfg.data.train_path, str)
    keys = [f"data.train_path[{i}]" if listed else "data.train_path" for i in range(len(files))]
    eval_format = next((f.format for f in files if f.path == str(cfg.data.eval_path)), str(cfg.data.format))
    plugins = _format_plugins(cfg, data_format, [f.format for f in files] + [eval_format], keys + ["data.eval_path"])
    _check_instruction(cfg, plugins, {f.format for f in files} | {eval_format})
    split_multi_turn = bool(cfg.data.get("split_turns"))

    read = [_read(f.path, plugins[f.format], cfg.data, split_multi_turn) for f in files]
    labels_from_training_file(cfg, [ex for examples, _, _ in read for ex in examples],
                              ", ".join(f.path for f in files))
    data = LoadedData(train=[], eval=[])
    parts, file_stats = [], []
    for file, (examples, skipped, rows) in zip(files, read):
        stats = {"path": file.path, "format": file.format, "rows_read": rows, "weight": file.weight}
        if skipped:
            data.skipped.setdefault("train", []).extend(skipped)
            stats["skipped_rows"] = len(skipped)
        if cfg.task.labels:
            examples, unknown = _known_labels(cfg, file.path, examples)
            if unknown:
                stats["dropped_unknown_labels"] = unknown
                dropped = data.dropped.setdefault("train", Counter())
                dropped.update(unknown)
        answered = [ex for ex in examples if has_answer(ex)]
        missing = [ex.source for ex in examples if not has_answer(ex)]
        if missing:
            if not answered:
                raise PlugtuneError(
                    f"{file.path}: none of its {len(examples)} rows has an answer to train on (a label, an output, "
                    f"or an assistant turn last; first: {missing[0]}): check the column names (data.columns, "
                    "data.label_field), or name a file of questions only as data.eval_path"
                )
            data.without_answer.setdefault("train", []).extend(missing)
            stats["without_answer"] = len(missing)
            log.warning("%s: %d of %d rows have no answer (no label or output, or a conversation ending on a user "
                        "turn) and train nothing: left out of training, first: %s", file.path, len(missing), len(examples),
                        _listed(missing))
        examples = answered
        if cfg.data.max_train_rows is not None:
            examples = examples[: cfg.data.max_train_rows]
        parts.append(examples)
        file_stats.append(stats)
    data.dropped = {split: dict(counts) for split, counts in data.dropped.items()}
    _warn_untrained_labels(cfg, parts, data.dropped.get("train", {}))

    eval_path = cfg.data.eval_path
    examples = first_eval_rows(cfg, _read_split(cfg, data, "eval", eval_path, plugins[eval_format], split_multi_turn))
    missing = [ex.source for ex in examples if not has_answer(ex)]
    if missing:
        data.without_answer["eval"] = missing
        log.info("%s: %d of %d eval rows have no reference answer: their answers are generated and written, "
                 "not scored", eval_path, len(missing), len(examples))
    data.eval = examples

    parts = _validation_split(cfg, data, parts, plugins[str(cfg.data.format)], split_multi_turn)
    for number, (file, stats, examples) in enumerate(zip(files, file_stats, parts), start=1):
        used = weighted(examples, file.weight, random.Random(f"{cfg.seed}/{number - 1}"))
        stats["rows_used"] = len(used)
        data.train_files.append(stats)
        data.train.extend(used)
        log.info("train file %d/%d %s (%s): %d rows read, weight %s: %d rows used", number, len(files), file.path,
                 file.format, stats["rows_read"], f"{file.weight:g}", len(used))
    if not data.train:
        raise PlugtuneError(
            "no training rows: every file's weight is 0 (or its sample rounds to 0 rows); raise a weight in data.mix "
            "or data.train_path"
        )
    data.train, data.argument_variants = argument_variants.vary(
        data.train, int(cfg.data.get("vary_arguments_until") or 0), int(cfg.seed))
    if data.argument_variants:
        log.info(argument_variants.describe(data.argument_variants))

    unseen = data.eval_labels_not_in_train()
    if unseen:
        log.warning(
            "%s: eval labels that never occur in the training data: %s", eval_path,
            ", ".join(f"{label} ({count} rows)" for label, count in unseen.items()),
        )
    return data


def untrained_labels(labels: list[str], examples: list[Example], dropped: dict[str, int]) -> list[str]:
    """``task.labels`` entries no training row carries, each with the closest dropped label as a hint
    (``'card_lsot' (did you mean 'card_lost', 40 rows dropped?)``): a misspelled entry in
    ``task.labels`` both drops that class's rows and adds a class the model never sees."""
    seen = {ex.label for ex in examples}
    found = []
    for label in labels:
        if label in seen:
            continue
        close = difflib.get_close_matches(label, list(dropped), n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}, {dropped[close[0]]} rows dropped?)" if close else ""
        found.append(f"{label!r}{hint}")
    return found


def _warn_untrained_labels(cfg, parts: list[list[Example]], dropped: dict[str, int]) -> None:
    if not cfg.task.labels:
        return
    found = untrained_labels(list(cfg.task.labels), [ex for part in parts for ex in part], dropped)
    if found:
        log.warning("task.labels: no training row has the label %s: the model cannot learn it; check the "
                    "spelling against the training file's labels", ", ".join(found))


def _validation_split(cfg, data: LoadedData, parts: list[list[Example]], data_format,
                      split_multi_turn: bool) -> list[list[Example]]:
    """Fill ``data.val`` from ``data.val_path`` or ``data.val_fraction`` (``core.validation_split``)
    and return the training files' rows without the ones set aside."""
    from core import validation_split

    val_path, fraction = cfg.data.get("val_path"), cfg.data.get("val_fraction")
    if val_path and fraction is not None:
        raise PlugtuneError("data.val_path and data.val_fraction both set: the validation rows come from one of them; "
                            "drop one")
    if val_path:
        examples = _read_split(cfg, data, "validation", val_path, data_format, split_multi_turn)
        unanswered = [ex.source for ex in examples if not has_answer(ex)]
        if unanswered:
            log.warning("%s: %d validation rows have no answer and are left out: %s", val_path, len(unanswered),
                        _listed(unanswered))
        data.val, data.validation = validation_split.from_file(
            val_path, [ex for ex in examples if has_answer(ex)], data.eval, cfg.data.eval_path)
    elif fraction is not None:
        parts, data.val, data.validation = validation_split.carve(parts, float(fraction), int(cfg.seed), data.eval)
    else:
        return parts
    log.info("validation split: %d rows from %s%s", len(data.val), data.validation["source"],
             f" ({data.validation['label_counts']})" if data.validation.get("label_counts") else "")
    return parts


def _read_split(cfg, data: LoadedData, split: str, path, data_format, split_multi_turn: bool) -> list[Example]:
    """The rows of one eval or validation file, its skipped rows and unknown labels recorded under ``split``."""
    examples, skipped, _ = _read(path, data_format, cfg.data, split_multi_turn)
    if skipped:
        data.skipped[split] = skipped
    if cfg.task.labels:
        examples, unknown = _known_labels(cfg, path, examples)
        if unknown:
            data.dropped[split] = unknown
    return examples


def _known_labels(cfg, path, examples: list[Example]) -> tuple[list[Example], dict[str, int]]:
    """``examples`` with labels in ``task.labels`` (logged when some are dropped; none left: refused)."""
    labels = list(cfg.task.labels)
    kept, unknown = keep_known_labels(examples, labels)
    if unknown:
        log.warning("%s: dropped %d rows with labels outside task.labels: %s",
                    path, sum(unknown.values()), describe_dropped(unknown, labels))
    if not kept:
        raise PlugtuneError(f"{path}: no rows left after dropping unknown labels; task.labels is {labels}")
    return kept, unknown


def read_eval(cfg) -> list[Example]:
    """A finished run's eval rows, read again as the run read them (``data.eval_path`` with the
    run's format; classification rows with labels outside ``task.labels`` left out; then its
    first ``data.max_eval_rows``): what ``core.export`` re-scores the exported model on."""
    from core.registry import get_registry

    data_format = get_registry().get("data_format", str(cfg.data.format))
    examples, _, _ = _read(cfg.data.eval_path, data_format, cfg.data, bool(cfg.data.get("split_turns")))
    if cfg.task.labels:
        examples, _ = keep_known_labels(examples, list(cfg.task.labels))
    return first_eval_rows(cfg, examples)


def first_eval_rows(cfg, examples: list[Example]) -> list[Example]:
    """The eval rows a run scores: the first ``data.max_eval_rows`` of those read (all when null).
    The run and the export check both cut here, so an export is checked on the run's rows."""
    limit = cfg.data.get("max_eval_rows")
    return examples if limit is None else examples[:limit]
