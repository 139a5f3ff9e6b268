"""``spark`` in a notebook: the test's bridged session, DataFrame.display(), %sql through Spark;
and a clear error when pyspark is missing. (pyspark and Java: the mlflow 3 stack only.)"""
from __future__ import annotations

import importlib.util
import sys

import pandas as pd
import pytest

from mlemu.standins import notebooks
from mlemu.standins.notebooks import NotebookFailed, NotEmulated

needs_pyspark = pytest.mark.skipif(importlib.util.find_spec("pyspark") is None,
                                   reason="pyspark is not installed (pip install 'mlemu[spark]')")

SPARK_NOTEBOOK = ("""
    df = spark.table("main.default.trips")
    df.display()
    from pyspark.sql import SparkSession
    assert isinstance(spark, SparkSession)
    spark.createDataFrame(df.toPandas().assign(fare=lambda f: f.fare * 2)).write.mode("overwrite") \\
        .saveAsTable("main.default.doubled")
""", """
    # MAGIC %sql
    # MAGIC SELECT zip, sum(fare) AS total FROM main.default.doubled GROUP BY zip ORDER BY zip
""", "dbutils.notebook.exit(str(_sqldf.count()))")


@pytest.fixture
def trips(mlemu):
    mlemu.unity_catalog.put_table("main.default.trips", pd.DataFrame({"zip": [1, 1, 2], "fare": [5.0, 7.0, 3.0]}))


@needs_pyspark
def test_spark_in_a_notebook_with_the_spark_fixture(spark, mlemu, trips, write_notebook):
    run = notebooks.run(write_notebook("S.py", *SPARK_NOTEBOOK))
    assert run.exit_value == "2"
    assert run.displays[0].frame.to_dict("list") == {"zip": [1, 1, 2], "fare": [5.0, 7.0, 3.0]}
    assert run.displays[1].frame.to_dict("list") == {"zip": [1, 2], "total": [24.0, 6.0]}
    assert mlemu.unity_catalog.read_table("main.default.doubled")["fare"].tolist() == [10.0, 14.0, 6.0]


@needs_pyspark
def test_spark_started_by_the_notebook(mlemu_spark_session, mlemu, trips, write_notebook):
    from pyspark.sql import DataFrame

    from mlemu.standins import spark as mlemu_spark

    assert not mlemu_spark.bridged()
    run = notebooks.run(write_notebook("S.py", *SPARK_NOTEBOOK))
    assert run.exit_value == "2"
    assert not mlemu_spark.bridged() and not hasattr(DataFrame, "display")   # undone after the run


def test_without_pyspark_spark_says_why(write_notebook, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyspark", None)
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)
    untouched = notebooks.run(write_notebook("N.py", "x = 1"))        # spark is never started unasked
    assert untouched.status == "success"
    with pytest.raises(NotebookFailed, match="pyspark is not installed") as info:
        notebooks.run(write_notebook("S.py", "spark.range(3)"))
    assert isinstance(info.value.error, NotEmulated)
