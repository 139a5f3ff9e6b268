"""The serving endpoints API through the real databricks-sdk: create/get/list/delete, the
update state machine, tags, AI gateway, rate limits, permissions, OpenAPI, logs, and every
refusal mapped to the SDK's exception class."""
from __future__ import annotations

import pytest
from databricks.sdk.errors import (
    InvalidParameterValue, OperationFailed, ResourceAlreadyExists, ResourceConflict, ResourceDoesNotExist)
from databricks.sdk.service.serving import (
    AiGatewayInferenceTableConfig, EndpointCoreConfigInput, EndpointTag, RateLimit,
    RateLimitRenewalPeriod, ServedEntityInput)

from tests.sdk_features import SERVING_OPENAPI, SERVING_OPENAPI_REASON, SERVING_TAGS, SERVING_TAGS_REASON
from tests.server.services.serving.conftest import MODEL, config, entity


def test_seed_create_and_wait_serves_the_version(w, fraud_model):
    # The cheatsheet's call; sdk 0.162 requires EndpointCoreConfigInput(name=...).
    endpoint = w.serving_endpoints.create_and_wait(
        name="fraud-detection-endpoint",
        config=EndpointCoreConfigInput(
            name="fraud-detection-endpoint",
            served_entities=[
                ServedEntityInput(
                    entity_name="catalog.schema.fraud_model",
                    entity_version="3",
                    workload_size="Small",
                    scale_to_zero_enabled=True,
                )
            ],
        ),
    )
    assert endpoint.name == "fraud-detection-endpoint"
    assert endpoint.state.ready.value == "READY"
    assert endpoint.state.config_update.value == "NOT_UPDATING"
    assert endpoint.pending_config is None
    assert endpoint.config.config_version == 1
    [served] = endpoint.config.served_entities
    assert (served.name, served.entity_name, served.entity_version) == ("fraud_model-3", MODEL, "3")
    assert served.state.deployment.value == "DEPLOYMENT_READY"
    assert [(r.served_model_name, r.traffic_percentage) for r in endpoint.config.traffic_config.routes] == [
        ("fraud_model-3", 100)]
    assert [e.name for e in w.serving_endpoints.list()] == ["fraud-detection-endpoint"]


def test_create_answers_in_progress_then_settles_after_configured_gets(mlemu, w, fraud_model):
    mlemu.serving.update_polls = 2
    created = w.serving_endpoints.create("ep", config=config("ep", entity("1"))).response
    assert (created.state.ready.value, created.state.config_update.value) == ("NOT_READY", "IN_PROGRESS")
    assert created.config.config_version == 0 and created.pending_config.config_version == 1
    assert created.pending_config.served_entities[0].state.deployment.value == "DEPLOYMENT_CREATING"
    for _ in range(2):
        assert w.serving_endpoints.get("ep").state.config_update.value == "IN_PROGRESS"
    settled = w.serving_endpoints.get("ep")
    assert (settled.state.ready.value, settled.state.config_update.value) == ("READY", "NOT_UPDATING")
    assert settled.config.config_version == 1


def test_update_config_adds_a_version_and_keeps_unchanged_entities(w, fraud_model):
    w.serving_endpoints.create_and_wait("ep", config=config("ep", entity("3")))
    first = w.serving_endpoints.get("ep").config.served_entities[0]
    updating = w.serving_endpoints.update_config(
        "ep", served_entities=[entity("3"), entity("4")],
        traffic_config=config("x", entity("3"), routes=[("fraud_model-3", 80), ("fraud_model-4", 20)]).traffic_config
    ).response
    assert updating.state.config_update.value == "IN_PROGRESS"
    assert updating.config.config_version == 1 and updating.pending_config.config_version == 2
    done = w.serving_endpoints.wait_get_serving_endpoint_not_updating("ep")
    assert done.config.config_version == 2
    assert [e.name for e in done.config.served_entities] == ["fraud_model-3", "fraud_model-4"]
    assert done.config.served_entities[0].creation_timestamp == first.creation_timestamp
    assert {r.served_model_name: r.traffic_percentage for r in done.config.traffic_config.routes} == {
        "fraud_model-3": 80, "fraud_model-4": 20}


def test_update_while_updating_is_a_conflict(w, fraud_model):
    w.serving_endpoints.create("ep", config=config("ep", entity("1")))
    with pytest.raises(ResourceConflict, match="currently updating"):
        w.serving_endpoints.update_config("ep", served_entities=[entity("2")])


def test_failed_update_keeps_the_previous_config_serving(mlemu, w, fraud_model, X):
    w.serving_endpoints.create_and_wait("ep", config=config("ep", entity("3")))
    mlemu.serving.fail_next_update("ep", "Container image build failed.")
    with pytest.raises(OperationFailed, match="UPDATE_FAILED"):
        w.serving_endpoints.update_config_and_wait("ep", served_entities=[entity("4")])
    ep = w.serving_endpoints.get("ep")
    assert ep.state.config_update.value == "UPDATE_FAILED" and ep.state.ready.value == "READY"
    assert ep.config.config_version == 1 and ep.config.served_entities[0].entity_version == "3"
    failed = ep.pending_config.served_entities[0]
    assert failed.state.deployment.value == "DEPLOYMENT_FAILED"
    assert failed.state.deployment_state_message == "Container image build failed."
    assert w.serving_endpoints.query("ep", dataframe_records=X.head(1).to_dict("records")).served_model_name == \
        "fraud_model-3"
    rolled = w.serving_endpoints.update_config_and_wait("ep", served_entities=[entity("3")])
    assert rolled.state.config_update.value == "NOT_UPDATING" and rolled.config.config_version == 2


@pytest.mark.parametrize("name", ["has space", "dots.not.allowed", "x" * 64, "slash/no"])
def test_endpoint_names_follow_the_naming_rule(w, fraud_model, name):
    with pytest.raises(InvalidParameterValue, match="alphanumeric"):
        w.serving_endpoints.create(name, config=config(name, entity("1")))


def test_duplicate_endpoint_name(w, fraud_model):
    w.serving_endpoints.create_and_wait("ep", config=config("ep", entity("1")))
    with pytest.raises(ResourceAlreadyExists, match="already exists"):
        w.serving_endpoints.create("ep", config=config("ep", entity("2")))


def test_missing_model_and_missing_version(w, fraud_model):
    with pytest.raises(ResourceDoesNotExist):
        w.serving_endpoints.create("a", config=config("a", ServedEntityInput(
            entity_name="catalog.schema.nope", entity_version="1")))
    with pytest.raises(ResourceDoesNotExist, match="version '9'"):
        w.serving_endpoints.create("b", config=config("b", entity("9")))
    assert list(w.serving_endpoints.list()) == []


def test_version_that_is_not_ready_is_refused(mlemu, w, fraud_model):
    mlemu.registry.create_version(MODEL, "mlemu://pending")  # PENDING_REGISTRATION, version 5
    with pytest.raises(InvalidParameterValue, match="PENDING_REGISTRATION"):
        w.serving_endpoints.create("ep", config=config("ep", entity("5")))


def test_served_entity_names_are_unique(w, fraud_model):
    with pytest.raises(InvalidParameterValue, match="unique"):
        w.serving_endpoints.create("ep", config=config("ep", entity("3"), entity("3"),
                                                          routes=[("fraud_model-3", 100)]))


@pytest.mark.parametrize("routes, message", [
    ([("fraud_model-3", 90), ("catalog.schema.fraud_model-4", 10)], "not in the config"),
    ([("fraud_model-3", 90), ("fraud_model-4", 20)], "sum to 100"),
    (None, "traffic_config is required"),
])
def test_bad_traffic_routes(w, fraud_model, routes, message):
    with pytest.raises(InvalidParameterValue, match=message):
        w.serving_endpoints.create("ep", config=config("ep", entity("3"), entity("4"), routes=routes))
    assert list(w.serving_endpoints.list()) == []


def test_get_and_delete_unknown_endpoint(w):
    with pytest.raises(ResourceDoesNotExist, match="Endpoint with name 'nope' does not exist"):
        w.serving_endpoints.get("nope")
    with pytest.raises(ResourceDoesNotExist):
        w.serving_endpoints.delete("nope")


def test_delete(w, fraud_model):
    w.serving_endpoints.create_and_wait("ep", config=config("ep", entity("1")))
    w.serving_endpoints.delete("ep")
    with pytest.raises(ResourceDoesNotExist):
        w.serving_endpoints.get("ep")


@pytest.mark.skipif(not SERVING_TAGS, reason=SERVING_TAGS_REASON)
def test_tags_ai_gateway_rate_limits(mlemu, w, fraud_model):
    w.serving_endpoints.create_and_wait("ep", config=config("ep", entity("1")),
                                        tags=[EndpointTag(key="team", value="fraud")])
    tags = w.serving_endpoints.patch("ep", add_tags=[EndpointTag(key="stage", value="prod")],
                                     delete_tags=["team"])
    assert [(t.key, t.value) for t in tags.tags] == [("stage", "prod")]
    gw = w.serving_endpoints.put_ai_gateway("ep", inference_table_config=AiGatewayInferenceTableConfig(
        catalog_name="catalog", schema_name="schema", table_name_prefix="fraud", enabled=True))
    assert gw.inference_table_config.table_name_prefix == "fraud"
    assert w.tables.get("catalog.schema.fraud_payload").name == "fraud_payload"
    limits = w.serving_endpoints.put("ep", rate_limits=[RateLimit(calls=10, renewal_period=RateLimitRenewalPeriod.MINUTE)])
    assert limits.rate_limits[0].calls == 10
    ep = w.serving_endpoints.get("ep")
    assert ep.ai_gateway.inference_table_config.enabled is True
    assert [(t.key, t.value) for t in ep.tags] == [("stage", "prod")]


@pytest.mark.skipif(not SERVING_OPENAPI, reason=SERVING_OPENAPI_REASON)
def test_permissions_openapi_logs_metrics(w, fraud_model, X):
    ep = w.serving_endpoints.create_and_wait("ep", config=config("ep", entity("3")))
    perms = w.serving_endpoints.get_permissions(ep.id)
    assert perms.object_id == f"/serving-endpoints/{ep.id}"
    assert perms.access_control_list[0].all_permissions[0].permission_level.value == "CAN_MANAGE"
    levels = w.serving_endpoints.get_permission_levels(ep.id).permission_levels
    assert [lv.permission_level.value for lv in levels] == ["CAN_MANAGE", "CAN_QUERY", "CAN_VIEW"]
    from databricks.sdk.service.serving import (
        ServingEndpointAccessControlRequest, ServingEndpointPermissionLevel)
    perms = w.serving_endpoints.update_permissions(ep.id, access_control_list=[
        ServingEndpointAccessControlRequest(service_principal_name="scoring-app",
                                            permission_level=ServingEndpointPermissionLevel.CAN_QUERY)])
    granted = {a.service_principal_name: a.all_permissions[0].permission_level.value
               for a in perms.access_control_list if a.service_principal_name}
    assert granted == {"scoring-app": "CAN_QUERY"}
    import json
    spec = json.loads(w.serving_endpoints.get_open_api("ep").contents.read())
    columns = spec["paths"]["/served-models/fraud_model-3/invocations"]["post"]["requestBody"]["content"][
        "application/json"]["schema"]["properties"]["dataframe_records"]["items"]["properties"]
    assert sorted(columns) == ["feature1", "feature2", "feature3"]
    assert "fraud_model-3" in w.serving_endpoints.logs("ep", "fraud_model-3").logs
    assert w.serving_endpoints.build_logs("ep", "fraud_model-3").logs
    with pytest.raises(ResourceDoesNotExist):
        w.serving_endpoints.logs("ep", "nope")
    w.serving_endpoints.query("ep", dataframe_records=X.head(2).to_dict("records"))
    text = w.serving_endpoints.export_metrics("ep").contents.read().decode()
    assert 'request_count_total{served_entity_name="fraud_model-3"} 1' in text
    assert 'request_4xx_count_total{served_entity_name="fraud_model-3"} 0' in text


def test_seed_endpoint_fixture_helper(mlemu, w, fraud_model):
    mlemu.serving.seed_endpoint("ep", MODEL)
    ep = w.serving_endpoints.get("ep")
    assert ep.state.ready.value == "READY" and ep.config.served_entities[0].entity_version == "4"


def test_a_model_that_cannot_load_fails_the_deployment(mlemu, w, fraud_model):
    from tests.server.services.registry.conftest import MLMODEL  # a signed MLmodel with no flavor to load

    mlemu.registry.register_files(MODEL, {"MLmodel": MLMODEL, "model.pkl": b"not a model"})  # version 5
    with pytest.raises(OperationFailed, match="UPDATE_FAILED"):
        w.serving_endpoints.create_and_wait("ep", config=config("ep", entity("5")))
    ep = w.serving_endpoints.get("ep")
    assert ep.state.ready.value == "NOT_READY"
    failed = ep.pending_config.served_entities[0]
    assert failed.state.deployment.value == "DEPLOYMENT_FAILED"
    assert "Failed to load the model of served entity 'fraud_model-5'" in failed.state.deployment_state_message
    assert not mlemu.internal_errors


def test_workspace_registry_versions_are_served(mlemu, w, saved_models, X, champion):
    import os

    champion_dir = saved_models[0]
    files = {}
    for root, _, names in os.walk(champion_dir):
        for n in names:
            path = os.path.join(root, n)
            with open(path, "rb") as fh:
                files[os.path.relpath(path, champion_dir)] = fh.read()
    mlemu.workspace_registry.register_files("fraud_model", files, stage="Production")
    w.serving_endpoints.create_and_wait("ws-ep", config=config("ws-ep", ServedEntityInput(
        entity_name="fraud_model", entity_version="1", workload_size="Small", scale_to_zero_enabled=True)))
    answer = w.serving_endpoints.query("ws-ep", dataframe_records=X.head(3).to_dict("records"))
    assert answer.predictions == champion.predict(X.head(3)).tolist()
    assert answer.served_model_name == "fraud_model-1"
    with pytest.raises(ResourceDoesNotExist):
        w.serving_endpoints.create("nope", config=config("nope", ServedEntityInput(
            entity_name="no_such_model", entity_version="1")))
