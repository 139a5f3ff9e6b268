"""mlflow 3 (Files API) and mlflow 2.22 (pre-signed credentials) read each other's run
artifacts: this venv's mlflow writes through a loopback server, the other venv's mlflow
(a subprocess) reads, writes back, and loads the model."""
from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import mlflow
import pytest

MLFLOW3 = mlflow.__version__.startswith("3.")
OTHER = os.environ.get("MLEMU_OTHER_MLFLOW_PYTHON") or str(
    pathlib.Path(sys.prefix).parent / ("venv2" if MLFLOW3 else "venv3") / "bin" / "python")

SCRIPT = r"""
import json, pathlib, sys
import mlflow, pandas as pd
from mlflow import MlflowClient

run_id, dst, records = sys.argv[1], pathlib.Path(sys.argv[2]), json.loads(sys.argv[3])
client = MlflowClient()
out = {"version": mlflow.__version__,
       "root": [(f.path, f.is_dir) for f in client.list_artifacts(run_id)],
       "mydir": [f.path for f in client.list_artifacts(run_id, "mydir")]}
got = pathlib.Path(mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path="mydir", dst_path=str(dst)))
out["b"] = (got / "nested" / "b.txt").read_text()
back = dst / "from_other.txt"
back.write_text("written by " + mlflow.__version__)
client.log_artifact(run_id, str(back), "back")
model = mlflow.pyfunc.load_model(f"runs:/{run_id}/model")
out["predictions"] = [int(p) for p in model.predict(pd.DataFrame.from_records(records))]
print("RESULT " + json.dumps(out))
"""


@pytest.mark.skipif(not os.path.exists(OTHER), reason=f"the other mlflow's interpreter is not at {OTHER}")
def test_the_other_mlflow_reads_what_this_one_wrote(mlemu, mlemu_server, trained_model, local_tree, tmp_path):
    model, X, _ = trained_model
    mlflow.set_experiment("/Shared/cross")
    saved = tmp_path / "saved_model"
    mlflow.sklearn.save_model(model, str(saved), pip_requirements=["scikit-learn"])
    with mlflow.start_run() as run:
        mlflow.log_artifacts(str(local_tree / "dir"), "mydir")
        mlflow.log_artifacts(str(saved), "model")
    mlemu.calls.assert_called("files.upload" if MLFLOW3 else "mlflow_artifacts.credentials-for-write")
    mlemu.calls.clear()

    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_") or k == "MLFLOW_TRACKING_URI"}
    proc = subprocess.run([OTHER, "-c", SCRIPT, run.info.run_id, str(tmp_path / "other"),
                           X.to_json(orient="records")],
                          env=env, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(next(line for line in proc.stdout.splitlines() if line.startswith("RESULT "))[7:])
    assert out["version"].startswith("2." if MLFLOW3 else "3.")
    assert out["root"] == [["model", True], ["mydir", True]]
    assert out["mydir"] == ["mydir/a.txt", "mydir/nested"]
    assert out["b"] == "BB"
    assert out["predictions"] == [int(p) for p in model.predict(X)]
    # The other client took its own path to the same files...
    other_ops = set(mlemu.calls.operations())
    assert ("mlflow_artifacts.credentials-for-read" in other_ops) == MLFLOW3
    assert ("files.upload" in other_ops) == (not MLFLOW3)
    # ...and this one reads back what the other wrote.
    assert mlflow.artifacts.load_text(f"runs:/{run.info.run_id}/back/from_other.txt").startswith("written by ")
