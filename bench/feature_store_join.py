"""Feature store benchmark (on demand, not part of the suite): a training-set join and
``score_batch`` on N label rows x 2 lookups (one point-in-time, one plain), against a
hand-written ``pandas.merge_asof`` + ``merge`` of the same join, and the memory each takes.

    python bench/feature_store_join.py              # 1,000,000 label rows
    python bench/feature_store_join.py --rows 100000

Target (issue 7): within 2x of the hand-written join.
"""
from __future__ import annotations

import argparse
import datetime
import time
import tracemalloc
from typing import Any, Callable

import numpy as np
import pandas as pd


def data(rows: int, customers: int, products: int, seed: int = 0) -> tuple[pd.DataFrame, ...]:
    rng = np.random.default_rng(seed)
    start = np.datetime64("2024-01-01")
    per_customer = 10
    feats = pd.DataFrame({
        "customer_id": np.repeat(np.arange(customers), per_customer),
        "ts": np.tile(start + np.arange(per_customer) * np.timedelta64(7, "D"), customers),
        "spend": rng.random(customers * per_customer),
        "orders": rng.integers(0, 50, customers * per_customer),
    })
    prods = pd.DataFrame({"product_id": np.arange(products), "price": rng.random(products) * 100})
    labels = pd.DataFrame({
        "customer_id": rng.integers(0, customers, rows),
        "product_id": rng.integers(0, products, rows),
        "event_ts": start + rng.integers(0, 80 * 24 * 3600, rows).astype("timedelta64[s]"),
        "y": rng.random(rows),
    })
    return feats, prods, labels


def by_hand(feats: pd.DataFrame, prods: pd.DataFrame, labels: pd.DataFrame) -> pd.DataFrame:
    """The same join written directly: as-of backward (inclusive), then a left merge."""
    left = labels.reset_index().sort_values("event_ts", kind="stable")
    right = feats.rename(columns={"ts": "event_ts"}).sort_values("event_ts", kind="stable")
    out = pd.merge_asof(left, right, on="event_ts", by="customer_id", direction="backward")
    out = out.merge(prods, on="product_id", how="left").sort_values("index")
    return out.drop(columns=["index"]).reset_index(drop=True)


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def peak_mb(fn: Callable[[], Any]) -> float:
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--products", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    import mlflow
    import mlflow.sklearn
    from sklearn.linear_model import LinearRegression

    import mlemu
    from mlemu.standins.feature_store import FeatureEngineeringClient, FeatureLookup, make_feature_table

    feats, prods, labels = data(args.rows, args.customers, args.products)
    with mlemu.emulate() as ws:
        make_feature_table(ws, "main.default.customers", feats, primary_keys="customer_id", timestamp_key="ts")
        make_feature_table(ws, "main.default.products", prods, primary_keys="product_id")
        fe = FeatureEngineeringClient()
        lookups = [FeatureLookup("main.default.customers", "customer_id", timestamp_lookup_key="event_ts",
                                 feature_names=["spend", "orders"]),
                   FeatureLookup("main.default.products", "product_id", feature_names=["price"])]

        def training() -> pd.DataFrame:
            return fe.create_training_set(df=labels, feature_lookups=lookups, label="y").load_df()

        t_hand, hand = timed(lambda: by_hand(feats, prods, labels), args.repeat)
        t_fs, ours = timed(training, args.repeat)
        pd.testing.assert_frame_equal(ours, hand[list(ours.columns)], check_dtype=False)

        mlflow.set_experiment("/Shared/bench")
        small = training().head(1000)
        model = LinearRegression().fit(small.drop(columns=["y"]).drop(columns=["event_ts"]), small["y"])
        ts = fe.create_training_set(df=labels.head(1000), feature_lookups=lookups, label="y",
                                    exclude_columns=["event_ts"])
        info = fe.log_model(model=model, artifact_path="model", flavor=mlflow.sklearn, training_set=ts)
        scoring = labels.drop(columns=["y"])
        t_score, _ = timed(lambda: fe.score_batch(model_uri=f"runs:/{info.run_id}/model", df=scoring),
                           args.repeat)
        hand_predict = lambda: model.predict(by_hand(feats, prods, labels)[list(model.feature_names_in_)])  # noqa
        t_hand_score, _ = timed(hand_predict, args.repeat)
        m_hand = peak_mb(lambda: by_hand(feats, prods, labels))
        m_fs = peak_mb(training)

    print(f"rows={args.rows:,} customers={args.customers:,} (x10 timestamps) products={args.products:,}")
    print(f"{'':28}{'seconds':>10}{'ratio':>8}{'peak MiB':>10}")
    print(f"{'hand merge_asof + merge':28}{t_hand:10.3f}{1.0:8.2f}{m_hand:10.0f}")
    print(f"{'create_training_set+load':28}{t_fs:10.3f}{t_fs / t_hand:8.2f}{m_fs:10.0f}")
    print(f"{'hand join + predict':28}{t_hand_score:10.3f}{1.0:8.2f}")
    print(f"{'score_batch':28}{t_score:10.3f}{t_score / t_hand_score:8.2f}")


if __name__ == "__main__":
    main()
