"""``log_model``: package a model with its training set's feature spec (``feature-store.md``
§2.6) through the real mlflow client, so it lands in the emulated tracking server and, with
``registered_model_name``, in the emulated Unity Catalog registry:

    <artifact_path>/MLmodel                 python_function, loader_module=mlemu.standins.feature_store.mlflow_model
    <artifact_path>/data/feature_store/feature_spec.yaml
    <artifact_path>/data/feature_store/raw_model/...   (flavor.save_model of the raw model)
"""
from __future__ import annotations

import os
import tempfile
from types import ModuleType
from typing import Any

import yaml

from mlemu.standins.feature_store.spec import SPEC_FILE, FeatureSpec

LOADER_MODULE = "mlemu.standins.feature_store.mlflow_model"
#: Pinned into the raw model's environment, as the real client does.
LOOKUP_REQUIREMENT = "databricks-feature-lookup==1.*"
UNSET = object()


def log_model(*, model: Any, artifact_path: str, flavor: ModuleType, training_set: Any = None,
              registered_model_name: str | None = None, await_registration_for: Any = UNSET,
              infer_input_example: bool = False, extra_pip_requirements: list[str] | None = None,
              feature_spec_path: str | None = None, output_schema: Any = None, params: Any = None,
              **kwargs: Any) -> Any:
    """Save the raw model, write the spec, log the outer pyfunc model (and register it)."""
    import mlflow
    import mlflow.pyfunc
    from mlflow.models import Model

    spec = _spec(training_set, feature_spec_path)
    with tempfile.TemporaryDirectory() as tmp:
        fs_dir = os.path.join(tmp, "feature_store")
        raw_dir = os.path.join(fs_dir, "raw_model")
        os.makedirs(fs_dir)
        if flavor is mlflow.pyfunc:
            flavor.save_model(raw_dir, python_model=model, mlflow_model=Model(), **kwargs)
        else:
            flavor.save_model(model, raw_dir, mlflow_model=Model(), **kwargs)
        raw = Model.load(os.path.join(raw_dir, "MLmodel"))
        if "python_function" not in raw.flavors:
            raise ValueError(f"FeatureStoreClient.log_model does not support '{flavor.__name__}' since it does "
                             "not have a python_function model flavor.")
        conda_env = _pin_requirements(os.path.join(raw_dir, "conda.yaml"), extra_pip_requirements or [])
        with open(os.path.join(fs_dir, SPEC_FILE), "w", encoding="utf-8") as fh:
            fh.write(spec.to_yaml())
        signature = _signature(spec, training_set, output_schema, params)
        where = {"name": artifact_path} if _mlflow_major() >= 3 else {"artifact_path": artifact_path}
        register: dict[str, Any] = {}
        if registered_model_name:
            register["registered_model_name"] = registered_model_name
            if await_registration_for is not UNSET:
                register["await_registration_for"] = await_registration_for
        started = mlflow.active_run() is None
        if started:
            mlflow.start_run()
        try:
            return mlflow.pyfunc.log_model(loader_module=LOADER_MODULE, data_path=fs_dir, conda_env=conda_env,
                                           signature=signature, **where, **register)
        finally:
            if started:
                mlflow.end_run()


def _mlflow_major() -> int:
    import mlflow
    return int(mlflow.__version__.split(".")[0])


def _spec(training_set: Any, feature_spec_path: str | None) -> FeatureSpec:
    if training_set is not None and feature_spec_path is not None:
        raise ValueError("Only one of 'training_set' and 'feature_spec_path' may be provided.")
    if training_set is not None:
        return training_set.feature_spec
    if feature_spec_path is not None:
        path = feature_spec_path
        if os.path.isdir(path):
            path = os.path.join(path, SPEC_FILE)
        with open(path, encoding="utf-8") as fh:
            return FeatureSpec.from_yaml(fh.read())
    raise ValueError("Either 'training_set' or 'feature_spec_path' must be provided to log a model with "
                     "feature metadata.")


def _pin_requirements(conda_path: str, extra: list[str]) -> dict[str, Any]:
    """The raw model's conda env plus the feature lookup client pin and ``extra``; written back."""
    with open(conda_path, encoding="utf-8") as fh:
        env = yaml.safe_load(fh) or {}
    deps = env.setdefault("dependencies", [])
    pip = next((d for d in deps if isinstance(d, dict) and "pip" in d), None)
    if pip is None:
        pip = {"pip": []}
        deps.append(pip)
    for req in [LOOKUP_REQUIREMENT, *extra]:
        if req not in pip["pip"]:
            pip["pip"].append(req)
    with open(conda_path, "w", encoding="utf-8") as fh:
        yaml.safe_dump(env, fh, sort_keys=False)
    return env


def _requiredness(colspec: type, required: bool) -> dict[str, bool]:
    """``ColSpec``'s keyword for an optional column: ``required`` since mlflow 2.10,
    ``optional`` in 2.8-2.9, none before (every column is then required)."""
    import inspect

    parameters = inspect.signature(colspec.__init__).parameters
    if "required" in parameters:
        return {"required": required}
    if "optional" in parameters:
        return {"optional": not required}
    return {}


def _signature(spec: FeatureSpec, training_set: Any, output_schema: Any, params: Any) -> Any:
    """Source columns required, features optional; outputs = the labels' types (or
    ``output_schema``); params ``result_type`` (``signature_utils.py`` of the real client)."""
    from mlflow.models.signature import ModelSignature
    from mlflow.types.schema import ColSpec, ParamSchema, ParamSpec, Schema

    from mlemu.standins.feature_store.dtypes import mlflow_type, types_of

    source_types = {s.name: s for s in spec.sources}
    inputs = [ColSpec(mlflow_type(c.data_type), c.name, **_requiredness(ColSpec, c.name in source_types))
              for c in spec.columns]
    outputs = output_schema
    if outputs is None and training_set is not None and training_set._labels:
        label_types = types_of(training_set._df[training_set._labels])
        outputs = Schema([ColSpec(t.mlflow, name) for name, t in label_types.items()])
    param_schema = params if params is not None else ParamSchema(
        [ParamSpec("result_type", "string", "NO_RESULT_TYPE")])
    return ModelSignature(inputs=Schema(inputs), outputs=outputs, params=param_schema)
