"""``mlemu.emulate()`` leaves mlflow's process globals as it found them."""
from __future__ import annotations

import pytest

import mlemu
from mlemu import Workspace

mlflow = pytest.importorskip("mlflow")


def _setup_experiment(ws: Workspace) -> None:
    ws.workspace_files.mkdirs("/Shared/emu")
    mlflow.set_experiment("/Shared/emu/exp")


def test_leaked_runs_are_ended_and_finished():
    ws = Workspace()
    with mlemu.emulate(ws):
        _setup_experiment(ws)
        outer = mlflow.start_run()
        inner = mlflow.start_run(nested=True)
    assert mlflow.active_run() is None
    for run in (outer, inner):
        assert ws.tracking.get_run(run.info.run_id).info.status == "FINISHED"


def test_uris_and_active_experiment_are_restored(tmp_path):
    before = (tmp_path / "mlruns").as_uri()
    mlflow.set_tracking_uri(before)
    try:
        ws = Workspace()
        with mlemu.emulate(ws):
            assert mlflow.get_tracking_uri() == "databricks"
            assert mlflow.get_registry_uri() == "databricks-uc"
            _setup_experiment(ws)
            mlflow.set_tracking_uri("databricks")
        assert mlflow.get_tracking_uri() == before
        from mlflow.tracking import fluent
        assert fluent._active_experiment_id is None
    finally:
        mlflow.set_tracking_uri(None) if hasattr(mlflow, "set_tracking_uri") else None
        from mlflow.tracking._tracking_service import utils
        utils._tracking_uri = None


def test_autolog_enabled_inside_is_disabled_after():
    from mlflow.utils.autologging_utils import AUTOLOGGING_INTEGRATIONS

    mlflow.sklearn.autolog(disable=True)  # start from "off", whatever earlier tests left
    with mlemu.emulate():
        mlflow.sklearn.autolog()
        assert AUTOLOGGING_INTEGRATIONS["sklearn"].get("disable") is False
    assert AUTOLOGGING_INTEGRATIONS["sklearn"].get("disable") is True


def test_state_does_not_leak_between_emulations():
    with mlemu.emulate() as first:
        _setup_experiment(first)
        assert mlflow.get_experiment_by_name("/Shared/emu/exp") is not None
    with mlemu.emulate():
        assert mlflow.get_experiment_by_name("/Shared/emu/exp") is None


def test_a_failed_entry_leaves_no_workspace_behind(monkeypatch):
    """Entering fails after the workspace started (here: model storage on S3 cannot start): the
    workspace stops and the environment is restored, so the next workspace of the seed starts."""
    import os

    from mlemu.server.services.registry import s3_storage

    monkeypatch.setattr(s3_storage, "missing", lambda: "S3 storage cannot start here")
    before = {k: v for k, v in os.environ.items() if k.startswith(("DATABRICKS_", "MLFLOW_"))}
    with pytest.raises(RuntimeError, match="S3 storage cannot start here"):
        mlemu.emulate(uc_model_storage="s3").__enter__()
    assert {k: v for k, v in os.environ.items() if k.startswith(("DATABRICKS_", "MLFLOW_"))} == before
    with mlemu.emulate() as ws:  # the same seed's host: refused while the failed one stayed active
        _setup_experiment(ws)


@pytest.mark.skipif(not hasattr(getattr(mlflow, "genai", None), "register_prompt"),
                    reason="the prompt registry (mlflow.genai.register_prompt) is an mlflow 3 API")
def test_a_prompt_loaded_in_one_workspace_is_not_served_in_the_next():
    """mlflow caches loaded prompt versions by name and version (an lru_cache up to 3.5 at least,
    PromptCache later); the same seed's next workspace has another prompt under that name."""
    name = "main.default.isolated_prompt"
    for template in ("First {{a}}", "Second {{b}}"):
        with mlemu.emulate():
            mlflow.genai.register_prompt(name, template)
            assert mlflow.genai.load_prompt(f"prompts:/{name}/1").template == template
