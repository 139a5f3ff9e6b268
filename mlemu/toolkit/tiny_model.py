"""A tiny built-in model for tests that need *a* model version, not a particular one: an
``mlflow.pyfunc.PythonModel`` whose prediction is the sum of each row's numeric columns.

Saving it needs only mlflow (no scikit-learn); the builders register it by default
(``make_registered_model()``), and docs examples use it where they need a trained model.
"""
from __future__ import annotations

from typing import Any

import mlflow.pyfunc


class TinyModel(mlflow.pyfunc.PythonModel):
    """Predicts ``row sum`` of the numeric columns, one float per row."""

    # No type hints here: mlflow would read them as the model's input schema.
    def predict(self, context, model_input, params=None):  # type: ignore[no-untyped-def]
        import pandas as pd

        frame = model_input if isinstance(model_input, pd.DataFrame) else pd.DataFrame(model_input)
        return frame.select_dtypes("number").sum(axis=1).astype(float).tolist()


def example_input() -> Any:
    """The input example (and so the signature) versions of :class:`TinyModel` are saved with."""
    import pandas as pd

    return pd.DataFrame({"x": [1.0, 2.0], "y": [0.5, 0.25]})
