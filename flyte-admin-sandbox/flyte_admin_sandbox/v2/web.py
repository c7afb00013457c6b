"""The plain HTTP routes of the Connect server: signed blob URLs (``PUT``, ``GET``, ``HEAD``) and the console."""

from __future__ import annotations

import urllib.parse
from collections.abc import Awaitable, Callable
from typing import Any

from flyte_admin_sandbox.httpd import blob_content_type
from flyte_admin_sandbox.v2 import console
from flyte_admin_sandbox.v2.backend import Backend

BLOB_PREFIX = "/blobs/"
WEB_PREFIXES = (BLOB_PREFIX, console.PREFIX)

Receive = Callable[[], Awaitable[Any]]
Send = Callable[[Any], Awaitable[None]]


async def _reply(send: Send, status: int, body: bytes, content_type: str, head: bool = False) -> None:
    headers = [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head else body})


async def _body(receive: Receive) -> bytes:
    chunks = []
    while True:
        event = await receive()
        chunks.append(event.get("body", b""))
        if not event.get("more_body"):
            return b"".join(chunks)


def _signed_key(backend: Backend, method: str, scope: dict[str, Any]) -> str | None:
    key = urllib.parse.unquote(scope["path"][len(BLOB_PREFIX) :])
    query = dict(urllib.parse.parse_qsl(scope.get("query_string", b"").decode()))
    try:
        expires = int(query.get("expires", "0"))
    except ValueError:
        return None
    if not backend.signer.verify(method, key, expires, "", query.get("signature", "")):
        return None
    return key


def application(backend: Backend) -> Callable[[dict[str, Any], Receive, Send], Awaitable[None]]:
    """The ASGI app of the HTTP routes."""

    async def serve(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        method = scope["method"]
        head = method == "HEAD"
        if not scope["path"].startswith(BLOB_PREFIX):
            if method not in ("GET", "HEAD"):
                return await _reply(send, 405, b"method not allowed", "text/plain")
            target = scope["path"] + ("?" + scope["query_string"].decode() if scope.get("query_string") else "")
            status, content_type, body = console.render(backend.store, target)
            return await _reply(send, status, body, content_type, head)
        if method == "PUT":
            key = _signed_key(backend, "PUT", scope)
            data = await _body(receive)
            if key is None:
                return await _reply(send, 403, b"invalid or expired signature", "text/plain")
            backend.blobs.put(key, data)
            return await _reply(send, 200, b"", "text/plain")
        if method not in ("GET", "HEAD"):
            return await _reply(send, 405, b"method not allowed", "text/plain")
        key = _signed_key(backend, "GET", scope)
        if key is None:
            return await _reply(send, 403, b"invalid or expired signature", "text/plain")
        found = backend.blobs.get(key)
        if found is None:
            return await _reply(send, 404, b"not found", "text/plain")
        return await _reply(send, 200, found, blob_content_type(key), head)

    return serve
