"""Fast model logging under the emulator: mlflow's requirement inference answered in-process.

``mlflow.<flavor>.log_model(...)`` without ``pip_requirements`` or ``conda_env`` asks
``mlflow.utils.environment.infer_pip_requirements``, which calls ``_infer_requirements``: that
starts a subprocess that loads the model and records what it imports (2-60 s per call). While a
workspace is emulated with ``infer_requirements="mlemu"`` (the default of ``emulate()`` and the
``mlemu`` fixture), that one function is replaced by :func:`infer`, which reads the saved model
files instead and never runs them:

* the flavor's own library (``sklearn`` -> ``scikit-learn``, ``pytorch`` -> ``torch``, ...);
* for pickle files (``*.pkl``, ``*.pickle``, ``*.cloudpickle``, up to 16 MiB each): the top-level
  modules their opcodes name (``pickletools``, no unpickling);
* for skops files (``*.skops``): the modules named in their ``schema.json``;

each mapped to the installed distribution that provides it and pinned to its installed version
(``name==version``, a local label ``+...`` dropped), sorted; mlflow, mlflow-skinny,
mlflow-tracing, setuptools and modules that no distribution provides (the standard library,
``__main__``, the user's own code) are left out. mlflow then adds its flavor defaults and its
own pin, as it does after its own inference. What the user passes (``pip_requirements``,
``extra_pip_requirements``, ``conda_env``) is never touched: mlflow skips inference for the first
and last, and appends extras after it. Every inference is logged on the ``mlemu`` logger.

``infer_requirements="mlflow"`` keeps mlflow's own inference. When the seam is missing (another
mlflow version), mlflow's inference runs and a warning says why.
"""
from __future__ import annotations

import functools
import importlib.abc
import importlib.metadata
import json
import logging
import pickletools
import sys
import threading
import zipfile
from pathlib import Path
from typing import Any, Callable, Iterable

log = logging.getLogger("mlemu")

#: Where mlflow 2.9 - 3.17 call their subprocess-based inference (looked up at call time).
SEAM_MODULE = "mlflow.utils.environment"
SEAM_NAME = "_infer_requirements"
MODES = ("mlemu", "mlflow")
#: Pickle files larger than this are not scanned (their flavor's library is still listed).
MAX_SCAN_BYTES = 16 * 1024 * 1024
_PICKLE_SUFFIXES = (".pkl", ".pickle", ".cloudpickle")
_EXCLUDED = frozenset({"mlflow", "mlflow-skinny", "mlflow-tracing", "setuptools"})
#: Flavor names whose library's import name differs from the flavor's.
_FLAVOR_MODULES = {"pytorch": "torch", "spark": "pyspark", "python_function": None, "pyfunc": None}

_lock = threading.Lock()
_active = 0
_original: Callable[..., Any] | None = None
_hook: "_PatchOnImport | None" = None


def check_mode(mode: str) -> str:
    if mode not in MODES:
        raise ValueError(f"infer_requirements must be one of {MODES}, not {mode!r}")
    return mode


def activate() -> None:
    """Answer mlflow's requirement inference in-process until the matching :func:`deactivate`
    (nested emulations count). mlflow imported later is patched when it is imported."""
    global _active, _hook
    with _lock:
        _active += 1
        if _active > 1:
            return
        module = sys.modules.get(SEAM_MODULE)
        if module is not None:
            _patch(module)
        elif _hook is None:
            _hook = _PatchOnImport()
            sys.meta_path.insert(0, _hook)


def deactivate() -> None:
    global _active, _original, _hook
    with _lock:
        _active = max(0, _active - 1)
        if _active:
            return
        if _hook is not None:
            if _hook in sys.meta_path:
                sys.meta_path.remove(_hook)
            _hook = None
        module = sys.modules.get(SEAM_MODULE)
        if module is not None and _original is not None and getattr(module, SEAM_NAME, None) is _answer:
            setattr(module, SEAM_NAME, _original)
        _original = None


def _patch(module: Any) -> None:
    global _original
    current = getattr(module, SEAM_NAME, None)
    if current is None:
        log.warning("mlemu: %s.%s not found in this mlflow version; mlflow infers model requirements "
                    "itself (in a subprocess)", SEAM_MODULE, SEAM_NAME)
        return
    if current is not _answer:
        _original = current
        setattr(module, SEAM_NAME, _answer)


class _PatchOnImport(importlib.abc.MetaPathFinder):
    """Patches the seam right after mlflow imports it (mlflow imported inside ``emulate()``)."""

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname != SEAM_MODULE:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None and spec.loader is not None and hasattr(spec.loader, "exec_module"):
                inner = spec.loader.exec_module

                def exec_module(module: Any, _inner: Callable[[Any], None] = inner) -> None:
                    _inner(module)
                    with _lock:
                        if _active:
                            _patch(module)

                spec.loader.exec_module = exec_module  # type: ignore[method-assign]
                return spec
        return None


def _answer(model_uri: Any, flavor: str, *args: Any, **kwargs: Any) -> list[str]:
    """Stands in for ``_infer_requirements(model_uri, flavor, ...)`` while mlemu infers."""
    reqs = infer(model_uri, flavor)
    log.info("mlemu inferred the pip requirements of %s (flavor %s) from its files, without "
             "mlflow's subprocess: %s (turn off with infer_requirements=\"mlflow\")",
             model_uri, flavor, reqs)
    return reqs


def infer(model_uri: Any, flavor: str) -> list[str]:
    """The requirements mlemu infers for a saved model (see the module docstring)."""
    modules: set[str] = set()
    flavor_module = _FLAVOR_MODULES.get(flavor, flavor)
    if flavor_module:
        modules.add(flavor_module)
    path = Path(str(model_uri))
    if path.exists():
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        for f in files:
            modules.update(_modules_of(f))
    pins = {_pin(dist) for m in modules for dist in _distributions(m)}
    return sorted(p for p in pins if p)


def _modules_of(path: Path) -> set[str]:
    name = path.name.lower()
    try:
        if name.endswith(_PICKLE_SUFFIXES) and path.stat().st_size <= MAX_SCAN_BYTES:
            return pickle_modules(path.read_bytes())
        if name.endswith(".skops") and path.stat().st_size <= MAX_SCAN_BYTES:
            return skops_modules(path)
    except (OSError, ValueError, zipfile.BadZipFile):
        pass  # an unreadable file names no module; the flavor's library is still listed
    return set()


def pickle_modules(data: bytes) -> set[str]:
    """Top-level modules a pickle names (GLOBAL / INST, and STACK_GLOBAL with its module string
    pushed directly or from the memo), read from its opcodes without unpickling anything. A
    malformed pickle counts for what was read before the fault."""
    out: set[str] = set()
    recent: list[Any] = [None, None]  # the last two values pushed (strings, else None)
    memo: dict[int, Any] = {}
    try:
        for op, arg, _ in pickletools.genops(data):
            name = op.name
            if name in ("GLOBAL", "INST") and isinstance(arg, str):
                out.add(arg.split(" ", 1)[0].split(".", 1)[0])
                pushed: Any = None
            elif name == "STACK_GLOBAL":
                if isinstance(recent[-2], str):
                    out.add(recent[-2].split(".", 1)[0])
                pushed = None
            elif name in _STRING_OPS:
                pushed = arg if isinstance(arg, str) else None
            elif name == "MEMOIZE":
                memo[len(memo)] = recent[-1]
                continue
            elif name in ("PUT", "BINPUT", "LONG_BINPUT"):
                memo[int(arg)] = recent[-1]
                continue
            elif name in ("GET", "BINGET", "LONG_BINGET"):
                pushed = memo.get(int(arg))
            elif name in ("PROTO", "FRAME"):
                continue
            elif name == "STOP":
                break
            else:
                pushed = None
            recent = [recent[-1], pushed]
    except Exception:  # truncated, or not a pickle after all
        pass
    return {m for m in out if m}


_STRING_OPS = frozenset({"SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE"})


def skops_modules(path: Path) -> set[str]:
    """Top-level modules named by ``__module__`` keys in a skops file's ``schema.json``."""
    with zipfile.ZipFile(path) as z:
        schema = json.loads(z.read("schema.json"))
    out: set[str] = set()
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            mod = node.get("__module__")
            if isinstance(mod, str):
                out.add(mod.split(".", 1)[0])
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return out


#: Import names whose distribution is named otherwise, looked up without scanning every
#: installed distribution (which takes a second or more in a big environment).
_KNOWN_DISTRIBUTIONS = {"sklearn": "scikit-learn", "yaml": "pyyaml", "PIL": "pillow",
                        "cv2": "opencv-python", "google": "protobuf", "dateutil": "python-dateutil"}


@functools.lru_cache(maxsize=1)
def _module_index() -> dict[str, tuple[str, ...]]:
    return {k: tuple(v) for k, v in importlib.metadata.packages_distributions().items()}


@functools.lru_cache(maxsize=None)
def _distributions(module: str) -> tuple[str, ...]:
    """The installed distributions providing top-level module ``module``: the one of the same
    name (or the known one) when installed, else those the installed metadata names."""
    if module in sys.stdlib_module_names or module.startswith("_") or module == "builtins":
        return ()
    direct = _KNOWN_DISTRIBUTIONS.get(module, module)
    try:
        importlib.metadata.distribution(direct)
        names: Iterable[str] = (direct,)
    except importlib.metadata.PackageNotFoundError:
        names = _module_index().get(module, ())
    return tuple(n for n in (d.lower().replace("_", "-") for d in names) if n not in _EXCLUDED)


@functools.lru_cache(maxsize=None)
def _pin(dist: str) -> str:
    try:
        version = importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return ""
    return f"{dist}=={version.split('+', 1)[0]}"


__all__ = ["activate", "deactivate", "infer", "check_mode", "pickle_modules", "skops_modules", "MODES"]
