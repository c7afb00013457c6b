"""The sandbox's small HTTP side: signed blob URLs, OAuth2 endpoints (auth on) and page routes (the console)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import http.server
import json
import logging
import mimetypes
import secrets
import threading
import time
import urllib.parse
from collections.abc import Callable
from typing import Any

from flyte_admin_sandbox.blobs import BlobStore

log = logging.getLogger(__name__)

TokenHandler = Callable[[dict[str, str], str | None], tuple[int, dict[str, Any]]]
"""``(form fields, Authorization header) -> (HTTP status, JSON body)`` for ``POST /oauth2/token``."""

PageHandler = Callable[[str], tuple[int, str, bytes]]
"""``(request target: path and query) -> (HTTP status, content type, body)`` for ``GET`` under a route prefix."""

_MIME_TYPES = mimetypes.MimeTypes()  # Python's own table only: the same answers whatever /etc/mime.types holds


class Signer:
    """Signs blob URLs with an HMAC so only URLs the sandbox handed out are honoured."""

    def __init__(self) -> None:
        self._secret = secrets.token_bytes(32)

    def signature(self, method: str, key: str, expires: int, md5: str = "") -> str:
        """The signature of one method on one key until ``expires`` (with an optional required MD5)."""
        text = f"{method}\n{key}\n{expires}\n{md5}".encode()
        return hmac.new(self._secret, text, hashlib.sha256).hexdigest()

    def verify(self, method: str, key: str, expires: int, md5: str, signature: str) -> bool:
        """Whether a signature is ours and unexpired."""
        return expires >= time.time() and hmac.compare_digest(self.signature(method, key, expires, md5), signature)


class SandboxHTTPServer:
    """A threaded HTTP server on loopback that can stop and start again on the same port with the same signing key.

    URLs signed before a :meth:`stop` stay valid after the next :meth:`start`, and so does a token endpoint URL
    handed out earlier: the port picked at the first start (when ``port`` is ``0``) is kept.

    Args:
        blobs: Where uploads go and downloads come from.
        host: The interface to bind.
        json_routes: ``GET`` paths answered with fixed JSON documents (OAuth2 metadata, client config).
        token_handler: Handles ``POST /oauth2/token`` when auth is on.
        port: The port to bind; ``0`` picks a free one at the first start.
        page_routes: ``GET`` (and ``HEAD``) path prefixes, e.g. ``/console``, answered by a handler: a request for
            the prefix itself or anything below it (``/console/...``) goes to that handler.
    """

    def __init__(
        self,
        blobs: BlobStore,
        host: str = "127.0.0.1",
        json_routes: dict[str, Callable[[], dict[str, Any]]] | None = None,
        token_handler: TokenHandler | None = None,
        port: int = 0,
        page_routes: dict[str, PageHandler] | None = None,
    ) -> None:
        self.blobs = blobs
        self.signer = Signer()
        self.json_routes = json_routes or {}
        self.token_handler = token_handler
        self.page_routes = page_routes or {}
        self.host = host
        self.port = port
        self._handler = self._handler_class()
        self._server: http.server.ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def _handler_class(self) -> type[http.server.BaseHTTPRequestHandler]:
        return type("Handler", (_BlobAndAuthHandler,), {"sandbox_http": self})

    @property
    def base_url(self) -> str:
        """``http://host:port`` of this server (``port`` is ``0`` until the first start)."""
        return f"http://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        """Whether the server is serving."""
        return self._server is not None

    def start(self) -> None:
        """Bind (the port of the previous start, if any; ``allow_reuse_address`` is on) and serve in a thread."""
        if self._server is not None:
            return
        server = http.server.ThreadingHTTPServer((self.host, self.port), self._handler)
        server.daemon_threads = True
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="flyte-sandbox-http", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and release the port (kept for the next :meth:`start`)."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        self._server = None
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def signed_url(self, method: str, key: str, expires: int, md5_b64: str = "") -> str:
        """A URL allowing ``method`` on a blob key until ``expires`` (Unix seconds)."""
        query = {"expires": str(expires), "signature": self.signer.signature(method, key, expires, md5_b64)}
        if md5_b64:
            query["md5"] = md5_b64
        return f"{self.base_url}/blobs/{urllib.parse.quote(key)}?{urllib.parse.urlencode(query)}"


def blob_content_type(key: str) -> str:
    """The ``Content-Type`` a blob is served with, from its name as an object store would have it on record.

    flytekit uploads a deck (``deck.html``) as ``text/html`` so that a browser shows its signed link as a page;
    names with no known type (``*.pb``) or a compressed one (``*.tar.gz``) are ``application/octet-stream``.
    """
    guessed, encoding = _MIME_TYPES.guess_type(key.rsplit("/", 1)[-1], strict=True)
    if guessed is None or encoding is not None:
        return "application/octet-stream"
    return f"{guessed}; charset=utf-8" if guessed == "text/html" else guessed


class _BlobAndAuthHandler(http.server.BaseHTTPRequestHandler):
    """Serves signed blob PUT/GET/HEAD, the JSON routes and the OAuth2 token endpoint of one server."""

    sandbox_http: SandboxHTTPServer  # set on the subclass each server makes

    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; without TCP_NODELAY the second waits for the client's delayed ACK
    # (about 40 ms a response on a kept-alive connection).
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("http %s", format % args)

    def _reply(self, status: int, body: bytes = b"", content_type: str = "application/octet-stream") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)

    def _page_handler(self) -> PageHandler | None:
        path = urllib.parse.urlsplit(self.path).path
        for prefix, handler in self.sandbox_http.page_routes.items():
            if path == prefix or path.startswith(prefix + "/"):
                return handler
        return None

    def _json(self, status: int, document: dict[str, Any]) -> None:
        self._reply(status, json.dumps(document).encode(), "application/json")

    def _signed_key(self, method: str) -> tuple[str, str] | None:
        parsed = urllib.parse.urlsplit(self.path)
        if not parsed.path.startswith("/blobs/"):
            return None
        key = urllib.parse.unquote(parsed.path[len("/blobs/") :])
        query = dict(urllib.parse.parse_qsl(parsed.query))
        try:
            expires = int(query.get("expires", "0"))
        except ValueError:
            return None
        md5 = query.get("md5", "")
        if not self.sandbox_http.signer.verify(method, key, expires, md5, query.get("signature", "")):
            return None
        return key, md5

    def do_PUT(self) -> None:
        signed = self._signed_key("PUT")
        if signed is None:
            self._reply(403, b"invalid or expired signature")
            return
        key, md5 = signed
        length = int(self.headers.get("Content-Length", "0"))
        data = self.rfile.read(length)
        digest = hashlib.md5(data).digest()
        sent = self.headers.get("Content-MD5", "")
        if md5:
            try:
                declared = base64.b64decode(sent, validate=True) if sent else b""
            except binascii.Error:
                declared = b""
            if declared != base64.b64decode(md5) or digest != declared:
                self._reply(400, b"Content-MD5 does not match the signed URL or the body")
                return
        self.sandbox_http.blobs.put(key, data)
        self._reply(200)

    def do_GET(self) -> None:
        page = self._page_handler()
        if page is not None:
            status, content_type, body = page(self.path)
            self._reply(status, body, content_type)
            return
        route = self.sandbox_http.json_routes.get(urllib.parse.urlsplit(self.path).path)
        if route is not None:
            self._json(200, route())
            return
        signed = self._signed_key("GET")
        if signed is None:
            self._reply(403, b"invalid or expired signature")
            return
        data = self.sandbox_http.blobs.get(signed[0])
        if data is None:
            self._reply(404, b"not found")
        else:
            self._reply(200, data, blob_content_type(signed[0]))

    do_HEAD = do_GET

    def do_POST(self) -> None:
        if urllib.parse.urlsplit(self.path).path != "/oauth2/token" or self.sandbox_http.token_handler is None:
            self._reply(404, b"not found")
            return
        length = int(self.headers.get("Content-Length", "0"))
        form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
        status, document = self.sandbox_http.token_handler(form, self.headers.get("Authorization"))
        self._json(status, document)
