"""Prompts in Unity Catalog through the real mlflow 3 client (registry URI databricks-uc):
register (a second register is a new version: the server answers ALREADY_EXISTS to the
create, which the client ignores), load by version and alias, search, tags, and the links
to runs and traces."""
from __future__ import annotations

import inspect
import logging

import pytest

mlflow = pytest.importorskip("mlflow")
from mlflow.exceptions import MlflowException  # noqa: E402

pytestmark = pytest.mark.skipif(not hasattr(getattr(mlflow, "genai", None), "register_prompt"),
                                reason="the mlflow.genai prompt registry APIs came after mlflow 3.0 (3.0 has "
                                       "mlflow.register_prompt, not covered here); mlflow 2 has none")

NAME = "main.default.qa_prompt"


@pytest.fixture(autouse=True)
def sync_trace_export(monkeypatch):
    monkeypatch.setenv("MLFLOW_ENABLE_ASYNC_TRACE_LOGGING", "false")


def test_register_alias_and_load(mlemu):
    v1 = mlflow.genai.register_prompt(NAME, "Answer the question: {{question}}",
                                      commit_message="first", tags={"team": "x"})
    assert v1.version == 1 and v1.template == "Answer the question: {{question}}"
    v2 = mlflow.genai.register_prompt(NAME, [{"role": "user", "content": "Q: {{question}}"}])
    assert v2.version == 2 and not v2.is_text_prompt
    assert mlemu.calls.filter(operation="prompts.create", status=409), "second create is ALREADY_EXISTS"

    loaded = mlflow.genai.load_prompt(f"prompts:/{NAME}/1")
    assert loaded.format(question="why?") == "Answer the question: why?"
    assert loaded.commit_message == "first"

    mlflow.genai.set_prompt_alias(NAME, alias="prod", version=2)
    by_alias = mlflow.genai.load_prompt(f"prompts:/{NAME}@prod")
    assert by_alias.version == 2 and by_alias.aliases == ["prod"]
    assert by_alias.format(question="x") == [{"role": "user", "content": "Q: x"}]

    mlflow.genai.delete_prompt_alias(NAME, "prod")
    # The client turns the server's RESOURCE_DOES_NOT_EXIST into None.
    assert mlflow.MlflowClient().get_prompt_version_by_alias(NAME, "prod") is None
    assert mlemu.calls.filter(operation="prompts.versions.get-by-alias")[-1].error_code == \
        "RESOURCE_DOES_NOT_EXIST"


def test_missing_prompt_and_schema(mlemu):
    assert mlflow.genai.load_prompt(f"prompts:/{NAME}/7", allow_missing=True) is None
    with pytest.raises(MlflowException) as e:
        mlflow.genai.register_prompt("nocatalog.default.p", "t")
    assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_search_and_tags(mlemu):
    mlemu.unity_catalog.ensure_schema("main.genai")
    for n in ("alpha", "beta", "gamma"):
        mlflow.genai.register_prompt(f"main.genai.{n}", f"{n}: {{{{x}}}}")
    found = mlflow.genai.search_prompts("catalog = 'main' AND schema = 'genai'")
    assert [p.name for p in found] == ["main.genai.alpha", "main.genai.beta", "main.genai.gamma"]
    client = mlflow.MlflowClient()
    query = "catalog = 'main' AND schema = 'genai' AND name LIKE '%a'"
    first = client.search_prompts(query, max_results=1)
    rest = client.search_prompts(query, max_results=1, page_token=first.token)
    assert [p.name for p in first + rest] == ["main.genai.alpha", "main.genai.beta"]
    client.set_prompt_tag("main.genai.beta", "owner", "ada")
    assert client.get_prompt("main.genai.beta").tags["owner"] == "ada"
    client.delete_prompt_tag("main.genai.beta", "owner")
    assert "owner" not in client.get_prompt("main.genai.beta").tags


def test_prompt_links_to_runs_and_traces(mlemu, caplog):
    caplog.set_level(logging.WARNING)
    mlflow.set_experiment(f"{mlemu.user.home}/prompts")
    mlflow.genai.register_prompt(NAME, "Say {{x}}")

    @mlflow.trace
    def app(x):
        prompt = mlflow.genai.load_prompt(f"prompts:/{NAME}/1")
        return prompt.format(x=x)

    app("hi")
    trace_id = mlflow.get_last_active_trace_id()
    with mlflow.start_run() as run:
        # link_to_model (mlflow >= 3.8 at the latest; 3.5.1 has none) keeps the active model out
        quiet = {"link_to_model": False} if "link_to_model" in inspect.signature(mlflow.genai.load_prompt).parameters else {}
        mlflow.genai.load_prompt(f"prompts:/{NAME}/1", **quiet)
    version = mlemu.prompts.get_version(NAME, 1)[1]
    assert trace_id in version.trace_ids
    assert mlflow.get_trace(trace_id).info.tags["mlflow.linkedPrompts"]
    links = mlemu.calls.filter(operation="prompts.links-to-runs")
    assert links and all(c.status == 200 for c in links)
    assert version.run_ids == [run.info.run_id]
    assert not [r for r in caplog.records if "Failed to send trace" in r.getMessage()]
