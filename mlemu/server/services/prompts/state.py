"""Prompts in Unity Catalog: three-level names in an existing schema, immutable numbered
versions holding a template, aliases, tags on prompts and on versions, and the runs and
traces a version was used in.

A prompt is created without versions (``register_prompt`` creates it, then a version); a
second create of the same name is ``ALREADY_EXISTS`` (409), which mlflow ignores.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterable

from mlemu.server.core.errors import ApiError, invalid, not_found
from mlemu.server.services.tracking import search as srch
from mlemu.server.services.unity_catalog import names
from mlemu.server.core.paging import Page

if TYPE_CHECKING:
    from mlemu.server.core.workspace import WorkspaceState

PROMPTS = srch.Grammar(
    entities={"attribute": srch.ATTRIBUTE, "tag": srch.TAG, "tags": srch.TAG},
    attributes=frozenset({"name"}),
    numeric_attributes=frozenset(),
    order_attributes=frozenset({"name"}),
    comparators={srch.TAG: srch.TAG_COMPARATORS},
)
#: Largest page of a prompt or prompt-version search.
SEARCH_PAGE_CAP = 1000
#: Prompt versions or runs/traces per link call (mlflow sends prompt versions 25 at a time).
MAX_LINKS_PER_CALL = 100


@dataclass
class PromptVersion:
    version: int
    template: str
    description: str
    tags: dict[str, str]
    created_ms: int
    updated_ms: int
    run_ids: list[str] = field(default_factory=list)
    trace_ids: list[str] = field(default_factory=list)
    model_ids: list[str] = field(default_factory=list)


@dataclass
class Prompt:
    catalog: str
    schema: str
    name: str
    description: str
    tags: dict[str, str]
    created_ms: int
    updated_ms: int
    aliases: dict[str, int] = field(default_factory=dict)
    versions: dict[int, PromptVersion] = field(default_factory=dict)

    @property
    def full_name(self) -> str:
        return f"{self.catalog}.{self.schema}.{self.name}"

    def aliases_of(self, version: int) -> list[str]:
        return sorted(a for a, v in self.aliases.items() if v == version)


class Prompts:
    """The prompts of one workspace, by full name."""

    def __init__(self, ws: "WorkspaceState") -> None:
        self._ws = ws
        self._prompts: dict[tuple[str, str, str], Prompt] = {}

    # -- prompts -------------------------------------------------------------------------
    def create(self, full_name: str, description: str | None = None,
               tags: dict[str, str] | None = None) -> Prompt:
        fn = names.three_level(full_name, "prompt")
        self._ws.unity_catalog.require_writable_schema(fn.catalog, fn.schema, "prompts")
        if tuple(fn) in self._prompts:
            raise ApiError("ALREADY_EXISTS", f"Prompt '{fn}' already exists.")
        now = self._ws.clock.now_ms()
        p = Prompt(fn.catalog, fn.schema, fn.name, description or "", dict(tags or {}), now, now)
        self._prompts[tuple(fn)] = p
        return p

    def get(self, full_name: str) -> Prompt:
        fn = names.three_level(full_name, "prompt")
        self._ws.unity_catalog.require_schema(fn.catalog, fn.schema)
        p = self._prompts.get(tuple(fn))
        if p is None:
            raise not_found(f"Prompt '{fn}' does not exist.")
        return p

    def update(self, full_name: str, description: str | None) -> Prompt:
        p = self.get(full_name)
        if description is not None:
            p.description = description
        p.updated_ms = self._ws.clock.now_ms()
        return p

    def delete(self, full_name: str) -> None:
        p = self.get(full_name)
        if p.versions:
            raise invalid(f"Prompt '{p.full_name}' still has {len(p.versions)} version(s); delete "
                          "them first.")
        del self._prompts[(p.catalog, p.schema, p.name)]

    def search(self, catalog: str, schema: str, filter: str | None, max_results: int | None,
               page_token: str | None) -> Page[Prompt]:
        if not catalog or not schema:
            raise invalid("Missing value for required parameter 'catalog_schema' (catalog_name and "
                          "schema_name).")
        self._ws.unity_catalog.require_schema(catalog, schema)
        clauses = srch.parse_filter(filter, PROMPTS)
        hits = sorted((p for (c, s, _), p in self._prompts.items() if (c, s) == (catalog, schema)
                       and all(c_.test(p.name if c_.kind == srch.ATTRIBUTE else p.tags.get(c_.key))
                               for c_ in clauses)), key=lambda p: p.name)
        size = min(max_results or 100, SEARCH_PAGE_CAP)
        return srch.paginate(hits, page_token, size, srch.fingerprint(catalog, schema, filter))

    def set_tag(self, full_name: str, key: str, value: str) -> None:
        _check_key(key)
        self.get(full_name).tags[key] = value

    def delete_tag(self, full_name: str, key: str) -> None:
        p = self.get(full_name)
        if key not in p.tags:
            raise not_found(f"Tag '{key}' of prompt '{p.full_name}' does not exist.")
        del p.tags[key]

    # -- versions ------------------------------------------------------------------------
    def create_version(self, full_name: str, template: str, description: str | None = None,
                       tags: dict[str, str] | None = None) -> tuple[Prompt, PromptVersion]:
        p = self.get(full_name)
        if not template:
            raise invalid("Missing value for required parameter 'prompt_version.template'.")
        now = self._ws.clock.now_ms()
        number = max(p.versions, default=0) + 1
        v = PromptVersion(number, template, description or "", dict(tags or {}), now, now)
        p.versions[number] = v
        p.updated_ms = now
        return p, v

    def get_version(self, full_name: str, version: str | int) -> tuple[Prompt, PromptVersion]:
        p = self.get(full_name)
        number = _version_number(version)
        v = p.versions.get(number)
        if v is None:
            raise not_found(f"Prompt version '{p.full_name}' version {version} does not exist.")
        return p, v

    def update_version(self, full_name: str, version: str | int, description: str | None) -> tuple[Prompt, PromptVersion]:
        p, v = self.get_version(full_name, version)
        if description is not None:
            v.description = description
        v.updated_ms = self._ws.clock.now_ms()
        return p, v

    def delete_version(self, full_name: str, version: str | int) -> None:
        p, v = self.get_version(full_name, version)
        del p.versions[v.version]
        for alias in p.aliases_of(v.version):
            del p.aliases[alias]

    def search_versions(self, full_name: str, max_results: int | None,
                        page_token: str | None) -> tuple[Prompt, list[PromptVersion], str | None]:
        p = self.get(full_name)
        ordered = [p.versions[n] for n in sorted(p.versions, reverse=True)]
        size = min(max_results or 100, SEARCH_PAGE_CAP)
        page, token = srch.paginate(ordered, page_token, size, srch.fingerprint(p.full_name))
        return p, page, token

    def set_version_tag(self, full_name: str, version: str | int, key: str, value: str) -> None:
        _check_key(key)
        self.get_version(full_name, version)[1].tags[key] = value

    def delete_version_tag(self, full_name: str, version: str | int, key: str) -> None:
        p, v = self.get_version(full_name, version)
        if key not in v.tags:
            raise not_found(f"Tag '{key}' of prompt '{p.full_name}' version {v.version} does not exist.")
        del v.tags[key]

    # -- aliases -------------------------------------------------------------------------
    def set_alias(self, full_name: str, alias: str, version: str | int) -> None:
        p, v = self.get_version(full_name, version)
        _check_alias(alias)
        p.aliases[alias] = v.version

    def delete_alias(self, full_name: str, alias: str) -> None:
        p = self.get(full_name)
        if alias not in p.aliases:
            raise not_found(f"Alias '{alias}' of prompt '{p.full_name}' does not exist.")
        del p.aliases[alias]

    def get_by_alias(self, full_name: str, alias: str) -> tuple[Prompt, PromptVersion]:
        p = self.get(full_name)
        if alias not in p.aliases:
            raise not_found(f"Alias '{alias}' of prompt '{p.full_name}' does not exist.")
        return p, p.versions[p.aliases[alias]]

    # -- links ---------------------------------------------------------------------------
    def link_to_runs(self, versions: list[tuple[str, str]], run_ids: list[str]) -> None:
        targets = self._link_targets(versions, run_ids, "run_ids")
        for r in run_ids:
            self._ws.tracking.get_run(r)
        for v in targets:
            v.run_ids.extend(r for r in run_ids if r not in v.run_ids)

    def link_to_traces(self, versions: list[tuple[str, str]], trace_ids: list[str]) -> None:
        targets = self._link_targets(versions, trace_ids, "trace_ids")
        for t in trace_ids:
            self._ws.tracing.get(t)
        for v in targets:
            v.trace_ids.extend(t for t in trace_ids if t not in v.trace_ids)

    def link_to_models(self, versions: list[tuple[str, str]], model_ids: list[str]) -> None:
        targets = self._link_targets(versions, model_ids, "model_ids")
        for m in model_ids:
            self._ws.tracking.get_logged_model(m)
        for v in targets:
            v.model_ids.extend(m for m in model_ids if m not in v.model_ids)

    def _link_targets(self, versions: list[tuple[str, str]], ids: list[str], what: str) -> list[PromptVersion]:
        if not versions:
            raise invalid("Missing value for required parameter 'prompt_versions'.")
        if not ids:
            raise invalid(f"Missing value for required parameter '{what}'.")
        if len(versions) > MAX_LINKS_PER_CALL or len(ids) > MAX_LINKS_PER_CALL:
            raise invalid(f"At most {MAX_LINKS_PER_CALL} prompt versions and {MAX_LINKS_PER_CALL} "
                          f"{what} can be linked in one request.")
        return [self.get_version(n, v)[1] for n, v in versions]

    def prompts(self) -> list[Prompt]:
        return [self._prompts[k] for k in sorted(self._prompts)]


def _version_number(version: str | int) -> int:
    try:
        n = int(str(version))
    except ValueError:
        raise invalid(f"Invalid prompt version '{version}': it must be a positive integer.") from None
    if n < 1:
        raise invalid(f"Invalid prompt version '{version}': it must be a positive integer.")
    return n


def _check_key(key: str) -> None:
    if not key:
        raise invalid("Missing value for required parameter 'key'.")


def _check_alias(alias: str) -> None:
    if not alias:
        raise invalid("Missing value for required parameter 'alias'.")
    if alias.lower() == "latest" or (alias[:1] in "vV" and alias[1:].isdigit()):
        raise invalid(f"Invalid alias '{alias}': 'latest' and 'v<number>' are reserved.")


def tag_map(tags: Iterable[dict]) -> dict[str, str]:
    return {str(t.get("key")): str(t.get("value") or "") for t in tags if t.get("key")}
