"""``spark`` (and ``sc``, ``table``, ``sql``, ``udf``) in a notebook's namespace.

Starting Spark costs seconds, so ``spark`` is a stand-in that starts nothing until the
notebook first uses it. Then it is the test's session when the ``spark`` fixture is active
(bridged to the workspace's Unity Catalog tables), else the active session or mlemu's local
one (:func:`mlemu.standins.spark.session`, started once per process), made active and bridged
for the rest of the run. Without pyspark, using it raises :class:`~.errors.NotEmulated` saying so.
"""
from __future__ import annotations

import sys
from contextlib import ExitStack
from typing import Any, Callable

from mlemu.standins.notebooks.errors import NotEmulated

NO_PYSPARK = ("spark is not available in this notebook run: pyspark is not installed "
              "(pip install 'mlemu[spark]'; Spark needs Java 17+)")

_process_session: Any = None


class SparkProvider:
    """The Spark session of one notebook run (shared with the notebooks it runs)."""

    def __init__(self) -> None:
        self._session: Any = None
        self._stack = ExitStack()
        #: Called once the session is there (the runtime adds ``DataFrame.display`` then).
        self.on_start: list[Callable[[], None]] = []

    @property
    def started(self) -> bool:
        """Whether the run has a session to use (its own, or the test's active one)."""
        if self._session is not None:
            return True
        if sys.modules.get("pyspark.sql") is None:
            return False
        from pyspark.sql import SparkSession
        return SparkSession.getActiveSession() is not None

    def get(self) -> Any:
        if self._session is None:
            try:
                from pyspark.sql import SparkSession
            except ImportError:
                raise NotEmulated(NO_PYSPARK) from None
            from mlemu.standins import spark as mlemu_spark

            session = SparkSession.getActiveSession()
            if session is None or not mlemu_spark.bridged():
                global _process_session
                if session is None:
                    if _process_session is None:
                        _process_session = mlemu_spark.session()
                    session = _process_session
                self._stack.enter_context(mlemu_spark.active(session))
                self._stack.enter_context(mlemu_spark.bridge())
            self._session = session
            for callback in list(self.on_start):
                callback()
        return self._session

    def close(self) -> None:
        """Undo what :meth:`get` set up (the session itself keeps running for later runs)."""
        self._stack.close()
        self._session = None


class LazySpark:
    """``spark`` until first use: every attribute is the real session's."""

    def __init__(self, provider: SparkProvider) -> None:
        object.__setattr__(self, "_provider", provider)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._provider.get(), name)

    @property  # type: ignore[misc]
    def __class__(self) -> type:  # isinstance(spark, SparkSession) holds (and starts the session)
        return type(self._provider.get())

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._provider.get(), name, value)

    def __repr__(self) -> str:
        return "<spark: mlemu's notebook session, started on first use>"


class LazyValue:
    """A namespace name standing for something derived from the session (``sc``, ``table``...)."""

    def __init__(self, make: Callable[[], Any], name: str) -> None:
        self._make = make
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._make(), attr)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._make()(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<{self._name}: from mlemu's notebook Spark session, on first use>"


def namespace(provider: SparkProvider) -> dict[str, Any]:
    """The Spark names a Databricks notebook starts with."""
    def udf() -> Any:
        try:
            from pyspark.sql.functions import udf as real_udf
        except ImportError:
            raise NotEmulated(NO_PYSPARK) from None
        return real_udf

    return {
        "spark": LazySpark(provider),
        "sc": LazyValue(lambda: provider.get().sparkContext, "sc"),
        "sqlContext": LazyValue(lambda: provider.get(), "sqlContext"),
        "table": LazyValue(lambda: provider.get().table, "table"),
        "sql": LazyValue(lambda: provider.get().sql, "sql"),
        "udf": LazyValue(udf, "udf"),
    }
