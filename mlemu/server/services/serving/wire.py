"""Serving endpoints on the wire: request models, and the one place where response shapes
(``ServingEndpointDetailed``, ``ServingEndpoint``, configs, entities) are built from state.
Field names follow ``databricks.sdk.service.serving``; absent values are omitted as the
workspace omits them."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import ConfigDict

from mlemu.server.wire.fields import WireArgs

if TYPE_CHECKING:
    from mlemu.server.services.serving.config import AutoCapture, EndpointConfig, ServedEntity
    from mlemu.server.services.serving.state import Endpoint


class _Args(WireArgs):
    model_config = ConfigDict(extra="ignore", defer_build=True)


class CreateEndpoint(_Args):
    name: str
    config: dict[str, Any] | None = None
    tags: list[dict[str, Any]] | None = None
    ai_gateway: dict[str, Any] | None = None
    rate_limits: list[dict[str, Any]] | None = None
    route_optimized: bool | None = None
    description: str | None = None
    budget_policy_id: str | None = None
    email_notifications: dict[str, Any] | None = None


class UpdateConfig(_Args):
    served_entities: list[dict[str, Any]] | None = None
    served_models: list[dict[str, Any]] | None = None
    traffic_config: dict[str, Any] | None = None
    auto_capture_config: dict[str, Any] | None = None


class PatchTags(_Args):
    add_tags: list[dict[str, Any]] | None = None
    delete_tags: list[str] | None = None


class PutAiGateway(_Args):
    inference_table_config: dict[str, Any] | None = None
    rate_limits: list[dict[str, Any]] | None = None
    usage_tracking_config: dict[str, Any] | None = None
    guardrails: dict[str, Any] | None = None
    fallback_config: dict[str, Any] | None = None


class PutRateLimits(_Args):
    rate_limits: list[dict[str, Any]] | None = None


# -- responses -----------------------------------------------------------------------------

def entity_output(e: "ServedEntity") -> dict[str, Any]:
    out: dict[str, Any] = {"name": e.name, **e.settings}
    if e.entity_name is not None:
        out["entity_name"] = e.entity_name
    if e.entity_version is not None:
        out["entity_version"] = e.entity_version
    if e.external_model is not None:
        out["external_model"] = e.external_model
    if e.entity_name and e.entity_name.startswith("system.ai."):
        out["foundation_model"] = {"name": e.entity_name, "display_name": e.entity_name.rsplit(".", 1)[-1]}
    out.update(creator=e.creator, creation_timestamp=e.creation_timestamp,
               state={"deployment": e.deployment, "deployment_state_message": e.deployment_state_message})
    return out


def model_output(e: "ServedEntity") -> dict[str, Any]:
    """The legacy ``served_models`` view of an entity."""
    out = {"name": e.name, "model_name": e.entity_name, "model_version": e.entity_version, **e.settings}
    out.update(creator=e.creator, creation_timestamp=e.creation_timestamp,
               state={"deployment": e.deployment, "deployment_state_message": e.deployment_state_message})
    return out


def auto_capture_output(c: "AutoCapture") -> dict[str, Any]:
    return {"catalog_name": c.catalog_name, "schema_name": c.schema_name,
            "table_name_prefix": c.table_name_prefix, "enabled": c.enabled,
            "state": {"payload_table": {"name": f"{c.table_name_prefix}_payload",
                                        "status": "ACTIVE" if c.enabled else "DISABLED"}}}


def config_output(c: "EndpointConfig", *, pending: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {"config_version": c.version,
                           "served_entities": [entity_output(e) for e in c.entities]}
    if any(e.legacy for e in c.entities):
        out["served_models"] = [model_output(e) for e in c.entities]
    out["traffic_config"] = {"routes": [{"served_model_name": n, "served_entity_name": n, "traffic_percentage": p}
                                        for n, p in c.routes]}
    if c.auto_capture is not None:
        out["auto_capture_config"] = auto_capture_output(c.auto_capture)
    if pending:
        out["start_time"] = c.start_time
    return out


def _common(ep: "Endpoint") -> dict[str, Any]:
    out: dict[str, Any] = {"name": ep.name, "id": ep.id, "creator": ep.creator,
                           "creation_timestamp": ep.creation_timestamp,
                           "last_updated_timestamp": ep.last_updated_timestamp,
                           "state": {"ready": ep.ready, "config_update": ep.config_update},
                           "tags": [{"key": k, "value": v} for k, v in sorted(ep.tags.items())]}
    if ep.ai_gateway:
        out["ai_gateway"] = ep.ai_gateway
    for key in ("description", "budget_policy_id"):
        if key in ep.extra:
            out[key] = ep.extra[key]
    return out


def endpoint_detailed(ep: "Endpoint") -> dict[str, Any]:
    """``ServingEndpointDetailed`` (get, create, update_config)."""
    out = _common(ep)
    out["config"] = config_output(ep.config) if ep.config is not None else {"config_version": 0,
                                                                             "served_entities": []}
    if ep.pending is not None:
        out["pending_config"] = config_output(ep.pending, pending=True)
    out["permission_level"] = "CAN_MANAGE"
    out["route_optimized"] = bool(ep.extra.get("route_optimized", False))
    if "email_notifications" in ep.extra:
        out["email_notifications"] = ep.extra["email_notifications"]
    if ep.rate_limits:
        out["rate_limits"] = ep.rate_limits
    return out


def endpoint_summary(ep: "Endpoint") -> dict[str, Any]:
    """``ServingEndpoint`` (list): the config as a summary of served entities."""
    out = _common(ep)
    if ep.config is not None:
        out["config"] = {"served_entities": [
            {k: v for k, v in entity_output(e).items()
             if k in ("name", "entity_name", "entity_version", "external_model", "foundation_model")}
            for e in ep.config.entities]}
    return out

