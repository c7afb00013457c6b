"""The errors the sandbox answers with, worded and coded as Flyte Admin words and codes them.

Service code raises :class:`AdminError`; the service wrapper turns it into a gRPC status (with the optional
``grpc-status-details-bin`` detail Flyte Admin attaches for a few errors).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import grpc
from google.protobuf import text_format

if TYPE_CHECKING:
    from google.protobuf.message import Message

MAX_RESPONSE_STATUS_BYTES = 32000
"""Flyte Admin truncates status messages to this many bytes."""


class AdminError(Exception):
    """A failed RPC: a gRPC status code, the message Flyte Admin would send and an optional status detail.

    Args:
        code: The gRPC status code.
        message: The status message.
        detail: A protobuf message sent packed in ``google.rpc.Status.details`` (Flyte Admin does this for
            terminal-state and workflow-exists errors).
    """

    def __init__(self, code: grpc.StatusCode, message: str, detail: Message | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message[:MAX_RESPONSE_STATUS_BYTES]
        self.detail = detail

    def __repr__(self) -> str:
        return f"AdminError({self.code.name}, {self.message!r})"


def invalid(message: str, detail: Message | None = None) -> AdminError:
    """``INVALID_ARGUMENT`` with a free text."""
    return AdminError(grpc.StatusCode.INVALID_ARGUMENT, message, detail)


def missing_argument(field: str) -> AdminError:
    """``INVALID_ARGUMENT "missing <field>"`` (Flyte Admin's ``GetMissingArgumentError``)."""
    return invalid(f"missing {field}")


def invalid_argument(field: str) -> AdminError:
    """``INVALID_ARGUMENT "invalid value for <field>"`` (Flyte Admin's ``GetInvalidArgumentError``)."""
    return invalid(f"invalid value for {field}")


def not_found(message: str) -> AdminError:
    """``NOT_FOUND`` with a free text."""
    return AdminError(grpc.StatusCode.NOT_FOUND, message)


def already_exists(message: str, detail: Message | None = None) -> AdminError:
    """``ALREADY_EXISTS`` with a free text."""
    return AdminError(grpc.StatusCode.ALREADY_EXISTS, message, detail)


def failed_precondition(message: str, detail: Message | None = None) -> AdminError:
    """``FAILED_PRECONDITION`` with a free text."""
    return AdminError(grpc.StatusCode.FAILED_PRECONDITION, message, detail)


def prototext(message: Message) -> str:
    """The compact text form Go's ``%v`` gives a protobuf message: ``project:"p" domain:"d" name:"n"``."""
    return text_format.MessageToString(message, as_one_line=True)


def entity_not_found(entity_type: str, identifier: Message) -> AdminError:
    """``NOT_FOUND "missing entity of type <TYPE> with identifier <prototext>"`` (the repository's not-found error).

    Args:
        entity_type: ``TASK``, ``WORKFLOW``, ``LAUNCH_PLAN``, ``execution``...
        identifier: The identifier; its ``resource_type`` is left out of the text as Flyte Admin does.
    """
    shown = type(identifier)()
    shown.CopyFrom(identifier)
    if "resource_type" in shown.DESCRIPTOR.fields_by_name:
        shown.ClearField("resource_type")
    return not_found(f"missing entity of type {entity_type} with identifier {prototext(shown)}")


def duplicate_key(constraint: str) -> AdminError:
    """The ``ALREADY_EXISTS`` text Flyte Admin derives from a Postgres unique violation."""
    return already_exists(
        f'value with matching already exists (duplicate key value violates unique constraint "{constraint}")'
    )
