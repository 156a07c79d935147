"""A classic text classifier beside the language model: TF-IDF character n-grams + logistic regression.

Trained on the same training rows and scored on the same eval rows as the fine-tuned model, it
answers "is the LLM worth it?" for classification: it costs seconds on a CPU (most of it choosing C). Character
n-grams (within word boundaries) need no tokenizer, so Chinese, English and mixed text work alike.

The regularisation strength ``C`` is the only setting searched, and only on the training rows
(stratified k-fold cross-validation, macro-F1); the eval rows are never looked at before
predicting. Everything is deterministic given the seed (it shuffles the folds; the solver is not
random).
"""

from __future__ import annotations

import importlib
import time
import warnings
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Sequence

from core.errors import PlugtuneError
from core.types import Example, Prediction

MODEL_NAME = "classic"  # Prediction.model, the column name beside "baseline" and "finetuned"
NGRAMS = (1, 4)  # character n-gram lengths
C_GRID = (1.0, 10.0, 100.0)  # inverse regularisation strengths tried; ties go to the smaller (stronger)
FOLDS = 5  # cross-validation folds on the training rows (fewer when the largest class is smaller)
DEFAULT_C = 10.0  # used when the training rows are too few to cross-validate
MAX_ITER = 1000


@dataclass
class ClassicResult:
    """The classic classifier's predictions on the eval rows and what they cost.

    ``predictions`` has one :class:`Prediction` per eval example, in order (``model="classic"``,
    ``extra={"probability": p}`` for the predicted label); ``seconds`` is the wall time of the
    search, the fit and the prediction; ``description`` says in one line what was trained;
    ``settings`` holds the chosen ``C`` and the cross-validated macro-F1 of each ``C`` tried
    (JSON-serialisable, for results.json).
    """

    predictions: list[Prediction]
    seconds: float
    description: str
    settings: dict[str, Any] = field(default_factory=dict)


def wanted(cfg, train: Sequence[Example]) -> bool:
    """Whether to train the classic baseline for this run (``task.classic_baseline``).

    ``false``: off. ``true``: on, and a one-line :class:`PlugtuneError` when no training row has
    a label. ``null`` (the default): on when the training rows carry labels, i.e. the task is
    classification: a ``seq_cls`` task always has them, and a ``causal_lm`` task on labelled rows
    (``text_label``) generates a label, so is classification too; generation tasks have none.
    """
    setting = getattr(cfg.task, "classic_baseline", None)
    if setting is False:
        return False
    labelled = any(ex.label is not None for ex in train)
    if setting is None:
        return labelled
    if not labelled:
        raise PlugtuneError(
            "task.classic_baseline=true: the training rows have no labels to learn from "
            "(it is for classification data; set task.classic_baseline=false or null)"
        )
    return True


def example_text(example: Example) -> str:
    """The text a classifier reads: the user turns (the ``text`` field of text_label rows)."""
    parts = [m["content"] for m in example.messages if m.get("role") == "user" and m.get("content")]
    if not parts:  # no user turn: whatever is not the answer
        parts = [m["content"] for m in example.messages if m.get("role") != "assistant" and m.get("content")]
    return "\n".join(parts)


def fit_predict(train: list[Example], eval: list[Example], labels: list[str], seed: int) -> ClassicResult:
    """Train on the labelled ``train`` rows (those whose label is in ``labels``, when given), choose
    ``C`` by cross-validation on them, and predict every ``eval`` row (labelled or not)."""
    start = time.perf_counter()
    known = set(labels)
    rows = [(example_text(ex), ex.label) for ex in train if ex.label is not None and (not known or ex.label in known)]
    if not rows:
        raise PlugtuneError("classic baseline: no labelled training rows to learn from")
    texts, targets = [t for t, _ in rows], [y for _, y in rows]
    eval_texts = [example_text(ex) for ex in eval]
    classes = sorted(set(targets))

    if len(classes) == 1:  # nothing to separate: logistic regression refuses one class
        only = classes[0]
        chosen = [(only, 1.0)] * len(eval)
        description = (f"only one class ({only}) in the {len(rows)} training rows: "
                       "it is predicted for every row")
        settings: dict[str, Any] = {"classes": 1}
    else:
        from threadpoolctl import threadpool_limits

        importlib.import_module("sklearn.linear_model")  # loads scipy's BLAS, so the limit below reaches it

        # One BLAS thread: the problem is small, and L-BFGS with several BLAS threads on a busy
        # CPU runs a hundred times slower (100 s instead of 1 s on the shipped intent rows).
        with threadpool_limits(limits=1):
            c, folds, scores = _choose_c(texts, targets, seed)
            model = _model(c, seed).fit(texts, targets)
            chosen = _predict(model, eval_texts)
        search = (f"C={c:g} chosen from {', '.join(f'{x:g}' for x in C_GRID)} by {folds}-fold stratified CV "
                  f"macro-F1 on the {len(rows)} training rows" if folds
                  else f"C={c:g} (too few training rows to cross-validate)")
        description = (f"TF-IDF character {NGRAMS[0]}-{NGRAMS[1]}-grams + logistic regression "
                       f"(scikit-learn), {search}")
        settings = {"C": c, "folds": folds, "cv_macro_f1": scores, "classes": len(classes)}

    predictions = [
        Prediction(model=MODEL_NAME, input=text, reference=ex.label, prediction=label,
                   extra={"probability": round(p, 4)})
        for ex, text, (label, p) in zip(eval, eval_texts, chosen)
    ]
    return ClassicResult(predictions, time.perf_counter() - start, description, settings)


def _model(c: float, seed: int):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    return make_pipeline(
        # char_wb: n-grams inside word boundaries (padded with spaces); Chinese runs count as words.
        TfidfVectorizer(analyzer="char_wb", ngram_range=NGRAMS, sublinear_tf=True),
        LogisticRegression(C=c, max_iter=MAX_ITER, random_state=seed),
    )


def _predict(model, texts: list[str]) -> list[tuple[str, float]]:
    if not texts:
        return []
    probs = model.predict_proba(texts)
    classes = model.classes_
    return [(str(classes[row.argmax()]), float(row.max())) for row in probs]


def _choose_c(texts: list[str], targets: list[str], seed: int) -> tuple[float, int, dict[str, float]]:
    """The ``C`` with the best mean macro-F1 over stratified folds of the training rows, the number
    of folds (0: too few rows, ``DEFAULT_C``) and each ``C``'s score.

    A class with fewer rows than folds is spread over the folds it can fill; a fold whose
    training part holds a single class cannot be fitted and is left out.
    """
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score
    from sklearn.model_selection import StratifiedKFold

    folds = min(FOLDS, max(Counter(targets).values()))
    if folds < 2:
        return DEFAULT_C, 0, {}
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    totals = {c: [] for c in C_GRID}
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The least populated class", category=UserWarning)
        splits = list(splitter.split(texts, targets))
    for fit_rows, held_rows in splits:
        fit_y = [targets[i] for i in fit_rows]
        if len(set(fit_y)) < 2:
            continue
        # The vectoriser is fitted on the fold's training part only, once for every C.
        vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=NGRAMS, sublinear_tf=True)
        fit_x = vectorizer.fit_transform([texts[i] for i in fit_rows])
        held_x = vectorizer.transform([texts[i] for i in held_rows])
        held_y = [targets[i] for i in held_rows]
        # Along the grid each fit starts from the previous C's weights: about half the iterations.
        model = LogisticRegression(max_iter=MAX_ITER, random_state=seed, warm_start=True)
        for c in C_GRID:
            model.set_params(C=c).fit(fit_x, fit_y)
            totals[c].append(f1_score(held_y, model.predict(held_x), average="macro", zero_division=0))
    scores = {f"{c:g}": sum(v) / len(v) for c, v in totals.items() if v}
    if not scores:
        return DEFAULT_C, 0, {}
    best = max(C_GRID, key=lambda c: (round(scores[f"{c:g}"], 12), -c))
    return best, folds, {k: round(v, 4) for k, v in scores.items()}
