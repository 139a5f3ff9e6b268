"""The statistics of one column in one group of rows, and the distances between two groups.

Profile statistics are plain numpy; drift statistics are scipy's: ``ks_test`` is ``scipy.stats.ks_2samp`` (exact p-value for
small samples, asymptotic once ``n1 * n2`` exceeds :data:`KS_EXACT_LIMIT`),
``wasserstein_distance`` is ``scipy.stats.wasserstein_distance``'s formula, ``chi_squared_test`` is
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


def categorical_profile(codes: np.ndarray, labels: list[str], lengths: np.ndarray | None,
                        rows: int) -> dict[str, Any]:
    """Strings and booleans, factorized (``codes`` index ``labels``, -1 = null): distinct
    values, frequent items and, for strings, lengths (``lengths``: NaN for nulls)."""
    counts = frequencies(codes, labels)
    nulls = int(np.count_nonzero(codes < 0))
    frequent = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:FREQUENT_ITEMS]
    out: dict[str, Any] = {"count": rows, "num_nulls": nulls, "distinct_count": len(counts),
                           "frequent_items": [{"item": k, "count": c} for k, c in frequent],
                           "percent_null": _pct(nulls, rows), "percent_distinct": _pct(len(counts), rows)}
    if lengths is not None and len(lengths) and not np.isnan(lengths).all():
        present = lengths[~np.isnan(lengths)]
        out.update(min_length=float(present.min()), max_length=float(present.max()), avg_length=_f(present.mean()))
    return out


def frequencies(codes: np.ndarray, labels: list[str]) -> dict[str, int]:
    """item -> count of a factorized column (nulls left out)."""
    counts = np.bincount(codes[codes >= 0], minlength=len(labels))
    return {labels[i]: int(c) for i, c in enumerate(counts) if c}


# -- drift ---------------------------------------------------------------------------------

def _test(statistic: Any, pvalue: Any) -> dict[str, float | None]:
    return {"statistic": _f(statistic), "pvalue": _f(pvalue)}


def numeric_drift(a: np.ndarray, b: np.ndarray) -> dict[str, Any]:
    """``ks_test``, ``wasserstein_distance`` and ``population_stability_index`` of two sorted
    samples. The two empirical CDFs are evaluated once and shared: the KS statistic is their
    largest gap and the Wasserstein distance the area between them, as scipy computes them;
    the p-value is scipy's (``ks_2samp`` itself while ``n1 * n2 <= KS_EXACT_LIMIT``, where
    it may use the exact distribution, else its asymptotic ``kstwo.sf(d, round(n1 n2 / (n1 + n2)))``)."""
    from scipy import stats as st

    if not len(a) or not len(b):
        return {}
    values = np.sort(np.concatenate([a, b]), kind="mergesort")
    gap = np.abs(np.searchsorted(a, values, side="right") / len(a)
                 - np.searchsorted(b, values, side="right") / len(b))
    d = float(gap.max())
    if len(a) * len(b) <= KS_EXACT_LIMIT:
        with warnings.catch_warnings():  # scipy falls back to asymp by itself when exact fails
            warnings.simplefilter("ignore", RuntimeWarning)
            res = st.ks_2samp(a, b)
        ks = _test(res.statistic, res.pvalue)
    else:
        m, n = sorted([float(len(a)), float(len(b))], reverse=True)
        ks = _test(d, st.kstwo.sf(d, np.round(m * n / (m + n))))
    return {"ks_test": ks, "wasserstein_distance": _f(np.sum(gap[:-1] * np.diff(values))),
            "population_stability_index": psi(a, b)}


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


# -- model quality -------------------------------------------------------------------------

def classification_quality(pred: np.ndarray, label: np.ndarray) -> dict[str, Any]:
    """accuracy, per-class (one-vs-all) / macro / weighted precision, recall and F1, and the
    confusion matrix, over rows with both a prediction and a label ("" = null)."""
    ok = (pred != "") & (label != "")
    p, t = pred[ok].astype(str), label[ok].astype(str)
    n = len(p)
    if not n:
        return {}
    classes, inverse = np.unique(np.concatenate([p, t]), return_inverse=True)
    k = len(classes)
    cm = np.bincount(inverse[n:] * k + inverse[:n], minlength=k * k).reshape(k, k)  # [label, prediction]
    tp = np.diag(cm).astype(float)
    predicted, support = cm.sum(axis=0), cm.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(predicted > 0, tp / predicted, 0.0)
        recall = np.where(support > 0, tp / support, 0.0)
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    labelled = support > 0

    def summary(values: np.ndarray) -> dict[str, Any]:
        return {"one_vs_all": {str(c): float(v) for c, v in zip(classes, values)},
                "macro": _f(values[labelled].mean()) if labelled.any() else None,
                "weighted": _f(np.sum(values * support) / n)}

    matrix = [{"prediction": str(classes[j]), "label": str(classes[i]), "count": int(cm[i, j])}
              for j in range(k) for i in range(k) if cm[i, j]]
    return {"accuracy_score": float(tp.sum() / n), "precision": summary(precision), "recall": summary(recall),
            "f1_score": summary(f1), "confusion_matrix": matrix}


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
