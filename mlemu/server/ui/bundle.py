"""Where the MLflow UI's built files are: ``mlflow/server/js/build`` inside the full ``mlflow``
wheel (``mlflow-skinny`` ships without them). Found without importing mlflow."""
from __future__ import annotations

import importlib.metadata
import importlib.util
from pathlib import Path


class UiUnavailable(RuntimeError):
    """The installed mlflow has no UI files."""


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def build_dir() -> Path:
    """The folder holding ``index.html`` and ``static-files``, or :class:`UiUnavailable`
    saying what to install."""
    spec = importlib.util.find_spec("mlflow")
    if spec is None or not spec.submodule_search_locations:
        raise UiUnavailable("The MLflow UI comes with the `mlflow` package, which is not installed "
                            "(pip install mlflow).")
    for location in spec.submodule_search_locations:
        build = Path(location) / "server" / "js" / "build"
        if (build / "index.html").is_file():
            return build
    skinny = _version("mlflow-skinny")
    if skinny and not _version("mlflow"):
        raise UiUnavailable(f"Only mlflow-skinny {skinny} is installed, which ships without the web "
                            f"UI; install the full wheel to browse the workspace "
                            f"(pip install mlflow=={skinny}).")
    raise UiUnavailable("The installed mlflow has no built UI (mlflow/server/js/build/index.html "
                        "is missing); install mlflow from a release wheel.")


def version() -> str | None:
    """The version of the mlflow whose UI is served."""
    return _version("mlflow") or _version("mlflow-skinny")
