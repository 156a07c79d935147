"""The classic baseline (core.classic_baseline) on a text_label train/eval pair: macro-F1, accuracy, seconds.

Trains TF-IDF character n-grams + logistic regression with ``C`` chosen by cross-validation on
the training rows (what a run reports as its "classic" column), scores it on the eval rows with
macro_f1's ``classification_scores``, and prints each ``C`` of the grid fitted on all training
rows as well, so the cross-validated choice can be compared with fixed settings. Those per-``C``
eval figures look at the eval rows and are for reading only; nothing is chosen by them.

    python bench/classic_baseline.py                       # the shipped intent data, its five labels
    python bench/classic_baseline.py --train T.jsonl --eval E.jsonl [--labels a b c] [--seed 0]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from types import SimpleNamespace

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from core import classic_baseline  # noqa: E402
from plugins.macro_f1 import classification_scores  # noqa: E402
from plugins.text_label import TextLabelFormat  # noqa: E402

SHIPPED_TRAIN = REPO / "data" / "intent" / "train.jsonl"
SHIPPED_EVAL = REPO / "data" / "intent" / "test.jsonl"
SHIPPED_LABELS = ["fraud_risk", "refund", "balance", "card_lost", "other"]  # conf/task/intent.yaml data.shipped.labels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=Path, default=SHIPPED_TRAIN)
    parser.add_argument("--eval", type=Path, default=SHIPPED_EVAL)
    parser.add_argument("--labels", nargs="*", default=None,
                        help="the class names (default: the shipped five with the shipped data, else the training labels)")
    parser.add_argument("--text-field", default="text")
    parser.add_argument("--label-field", default="label")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

    fmt = TextLabelFormat()
    data_cfg = SimpleNamespace(text_field=args.text_field, label_field=args.label_field)
    train, eval_rows = fmt.read(args.train, data_cfg), fmt.read(args.eval, data_cfg)
    labels = args.labels or (SHIPPED_LABELS if args.train == SHIPPED_TRAIN
                             else sorted({ex.label for ex in train if ex.label is not None}))
    # As the pipeline does: training rows with other labels are dropped, eval rows too.
    train = [ex for ex in train if ex.label is None or ex.label in labels]
    eval_rows = [ex for ex in eval_rows if ex.label is None or ex.label in labels]

    result = classic_baseline.fit_predict(train, eval_rows, labels, args.seed)
    scored = [p for p in result.predictions if p.reference is not None]
    scores = classification_scores([p.reference for p in scored], [p.prediction for p in scored], labels)
    print(f"train {args.train} ({len(train)} rows), eval {args.eval} ({len(eval_rows)} rows, {len(scored)} labelled)")
    print(result.description)
    print(f"cross-validated macro-F1 on the training rows per C: {result.settings.get('cv_macro_f1')}")
    print()
    print("| classifier | macro-F1 | accuracy | seconds |")
    print("|---|---|---|---|")
    print(f"| classic (C={result.settings.get('C', '-')}, chosen on train) | {scores['macro_f1']:.4f} "
          f"| {scores['accuracy']:.4f} | {result.seconds:.2f} |")
    if len(scored) and result.settings.get("classes", 1) > 1:
        _fixed_settings(train, eval_rows, labels, args.seed)


def _fixed_settings(train, eval_rows, labels, seed) -> None:
    """Each C of the grid, fitted on all training rows: for reading beside the chosen one only."""
    from threadpoolctl import threadpool_limits

    texts = [classic_baseline.example_text(ex) for ex in train if ex.label is not None]
    targets = [ex.label for ex in train if ex.label is not None]
    scored = [ex for ex in eval_rows if ex.label is not None]
    for c in classic_baseline.C_GRID:
        start = time.perf_counter()
        with threadpool_limits(limits=1):
            model = classic_baseline._model(c, seed).fit(texts, targets)
            predicted = list(model.predict([classic_baseline.example_text(ex) for ex in scored]))
        seconds = time.perf_counter() - start
        scores = classification_scores([ex.label for ex in scored], predicted, labels)
        print(f"| fixed C={c:g} (not chosen; eval figures for reading) | {scores['macro_f1']:.4f} "
              f"| {scores['accuracy']:.4f} | {seconds:.2f} |")


if __name__ == "__main__":
    main()
