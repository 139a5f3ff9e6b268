"""The coverage sweep: every public method of the SDK services mlemu claims and of
``MlflowClient``, called against a prepared workspace (see :mod:`mlemu.toolkit.sweep`).

It checks that nothing is broken, that the gaps it once found stay filled, and - on the
client versions the committed ``docs/coverage.md`` was made with - that the page is current.
"""
from __future__ import annotations

import pathlib

import pytest

from mlemu.toolkit import coverage, sweep

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def results() -> list[sweep.Result]:
    return sweep.run()


def _outcome(results: list[sweep.Result], target: str, method: str) -> str:
    return next(r.outcome for r in results if (r.target, r.method) == (target, method))


def test_every_claimed_sdk_service_is_swept(results):
    swept = {r.target for r in results}
    assert {f"w.{s}" for s in sweep.SDK_SERVICES} | {"MlflowClient"} <= swept


def test_nothing_the_sweep_reaches_is_broken(results):
    """A 5xx, an internal error, or a client failing on a 2xx answer is an mlemu defect."""
    broken = [(r.target, r.method, r.detail) for r in results if r.outcome == sweep.BROKEN]
    assert broken == []


@pytest.mark.parametrize("target, method", [
    ("w.experiments", "list_experiments"),
    ("w.experiments", "delete_runs"),
    ("w.experiments", "restore_runs"),
    ("w.model_registry", "transition_stage"),
    ("w.model_registry", "create_transition_request"),
    ("w.model_registry", "get_latest_versions"),
    ("MlflowClient[databricks registry]", "transition_model_version_stage"),
    ("MlflowClient[databricks registry]", "copy_model_version"),
])
def test_gaps_found_by_the_sweep_are_answered(results, target, method):
    assert _outcome(results, target, method) == sweep.ANSWERED


@pytest.mark.parametrize("method", ["search_traces", "get_trace", "set_trace_tag",
                                    "link_traces_to_run", "register_prompt", "load_prompt",
                                    "set_prompt_alias", "link_prompt_version_to_model"])
def test_tracing_and_prompts_are_answered(results, method):
    """Traces (both generations) and UC prompts (mlflow 3; 2.22 refuses them client-side);
    search_traces(run_id=...) was broken before traces were kept."""
    import mlflow

    if not any((r.target, r.method) == ("MlflowClient", method) for r in results):
        pytest.skip(f"MlflowClient.{method} is not in this mlflow version")
    if "prompt" in method and not mlflow.__version__.startswith("3."):
        pytest.skip("mlflow 2.22 has no Unity Catalog prompt registry")
    assert _outcome(results, "MlflowClient", method) == sweep.ANSWERED


def test_jobs_are_emulated(results):
    """Lakeflow Jobs (issue 18): at least 90 % of ``w.jobs`` reaches an emulated endpoint."""
    jobs = [r for r in results if r.target == "w.jobs"]
    reached = [r for r in jobs if r.outcome != sweep.CLIENT_SIDE]
    emulated = [r for r in reached if r.outcome in (sweep.ANSWERED, sweep.REFUSED)]
    assert len(emulated) >= 0.9 * len(reached) and len(reached) >= 20, [(r.method, r.outcome) for r in jobs]


def test_unemulated_endpoints_are_reported_as_such(results):
    """Registry webhooks are not emulated: the sweep says so instead of hiding it."""
    assert _outcome(results, "w.model_registry", "list_webhooks") == sweep.NOT_EMULATED


def test_committed_page_is_current_for_its_client_versions(results):
    committed = (ROOT / "docs" / "coverage.md").read_text()
    section, _ = coverage.split(committed)
    assert section is not None, "docs/coverage.md has no sweep section: run mlemu coverage -o docs/coverage.md"
    versions = coverage.client_versions()
    if f"({versions})" not in section:
        pytest.skip(f"docs/coverage.md was swept with other client versions than {versions}")
    assert section == coverage.render_sweep(results, versions).rstrip("\n") + "\n", \
        "run: mlemu coverage -o docs/coverage.md"
