"""The workspace model registry (registry URI ``databricks``): flat model names, stages,
transition requests and comments, and each version's own copy of its model files.

Databricks rules kept here:

* a registered model has a flat, workspace-unique name; versions are numbered per model
  and a number is never reused (:func:`mlemu.server.services.registry.state.parse_version` reads them);
* a version is created ``PENDING_REGISTRATION``: the workspace copies the files of its
  ``source`` (``runs:/``, ``models:/m-<id>``, ``models:/<name>/<version|stage|latest>``,
  ``dbfs:/...``) into registry storage, ``dbfs:/databricks/mlflow-registry/<id>/models``,
  and the version reads as ``READY`` (or ``FAILED_REGISTRATION`` when the source holds no
  files) from the next call on. The copy outlives the run it came from;
* stages are ``None``, ``Staging``, ``Production``, ``Archived`` (matched case-insensitively);
  ``archive_existing_versions`` is only allowed for Staging and Production and moves the
  other versions in that stage to Archived;
* ``get_latest_versions`` returns the newest version per stage, in stage order;
* transition requests: one open request per (version, stage, requester); approving applies
  the transition; every step is an activity on the version.

Choices where Databricks' behaviour is not observable from the clients [emu]: tag keys are at
most 250 characters and values 5000; aliases are not part of this registry (mlflow refuses
them client-side); the registration copy happens at create time (Databricks copies
asynchronously), only its outcome is reported one call later.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterable

from mlemu.server.core.errors import already_exists, invalid, not_found
from mlemu.server.services.mlflow_artifacts.locations import artifact_storage
from mlemu.server.services.mlflow_artifacts.state import relative_path
from mlemu.server.services.registry.state import parse_version

if TYPE_CHECKING:
    from mlemu.server.core.storage import Namespace
    from mlemu.server.core.workspace import WorkspaceState

PENDING = "PENDING_REGISTRATION"
FAILED = "FAILED_REGISTRATION"
READY = "READY"

STAGES = ("None", "Staging", "Production", "Archived")
ACTIVE_STAGES = ("Staging", "Production")
MAX_TAG_KEY = 250
MAX_TAG_VALUE = 5000
MAX_NAME = 256

#: Where registered version files live (DBFS namespace), as Databricks' download URIs show.
REGISTRY_ROOT = "/databricks/mlflow-registry"

OWNER_PERMISSION = "CAN_MANAGE"
REQUEST_ACTIONS = ("APPROVE_TRANSITION_REQUEST", "REJECT_TRANSITION_REQUEST", "CANCEL_TRANSITION_REQUEST")
COMMENT_ACTIONS = ("EDIT_COMMENT", "DELETE_COMMENT")


@dataclass
class Activity:
    """One event in a version's history (requests, approvals, transitions, comments)."""

    id: str
    activity_type: str
    user_id: str
    creation_timestamp: int
    last_updated_timestamp: int
    to_stage: str = ""
    from_stage: str = ""
    comment: str = ""
    system_comment: str = ""


@dataclass
class Comment:
    id: str
    version: "WsModelVersion"
    comment: str
    user_id: str
    creation_timestamp: int
    last_updated_timestamp: int


@dataclass(repr=False)
class WsModelVersion:
    model: "WsRegisteredModel"
    version: int
    id: str
    source: str
    user_id: str
    creation_timestamp: int
    last_updated_timestamp: int
    status: str = PENDING
    status_message: str = ""
    current_stage: str = "None"
    description: str = ""
    run_id: str = ""
    run_link: str = ""
    model_id: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    #: What the pending registration turns into on the next call: "" (READY) or a failure message.
    registration_problem: str | None = None
    open_requests: list[Activity] = field(default_factory=list)
    activities: list[Activity] = field(default_factory=list)

    def __repr__(self) -> str:
        return f"<WsModelVersion {self.model.name} v{self.version} {self.status} {self.current_stage}>"

    @property
    def name(self) -> str:
        return self.model.name

    @property
    def files_path(self) -> str:
        """The DBFS directory holding this version's copy of the model files."""
        return f"{REGISTRY_ROOT}/{self.id}/models"

    @property
    def download_uri(self) -> str:
        return f"dbfs:{self.files_path}"


@dataclass(repr=False)
class WsRegisteredModel:
    name: str
    id: str
    user_id: str
    creation_timestamp: int
    last_updated_timestamp: int
    description: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    versions: dict[int, WsModelVersion] = field(default_factory=dict)
    last_version: int = 0  # never decreases

    def __repr__(self) -> str:
        return f"<WsRegisteredModel {self.name} versions={sorted(self.versions)}>"

    def newest_first(self) -> list[WsModelVersion]:
        return [self.versions[n] for n in sorted(self.versions, reverse=True)]


def canonical_stage(stage: str | None) -> str:
    """``staging`` -> ``Staging``; anything not a stage is INVALID_PARAMETER_VALUE."""
    for s in STAGES:
        if (stage or "").lower() == s.lower():
            return s
    raise invalid(f"Invalid Model Version stage: {stage}. Value must be one of "
                  f"{', '.join(STAGES)}.")


class WorkspaceRegistry:
    """Registered models of the workspace model registry, by name."""

    def __init__(self, ws: "WorkspaceState") -> None:
        self._ws = ws
        self._models: dict[str, WsRegisteredModel] = {}
        self._comments: dict[str, Comment] = {}

    # == registered models ==================================================================
    def create_model(self, name: str, *, description: str | None = None,
                     tags: Iterable[tuple[str, str]] | dict[str, str] | None = None) -> WsRegisteredModel:
        _check_name(name)
        if name in self._models:
            raise already_exists(f"Registered Model (name={name}) already exists.")
        tag_map = _tag_map(tags)
        now = self._now()
        model = WsRegisteredModel(name, self._ws.ids.hex(32), self._user(), now, now,
                                  description=description or "", tags=tag_map)
        self._models[name] = model
        return model

    def get_model(self, name: str) -> WsRegisteredModel:
        if not name:
            raise invalid("Missing value for required parameter 'name'.")
        model = self._models.get(name)
        if model is None:
            raise not_found(f"Registered Model with name={name} not found")
        self._settle(model)
        return model

    def update_model(self, name: str, *, description: str | None) -> WsRegisteredModel:
        model = self.get_model(name)
        if description is not None:
            model.description = description
        self._touch(model)
        return model

    def rename_model(self, name: str, new_name: str) -> WsRegisteredModel:
        model = self.get_model(name)
        if not new_name:
            raise invalid("Missing value for required parameter 'new_name'.")
        _check_name(new_name)
        if new_name != name and new_name in self._models:
            raise already_exists(f"Registered Model (name={new_name}) already exists.")
        del self._models[name]
        model.name = new_name
        self._models[new_name] = model
        self._touch(model)
        return model

    def delete_model(self, name: str) -> None:
        """Delete the model, its versions, their comments and files."""
        model = self.get_model(name)
        for mv in list(model.versions.values()):
            self._drop_version(mv)
        del self._models[name]

    def list_models(self) -> list[WsRegisteredModel]:
        """Every model, by name."""
        return [self.get_model(n) for n in sorted(self._models)]

    def search_models(self, match: Callable[[WsRegisteredModel], bool],
                      order: Callable[[list[WsRegisteredModel]], list[WsRegisteredModel]]) -> list[WsRegisteredModel]:
        return order([m for m in self.list_models() if match(m)])

    def set_model_tag(self, name: str, key: str, value: str | None) -> None:
        model = self.get_model(name)
        model.tags.update(_tag_map({key: value}))
        self._touch(model)

    def delete_model_tag(self, name: str, key: str) -> None:
        model = self.get_model(name)
        if key not in model.tags:
            raise not_found(f"No tag with name: {key} in registered model {name}.")
        del model.tags[key]
        self._touch(model)

    def latest_versions(self, name: str, stages: Iterable[str] | None = None) -> list[WsModelVersion]:
        """The newest version in each requested stage (all four when none), in stage order."""
        model = self.get_model(name)
        wanted = [canonical_stage(s) for s in stages or ()] or list(STAGES)
        out = []
        for stage in STAGES:
            if stage not in wanted:
                continue
            in_stage = [mv for mv in model.newest_first() if mv.current_stage == stage]
            if in_stage:
                out.append(in_stage[0])
        return out

    # == model versions =====================================================================
    def create_version(self, name: str, source: str, *, run_id: str | None = None,
                       run_link: str | None = None, description: str | None = None,
                       tags: Iterable[tuple[str, str]] | dict[str, str] | None = None,
                       model_id: str | None = None) -> WsModelVersion:
        """A new PENDING_REGISTRATION version; its source's files are copied into the registry."""
        model = self.get_model(name)
        if not source:
            raise invalid("Missing value for required parameter 'source'.")
        tag_map = _tag_map(tags)
        location = self._source_location(source)  # validated before anything is written
        now = self._now()
        number = model.last_version + 1
        mv = WsModelVersion(model, number, self._ws.ids.hex(32), source, self._user(), now, now,
                            description=description or "", run_id=run_id or "",
                            run_link=run_link or "", model_id=model_id or "", tags=tag_map)
        mv.registration_problem = self._copy_files(location, mv)
        model.last_version = number
        model.versions[number] = mv
        self._touch(model)
        return mv

    def get_version(self, name: str, version: object) -> WsModelVersion:
        model = self.get_model(name)
        number = parse_version(version)
        mv = model.versions.get(number)
        if mv is None:
            raise not_found(f"Model Version (name={name}, version={number}) not found")
        return mv

    def update_version(self, name: str, version: object, *, description: str | None) -> WsModelVersion:
        mv = self.get_version(name, version)
        if description is not None:
            mv.description = description
        self._touch_version(mv)
        return mv

    def delete_version(self, name: str, version: object) -> None:
        mv = self.get_version(name, version)
        self._drop_version(mv)
        self._touch(mv.model)

    def search_versions(self, match: Callable[[WsModelVersion], bool],
                        order: Callable[[list[WsModelVersion]], list[WsModelVersion]] | None = None,
                        ) -> list[WsModelVersion]:
        """Matching versions, in ``order`` (default: by model name, newest first)."""
        found = [mv for m in self.list_models() for mv in m.newest_first() if match(mv)]
        return order(found) if order is not None else found

    def set_version_tag(self, name: str, version: object, key: str, value: str | None) -> None:
        mv = self.get_version(name, version)
        mv.tags.update(_tag_map({key: value}))
        self._touch_version(mv)

    def delete_version_tag(self, name: str, version: object, key: str) -> None:
        mv = self.get_version(name, version)
        if key not in mv.tags:
            raise not_found(f"No tag with name: {key} in model version {version} of {name}.")
        del mv.tags[key]
        self._touch_version(mv)

    def resolve(self, name: str, selector: str) -> WsModelVersion:
        """The version a ``models:/<name>/<selector>`` URI names: a number, a stage or ``latest``."""
        if selector.isdigit():
            return self.get_version(name, selector)
        model = self.get_model(name)
        if selector.lower() == "latest":
            versions = model.newest_first()
        else:
            stage = canonical_stage(selector)
            versions = [mv for mv in model.newest_first() if mv.current_stage == stage]
        if not versions:
            raise not_found(f"No versions of model with name '{name}' and stage '{selector}' found")
        return versions[0]

    # == stages =============================================================================
    def transition(self, name: str, version: object, stage: str, archive_existing_versions: bool,
                   comment: str | None = None, activity_type: str = "APPLIED_TRANSITION") -> tuple[WsModelVersion, Activity]:
        """Move a version to ``stage``; optionally archive the others in that stage."""
        mv = self.get_version(name, version)
        target = canonical_stage(stage)
        if archive_existing_versions and target not in ACTIVE_STAGES:
            raise invalid(f"Model version transition cannot archive existing model versions because "
                          f"'{target}' is not an Active stage. Valid stages are "
                          f"{', '.join(ACTIVE_STAGES)}.")
        if mv.status != READY:
            raise invalid(f"Model version {mv.version} of '{name}' is {mv.status}; only READY "
                          "versions can be transitioned.")
        if archive_existing_versions:
            for other in mv.model.newest_first():
                if other is not mv and other.current_stage == target:
                    self._record(other, "SYSTEM_TRANSITION", other.current_stage, "Archived",
                                 system_comment=f"Archived because version {mv.version} moved to {target}.")
                    other.current_stage = "Archived"
                    self._touch_version(other)
        activity = self._record(mv, activity_type, mv.current_stage, target, comment=comment or "")
        mv.current_stage = target
        self._touch_version(mv)
        return mv, activity

    def request_transition(self, name: str, version: object, stage: str,
                           comment: str | None) -> Activity:
        mv = self.get_version(name, version)
        target = canonical_stage(stage)
        user = self._user()
        if any(r.to_stage == target and r.user_id == user for r in mv.open_requests):
            raise already_exists(f"A transition request to {target} by {user} is already open for "
                                 f"model version {mv.version} of '{name}'.")
        request = self._record(mv, "REQUESTED_TRANSITION", mv.current_stage, target,
                               comment=comment or "")
        mv.open_requests.append(request)
        return request

    def approve_request(self, name: str, version: object, stage: str,
                        archive_existing_versions: bool, comment: str | None) -> Activity:
        mv = self.get_version(name, version)
        request = self._open_request(mv, stage)
        _, activity = self.transition(name, version, stage, archive_existing_versions, comment,
                                      activity_type="APPROVED_REQUEST")
        mv.open_requests.remove(request)
        return activity

    def reject_request(self, name: str, version: object, stage: str, comment: str | None) -> Activity:
        mv = self.get_version(name, version)
        request = self._open_request(mv, stage)
        mv.open_requests.remove(request)
        return self._record(mv, "REJECTED_REQUEST", mv.current_stage, request.to_stage,
                            comment=comment or "")

    def cancel_request(self, name: str, version: object, stage: str, creator: str,
                       comment: str | None) -> Activity:
        mv = self.get_version(name, version)
        request = self._open_request(mv, stage, creator)
        mv.open_requests.remove(request)
        return self._record(mv, "CANCELLED_REQUEST", mv.current_stage, request.to_stage,
                            comment=comment or "")

    def open_requests(self, name: str, version: object) -> list[Activity]:
        return list(self.get_version(name, version).open_requests)

    # == comments ===========================================================================
    def create_comment(self, name: str, version: object, text: str) -> Comment:
        mv = self.get_version(name, version)
        if not text:
            raise invalid("Missing value for required parameter 'comment'.")
        now = self._now()
        c = Comment(self._ws.ids.hex(32), mv, text, self._user(), now, now)
        self._comments[c.id] = c
        self._record(mv, "NEW_COMMENT", "", "", comment=text)
        return c

    def update_comment(self, comment_id: str, text: str) -> Comment:
        c = self._comment(comment_id)
        if not text:
            raise invalid("Missing value for required parameter 'comment'.")
        c.comment, c.last_updated_timestamp = text, self._now()
        return c

    def delete_comment(self, comment_id: str) -> None:
        del self._comments[self._comment(comment_id).id]

    # == files ==============================================================================
    def files_root(self, name: str, version: object) -> WsModelVersion:
        """A READY version whose files may be listed and downloaded."""
        mv = self.get_version(name, version)
        if mv.status != READY:
            raise invalid(f"Model version {mv.version} of '{name}' is {mv.status}; its files "
                          "cannot be read.")
        return mv

    # == fixture helpers (no HTTP) ==========================================================
    def register_files(self, name: str, files: dict[str, bytes], *, stage: str | None = None,
                       description: str | None = None,
                       tags: dict[str, str] | None = None) -> WsModelVersion:
        """A READY version made of in-memory files (``{"MLmodel": b"...", ...}``), optionally
        moved to ``stage``; the model is created when missing."""
        with self._ws.lock:
            if name not in self._models:
                self.create_model(name)
            staging = f"/mlemu/fixtures/workspace-registry/{self._ws.ids.hex(16)}"
            for rel, data in sorted(files.items()):
                self._ws.storage.write("dbfs", f"{staging}/{relative_path(rel)}", data)
            mv = self.create_version(name, f"dbfs:{staging}", description=description, tags=tags)
            self._ws.storage.delete("dbfs", staging, recursive=True)
            self._settle(mv.model)
            if stage:
                self.transition(name, mv.version, stage, False)
            return mv

    # == helpers ============================================================================
    def _source_location(self, source: str) -> list[tuple["Namespace", str]]:
        """Where the files of a version's ``source`` are stored, in copy order (later ones win)."""
        ws = self._ws
        if source.startswith("runs:/"):
            run_id, _, rel = source[len("runs:/"):].partition("/")
            root = ws.mlflow_artifacts.run_root(run_id)
            rel = relative_path(rel)
            found = [(root.namespace, root.storage_path(rel))]
            # mlflow 3: runs:/<run>/<name>/... also reads the run's logged model <name>, whose
            # files live under the model, not the run (the model's files win on a clash).
            name, _, rest = rel.partition("/")
            model = ws.tracking.logged_model_of_run(run_id, name) if name else None
            if model is not None:
                mroot = ws.mlflow_artifacts.model_root(model.info.model_id)
                found.append((mroot.namespace, mroot.storage_path(rest)))
            return found
        if source.startswith("models:/"):
            parts = [p for p in source[len("models:/"):].split("/") if p]
            if len(parts) == 1 and parts[0].startswith("m-"):
                root = ws.mlflow_artifacts.model_root(parts[0])
                return [(root.namespace, root.path)]
            if len(parts) >= 2:
                mv = self.resolve(parts[0], parts[1])
                rel = relative_path("/".join(parts[2:]))
                return [("dbfs", mv.files_path + (f"/{rel}" if rel else ""))]
            raise invalid(f"Invalid model version source '{source}'.")
        if source.startswith("dbfs:"):
            return [artifact_storage(source)]
        raise invalid(f"Invalid model version source '{source}': the workspace registry copies "
                      "model files from runs:/, models:/ or dbfs:/ locations of this workspace.")

    def _copy_files(self, locations: list[tuple["Namespace", str]], mv: WsModelVersion) -> str:
        """Copy the source's files to the version's storage; the failure message, or ""."""
        storage = self._ws.storage
        present = [(ns, path, st) for ns, path in locations
                   if (st := storage.stat(ns, path)) is not None]
        if not present:
            return f"Failed to copy model files: source {mv.source} does not exist."
        copied = 0
        for ns, path, st in present:
            files = [path] if not st.is_dir else [f.path for f in storage.walk_files(ns, path)]
            for f in files:
                rel = f[len(path):].lstrip("/") if st.is_dir else path.rsplit("/", 1)[-1]
                storage.write("dbfs", f"{mv.files_path}/{rel}", storage.read(ns, f))
                copied += 1
        if not copied:
            return f"Failed to copy model files: source {mv.source} is an empty directory."
        return ""

    def _settle(self, model: WsRegisteredModel) -> None:
        """Registrations started by an earlier call have finished by now."""
        for mv in model.versions.values():
            if mv.status == PENDING and mv.registration_problem is not None:
                problem, mv.registration_problem = mv.registration_problem, None
                mv.status, mv.status_message = (FAILED, problem) if problem else (READY, "")
                if problem:
                    self._ws.storage.delete("dbfs", f"{REGISTRY_ROOT}/{mv.id}", recursive=True)

    def _drop_version(self, mv: WsModelVersion) -> None:
        del mv.model.versions[mv.version]
        for cid in [c.id for c in self._comments.values() if c.version is mv]:
            del self._comments[cid]
        self._ws.storage.delete("dbfs", f"{REGISTRY_ROOT}/{mv.id}", recursive=True)

    def _open_request(self, mv: WsModelVersion, stage: str, creator: str | None = None) -> Activity:
        target = canonical_stage(stage)
        for r in mv.open_requests:
            if r.to_stage == target and (creator is None or r.user_id == creator):
                return r
        who = f" by {creator}" if creator else ""
        raise not_found(f"No open transition request to {target}{who} for model version "
                        f"{mv.version} of '{mv.name}'.")

    def _comment(self, comment_id: str) -> Comment:
        if not comment_id:
            raise invalid("Missing value for required parameter 'id'.")
        c = self._comments.get(comment_id)
        if c is None:
            raise not_found(f"Comment with id={comment_id} not found")
        return c

    def _record(self, mv: WsModelVersion, kind: str, from_stage: str, to_stage: str, *,
                comment: str = "", system_comment: str = "") -> Activity:
        now = self._now()
        a = Activity(self._ws.ids.hex(32), kind, self._user(), now, now, to_stage, from_stage,
                     comment, system_comment)
        mv.activities.append(a)
        return a

    def _now(self) -> int:
        return self._ws.clock.now_ms()

    def _user(self) -> str:
        return self._ws.user.user_name

    def _touch(self, model: WsRegisteredModel) -> None:
        model.last_updated_timestamp = self._now()

    def _touch_version(self, mv: WsModelVersion) -> None:
        mv.last_updated_timestamp = self._now()


_NAME_FORBIDDEN = re.compile(r"[/\x00]")


def _check_name(name: str) -> None:
    if not name:
        raise invalid("Missing value for required parameter 'name'.")
    if len(name) > MAX_NAME or _NAME_FORBIDDEN.search(name):
        raise invalid(f"Invalid registered model name '{name[:80]}': names have at most "
                      f"{MAX_NAME} characters and no '/'.")


def _tag_map(tags: Iterable[tuple[str, Any]] | dict[str, Any] | None) -> dict[str, str]:
    """Validated tags: key required, at most 250 characters; value at most 5000."""
    pairs = (tags.items() if isinstance(tags, dict) else tags) if tags else ()
    out: dict[str, str] = {}
    for key, value in pairs:
        text = "" if value is None else str(value)
        if not key:
            raise invalid("Missing value for required parameter 'key'.")
        if len(key) > MAX_TAG_KEY:
            raise invalid(f"Tag key '{key[:40]}...' had length {len(key)}, which exceeded length "
                          f"limit of {MAX_TAG_KEY}")
        if len(text) > MAX_TAG_VALUE:
            raise invalid(f"Tag value for key '{key}' had length {len(text)}, which exceeded "
                          f"length limit of {MAX_TAG_VALUE}")
        out[key] = text
    return out

