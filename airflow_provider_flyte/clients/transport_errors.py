"""Transport failures that no retry can fix, told apart from outages and typed as configuration errors.

gRPC reports a failed TLS handshake as UNAVAILABLE, the code of a server that is down, so without a closer look the
retry policy would retry it and the waits would ride it out for their whole outage tolerance. The status details
text tells the cases apart (grpc-python 1.6x, BoringSSL):

* ``... Tls handshake failed (TSI_PROTOCOL_FAILURE): SSL_ERROR_SSL: ...:CERTIFICATE_VERIFY_FAILED: self signed
  certificate in certificate chain`` -- the server's certificate is not trusted by the CA bundle in use;
* ``... Custom verification check failed with error: UNAUTHENTICATED: Hostname Verification Check failed.`` (older
  releases: ``Peer name ... is not in peer certificate``) -- the certificate does not name the endpoint's host;
* ``... Tls handshake failed ...:WRONG_VERSION_NUMBER ...`` -- the server speaks plain text, not TLS.

:func:`permanent_transport_error` turns those into a :class:`FlyteTransportConfigurationException` (a
:class:`FlyteConfigurationException`, and a ``FlyteSystemException`` as flytekit's error for UNAVAILABLE is) naming the
setting to change; the retry policy does not retry them. A plain-text client talking to a TLS server only sees ``Socket
closed``, which a restarting server also causes, so that stays a transient UNAVAILABLE. Nothing here imports grpc.
"""

from __future__ import annotations

import re

from airflow_provider_flyte.exceptions import FlyteTransportConfigurationException

_CONNECTING = ("failed to connect", "handshake", "verification check")
_VERIFY_FAILED = re.compile(r"CERTIFICATE_VERIFY_FAILED(?::\s*([^:]+))?", re.IGNORECASE)
_HOSTNAME_MISMATCH = ("hostname verification check failed", "is not in peer certificate")
_NOT_TLS = ("wrong_version_number", "wrong version number")
_PEER = re.compile(r"\b(ipv4:[0-9.]+:\d+|ipv6:\[[0-9a-fA-F:.%]+\]:\d+)")

_NOT_RETRIED = "Not retried: retrying cannot fix it."


def permanent_transport_error(
    error: BaseException, rpc: str | None = None
) -> FlyteTransportConfigurationException | None:
    """Return the configuration error behind a failed call's UNAVAILABLE, or ``None`` when it may be transient.

    Args:
        error: What a call raised (a ``grpc.RpcError``/``grpc.aio.AioRpcError``; anything else gives ``None``).
        rpc: The full method name, for the exception's ``rpc`` attribute.

    Returns:
        A :class:`FlyteTransportConfigurationException` (``code="UNAVAILABLE"``, the server message kept) naming
        ``ca_cert_file_path`` / ``insecure_skip_verify`` for an untrusted certificate, ``endpoint`` for a host name
        the certificate does not cover, or ``insecure`` for a server without TLS.
    """
    if _status_name(error) != "UNAVAILABLE":
        return None
    details = _details(error)
    lowered = details.lower()
    if not any(marker in lowered for marker in _CONNECTING):
        return None
    message = _explain(details, lowered)
    if message is None:
        return None
    return FlyteTransportConfigurationException(
        message, code="UNAVAILABLE", rpc=rpc.lstrip("/") if rpc else None, server_message=details
    )


def _explain(details: str, lowered: str) -> str | None:
    peer = _PEER.search(details)
    admin = f"Flyte Admin at {peer.group(1)}" if peer else "Flyte Admin"
    if any(marker in lowered for marker in _HOSTNAME_MISMATCH):
        return (
            f"TLS hostname verification failed: the certificate of {admin} does not name the host in endpoint. Set "
            "endpoint to a host name the certificate is issued for (ca_cert_file_path and insecure_skip_verify do not "
            f"change this check). {_NOT_RETRIED}"
        )
    verify = _VERIFY_FAILED.search(details)
    if verify is not None:
        reason = (verify.group(1) or "").strip()
        because = f" ({reason})" if reason else ""
        return (
            f"TLS verification failed{because}: the CA bundle in use (ca_cert_file_path, else the system roots) does "
            f"not trust the certificate of {admin}. Set ca_cert_file_path to a PEM file of the CA that signed it, or "
            f"insecure_skip_verify=True to trust it unverified (not for production). {_NOT_RETRIED}"
        )
    if any(marker in lowered for marker in _NOT_TLS):
        return (
            f"TLS handshake failed (WRONG_VERSION_NUMBER): {admin} answered in plain text, not TLS. Set insecure=True "
            f"to connect without TLS. {_NOT_RETRIED}"
        )
    return None


def _status_name(error: BaseException) -> str | None:
    code = getattr(error, "code", None)
    if not callable(code):
        return None
    try:
        status = code()
    except Exception:  # a half-built call object
        return None
    name = getattr(status, "name", None)
    return name if isinstance(name, str) else None


def _details(error: BaseException) -> str:
    details = getattr(error, "details", None)
    if not callable(details):
        return ""
    try:
        text = details()
    except Exception:  # a half-built call object
        return ""
    return text if isinstance(text, str) else ""
