"""Token flows: client credentials, device code, PKCE, external command and static token.

Each flow only knows how to obtain one token (blocking); caching, refresh timing and thread/task coordination
belong to :class:`~.token_source.TokenSource`. OAuth requests go over httpx with the config's TLS settings and
``http_proxy_url``. Error texts name the endpoint, the HTTP status and the OAuth error code, never a secret or token.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import logging
import os
import secrets
import ssl
import subprocess
import sys
import threading
import time
import webbrowser
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, quote_plus, urlencode, urlsplit

import httpx

from airflow_provider_flyte.clients.auth.token_source import Token, jwt_expires_in
from airflow_provider_flyte.exceptions import (
    FlyteAuthenticationException,
    FlyteConfigurationException,
    FlyteSystemUnavailableException,
)

if TYPE_CHECKING:
    from airflow_provider_flyte.clients.auth.server_metadata import AuthServerMetadata
    from airflow_provider_flyte.configuration import PlatformConfig

log = logging.getLogger(__name__)

MetadataProvider = Callable[[], "AuthServerMetadata"]
HttpClientFactory = Callable[[], httpx.Client]
"""Returns the httpx client to send OAuth requests with (the caller does not close it)."""

DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
_HTTP_TIMEOUT = 30.0


def http_client_factory(config: PlatformConfig) -> HttpClientFactory:
    """Return a factory of one shared httpx client honouring ``config``'s CA file, skip-verify and HTTP proxy.

    The client is built on first use and then reused, keeping its TLS context and connections across token fetches.
    """
    built: list[httpx.Client] = []
    lock = threading.Lock()

    def build() -> httpx.Client:
        with lock:
            if not built:
                verify: ssl.SSLContext | bool = True
                if config.ca_cert_file_path:
                    verify = ssl.create_default_context(cafile=config.ca_cert_file_path)
                elif config.insecure_skip_verify:
                    verify = False
                built.append(httpx.Client(verify=verify, proxy=config.http_proxy_url or None, timeout=_HTTP_TIMEOUT))
            return built[0]

    return build


def basic_authorization(client_id: str, client_secret: str) -> str:
    """The HTTP Basic header value for a client, both parts form-urlencoded first as RFC 6749 section 2.3.1 says."""
    pair = f"{quote_plus(client_id)}:{quote_plus(client_secret)}"
    return "Basic " + base64.b64encode(pair.encode()).decode()


def _oauth_error(response: httpx.Response) -> tuple[str, str]:
    """The OAuth ``error`` code and description of a failed token response (empty when not JSON)."""
    try:
        body = response.json()
    except ValueError:
        return "", ""
    if not isinstance(body, dict):
        return "", ""
    return str(body.get("error", "")), str(body.get("error_description", ""))


def _token_from_response(response: httpx.Response, endpoint: str, grant: str) -> Token:
    """Parse a successful token endpoint response, or raise naming the endpoint, status and OAuth error."""
    if response.status_code != 200:
        error, description = _oauth_error(response)
        detail = f": {error}" if error else ""
        detail += f" ({description})" if description else ""
        raise FlyteAuthenticationException(
            f"token endpoint {endpoint} refused the {grant} request with HTTP {response.status_code}{detail}"
        )
    try:
        body = response.json()
        access_token = body["access_token"]
    except (ValueError, KeyError, TypeError):
        raise FlyteAuthenticationException(
            f"token endpoint {endpoint} answered the {grant} request without an access_token"
        ) from None
    expires_in = body.get("expires_in")
    return Token(
        access_token=str(access_token),
        expires_in=float(expires_in) if isinstance(expires_in, (int, float, str)) and str(expires_in) else None,
        refresh_token=body.get("refresh_token") or None,
    )


_TRANSIENT_HTTP_STATUSES = frozenset({429, 502, 503, 504})
"""Token endpoint answers that mean "not now" (rate limited, or a proxy whose backend is restarting)."""


def _post(client_factory: HttpClientFactory, url: str, data: Mapping[str, str], **kwargs: Any) -> httpx.Response:
    try:
        response = client_factory().post(url, data=dict(data), headers={"Accept": "application/json", **kwargs})
    except httpx.TransportError as error:
        # Unreachable or timing out, as during an Admin restart: transient, so waits ride it out and calls retry.
        raise FlyteSystemUnavailableException(
            f"could not reach the token endpoint {url}: {type(error).__name__}"
        ) from error
    except httpx.HTTPError as error:
        raise FlyteAuthenticationException(f"could not reach {url}: {type(error).__name__}") from error
    if response.status_code in _TRANSIENT_HTTP_STATUSES:
        raise FlyteSystemUnavailableException(
            f"the token endpoint {url} is unavailable for now (HTTP {response.status_code}); try again later"
        )
    return response


def check_token_endpoint(config: PlatformConfig, token_endpoint: str) -> None:
    """Refuse to send a client secret to a plain ``http://`` token endpoint when the gRPC channel uses TLS.

    Loopback endpoints (``localhost``, ``127.0.0.0/8``, ``::1``) are allowed: the secret does not leave the machine.
    ``config.allow_insecure_token_endpoint`` lifts the check; with ``config.insecure`` there is nothing to protect.

    Raises:
        FlyteConfigurationException: naming the token endpoint (without credentials or query) and the opt-in.
    """
    if config.insecure or config.allow_insecure_token_endpoint:
        return
    parts = urlsplit(token_endpoint)
    if parts.scheme.lower() != "http" or _is_loopback(parts.hostname):
        return
    shown = parts._replace(netloc=parts.netloc.rpartition("@")[2], query="", fragment="").geturl()
    raise FlyteConfigurationException(
        f"refusing to send the client secret to the plain-http token endpoint {shown}: the gRPC channel to "
        f"{config.endpoint} uses TLS, but anyone on the network path could read the secret over http. Serve the token "
        "endpoint over https, or set allow_insecure_token_endpoint=True to send it anyway"
    )


def _is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _require(value: str | None, what: str, flow: str) -> str:
    if not value:
        raise FlyteAuthenticationException(
            f"the {flow} flow needs {what}, but neither the configuration nor the server's auth metadata provides it"
        )
    return value


def _common_fields(config: PlatformConfig, server: AuthServerMetadata) -> dict[str, str]:
    fields: dict[str, str] = {}
    scopes = config.scopes or server.scopes
    if scopes:
        fields["scope"] = " ".join(scopes)
    audience = config.audience or server.audience
    if audience:
        fields["audience"] = audience
    return fields


def _refresh(
    client_factory: HttpClientFactory, endpoint: str, client_id: str, previous: Token | None, flow: str
) -> Token | None:
    """Try the refresh-token grant; ``None`` when there is no refresh token or it was refused."""
    if previous is None or not previous.refresh_token:
        return None
    response = _post(
        client_factory,
        endpoint,
        {"grant_type": "refresh_token", "refresh_token": previous.refresh_token, "client_id": client_id},
    )
    if response.status_code != 200:
        log.info("The refresh token was refused (HTTP %s); starting the %s flow again", response.status_code, flow)
        return None
    token = _token_from_response(response, endpoint, "refresh_token")
    if token.refresh_token is None:  # providers may keep the refresh token unchanged and omit it
        token = Token(token.access_token, token.expires_in, previous.refresh_token)
    return token


class ClientCredentialsFlow:
    """OAuth2 client credentials: POST to the token endpoint with HTTP Basic ``client_id:secret``.

    Args:
        config: Supplies ``client_id``, the secret (value, file or environment variable), scopes and audience.
        server_metadata: Returns the server's auth metadata (token endpoint, default scopes and audience).
        http_client: Factory of httpx clients (defaults to one built from ``config``).
    """

    name = "client_credentials"
    refreshable = True

    def __init__(
        self,
        config: PlatformConfig,
        server_metadata: MetadataProvider,
        http_client: HttpClientFactory | None = None,
    ) -> None:
        if not config.client_id:
            raise FlyteConfigurationException("client_id is required for auth_mode=client_credentials")
        self._config = config
        self._server_metadata = server_metadata
        self._http_client = http_client or http_client_factory(config)

    def __repr__(self) -> str:
        return f"ClientCredentialsFlow(client_id={self._config.client_id!r})"

    def fetch(self, previous: Token | None) -> Token:
        """Request a new token (client credentials tokens are not refreshed with a refresh token).

        Raises:
            FlyteConfigurationException: before anything is sent, when the secret would go to a plain-http token
                endpoint off this machine while the gRPC channel uses TLS (see :func:`check_token_endpoint`).
            FlyteAuthenticationException: when the token endpoint refuses the request or cannot be reached.
        """
        config = self._config
        server = self._server_metadata()
        endpoint = _require(server.token_endpoint, "a token endpoint", self.name)
        check_token_endpoint(config, endpoint)
        client_id = config.client_id or ""
        secret = config.resolve_client_secret()
        data = {"grant_type": "client_credentials", **_common_fields(config, server)}
        response = _post(self._http_client, endpoint, data, Authorization=basic_authorization(client_id, secret))
        return _token_from_response(response, endpoint, "client_credentials")


class DeviceCodeFlow:
    """OAuth2 device authorization grant (RFC 8628): show a URL and a code, then poll until the user approves.

    Args:
        config: Supplies ``client_id`` (else the server's public client id), scopes and audience.
        server_metadata: Returns the server's auth metadata (device authorization and token endpoints).
        http_client: Factory of httpx clients.
        announce: Shows the verification URL and user code to the user (stderr by default).
        sleep: Waits between polls (injectable for tests).
        clock: Monotonic clock bounding the wait by the device code's lifetime.
    """

    name = "device_flow"
    refreshable = True

    def __init__(
        self,
        config: PlatformConfig,
        server_metadata: MetadataProvider,
        http_client: HttpClientFactory | None = None,
        *,
        announce: Callable[[str], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._config = config
        self._server_metadata = server_metadata
        self._http_client = http_client or http_client_factory(config)
        self._announce = announce or _print_to_stderr
        self._sleep = sleep
        self._clock = clock

    def __repr__(self) -> str:
        return f"DeviceCodeFlow(client_id={self._config.client_id!r})"

    def fetch(self, previous: Token | None) -> Token:
        """Use the refresh token when there is one; otherwise run the device flow."""
        server = self._server_metadata()
        token_endpoint = _require(server.token_endpoint, "a token endpoint", self.name)
        client_id = _require(self._config.client_id or server.client_id, "a client_id", self.name)
        refreshed = _refresh(self._http_client, token_endpoint, client_id, previous, self.name)
        if refreshed is not None:
            return refreshed
        device_endpoint = _require(server.device_authorization_endpoint, "a device authorization endpoint", self.name)
        data = {"client_id": client_id, **_common_fields(self._config, server)}
        response = _post(self._http_client, device_endpoint, data)
        if response.status_code != 200:
            error, _ = _oauth_error(response)
            raise FlyteAuthenticationException(
                f"device authorization endpoint {device_endpoint} answered HTTP {response.status_code} {error}".rstrip()
            )
        try:
            grant = response.json()
            device_code = str(grant["device_code"])
            user_code = str(grant["user_code"])
            verification_uri = str(grant.get("verification_uri") or grant["verification_url"])
        except (ValueError, KeyError, TypeError):
            raise FlyteAuthenticationException(
                f"device authorization endpoint {device_endpoint} answered without device_code/user_code/"
                "verification_uri"
            ) from None
        interval = float(grant.get("interval") or 5)
        expires_at = self._clock() + float(grant.get("expires_in") or 600)
        complete = grant.get("verification_uri_complete")
        self._announce(
            f"To authorize this client, visit {complete}"
            if complete
            else f"To authorize this client, visit {verification_uri} and enter the code {user_code}"
        )
        poll = {"grant_type": DEVICE_CODE_GRANT, "device_code": device_code, "client_id": client_id}
        while True:
            if self._clock() + interval > expires_at:
                raise FlyteAuthenticationException(
                    f"the device code expired before the user approved it at {verification_uri}"
                )
            self._sleep(interval)
            response = _post(self._http_client, token_endpoint, poll)
            if response.status_code == 200:
                return _token_from_response(response, token_endpoint, "device_code")
            error, _ = _oauth_error(response)
            if error == "authorization_pending":
                continue
            if error == "slow_down":
                interval += 5  # RFC 8628 section 3.5
                continue
            if error == "expired_token":
                raise FlyteAuthenticationException(
                    f"the device code expired before the user approved it at {verification_uri}"
                )
            if error == "access_denied":
                raise FlyteAuthenticationException("the user denied the device authorization request")
            _token_from_response(response, token_endpoint, "device_code")  # raises with status and error


def _print_to_stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def is_interactive() -> bool:
    """Whether a person can answer a browser prompt: stdin is a terminal and no CI environment is detected."""
    stdin = sys.stdin
    return bool(stdin is not None and stdin.isatty() and not os.environ.get("CI"))


class PkceFlow:
    """OAuth2 authorization code with PKCE (S256): opens a browser and listens on the redirect URI.

    Interactive only: in a process without a terminal (a scheduler, a worker, CI) :meth:`fetch` fails at once
    instead of waiting for a browser nobody will see.

    Args:
        config: Supplies ``client_id`` (else the server's public client id), scopes and audience.
        server_metadata: Returns the server's auth metadata (endpoints and redirect URI).
        http_client: Factory of httpx clients.
        interactive: Says whether a person is present (defaults to :func:`is_interactive`).
        open_browser: Opens the authorization URL (defaults to :func:`webbrowser.open`).
        callback_timeout: Seconds to wait for the browser to come back to the redirect URI.
    """

    name = "pkce"
    refreshable = True

    def __init__(
        self,
        config: PlatformConfig,
        server_metadata: MetadataProvider,
        http_client: HttpClientFactory | None = None,
        *,
        interactive: Callable[[], bool] = is_interactive,
        open_browser: Callable[[str], Any] = webbrowser.open,
        callback_timeout: float = 300.0,
    ) -> None:
        self._config = config
        self._server_metadata = server_metadata
        self._http_client = http_client or http_client_factory(config)
        self._interactive = interactive
        self._open_browser = open_browser
        self._callback_timeout = callback_timeout

    def __repr__(self) -> str:
        return f"PkceFlow(client_id={self._config.client_id!r})"

    def fetch(self, previous: Token | None) -> Token:
        """Use the refresh token when there is one; otherwise run the browser flow (interactive processes only).

        Raises:
            FlyteAuthenticationException: at once when no person can answer the browser prompt.
        """
        if (previous is None or not previous.refresh_token) and not self._interactive():
            raise FlyteAuthenticationException(
                "auth_mode=pkce needs a person at a browser, but this process is not interactive; use "
                "auth_mode=client_credentials (client_id + client secret) or auth_mode=external_command instead"
            )
        server = self._server_metadata()
        token_endpoint = _require(server.token_endpoint, "a token endpoint", self.name)
        client_id = _require(self._config.client_id or server.client_id, "a client_id", self.name)
        refreshed = _refresh(self._http_client, token_endpoint, client_id, previous, self.name)
        if refreshed is not None:
            return refreshed
        if not self._interactive():
            raise FlyteAuthenticationException(
                "the PKCE refresh token was refused and this process is not interactive; use "
                "auth_mode=client_credentials or auth_mode=external_command instead"
            )
        authorization_endpoint = _require(server.authorization_endpoint, "an authorization endpoint", self.name)
        redirect_uri = _require(server.redirect_uri, "a redirect URI", self.name)

        verifier = secrets.token_urlsafe(64)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        state = secrets.token_urlsafe(24)
        query = {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "state": state,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            **_common_fields(self._config, server),
        }
        with _RedirectListener(redirect_uri) as listener:
            separator = "&" if "?" in authorization_endpoint else "?"
            self._open_browser(f"{authorization_endpoint}{separator}{urlencode(query)}")
            params = listener.wait(self._callback_timeout)
        if params.get("state") != state:
            raise FlyteAuthenticationException("the authorization response's state does not match the request's")
        if "error" in params:
            raise FlyteAuthenticationException(f"the authorization server answered {params['error']}")
        code = params.get("code")
        if not code:
            raise FlyteAuthenticationException("the authorization response carries no code")
        data = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": client_id,
            "code_verifier": verifier,
        }
        response = _post(self._http_client, token_endpoint, data)
        return _token_from_response(response, token_endpoint, "authorization_code")


class _RedirectListener:
    """A one-shot HTTP server on the redirect URI's host and port, capturing the authorization response."""

    def __init__(self, redirect_uri: str) -> None:
        parts = urlsplit(redirect_uri)
        if parts.scheme != "http" or not parts.hostname:
            raise FlyteConfigurationException(f"redirect_uri={redirect_uri!r} must be an http:// URL on this machine")
        self._path = parts.path or "/"
        self._received = threading.Event()
        self._params: dict[str, str] = {}
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                target = urlsplit(self.path)
                if target.path != listener._path:
                    self.send_error(404)
                    return
                listener._params = {key: values[0] for key, values in parse_qs(target.query).items()}
                listener._received.set()
                body = b"Authentication complete. You can close this window."
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # the query holds the code: keep it out of logs
                return

        try:
            self._server = HTTPServer((parts.hostname, parts.port or 80), Handler)
        except OSError as error:
            raise FlyteAuthenticationException(
                f"cannot listen on the redirect URI {redirect_uri}: {error.strerror}"
            ) from error
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, name="flyte-pkce-redirect", daemon=True
        )

    def __enter__(self) -> _RedirectListener:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def wait(self, timeout: float) -> dict[str, str]:
        if not self._received.wait(timeout):
            raise FlyteAuthenticationException(f"no authorization response reached the redirect URI in {timeout:g} s")
        return self._params


class ExternalCommandFlow:
    """Runs a command that prints an access token; its stripped stdout is the token.

    The expiry is read from the token when it is a JWT; otherwise the token is used until the server refuses it.

    Args:
        command: The argv to run (no shell).
        name: Name for logs and errors (``external_command`` or ``proxy_command``).
        timeout: Seconds the command may take.
    """

    refreshable = True

    def __init__(self, command: tuple[str, ...], *, name: str = "external_command", timeout: float = 120.0) -> None:
        if not command:
            raise FlyteConfigurationException(f"{name} is empty; set it to the argv of a command that prints a token")
        self._command = command
        self.name = name
        self._timeout = timeout

    def __repr__(self) -> str:
        return f"ExternalCommandFlow(name={self.name!r}, program={self._command[0]!r})"

    def fetch(self, previous: Token | None) -> Token:
        """Run the command and return what it printed.

        Raises:
            FlyteAuthenticationException: naming the program and exit status when it fails or prints nothing.
        """
        program = self._command[0]
        try:
            completed = subprocess.run(
                list(self._command), capture_output=True, text=True, timeout=self._timeout, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            reason = "timed out" if isinstance(error, subprocess.TimeoutExpired) else "could not start"
            raise FlyteAuthenticationException(f"{self.name} {program!r} {reason}") from None
        if completed.returncode != 0:
            # stderr is not quoted: tools print tokens and secrets there too.
            raise FlyteAuthenticationException(f"{self.name} {program!r} exited with status {completed.returncode}")
        token = completed.stdout.strip()
        if not token:
            raise FlyteAuthenticationException(f"{self.name} {program!r} printed no token")
        return Token(access_token=token, expires_in=jwt_expires_in(token))


class StaticTokenFlow:
    """A token given in the configuration; used as-is, and not refreshed (fetching again gives the same token)."""

    name = "static_token"
    refreshable = False

    def __init__(self, token: str) -> None:
        if not token:
            raise FlyteConfigurationException("static_token is empty but auth_mode=static_token")
        self._token = token

    def __repr__(self) -> str:
        return "StaticTokenFlow()"

    def fetch(self, previous: Token | None) -> Token:
        """Return the configured token."""
        return Token(access_token=self._token, expires_in=jwt_expires_in(self._token))
