"""Data audit: what in the data can make a run's numbers misleading, found before training.

:func:`audit` compares the training, validation and eval examples and returns a JSON-serialisable
report (``results.json`` key ``audit``); :func:`warnings` gives one log line per finding,
:func:`markdown_lines` the ``report.md`` section and :func:`text_lines` the ``mode=inspect`` lines.

What is compared
----------------
The *input* of an example is what the model reads before it answers, less what every row shares:
the content of its user (and tool) turns, joined by line breaks. The system prompt is left out,
since a system prompt shared by all rows would make every row look alike; a row whose user turns
are empty falls back to all its non-assistant content. Alpaca rows carry their instruction and
input in the user turn (``instruction``, a blank line, ``input``), so both count.

The *answer* is the label for classification data (any example with a ``label``); for generation
data it is the final assistant turn (its tool calls, as compact JSON, when it calls tools), so
"the same input with different labels" becomes "the same prompt with different answers". Rows
without an answer (prompts to answer, unlabelled texts) count for duplicates, not for conflicts
or the label distribution.

Two inputs are *exact* duplicates when their text is identical, and *normalised* duplicates when
they differ but are equal after :func:`normalise`: Unicode NFKC (which folds full-width ``ＡＢＣ``
to ``ABC`` and ``！`` to ``!``), case folding, and removing punctuation (Unicode categories P*,
after NFKC so ``，。！？`` go too), whitespace and invisible format characters. Each row is keyed
once, so the audit is linear in the number of rows (10,000 rows take a fraction of a second).

Findings
--------
- ``duplicates``: rows of one split whose input another split already has (``train_eval``: eval
  rows also in train, the contamination that inflates scores; ``val_eval``; ``train_val``), and
  training rows repeating an earlier training row (``within_train``); exact and normalised counts
  and a few examples (``file:line`` of both rows and the texts).
- ``conflicts``: normalised inputs that appear in train with different answers (``within_train``),
  and eval rows whose training twin has another answer (``train_eval``).
- ``distribution``: rows per label and split (for tool-call data, per first called tool, or
  ``(no tool)``), the total variation distance between each pair of splits (half the sum of the
  absolute share differences: 0 for equal shares, 1 for disjoint labels), and the pairs flagged
  as skewed: distance above :data:`SKEW_DISTANCE` with at least :data:`SKEW_MIN_ROWS` rows in each
  split. Below that size sampling alone moves the distance by about as much (5 even labels,
  50 rows: about 0.11 on average), so the distance is reported but not flagged.
- ``recall``: true when every eval row's input is, as written, a training row's input (the
  tutorials' "ask the trained questions back"). The run then says that it measures recall, not
  generalisation (log, console, report, inspect), instead of warning about train/eval duplicates.
- ``unseen_labels`` and ``unseen_tools``: eval (and validation) labels, and called tool names,
  that no training row has, with their row counts.
"""

from __future__ import annotations

import json
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from core.types import Example

SKEW_DISTANCE = 0.2  # total variation distance above which two splits' label shares "differ a lot"
SKEW_MIN_ROWS = 50  # labelled rows each split needs before a distance is flagged as skew
TEXT_SHOWN = 60  # characters of an example's text shown in lines and results.json
NO_TOOL = "(no tool)"  # the distribution's category for a tool-call row that answers without a call

# Splits compared for duplicates: (key, split whose inputs are looked up, split whose rows are counted).
PAIRS = (("train_eval", "train", "eval"), ("val_eval", "val", "eval"), ("train_val", "train", "val"))
PAIR_WORDS = {
    "train_eval": "eval rows whose input is also in train",
    "val_eval": "eval rows whose input is also in val",
    "train_val": "val rows whose input is also in train",
    "within_train": "train rows repeating an earlier train row's input",
}
_DROPPED_CATEGORIES = ("P", "Z", "Cc", "Cf")  # punctuation, separators (spaces), control, format


# ---------------------------------------------------------------------------------------------
# What an example says


def normalise(text: str) -> str:
    """``text`` after NFKC, case folding, and with punctuation, whitespace and invisible characters
    removed; a text made only of those keeps its NFKC, case-folded, stripped form (so that all
    punctuation-only texts do not become one)."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    kept = folded.translate(_DROPPED)
    return kept or folded.strip()


class _DroppedCharacters(dict):
    """A ``str.translate`` table deleting the characters of :data:`_DROPPED_CATEGORIES`, filled
    as characters are met (a translate in C, instead of a category lookup per character in Python)."""

    def __missing__(self, code: int) -> int | None:
        value = None if unicodedata.category(chr(code)).startswith(_DROPPED_CATEGORIES) else code
        self[code] = value
        return value


_DROPPED = _DroppedCharacters()


def input_text(example: Example) -> str:
    """The example's input: its user and tool turns (the module docstring says why not the system prompt)."""
    turns = [m for m in example.messages if m.get("role") not in ("assistant", "system")]
    text = "\n".join(_content(m) for m in turns)
    if not text.strip():
        text = "\n".join(_content(m) for m in example.messages if m.get("role") != "assistant")
    return text


def final_answer(example: Example) -> str | None:
    """The label of a classification example; else the final assistant turn (its tool calls as
    compact JSON when it makes any); None for a row without one."""
    if example.label is not None:
        return example.label
    for message in reversed(example.messages):
        if message.get("role") == "assistant":
            calls = message.get("tool_calls")
            if calls:
                return json.dumps(calls, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
            return _content(message)
        if message.get("role") == "user":
            return None  # the row ends on a user turn: a prompt to answer
    return None


def called_tools(example: Example) -> list[str]:
    """The tool names the example's assistant turns call, in order: OpenAI ``tool_calls`` and
    answers that are a JSON call (``{"tool_name": ...}``, ``{"name": ..., "arguments": ...}``,
    ``{"function": {"name": ...}}``, ``{"tool_calls": [...]}``, or a list of those)."""
    names: list[str] = []
    for message in example.messages:
        if message.get("role") != "assistant":
            continue
        for call in message.get("tool_calls") or []:
            names += _call_names(call)
        content = _content(message).strip()
        if content[:1] in ("{", "["):
            try:
                names += _call_names(json.loads(content))
            except (ValueError, RecursionError):
                pass  # text that only looks like JSON is an answer, not a call
    return names


def _content(message: dict) -> str:
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # OpenAI content parts
        return "\n".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return "" if content is None else str(content)


def _call_names(value: Any) -> list[str]:
    if isinstance(value, list):
        return [name for item in value for name in _call_names(item)]
    if not isinstance(value, dict):
        return []
    if isinstance(value.get("tool_calls"), list):
        return _call_names(value["tool_calls"])
    if isinstance(value.get("function"), dict):
        value = value["function"]
    name = value.get("tool_name")
    if name is None and ("arguments" in value or "parameters" in value):
        name = value.get("name")  # {"name": "Bob"} alone is data, not a call
    return [name.strip()] if isinstance(name, str) and name.strip() else []


# ---------------------------------------------------------------------------------------------
# The audit


class _Row:
    """One example as the audit sees it, keyed once."""

    __slots__ = ("split", "source", "text", "key", "answer", "answer_key", "tools")

    def __init__(self, split: str, example: Example, classification: bool):
        self.split = split
        self.source = example.source
        self.text = input_text(example)
        self.key = normalise(self.text)
        self.answer = example.label if classification else final_answer(example)
        # labels are names and compare exactly; generated answers compare as normalised text
        self.answer_key = None if self.answer is None else self.answer if classification else normalise(self.answer)
        self.tools = called_tools(example)


def audit(train: list[Example], eval: list[Example], val: list[Example] | None = None,
          examples_listed: int = 5) -> dict:
    """Audit the splits (module docstring); ``examples_listed`` caps the examples kept per finding."""
    splits = {"train": train, "val": list(val or []), "eval": eval}
    classification = any(ex.label is not None for rows in splits.values() for ex in rows)
    rows = {name: [_Row(name, ex, classification) for ex in examples] for name, examples in splits.items()}
    tool_data = not classification and any(row.tools for split in rows.values() for row in split)
    report: dict[str, Any] = {
        "answers": "labels" if classification else "answers",
        "rows": {name: len(split) for name, split in rows.items() if split or name != "val"},
        "duplicates": _duplicates(rows, examples_listed),
        "conflicts": _conflicts(rows["train"], rows["eval"], examples_listed),
        "distribution": _distribution(rows, tool_data) if classification or tool_data else None,
        "unseen_labels": _unseen(rows, lambda row: [row.answer] if classification and row.answer else []),
    }
    if tool_data:
        report["unseen_tools"] = _unseen(rows, lambda row: row.tools)
    report["recall"] = is_recall_test(report)
    return report


RECALL_LINE = "eval rows are the train rows: this measures recall, not generalisation"


def is_recall_test(report: dict) -> bool:
    """Every eval row's input is, as written, a training row's input: the tutorials' own test (train on
    a few facts, ask them back). A legitimate test of memorisation, so it is said in place of the
    contamination warning, not warned about."""
    found = report["duplicates"].get("train_eval")
    return bool(found and found["of"] and found["exact"] == found["of"])


def _shown(row: _Row) -> dict[str, str]:
    text = row.text if len(row.text) <= TEXT_SHOWN else row.text[:TEXT_SHOWN] + "…"
    return {"source": row.source, "text": text}


def _duplicates(rows: dict[str, list[_Row]], listed: int) -> dict[str, dict]:
    found = {}
    for name, first, second in PAIRS:
        if rows[first] and rows[second]:
            exact = {row.text: row for row in reversed(rows[first])}  # reversed: the first row wins
            keyed = {row.key: row for row in reversed(rows[first])}
            found[name] = _matches(rows[second], exact, keyed, listed, add=False)
    found["within_train"] = _matches(rows["train"], {}, {}, listed, add=True)
    return found


def _matches(rows: list[_Row], exact: dict, keyed: dict, listed: int, add: bool) -> dict:
    """Rows whose input ``exact`` (texts) or ``keyed`` (normalised) already holds; ``add``: each row
    joins them after its lookup (duplicates within one split)."""
    counts = {"exact": 0, "normalised": 0}
    examples = []
    for row in rows:
        twin, kind = exact.get(row.text), "exact"
        if twin is None:
            twin, kind = keyed.get(row.key), "normalised"
        if twin is not None:
            counts[kind] += 1
            if len(examples) < listed:
                examples.append({"kind": kind, "first": _shown(twin), "second": _shown(row)})
        elif add:
            exact[row.text] = keyed[row.key] = row
        if add and twin is not None and row.text not in exact:
            exact[row.text] = row  # a normalised twin's own spelling then matches exactly later on
    return {"rows": counts["exact"] + counts["normalised"], "of": len(rows), **counts, "examples": examples}


def _conflicts(train: list[_Row], evaluation: list[_Row], listed: int) -> dict[str, dict]:
    answers: dict[str, dict[str, list[_Row]]] = defaultdict(dict)  # input key -> answer key -> rows
    for row in train:
        if row.answer is not None:
            answers[row.key].setdefault(row.answer_key, []).append(row)
    groups = [by_answer for by_answer in answers.values() if len(by_answer) > 1]
    within = {
        "inputs": len(groups),
        "rows": sum(len(group) for by_answer in groups for group in by_answer.values()),
        "examples": [{"text": _shown(next(iter(by_answer.values()))[0])["text"],
                      "answers": [_answer_rows(group) for group in by_answer.values()]}
                     for by_answer in groups[:listed]],
    }
    clashing = [row for row in evaluation
                if row.answer is not None and row.key in answers and row.answer_key not in answers[row.key]]
    across = {
        "rows": len(clashing),
        "examples": [{"text": _shown(row)["text"], "eval": {"source": row.source, "answer": _cut(row.answer)},
                      "train": [_answer_rows(group) for group in answers[row.key].values()]}
                     for row in clashing[:listed]],
    }
    return {"within_train": within, "train_eval": across}


def _cut(text: str) -> str:
    return text if len(text) <= TEXT_SHOWN else text[:TEXT_SHOWN] + "…"


def _answer_rows(group: list[_Row], sources: int = 3) -> dict:
    return {"answer": _cut(group[0].answer), "rows": len(group), "sources": [row.source for row in group[:sources]]}


def _category(row: _Row, tool_data: bool) -> str | None:
    if tool_data:
        return None if row.answer is None else (row.tools[0] if row.tools else NO_TOOL)
    return row.answer


def _distribution(rows: dict[str, list[_Row]], tool_data: bool) -> dict:
    counts = {name: Counter(c for c in (_category(row, tool_data) for row in split) if c is not None)
              for name, split in rows.items() if split}
    splits = {}
    for name, counter in counts.items():
        total = sum(counter.values())
        splits[name] = {"rows": total, "counts": dict(sorted(counter.items())),
                        "shares": {c: round(n / total, 4) for c, n in sorted(counter.items())}}
    distance, skewed = {}, []
    for first, second in (("train", "eval"), ("train", "val"), ("val", "eval")):
        if first in counts and second in counts and splits[first]["rows"] and splits[second]["rows"]:
            name = f"{first}_{second}"
            distance[name] = round(total_variation(counts[first], counts[second]), 4)
            if distance[name] > SKEW_DISTANCE and min(splits[first]["rows"], splits[second]["rows"]) >= SKEW_MIN_ROWS:
                skewed.append(name)
    return {"of": "tool" if tool_data else "label", "splits": splits, "distance": distance, "skewed": skewed,
            "threshold": SKEW_DISTANCE, "min_rows": SKEW_MIN_ROWS}


def total_variation(first: Counter, second: Counter) -> float:
    """Half the sum of the absolute differences of the two count tables' shares (0 to 1)."""
    n, m = sum(first.values()), sum(second.values())
    if not n or not m:
        return 0.0
    return 0.5 * sum(abs(first[c] / n - second[c] / m) for c in set(first) | set(second))


def _unseen(rows: dict[str, list[_Row]], names) -> dict[str, dict[str, int]]:
    seen = {name for row in rows["train"] for name in names(row)}
    found = {}
    for split in ("val", "eval"):
        counter = Counter(name for row in rows[split] for name in set(names(row)) if name not in seen)
        if counter:
            found[split] = dict(sorted(counter.items()))
    return found


# ---------------------------------------------------------------------------------------------
# Lines for the log, the report and mode=inspect


def _where(source: str) -> str:
    """``file:line`` with the file's name only (the report names the files in full elsewhere)."""
    path, sep, line = source.rpartition(":")
    return f"{Path(path).name}:{line}" if sep and line.replace("#", "").isdigit() else source


def _one_line(text: str) -> str:
    return text.replace("\r", "").replace("\n", "↵")


def _pair(example: dict) -> str:
    first, second = example["first"], example["second"]
    if example["kind"] == "exact":
        return f"{_where(second['source'])} = {_where(first['source'])} {_one_line(first['text'])!r}"
    return (f"{_where(second['source'])} {_one_line(second['text'])!r} ~ "
            f"{_where(first['source'])} {_one_line(first['text'])!r}")


def _duplicate_phrase(key: str, found: dict) -> str:
    share = f"{found['rows'] / found['of']:.1%}; " if key != "within_train" and found["of"] else ""
    return (f"{PAIR_WORDS[key]}: {found['rows']} of {found['of']} "
            f"({share}{found['exact']} exact, {found['normalised']} after normalising)")


def _answer_word(report: dict) -> str:
    return "label" if report["answers"] == "labels" else "answer"


def _conflict_example(example: dict) -> str:
    answers = ", ".join(f"{a['answer']!r} ({', '.join(map(_where, a['sources']))})" for a in example["answers"])
    return f"{_one_line(example['text'])!r}: {answers}"


def _cross_example(example: dict) -> str:
    train = ", ".join(f"{a['answer']!r}" for a in example["train"])
    return (f"{_where(example['eval']['source'])} {_one_line(example['text'])!r} has "
            f"{example['eval']['answer']!r}, train has {train}")


def _shares(splits: dict, name: str, top: int | None = None) -> str:
    shares = sorted(splits[name]["shares"].items(), key=lambda item: -item[1])
    shown = shares if top is None else shares[:top]
    more = f", +{len(shares) - len(shown)} more" if len(shown) < len(shares) else ""
    return ", ".join(f"{c} {s:.0%}" for c, s in shown) + more


def _unseen_phrase(found: dict[str, int]) -> str:
    return ", ".join(f"{name} ({_rows(count)})" for name, count in found.items())


def _rows(count: int) -> str:
    return f"{count} row" if count == 1 else f"{count} rows"


def warnings(report: dict) -> list[str]:
    """One log line per finding; none for clean data."""
    lines = []
    for key, found in report["duplicates"].items():
        if found["rows"] and not (key == "train_eval" and report.get("recall")):
            lines.append(f"data audit: {_duplicate_phrase(key, found)}, e.g. {_pair(found['examples'][0])}")
    within, across = report["conflicts"]["within_train"], report["conflicts"]["train_eval"]
    word = _answer_word(report)
    if within["inputs"]:
        lines.append(f"data audit: inputs in train with different {word}s: {within['inputs']} "
                     f"({_rows(within['rows'])}), e.g. {_conflict_example(within['examples'][0])}")
    if across["rows"]:
        lines.append(f"data audit: eval rows whose train twin has another {word}: {across['rows']}, "
                     f"e.g. {_cross_example(across['examples'][0])}")
    distribution = report["distribution"]
    for pair in (distribution or {}).get("skewed", []):
        first, second = pair.split("_")
        lines.append(f"data audit: {distribution['of']} shares differ between {first} and {second} (total "
                     f"variation distance {distribution['distance'][pair]:.2f} > {distribution['threshold']}): "
                     f"{first} {_shares(distribution['splits'], first, 5)}; "
                     f"{second} {_shares(distribution['splits'], second, 5)}")
    for kind, word in (("unseen_labels", "labels"), ("unseen_tools", "tools")):
        for split, found in report.get(kind, {}).items():
            lines.append(f"data audit: {split} {word} never seen in training: {_unseen_phrase(found)}")
    return lines


def text_lines(report: dict) -> list[str]:
    """The audit for ``mode=inspect``: every check with its count, findings with an example."""
    word = _answer_word(report)
    lines = ["data audit (inputs compared exactly and after NFKC, case folding, punctuation and whitespace removed):"]
    if report.get("recall"):
        lines.append(f"  {RECALL_LINE}")
    for key, found in report["duplicates"].items():
        lines.append(f"  {_duplicate_phrase(key, found)}")
        lines += [f"    e.g. {_pair(example)}" for example in found["examples"][:2]]
    within, across = report["conflicts"]["within_train"], report["conflicts"]["train_eval"]
    lines.append(f"  inputs in train with different {word}s: {within['inputs']} ({_rows(within['rows'])})")
    lines += [f"    e.g. {_conflict_example(example)}" for example in within["examples"][:2]]
    if "eval" in report["rows"] and report["rows"]["eval"]:
        lines.append(f"  eval rows whose train twin has another {word}: {across['rows']}")
        lines += [f"    e.g. {_cross_example(example)}" for example in across["examples"][:2]]
    distribution = report["distribution"]
    if distribution:
        for name in distribution["splits"]:
            lines.append(f"  {distribution['of']} shares in {name} ({distribution['splits'][name]['rows']} rows): "
                         f"{_shares(distribution['splits'], name, 8)}")
        for pair, value in distribution["distance"].items():
            flag = "  SKEWED" if pair in distribution["skewed"] else ""
            lines.append(f"  total variation distance {pair.replace('_', '/')}: {value:.2f}{flag}")
    for kind, what in (("unseen_labels", "labels"), ("unseen_tools", "tools")):
        if kind == "unseen_labels" and report["answers"] != "labels":
            continue
        if kind in report:
            found = report[kind]
            lines.append(f"  eval {what} never seen in training: {_unseen_phrase(found['eval']) if 'eval' in found else 'none'}")
            if "val" in found:
                lines.append(f"  val {what} never seen in training: {_unseen_phrase(found['val'])}")
    return lines


def _cell(text: str) -> str:
    return _one_line(text).replace("|", "\\|")


def markdown_lines(report: dict) -> list[str]:
    """The ``## Data audit`` section of ``report.md``."""
    word = _answer_word(report)
    lines = ["## Data audit", "",
             "Inputs (user turns; alpaca instruction and input) compared as written and after normalising "
             "(Unicode NFKC, case folded, punctuation and whitespace removed).", "",
             *([f"**{RECALL_LINE[0].upper()}{RECALL_LINE[1:]}.**", ""] if report.get("recall") else []),
             "| check | rows | exact | after normalising | e.g. |", "|---|---|---|---|---|"]
    for key, found in report["duplicates"].items():
        example = _cell(_pair(found["examples"][0])) if found["examples"] else ""
        lines.append(f"| {PAIR_WORDS[key]} | {found['rows']} of {found['of']} | {found['exact']} | "
                     f"{found['normalised']} | {example} |")
    within, across = report["conflicts"]["within_train"], report["conflicts"]["train_eval"]
    lines += ["", f"Inputs in train with different {word}s: {within['inputs']} ({_rows(within['rows'])})."]
    lines += [f"- {_cell(_conflict_example(example))}" for example in within["examples"]]
    lines += ["", f"Eval rows whose train twin has another {word}: {across['rows']}."]
    lines += [f"- {_cell(_cross_example(example))}" for example in across["examples"]]
    distribution = report["distribution"]
    if distribution:
        names = list(distribution["splits"])
        categories = sorted({c for split in distribution["splits"].values() for c in split["counts"]})
        lines += ["", f"Rows per {distribution['of']}:", "",
                  f"| {distribution['of']} | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
        for category in categories:
            cells = []
            for name in names:
                split = distribution["splits"][name]
                count = split["counts"].get(category, 0)
                cells.append(f"{count} ({split['shares'].get(category, 0.0):.1%})")
            lines.append(f"| {_cell(category)} | " + " | ".join(cells) + " |")
        distances = ", ".join(f"{pair.replace('_', '/')} {value:.2f}" + (" (skewed)" if pair in distribution["skewed"] else "")
                              for pair, value in distribution["distance"].items())
        if distances:
            lines += ["", f"Total variation distance between the splits' shares: {distances} (flagged above "
                          f"{distribution['threshold']} with at least {distribution['min_rows']} rows a split)."]
    for kind, what in (("unseen_labels", "labels"), ("unseen_tools", "tools")):
        if kind == "unseen_labels" and report["answers"] != "labels":
            continue
        if kind in report:
            found = report[kind]
            lines += ["", f"Eval {what} never seen in training: "
                          f"{_unseen_phrase(found['eval']) if 'eval' in found else 'none'}."]
            if "val" in found:
                lines.append(f"Val {what} never seen in training: {_unseen_phrase(found['val'])}.")
    return lines
