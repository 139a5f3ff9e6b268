"""search_runs through the real client: the filter grammar, order_by with its tie-breakers,
paging with opaque tokens, view types, and the errors of bad queries."""
from __future__ import annotations

import pytest

mlflow = pytest.importorskip("mlflow")
from mlflow import MlflowClient  # noqa: E402
from mlflow.entities import ViewType  # noqa: E402
from mlflow.exceptions import MlflowException  # noqa: E402

T0 = 1_700_000_000_000


@pytest.fixture
def thirty_runs(mlemu, experiment_id):
    """30 runs made through the fixture's state API (fast; the searches go through the client).

    start_time repeats every 10 runs so ties are broken by run_id; every third run is RUNNING."""
    t = mlemu.tracking
    for i in range(30):
        run = t.create_run(experiment_id, run_name=f"run-{i:02d}", start_time=T0 + (i % 10) * 1000,
                           tags={"parity": "even" if i % 2 == 0 else "odd"})
        t.log_batch(run.info.run_id, metrics=[("acc", i / 100, T0, 0), ("loss", 1 - i / 100, T0, 0)],
                    params={"idx": str(i), "model": "rf" if i < 15 else "xgb"}, tags={"group": f"g{i // 10}"})
        if i % 3 != 0:
            t.update_run(run.info.run_id, status="FINISHED", end_time=T0 + 100_000 + i)
    return sorted(MlflowClient().search_runs([experiment_id], max_results=100), key=lambda r: r.info.run_name)


def _names(runs) -> list[str]:
    return [r.info.run_name for r in runs]


def test_page_through_with_tokens(mlemu, experiment_id, thirty_runs):
    client = MlflowClient()
    expected = sorted(thirty_runs, key=lambda r: (-r.info.start_time, r.info.run_id))

    seen, token, sizes = [], None, []
    while True:
        page = client.search_runs([experiment_id], max_results=7, page_token=token)
        sizes.append(len(page))
        seen.extend(r.info.run_id for r in page)
        token = page.token
        if not token:
            break
    assert sizes == [7, 7, 7, 7, 2]
    assert seen == [r.info.run_id for r in expected]  # default order: start_time DESC, run_id
    assert len(set(seen)) == 30

    # the same with an order_by and a filter
    seen, token = [], None
    while True:
        page = client.search_runs([experiment_id], "params.model = 'rf'", order_by=["metrics.acc DESC"],
                                  max_results=7, page_token=token)
        seen.extend(_names(page))
        token = page.token
        if not token:
            break
    assert seen == [f"run-{i:02d}" for i in range(14, -1, -1)]


def test_bad_page_token_and_max_results(mlemu, experiment_id, thirty_runs):
    client = MlflowClient()
    for token in ("garbage", "eyJvZmZzZXQiOiA3fQ=="):  # the second is a token of another query
        with pytest.raises(MlflowException) as e:
            client.search_runs([experiment_id], page_token=token)
        assert e.value.error_code == "INVALID_PARAMETER_VALUE"
    token = client.search_runs([experiment_id], max_results=5).token
    with pytest.raises(MlflowException) as e:  # a token is only good for the query that made it
        client.search_runs([experiment_id], "params.model = 'rf'", max_results=5, page_token=token)
    assert e.value.error_code == "INVALID_PARAMETER_VALUE"
    with pytest.raises(MlflowException) as e:
        client.search_runs([experiment_id], max_results=50001)
    assert e.value.error_code == "INVALID_PARAMETER_VALUE"
    assert len(client.search_runs([experiment_id], max_results=50000)) == 30
    assert len(client.search_runs([experiment_id])) == 30  # Databricks default page: 1000


@pytest.mark.parametrize("filter_string, expected", [
    ("metrics.acc > 0.27", [28, 29]),
    ("metrics.acc >= 0.28 and metrics.loss < 0.72", [29]),
    ("metrics.acc = 0.05", [5]),
    ("metrics.acc != 0.05 AND params.idx LIKE '2_'", list(range(20, 30))),
    ("metrics.acc != 0.05 AND params.idx LIKE '_'", [0, 1, 2, 3, 4, 6, 7, 8, 9]),
    ("params.idx = '7'", [7]),
    ("params.\"idx\" = \"7\"", [7]),
    ("param.model != 'rf' and tags.group = 'g1'", [15, 16, 17, 18, 19]),
    ("tags.parity = 'odd' AND params.idx LIKE '1%'", [1, 11, 13, 15, 17, 19]),
    ("tags.`group` ILIKE 'G2'", list(range(20, 30))),
    ("attributes.run_name = 'run-04'", [4]),
    ("run_name LIKE 'run-0%' and attribute.status = 'RUNNING'", [0, 3, 6, 9]),
    ("attributes.status != 'RUNNING' and params.idx LIKE '%5'", [5, 25]),
    (f"attributes.start_time >= {T0 + 8000}", [8, 9, 18, 19, 28, 29]),
    (f"created < {T0 + 1000}", [0, 10, 20]),
    (f"attributes.end_time > {T0 + 100_027}", [28, 29]),
    ("tags.missing IS NULL and params.idx = '3'", [3]),
    ("tags.group IS NOT NULL and metrics.acc < 0.02", [0, 1]),
    ("metrics.nope > 0", []),
])
def test_filter_grammar(mlemu, experiment_id, thirty_runs, filter_string, expected):
    found = MlflowClient().search_runs([experiment_id], filter_string, order_by=["params.idx"])
    got = sorted(int(r.info.run_name[4:]) for r in found)
    assert got == expected


def test_filter_by_run_id_list(mlemu, experiment_id, thirty_runs):
    ids = [thirty_runs[3].info.run_id, thirty_runs[17].info.run_id]
    found = MlflowClient().search_runs([experiment_id], f"attributes.run_id IN ('{ids[0]}', '{ids[1]}')")
    assert sorted(r.info.run_id for r in found) == sorted(ids)
    found = MlflowClient().search_runs([experiment_id], f"run_id NOT IN ('{ids[0]}')")
    assert len(found) == 29


@pytest.mark.parametrize("order_by, first_five", [
    (["metrics.acc DESC"], [29, 28, 27, 26, 25]),
    (["metrics.loss"], [29, 28, 27, 26, 25]),
    (["params.model DESC", "metrics.acc ASC"], [15, 16, 17, 18, 19]),
    (["tags.group DESC", "attributes.run_name"], [20, 21, 22, 23, 24]),
    (["attributes.end_time ASC"], [1, 2, 4, 5, 7]),
    (["attributes.end_time DESC"], [29, 28, 26, 25, 23]),
    (["start_time ASC", "params.idx DESC"], [20, 10, 0, 21, 11]),
])
def test_order_by(mlemu, experiment_id, thirty_runs, order_by, first_five):
    found = MlflowClient().search_runs([experiment_id], order_by=order_by)
    assert [int(r.info.run_name[4:]) for r in found][:5] == first_five


def test_missing_values_sort_last_both_ways(mlemu, experiment_id, thirty_runs):
    client = MlflowClient()
    asc = [r.info.end_time for r in client.search_runs([experiment_id], order_by=["end_time ASC"])]
    desc = [r.info.end_time for r in client.search_runs([experiment_id], order_by=["end_time DESC"])]
    assert asc[-10:] == [None] * 10 and desc[-10:] == [None] * 10
    assert asc[:20] == sorted(asc[:20]) and desc[:20] == sorted(desc[:20], reverse=True)


def test_view_types(mlemu, experiment_id, thirty_runs):
    client = MlflowClient()
    for r in thirty_runs[:4]:
        client.delete_run(r.info.run_id)
    assert len(client.search_runs([experiment_id])) == 26
    deleted = client.search_runs([experiment_id], run_view_type=ViewType.DELETED_ONLY)
    assert sorted(_names(deleted)) == ["run-00", "run-01", "run-02", "run-03"]
    assert len(client.search_runs([experiment_id], run_view_type=ViewType.ALL)) == 30


def test_search_over_several_experiments_and_pandas(mlemu, experiment_id, thirty_runs, home):
    client = MlflowClient()
    other = client.create_experiment(f"{home}/other")
    client.create_run(other, run_name="elsewhere")
    assert len(client.search_runs([experiment_id, other])) == 31
    df = mlflow.search_runs(experiment_ids=[experiment_id], filter_string="metrics.acc < 0.03",
                            order_by=["metrics.acc"])
    assert list(df["params.idx"]) == ["0", "1", "2"]
    assert list(df["tags.mlflow.runName"]) == ["run-00", "run-01", "run-02"]
    by_name = mlflow.search_runs(experiment_names=[f"{home}/other"], output_format="list")
    assert _names(by_name) == ["elsewhere"]


@pytest.mark.parametrize("bad", [
    "metrics.acc > 'high'",         # metric needs a number
    "params.idx = 7",               # param needs a quoted string
    "params.idx = seven",           # unquoted string
    "metrics.acc > 0.5 OR metrics.acc < 0.1",
    "status IN ('RUNNING')",        # only run_id takes a list
    "foo.bar = 'x'",                # unknown entity
    "attributes.colour = 'red'",    # unknown attribute
    "metrics.acc LIKE '1%'",        # LIKE on a metric
    "params.idx",                   # no comparison
    "metrics.acc > 1 AND",          # dangling AND
])
def test_bad_filters_are_invalid_parameter_value(mlemu, experiment_id, bad):
    with pytest.raises(MlflowException) as e:
        MlflowClient().search_runs([experiment_id], bad)
    assert e.value.error_code == "INVALID_PARAMETER_VALUE"


@pytest.mark.parametrize("bad", ["metrics.acc SIDEWAYS", "colour", "params.a, params.b"])
def test_bad_order_by(mlemu, experiment_id, bad):
    with pytest.raises(MlflowException) as e:
        MlflowClient().search_runs([experiment_id], order_by=[bad])
    assert e.value.error_code == "INVALID_PARAMETER_VALUE"


def test_last_active_run(mlemu, experiment_id):
    with mlflow.start_run(run_name="latest"):
        mlflow.log_metric("m", 1)
    assert mlflow.last_active_run().info.run_name == "latest"
