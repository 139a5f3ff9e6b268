"""Pre-signed URLs the workspace hands out (Files API create-download/upload-url, MLflow
artifact credentials), served by mlemu itself under ``/presigned/<token>/<path>``.

A grant binds one token to exactly one (namespace, path), the HTTP methods it allows and
an expiry on the workspace clock, like an S3 pre-signed URL: whoever holds the URL may use it
without credentials, for that object only. The token is the grant's id and an HMAC-SHA256 of
the grant under the workspace's secret (``ws.secret``): a workspace with the same seed, hence
the same ids, cannot forge another's URLs.
"""
from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import quote

from mlemu.server.core.storage import Namespace, normalize

if TYPE_CHECKING:
    from mlemu.server.core.workspace import WorkspaceState

#: How long a pre-signed URL stays valid (ms). S3 allows up to 7 days; Databricks hands
#: out URLs valid for minutes to an hour. Tests move ``ws.clock`` to expire them.
DEFAULT_TTL_MS = 60 * 60 * 1000
PREFIX = "/presigned/"


@dataclass(frozen=True)
class Grant:
    namespace: Namespace
    path: str
    methods: frozenset[str]
    expires_ms: int


class PresignedRefused(Exception):
    """A pre-signed request the (emulated) cloud store refuses. ``code`` is the S3 error code."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message


_NEVER = 2**62  # a time no clock reaches (ms)


class PresignedUrls:
    """Grants of one workspace, by token."""

    def __init__(self, ws: "WorkspaceState") -> None:
        self._ws = ws
        self._grants: dict[str, Grant] = {}
        #: No grant is due for removal before this time: a pass over the grants runs only then,
        #: not on every URL issued (a long test issues thousands).
        self._next_prune_ms = 0

    def issue(self, base_url: str, namespace: Namespace, path: str, methods: tuple[str, ...],
              ttl_ms: int = DEFAULT_TTL_MS) -> str:
        """A new URL allowing ``methods`` on exactly ``path``."""
        clean = normalize(path)
        now = self._ws.clock.now_ms()
        self._prune(now)
        grant_id = self._ws.ids.token()
        grant = Grant(namespace, clean, frozenset(m.upper() for m in methods), now + ttl_ms)
        self._grants[grant_id] = grant
        self._next_prune_ms = min(self._next_prune_ms, grant.expires_ms + DEFAULT_TTL_MS)
        token = f"{grant_id}-{self._signature(grant_id, grant)}"
        return f"{base_url.rstrip('/')}{PREFIX}{token}{quote(clean)}"

    def resolve(self, token: str, url_path: str, method: str) -> Grant:
        """The grant a request may use, or :class:`PresignedRefused` (403, like S3)."""
        grant_id, _, signature = token.partition("-")
        grant = self._grants.get(grant_id)
        now = self._ws.clock.now_ms()
        if grant is not None and now >= grant.expires_ms + DEFAULT_TTL_MS:
            grant = None  # due for removal: answered as if it were gone already
        if grant is None or not hmac.compare_digest(signature.encode("utf-8", "replace"),
                                                    self._signature(grant_id, grant).encode()):
            raise PresignedRefused(403, "AccessDenied", "Access Denied")
        if now >= grant.expires_ms:
            raise PresignedRefused(403, "AccessDenied", "Request has expired")
        if url_path != grant.path or method.upper() not in grant.methods:
            # The signature covers the object key and the method: anything else is forged.
            raise PresignedRefused(403, "SignatureDoesNotMatch",
                                   "The request signature we calculated does not match the signature you provided.")
        return grant

    def _signature(self, grant_id: str, grant: Grant) -> str:
        message = "\n".join((grant_id, grant.namespace, grant.path, ",".join(sorted(grant.methods)),
                             str(grant.expires_ms))).encode("utf-8", "surrogatepass")
        return hmac.new(self._ws.secret, message, hashlib.sha256).hexdigest()[:32]

    def __len__(self) -> int:
        return len(self._grants)

    def _prune(self, now: int) -> None:
        # Expired grants are kept a while so their URLs answer "Request has expired" (which
        # makes the SDK fetch a new URL) rather than "Access Denied".
        if now < self._next_prune_ms:
            return
        expired = [t for t, g in self._grants.items() if g.expires_ms + DEFAULT_TTL_MS <= now]
        for t in expired:
            del self._grants[t]
        self._next_prune_ms = min((g.expires_ms + DEFAULT_TTL_MS for g in self._grants.values()),
                                  default=_NEVER)
