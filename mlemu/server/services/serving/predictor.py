"""Runs a served model version the way Databricks' model server does: the version's files
are read from the workspace's own storage (no HTTP round trip), loaded once with the user's
installed ``mlflow.pyfunc`` (the current environment stands in for the serving container, as
``env_manager="local"`` would), and each request goes through mlflow's own scoring-server
code (``dataframe_records`` / ``dataframe_split`` / ``instances`` / ``inputs`` + ``params``,
signature enforcement, its error codes and messages).

Loaded models are cached process-wide by the digest of their files (bounded LRU), so a suite
that serves the same model in many tests loads it once.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from mlemu.server.core.errors import ApiError

if TYPE_CHECKING:
    from mlemu.server.core.storage import Namespace, Storage

CACHE_SIZE = 16

_lock = threading.Lock()
_cache: "OrderedDict[str, Any]" = OrderedDict()


@dataclass(frozen=True)
class Prediction:
    """A model server's answer: status, JSON body bytes."""

    status: int
    body: bytes


def model_files(storage: "Storage", files_path: str, namespace: "Namespace" = "files") -> dict[str, bytes]:
    """Every file of a model version, by path relative to its root."""
    root = files_path.rstrip("/") + "/"
    return {f.path[len(root):]: storage.read(namespace, f.path)
            for f in storage.walk_files(namespace, files_path)}


def digest(files: dict[str, bytes]) -> str:
    h = hashlib.sha256()
    for rel in sorted(files):
        h.update(rel.encode() + b"\0" + hashlib.sha256(files[rel]).digest())
    return h.hexdigest()


def load(key: str, files: "Callable[[], dict[str, bytes]]") -> Any:
    """The pyfunc model with digest ``key``; ``files()`` gives its files on a cache miss."""
    with _lock:
        model = _cache.get(key)
        if model is not None:
            _cache.move_to_end(key)
            return model
    model = _load_uncached(files())
    with _lock:
        _cache[key] = model
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return model


def _load_uncached(files: dict[str, bytes]) -> Any:
    try:
        import mlflow.pyfunc
    except ImportError:
        raise ApiError("INTERNAL_ERROR", "mlemu runs served models with the installed mlflow, which is "
                       "not importable here: pip install mlflow", 500) from None
    # The directory must outlive the model (some flavors read files lazily) and no longer: it
    # is the model's attribute, removed when the model is collected or at exit at the latest.
    directory = tempfile.TemporaryDirectory(prefix="mlemu-served-")
    for rel, data in files.items():
        target = os.path.join(directory.name, *rel.split("/"))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "wb") as fh:
            fh.write(data)
    try:
        model = mlflow.pyfunc.load_model(directory.name)
    except BaseException:
        directory.cleanup()
        raise
    model._mlemu_files = directory
    return model


def predict(model: Any, body: bytes, content_type: str) -> Prediction:
    """Score one request with mlflow's scoring-server code; model errors become the model
    server's 4xx JSON answers (never an exception)."""
    from mlflow.exceptions import MlflowException
    from mlflow.pyfunc import scoring_server

    schema = model.metadata.get_input_schema() if hasattr(model, "metadata") else None
    try:
        result = scoring_server.invocations(body, content_type or "application/json", model, schema)
    except MlflowException as e:
        return Prediction(e.get_http_status_code(), _error_body(e.error_code, e.message))
    except Exception as e:  # the user's model raised: the model server answers 400
        return Prediction(400, _error_body("BAD_REQUEST", "Encountered an unexpected error while evaluating "
                                           f"the model: {type(e).__name__}: {e}"))
    if result.mimetype != "application/json":
        return Prediction(result.status, _error_body("BAD_REQUEST", str(result.response)))
    return Prediction(result.status, result.response.encode())


def _error_body(code: str, message: str) -> bytes:
    import json

    return json.dumps({"error_code": code, "message": message}).encode()
