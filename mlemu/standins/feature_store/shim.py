"""The import paths of Databricks' clients, answered by mlemu's clean-room versions:

    from databricks.feature_engineering import FeatureEngineeringClient, FeatureLookup, FeatureFunction
    from databricks.feature_store import FeatureStoreClient, FeatureLookup

:func:`install` puts a meta-path finder first on ``sys.meta_path`` that answers only these
module names (and their ``entities`` / ``client`` submodules), so the real packages, if
installed, are shadowed and ``databricks.sdk`` (another part of the ``databricks``
namespace) is untouched. The pytest plugin installs it at ``pytest_configure`` (before test
modules are collected); ``mlemu.emulate()`` installs it on entry. It stays installed for the
rest of the process: modules imported through it keep working after the block ends.
"""
from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
import types
from typing import Sequence

_CLASSES = "mlemu.standins.feature_store.clients"
_LOOKUPS = "mlemu.standins.feature_store.lookups"
_TRAINING = "mlemu.standins.feature_store.training_set"
_TABLES = "mlemu.standins.feature_store.tables"

#: module name -> {attribute: (mlemu module, attribute)}; packages have submodules.
MODULES: dict[str, dict[str, tuple[str, str]]] = {
    "databricks.feature_engineering": {
        "FeatureEngineeringClient": (_CLASSES, "FeatureEngineeringClient"),
        "FeatureLookup": (_LOOKUPS, "FeatureLookup"),
        "FeatureFunction": (_LOOKUPS, "FeatureFunction"),
    },
    "databricks.feature_engineering.client": {
        "FeatureEngineeringClient": (_CLASSES, "FeatureEngineeringClient"),
    },
    "databricks.feature_engineering.entities": {},
    "databricks.feature_engineering.entities.feature_lookup": {"FeatureLookup": (_LOOKUPS, "FeatureLookup")},
    "databricks.feature_engineering.entities.feature_function": {"FeatureFunction": (_LOOKUPS, "FeatureFunction")},
    "databricks.feature_engineering.training_set": {"TrainingSet": (_TRAINING, "TrainingSet")},
    "databricks.feature_store": {
        "FeatureStoreClient": (_CLASSES, "FeatureStoreClient"),
        "FeatureLookup": (_LOOKUPS, "FeatureLookup"),
        "FeatureFunction": (_LOOKUPS, "FeatureFunction"),
    },
    "databricks.feature_store.client": {"FeatureStoreClient": (_CLASSES, "FeatureStoreClient")},
    "databricks.feature_store.entities": {},
    "databricks.feature_store.entities.feature_lookup": {"FeatureLookup": (_LOOKUPS, "FeatureLookup")},
    "databricks.feature_store.entities.feature_table": {"FeatureTable": (_TABLES, "FeatureTable")},
    "databricks.feature_store.training_set": {"TrainingSet": (_TRAINING, "TrainingSet")},
}
_PACKAGES = {"databricks.feature_engineering", "databricks.feature_engineering.entities",
             "databricks.feature_store", "databricks.feature_store.entities"}


class _Loader(importlib.abc.Loader):
    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType | None:
        return None  # the default module object

    def exec_module(self, module: types.ModuleType) -> None:
        import importlib

        exports = MODULES[module.__name__]
        for attr, (source, name) in exports.items():
            setattr(module, attr, getattr(importlib.import_module(source), name))
        module.__all__ = list(exports)
        module.__doc__ = f"mlemu's clean-room emulation of {module.__name__} (see mlemu.standins.feature_store)."
        module.__mlemu__ = True  # type: ignore[attr-defined]


class Finder(importlib.abc.MetaPathFinder):
    """Answers the feature-engineering module names; everything else falls through."""

    def find_spec(self, fullname: str, path: Sequence[str] | None = None,
                  target: types.ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        if fullname not in MODULES:
            return None
        spec = importlib.machinery.ModuleSpec(fullname, _Loader(), is_package=fullname in _PACKAGES)
        if fullname in _PACKAGES:
            spec.submodule_search_locations = []
        return spec


def installed() -> bool:
    return any(isinstance(f, Finder) for f in sys.meta_path)


def install() -> None:
    """Put the finder first (idempotent) and replace real modules imported before it."""
    if not installed():
        sys.meta_path.insert(0, Finder())
    for name in list(sys.modules):
        if _shadowed(name) and not getattr(sys.modules[name], "__mlemu__", False):
            del sys.modules[name]


def uninstall() -> None:
    """Remove the finder and the modules it made (for tests of the shim itself)."""
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, Finder)]
    for name in list(sys.modules):
        if getattr(sys.modules[name], "__mlemu__", False):
            del sys.modules[name]


def _shadowed(name: str) -> bool:
    return any(name == root or name.startswith(root + ".")
               for root in ("databricks.feature_engineering", "databricks.feature_store"))
