"""The installed clients' versions, and the one skip marker for what an old client lacks.

mlemu is tested on every mlflow a supported Databricks Runtime ML ships (docs/compatibility.md).
A feature an old client does not have (mlflow 3's trace API, logged models, ...) is skipped
there with the requirement and the installed version in the reason, always in these words:

    from mlemu.toolkit.client_versions import requires

    pytestmark = requires("mlflow>=3", "the V3 trace API is mlflow 3's")

    @requires("databricks-sdk>=0.50", "w.model_versions.get(include_aliases=...)")
    def test_aliases(mlemu): ...
"""
from __future__ import annotations

import functools
from importlib import metadata

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

#: A distribution installed under another name (mlflow-skinny provides the mlflow module).
_ALIASES = {"mlflow": ("mlflow", "mlflow-skinny")}


@functools.lru_cache(maxsize=None)
def version(distribution: str) -> Version | None:
    """The installed version of ``distribution`` (``"mlflow"``, ``"databricks-sdk"``), or None."""
    for name in _ALIASES.get(distribution, (distribution,)):
        try:
            return Version(metadata.version(name))
        except metadata.PackageNotFoundError:
            continue
    return None


def satisfies(requirement: str) -> bool:
    """Is ``requirement`` (``"mlflow>=3.1"``, ``"mlflow<2.13"``) met by what is installed?"""
    req = Requirement(requirement)
    installed = version(req.name)
    return installed is not None and req.specifier.contains(installed, prereleases=True)


def requires(requirement: str, reason: str) -> pytest.MarkDecorator:
    """A skip marker for a test that needs ``requirement``; the reason names both versions."""
    req = Requirement(requirement)
    installed = version(req.name)
    have = f"{req.name} {installed}" if installed is not None else f"no {req.name}"
    return pytest.mark.skipif(not satisfies(requirement),
                              reason=f"needs {requirement} ({have} installed): {reason}")
