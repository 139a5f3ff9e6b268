"""Route declarations. Each service owns one :class:`RouteTable`; the app compiles all of
them into one werkzeug ``Map`` (the routing table that ``docs/coverage.md`` is made from)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

Handler = Callable[..., Any]


@dataclass(frozen=True)
class Route:
    """One (method, path rule) of the emulated REST surface."""

    method: str
    rule: str
    operation: str
    handler: Handler
    body: type | None = None
    auth: bool = True
    client_calls: tuple[str, ...] = ()
    #: Run the handler under the workspace lock (handlers that take it themselves say False).
    locked: bool = True
    #: For a GET whose JSON answer depends only on the workspace and the base URL (the SDK's
    #: host-metadata probe): ``fixed(workspace, base_url)`` gives the body, so a plain request
    #: may be answered without building a :class:`Request` (see ``Workspace.handle``).
    fixed: Callable[[Any, str], bytes] | None = None

    @property
    def is_static(self) -> bool:
        return "<" not in self.rule


@dataclass
class RouteTable:
    """The routes of one service, declared with decorators on plain functions.

    A handler takes the :class:`~mlemu.server.wire.request.Request` (``req.args`` is the
    validated ``body`` model when one is given) and returns a dict (200 JSON) or a
    :class:`~mlemu.server.wire.request.Reply`.
    """

    service: str
    routes: list[Route] = field(default_factory=list)

    def route(self, method: str, rule: str, operation: str, *, body: type | None = None,
              auth: bool = True, client_calls: tuple[str, ...] = (),
              locked: bool = True, fixed: Callable[[Any, str], bytes] | None = None,
              ) -> Callable[[Handler], Handler]:
        def decorate(fn: Handler) -> Handler:
            self.routes.append(Route(method.upper(), rule, f"{self.service}.{operation}", fn,
                                     body, auth, tuple(client_calls), locked, fixed))
            return fn
        return decorate

    def get(self, rule: str, operation: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self.route("GET", rule, operation, **kw)

    def post(self, rule: str, operation: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self.route("POST", rule, operation, **kw)

    def put(self, rule: str, operation: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self.route("PUT", rule, operation, **kw)

    def patch(self, rule: str, operation: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self.route("PATCH", rule, operation, **kw)

    def delete(self, rule: str, operation: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self.route("DELETE", rule, operation, **kw)

    def head(self, rule: str, operation: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self.route("HEAD", rule, operation, **kw)
