"""How sure a comparison is: bootstrap intervals and paired tests on the run's main metric.

The eval set is one sample of the rows a model will meet; a score on 200 rows moves by several
points from one such sample to the next. :func:`compute` resamples the scored eval rows with
replacement (``resamples`` times, drawn with the run's seed) and recomputes the main metric for
every model on each resample. The percentile interval at ``level`` is the middle ``level`` share
of those values. For each gain (``finetuned`` minus ``baseline``, and minus ``classic`` when a
classic baseline ran) both models are resampled on the SAME row indices, so the interval of the
gain reflects the paired design (the rows both models find hard are drawn together).

A model's interval on a right-or-wrong metric (every per-row score 0 or 1: accuracy, exact match)
is the Wilson score interval of its rate instead. The percentile bootstrap collapses there when
every row came out the same: 6 of 6 right reads [1.000, 1.000], as if six rows proved a perfect
model; Wilson's reads [0.610, 1.000]. A gain on such a metric gets Newcombe's square-and-add
interval for paired rates (:func:`paired_rate_difference_interval`), built from the two models'
Wilson intervals and the correlation of their rows. On few rows the bootstrap reaches the
impossible-looking end: a base model right on 0 of 10 rows and a tuned one on 7 gives a gain of
[+0.400, +1.000] (every resample's tuned rate can be 10 of 10); Newcombe's reads [+0.289, +0.892].

Paired test per gain:

- ``mcnemar`` when the metric is accuracy-like (every per-row score of both models is 0 or 1):
  the exact McNemar test, i.e. a two-sided exact binomial test (p = 0.5) on the discordant rows
  (one model right, the other wrong): ``p = min(1, 2 * P(X <= min(b, c)))`` with
  ``X ~ Binomial(b + c, 1/2)``. Exact, not mid-p: it equals ``scipy.stats.binomtest``'s
  two-sided p-value and never understates it. Rows both models get right or wrong carry no
  information about which is better and do not enter.
- ``paired_bootstrap`` otherwise (macro-F1, char_f1, ROUGE-L): the two-sided p-value read off
  the same resampled gains, ``p = min(1, 2 * (1 + #{gain* on the far side of 0}) / (1 + R))``
  where "far side" is the tail opposite the observed gain (ties at 0 count against the gain).
  It is the inversion of the percentile interval: p < 1 - level roughly when the gain's
  interval leaves out 0. With R resamples it cannot go below ``2 / (1 + R)``.

Evaluators make the resampling fast through two optional methods (see CONTRIBUTING.md):

``row_scores(predictions, ctx) -> dict[str, list[float]]``
    For metrics that are the plain mean of per-row scores (accuracy, exact match, char F1,
    ROUGE-L, tool-call exact match): one score per row ``evaluate`` scores, in order, with
    ``sum(scores) / len(scores)`` equal to ``evaluate``'s value. A row ``evaluate`` skips must
    be skipped on the same grounds for every model (its reference), so rows stay paired.
``resampled(predictions, ctx, indices) -> dict[str, numpy.ndarray]``
    For other metrics (macro-F1): the metric on each row of ``indices`` (shape
    ``(resamples, rows)``, row indices into ``predictions``), computed at once with numpy.

An evaluator with neither is called through ``evaluate`` on each resample, capped at
:data:`MAX_EVALUATE_RESAMPLES` resamples (logged, and recorded in the result's ``resamples``).
"""

from __future__ import annotations

import logging
import math
import time
from statistics import NormalDist
from typing import Any

import numpy as np

log = logging.getLogger("plugtune")

METHOD = "percentile bootstrap"
WILSON = "Wilson score"
NEWCOMBE = "Newcombe paired score"
# Models in the order tables show them; any other name follows, sorted.
MODEL_ORDER = ("baseline", "classic", "finetuned")
# Gains reported, as (better, worse): each present pair gives "<better>_vs_<worse>".
GAIN_PAIRS = (("finetuned", "baseline"), ("finetuned", "classic"))
# Calling evaluate() once per resample costs a full evaluation each; this bounds the wait.
MAX_EVALUATE_RESAMPLES = 200
# Resamples handled per numpy batch, so the (batch, rows) count matrix stays a few MB on big sets.
BATCH_CELLS = 2_000_000


# ---------------------------------------------------------------------------------------------
# Resampling


def resample_indices(rows: int, resamples: int, seed: int):
    """Yield ``(resamples_in_batch, rows)`` int arrays of row indices drawn with replacement.

    Deterministic for a given ``(rows, resamples, seed)``: the batch size depends on ``rows``
    alone and the draws come from one generator in order.
    """
    rng = np.random.default_rng(seed)
    batch = max(1, BATCH_CELLS // max(rows, 1))
    done = 0
    while done < resamples:
        size = min(batch, resamples - done)
        yield rng.integers(0, rows, size=(size, rows))
        done += size


def row_counts(indices: np.ndarray, rows: int) -> np.ndarray:
    """How often each row is drawn in each resample: ``(resamples, rows)`` float counts."""
    size = indices.shape[0]
    flat = (indices + np.arange(size)[:, None] * rows).ravel()
    return np.bincount(flat, minlength=size * rows).reshape(size, rows).astype(np.float64)


# ---------------------------------------------------------------------------------------------
# Paired tests


def mcnemar_p(better_only: int, worse_only: int) -> float:
    """Exact two-sided McNemar p-value from the discordant counts (binomial test, p = 1/2)."""
    total = better_only + worse_only
    if total == 0:
        return 1.0
    low = min(better_only, worse_only)
    # Integer arithmetic throughout: exact however many discordant rows there are.
    tail = sum(math.comb(total, i) for i in range(low + 1))
    return min(1.0, 2 * tail / 2**total)


def bootstrap_p(gains: np.ndarray, observed: float) -> float:
    """Two-sided paired-bootstrap p-value: twice the share of resampled gains on the far side of 0."""
    far = np.count_nonzero(gains <= 0) if observed >= 0 else np.count_nonzero(gains >= 0)
    if observed == 0:  # no direction observed: the larger tail is the honest one
        far = max(np.count_nonzero(gains <= 0), np.count_nonzero(gains >= 0))
    return float(min(1.0, 2 * (1 + far) / (1 + gains.size)))


# ---------------------------------------------------------------------------------------------
# Finding the metric


def _row_score_source(evaluators: dict, predictions: dict, metric: str, ctx):
    """Per-row scores of ``metric`` for every model, from the first evaluator that gives them."""
    first = next(iter(predictions.values()))
    for evaluator in evaluators.values():
        row_scores = getattr(evaluator, "row_scores", None)
        # One row tells which metrics an evaluator scores per row; the whole set only for the right one.
        if row_scores is None or metric not in row_scores(first[:1], ctx):
            continue
        per_model = {name: row_scores(preds, ctx) for name, preds in predictions.items()}
        if all(metric in scores for scores in per_model.values()):
            return {name: [float(s) for s in scores[metric]] for name, scores in per_model.items()}
    return None


def _evaluator_with(evaluators: dict, predictions: dict, metric: str, ctx, method: str):
    """The first evaluator having ``method`` whose full-sample result reports ``metric``, and
    each model's full-sample value from it."""
    for evaluator in evaluators.values():
        if method == "resampled":
            resampled = getattr(evaluator, "resampled", None)
            if resampled is None:
                continue
            values = {}
            for name, preds in predictions.items():
                full = resampled(preds, ctx, np.arange(len(preds))[None, :])
                if metric not in full:
                    break
                values[name] = float(full[metric][0])
            else:
                return evaluator, values
        else:
            values = {}
            for name, preds in predictions.items():
                reported = evaluator.evaluate(preds, ctx).metrics
                if metric not in reported:
                    break
                values[name] = float(reported[metric])
            else:
                return evaluator, values
    return None, None


# ---------------------------------------------------------------------------------------------
# The computation


def _ordered(names) -> list[str]:
    return [n for n in MODEL_ORDER if n in names] + sorted(n for n in names if n not in MODEL_ORDER)


def wilson_interval(right: float, rows: int, level: float) -> tuple[float, float]:
    """The Wilson score interval of a rate of ``right`` out of ``rows`` at ``level``."""
    z = NormalDist().inv_cdf((1 + level) / 2)
    rate = right / rows
    centre = (rate + z * z / (2 * rows)) / (1 + z * z / rows)
    half = z / (1 + z * z / rows) * math.sqrt(rate * (1 - rate) / rows + z * z / (4 * rows * rows))
    # At a rate of 0 or 1 the bound is exactly 0 or 1; the float arithmetic can leave 3e-17.
    low = 0.0 if right == 0 else max(0.0, centre - half)
    high = 1.0 if right == rows else min(1.0, centre + half)
    return low, high


def paired_rate_difference_interval(both: int, better_only: int, worse_only: int, neither: int,
                                    level: float) -> tuple[float, float]:
    """Newcombe's square-and-add interval (1998, his method 10) for the difference of two rates
    measured on the same rows: ``better`` right on ``both + better_only`` rows, ``worse`` right on
    ``both + worse_only``. Each rate's Wilson interval gives the distance to its bounds; the two
    distances add in quadrature, less twice the rows' correlation (phi of the 2x2 table, its
    positive part reduced by half the rows, as in the method's published form)."""
    rows = both + better_only + worse_only + neither
    better_right, worse_right = both + better_only, both + worse_only
    p1, p2 = better_right / rows, worse_right / rows
    l1, u1 = wilson_interval(better_right, rows, level)
    l2, u2 = wilson_interval(worse_right, rows, level)
    margins = better_right * (rows - better_right) * worse_right * (rows - worse_right)
    phi = 0.0
    if margins:
        cross = both * neither - better_only * worse_only
        if cross > rows / 2:
            phi = (cross - rows / 2) / math.sqrt(margins)
        elif cross < 0:
            phi = cross / math.sqrt(margins)
    difference = p1 - p2
    below = math.sqrt(max(0.0, (p1 - l1) ** 2 + (u2 - p2) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2)))
    above = math.sqrt(max(0.0, (p2 - l2) ** 2 + (u1 - p1) ** 2 - 2 * phi * (p2 - l2) * (u1 - p1)))
    return max(-1.0, difference - below), min(1.0, difference + above)


def _interval(samples: np.ndarray, level: float) -> tuple[float, float]:
    tail = (1 - level) / 2
    # nan-aware: a resample on which a generic evaluator could not report the metric is left out.
    low, high = np.nanquantile(samples, [tail, 1 - tail])
    return float(low), float(high)


def compute(predictions: dict[str, list], evaluators: dict[str, object], metric: str, ctx,
            level: float, resamples: int, seed: int) -> dict | None:
    """Bootstrap intervals of ``metric`` per model and per gain, with a paired test per gain.

    ``predictions`` maps model name ("baseline", "finetuned", optionally "classic") to its
    predictions on the scored eval rows, the same rows in the same order for every model.
    Returns the JSON-serialisable ``results.json["confidence"]`` dict, or None when fewer than
    two rows are scored or no evaluator reports ``metric``. Raises ValueError when the models'
    row counts differ (their rows could not be paired).
    """
    started = time.perf_counter()
    predictions = {name: list(preds) for name, preds in predictions.items() if preds is not None}
    names = _ordered(predictions)
    if not names:
        return None
    lengths = {name: len(predictions[name]) for name in names}
    if len(set(lengths.values())) != 1:
        raise ValueError(f"confidence: models scored different numbers of rows, cannot pair them: {lengths}")
    if lengths[names[0]] < 2:
        return None

    samples: dict[str, np.ndarray] = {}
    values: dict[str, float] = {}
    binary = False
    scores = _row_score_source(evaluators, predictions, metric, ctx)
    if scores is not None:
        path = "row scores"
        rows = len(scores[names[0]])
        if rows < 2 or any(len(scores[n]) != rows for n in names):
            if rows >= 2:
                raise ValueError(f"confidence: per-row scores of {metric} differ in length between models")
            return None
        matrix = np.array([scores[n] for n in names], dtype=np.float64).T  # (rows, models)
        values = {n: sum(scores[n]) / rows for n in names}  # as evaluate() sums: same float
        binary = bool(np.isin(matrix, (0.0, 1.0)).all())
        batches = [row_counts(idx, rows) @ matrix / rows for idx in resample_indices(rows, resamples, seed)]
        stacked = np.concatenate(batches)
        samples = {n: stacked[:, i] for i, n in enumerate(names)}
        used = resamples
    else:
        rows = lengths[names[0]]
        evaluator, values = _evaluator_with(evaluators, predictions, metric, ctx, "resampled")
        if evaluator is not None:
            path = "vectorised"
            parts: dict[str, list] = {n: [] for n in names}
            for idx in resample_indices(rows, resamples, seed):
                for n in names:
                    parts[n].append(np.asarray(evaluator.resampled(predictions[n], ctx, idx)[metric], dtype=np.float64))
            samples = {n: np.concatenate(parts[n]) for n in names}
            used = resamples
        else:
            evaluator, values = _evaluator_with(evaluators, predictions, metric, ctx, "evaluate")
            if evaluator is None:
                return None
            path = "evaluate per resample"
            used = min(resamples, MAX_EVALUATE_RESAMPLES)
            if used < resamples:
                log.info("confidence: %s has no fast path; %d resamples instead of %d",
                         metric, used, resamples)
            draws = np.concatenate(list(resample_indices(rows, used, seed)))
            samples = {
                n: np.array([evaluator.evaluate([predictions[n][i] for i in idx], ctx).metrics.get(metric, math.nan)
                             for idx in draws], dtype=np.float64)
                for n in names
            }

    models = {}
    for n in names:
        if binary:
            low, high = wilson_interval(float(matrix[:, names.index(n)].sum()), rows, level)
        else:
            low, high = _interval(samples[n], level)
        models[n] = {"value": values[n], "low": low, "high": high}
    gains = {}
    for better, worse in GAIN_PAIRS:
        if better not in samples or worse not in samples:
            continue
        diff = samples[better] - samples[worse]
        value = values[better] - values[worse]
        gain: dict[str, Any] = {"value": value}
        if binary:
            right_b, right_w = matrix[:, names.index(better)] == 1, matrix[:, names.index(worse)] == 1
            both, neither = int(np.count_nonzero(right_b & right_w)), int(np.count_nonzero(~right_b & ~right_w))
            better_only, worse_only = int(np.count_nonzero(right_b & ~right_w)), int(np.count_nonzero(~right_b & right_w))
            gain["low"], gain["high"] = paired_rate_difference_interval(both, better_only, worse_only, neither, level)
            gain.update(test="mcnemar", p_value=mcnemar_p(better_only, worse_only),
                        discordant={f"{better}_only": better_only, f"{worse}_only": worse_only})
        else:
            gain["low"], gain["high"] = _interval(diff, level)
            gain.update(test="paired_bootstrap", p_value=bootstrap_p(diff, value))
        gains[f"{better}_vs_{worse}"] = gain
    return {
        "metric": metric, "level": float(level), "resamples": int(used), "seed": int(seed), "rows": int(rows),
        "method": METHOD, "model_interval": WILSON if binary else METHOD, "gain_interval": NEWCOMBE if binary else METHOD,
        "path": path, "models": models,
        "gains": gains,
        "seconds": round(time.perf_counter() - started, 3),
    }


# ---------------------------------------------------------------------------------------------
# Presentation


def _pct(level: float) -> str:
    return f"{level * 100:g}%"


def format_p(gain: dict, resamples: int) -> str:
    """``p < 0.001``, ``p = 0.042``; a bootstrap p at its floor reads ``p <= floor``."""
    p = gain["p_value"]
    if gain["test"] == "paired_bootstrap" and p <= 2 / (1 + resamples) + 1e-12:
        return f"p <= {p:.3f}"
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


TEST_NAMES = {"mcnemar": "McNemar", "paired_bootstrap": "paired bootstrap"}


def _gain_label(key: str) -> str:
    return key.replace("_vs_", " vs ")


def console_lines(conf: dict | None) -> list[str]:
    """A few plain lines for the terminal summary (empty when there is no confidence result)."""
    if not conf:
        return []
    models = ", ".join(
        f"{n} {m['value']:.3f} [{m['low']:.3f}, {m['high']:.3f}]" for n, m in conf["models"].items()
    )
    gains = f"{conf['resamples']} resamples" if _gain_interval(conf) == conf["method"] else _gain_interval(conf)
    how = (gains if _model_interval(conf) == conf["method"]
           else f"each model's: {_model_interval(conf)}; the gains': {gains}")
    lines = [f"{conf['metric']} {_pct(conf['level'])} interval ({conf['rows']} rows, {how}): {models}"]
    for key, g in conf["gains"].items():
        lines.append(f"  gain {_gain_label(key)} {g['value']:+.3f} [{g['low']:+.3f}, {g['high']:+.3f}], "
                     f"{TEST_NAMES.get(g['test'], g['test'])} {format_p(g, conf['resamples'])}")
    return lines


def _model_interval(conf: dict) -> str:
    """The interval each model's own score got."""
    return conf.get("model_interval", conf["method"])  # results.json files from before the key: one method


def _gain_interval(conf: dict) -> str:
    """The interval the gains got."""
    return conf.get("gain_interval", conf["method"])  # results.json files from before the key: the bootstrap


def _intervals_used(conf: dict) -> str:
    """Which intervals report.md's Confidence section shows, in words."""
    drawn = (f"{conf['method']} intervals from {conf['resamples']} resamples of the {conf['rows']} scored eval rows "
             f"(seed {conf['seed']})")
    if _model_interval(conf) == conf["method"]:
        return drawn
    models = f"intervals: each model's is the {_model_interval(conf)} interval of its rate of right rows"
    if _gain_interval(conf) == conf["method"]:
        return f"{models}; the gains' are {drawn}"
    return (f"{models} ({conf['rows']} scored eval rows); the gains' are {_gain_interval(conf)} intervals "
            "(Newcombe's square-and-add for two rates on the same rows)")


def markdown_lines(conf: dict | None) -> list[str]:
    """report.md's ``## Confidence`` section (empty when there is no confidence result)."""
    if not conf:
        return []
    pct = _pct(conf["level"])
    lines = [
        "## Confidence",
        "",
        f"`{conf['metric']}` with {pct} {_intervals_used(conf)}. The interval is the range the score would "
        f"plausibly take on another eval set drawn like this one; a gain whose interval includes 0 is not "
        f"shown to be real.",
        "",
        f"| model | {conf['metric']} | {pct} interval |",
        "|---|---:|---|",
    ]
    for n, m in conf["models"].items():
        lines.append(f"| {n} | {m['value']:.4f} | [{m['low']:.4f}, {m['high']:.4f}] |")
    if conf["gains"]:
        lines += ["", f"| gain | value | {pct} interval | test | p |", "|---|---:|---|---|---|"]
        for key, g in conf["gains"].items():
            lines.append(f"| {_gain_label(key)} | {g['value']:+.4f} | [{g['low']:+.4f}, {g['high']:+.4f}] | "
                         f"{TEST_NAMES.get(g['test'], g['test'])} | {format_p(g, conf['resamples'])} |")
    return lines
