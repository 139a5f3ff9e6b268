"""Helpers the example notebooks import from the project root (as a repo's notebooks do)."""
from __future__ import annotations

import numpy as np
import pandas as pd


def training_frame(rows: int = 80, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """A small, seeded classification set."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(rows, 3)), columns=["f1", "f2", "f3"])
    y = (X["f1"] - X["f2"] > 0).astype(int).to_numpy()
    return X, y


def alias_for(env: str) -> str:
    """The registered-model alias a deployment to ``env`` points at."""
    return "champion" if env == "prod" else f"{env}_champion"
