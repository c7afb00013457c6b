"""One log line per RPC (method, status, duration), for the ``airflow-flyte sandbox`` command line."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import grpc

log = logging.getLogger("flyte_admin_sandbox.rpc")


class RpcLogInterceptor(grpc.ServerInterceptor):
    """Logs each unary call as ``AdminService/GetExecution OK 0.8 ms`` (failures with their status message).

    It sits outermost, so calls failed by the fault or auth interceptors are logged too.
    """

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], grpc.RpcMethodHandler[Any, Any] | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        """Wrap the unary handler of each call."""
        handler = continuation(handler_call_details)
        if handler is None or handler.unary_unary is None:
            return handler
        inner = handler.unary_unary
        # "/flyteidl.service.AdminService/GetExecution" -> "AdminService/GetExecution"
        name = handler_call_details.method.rsplit(".", 1)[-1]

        def logged(request: Any, context: grpc.ServicerContext) -> Any:
            started = time.perf_counter()
            try:
                response = inner(request, context)
            except BaseException:
                _log(name, context, started, failed=True)
                raise
            _log(name, context, started, failed=False)
            return response

        return grpc.unary_unary_rpc_method_handler(
            logged,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


def _log(name: str, context: grpc.ServicerContext, started: float, *, failed: bool) -> None:
    elapsed_ms = (time.perf_counter() - started) * 1000
    # ServicerContext.code()/details() exist at run time (grpcio >= 1.38) but not in the type stubs.
    code = getattr(context, "code", lambda: None)()
    if code is None:
        code = grpc.StatusCode.UNKNOWN if failed else grpc.StatusCode.OK
    status = code.name if isinstance(code, grpc.StatusCode) else str(code)
    details = getattr(context, "details", lambda: None)() if failed or status != "OK" else None
    if details:
        text = details.decode() if isinstance(details, bytes) else str(details)
        log.info("%s %s %.1f ms: %s", name, status, elapsed_ms, text[:200])
    else:
        log.info("%s %s %.1f ms", name, status, elapsed_ms)
