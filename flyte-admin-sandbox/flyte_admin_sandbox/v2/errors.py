"""The typed error every Flyte 2 sandbox service raises, and the constructors naming field and value."""

from __future__ import annotations

import grpc


class ServiceError(Exception):
    """An RPC failure with a status code; both servers answer it as that status with this message.

    Args:
        code: The gRPC status (the Connect server maps it to the Connect code of the same name).
        message: The status message.
    """

    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __repr__(self) -> str:
        return f"ServiceError({self.code.name}, {self.message!r})"


def invalid(field: str, value: object, reason: str) -> ServiceError:
    """``INVALID_ARGUMENT`` naming the request field, its value and what is wrong with it."""
    return ServiceError(grpc.StatusCode.INVALID_ARGUMENT, f"invalid {field} [{value}]: {reason}")


def missing(field: str) -> ServiceError:
    """``INVALID_ARGUMENT`` for a required request field left empty."""
    return ServiceError(grpc.StatusCode.INVALID_ARGUMENT, f"missing {field}")


def not_found(kind: str, value: object) -> ServiceError:
    """``NOT_FOUND`` naming the kind of entity and its identifier."""
    return ServiceError(grpc.StatusCode.NOT_FOUND, f"{kind} [{value}] not found")


def already_exists(kind: str, value: object, detail: str = "") -> ServiceError:
    """``ALREADY_EXISTS`` naming the kind of entity and its identifier."""
    suffix = f": {detail}" if detail else ""
    return ServiceError(grpc.StatusCode.ALREADY_EXISTS, f"{kind} [{value}] already exists{suffix}")


def failed_precondition(message: str) -> ServiceError:
    """``FAILED_PRECONDITION`` with a message."""
    return ServiceError(grpc.StatusCode.FAILED_PRECONDITION, message)
