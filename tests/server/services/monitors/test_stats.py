"""The metric functions against scipy and scikit-learn on the same data (the paths the small
end-to-end tables do not reach: large samples, regression quality)."""
from __future__ import annotations

import pytest

np = pytest.importorskip("numpy")
scipy_stats = pytest.importorskip("scipy.stats")

from mlemu.server.services.monitors import stats  # noqa: E402


def test_numeric_drift_large_samples_match_scipy():
    rng = np.random.default_rng(1)
    a, b = np.sort(rng.normal(0.1, 1, 3000)), np.sort(rng.normal(0, 1.2, 2500))
    out = stats.numeric_drift(a, b)
    ks = scipy_stats.ks_2samp(a, b, method="asymp")  # n1 * n2 > KS_EXACT_LIMIT: asymptotic
    assert out["ks_test"]["statistic"] == pytest.approx(ks.statistic)
    assert out["ks_test"]["pvalue"] == pytest.approx(ks.pvalue)
    assert out["wasserstein_distance"] == pytest.approx(scipy_stats.wasserstein_distance(a, b))
    same = stats.numeric_drift(a, a)
    assert same["population_stability_index"] == pytest.approx(0.0)
    assert same["ks_test"]["statistic"] == 0.0


def test_numeric_drift_small_samples_use_scipy_exact():
    a, b = np.sort(np.array([1.0, 2, 3, 4, 5])), np.sort(np.array([2.5, 3.5, 9.0]))
    ks = scipy_stats.ks_2samp(a, b)
    out = stats.numeric_drift(a, b)
    assert (out["ks_test"]["statistic"], out["ks_test"]["pvalue"]) == pytest.approx((ks.statistic, ks.pvalue))


def test_classification_quality_matches_sklearn():
    from sklearn import metrics

    rng = np.random.default_rng(2)
    y = rng.choice(["a", "b", "c"], 500)
    p = np.where(rng.random(500) < 0.7, y, rng.choice(["a", "b", "c"], 500))
    out = stats.classification_quality(p.astype(object), y.astype(object))
    assert out["accuracy_score"] == pytest.approx(metrics.accuracy_score(y, p))
    for avg in ("macro", "weighted"):
        assert out["precision"][avg] == pytest.approx(metrics.precision_score(y, p, average=avg))
        assert out["recall"][avg] == pytest.approx(metrics.recall_score(y, p, average=avg))
        assert out["f1_score"][avg] == pytest.approx(metrics.f1_score(y, p, average=avg))
    per_class = metrics.f1_score(y, p, average=None, labels=["a", "b", "c"])
    assert [out["f1_score"]["one_vs_all"][c] for c in "abc"] == pytest.approx(list(per_class))
    cm = metrics.confusion_matrix(y, p, labels=["a", "b", "c"])
    got = {(c["label"], c["prediction"]): c["count"] for c in out["confusion_matrix"]}
    assert got == {(li, pj): int(cm[i, j]) for i, li in enumerate("abc") for j, pj in enumerate("abc") if cm[i, j]}


def test_regression_quality_matches_sklearn():
    from sklearn import metrics

    rng = np.random.default_rng(3)
    y = rng.normal(5, 2, 300)
    p = y + rng.normal(0, 0.5, 300)
    out = stats.regression_quality(p, y)
    assert out["mean_squared_error"] == pytest.approx(metrics.mean_squared_error(y, p))
    assert out["root_mean_squared_error"] == pytest.approx(metrics.mean_squared_error(y, p) ** 0.5)
    assert out["mean_average_error"] == pytest.approx(metrics.mean_absolute_error(y, p))
    assert out["mean_absolute_percentage_error"] == pytest.approx(metrics.mean_absolute_percentage_error(y, p))
    assert out["r2_score"] == pytest.approx(metrics.r2_score(y, p))


def test_categorical_drift_matches_scipy():
    from scipy.spatial import distance

    cur, ref = {"x": 30, "y": 50, "z": 20}, {"x": 60, "y": 30}
    out = stats.categorical_drift(cur, ref)
    chi = scipy_stats.chi2_contingency([[30, 50, 20], [60, 30, 0]])
    assert out["chi_squared_test"] == pytest.approx({"statistic": chi.statistic, "pvalue": chi.pvalue})
    p, q = np.array([0.3, 0.5, 0.2]), np.array([60, 30, 0]) / 90
    assert out["js_distance"] == pytest.approx(distance.jensenshannon(p, q, base=2))
    assert out["tv_distance"] == pytest.approx(0.5 * np.abs(p - q).sum())
    assert out["l_infinity_distance"] == pytest.approx(np.abs(p - q).max())
