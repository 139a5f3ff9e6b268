"""The version-aware skip marker (``mlemu.toolkit.client_versions.requires``)."""
from __future__ import annotations

import mlflow

from mlemu.toolkit.client_versions import requires, satisfies, version


def test_versions_of_the_installed_clients():
    assert str(version("mlflow")) == mlflow.__version__
    assert version("databricks-sdk") is not None
    assert version("no-such-distribution-mlemu") is None


def test_requirements_are_evaluated_against_what_is_installed():
    major = int(mlflow.__version__.split(".")[0])
    assert satisfies(f"mlflow>={major}") and not satisfies(f"mlflow>={major + 1}")
    assert not satisfies("no-such-distribution-mlemu>=0")


def test_the_marker_skips_with_both_versions_in_the_reason():
    major = int(mlflow.__version__.split(".")[0])
    mark = requires(f"mlflow>={major + 1}", "a later client's feature").mark
    assert mark.name == "skipif" and mark.args == (True,)
    assert mark.kwargs["reason"] == (f"needs mlflow>={major + 1} (mlflow {mlflow.__version__} installed): "
                                     "a later client's feature")
    assert requires(f"mlflow>={major}", "here").mark.args == (False,)
    missing = requires("no-such-distribution-mlemu>=1", "absent").mark
    assert missing.args == (True,) and "(no no-such-distribution-mlemu installed)" in missing.kwargs["reason"]

