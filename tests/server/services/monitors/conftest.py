"""Shared data of the monitor tests: an inference log over three days whose third day drifts."""
from __future__ import annotations

import pytest

pd = pytest.importorskip("pandas")
np = pytest.importorskip("numpy")
pytest.importorskip("scipy")

TABLE = "ml.monitoring.fraud_predictions"
OUTPUT = "ml.monitoring"


@pytest.fixture
def w(mlemu):
    from databricks.sdk import WorkspaceClient
    return WorkspaceClient()


def inference_log(rows_per_day: int = 200, seed: int = 0) -> "pd.DataFrame":
    """Days 1-2 alike; day 3: ``amount`` shifts by +3 and ``country`` moves to 'FR'."""
    rng = np.random.default_rng(seed)
    parts = []
    for day in range(3):
        shift = 3.0 if day == 2 else 0.0
        amount = rng.normal(10 + shift, 2, rows_per_day)
        countries = rng.choice(["US", "FR", "DE"], rows_per_day,
                               p=[0.2, 0.7, 0.1] if day == 2 else [0.6, 0.2, 0.2])
        label = (amount + rng.normal(0, 1, rows_per_day) > 11).astype(int)
        prediction = (amount > 11).astype(int)
        ts = pd.Timestamp("2024-03-01") + pd.to_timedelta(day, "D") + pd.to_timedelta(
            np.sort(rng.integers(0, 86_400, rows_per_day)), "s")
        parts.append(pd.DataFrame({"ts": ts, "amount": amount, "country": countries,
                                   "prediction": prediction, "label": label,
                                   "model_version": "1"}))
    frame = pd.concat(parts, ignore_index=True)
    frame.loc[::50, "amount"] = np.nan
    return frame


@pytest.fixture
def log_table(mlemu):
    mlemu.unity_catalog.ensure_schema(OUTPUT)
    frame = inference_log()
    mlemu.unity_catalog.put_table(TABLE, frame)
    return frame
