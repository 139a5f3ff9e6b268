"""Request models and response shapes of the Unity Catalog prompt registry
(``unity_catalog_prompt_messages.proto``): a Prompt is ``{name, description, tags[], aliases[],
creation_timestamp, last_updated_timestamp}``, a PromptVersion adds ``version`` (a string) and
``template`` (the JSON-encoded template the client sent). Timestamps are RFC 3339."""
from __future__ import annotations

from typing import Any, Optional

from pydantic import ConfigDict

from mlemu.server.wire.fields import WireArgs
from mlemu.server.services.prompts.state import Prompt, PromptVersion
from mlemu.server.services.tracing.wire import rfc3339


class _Args(WireArgs):
    model_config = ConfigDict(extra="ignore", defer_build=True)


class KeyValue(_Args):
    key: str
    value: Optional[str] = None


class PromptBody(_Args):
    name: Optional[str] = None
    description: Optional[str] = None
    tags: list[KeyValue] = []


class VersionBody(PromptBody):
    template: Optional[str] = None


class CreatePrompt(_Args):
    name: Optional[str] = None
    prompt: PromptBody = PromptBody()


class UpdatePrompt(CreatePrompt):
    pass


class CreateVersion(_Args):
    name: Optional[str] = None
    prompt_version: VersionBody = VersionBody()


class UpdateVersion(CreateVersion):
    pass


class CatalogSchema(_Args):
    catalog_name: Optional[str] = None
    schema_name: Optional[str] = None


class SearchPrompts(_Args):
    catalog_schema: CatalogSchema = CatalogSchema()
    filter: Optional[str] = None
    max_results: Optional[int] = None
    page_token: Optional[str] = None


class SearchVersions(_Args):
    max_results: Optional[int] = None
    page_token: Optional[str] = None


class SetTag(_Args):
    key: str
    value: Optional[str] = None


class SetAlias(_Args):
    version: str


class LinkEntry(_Args):
    name: str
    version: str


class LinkToRuns(_Args):
    prompt_versions: list[LinkEntry] = []
    run_ids: list[str] = []


class LinkToModels(_Args):
    prompt_versions: list[LinkEntry] = []
    model_ids: list[str] = []


class LinkToTraces(_Args):
    prompt_versions: list[LinkEntry] = []
    trace_ids: list[str] = []


class Empty(_Args):
    pass


def tags(items: list[KeyValue]) -> dict[str, str]:
    return {kv.key: kv.value or "" for kv in items}


def _kv(d: dict[str, str]) -> list[dict[str, str]]:
    return [{"key": k, "value": v} for k, v in sorted(d.items())]


def prompt(p: Prompt) -> dict[str, Any]:
    out: dict[str, Any] = {"name": p.full_name, "creation_timestamp": rfc3339(p.created_ms),
                           "last_updated_timestamp": rfc3339(p.updated_ms)}
    if p.description:
        out["description"] = p.description
    if p.aliases:
        out["aliases"] = [{"alias": a, "version": str(v)} for a, v in sorted(p.aliases.items())]
    if p.tags:
        out["tags"] = _kv(p.tags)
    return out


def prompt_version(p: Prompt, v: PromptVersion) -> dict[str, Any]:
    out: dict[str, Any] = {"name": p.full_name, "version": str(v.version),
                           "creation_timestamp": rfc3339(v.created_ms),
                           "last_updated_timestamp": rfc3339(v.updated_ms), "template": v.template}
    if v.description:
        out["description"] = v.description
    aliases = p.aliases_of(v.version)
    if aliases:
        out["aliases"] = [{"alias": a, "version": str(v.version)} for a in aliases]
    if v.tags:
        out["tags"] = _kv(v.tags)
    return out
