"""Fixtures of the SQL tests: an AI Gateway inference table filled by a real serving endpoint's
invocations (two served models, successes and 400s, over several hours), the starter warehouse,
and the SDK client. Test modules needing the engine skip when duckdb or sqlglot is absent
(``require_engine()`` from ``helpers``)."""
from __future__ import annotations

import pytest

from tests.server.services.serving.conftest import (  # noqa: F401 - fixtures reused from the serving tests
    X, champion, config, entity, fraud_model, saved_models, w)

ENDPOINT = "fraud-detection-endpoint"
PAYLOAD = "catalog.ml_inference.`fraud-detection-endpoint_payload`"
PAYLOAD_NAME = "catalog.ml_inference.fraud-detection-endpoint_payload"


@pytest.fixture
def warehouse_id(w):
    return next(iter(w.warehouses.list())).id


@pytest.fixture
def inference_table(mlemu, w, fraud_model, X):
    """``catalog.ml_inference.fraud-detection-endpoint_payload`` after 36 invocations spread over
    12 hours (the last ones 1 hour before now), a 50/50 split between versions 3 and 4, every
    fourth request malformed (400). Returns the table as pandas, for the expectations."""
    import requests
    from databricks.sdk.service.serving import AiGatewayInferenceTableConfig

    mlemu.unity_catalog.ensure_schema("catalog.ml_inference")
    w.serving_endpoints.create_and_wait(ENDPOINT, config=config(
        ENDPOINT, entity("3", name="v3"), entity("4", name="v4"), routes=[("v3", 50), ("v4", 50)]))
    w.serving_endpoints.put_ai_gateway(ENDPOINT, inference_table_config=AiGatewayInferenceTableConfig(
        catalog_name="catalog", schema_name="ml_inference", enabled=True))
    mlemu.clock.advance(-13 * 3600)
    for i in range(36):
        if i % 3 == 0:
            mlemu.clock.advance(3600)
        rows = X.iloc[i: i + 1 + i % 3]
        payload = {"not_a_format": []} if i % 4 == 3 else {"dataframe_records": rows.to_dict("records")}
        requests.post(f"{mlemu.host}/serving-endpoints/{ENDPOINT}/invocations", json=payload,
                      headers={"Authorization": f"Bearer {mlemu.token}"}, timeout=30)
    mlemu.clock.advance(3600)
    return mlemu.unity_catalog.read_table(PAYLOAD_NAME)
