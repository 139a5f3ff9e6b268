"""Fast model logging: under the fixture and ``emulate()`` mlflow's requirement inference is
answered from the model's files (no subprocess); ``infer_requirements="mlflow"`` restores
mlflow's own; what the user passes explicitly is never changed."""
from __future__ import annotations

import importlib.metadata
import logging
import os
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import mlflow
import pytest
from mlflow.utils import environment, requirements_utils

import mlemu
from mlemu.toolkit.requirements import infer, pickle_modules

MLFLOW3 = mlflow.__version__.startswith("3.")


def _pin(dist: str) -> str:
    return f"{dist}=={importlib.metadata.version(dist).split('+')[0]}"


@pytest.fixture
def capture_spy(monkeypatch):
    """mlflow's subprocess (the capture of imported modules), replaced by a recorder that
    answers as the subprocess would for a scikit-learn model."""
    calls = []

    def capture(model_uri, flavor, *args, **kwargs):
        calls.append((str(model_uri), flavor))
        return ["sklearn", "numpy"]

    monkeypatch.setattr(requirements_utils, "_capture_imported_modules", capture)
    return calls


def _requirements(trained_model, files: list[str] | None = None, **kwargs) -> list[str]:
    model, _, _ = trained_model
    name = {"name": "model"} if MLFLOW3 else {"artifact_path": "model"}
    info = mlflow.sklearn.log_model(model, **name, **kwargs)
    local = mlflow.artifacts.download_artifacts(info.model_uri)
    if files is not None:
        files.extend(p.name for p in Path(local).iterdir())
    return Path(local, "requirements.txt").read_text().split()


def _expected_mlemu(files: list[str]) -> list[str]:
    """What the module docstring promises for a LogisticRegression: mlflow's pin first, then
    scikit-learn and numpy (named by the model file) and mlflow's own flavor default for the
    file's format (cloudpickle for model.pkl, skops for model.skops)."""
    reqs = {_pin("scikit-learn"), _pin("numpy")}
    if "model.skops" in files:
        reqs.add(_pin("skops"))
    else:
        assert "model.pkl" in files, files
        reqs.add(_pin("cloudpickle"))
    return [f"mlflow=={mlflow.__version__}", *sorted(reqs)]


def test_log_model_infers_requirements_without_the_subprocess(mlemu, trained_model, capture_spy, caplog):
    mlflow.set_experiment("/Shared/reqs")
    with caplog.at_level(logging.INFO, logger="mlemu"), mlflow.start_run():
        files: list[str] = []
        reqs = _requirements(trained_model, files)
    assert capture_spy == []  # mlflow's subprocess never ran
    assert reqs == _expected_mlemu(files)
    assert any("mlemu inferred the pip requirements" in r.getMessage() and "sklearn" in r.getMessage()
               for r in caplog.records), [r.getMessage() for r in caplog.records]


@pytest.mark.mlemu(infer_requirements="mlflow")
def test_opt_out_restores_mlflows_own_inference(mlemu, trained_model, capture_spy):
    mlflow.set_experiment("/Shared/reqs")
    with mlflow.start_run():
        reqs = _requirements(trained_model)
    assert len(capture_spy) == 1 and capture_spy[0][1] == "sklearn"
    assert _pin("scikit-learn") in reqs and _pin("numpy") in reqs
    assert environment._infer_requirements is requirements_utils._infer_requirements


@pytest.mark.parametrize("mode", ["mlemu", "mlflow"])
def test_explicit_requirements_are_never_changed(trained_model, capture_spy, tmp_path, mode):
    conda_env = {"name": "mine", "channels": ["conda-forge"],
                 "dependencies": ["python=3.11", "pip", {"pip": ["mlflow", "scikit-learn==1.0"]}]}
    with mlemu.emulate(infer_requirements=mode):
        mlflow.set_experiment("/Shared/reqs")
        with mlflow.start_run():
            pinned = _requirements(trained_model, pip_requirements=["scikit-learn==1.0", "pandas<3"])
            conda = _requirements(trained_model, conda_env=conda_env)
            extra = _requirements(trained_model, extra_pip_requirements=["my-extra==1.2"])
    assert pinned == [f"mlflow=={mlflow.__version__}", "scikit-learn==1.0", "pandas<3"]
    assert conda == ["mlflow", "scikit-learn==1.0"]
    assert extra[-1] == "my-extra==1.2" and _pin("scikit-learn") in extra
    assert len(capture_spy) == (1 if mode == "mlflow" else 0)  # only the extras case infers


def test_the_seam_is_restored_after_the_emulation():
    original = environment._infer_requirements
    with mlemu.emulate():
        assert environment._infer_requirements is not original
        with mlemu.emulate(mlemu.Workspace(workspace_id="2")):  # nested: still mlemu's
            assert environment._infer_requirements is not original
        assert environment._infer_requirements is not original
    assert environment._infer_requirements is original


def test_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="infer_requirements"):
        mlemu.emulate(infer_requirements="pip")


def test_missing_seam_falls_back_with_a_reason(monkeypatch, caplog):
    monkeypatch.delattr(environment, "_infer_requirements")
    with caplog.at_level(logging.WARNING, logger="mlemu"), mlemu.emulate():
        assert not hasattr(environment, "_infer_requirements")
    assert any("_infer_requirements not found" in r.getMessage() for r in caplog.records)


def test_mlflow_imported_inside_the_emulation_is_patched_too():
    code = textwrap.dedent("""
        import sys, mlemu
        assert "mlflow" not in sys.modules
        with mlemu.emulate():
            from mlflow.utils import environment
            assert environment._infer_requirements.__module__ == "mlemu.toolkit.requirements"
        assert environment._infer_requirements.__module__ == "mlflow.utils.requirements_utils"
        print("ok")
    """)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABRICKS_", "MLFLOW_"))}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert out.stdout.strip() == "ok", out.stderr[-3000:]


def test_pickle_modules_reads_names_without_unpickling():
    import collections
    import decimal

    data = {"a": collections.OrderedDict(x=decimal.Decimal(1)), "b": [decimal.Decimal(2)]}
    for protocol in (0, 2, 4, 5):
        assert pickle_modules(pickle.dumps(data, protocol=protocol)) >= {"collections", "decimal"}
    assert pickle_modules(b"not a pickle") == set()


def test_infer_lists_the_flavor_library_and_skips_the_standard_library(tmp_path):
    import collections

    (tmp_path / "model.pkl").write_bytes(pickle.dumps(collections.Counter("ab")))
    assert infer(tmp_path, "sklearn") == [_pin("scikit-learn")]
    assert infer(tmp_path, "python_function") == []
