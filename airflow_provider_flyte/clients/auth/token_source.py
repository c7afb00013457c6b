"""A cached, single-flight source of authorization headers, usable from threads and asyncio tasks alike.

A :class:`TokenSource` wraps one :class:`TokenFlow` (client credentials, device code, external command...). It
fetches a token before the first call, serves it from a cache, refreshes it shortly before it expires and, when the
server still answers UNAUTHENTICATED or UNKNOWN
(:func:`~airflow_provider_flyte.clients.interceptors.refresh_and_resend`), once more on request. Whoever finds the
token stale first (a thread or an asyncio task) performs the refresh; every other caller waits for that same refresh
and reuses its result. Asyncio callers run the blocking fetch in a worker thread and wait on it without blocking
their event loop.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import concurrent.futures
import json
import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

log = logging.getLogger(__name__)

Metadata = tuple[tuple[str, str], ...]

DEFAULT_AUTHORIZATION_KEY = "authorization"
PROXY_AUTHORIZATION_KEY = "proxy-authorization"


@dataclass(frozen=True)
class Token:
    """An access token as a flow obtained it. The secret parts are hidden from ``repr``.

    Attributes:
        access_token: The bearer token.
        expires_in: Seconds it stays valid from when it was obtained; ``None`` when unknown.
        refresh_token: A refresh token, for flows that can use one.
    """

    access_token: str = field(repr=False)
    expires_in: float | None = None
    refresh_token: str | None = field(default=None, repr=False)


class TokenFlow(Protocol):
    """One way of obtaining a token. ``fetch`` blocks; the :class:`TokenSource` decides when to call it."""

    @property
    def name(self) -> str:
        """A short name for logs, e.g. ``client_credentials``."""
        ...

    @property
    def refreshable(self) -> bool:
        """Whether fetching again can give a different token (false for a static token)."""
        ...

    def fetch(self, previous: Token | None) -> Token:
        """Obtain a token; ``previous`` is the one being replaced (its refresh token may be used)."""
        ...


def jwt_expires_in(token: str, now: float | None = None) -> float | None:
    """Seconds until a JWT's ``exp`` claim, read without verifying the signature; ``None`` when not a JWT."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload))
    except (binascii.Error, ValueError):
        return None
    exp = claims.get("exp") if isinstance(claims, dict) else None
    if isinstance(exp, bool) or not isinstance(exp, (int, float)):
        return None
    return float(exp) - (time.time() if now is None else now)


@dataclass(frozen=True)
class _Entry:
    token: Token = field(repr=False)
    pairs: Metadata = field(repr=False)
    refresh_at: float


class TokenSource:
    """Authorization metadata for gRPC calls, cached and refreshed one fetch at a time.

    Args:
        flow: How tokens are obtained.
        header_key: The metadata key, or a callable returning it (called once, at the first fetch, e.g. to ask the
            server's public client config).
        scheme: Prefix of the header value (``Bearer``).
        refresh_margin: Refresh at most this many seconds before expiry...
        refresh_fraction: ...or this fraction of the token's lifetime before expiry, whichever is shorter.
        clock: Monotonic clock (injectable for tests).
    """

    def __init__(
        self,
        flow: TokenFlow,
        *,
        header_key: str | Callable[[], str] = DEFAULT_AUTHORIZATION_KEY,
        scheme: str = "Bearer",
        refresh_margin: float = 60.0,
        refresh_fraction: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.flow = flow
        self._header_key = header_key
        self._scheme = scheme
        self._refresh_margin = refresh_margin
        self._refresh_fraction = refresh_fraction
        self._clock = clock
        self._lock = threading.Lock()
        self._entry: _Entry | None = None
        self._inflight: concurrent.futures.Future[_Entry] | None = None
        self.fetch_count = 0
        """How many times the flow was asked for a token (for diagnostics and tests)."""

    def __repr__(self) -> str:
        key = self._header_key if isinstance(self._header_key, str) else "<from server>"
        return f"TokenSource(flow={self.flow.name!r}, header_key={key!r}, fetches={self.fetch_count})"

    @property
    def can_refresh(self) -> bool:
        """Whether a refresh after UNAUTHENTICATED or UNKNOWN can help."""
        return self.flow.refreshable

    @property
    def header_key(self) -> str | None:
        """The metadata key in use, once known."""
        return self._header_key if isinstance(self._header_key, str) else None

    def metadata(self) -> Metadata:
        """Return the ``((key, "Bearer <token>"),)`` pairs, fetching or refreshing first when needed (blocking)."""
        entry = self._entry
        if entry is not None and self._clock() < entry.refresh_at:
            return entry.pairs
        return self._wait(entry).pairs

    def refreshed_metadata(self, rejected: Metadata) -> Metadata:
        """Return metadata newer than ``rejected`` (which the server refused), refreshing at most once for all."""
        return self._wait(self._stale_entry(rejected)).pairs

    async def metadata_async(self) -> Metadata:
        """Asyncio variant of :meth:`metadata`; the fetch runs in a worker thread."""
        entry = self._entry
        if entry is not None and self._clock() < entry.refresh_at:
            return entry.pairs
        return (await self._wait_async(entry)).pairs

    async def refreshed_metadata_async(self, rejected: Metadata) -> Metadata:
        """Asyncio variant of :meth:`refreshed_metadata`."""
        return (await self._wait_async(self._stale_entry(rejected))).pairs

    def invalidate(self) -> None:
        """Forget the cached token so the next call fetches a new one."""
        with self._lock:
            self._entry = None

    def _stale_entry(self, rejected: Metadata) -> _Entry | None:
        """The cached entry if it is the one the server rejected; ``None`` when someone has refreshed since."""
        entry = self._entry
        return entry if entry is not None and entry.pairs is rejected else None

    def _claim(self, stale: _Entry | None) -> tuple[concurrent.futures.Future[_Entry], bool]:
        """Return the refresh to wait for, and whether the caller must perform it."""
        with self._lock:
            current = self._entry
            if current is not None and current is not stale and self._clock() < current.refresh_at:
                done: concurrent.futures.Future[_Entry] = concurrent.futures.Future()
                done.set_result(current)
                return done, False
            if self._inflight is not None:
                return self._inflight, False
            self._inflight = concurrent.futures.Future()
            return self._inflight, True

    def _lead(self, stale: _Entry | None, future: concurrent.futures.Future[_Entry]) -> None:
        """Fetch a token and publish it to every waiter (runs in the caller's thread or a worker thread)."""
        try:
            previous = stale.token if stale is not None else None
            self.fetch_count += 1
            token = self.flow.fetch(previous)
            key = self._resolve_key()
            entry = _Entry(
                token=token, pairs=((key, f"{self._scheme} {token.access_token}"),), refresh_at=self._due(token)
            )
        except BaseException as error:
            with self._lock:
                self._inflight = None
            future.set_exception(error)
            return
        with self._lock:
            self._entry = entry
            self._inflight = None
        log.debug("Obtained a token with the %s flow (valid for %s s)", self.flow.name, token.expires_in)
        future.set_result(entry)

    def _wait(self, stale: _Entry | None) -> _Entry:
        future, leader = self._claim(stale)
        if leader:
            self._lead(stale, future)
        return future.result()

    async def _wait_async(self, stale: _Entry | None) -> _Entry:
        future, leader = self._claim(stale)
        if leader:
            asyncio.get_running_loop().run_in_executor(None, self._lead, stale, future)
        # Shielded so that a cancelled waiter does not cancel the refresh other callers are waiting for.
        return await asyncio.shield(asyncio.wrap_future(future))

    def _resolve_key(self) -> str:
        key = self._header_key
        if not isinstance(key, str):
            key = self._header_key = key().strip().lower() or DEFAULT_AUTHORIZATION_KEY
        return key

    def _due(self, token: Token) -> float:
        if token.expires_in is None:
            return math.inf
        lifetime = max(0.0, token.expires_in)
        return self._clock() + lifetime - min(self._refresh_margin, self._refresh_fraction * lifetime)
