"""Limits and key/value checks of the tracking service, with the wording mlflow's own server
uses (``mlflow/utils/validation.py``) so error messages read the same to users.

Limits are Databricks' where it documents them (log-batch request limits, 64 KB tag values,
search thresholds) and mlflow's otherwise (6000-character param values, 250-character keys).
"""
from __future__ import annotations

import functools
import json
import math
import posixpath
import re
from typing import Any, Iterable, Mapping

from mlemu.server.core.errors import ApiError, invalid
from mlemu.server.core.storage import normalize

MAX_ENTITY_KEY_LENGTH = 250
MAX_PARAM_VAL_LENGTH = 6000
MAX_TAG_VAL_BYTES = 64 * 1024          # Databricks: "Values up to 64KB in size are supported"
MAX_EXPERIMENT_NAME_LENGTH = 500
MAX_METRICS_PER_BATCH = 1000
MAX_PARAMS_TAGS_PER_BATCH = 100
MAX_ENTITIES_PER_BATCH = 1000
MAX_BATCH_LOG_REQUEST_SIZE = 1_000_000  # Databricks: "may be up to 1 MB in size"
MAX_DATASET_NAME_SIZE = 500
MAX_DATASET_DIGEST_SIZE = 36
MAX_DATASET_SCHEMA_SIZE = 1_048_575
MAX_DATASET_SOURCE_SIZE = 65_535
MAX_DATASET_PROFILE_SIZE = 16_777_215
MAX_INPUT_TAG_KEY_SIZE = 255
MAX_INPUT_TAG_VALUE_SIZE = 500

SEARCH_RUNS_DEFAULT = 1000
SEARCH_RUNS_MAX = 50_000                # Databricks: "Max threshold is 50000"
SEARCH_EXPERIMENTS_DEFAULT = 1000
SEARCH_EXPERIMENTS_MAX = 3000           # Databricks: "Max threshold is 3000"
METRIC_HISTORY_PAGE_MAX = 25_000        # Databricks: "If set higher than 25,000, ... Exception"
SEARCH_LOGGED_MODELS_MAX = 50           # Databricks: "The maximum limit is 50."
BULK_INTERVAL_MAX_RUNS = 100
BULK_INTERVAL_MAX_RESULTS = 2500

_NAME_RE = re.compile(r"^[/\w.\- :]*$")
_LOGGED_MODEL_NAME_BAD_CHARS = ("/", ":", ".", "%", '"', "'")


Pairs = Mapping[str, Any] | Iterable[tuple[str, Any]]


def as_pairs(items: Pairs | None) -> list[tuple[str, Any]]:
    """Params and tags arrive as dicts (fixture API) or ordered ``(key, value)`` pairs (wire)."""
    if items is None:
        return []
    if isinstance(items, Mapping):
        return list(items.items())
    return [tuple(p) for p in items]  # type: ignore[misc]


def invalid_value(path: str, value: Any, message: str | None = None) -> str:
    """mlflow's standard "Invalid value ... for parameter ..." sentence."""
    shown = json.dumps(value, sort_keys=True, separators=(",", ":"))
    if len(shown) > 1000:  # a megabyte key is not echoed back whole
        shown = shown[:1000] + "..."
    if message:
        return f"Invalid value {shown} for parameter '{path}' supplied: {message}"
    return f"Invalid value {shown} for parameter '{path}' supplied."


def check_experiment_id(experiment_id: Any) -> None:
    """Experiment ids are workspace node ids: decimal integers. Anything else is a bad request
    (400), not a missing experiment, the way mlflow's server words it."""
    text = str(experiment_id) if experiment_id is not None else ""
    if not (text.isascii() and text.isdigit()):
        raise invalid(invalid_value("experiment_id", text, "Experiment ID must be a valid integer."))


def _join(path: str, leaf: str) -> str:
    return f"{path}.{leaf}" if path else leaf


def check_key(kind: str, key: Any, path: str = "key") -> str:
    """A metric/param/tag key: present, of allowed characters, not path-like, <= 250 chars."""
    if key is None or key == "":
        raise invalid(f"Missing value for required parameter '{path}'.")
    if not isinstance(key, str):
        raise invalid(invalid_value(path, key, _KEY_CHARS))
    problem = _key_problem(key)
    if problem is not None:
        reason, detail = problem
        if reason == "length":
            raise invalid(f"'{kind} key' exceeds the maximum length of {MAX_ENTITY_KEY_LENGTH} characters")
        raise invalid(invalid_value(path, key, detail))
    return key


_KEY_CHARS = ("Names may only contain alphanumerics, underscores (_), dashes (-), "
              "periods (.), spaces ( ), colon(:) and slashes (/).")


def _key_problem(key: str) -> tuple[str, str] | None:
    """Why ``key`` is not a valid name, or None. Keys of valid length are cached (a batch
    repeats its keys); longer ones are refused anyway and would make the cache hold megabytes."""
    if len(key) <= MAX_ENTITY_KEY_LENGTH:
        return _short_key_problem(key)
    return _find_key_problem(key)


def _find_key_problem(key: str) -> tuple[str, str] | None:
    if not _NAME_RE.match(key):
        return "chars", _KEY_CHARS
    norm = posixpath.normpath(key)
    if norm != key or norm == "." or norm.startswith("..") or norm.startswith("/"):
        return "path", ("Names may be treated as files in certain cases, and must not resolve to other "
                        f"names when treated as such. This name would resolve to {norm!r}")
    if len(key) > MAX_ENTITY_KEY_LENGTH:
        return "length", ""
    return None


#: At most 4,096 keys of at most 250 characters: about 1 MB.
_short_key_problem = functools.lru_cache(maxsize=4096)(_find_key_problem)


def check_param(key: Any, value: Any, path: str = "") -> tuple[str, str]:
    check_key("Param", key, _join(path, "key"))
    if value is None:
        raise invalid(f"Missing value for required parameter '{_join(path, 'value')}'.")
    value = str(value)
    if len(value) > MAX_PARAM_VAL_LENGTH:
        raise invalid(f"'Param value' exceeds the maximum length of {MAX_PARAM_VAL_LENGTH} characters")
    return key, value


def check_tag(key: Any, value: Any, path: str = "") -> tuple[str, str]:
    check_key("Tag", key, _join(path, "key"))
    value = "" if value is None else str(value)
    if len(value) * 4 > MAX_TAG_VAL_BYTES and len(value.encode("utf-8")) > MAX_TAG_VAL_BYTES:
        raise invalid(f"'{_join(path, 'value')}' exceeds the maximum size of {MAX_TAG_VAL_BYTES} bytes")
    return key, value


def check_metric(key: Any, value: Any, timestamp: Any, step: Any, path: str = "") -> None:
    check_key("Metric", key, _join(path, "key"))
    if value is None:
        raise invalid(f"Missing value for required parameter '{_join(path, 'value')}'.")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise invalid(invalid_value(_join(path, "value"), value,
                                    f"(timestamp={timestamp}). Please specify value as a valid double "
                                    "(64-bit floating point)"))
    if timestamp is None:
        raise invalid(f"Missing value for required parameter '{_join(path, 'timestamp')}'.")
    if timestamp < 0:
        raise invalid(invalid_value(_join(path, "timestamp"), timestamp,
                                    f"metric '{key}' (value={value}). Timestamp must be a nonnegative "
                                    "long (64-bit integer) "))


def check_params_unchanged(existing: Mapping[str, str], pairs: Iterable[tuple[str, str]], owner: str) -> None:
    """Params are immutable: logging a key again with another value is refused (same value is fine).
    ``owner`` names the run or logged model in the message, e.g. "run ID='...'"."""
    conflicts = [{"key": k, "old_value": existing[k], "new_value": val}
                 for k, val in pairs if k in existing and existing[k] != val]
    if conflicts:
        raise invalid(f"Changing param values is not allowed. Params were already logged='{conflicts}' "
                      f"for {owner}.")


def check_batch_limits(n_metrics: int, n_params: int, n_tags: int) -> None:
    """Databricks' log-batch request limits, checked before anything is written."""
    def limit(entity: str, maximum: int, got: int) -> None:
        if got > maximum:
            raise invalid(f"A batch logging request can contain at most {maximum} {entity}. Got {got} "
                          f"{entity}. Please split up {entity} across multiple requests and try again.")
    limit("metrics", MAX_METRICS_PER_BATCH, n_metrics)
    limit("params", MAX_PARAMS_TAGS_PER_BATCH, n_params)
    limit("tags", MAX_PARAMS_TAGS_PER_BATCH, n_tags)
    limit("metrics, params, and tags", MAX_ENTITIES_PER_BATCH, n_metrics + n_params + n_tags)


def check_max_results(value: int | None, default: int, maximum: int, name: str = "max_results") -> int:
    if value is None:
        return default
    if value <= 0:
        raise invalid(f"Invalid value {value} for parameter '{name}' supplied. It must be a positive integer")
    if value > maximum:
        raise invalid(f"Invalid value {value} for parameter '{name}' supplied. It must be at most {maximum}")
    return value


def check_experiment_name(name: Any) -> str:
    """Databricks experiment names are absolute workspace paths."""
    if name is None or name == "":
        raise invalid("Missing value for required parameter 'name'.")
    if not isinstance(name, str) or not name.startswith("/"):
        raise invalid(invalid_experiment_name_message(name))
    if len(name) > MAX_EXPERIMENT_NAME_LENGTH:
        raise invalid(f"'name' exceeds the maximum length of {MAX_EXPERIMENT_NAME_LENGTH} characters")
    return name


def check_artifact_location(location: str) -> str:
    """An experiment's ``artifact_location``: a ``dbfs:/`` URI this workspace stores, without
    traversal. Anything else would make every artifact call on the experiment's runs fail."""
    text = str(location).rstrip("/")
    if not text.startswith("dbfs:/"):
        raise invalid(f"Invalid artifact location {text[:1000]!r}: experiments in this workspace keep "
                      "their artifacts under a dbfs:/ location.")
    path = text[len("dbfs:"):]
    if path.startswith("//"):  # dbfs://<profile>@databricks/<path>
        path = "/" + path[2:].partition("/")[2]
    try:
        normalize(path)
    except ApiError:
        raise invalid(f"Invalid artifact location {text[:1000]!r}: not a valid absolute DBFS path.") from None
    return text


def check_run_name(name: str | None, path: str = "run_name") -> str | None:
    """A run name is stored as the ``mlflow.runName`` tag: the tag value limit applies."""
    if name is not None and len(name) * 4 > MAX_TAG_VAL_BYTES and len(name.encode("utf-8")) > MAX_TAG_VAL_BYTES:
        raise invalid(f"'{path}' exceeds the maximum size of {MAX_TAG_VAL_BYTES} bytes")
    return name


RUN_NAME_TAG = "mlflow.runName"


def invalid_experiment_name_message(name: Any) -> str:
    return (f"Got an invalid experiment name '{name}'. An experiment name must be an absolute path "
            "within the Databricks workspace, e.g. '/Users/<some-username>/my-experiment'.")


def check_logged_model_name(name: str | None) -> None:
    if name is None:
        return
    if not name or any(c in name for c in _LOGGED_MODEL_NAME_BAD_CHARS):
        raise invalid(f"Invalid model name ({name!r}) provided. Model name must be a non-empty string "
                      f"and cannot contain the following characters: {_LOGGED_MODEL_NAME_BAD_CHARS}")


def check_dataset(name: str, digest: str, source_type: str, source: str,
                  schema: str | None, profile: str | None) -> None:
    for field, value in (("name", name), ("digest", digest), ("source_type", source_type),
                         ("source", source)):
        if not value:
            raise invalid(f"Dataset {field} is required.")
    if len(name) > MAX_DATASET_NAME_SIZE:
        raise invalid(f"Dataset name exceeds the maximum length of {MAX_DATASET_NAME_SIZE}")
    if len(digest) > MAX_DATASET_DIGEST_SIZE:
        raise invalid(f"Dataset digest exceeds the maximum length of {MAX_DATASET_DIGEST_SIZE}")
    if len(source) > MAX_DATASET_SOURCE_SIZE:
        raise invalid(f"Dataset source exceeds the maximum length of {MAX_DATASET_SOURCE_SIZE}")
    if schema and len(schema) > MAX_DATASET_SCHEMA_SIZE:
        raise invalid(f"Dataset schema exceeds the maximum length of {MAX_DATASET_SCHEMA_SIZE}")
    if profile and len(profile) > MAX_DATASET_PROFILE_SIZE:
        raise invalid(f"Dataset profile exceeds the maximum length of {MAX_DATASET_PROFILE_SIZE}")


def check_input_tag(key: str, value: str) -> None:
    if not key:
        raise invalid("Input tag key is required.")
    if value is None:
        raise invalid("Input tag value is required.")
    if len(key) > MAX_INPUT_TAG_KEY_SIZE:
        raise invalid(f"Input tag key exceeds the maximum length of {MAX_INPUT_TAG_KEY_SIZE}")
    if len(value) > MAX_INPUT_TAG_VALUE_SIZE:
        raise invalid(f"Input tag value exceeds the maximum length of {MAX_INPUT_TAG_VALUE_SIZE}")


def comparable(value: float) -> float:
    """A metric value as the latest-metric rule compares it (NaN sorts like 0, as mlflow stores it)."""
    return 0.0 if math.isnan(value) else value
