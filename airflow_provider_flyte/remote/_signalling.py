"""Answering gates: list an execution's signals, approve or reject a gate, set a ``wait_for_input`` value.

The requests and the typing of values by the signal's declared type are in :mod:`.signals`; this mixin resolves
the execution (``"ex:p:d:name"``, an id, or a bare name with the remote's defaults).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from airflow_provider_flyte.identifiers import WorkflowExecutionIdentifier
from airflow_provider_flyte.remote._core import RemoteCore
from airflow_provider_flyte.remote._queries import PAGE_SIZE, as_execution_id

if TYPE_CHECKING:
    from flyteidl.admin import signal_pb2
    from flyteidl.core import types_pb2


class SignallingMixin(RemoteCore):
    """``list_signals``, ``approve``, ``reject``, ``set_input`` (alias ``set_signal``)."""

    def list_signals(
        self,
        execution_name: str,
        project: str | None = None,
        domain: str | None = None,
        limit: int = PAGE_SIZE,
        filters: str | Iterable[Any] | None = None,
    ) -> list[signal_pb2.Signal]:
        """All signals of an execution matching ``filters`` (``limit`` is the page size; every page is read)."""
        from airflow_provider_flyte.remote import signals

        return signals.list_signals(self.client, self._execution_id(execution_name, project, domain), limit, filters)

    def approve(
        self, signal_id: str, execution_name: str, project: str | None = None, domain: str | None = None
    ) -> None:
        """Approve a gate (sets its boolean signal to true).

        Raises:
            FlyteInvalidInputException: the signal is not a boolean (not an approval gate); nothing is sent.
        """
        self._set_boolean(signal_id, execution_name, project, domain, True)

    def reject(
        self, signal_id: str, execution_name: str, project: str | None = None, domain: str | None = None
    ) -> None:
        """Reject a gate (sets its boolean signal to false; the gate node fails).

        Raises:
            FlyteInvalidInputException: the signal is not a boolean (not an approval gate); nothing is sent.
        """
        self._set_boolean(signal_id, execution_name, project, domain, False)

    def _set_boolean(
        self, signal_id: str, execution_name: str, project: str | None, domain: str | None, value: bool
    ) -> None:
        from airflow_provider_flyte.remote import signals

        execution_id = self._execution_id(execution_name, project, domain)
        signals.set_approval(self.client, execution_id, signal_id, value)

    def set_input(
        self,
        signal_id: str,
        execution_name: str,
        value: Any,
        project: str | None = None,
        domain: str | None = None,
        python_type: type | None = None,
        literal_type: types_pb2.LiteralType | None = None,
    ) -> None:
        """Provide the value a ``wait_for_input`` gate waits for, typed by the signal's declared type.

        ``python_type`` or ``literal_type`` override the declared type (and save the lookup RPC).
        """
        from airflow_provider_flyte.remote import signals

        execution_id = self._execution_id(execution_name, project, domain)
        signals.set_signal_value(
            self.client, execution_id, signal_id, value, python_type=python_type, literal_type=literal_type
        )

    set_signal = set_input

    def _execution_id(
        self, execution_name: Any, project: str | None, domain: str | None
    ) -> WorkflowExecutionIdentifier:
        if isinstance(execution_name, str) and not execution_name.startswith("ex:"):
            project, domain = self.resolve_project_domain(project, domain)
        return as_execution_id(execution_name, project, domain, "execution_name")
