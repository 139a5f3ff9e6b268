"""Model-version files through the Files API: writable only while the version is pending."""
from __future__ import annotations

import io

import pytest
import requests

pytest.importorskip("mlflow")

UC = "/api/2.0/mlflow/unity-catalog"
MODEL_DIR = "/Models/catalog/schema/my_model"


def test_ready_version_files_are_immutable(w, three_versions):
    from databricks.sdk.errors import PermissionDenied

    with pytest.raises(PermissionDenied, match="immutable"):
        w.files.upload(f"{MODEL_DIR}/1/model.pkl", io.BytesIO(b"tampered"), overwrite=True)
    with pytest.raises(PermissionDenied):
        w.files.delete(f"{MODEL_DIR}/1/model.pkl")
    assert w.files.download(f"{MODEL_DIR}/1/model.pkl").contents.read() == b"x"


def test_files_of_a_missing_version_are_not_found(w, three_versions, mlmodel):
    from databricks.sdk.errors import NotFound

    with pytest.raises(NotFound):
        w.files.get_directory_metadata(f"{MODEL_DIR}/9")
    with pytest.raises(NotFound):
        w.files.upload(f"{MODEL_DIR}/9/MLmodel", io.BytesIO(mlmodel))


def test_presigned_upload_url_stops_working_once_the_version_is_ready(w, schema, mlmodel):
    w.api_client.do("POST", f"{UC}/registered-models/create", body={"name": "catalog.schema.my_model"})
    mv = w.api_client.do("POST", f"{UC}/model-versions/create",
                         body={"name": "catalog.schema.my_model", "source": "dbfs:/somewhere"})["model_version"]
    assert mv["status"] == "PENDING_REGISTRATION"
    base = f"{MODEL_DIR}/{mv['version']}"
    url = w.api_client.do("POST", "/api/2.0/fs/create-upload-url", body={"path": f"{base}/MLmodel"})["url"]
    assert requests.put(url, data=mlmodel).status_code == 200
    w.api_client.do("POST", f"{UC}/model-versions/finalize",
                    body={"name": "catalog.schema.my_model", "version": mv["version"]})

    stale = requests.put(url, data=b"flavors: {}\n")
    assert stale.status_code == 403
    assert b"AccessDenied" in stale.content
    assert w.files.download(f"{base}/MLmodel").contents.read() == mlmodel
