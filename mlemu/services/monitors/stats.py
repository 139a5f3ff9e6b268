"""The statistics of one column in one group of rows, and the distances between two groups.

Profile statistics are plain numpy; drift statistics are scipy's: ``ks_test`` is ``scipy.stats.ks_2samp`` (exact p-value for
small samples, asymptotic once ``n1 * n2`` exceeds :data:`KS_EXACT_LIMIT`),
``wasserstein_distance`` is ``scipy.stats.wasserstein_distance``, ``chi_squared_test`` is
``scipy.stats.chi2_contingency`` over the two count vectors, ``js_distance`` is
``scipy.spatial.distance.jensenshannon`` (base 2). PSI bins the comparison sample into
:data:`PSI_BINS` equal-frequency bins [emu: Databricks' binning is unpublished].
"""
from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

#: Quantiles reported in ``quantiles``: 0, 0.01, ..., 1 [emu: Databricks' set is unpublished].
QUANTILES = np.linspace(0.0, 1.0, 101)
FREQUENT_ITEMS = 10
KS_EXACT_LIMIT = 1_000_000
PSI_BINS = 10
PSI_EPSILON = 1e-4


def _f(x: Any) -> float | None:
    """A finite float, or None (what a metric table stores for "not defined")."""
    if x is None:
        return None
    x = float(x)
    return None if math.isnan(x) or math.isinf(x) else x


def _pct(part: float, whole: float) -> float | None:
    return 100.0 * part / whole if whole else None


def numeric_profile(values: np.ndarray, rows: int) -> dict[str, Any]:
    """``values`` is the column as float64 with NaN for nulls; ``rows`` the group's row count."""
    present = values[~np.isnan(values)]
    nulls = rows - len(present)
    n = len(present)
    out: dict[str, Any] = {"count": rows, "num_nulls": nulls, "num_nan": 0}
    if n:
        distinct = len(np.unique(present))
        zeros = int(np.count_nonzero(present == 0))
        qs = np.quantile(present, QUANTILES)
        out.update(avg=_f(present.mean()), min=_f(present.min()), max=_f(present.max()),
                   stddev=_f(present.std(ddof=1)) if n > 1 else None, median=_f(np.median(present)),
                   quantiles=[float(q) for q in qs], num_zeros=zeros, distinct_count=distinct,
                   percent_zeros=_pct(zeros, rows), percent_distinct=_pct(distinct, rows))
    else:
        out.update(num_zeros=0, distinct_count=0, percent_zeros=0.0 if rows else None,
                   percent_distinct=0.0 if rows else None)
    out.update(percent_null=_pct(nulls, rows), percent_nan=0.0 if rows else None)
    return out


def categorical_profile(values: list[Any], rows: int) -> dict[str, Any]:
    """Strings and booleans: distinct values, frequent items and (strings) lengths."""
    present = [v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    nulls = rows - len(present)
    items = [str(v).lower() if isinstance(v, (bool, np.bool_)) else str(v) for v in present]
    counts: dict[str, int] = {}
    for item in items:
        counts[item] = counts.get(item, 0) + 1
    frequent = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:FREQUENT_ITEMS]
    out: dict[str, Any] = {"count": rows, "num_nulls": nulls, "distinct_count": len(counts),
                           "frequent_items": [{"item": k, "count": c} for k, c in frequent],
                           "percent_null": _pct(nulls, rows), "percent_distinct": _pct(len(counts), rows)}
    if items and all(isinstance(v, str) for v in present):
        lengths = np.array([len(s) for s in items])
        out.update(min_length=int(lengths.min()), max_length=int(lengths.max()),
                   avg_length=_f(lengths.mean()))
    return out


# -- drift ---------------------------------------------------------------------------------

def _test(statistic: Any, pvalue: Any) -> dict[str, float | None]:
    return {"statistic": _f(statistic), "pvalue": _f(pvalue)}


def ks_test(a: np.ndarray, b: np.ndarray) -> dict[str, float | None] | None:
    from scipy import stats

    if not len(a) or not len(b):
        return None
    method = "auto" if len(a) * len(b) <= KS_EXACT_LIMIT else "asymp"
    with warnings.catch_warnings():  # scipy falls back to asymp by itself when exact fails
        warnings.simplefilter("ignore", RuntimeWarning)
        res = stats.ks_2samp(a, b, method=method)
    return _test(res.statistic, res.pvalue)


def wasserstein(a: np.ndarray, b: np.ndarray) -> float | None:
    from scipy import stats

    return _f(stats.wasserstein_distance(a, b)) if len(a) and len(b) else None


def psi(current: np.ndarray, reference: np.ndarray) -> float | None:
    """Population stability index of ``current`` against ``reference``'s deciles."""
    if not len(current) or not len(reference):
        return None
    edges = np.unique(np.quantile(reference, np.linspace(0, 1, PSI_BINS + 1))[1:-1])
    p = np.bincount(np.searchsorted(edges, current, side="right"), minlength=len(edges) + 1) / len(current)
    q = np.bincount(np.searchsorted(edges, reference, side="right"), minlength=len(edges) + 1) / len(reference)
    p, q = np.maximum(p, PSI_EPSILON), np.maximum(q, PSI_EPSILON)
    return _f(np.sum((p - q) * np.log(p / q)))


def categorical_drift(current: dict[str, int], reference: dict[str, int]) -> dict[str, Any]:
    """Distances between two frequency tables (item -> count)."""
    from scipy import stats
    from scipy.spatial import distance

    keys = sorted(set(current) | set(reference))
    a = np.array([current.get(k, 0) for k in keys], dtype=float)
    b = np.array([reference.get(k, 0) for k in keys], dtype=float)
    if not a.sum() or not b.sum():
        return {}
    p, q = a / a.sum(), b / b.sum()
    out: dict[str, Any] = {"tv_distance": _f(0.5 * np.abs(p - q).sum()),
                           "l_infinity_distance": _f(np.abs(p - q).max()),
                           "js_distance": _f(distance.jensenshannon(p, q, base=2))}
    if len(keys) > 1:
        res = stats.chi2_contingency(np.vstack([a, b]))
        out["chi_squared_test"] = _test(res.statistic, res.pvalue)
    else:
        out["chi_squared_test"] = _test(0.0, 1.0)
    return out


def counts_of(values: list[Any]) -> dict[str, int]:
    out: dict[str, int] = {}
    for v in values:
        if v is None or (isinstance(v, float) and math.isnan(v)):
            continue
        k = str(v).lower() if isinstance(v, (bool, np.bool_)) else str(v)
        out[k] = out.get(k, 0) + 1
    return out


# -- model quality -------------------------------------------------------------------------

def classification_quality(pred: list[Any], label: list[Any]) -> dict[str, Any]:
    """accuracy, per-class (one-vs-all) / macro / weighted precision, recall and F1, and the
    confusion matrix, over rows with both a prediction and a label."""
    pairs = [(str(p), str(t)) for p, t in zip(pred, label) if p is not None and t is not None]
    if not pairs:
        return {}
    classes = sorted({c for pair in pairs for c in pair})
    n = len(pairs)
    support = {c: sum(1 for _, t in pairs if t == c) for c in classes}
    per: dict[str, dict[str, float]] = {}
    for c in classes:
        tp = sum(1 for p, t in pairs if p == c and t == c)
        fp = sum(1 for p, t in pairs if p == c and t != c)
        fn = sum(1 for p, t in pairs if p != c and t == c)
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        per[c] = {"precision": prec, "recall": rec,
                  "f1_score": 2 * prec * rec / (prec + rec) if prec + rec else 0.0}
    labelled = [c for c in classes if support[c]]

    def summary(metric: str) -> dict[str, Any]:
        return {"one_vs_all": {c: per[c][metric] for c in classes},
                "macro": _f(np.mean([per[c][metric] for c in labelled])) if labelled else None,
                "weighted": _f(sum(per[c][metric] * support[c] for c in classes) / n)}

    matrix: dict[tuple[str, str], int] = {}
    for pair in pairs:
        matrix[pair] = matrix.get(pair, 0) + 1
    return {"accuracy_score": sum(1 for p, t in pairs if p == t) / n,
            "precision": summary("precision"), "recall": summary("recall"), "f1_score": summary("f1_score"),
            "confusion_matrix": [{"prediction": p, "label": t, "count": c} for (p, t), c in sorted(matrix.items())]}


def regression_quality(pred: np.ndarray, label: np.ndarray) -> dict[str, Any]:
    ok = ~np.isnan(pred) & ~np.isnan(label)
    p, t = pred[ok], label[ok]
    if not len(p):
        return {}
    err = p - t
    mse = float(np.mean(err ** 2))
    ss_tot = float(np.sum((t - t.mean()) ** 2))
    nonzero = t != 0
    return {"mean_squared_error": mse, "root_mean_squared_error": math.sqrt(mse),
            "mean_average_error": float(np.mean(np.abs(err))),
            "mean_absolute_percentage_error": _f(np.mean(np.abs(err[nonzero] / t[nonzero]))) if nonzero.any() else None,
            "r2_score": 1 - float(np.sum(err ** 2)) / ss_tot if ss_tot else None}
