"""MLflow traces stored in an experiment (the default trace storage of a Databricks workspace):
trace infos with their tags, metadata, run links and assessments, and where each trace's span
data (``traces.json``) is kept.

One :class:`Trace` serves both wire generations: mlflow 3 sends a finished ``TraceInfoV3``
(StartTraceV3, the client picks the id ``tr-<otel trace id>``); mlflow 2.22 asks the server
for an id at the start (StartTrace) and completes the info at the end (EndTrace). Span data is
never parsed here: the client uploads and downloads it through pre-signed URLs, stored under
the ``mlflow.artifactLocation`` the server assigns (see
:func:`mlemu.server.services.mlflow_artifacts.locations.artifact_storage`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping

from mlemu.server.core.errors import ApiError, invalid, not_found
from mlemu.server.services.mlflow_artifacts.locations import artifact_storage
from mlemu.server.services.tracking import search as srch
from mlemu.server.core.paging import Page

if TYPE_CHECKING:
    from mlemu.server.core.workspace import WorkspaceState

ARTIFACT_LOCATION_TAG = "mlflow.artifactLocation"
TRACE_NAME_TAG = "mlflow.traceName"
SOURCE_RUN_METADATA = "mlflow.sourceRun"
TRACE_DATA_FILE = "traces.json"
#: The states of a trace (``TraceInfoV3.State``; v2's ``TraceStatus`` has the same names).
STATES = ("STATE_UNSPECIFIED", "OK", "ERROR", "IN_PROGRESS")
#: Trace ids per delete-traces / link-to-run call (mlflow batches deletions by 100).
MAX_IDS_PER_CALL = 100
#: Largest page of a trace search; bigger requests get this many and a page token.
SEARCH_PAGE_CAP = 500
#: Fields of an assessment an update may change (the FieldMask paths).
UPDATABLE_ASSESSMENT_FIELDS = frozenset({"assessment_name", "feedback", "expectation", "rationale",
                                         "metadata", "valid", "span_id"})
METADATA = "metadata"

TRACES = srch.Grammar(
    entities={"attribute": srch.ATTRIBUTE, "attributes": srch.ATTRIBUTE, "attr": srch.ATTRIBUTE,
              "trace": srch.ATTRIBUTE, "tag": srch.TAG, "tags": srch.TAG,
              "metadata": METADATA, "request_metadata": METADATA},
    attributes=frozenset({"request_id", "trace_id", "timestamp_ms", "execution_time_ms", "end_time_ms",
                          "status", "state", "client_request_id", "name", "run_id", "experiment_id"}),
    numeric_attributes=frozenset({"timestamp_ms", "execution_time_ms", "end_time_ms"}),
    order_attributes=frozenset({"experiment_id", "timestamp_ms", "execution_time_ms", "end_time_ms",
                                "status", "state", "request_id", "trace_id", "name", "run_id"}),
    comparators={srch.TAG: srch.TAG_COMPARATORS, METADATA: srch.TAG_COMPARATORS},
    list_attributes=frozenset({"name", "status", "state", "request_id", "trace_id", "run_id",
                               "client_request_id"}),
    aliases={"timestamp": "timestamp_ms", "execution_time": "execution_time_ms",
             "end_time": "end_time_ms"},
)
DEFAULT_ORDER = (srch.OrderKey(srch.ATTRIBUTE, "timestamp_ms", False),
                 srch.OrderKey(srch.ATTRIBUTE, "request_id", True))


@dataclass
class Trace:
    """One trace of an experiment. Assessments are kept as the client's proto-JSON objects
    with the fields the server owns (id, times, ``valid``) filled in."""

    trace_id: str
    experiment_id: str
    request_time_ms: int
    execution_duration_ms: int | None = None
    state: str = "IN_PROGRESS"
    metadata: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    request_preview: str | None = None
    response_preview: str | None = None
    client_request_id: str | None = None
    assessments: dict[str, dict[str, Any]] = field(default_factory=dict)
    linked_run_ids: list[str] = field(default_factory=list)
    #: For traces kept in Unity Catalog (``mlemu.server.services.tracing_uc``): their location.
    uc_location: Any = None

    @property
    def run_ids(self) -> list[str]:
        """The runs a trace belongs to: where it was made, and the runs it was linked to."""
        source = self.metadata.get(SOURCE_RUN_METADATA)
        return ([source] if source else []) + [r for r in self.linked_run_ids if r != source]

    @property
    def end_time_ms(self) -> int | None:
        d = self.execution_duration_ms
        return None if d is None else self.request_time_ms + d


class Tracing:
    """The traces of one workspace, by id."""

    def __init__(self, ws: "WorkspaceState") -> None:
        self._ws = ws
        self._traces: dict[str, Trace] = {}

    # -- creation ------------------------------------------------------------------------
    def start_trace_v3(self, trace: Trace) -> Trace:
        """Record a finished trace (StartTraceV3 is sent once, when the root span ends). A
        retried request for the same id replaces the info but keeps assessments and links."""
        if not re.fullmatch(r"tr-[0-9a-f]{32}", trace.trace_id or ""):
            raise invalid(f"Invalid trace ID '{trace.trace_id}': expected 'tr-' and 32 hex digits.")
        self._check_state(trace.state)
        self._active_experiment(trace.experiment_id)
        old = self._traces.get(trace.trace_id)
        if old is not None:
            if old.experiment_id != trace.experiment_id:
                raise ApiError("RESOURCE_ALREADY_EXISTS",
                               f"Trace with ID '{trace.trace_id}' already exists in another experiment.")
            trace.assessments, trace.linked_run_ids = old.assessments, old.linked_run_ids
        trace.tags.setdefault(ARTIFACT_LOCATION_TAG, self._artifact_location(trace))
        self._traces[trace.trace_id] = trace
        return trace

    def start_trace_v2(self, experiment_id: str, timestamp_ms: int, metadata: Mapping[str, str],
                       tags: Mapping[str, str]) -> Trace:
        """mlflow 2.x: the server picks the id of a trace that has just started."""
        self._active_experiment(experiment_id)
        trace_id = "tr-" + self._ws.ids.hex(32)
        trace = Trace(trace_id, experiment_id, int(timestamp_ms), None, "IN_PROGRESS",
                      dict(metadata), dict(tags))
        trace.tags.setdefault(ARTIFACT_LOCATION_TAG, self._artifact_location(trace))
        self._traces[trace_id] = trace
        return trace

    def end_trace_v2(self, trace_id: str, timestamp_ms: int, status: str,
                     metadata: Mapping[str, str], tags: Mapping[str, str]) -> Trace:
        trace = self.get(trace_id)
        self._check_state(status)
        if timestamp_ms < trace.request_time_ms:
            raise invalid(f"The end time {timestamp_ms} of trace '{trace_id}' is before its start "
                          f"time {trace.request_time_ms}.")
        trace.execution_duration_ms = int(timestamp_ms) - trace.request_time_ms
        trace.state = status
        trace.metadata.update(metadata)
        trace.tags.update(tags)
        return trace

    # -- reading -------------------------------------------------------------------------
    def get(self, trace_id: str) -> Trace:
        trace = self._traces.get(trace_id)
        if trace is None:
            raise not_found(f"Trace with ID '{trace_id}' not found.")
        return trace

    def traces(self, experiment_ids: Iterable[str] | None = None) -> list[Trace]:
        """Traces kept in experiments, in creation order (of all experiments, or of the given ones)."""
        wanted = None if experiment_ids is None else set(experiment_ids)
        return [t for t in self._traces.values() if wanted is None or t.experiment_id in wanted]

    def search(self, experiment_ids: list[str], filter: str | None = None, max_results: int = 100,
               order_by: list[str] | None = None, page_token: str | None = None
               ) -> Page[Trace]:
        if not experiment_ids:
            raise invalid("At least one experiment (location) is required to search traces.")
        if max_results is not None and max_results < 1:
            raise invalid(f"Invalid value {max_results} for parameter 'max_results': it must be positive.")
        for exp in experiment_ids:
            self._ws.tracking.get_experiment(exp)
        clauses = srch.parse_filter(filter, TRACES)
        keys = [srch.parse_order_by(o, TRACES) for o in order_by or []] + list(DEFAULT_ORDER)
        hits = [t for t in self.traces(experiment_ids) if all(matches(t, c) for c in clauses)]
        hits = srch.apply_order(hits, keys, order_value)
        query = srch.fingerprint(sorted(experiment_ids), filter, order_by)
        return srch.paginate(hits, page_token, min(max_results or 100, SEARCH_PAGE_CAP), query)

    # -- tags, deletion, links -----------------------------------------------------------
    def set_tag(self, trace_id: str, key: str, value: str) -> None:
        if not key:
            raise invalid("Missing value for required parameter 'key'.")
        self.get(trace_id).tags[key] = value

    def delete_tag(self, trace_id: str, key: str) -> None:
        trace = self.get(trace_id)
        if key not in trace.tags:
            raise not_found(f"No trace tag with key '{key}' for trace with ID '{trace_id}'.")
        del trace.tags[key]

    def delete_traces(self, experiment_id: str, trace_ids: list[str] | None = None,
                      max_timestamp_millis: int | None = None, max_traces: int | None = None) -> int:
        """Delete by ids, or every trace older than ``max_timestamp_millis`` (oldest first,
        at most ``max_traces``). Unknown ids are skipped; the count says what was deleted."""
        self._ws.tracking.get_experiment(experiment_id)
        if bool(trace_ids) == (max_timestamp_millis is not None):
            raise invalid("Exactly one of 'max_timestamp_millis' and 'request_ids' must be specified.")
        if trace_ids:
            if len(trace_ids) > MAX_IDS_PER_CALL:
                raise invalid(f"At most {MAX_IDS_PER_CALL} trace IDs can be deleted in one request; "
                              f"got {len(trace_ids)}.")
            doomed = [t for t in (self._traces.get(i) for i in trace_ids)
                      if t is not None and t.experiment_id == experiment_id]
        else:
            if max_traces is not None and max_traces < 1:
                raise invalid(f"Invalid value {max_traces} for parameter 'max_traces': it must be positive.")
            doomed = sorted((t for t in self.traces([experiment_id])
                             if t.request_time_ms <= max_timestamp_millis),  # type: ignore[operator]
                            key=lambda t: (t.request_time_ms, t.trace_id))[:max_traces]
        for t in doomed:
            ns, path = self.data_location(t)
            self._ws.storage.delete(ns, path.rsplit("/", 1)[0], recursive=True)
            del self._traces[t.trace_id]
        return len(doomed)

    def link_to_run(self, trace_ids: list[str], run_id: str) -> None:
        if len(trace_ids) > MAX_IDS_PER_CALL:
            raise invalid(f"At most {MAX_IDS_PER_CALL} traces can be linked to a run in one request; "
                          f"got {len(trace_ids)}.")
        run = self._ws.tracking.get_run(run_id)
        traces = [self.get(i) for i in trace_ids]
        for t in traces:
            if t.experiment_id != run.info.experiment_id:
                raise invalid(f"Trace '{t.trace_id}' is in experiment {t.experiment_id}, run "
                              f"'{run_id}' in experiment {run.info.experiment_id}.")
        for t in traces:
            if run_id not in t.linked_run_ids:
                t.linked_run_ids.append(run_id)

    # -- span data -----------------------------------------------------------------------
    def data_location(self, trace: Trace, path: str = "") -> tuple[str, str]:
        """Storage ``(namespace, path)`` of the trace's span data (or of an attachment)."""
        location = trace.tags.get(ARTIFACT_LOCATION_TAG) or self._artifact_location(trace)
        rel = path.strip("/") or TRACE_DATA_FILE
        if ".." in rel.split("/"):
            raise invalid(f"Invalid value {path!r} for parameter 'path'.")
        return artifact_storage(f"{location.rstrip('/')}/{rel}")

    def span_data(self, trace_id: str) -> bytes | None:
        """The uploaded ``traces.json`` of a trace (None before the client uploaded it)."""
        ns, path = self.data_location(self.get(trace_id))
        return self._ws.storage.read(ns, path) if self._ws.storage.is_file(ns, path) else None

    # -- assessments ---------------------------------------------------------------------
    def create_assessment(self, trace_id: str, assessment: dict[str, Any]) -> dict[str, Any]:
        return create_assessment(self._ws, self.get(trace_id), assessment)

    def get_assessment(self, trace_id: str, assessment_id: str) -> dict[str, Any]:
        return get_assessment(self.get(trace_id), assessment_id)

    def update_assessment(self, trace_id: str, assessment_id: str, changes: dict[str, Any],
                          paths: list[str]) -> dict[str, Any]:
        return update_assessment(self._ws, self.get(trace_id), assessment_id, changes, paths)

    def delete_assessment(self, trace_id: str, assessment_id: str) -> None:
        delete_assessment(self.get(trace_id), assessment_id)

    # -- helpers -------------------------------------------------------------------------
    def _active_experiment(self, experiment_id: str) -> None:
        if not experiment_id:
            raise invalid("Missing value for required parameter 'experiment_id'.")
        exp = self._ws.tracking.get_experiment(experiment_id)
        if exp.lifecycle_stage != "active":
            raise invalid(f"The experiment {experiment_id} must be in the 'active' state. "
                          f"Current state is {exp.lifecycle_stage}.")

    @staticmethod
    def _artifact_location(trace: Trace) -> str:
        return f"dbfs:/databricks/mlflow-tracking/{trace.experiment_id}/{trace.trace_id}/artifacts"

    @staticmethod
    def _check_state(state: str) -> None:
        if state not in STATES and state != "TRACE_STATUS_UNSPECIFIED":
            raise invalid(f"Invalid trace state '{state}'. Valid values are {list(STATES)}.")


# -- assessments (the same rules for traces in experiments and in Unity Catalog) -----------
def create_assessment(ws: "WorkspaceState", trace: Trace, assessment: dict[str, Any]) -> dict[str, Any]:
    """Store a new assessment with a server-assigned id; with ``overrides``, the assessment
    it replaces becomes invalid."""
    a = dict(assessment)
    _check_assessment(a)
    overrides = a.get("overrides")
    replaced = None
    if overrides:
        replaced = trace.assessments.get(overrides)
        if replaced is None:
            raise not_found(f"Assessment '{overrides}' to override not found in trace '{trace.trace_id}'.")
    a["assessment_id"] = "a-" + ws.ids.hex(32)
    a["trace_id"] = trace.trace_id
    a.setdefault("create_time", ws.clock.now_ms())
    a["last_update_time"] = a.get("last_update_time") or a["create_time"]
    a.setdefault("valid", True)
    if replaced is not None:
        replaced["valid"] = False
    trace.assessments[a["assessment_id"]] = a
    return a


def get_assessment(trace: Trace, assessment_id: str) -> dict[str, Any]:
    a = trace.assessments.get(assessment_id)
    if a is None:
        raise not_found(f"Assessment with ID '{assessment_id}' not found in trace '{trace.trace_id}'.")
    return a


def update_assessment(ws: "WorkspaceState", trace: Trace, assessment_id: str, changes: dict[str, Any],
                      paths: list[str]) -> dict[str, Any]:
    """Apply the fields named by the update mask (a field named but not given is cleared)."""
    current = get_assessment(trace, assessment_id)
    if not paths:
        raise invalid("Missing value for required parameter 'update_mask'.")
    unknown = sorted(set(paths) - UPDATABLE_ASSESSMENT_FIELDS)
    if unknown:
        raise invalid(f"Invalid update_mask: the field(s) {unknown} cannot be updated. Updatable "
                      f"fields are {sorted(UPDATABLE_ASSESSMENT_FIELDS)}.")
    updated = dict(current)
    for p in paths:
        if p in changes:
            updated[p] = changes[p]
        else:
            updated.pop(p, None)
    if "feedback" in paths and "feedback" in updated:
        updated.pop("expectation", None)
    if "expectation" in paths and "expectation" in updated:
        updated.pop("feedback", None)
    _check_assessment(updated)
    updated["last_update_time"] = ws.clock.now_ms()
    current.clear()
    current.update(updated)
    return current


def delete_assessment(trace: Trace, assessment_id: str) -> None:
    """Delete an assessment; deleting an override makes the one it replaced valid again."""
    a = get_assessment(trace, assessment_id)
    del trace.assessments[assessment_id]
    replaced = trace.assessments.get(a.get("overrides") or "")
    if replaced is not None:
        replaced["valid"] = True


def _check_assessment(a: Mapping[str, Any]) -> None:
    if not a.get("assessment_name"):
        raise invalid("Missing value for required parameter 'assessment.assessment_name'.")
    kinds = [k for k in ("feedback", "expectation") if a.get(k) is not None]
    if len(kinds) != 1:
        raise invalid("Exactly one of 'feedback' or 'expectation' must be set on an assessment.")
    source = a.get("source") or {}
    if not source.get("source_type"):
        raise invalid("Missing value for required parameter 'assessment.source.source_type'.")


# -- search --------------------------------------------------------------------------------
def _attribute(t: Trace, key: str) -> Any:
    getters: dict[str, Callable[[Trace], Any]] = {
        "request_id": lambda t: t.trace_id, "trace_id": lambda t: t.trace_id,
        "timestamp_ms": lambda t: t.request_time_ms, "execution_time_ms": lambda t: t.execution_duration_ms,
        "end_time_ms": lambda t: t.end_time_ms, "status": lambda t: t.state, "state": lambda t: t.state,
        "client_request_id": lambda t: t.client_request_id, "name": lambda t: t.tags.get(TRACE_NAME_TAG),
        "experiment_id": lambda t: t.experiment_id,
        "run_id": lambda t: (t.run_ids or [None])[0],
    }
    return getters[key](t)


def matches(t: Trace, c: srch.Clause) -> bool:
    if c.kind == srch.TAG:
        return c.test(t.tags.get(c.key))
    if c.kind == METADATA:
        return c.test(t.metadata.get(c.key))
    if c.key == "run_id":  # the source run, or any run the trace was linked to
        candidates = t.run_ids or [None]
        return (all if c.comparator in ("!=", "NOT IN") else any)(c.test(r) for r in candidates)
    return c.test(_attribute(t, c.key))


def order_value(t: Trace, key: srch.OrderKey) -> Any:
    if key.kind == srch.TAG:
        return t.tags.get(key.key)
    if key.kind == METADATA:
        return t.metadata.get(key.key)
    return _attribute(t, key.key)
