"""The MLOps workflow of the cheatsheet, run unchanged against an emulated workspace.

    bash scripts/demo.sh          # or: python demo/demo.py  (with mlemu, mlflow, sklearn installed)

Tracking, artifacts, the Unity Catalog registry with aliases, and loading by alias — all
offline, in one process, then a summary of what the workspace was asked.
"""
from __future__ import annotations

import os
import tempfile
import time
from collections import Counter

import mlemu


def main() -> None:
    started = time.perf_counter()
    # mlflow 3 prints a banner about storing traces in Unity Catalog at every set_experiment on
    # a Databricks URI; the demo stores them in the experiment, as most projects do today.
    os.environ.setdefault("_MLFLOW_ENABLE_UC_TRACE_UPSELL", "false")
    with mlemu.emulate() as ws:
        import mlflow
        import numpy as np
        import pandas as pd
        from databricks.sdk import WorkspaceClient
        from mlflow import MlflowClient
        from mlflow.models import infer_signature
        from sklearn.ensemble import RandomForestClassifier

        w = WorkspaceClient()
        print(f"workspace {ws.host} as {w.current_user.me().user_name}")

        # --- Experiment tracking (cheatsheet: Basic Experiment Setup) ------------------
        mlflow.set_tracking_uri("databricks")
        mlflow.set_experiment(f"/Users/{ws.user.user_name}/my_experiment")
        w.workspace.mkdirs("/Shared/team_experiments")
        experiment = mlflow.create_experiment(name="/Shared/team_experiments/fraud_detection",
                                              artifact_location="dbfs:/mlflow/artifacts")
        mlflow.set_experiment(experiment_id=experiment)
        mlflow.set_experiment(f"/Users/{ws.user.user_name}/my_experiment")

        rng = np.random.default_rng(0)
        X = pd.DataFrame(rng.normal(size=(200, 3)), columns=["feature1", "feature2", "feature3"])
        y = (X.feature1 + 0.5 * X.feature2 > 0).astype(int)

        # --- Logging parameters, metrics, artifacts, the model ------------------------
        mlflow.set_registry_uri("databricks-uc")
        with mlflow.start_run(run_name="rf_v1") as run:
            mlflow.log_param("max_depth", 6)
            mlflow.log_params({"n_estimators": 50, "min_samples_leaf": 1})
            model = RandomForestClassifier(n_estimators=50, max_depth=6, random_state=0).fit(X, y)
            predictions = model.predict(X)
            mlflow.log_metric("accuracy", float((predictions == y).mean()))
            for epoch in range(5):
                mlflow.log_metric("loss", 1.0 / (epoch + 1), step=epoch)
            with tempfile.TemporaryDirectory() as tmp:
                path = os.path.join(tmp, "feature_importance.txt")
                with open(path, "w") as fh:
                    fh.write(str(dict(zip(X.columns, model.feature_importances_))))
                mlflow.log_artifact(path)
            signature = infer_signature(X, predictions)
            # mlflow 3 names a logged model (artifact_path is deprecated) and can save it with
            # skops (no pickle); mlflow 2 takes the artifact path.
            where = ({"name": "model", "serialization_format": "skops", "pip_requirements": ["scikit-learn", "skops"],
                      "skops_trusted_types": ["sklearn.tree._tree.Tree"]} if mlflow.__version__ >= "3"
                     else {"artifact_path": "model", "pip_requirements": ["scikit-learn"]})
            info = mlflow.sklearn.log_model(model, signature=signature, **where,
                                            registered_model_name="main.default.fraud_model")
        print(f"run {run.info.run_id}: {MlflowClient().get_run(run.info.run_id).data.metrics}")

        # --- Registry: a second version, aliases ---------------------------------------
        client = MlflowClient()
        mlflow.register_model(info.model_uri, "main.default.fraud_model")
        versions = client.search_model_versions("name='main.default.fraud_model'")
        print("versions:", sorted(int(v.version) for v in versions))
        client.set_registered_model_alias("main.default.fraud_model", "champion", 1)
        client.set_registered_model_alias("main.default.fraud_model", "challenger", 2)
        client.delete_registered_model_alias("main.default.fraud_model", "challenger")

        # --- Load by alias and predict -------------------------------------------------
        champion = mlflow.pyfunc.load_model("models:/main.default.fraud_model@champion")
        same = bool((champion.predict(X) == predictions).all())
        print(f"champion predicts like the trained model: {same}")
        uc_model = w.registered_models.get("main.default.fraud_model", include_aliases=True)
        print("UC view: versions", sorted(v.version for v in w.model_versions.list(uc_model.full_name)),
              "aliases", [(a.alias_name, a.version_num) for a in uc_model.aliases])

        # --- Serving: endpoint, query, A/B split, inference table ------------------------
        from databricks.sdk.service.serving import (AiGatewayInferenceTableConfig, EndpointCoreConfigInput,
                                                    Route, ServedEntityInput, TrafficConfig)
        name = "fraud-detection-endpoint"
        w.serving_endpoints.create_and_wait(name=name, config=EndpointCoreConfigInput(
            name=name, served_entities=[ServedEntityInput(entity_name="main.default.fraud_model",
                                                          entity_version="1", workload_size="Small",
                                                          scale_to_zero_enabled=True)]))
        w.serving_endpoints.put_ai_gateway(name, inference_table_config=AiGatewayInferenceTableConfig(
            catalog_name="main", schema_name="default", enabled=True))
        answer = w.serving_endpoints.query(name, dataframe_records=X.head(3).to_dict("records"))
        print(f"endpoint {name} ({answer.served_model_name}) predicts {answer.predictions}")
        w.serving_endpoints.update_config_and_wait(
            name=name,
            served_entities=[ServedEntityInput(entity_name="main.default.fraud_model", entity_version=v,
                                               scale_to_zero_enabled=False) for v in ("1", "2")],
            traffic_config=TrafficConfig(routes=[Route(served_model_name="fraud_model-1", traffic_percentage=90),
                                                 Route(served_model_name="fraud_model-2", traffic_percentage=10)]))
        served = Counter(w.serving_endpoints.query(name, dataframe_records=X.head(1).to_dict("records"))
                         .served_model_name for _ in range(200))
        print(f"A/B split over 200 requests: {dict(sorted(served.items()))}")
        rows = ws.serving.inference_table(name)
        print(f"inference table main.default.{name}_payload: {len(rows)} rows, "
              f"status codes {sorted(set(rows.status_code))}")

        # --- Monitoring: Databricks SQL over the inference table ------------------------------
        warehouse = next(iter(w.warehouses.list())).id
        result = w.statement_execution.execute_statement(warehouse_id=warehouse, statement=f"""
            SELECT served_entity_id, COUNT(*) AS requests, AVG(execution_duration_ms) AS avg_ms
            FROM main.default.`{name}_payload` WHERE status_code = 200
            GROUP BY served_entity_id ORDER BY requests DESC""")
        print(f"SQL over the inference table ({result.status.state.value}):",
              [tuple(r) for r in result.result.data_array])

        # --- GenAI tracing: a traced function, read back -------------------------------------
        @mlflow.trace
        def score(amount: float) -> float:
            return amount * 0.01

        os.environ["MLFLOW_ENABLE_ASYNC_TRACE_LOGGING"] = "false"  # export before returning
        score(120.0)
        trace = mlflow.get_trace(mlflow.get_last_active_trace_id())
        info = trace.info  # mlflow 3 names these trace_id/state, mlflow 2 request_id/status
        trace_id, state = getattr(info, "trace_id", None) or info.request_id, getattr(info, "state", None) or info.status
        print(f"trace {trace_id}: spans {[s.name for s in trace.data.spans]}, status {state}")

        ops = Counter(c.operation for c in ws.calls)
        print(f"\n{len(ws.calls)} requests answered in {time.perf_counter() - started:.1f}s; busiest:")
        for op, n in ops.most_common(8):
            print(f"  {n:4d}  {op}")
        assert same


if __name__ == "__main__":
    main()
