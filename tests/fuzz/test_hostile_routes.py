"""Hostile-input fuzzing of every route in the routing table (hypothesis).

For each route, generated requests (hostile path variables, query strings and JSON bodies
built from the route's own pydantic model, plus raw garbage) go through ``App.handle``, the
code both transports call. Every answer must be a success or an error with an ``error_code``
(S3-style XML with a ``<Code>`` for pre-signed URLs), never a 500; a refused request must
leave the state as it was; and a known state the fuzzer is never told about must be intact
after each route's batch.

Routes that reach stored bytes run against both stores (memory and directory).

Budget: ``MLEMU_FUZZ_EXAMPLES`` examples per route (default 12, derandomized, so the normal
test run is short and repeatable); ``scripts/fuzz.sh`` runs a long, random campaign.
"""
from __future__ import annotations

import base64
import json
import os
from urllib.parse import quote, urlencode

import pytest

hypothesis = pytest.importorskip("hypothesis", reason="hypothesis is not installed")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from mlemu import Workspace  # noqa: E402
from mlemu.server import plugins  # noqa: E402

EXAMPLES = int(os.environ.get("MLEMU_FUZZ_EXAMPLES", "12"))
RANDOM = os.environ.get("MLEMU_FUZZ_RANDOM", "") == "1"
ROUTES = plugins.app().routes
FROZEN_MS = 1_700_000_000_000
KNOWN_VOLUME_FILE = "/Volumes/main/default/known_vol/keep-3f9c.txt"
KNOWN_DBFS_FILE = "/known-3f9c/keep.txt"
KNOWN_EXPERIMENT = "/Shared/known-3f9c"


# -- the workspace under attack --------------------------------------------------------------------
def _call(ws: Workspace, method: str, path: str, body: object = None, query: str = "",
          raw: bytes | None = None) -> tuple[int, bytes]:
    data = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
    status, _, out = ws.handle(method, path, query, {"authorization": f"Bearer {ws.token}"}, data)
    return status, out


def _ok(ws: Workspace, method: str, path: str, body: object = None, raw: bytes | None = None) -> dict:
    status, out = _call(ws, method, path, body, raw=raw)
    assert status < 300, (method, path, status, out)
    return json.loads(out) if out else {}


def _seed(ws: Workspace) -> dict[str, list[str]]:
    """A known state (never shown to the fuzzer) and a playground (offered to it)."""
    ws.clock.freeze(FROZEN_MS)
    known_exp = _ok(ws, "POST", "/api/2.0/mlflow/experiments/create", {"name": KNOWN_EXPERIMENT})["experiment_id"]
    known_run = _ok(ws, "POST", "/api/2.0/mlflow/runs/create", {"experiment_id": known_exp})["run"]["info"]["run_id"]
    _ok(ws, "POST", "/api/2.0/mlflow/runs/log-metric",
        {"run_id": known_run, "key": "m", "value": 1.5, "timestamp": 1, "step": 2})
    _ok(ws, "PUT", "/api/2.0/fs/files" + KNOWN_VOLUME_FILE, raw=b"keep")
    _ok(ws, "POST", "/api/2.0/dbfs/put", {"path": KNOWN_DBFS_FILE, "contents": base64.b64encode(b"keep").decode()})
    ws.known = {"experiment_id": known_exp, "run_id": known_run}  # type: ignore[attr-defined]

    play_exp = _ok(ws, "POST", "/api/2.0/mlflow/experiments/create", {"name": "/Shared/play"})["experiment_id"]
    play_run = _ok(ws, "POST", "/api/2.0/mlflow/runs/create", {"experiment_id": play_exp})["run"]["info"]["run_id"]
    _ok(ws, "PUT", "/api/2.0/fs/files/Volumes/main/default/play/a.txt", raw=b"a")
    _ok(ws, "POST", "/api/2.0/dbfs/put", {"path": "/play/a.txt", "contents": ""})
    model = _call(ws, "POST", "/api/2.0/mlflow/logged-models", {"experiment_id": play_exp})[1]
    model_id = json.loads(model).get("model", {}).get("info", {}).get("model_id", "m-0")
    _call(ws, "POST", "/api/2.0/mlflow/unity-catalog/registered-models/create", {"name": "main.default.play"})
    return {
        "id": [play_exp, play_run, model_id, "1", "0", "-1"],
        "name": ["main", "main.default", "main.default.play", "main.default.play.x", "play", "champion"],
        "path": ["/Volumes/main/default/play/a.txt", "Volumes/main/default/play", "/play/a.txt", "/play",
                 "/", "/Volumes", "/Volumes/main/default/play/[ab]*", "/Shared/play", "dbfs:/play/a.txt",
                 "/Volumes/main/default/play/../../known_vol", "dbfs:/../x"],
    }


def _known_state(ws: Workspace) -> list[tuple[int, bytes]]:
    k = ws.known  # type: ignore[attr-defined]
    return [
        _call(ws, "GET", "/api/2.0/mlflow/experiments/get", query=f"experiment_id={k['experiment_id']}"),
        _call(ws, "GET", "/api/2.0/mlflow/runs/get", query=f"run_id={k['run_id']}"),
        _call(ws, "GET", "/api/2.0/fs/files" + KNOWN_VOLUME_FILE),
        _call(ws, "GET", "/api/2.0/dbfs/read", query=urlencode({"path": KNOWN_DBFS_FILE})),
    ]


def _stored_files(ws: Workspace) -> tuple:
    if ws.artifact_root is None:
        return tuple(sorted((k, f.size) for k, f in ws.storage.fs.store.items())), tuple(
            sorted(ws.storage.fs.pseudo_dirs))
    found = []
    for folder, dirs, names in os.walk(ws.artifact_root):
        found += [(os.path.join(folder, d), -1) for d in dirs]
        found += [(os.path.join(folder, n), os.path.getsize(os.path.join(folder, n))) for n in names]
    return tuple(sorted(found)), ()


def _fingerprint(ws: Workspace) -> tuple:
    """A cheap summary of every stateful corner: what a refused request must not change."""
    tracking = ws.tracking
    runs = tuple(sorted((rid, r.info.status, r.info.lifecycle_stage if hasattr(r.info, "lifecycle_stage") else "",
                         len(r.data.params), len(r.data.tags), sum(map(len, r.data.history.values())))
                        for rid, r in tracking._runs.items()))
    exps = tuple(sorted((e.experiment_id, e.name, len(e.tags), getattr(e, "lifecycle_stage", ""))
                        for e in tracking._experiments.values()))
    return (_stored_files(ws), runs, exps,
            len(ws.registry._models), len(ws.unity_catalog._catalogs), len(ws.unity_catalog._schemas),
            len(ws.workspace_files._objects))


# -- generated input -------------------------------------------------------------------------------
_NASTY_TEXT = st.sampled_from([
    "", " ", "*", "?", "[ab]*", "**", "{a,b}", "..", "../..", "/", "//", "%2e%2e", "%00", "\x00", "~",
    "file:///etc/passwd", "s3://b/k", "dbfs:/", "::", "a" * 300, "é" * 200, "\U0001F600", "NaN", "-0",
    "1" * 30, "9" * 5001, "true", "null", "{}", "[]", "\\", "'\"", "\r\nX-Injected: 1", "\ufeff",
])
_TEXT = st.one_of(_NASTY_TEXT, st.text(max_size=40),
                  st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=12))
_JSON_SCALAR = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([2**63, 2**64, -(2**63) - 1, 10**30]), st.floats(allow_nan=True, allow_infinity=True),
    _TEXT, st.text(max_size=20),  # st.text may hold lone surrogates: JSON escapes them
)
_JSON = st.recursive(_JSON_SCALAR, lambda children: st.one_of(
    st.lists(children, max_size=4), st.dictionaries(st.text(max_size=8), children, max_size=4)), max_leaves=12)


def _model_fields(model: type | None) -> list[str]:
    if model is None:
        return []
    return [f.alias or name for name, f in model.model_fields.items()]  # type: ignore[attr-defined]


def _field_values(seeds: dict[str, list[str]]) -> st.SearchStrategy:
    valid = st.sampled_from(seeds["id"] + seeds["name"] + seeds["path"])
    entry = st.fixed_dictionaries({}, optional={"key": _JSON_SCALAR, "value": _JSON_SCALAR, "name": _JSON_SCALAR})
    return st.one_of(valid, _JSON, st.lists(entry, max_size=3))


def _path_arg(seeds: dict[str, list[str]], is_path: bool) -> st.SearchStrategy:
    pool = seeds["path"] if is_path else seeds["id"] + seeds["name"]
    plain = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=30)
    raw = st.one_of(st.sampled_from(pool), _NASTY_TEXT.filter(bool), plain)
    return raw.map(lambda s: quote(s.lstrip("/") if is_path else s, safe="/" if is_path else ""))


@st.composite
def _request(draw, route, seeds):  # type: ignore[no-untyped-def]
    path = route.rule
    for segment in [s for s in route.rule.split("/") if s.startswith("<")]:
        is_path = segment.startswith("<path:")
        value = draw(_path_arg(seeds, is_path))
        path = path.replace(segment, value or "x", 1)
    fields = _model_fields(route.body)
    params: dict = {}
    if fields:
        chosen = draw(st.lists(st.sampled_from(fields), max_size=len(fields), unique=True))
        params = {name: draw(_field_values(seeds)) for name in chosen}
    extra = draw(st.dictionaries(st.text(max_size=6), _JSON_SCALAR, max_size=2))
    params.update(extra)
    query = ""
    body = b""
    if route.method in ("GET", "HEAD", "DELETE") or draw(st.booleans()):
        flat = {k: json.dumps(v) if isinstance(v, (dict, list)) else str(v) for k, v in params.items()}
        query = urlencode({k.encode("utf-8", "surrogatepass"): v.encode("utf-8", "surrogatepass")
                           for k, v in flat.items()})
    if route.method not in ("GET", "HEAD"):
        kind = draw(st.sampled_from(["json", "json", "json", "garbage", "deep", "scalar", "empty"]))
        if kind == "json":
            body = json.dumps(params).encode()
        elif kind == "garbage":
            body = draw(st.binary(max_size=64))
        elif kind == "deep":
            depth = draw(st.integers(min_value=50, max_value=5000))
            body = b'{"a": ' + b"[" * depth + b"]" * depth + b"}"
        elif kind == "scalar":
            body = json.dumps(draw(_JSON_SCALAR)).encode()
    return route.method, path, query, body


def _check_answer(route, method: str, path: str, status: int, headers: dict, body: bytes) -> None:
    where = f"{method} {path[:120]} -> {status} {body[:300]!r}"
    assert status < 500, where
    if status < 400 or method == "HEAD":
        return
    if route.operation.startswith("files.presigned") and headers.get("content-type") != "application/json":
        assert b"<Code>" in body, where  # the emulated cloud store answers as S3 does
        return
    assert headers.get("content-type") == "application/json", where
    err = json.loads(body)
    assert isinstance(err, dict) and isinstance(err.get("error_code"), str) and err["error_code"], where


#: Routes that reach stored bytes also run against the directory store (``mlemu serve``'s
#: default), whose file system has limits of its own (name length, encodings).
_STORAGE_SERVICES = ("files.", "dbfs.", "mlflow_artifacts.", "registry.model-versions.", "tracking.experiments.create")
CASES = [(r, "memory") for r in ROUTES] + [(r, "disk") for r in ROUTES if r.operation.startswith(_STORAGE_SERVICES)]


@pytest.mark.parametrize("route,store", CASES, ids=[f"{r.method} {r.rule} [{s}]" for r, s in CASES])
def test_route_survives_hostile_input(route, store, tmp_path):
    ws = Workspace(seed=11, artifact_root=str(tmp_path / "store") if store == "disk" else None)
    seeds = _seed(ws)
    known = _known_state(ws)

    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=not RANDOM,
              suppress_health_check=list(HealthCheck), print_blob=True)
    @given(st.data())
    def attack(data):  # type: ignore[no-untyped-def]
        method, path, query, body = data.draw(_request(route, seeds))
        before = _fingerprint(ws)
        status, headers, out = ws.handle(method, path, query, {"authorization": f"Bearer {ws.token}"}, body)
        assert ws.internal_errors == [], ws.internal_errors[-1]
        _check_answer(route, method, path, status, headers, out)
        if status >= 400:
            assert _fingerprint(ws) == before, f"refused {method} {path[:120]} changed the state"

    attack()
    assert _known_state(ws) == known, "the known state changed"

