"""A tiny OAuth2 identity provider on 127.0.0.1 (http.server) for the auth flow tests.

Endpoints: ``/token`` (client_credentials, device_code, authorization_code with PKCE, refresh_token) and
``/device`` (device authorization). Issued tokens are ``tok-1``, ``tok-2``...; ``on_issue`` lets the fake Admin
accept them.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote_plus


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    form: dict[str, str]


@dataclass
class FakeIdentityProvider:
    client_id: str = "airflow"
    client_secret: str = "s3cr:t/+value"
    expires_in: float | None = 3600
    device_expires_in: int = 60
    token_delay: float = 0.0
    on_issue: Callable[[str], None] = lambda token: None
    device_script: deque[str] = field(default_factory=deque)
    base_url: str = ""
    requests: list[Request] = field(default_factory=list)
    issued: list[str] = field(default_factory=list)
    pkce_challenges: dict[str, str] = field(default_factory=dict)
    refresh_tokens: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def token_endpoint(self) -> str:
        return f"{self.base_url}/token"

    @property
    def device_endpoint(self) -> str:
        return f"{self.base_url}/device"

    @property
    def authorization_endpoint(self) -> str:
        return f"{self.base_url}/authorize"

    def issue(self, *, with_refresh: bool = False) -> dict[str, Any]:
        with self.lock:
            token = f"tok-{len(self.issued) + 1}"
            self.issued.append(token)
        self.on_issue(token)
        body: dict[str, Any] = {"access_token": token, "token_type": "Bearer"}
        if self.expires_in is not None:
            body["expires_in"] = self.expires_in
        if with_refresh:
            refresh = f"refresh-{token}"
            self.refresh_tokens.add(refresh)
            body["refresh_token"] = refresh
        return body

    def expected_basic(self) -> str:
        pair = f"{quote_plus(self.client_id)}:{quote_plus(self.client_secret)}"
        return "Basic " + base64.b64encode(pair.encode()).decode()

    def handle(self, path: str, headers: dict[str, str], form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        with self.lock:
            self.requests.append(Request(path, headers, form))
        if path == "/device":
            return 200, {
                "device_code": "dev-123",
                "user_code": "ABCD-EFGH",
                "verification_uri": f"{self.base_url}/activate",
                "interval": 1,
                "expires_in": self.device_expires_in,
            }
        if path != "/token":
            return 404, {"error": "not_found"}
        if self.token_delay:
            time.sleep(self.token_delay)
        grant = form.get("grant_type")
        if grant == "client_credentials":
            if headers.get("authorization") != self.expected_basic():
                return 401, {"error": "invalid_client", "error_description": "bad client credentials"}
            return 200, self.issue()
        if grant == "urn:ietf:params:oauth:grant-type:device_code":
            step = self.device_script.popleft() if self.device_script else "ok"
            if step == "ok":
                return 200, self.issue(with_refresh=True)
            return 400, {"error": step}
        if grant == "authorization_code":
            challenge = self.pkce_challenges.pop(form.get("code", ""), None)
            verifier = form.get("code_verifier", "")
            computed = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            if challenge is None or computed != challenge:
                return 400, {"error": "invalid_grant"}
            return 200, self.issue(with_refresh=True)
        if grant == "refresh_token":
            if form.get("refresh_token") not in self.refresh_tokens:
                return 400, {"error": "invalid_grant"}
            return 200, self.issue()
        return 400, {"error": "unsupported_grant_type"}


@contextmanager
def serve_idp(**settings: Any) -> Iterator[FakeIdentityProvider]:
    idp = FakeIdentityProvider(**settings)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            form = {key: values[0] for key, values in parse_qs(self.rfile.read(length).decode()).items()}
            headers = {key.lower(): value for key, value in self.headers.items()}
            status, body = idp.handle(self.path, headers, form)
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    idp.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield idp
    finally:
        server.shutdown()
        server.server_close()
