"""Fixtures of the tracking tests: an active experiment in the user's home, and helpers."""
from __future__ import annotations

import pytest

mlflow = pytest.importorskip("mlflow")


@pytest.fixture
def home(mlemu) -> str:
    """The workspace user's home folder (experiments can be created under it)."""
    return mlemu.user.home


@pytest.fixture
def experiment_id(mlemu, home) -> str:
    """An active experiment set with ``mlflow.set_experiment``, as user code does."""
    return mlflow.set_experiment(f"{home}/tracking-tests").experiment_id


@pytest.fixture
def store(mlemu):
    """mlflow's own REST store: sends a request as given, without the client's batching."""
    from mlflow.tracking._tracking_service.utils import _get_store

    return _get_store()
