"""Test fixture helpers: put a registered model with READY versions in the workspace
without any client or HTTP call.

    from mlemu.server.services.registry.fixtures import seed_model_version

    mv = seed_model_version(ws, "main.default.churn", fitted_sklearn_model,
                            input_example=X.head(), aliases=["champion"])
    mlflow.pyfunc.load_model("models:/main.default.churn@champion").predict(X)

The model is saved with mlflow (imported lazily) into a temporary directory and its files
go through the same create -> upload -> finalize path as mlflow's own registration (so a
model without a signature is refused, as on Databricks).
"""
from __future__ import annotations

import os
import shutil
import tempfile
from typing import TYPE_CHECKING, Any, Iterable

from mlemu.server.services.unity_catalog import names

if TYPE_CHECKING:
    from mlemu.server.core.workspace import WorkspaceState
    from mlemu.server.services.registry.state import ModelVersion


def seed_model_version(ws: "WorkspaceState", full_name: str, model: Any, *, input_example: Any = None,
                       signature: Any = None, aliases: Iterable[str] = (),
                       tags: dict[str, str] | None = None, description: str | None = None,
                       create_schema: bool = True, pip_requirements: list[str] | None = None) -> "ModelVersion":
    """Register ``model`` as the next READY version of ``full_name``.

    ``model`` is a fitted scikit-learn estimator, an ``mlflow.pyfunc.PythonModel``, or the
    path of a directory written by ``mlflow.<flavor>.save_model``. The signature is
    inferred from ``input_example`` when not given. ``create_schema`` creates the catalog
    and schema when missing (Databricks would refuse; this is set-up, not the code under test).
    """
    fn = names.three_level(full_name)
    if create_schema:
        ws.unity_catalog.ensure_schema(fn.schema_full_name)
    kwargs: dict[str, Any] = {"aliases": aliases, "tags": tags, "description": description}
    if isinstance(model, (str, os.PathLike)):
        return ws.registry.register_local_model(str(fn), os.fspath(model), **kwargs)
    with tempfile.TemporaryDirectory(prefix="mlemu-model-") as tmp:
        path = os.path.join(tmp, "model")
        _save(model, path, input_example, signature, pip_requirements)
        return ws.registry.register_local_model(str(fn), path, source=f"mlemu://fixtures/{fn}",
                                                **kwargs)


def _save(model: Any, path: str, input_example: Any, signature: Any,
          pip_requirements: list[str] | None) -> None:
    import mlflow
    from mlflow.models import Model, infer_signature

    if isinstance(model, mlflow.pyfunc.PythonModel):
        def save(sig: Any) -> None:
            mlflow.pyfunc.save_model(path, python_model=model, signature=sig,
                                     input_example=input_example,
                                     pip_requirements=pip_requirements or ["mlflow"])

        save(signature)
        if signature is None and input_example is not None \
                and Model.load(path).signature is None:
            # mlflow < 2.10 infers no signature from a pyfunc's input example, and Unity Catalog
            # refuses a version without one: infer it as newer mlflow does (the model's answer).
            shutil.rmtree(path)
            output = model.predict(None, input_example)
            if isinstance(output, list):  # mlflow 2.9 infers no schema from a list
                import pandas as pd
                output = pd.Series(output)
            save(infer_signature(input_example, output))
        return
    if _is_sklearn(model):
        if signature is None and input_example is not None:
            signature = infer_signature(input_example, model.predict(input_example))
        mlflow.sklearn.save_model(model, path, signature=signature, input_example=input_example,
                                  pip_requirements=pip_requirements or ["scikit-learn"])
        return
    raise TypeError(f"seed_model_version cannot save a {type(model).__name__}: pass a scikit-learn "
                    "estimator, an mlflow.pyfunc.PythonModel, or a saved model directory")


def _is_sklearn(model: Any) -> bool:
    try:
        from sklearn.base import BaseEstimator
    except ImportError:
        return False
    return isinstance(model, BaseEstimator)
