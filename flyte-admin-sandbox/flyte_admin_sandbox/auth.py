"""Optional authentication: an OAuth2 client-credentials token endpoint and the checks on every RPC.

With auth on, the sandbox advertises its token endpoint through AuthMetadataService (and the HTTP well-known
documents), issues opaque bearer tokens with a configurable lifetime and answers ``UNAUTHENTICATED`` to calls
without a valid one in ``flyte-authorization`` or ``authorization``. Secrets and tokens are never logged.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import grpc
from flyteidl.service import auth_pb2, identity_pb2

from flyte_admin_sandbox.executions import principal_var

AUTHORIZATION_METADATA_KEY = "flyte-authorization"
_OPEN_SERVICES = ("/flyteidl.service.AuthMetadataService/", "/grpc.health.v1.Health/")


@dataclass
class TokenIssuer:
    """Issues and checks access tokens for one confidential client.

    Attributes:
        client_id: The accepted client id.
        client_secret: Its secret (hidden from ``repr``).
        token_lifetime: Seconds a token stays valid.
        scopes: Scopes advertised and granted.
    """

    client_id: str = "flyte-sandbox"
    client_secret: str = field(default_factory=lambda: secrets.token_urlsafe(24), repr=False)
    token_lifetime: float = 600.0
    scopes: tuple[str, ...] = ("all",)
    _tokens: dict[str, tuple[str, float]] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def issue(self, client_id: str) -> tuple[str, int]:
        """A new token for ``client_id`` and its lifetime in seconds."""
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._tokens[token] = (client_id, time.monotonic() + self.token_lifetime)
        return token, int(self.token_lifetime)

    def principal(self, token: str) -> str | None:
        """The client a valid token was issued to, or ``None`` when it is unknown or expired."""
        with self._lock:
            entry = self._tokens.get(token)
            if entry is None:
                return None
            if entry[1] < time.monotonic():
                del self._tokens[token]
                return None
            return entry[0]

    def expire_all(self) -> None:
        """Invalidate every token issued so far (clients must fetch new ones)."""
        with self._lock:
            self._tokens.clear()

    def handle_token_request(self, form: dict[str, str], authorization: str | None) -> tuple[int, dict[str, Any]]:
        """``POST /oauth2/token``: client credentials in HTTP Basic auth or the form."""
        client_id, client_secret = form.get("client_id", ""), form.get("client_secret", "")
        if authorization and authorization.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                return 401, {"error": "invalid_client", "error_description": "malformed basic authorization"}
            user, _, password = decoded.partition(":")
            client_id, client_secret = urllib.parse.unquote_plus(user), urllib.parse.unquote_plus(password)
        if form.get("grant_type") != "client_credentials":
            return 400, {"error": "unsupported_grant_type", "error_description": "only client_credentials is supported"}
        valid_id = hmac.compare_digest(client_id.encode(), self.client_id.encode())
        valid_secret = hmac.compare_digest(client_secret.encode(), self.client_secret.encode())
        if not (valid_id and valid_secret):
            return 401, {"error": "invalid_client", "error_description": "client authentication failed"}
        token, lifetime = self.issue(client_id)
        return 200, {
            "access_token": token,
            "token_type": "bearer",
            "expires_in": lifetime,
            "scope": " ".join(self.scopes),
        }


class AuthMetadata:
    """AuthMetadataService and IdentityService, describing the sandbox's built-in authorization server."""

    def __init__(self, issuer: TokenIssuer, public_url: Callable[[], str]) -> None:
        self.issuer = issuer
        self.public_url = public_url

    def oauth2_metadata(self) -> dict[str, Any]:
        """The ``/.well-known/oauth-authorization-server`` document."""
        base = self.public_url()
        return {
            "issuer": base,
            "authorization_endpoint": f"{base}/oauth2/authorize",
            "token_endpoint": f"{base}/oauth2/token",
            "jwks_uri": f"{base}/oauth2/jwks",
            "code_challenge_methods_supported": ["S256"],
            "response_types_supported": ["code", "token", "code token"],
            "grant_types_supported": ["client_credentials", "refresh_token", "authorization_code"],
            "scopes_supported": list(self.issuer.scopes),
            "token_endpoint_auth_methods_supported": ["client_secret_basic"],
        }

    def client_config(self) -> dict[str, Any]:
        """The ``/config/v1/flyte_client`` document."""
        return {
            "client_id": "flytectl",
            "redirect_uri": "http://localhost:53593/callback",
            "scopes": ["all", "offline"],
            "authorization_metadata_key": AUTHORIZATION_METADATA_KEY,
            "audience": "",
        }

    def GetOAuth2Metadata(self, request: auth_pb2.OAuth2MetadataRequest) -> auth_pb2.OAuth2MetadataResponse:
        """Where to get tokens."""
        return auth_pb2.OAuth2MetadataResponse(**self.oauth2_metadata())

    def GetPublicClientConfig(
        self, request: auth_pb2.PublicClientAuthConfigRequest
    ) -> auth_pb2.PublicClientAuthConfigResponse:
        """Which header carries the token, and the public client's settings."""
        return auth_pb2.PublicClientAuthConfigResponse(**self.client_config())

    def UserInfo(self, request: identity_pb2.UserInfoRequest) -> identity_pb2.UserInfoResponse:
        """The calling client."""
        subject = principal_var.get()
        return identity_pb2.UserInfoResponse(subject=subject, name=subject, preferred_username=subject)


def _bearer(metadata: tuple[tuple[str, Any], ...]) -> str | None:
    values = dict((key.lower(), value) for key, value in metadata)
    for header in (AUTHORIZATION_METADATA_KEY, "authorization"):
        value = values.get(header)
        if isinstance(value, str):
            scheme, _, token = value.partition(" ")
            if scheme.lower() in ("bearer", "idtoken") and token.strip():
                return token.strip()
    return None


class AuthInterceptor(grpc.ServerInterceptor):
    """Rejects calls without a valid token (except the auth metadata RPCs) and records the caller."""

    def __init__(self, issuer: TokenIssuer) -> None:
        self.issuer = issuer

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], grpc.RpcMethodHandler[Any, Any] | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        """Wrap the unary handler of each call."""
        handler = continuation(handler_call_details)
        method = handler_call_details.method
        if handler is None or handler.unary_unary is None or method.startswith(_OPEN_SERVICES):
            return handler
        inner = handler.unary_unary
        issuer = self.issuer

        def checked(request: Any, context: grpc.ServicerContext) -> Any:
            token = _bearer(tuple(context.invocation_metadata()))
            principal = issuer.principal(token) if token is not None else None
            if principal is None:
                reason = "missing access token" if token is None else "token parse error: invalid or expired token"
                context.abort(grpc.StatusCode.UNAUTHENTICATED, reason)
            marker = principal_var.set(principal or "")
            try:
                return inner(request, context)
            finally:
                principal_var.reset(marker)

        return grpc.unary_unary_rpc_method_handler(
            checked,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )
