"""``mlemu.bundles.load``: a bundle's jobs (and experiments) created as a deploy would, with its
variables, references, includes, target overrides and development mode, runnable by key."""
from __future__ import annotations

import pathlib
import shutil

import pytest

import mlemu as emu
from mlemu.toolkit.bundles import BundleError

DEMO = pathlib.Path(__file__).parent / "bundles" / "demo"
ROOT = "/Workspace/Users/user@company.com/.bundle/demo"


@pytest.fixture
def demo(tmp_path):
    """A copy of the demo bundle (tests may edit it)."""
    return shutil.copytree(DEMO, tmp_path / "demo")


def test_dev_target_deploys_jobs_in_development_mode(mlemu, demo):
    bundle = emu.bundles.load(demo / "databricks.yml")
    assert bundle.target == "dev" and bundle.root_path == f"{ROOT}/dev"
    assert set(bundle.jobs) == {"hello_job", "caller_job"} and bundle.not_read == ["pipelines"]
    job = mlemu.jobs.job("hello_job")
    s = job.settings
    assert s["name"] == "[dev user] dev-hello" and s["tags"] == {"dev": "user"}
    assert s["schedule"]["pause_status"] == "PAUSED" and s["max_concurrent_runs"] == 4
    assert s["deployment"] == {"kind": "BUNDLE", "metadata_file_path": f"{ROOT}/dev/state/metadata.json"}
    task = s["tasks"][0]
    assert task["notebook_task"]["notebook_path"] == f"{ROOT}/dev/files/src/Hello"
    assert task["notebook_task"]["base_parameters"] == {
        "greeting": "hello dev", "catalog": "main", "threshold": "100",
        "warehouse": mlemu.sql.list_warehouses()[0].id, "git_source_info": "url:; branch:"}
    assert task["new_cluster"] == {"num_workers": 1, "spark_version": "15.3.x-cpu-ml-scala2.12"}
    assert "permissions" not in s
    grants = mlemu.permissions.grants("jobs", str(job.job_id))
    assert ("group_name", "users", "CAN_VIEW") in [(g.kind, g.name, g.level) for g in grants]
    caller = mlemu.jobs.job("caller_job").settings["tasks"][0]["run_job_task"]
    assert caller["job_id"] == str(job.job_id)


def test_run_a_bundle_job_by_resource_key(mlemu, demo):
    emu.bundles.load(demo, target="dev")
    run = mlemu.jobs.run_now("hello_job", {"who": "ada"}).assert_succeeded()
    assert run["hello"].exit_value == "hello dev ada"
    caller = mlemu.jobs.run_now("caller_job").assert_succeeded()
    assert caller.result_state == "SUCCESS"


def test_prod_target_overrides_and_variables(mlemu, demo):
    bundle = emu.bundles.load(demo, target="prod", variables={"greeting": "hi"})
    s = mlemu.jobs.job("hello_job").settings
    assert s["name"] == "prod-hello" and s["max_concurrent_runs"] == 2 and "tags" not in s
    params = s["tasks"][0]["notebook_task"]["base_parameters"]
    assert params["catalog"] == "prod_catalog" and params["greeting"] == "hi" and params["extra"] == "from-prod"
    assert bundle.run("hello_job").task("hello").exit_value == "hi world from-prod"
    exp = mlemu.tracking.get_experiment(bundle.experiments["experiment"])
    assert exp.name == "/Users/user@company.com/prod-demo-experiment"


def test_loading_again_updates_the_same_jobs(mlemu, demo):
    first = emu.bundles.load(demo)
    second = emu.bundles.load(demo)
    assert first.jobs == second.jobs and len(mlemu.jobs.jobs) == 2


def test_errors_name_what_is_wrong(mlemu, demo):
    with pytest.raises(BundleError, match="no target 'staging'"):
        emu.bundles.load(demo, target="staging")
    with pytest.raises(BundleError, match="not declared"):
        emu.bundles.load(demo, variables={"nope": 1})
    (demo / "resources" / "jobs.yml").write_text((demo / "resources" / "jobs.yml").read_text()
                                                 .replace("${var.catalog}", "${var.missing}"))
    with pytest.raises(BundleError, match=r"reference does not exist: \$\{var.missing\}"):
        emu.bundles.load(demo)
    (demo / "resources" / "jobs.yml").write_text((demo / "resources" / "jobs.yml").read_text()
                                                 .replace("../src/Hello.py", "../src/Nope.py"))
    with pytest.raises(BundleError, match="does not exist"):
        emu.bundles.load(demo)
    assert mlemu.jobs.jobs == {}


def test_git_information_of_the_checkout(mlemu, demo):
    git = demo / ".git"
    (git / "refs" / "heads").mkdir(parents=True)
    (git / "HEAD").write_text("ref: refs/heads/feature\n")
    (git / "refs" / "heads" / "feature").write_text("0123abcd\n")
    (git / "config").write_text('[remote "origin"]\n\turl = https://github.com/acme/demo.git\n')
    emu.bundles.load(demo)
    params = mlemu.jobs.job("hello_job").settings["tasks"][0]["notebook_task"]["base_parameters"]
    assert params["git_source_info"] == "url:https://github.com/acme/demo.git; branch:feature"


@pytest.mark.mlemu(bundle="bundles/demo/databricks.yml", bundle_target="prod")
def test_the_fixture_loads_a_bundle_from_the_marker(mlemu):
    run = mlemu.jobs.run_now("hello_job", {"who": "marker"})
    assert run.assert_succeeded()["hello"].exit_value == "bonjour marker from-prod"


def test_quality_monitors_are_created_on_their_tables(mlemu, tmp_path, make_table):
    """``resources.quality_monitors``: the monitor a deploy creates (and updates on a second
    deploy), refreshable through the SDK; a monitor on a missing table fails the load."""
    import datetime as dt

    make_table("main.default.predictions", [{"ts": dt.datetime(2026, 1, 1), "pred": 1.0, "model_id": "1"}])
    (tmp_path / "databricks.yml").write_text("""
bundle: {name: mon}
variables:
  granularity: {default: 1 day}
resources:
  quality_monitors:
    predictions_monitor:
      table_name: main.default.predictions
      output_schema_name: main.default
      assets_dir: /Workspace/Shared/mon
      inference_log:
        granularities: ["${var.granularity}"]
        timestamp_col: ts
        model_id_col: model_id
        prediction_col: pred
        problem_type: PROBLEM_TYPE_REGRESSION
targets: {dev: {default: true}}
""", encoding="utf-8")
    from databricks.sdk import WorkspaceClient

    w = WorkspaceClient()
    bundle = emu.bundles.load(tmp_path / "databricks.yml")
    assert bundle.quality_monitors == {"predictions_monitor": "main.default.predictions"}
    assert bundle.not_read == []
    info = w.quality_monitors.get("main.default.predictions")
    assert info.inference_log.granularities == ["1 day"] and info.output_schema_name == "main.default"
    emu.bundles.load(tmp_path / "databricks.yml", variables={"granularity": "1 hour"})
    assert w.quality_monitors.get("main.default.predictions").inference_log.granularities == ["1 hour"]

    (tmp_path / "databricks.yml").write_text((tmp_path / "databricks.yml").read_text().replace(
        "main.default.predictions", "main.default.missing", 1), encoding="utf-8")
    with pytest.raises(BundleError, match="missing"):
        emu.bundles.load(tmp_path / "databricks.yml")
