"""The validation split: rows that choose the best checkpoint and stop training early.

Either a file of its own (``data.val_path``) or a share of the training rows set aside
(``data.val_fraction``): for classification a share of every label (stratified), for generation
a share of all rows, drawn with the run's seed before any file's weight repeats rows, so a row
never sits on both sides. Rows whose prompt is also an eval row's prompt never validate: model
selection must not see the rows the final scores come from.
"""

from __future__ import annotations

import logging
import random
from collections import Counter, defaultdict

from core.errors import PlugtuneError
from core.types import Example

log = logging.getLogger("plugtune")


def prompt_key(example: Example) -> tuple:
    """What the model is asked, as a comparable key: every turn but the answers, plus the alpaca
    fields (two rows with the same key differ only in their answer or label)."""
    turns = tuple((m.get("role"), str(m.get("content"))) for m in example.messages if m.get("role") != "assistant")
    return turns + tuple(sorted(example.fields.items()))


def carve(parts: list[list[Example]], fraction: float, seed: int, eval_rows: list[Example]
          ) -> tuple[list[list[Example]], list[Example], dict]:
    """Set ``fraction`` of the training rows aside as the validation split.

    ``parts`` are the training files' rows (before weights); returns them without the chosen
    rows, the validation rows (in a seeded random order, so the first N are a fair sample), and
    what was done for results.json. Stratified by label when the rows have labels. Rows whose
    prompt is an eval row's prompt stay in training (they are never validation rows)."""
    in_eval = {prompt_key(ex) for ex in eval_rows}
    candidates = [(p, i) for p, rows in enumerate(parts) for i, ex in enumerate(rows) if prompt_key(ex) not in in_eval]
    if not candidates:
        raise PlugtuneError(
            "data.val_fraction: every training row is also an eval row (with no data.eval_path the training file is "
            "scored), so none can validate; set data.eval_path to held-out rows, or data.val_path to a file of its own"
        )
    rng = random.Random(f"{seed}/validation")
    groups: dict = defaultdict(list)
    labelled = all(parts[p][i].label is not None for p, i in candidates)
    for p, i in candidates:
        groups[parts[p][i].label if labelled else None].append((p, i))
    chosen, too_few = [], []
    for label in sorted(groups, key=str):
        members = groups[label]
        rng.shuffle(members)
        count = round(fraction * len(members))
        if labelled and count == 0:
            too_few.append(f"{label} ({len(members)} rows)")
        chosen += members[:count]
    if not chosen:
        raise PlugtuneError(
            f"data.val_fraction={fraction}: {len(candidates)} training rows give no validation row; raise it, or set "
            "data.val_path to a file of its own"
        )
    if too_few:
        log.warning("data.val_fraction=%s: too few rows to validate on these labels (they all train): %s",
                    fraction, ", ".join(too_few))
    rng.shuffle(chosen)
    taken = set(chosen)
    remaining = [[ex for i, ex in enumerate(rows) if (p, i) not in taken] for p, rows in enumerate(parts)]
    val = [parts[p][i] for p, i in chosen]
    info = {"source": "data.val_fraction", "fraction": fraction, "seed": seed, "rows": len(val),
            "stratified": labelled, "train_rows_not_eligible": sum(len(r) for r in parts) - len(candidates)}
    if labelled:
        info["label_counts"] = dict(sorted(Counter(ex.label for ex in val).items()))
    return remaining, val, info


def from_file(path: str, rows: list[Example], eval_rows: list[Example], eval_path) -> tuple[list[Example], dict]:
    """The validation rows of ``data.val_path`` without those whose prompt is an eval row's (left
    out with a warning); refuses the eval file itself."""
    if eval_path is not None and str(path) == str(eval_path):
        raise PlugtuneError(
            f"data.val_path={path} is the eval file: the rows the final scores come from must not choose the "
            "checkpoint; give held-out rows of their own, or data.val_fraction=0.1 to set training rows aside"
        )
    in_eval = {prompt_key(ex) for ex in eval_rows}
    kept = [ex for ex in rows if prompt_key(ex) not in in_eval]
    overlapping = len(rows) - len(kept)
    if overlapping:
        log.warning("%s: %d of %d validation rows are also eval rows: left out of validation", path, overlapping,
                    len(rows))
    if not kept:
        raise PlugtuneError(f"data.val_path={path}: no validation row left (every row is also an eval row)")
    info = {"source": str(path), "rows": len(kept), "left_out_as_eval_rows": overlapping}
    if all(ex.label is not None for ex in kept):
        info["label_counts"] = dict(sorted(Counter(ex.label for ex in kept).items()))
    return kept, info
