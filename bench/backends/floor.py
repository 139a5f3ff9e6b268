"""The client's own floor: the same mlflow client code on the ``databricks`` tracking URI, but
every request answered at ``requests.adapters.HTTPAdapter.send`` by a prebuilt
``requests.Response`` that does no work beyond being returned.

Measured *paired* with mlemu, in one process: timed calls alternate in blocks between the
mlemu arm (mlemu's in-process transport; each answer is also kept) and the floor arm (the
answers kept from the previous mlemu block, replayed per (method, path[, page_token]) in
order, then the last one again). So the floor parses byte-for-byte the payloads mlemu sends,
both arms share the machine's load at the same moments, and
emulator overhead = (mlemu arm - floor arm) / floor arm compares like with like on a busy
machine. (The standalone ``mlemu`` backend is measured in its own process for the tables.)
"""
from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter

from bench.backends import Backend

Key = tuple[str, str, "str | None"]


def _key(request: Any) -> Key:
    path = urlsplit(request.url).path
    token = None
    if path.endswith("/runs/search") and request.body:
        token = json.loads(request.body).get("page_token")
    return request.method, path, token


def _template(resp: requests.Response) -> requests.Response:
    t = requests.Response()
    t.status_code = resp.status_code
    t.reason = resp.reason
    t.headers = resp.headers
    t.encoding = resp.encoding
    t._content = resp.content
    t._content_consumed = True
    return t


class Pairing:
    """Which arm runs iteration ``i``: blocks of ``block`` iterations, mlemu first."""

    def __init__(self, floor: "Floor", block: int) -> None:
        self.floor = floor
        self.block = max(1, block)

    def arm(self, i: int) -> str:
        return "mlemu" if (i // self.block) % 2 == 0 else "floor"

    def use(self, arm: str) -> None:
        self.floor.use(arm)


class Floor(Backend):
    name = "floor"
    tracking_uri = "databricks"
    registry_uri = "databricks-uc"

    def start(self, seed: dict[str, int] | None = None) -> dict[str, Any]:
        import mlemu

        self.ws = mlemu.Workspace()
        self._emu = mlemu.emulate(self.ws)
        self._emu.__enter__()
        for name, n in (seed or {}).items():
            from bench.seeding import seed_mlemu
            self.seeded[name] = seed_mlemu(self.ws, name, n)
        self._arm = "mlemu"
        self._block: dict[Key, list[requests.Response]] = {}   # being recorded
        self._source: dict[Key, list[requests.Response]] = {}  # being replayed
        self._pos: dict[Key, int] = {}
        self._last: dict[Key, requests.Response] = {}
        emulated = HTTPAdapter.send  # mlemu's in-process transport

        def record(adapter: Any, request: Any, *args: Any, **kwargs: Any) -> requests.Response:
            resp = emulated(adapter, request, *args, **kwargs)
            key = _key(request)
            t = _template(resp)
            self._block.setdefault(key, []).append(t)
            self._last[key] = t
            return resp

        def replay(adapter: Any, request: Any, stream: bool = False, timeout: Any = None,
                   verify: Any = True, cert: Any = None, proxies: Any = None) -> requests.Response:
            key = _key(request)
            answers = self._source.get(key)
            if answers:
                i = self._pos.get(key, 0)
                self._pos[key] = i + 1
                t = answers[i] if i < len(answers) else answers[-1]
            else:
                t = self._last.get(key)
                if t is None:
                    raise RuntimeError(f"floor: no answer recorded for {key}")
            r = requests.Response()
            r.status_code = t.status_code
            r.reason = t.reason
            r.headers = t.headers
            r.encoding = t.encoding
            r._content = t._content
            r._content_consumed = True
            r.url = request.url
            r.request = request
            r.connection = adapter
            return r

        self._record, self._replay = record, replay
        HTTPAdapter.send = record  # type: ignore[method-assign]
        self.point_mlflow()
        return {}

    def use(self, arm: str) -> None:
        if arm == self._arm:
            return
        if arm == "floor":  # replay what the mlemu block just answered
            self._source, self._block, self._pos = self._block, {}, {}
            HTTPAdapter.send = self._replay  # type: ignore[method-assign]
        else:
            HTTPAdapter.send = self._record  # type: ignore[method-assign]
        self._arm = arm

    def pairing(self, block: int) -> Pairing:
        return Pairing(self, block)

    def stop(self) -> None:
        if getattr(self, "_emu", None) is not None:
            self.use("mlemu")
            HTTPAdapter.send = self._emulated_send()  # type: ignore[method-assign]
            self._emu.__exit__(None, None, None)
            if self.ws.internal_errors:
                raise RuntimeError("mlemu internal error:\n" + self.ws.internal_errors[0])

    @staticmethod
    def _emulated_send() -> Any:
        from mlemu.server.transport import inprocess
        return inprocess._send

    def model_name(self, short: str) -> str:
        return f"main.default.{short}"


BACKEND = Floor
