"""Feature probes for the installed databricks-sdk: the matrix runs the oldest one mlemu claims
(0.40) next to the newest, and a test of what the old SDK does not do skips with these reasons."""
from __future__ import annotations

import dataclasses
import inspect

from databricks.sdk.config import Config
from databricks.sdk.service import serving, sql

try:
    from databricks.sdk.mixins.files import FilesExt  # noqa: F401
    FILES_EXT = True
except ImportError:
    FILES_EXT = False
#: w.files downloads through a pre-signed URL, in ranges, and uploads in parts (FilesExt).
FILES_EXT_REASON = ("this databricks-sdk has no FilesExt (w.files is the plain Files API: no pre-signed URLs, "
                    "ranges or parts)")

#: The SDK reads the workspace id from the host metadata.
CONFIG_WORKSPACE_ID = hasattr(Config, "workspace_id")
CONFIG_WORKSPACE_ID_REASON = "this databricks-sdk's Config has no workspace_id (no host metadata probe)"

#: StatementStatus carries the SQLSTATE of a failed statement.
SQL_STATE = "sql_state" in {f.name for f in dataclasses.fields(sql.StatementStatus)}
SQL_STATE_REASON = "this databricks-sdk's StatementStatus has no sql_state"

#: serving_endpoints.patch reads the workspace's {"tags": [...]} answer (older SDKs expect a bare list).
SERVING_TAGS = hasattr(serving, "EndpointTags")
SERVING_TAGS_REASON = "this databricks-sdk reads the tags PATCH answer as a bare list; the workspace answers {\"tags\": [...]}"

#: serving_endpoints.get_open_api returns the schema (older SDKs drop the answer and return None).
SERVING_OPENAPI = inspect.signature(
    serving.ServingEndpointsAPI.get_open_api).return_annotation is not inspect.Signature.empty
SERVING_OPENAPI_REASON = "this databricks-sdk's serving_endpoints.get_open_api returns None"
