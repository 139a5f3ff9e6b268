"""Tests that start from a Unity Catalog model with versions and aliases, without training or
registering in the test: the registry is seeded directly in the emulated workspace."""
import numpy as np
import pandas as pd
import pytest


@pytest.fixture
def features():
    rng = np.random.default_rng(0)
    return pd.DataFrame(rng.normal(size=(40, 2)), columns=["amount", "age"])


@pytest.fixture
def fraud_model(mlemu, features):
    """`main.ml.fraud` with version 1 (@champion) and version 2 (@challenger)."""
    from sklearn.linear_model import LogisticRegression

    labels = (features.amount > 0).astype(int)
    champion = LogisticRegression().fit(features, labels)
    challenger = LogisticRegression(C=0.01).fit(features, labels)
    mlemu.registry.seed_model_version("main.ml.fraud", champion, input_example=features.head(),
                                      aliases=["champion"])
    mlemu.registry.seed_model_version("main.ml.fraud", challenger, input_example=features.head(),
                                      aliases=["challenger"])
    return "main.ml.fraud"
