"""A workspace worth looking at, made with the real clients: an experiment with two runs
(params, tags, a metric history, a text and an image artifact, a logged sklearn model), a
trace (mlflow 3), the model registered in Unity Catalog (with an alias) and in the workspace
registry, and a prompt in Unity Catalog with a text and a chat version (mlflow 3)."""
from __future__ import annotations

from dataclasses import dataclass

EXPERIMENT = "/Shared/ui-demo"
UC_MODEL = "main.default.churn_model"
PROMPT = "main.default.greeting"
WS_MODEL = "churn-workspace-model"


@dataclass
class Seeded:
    experiment_id: str
    run_id: str
    other_run_id: str
    model_id: str | None     # the logged model (mlflow 3), None on mlflow 2
    uc_model: str
    ws_model: str
    prompt: str | None = None  # a prompt in Unity Catalog (mlflow 3)


def seed(trained_model) -> Seeded:  # type: ignore[no-untyped-def]
    """Log and register through mlflow against the active emulated workspace."""
    import mlflow
    from mlflow import MlflowClient
    from mlflow.models import infer_signature

    model, X, _ = trained_model
    exp_id = mlflow.set_experiment(EXPERIMENT).experiment_id
    with mlflow.start_run(run_name="baseline") as other:
        mlflow.log_param("C", 0.1)
        for step, acc in enumerate([0.61, 0.66, 0.7]):
            mlflow.log_metric("accuracy", acc, step=step)
    with mlflow.start_run(run_name="tuned") as run:
        mlflow.log_params({"C": 1.0, "solver": "lbfgs"})
        mlflow.set_tag("team", "churn")
        for step, (acc, loss) in enumerate([(0.62, 0.9), (0.71, 0.7), (0.78, 0.5), (0.83, 0.41)]):
            mlflow.log_metrics({"accuracy": acc, "loss": loss}, step=step)
        mlflow.log_text("precision 0.81\nrecall 0.77\n", "reports/summary.txt")
        mlflow.log_image(_image(), "plots/confusion.png")
        where = {"name": "model"} if _mlflow3() else {"artifact_path": "model"}
        info = mlflow.sklearn.log_model(model, signature=infer_signature(X, model.predict(X)),
                                        pip_requirements=["scikit-learn"], **where)
    if _mlflow3():
        _trace()
    model_id = getattr(info, "model_id", None)
    source = info.model_uri
    mv = mlflow.register_model(source, UC_MODEL)
    MlflowClient().set_registered_model_alias(UC_MODEL, "champion", mv.version)
    previous = mlflow.get_registry_uri()
    mlflow.set_registry_uri("databricks")
    try:
        MlflowClient().create_registered_model(WS_MODEL, description="The model in the workspace registry")
        mlflow.register_model(f"runs:/{run.info.run_id}/model", WS_MODEL)
    finally:
        mlflow.set_registry_uri(previous)
    prompt = None
    if hasattr(getattr(mlflow, "genai", None), "register_prompt"):  # mlflow 3.0 has mlflow.register_prompt only
        mlflow.genai.register_prompt(PROMPT, "Hello {{name}}!", commit_message="first")
        mlflow.genai.register_prompt(PROMPT, [{"role": "user", "content": "Hi {{name}}"}])
        prompt = PROMPT
    return Seeded(exp_id, run.info.run_id, other.info.run_id, model_id, UC_MODEL, WS_MODEL, prompt)


def _trace() -> None:
    """A traced call with a nested span, exported before it returns."""
    import os

    import mlflow

    @mlflow.trace(name="answer_question")
    def answer(question: str) -> str:
        with mlflow.start_span(name="retrieve") as span:
            span.set_inputs({"question": question})
        return "42"

    previous = os.environ.get("MLFLOW_ENABLE_ASYNC_TRACE_LOGGING")
    os.environ["MLFLOW_ENABLE_ASYNC_TRACE_LOGGING"] = "false"
    try:
        answer("meaning of life?")
    finally:
        if previous is None:
            del os.environ["MLFLOW_ENABLE_ASYNC_TRACE_LOGGING"]
        else:
            os.environ["MLFLOW_ENABLE_ASYNC_TRACE_LOGGING"] = previous


def _mlflow3() -> bool:
    import mlflow
    return int(mlflow.__version__.split(".")[0]) >= 3


def _image():  # type: ignore[no-untyped-def]
    """A small confusion-matrix-like picture (mlflow.log_image writes it as PNG)."""
    import numpy as np
    cells = np.array([[[46, 160, 67], [214, 39, 40]], [[214, 39, 40], [46, 160, 67]]], dtype=np.uint8)
    return cells.repeat(32, axis=0).repeat(32, axis=1)


def seeded_workspace(trained_model):  # type: ignore[no-untyped-def]
    """A new workspace holding :func:`seed`'s data (seeded in-process; serve it afterwards)."""
    from mlemu.toolkit.emulation import emulate
    from mlemu.workspace import Workspace

    ws = Workspace(seed=1)
    with emulate(ws):
        seeded = seed(trained_model)
    return ws, seeded
