"""Unity Catalog model files on S3, for mlflow clients older than 2.13 (14.3 LTS ML: 2.9.2).

Those clients cannot use a workspace's default storage: they ask for temporary credentials,
understand only cloud ones (``aws_temp_credentials``, ...) and move the files with that cloud's
SDK to the version's ``storage_location`` (mlflow's ``OptimizedS3ArtifactRepository``: boto3,
path-style, ``MLFLOW_S3_ENDPOINT_URL`` overrides the endpoint). A workspace whose metastore
root is on S3 answers them that way; :class:`S3ModelStorage` is that S3: moto's S3 server (a
complete, well-kept S3 implementation) in a thread on 127.0.0.1, one bucket per workspace,
reached by boto3 through ``MLFLOW_S3_ENDPOINT_URL``. The workspace's own storage stays the one
copy every other client and service reads: a version's objects are pulled in when the version
is finalized and pushed out when read credentials are issued.

Needs the optional extra ``mlemu[uc-legacy]`` (boto3, moto with flask); without it
:func:`missing` says what to install.
"""
from __future__ import annotations

import importlib.util
from typing import Any
from urllib.parse import urlsplit

#: The temporary credentials handed to clients (moto accepts any; Databricks' are STS ones).
CREDENTIALS = {"access_key_id": "MLEMUACCESSKEY", "secret_access_key": "mlemu-secret-access-key",
               "session_token": "mlemu-session-token"}
REGION = "us-east-1"


def missing() -> str | None:
    """Why S3 model storage cannot start here (None: it can)."""
    absent = [m for m in ("boto3", "moto", "flask", "flask_cors") if importlib.util.find_spec(m) is None]
    if absent:
        return (f"S3 model storage for mlflow < 2.13 needs {', '.join(absent)}: "
                "pip install 'mlemu[uc-legacy]'")
    return None


def split(location: str) -> tuple[str, str]:
    """``s3://bucket/a/b`` -> ``("bucket", "a/b")``."""
    parts = urlsplit(location)
    return parts.netloc, parts.path.strip("/")


def _serve() -> Any:
    """moto's S3 app (what ``moto_server`` and ``ThreadedMotoServer`` run) on werkzeug's threaded
    server at 127.0.0.1 on a free port, in a daemon thread, without a log line per request."""
    import threading

    from moto.moto_server.werkzeug_app import (DomainDispatcherApplication, MotoRequestHandler,
                                               create_backend_app)
    from werkzeug.serving import make_server

    class Quiet(MotoRequestHandler):
        def log(self, type: str, message: str, *args: Any) -> None:  # noqa: A002 - werkzeug's name
            pass

    server = make_server("127.0.0.1", 0, DomainDispatcherApplication(create_backend_app), threaded=True,
                         request_handler=Quiet)
    threading.Thread(target=server.serve_forever, name="mlemu-s3", daemon=True).start()
    return server


class S3ModelStorage:
    """One workspace's bucket on a moto S3 server of its own (started by :meth:`start`)."""

    def __init__(self, bucket: str) -> None:
        self.bucket = bucket
        self.endpoint_url = ""
        self._server: Any = None
        self._client: Any = None
        self._bucket_ready = False

    def start(self) -> str:
        """Start the server; return its endpoint URL. The bucket is made on first use
        (:meth:`ensure_bucket`), once the caller let hermetic mode reach the server."""
        problem = missing()
        if problem is not None:
            raise RuntimeError(problem)
        import boto3

        self._server = _serve()
        host, port = self._server.server_address[:2]
        self.endpoint_url = f"http://{host}:{port}"
        self._client = boto3.client("s3", endpoint_url=self.endpoint_url, region_name=REGION,
                                    aws_access_key_id=CREDENTIALS["access_key_id"],
                                    aws_secret_access_key=CREDENTIALS["secret_access_key"],
                                    aws_session_token=CREDENTIALS["session_token"])
        self._bucket_ready = False
        return self.endpoint_url

    def ensure_bucket(self) -> None:
        """An empty bucket at first use. moto's backend is shared by the process: a bucket of the
        same name (a workspace of the same seed earlier in the session) must not leak into this one."""
        if not self._bucket_ready:
            self._empty()
            self._client.create_bucket(Bucket=self.bucket)
            self._bucket_ready = True

    @property
    def netloc(self) -> str:
        return urlsplit(self.endpoint_url).netloc

    def stop(self) -> None:
        if self._server is None:
            return
        try:
            if self._bucket_ready:
                self._empty(delete_bucket=True)
        finally:
            self._server.shutdown()
            self._server.server_close()
            self._server = self._client = None

    def _empty(self, delete_bucket: bool = False) -> None:
        try:
            for key in self._keys(""):
                self._client.delete_object(Bucket=self.bucket, Key=key)
            if delete_bucket:
                self._client.delete_bucket(Bucket=self.bucket)
        except self._client.exceptions.NoSuchBucket:
            pass

    def _keys(self, prefix: str) -> list[str]:
        keys: list[str] = []
        for page in self._client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            keys += [obj["Key"] for obj in page.get("Contents", [])]
        return sorted(keys)

    def pull(self, prefix: str) -> dict[str, bytes]:
        """Every object under ``prefix/``, by path relative to it."""
        base = prefix.strip("/") + "/"
        return {key[len(base):]: self._client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
                for key in self._keys(base) if not key.endswith("/")}

    def push(self, prefix: str, files: dict[str, bytes]) -> None:
        """Make ``prefix/`` hold exactly ``files`` (relative path -> bytes)."""
        base = prefix.strip("/") + "/"
        for key in self._keys(base):
            if key[len(base):] not in files:
                self._client.delete_object(Bucket=self.bucket, Key=key)
        for rel, data in sorted(files.items()):
            self._client.put_object(Bucket=self.bucket, Key=base + rel, Body=data)
