"""A serving endpoint's configuration and its validation: served entities, traffic routes,
the legacy inference-table (``auto_capture_config``) settings.

Databricks rules kept here (refusals are ``INVALID_PARAMETER_VALUE`` unless noted):

* an endpoint name and a served-entity name consist of letters, digits, ``-`` and ``_``;
  an endpoint name has at most 63 characters [emu: Databricks documents the characters,
  not the length; 63 is the length its UI accepts];
* a config has 1..10 served entities (``served_entities``, or the legacy ``served_models``
  with ``model_name``/``model_version``; not both);
* a served entity names a registered model (Unity Catalog ``catalog.schema.model`` or a
  workspace-registry name) and a version: the model must exist (``RESOURCE_DOES_NOT_EXIST``)
  and the version must be ``READY``; external and foundation models need no version;
* a served entity's name defaults to ``<model>-<version>`` (the last level of a Unity Catalog
  name: ``catalog.schema.fraud_model`` v3 is ``fraud_model-3``; an external model's name with
  ``.`` and ``:`` replaced by ``-``) and is unique in the config;
* traffic routes name served entities of the same config, each 0..100 %, summing to 100;
  a config with one entity and no ``traffic_config`` routes 100 % to it; with several
  entities a ``traffic_config`` is required.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from mlemu.server.core.errors import invalid

MAX_ENDPOINT_NAME = 63
MAX_SERVED_ENTITIES = 10
_NAME_RE = re.compile(r"^[A-Za-z0-9_-]+$")

READY = "DEPLOYMENT_READY"
CREATING = "DEPLOYMENT_CREATING"
FAILED = "DEPLOYMENT_FAILED"


@dataclass
class ServedEntity:
    """One model version (or external / foundation model) behind an endpoint."""

    name: str
    entity_name: str | None
    entity_version: str | None
    creator: str
    creation_timestamp: int
    settings: dict[str, Any] = field(default_factory=dict)  # workload_size, scale_to_zero... as sent
    external_model: dict[str, Any] | None = None
    legacy: bool = False                                       # given as served_models
    deployment: str = CREATING
    deployment_state_message: str = ""

    @property
    def is_local_model(self) -> bool:
        """A registered model version mlemu loads and runs itself."""
        return self.external_model is None and not _is_foundation(self.entity_name)


@dataclass
class AutoCapture:
    """Legacy inference-table settings (``auto_capture_config``)."""

    catalog_name: str
    schema_name: str
    table_name_prefix: str
    enabled: bool = True

    @property
    def table_name(self) -> str:
        return f"{self.catalog_name}.{self.schema_name}.{self.table_name_prefix}_payload"


@dataclass
class EndpointConfig:
    """A config version: what an endpoint serves and how traffic is split."""

    version: int
    entities: list[ServedEntity]
    routes: list[tuple[str, int]]               # (served entity name, traffic percentage)
    start_time: int
    auto_capture: AutoCapture | None = None

    def entity(self, name: str) -> ServedEntity | None:
        return next((e for e in self.entities if e.name == name), None)


def check_endpoint_name(name: object) -> str:
    if not isinstance(name, str) or not name:
        raise invalid("Missing value for required parameter 'name'.")
    if len(name) > MAX_ENDPOINT_NAME or not _NAME_RE.match(name):
        raise invalid(f"Invalid endpoint name '{name}'. An endpoint name can consist of alphanumeric "
                      f"characters, dashes, and underscores, and have at most {MAX_ENDPOINT_NAME} characters.")
    return name


def default_entity_name(entity_name: str | None, version: str | None,
                        external_model: dict[str, Any] | None) -> str:
    if external_model is not None:
        return re.sub(r"[.:]", "-", str(external_model.get("name") or entity_name or "external"))
    short = (entity_name or "").rsplit(".", 1)[-1]
    return f"{short}-{version}" if version else short


def check_routes(routes: list[tuple[str, int]] | None, entities: list[ServedEntity]) -> list[tuple[str, int]]:
    """The validated traffic routes, or the single-entity default."""
    names = [e.name for e in entities]
    if not routes:
        if len(entities) == 1:
            return [(names[0], 100)]
        raise invalid("A traffic_config is required when an endpoint serves more than one entity: "
                      f"route traffic to {', '.join(names)} with percentages summing to 100.")
    seen: set[str] = set()
    for name, pct in routes:
        if name not in names:
            raise invalid(f"Traffic route names served entity '{name}', which is not in the config. "
                          f"Served entities: {', '.join(names)}.")
        if name in seen:
            raise invalid(f"Served entity '{name}' has more than one traffic route.")
        seen.add(name)
        if not isinstance(pct, int) or isinstance(pct, bool) or not 0 <= pct <= 100:
            raise invalid(f"Traffic percentage for '{name}' must be an integer from 0 to 100, got {pct!r}.")
    total = sum(p for _, p in routes)
    if total != 100:
        raise invalid(f"The traffic percentages of the routes must sum to 100, got {total}.")
    return list(routes)


def check_entity_names(entities: list[ServedEntity]) -> None:
    if not entities:
        raise invalid("The endpoint config must contain at least one served entity.")
    if len(entities) > MAX_SERVED_ENTITIES:
        raise invalid(f"A serving endpoint can have at most {MAX_SERVED_ENTITIES} served entities, "
                      f"got {len(entities)}.")
    seen: set[str] = set()
    for e in entities:
        if not _NAME_RE.match(e.name):
            raise invalid(f"Invalid served entity name '{e.name}'. A served entity name can consist of "
                          "alphanumeric characters, dashes, and underscores.")
        if e.name in seen:
            raise invalid(f"Served entity names must be unique within an endpoint: '{e.name}' is used "
                          "more than once.")
        seen.add(e.name)


def _is_foundation(entity_name: str | None) -> bool:
    return bool(entity_name) and str(entity_name).startswith("system.ai.")
