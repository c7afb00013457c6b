"""TLS failures gRPC reports as UNAVAILABLE: typed as configuration errors and never retried; outages still are.

The details texts are the ones grpc-python 1.6x (BoringSSL) produces against the sandbox (see
``tests/clients/integration/test_integration_tls.py`` for the same cases end to end).
"""

from __future__ import annotations

import grpc
import pytest
from flyteidl.admin import execution_pb2

from airflow_provider_flyte.clients.policy import RetryPolicy
from airflow_provider_flyte.clients.transport_errors import permanent_transport_error
from airflow_provider_flyte.exceptions import (
    FlyteConfigurationException,
    FlyteSystemException,
    FlyteSystemUnavailableException,
    FlyteTransportConfigurationException,
    from_grpc_error,
)

RPC = "/flyteidl.service.AdminService/GetExecution"
PREFIX = "failed to connect to all addresses; last error: UNKNOWN: ipv4:127.0.0.1:36621: "
UNTRUSTED = (
    PREFIX + "Tls handshake failed (TSI_PROTOCOL_FAILURE): SSL_ERROR_SSL: error:1000007d:SSL routines:"
    "OPENSSL_internal:CERTIFICATE_VERIFY_FAILED: self signed certificate in certificate chain: OK"
)
WRONG_HOST = (
    PREFIX + "Custom verification check failed with error: UNAUTHENTICATED: Hostname Verification Check failed."
)
PLAIN_TEXT_SERVER = (
    PREFIX + "Tls handshake failed (TSI_PROTOCOL_FAILURE): SSL_ERROR_SSL: error:100000f7:SSL routines:"
    "OPENSSL_internal:WRONG_VERSION_NUMBER: Invalid certificate verification context: OK"
)
REFUSED = PREFIX + "Failed to connect to remote host: Connection refused"
SOCKET_CLOSED = "failed to connect to all addresses; last error: UNAVAILABLE: ipv4:127.0.0.1:36621: Socket closed"
NOT_RETRIED = " Not retried: retrying cannot fix it."


class FakeCallError(grpc.RpcError):
    """A failed call as the interceptors see it: ``code()`` and ``details()``."""

    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        self._code = code
        self._details = details

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return self._details


@pytest.mark.parametrize(
    ("details", "message"),
    [
        (
            UNTRUSTED,
            "TLS verification failed (self signed certificate in certificate chain): the CA bundle in use "
            "(ca_cert_file_path, else the system roots) does not trust the certificate of Flyte Admin at "
            "ipv4:127.0.0.1:36621. Set ca_cert_file_path to a PEM file of the CA that signed it, or "
            "insecure_skip_verify=True to trust it unverified (not for production)." + NOT_RETRIED,
        ),
        (
            WRONG_HOST,
            "TLS hostname verification failed: the certificate of Flyte Admin at ipv4:127.0.0.1:36621 does not name "
            "the host in endpoint. Set endpoint to a host name the certificate is issued for (ca_cert_file_path and "
            "insecure_skip_verify do not change this check)." + NOT_RETRIED,
        ),
        (
            PLAIN_TEXT_SERVER,
            "TLS handshake failed (WRONG_VERSION_NUMBER): Flyte Admin at ipv4:127.0.0.1:36621 answered in plain "
            "text, not TLS. Set insecure=True to connect without TLS." + NOT_RETRIED,
        ),
    ],
    ids=["untrusted", "wrong-host", "plain-text-server"],
)
def test_tls_failures_are_configuration_errors_and_not_retried(details: str, message: str) -> None:
    error = FakeCallError(grpc.StatusCode.UNAVAILABLE, details)
    mapped = permanent_transport_error(error, RPC)
    assert type(mapped) is FlyteTransportConfigurationException
    assert isinstance(mapped, FlyteConfigurationException)
    assert isinstance(mapped, FlyteSystemException)
    assert not isinstance(mapped, FlyteSystemUnavailableException)
    assert mapped.message == message
    assert (mapped.code, mapped.rpc, mapped.server_message) == ("UNAVAILABLE", RPC.lstrip("/"), details)
    policy = RetryPolicy(max_attempts=5)
    plan = policy.plan(RPC)
    assert not policy.is_retryable(plan, execution_pb2.WorkflowExecutionGetRequest(), error)
    assert not policy.first_failure_is_retryable(plan, execution_pb2.WorkflowExecutionGetRequest(), error)
    assert policy.to_exception(plan, error).message == message  # type: ignore[attr-defined]


@pytest.mark.parametrize("details", [REFUSED, SOCKET_CLOSED, "", "Handshake read failed"])
def test_outages_stay_unavailable_and_retried(details: str) -> None:
    error = FakeCallError(grpc.StatusCode.UNAVAILABLE, details)
    assert permanent_transport_error(error) is None
    assert type(from_grpc_error(error, RPC)) is FlyteSystemUnavailableException
    policy = RetryPolicy(max_attempts=5)
    assert policy.is_retryable(policy.plan(RPC), execution_pb2.WorkflowExecutionGetRequest(), error)


def test_only_unavailable_connection_failures_are_reinterpreted() -> None:
    # A server-side error that merely mentions a certificate problem keeps its own code.
    internal = FakeCallError(grpc.StatusCode.INTERNAL, UNTRUSTED)
    assert permanent_transport_error(internal, RPC) is None
    assert type(from_grpc_error(internal, RPC)) is FlyteSystemException
    app_message = FakeCallError(grpc.StatusCode.UNAVAILABLE, "database: CERTIFICATE_VERIFY_FAILED")
    assert permanent_transport_error(app_message, RPC) is None
    assert type(from_grpc_error(app_message, RPC)) is FlyteSystemUnavailableException
    assert permanent_transport_error(ValueError("CERTIFICATE_VERIFY_FAILED")) is None
    assert permanent_transport_error(FlyteSystemUnavailableException("failed to connect; handshake")) is None
