"""Runs a served model version the way Databricks' model server does: the version's files
are read from the workspace's own storage (no HTTP round trip), loaded once with the user's
installed ``mlflow.pyfunc`` (the current environment stands in for the serving container, as
``env_manager="local"`` would), and each request goes through mlflow's own scoring-server
code (``dataframe_records`` / ``dataframe_split`` / ``instances`` / ``inputs`` + ``params``,
signature enforcement, its error codes and messages).

Loaded models are cached process-wide by the digest of their files (bounded LRU), so a suite
that serves the same model in many tests loads it once.

Wide inputs stay linear. mlflow's parser casts a DataFrame to the signature one column at a
time (``df[col] = df[col].astype(...)``), and each such assignment costs pandas time in the
number of columns, so a ``dataframe_split`` / ``dataframe_records`` request to a model whose
signature names thousands of columns took time in their square (2,500 columns 1.4 s, 20,000
26 s). For signatures over :data:`WIDE_SIGNATURE` columns mlemu builds the frame with mlflow's
own parser, runs mlflow's own cast on :data:`CAST_CHUNK` columns at a time (same result, same
first error), and scores it as the scoring server does; narrower models take mlflow's path
unchanged.
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
#: Databricks' payload limit per request ("Model Serving limits and regions"): 16 MB, and
#: 4 MB for endpoints serving foundation or external models. Read as MiB, as the loopback
#: server's JSON body cap is.
MAX_PAYLOAD_BYTES = 16 * 1024 * 1024
MAX_PAYLOAD_BYTES_EXTERNAL = 4 * 1024 * 1024
#: Signatures with more named columns than this are cast in chunks (see the module docstring).
WIDE_SIGNATURE = 256
#: Columns cast together in a chunk.
CAST_CHUNK = 64

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
    content_type = content_type or "application/json"
    try:
        if _is_wide(schema) and _is_plain_json(content_type):
            wide = _predict_wide(model, body, schema)
            if wide is not None:
                return wide
        result = scoring_server.invocations(body, content_type, model, schema)
    except MlflowException as e:
        if e.get_http_status_code() >= 500:
            # mlflow < 2.11 raises input errors (a missing column, an unreadable TF-serving
            # body) with MlflowException's default INTERNAL_ERROR; later ones, and the
            # workspace, answer the request's fault as INVALID_PARAMETER_VALUE, 400.
            return Prediction(400, _error_body("INVALID_PARAMETER_VALUE", e.message))
        return Prediction(e.get_http_status_code(), _error_body(e.error_code, e.message))
    except Exception as e:  # the user's model raised: the model server answers 400
        return Prediction(400, _error_body("BAD_REQUEST", "Encountered an unexpected error while evaluating "
                                           f"the model: {type(e).__name__}: {e}"))
    if result.mimetype != "application/json":
        return Prediction(result.status, _error_body("BAD_REQUEST", str(result.response)))
    return Prediction(result.status, result.response.encode())


def _is_wide(schema: Any) -> bool:
    return schema is not None and schema.has_input_names() and len(schema.inputs) > WIDE_SIGNATURE


def _is_plain_json(content_type: str) -> bool:
    """``application/json`` with no parameter but a UTF-8 charset (what mlflow accepts as is)."""
    mime, *params = [part.strip().lower() for part in content_type.split(";")]
    return mime == "application/json" and all(p.replace(" ", "") == "charset=utf-8" for p in params)


def _predict_wide(model: Any, body: bytes, schema: Any) -> Prediction | None:
    """Score a DataFrame request to a wide model as mlflow's scoring server does, with the
    cast done in chunks; None for any other request (mlflow's path answers it)."""
    from mlflow.pyfunc import scoring_server

    doc = scoring_server._decode_json_input(body)
    if (not isinstance(doc, dict) or scoring_server.is_unified_llm_input(doc)
            or not {scoring_server.DF_SPLIT, scoring_server.DF_RECORDS} & doc.keys()):
        return None
    parsed = scoring_server._parse_json_data(doc, model.metadata, None)  # mlflow's parser, no cast
    data = _cast_in_chunks(parsed.data, schema)
    return _score(model, data, parsed.params)


def _cast_in_chunks(frame: Any, schema: Any) -> Any:
    """mlflow's ``cast_df_types_according_to_schema`` over ``CAST_CHUNK`` signature columns at a
    time, in signature order (so the first column that fails is the one mlflow names), put back
    together once; the other columns and the index are left as they are."""
    import pandas as pd
    from mlflow.types.schema import Schema
    from mlflow.utils.proto_json_utils import cast_df_types_according_to_schema

    if not isinstance(frame, pd.DataFrame) or not frame.columns.is_unique:
        return frame if not isinstance(frame, pd.DataFrame) else cast_df_types_according_to_schema(frame, schema)
    present = set(frame.columns)
    names = [n for n in schema.input_names() if n in present]
    specs = schema.input_dict()
    cast: dict[Any, Any] = {}
    for start in range(0, len(names), CAST_CHUNK):
        group = names[start:start + CAST_CHUNK]
        part = cast_df_types_according_to_schema(frame[group].copy(), Schema([specs[n] for n in group]))
        cast.update(part.items())
    columns = [cast[c] if c in cast else frame[c] for c in frame.columns]
    out = pd.concat(columns, axis=1, copy=False) if columns else frame
    out.columns = frame.columns
    return out


def _score(model: Any, data: Any, params: Any) -> Prediction:
    """The scoring server's predict step and answer (mlflow's messages, codes and JSON)."""
    import inspect
    from io import StringIO

    from mlflow.exceptions import MlflowException
    from mlflow.pyfunc import scoring_server

    try:
        if "params" in inspect.signature(model.predict).parameters:
            raw = model.predict(data, params=params)
        else:
            raw = model.predict(data)
    except MlflowException as e:
        return Prediction(e.get_http_status_code(), _error_body(
            e.error_code, f"Failed to predict data '{data}'. \nError: {e.message}"))
    except Exception:
        return Prediction(400, _error_body("BAD_REQUEST", "Encountered an unexpected error while evaluating "
                                           "the model. Verify that the serialized input Dataframe is compatible "
                                           "with the model for inference."))
    out = StringIO()
    scoring_server.predictions_to_json(raw, out)
    return Prediction(200, out.getvalue().encode())


def _error_body(code: str, message: str) -> bytes:
    import json

    return json.dumps({"error_code": code, "message": message}).encode()
