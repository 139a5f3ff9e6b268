"""Service registration: the plugin manager, and the one App built from every service."""
from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import pluggy

from mlemu.server import hookspecs
from mlemu.server.wire.service import Service

if TYPE_CHECKING:
    from mlemu.server.wire.app import App

__all__ = ["Service", "manager", "register", "unregister", "app", "services"]


_lock = threading.Lock()
_manager: pluggy.PluginManager | None = None
_app: "App | None" = None
_services: dict[str, Service] = {}


def manager() -> pluggy.PluginManager:
    global _manager
    if _manager is None:
        pm = pluggy.PluginManager("mlemu")
        pm.add_hookspecs(hookspecs)
        from mlemu.server import services
        pm.register(services, name="mlemu.server.services")
        pm.load_setuptools_entrypoints("mlemu")
        _manager = pm
    return _manager


def register(plugin: object, name: str | None = None) -> None:
    """Register a plugin object; the app is rebuilt on next use."""
    global _app
    with _lock:
        manager().register(plugin, name=name)
        _app = None


def unregister(plugin: object) -> None:
    """Remove a plugin registered with :func:`register`; the app is rebuilt on next use."""
    global _app
    with _lock:
        manager().unregister(plugin)
        _app = None


def app() -> "App":
    """The process-wide routing app (compiled once; it holds no state)."""
    global _app
    if _app is None:
        with _lock:
            if _app is None:
                from mlemu.server.wire.app import App
                services: dict[str, Service] = {}
                for batch in manager().hook.mlemu_services():
                    for s in batch:
                        if s.name in services:
                            raise ValueError(f"two services named {s.name!r}")
                        services[s.name] = s
                _services.clear()
                _services.update(services)
                _app = App(r for s in services.values() for r in s.routes.routes)
    return _app


def services() -> dict[str, Service]:
    app()
    return dict(_services)
