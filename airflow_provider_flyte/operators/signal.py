"""FlyteSignalOperator: approve, reject or answer a gate of a running Flyte execution.

Before anything is sent, the operator reads the execution's compiled workflow: a signal id that no gate declares, or a
value that does not fit the gate's declared type, fails the task and sets nothing. When the gate has not been reached
yet (Flyte creates a gate's signal only then), the operator waits for it -- in the triggerer when deferrable -- and
sets it as soon as it exists.

Importing this module loads no grpc, protobuf or flyteidl code.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Sequence
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowFailException, conf
from airflow.sdk import BaseOperator

from airflow_provider_flyte._lazy import LazyModule, lazy_exports
from airflow_provider_flyte._task_arguments import duration_argument
from airflow_provider_flyte.hooks._connection_form import DEFAULT_CONN_ID
from airflow_provider_flyte.links.flyte import FlyteConsoleLink, push_console_link

if TYPE_CHECKING:
    from airflow.sdk import Context
    from flyteidl.core import literals_pb2

    from airflow_provider_flyte import _airflow_common, exceptions, identifiers, waiting
    from airflow_provider_flyte._airflow_common import execution_id_argument, validate_signal_event
    from airflow_provider_flyte.hooks.flyte import FlyteHook
    from airflow_provider_flyte.identifiers import WorkflowExecutionIdentifier
    from airflow_provider_flyte.remote.signals import DeclaredSignal
else:
    # What only a running task needs loads when it runs: a DAG processor imports this module with every parse.
    _airflow_common = LazyModule("airflow_provider_flyte._airflow_common")
    exceptions = LazyModule("airflow_provider_flyte.exceptions")
    identifiers = LazyModule("airflow_provider_flyte.identifiers")
    waiting = LazyModule("airflow_provider_flyte.waiting")

# execution_id_argument and validate_signal_event live in airflow_provider_flyte._airflow_common; they stay
# importable from here.
__all__ = ["SIGNAL_ACTIONS", "FlyteSignalOperator", "execution_id_argument", "validate_signal_event"]
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "execution_id_argument": "airflow_provider_flyte._airflow_common",
        "validate_signal_event": "airflow_provider_flyte._airflow_common",
    },
)

SIGNAL_ACTIONS = ("approve", "reject", "set")


class FlyteSignalOperator(BaseOperator):
    """Approve, reject or set the value of a signal that a gate of a Flyte execution waits for.

    ``action="approve"`` / ``"reject"`` answer an approval gate (any gate of boolean type); ``action="set"`` sends
    ``value``, converted to the gate's declared type (``"3"`` stays a string for a ``str`` gate, ``3`` becomes
    ``3.0`` for a ``float`` one), or to ``python_type`` when given. Templated values arrive as strings, so a
    non-string gate needs a native value (``render_template_as_native_obj``) or a literal one.

    Returns (XCom): ``{"execution_id", "signal_id", "action", "kind", "type", "console_url"}`` -- never the value.

    Args:
        execution_id: ``ex:project:domain:name``, a bare name (with ``project``/``domain`` or the connection's
            defaults), or a FlyteOperator result dict (templated).
        signal_id: The gate's signal id (templated).
        action: ``"approve"``, ``"reject"`` or ``"set"``.
        value: The value for ``action="set"`` (templated).
        python_type: Convert ``value`` as this Python type, as flytekit would (scalars, ``list[...]``,
            ``dict[str, ...]``, ``Optional``/``Union``, enums), instead of the declared type; a dataclass or pydantic
            model keeps the declared type and guides the conversion.
        project: Project of a bare execution name.
        domain: Domain of a bare execution name.
        wait_for_gate: Wait until the gate is reached when its signal does not exist yet (default); ``False`` fails.
        flyte_conn_id: The ``flyte`` connection.
        deferrable: Wait for the gate in the triggerer (default: ``[operators] default_deferrable``).
        poll_interval: Seconds between checks while waiting for the gate.
        timeout: Stop waiting for the gate after this long (seconds or timedelta); ``None`` waits indefinitely.
        outage_tolerance: How long (seconds or timedelta) the wait for the gate rides out Flyte Admin being
            unreachable (default: the connection's ``outage_tolerance`` extra, else 600 s).
        **kwargs: Passed to ``BaseOperator``.
    """

    template_fields: Sequence[str] = ("execution_id", "signal_id", "value", "project", "domain", "flyte_conn_id")
    operator_extra_links = (FlyteConsoleLink(),)
    ui_color = "#f2e3a7"

    def __init__(
        self,
        *,
        execution_id: Any,
        signal_id: str,
        action: str = "set",
        value: Any = None,
        python_type: Any = None,
        project: str | None = None,
        domain: str | None = None,
        wait_for_gate: bool = True,
        flyte_conn_id: str = DEFAULT_CONN_ID,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        poll_interval: float = 5.0,
        timeout: timedelta | float | None = None,
        outage_tolerance: timedelta | float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if action not in SIGNAL_ACTIONS:
            raise exceptions.FlyteInvalidInputException(
                f"{self.task_id}: action={action!r} must be one of {', '.join(SIGNAL_ACTIONS)}"
            )
        if action != "set" and value is not None:
            raise exceptions.FlyteInvalidInputException(f"{self.task_id}: value={value!r} is only for action='set'")
        self.execution_id = execution_id
        self.signal_id = signal_id
        self.action = action
        self.value = value
        self.python_type = python_type
        self.project = project
        self.domain = domain
        self.wait_for_gate = wait_for_gate
        self.flyte_conn_id = flyte_conn_id
        self.deferrable = deferrable
        self.poll_interval = duration_argument(poll_interval, "poll_interval", self.task_id)
        self.timeout = duration_argument(timeout, "timeout", self.task_id)
        self.outage_tolerance = duration_argument(outage_tolerance, "outage_tolerance", self.task_id)

    @cached_property
    def hook(self) -> FlyteHook:
        """The hook of ``flyte_conn_id``."""
        from airflow_provider_flyte.hooks.flyte import FlyteHook

        return FlyteHook(self.flyte_conn_id, project=self.project, domain=self.domain)

    def execute(self, context: Context) -> dict[str, Any]:
        """Check the signal and value against the workflow, then set it now or once the gate is reached."""
        _airflow_common.require_flyte1(self, self.hook, "signals (gates)")
        execution_id = self.hook.execution_id(_airflow_common.execution_id_argument(self.execution_id, self.task_id))
        url = self.hook.console_url(execution_id)
        push_console_link(context, url)
        declared, literal = self._prepare(execution_id)
        deadline = None if self.timeout is None else time.time() + self.timeout
        if not self.wait_for_gate or self.deferrable:
            if self._first_look(execution_id, deadline):
                return self._send(execution_id, declared, literal, url)
            if not self.wait_for_gate:
                raise AirflowFailException(
                    f"execution {execution_id} has not reached the gate of signal {self.signal_id!r} yet "
                    "(wait_for_gate=False); nothing was set"
                )
            self.log.info("Waiting for execution %s to reach the gate of signal %r", execution_id, self.signal_id)
            from airflow_provider_flyte.triggers.signal import FlyteSignalTrigger

            self.defer(
                trigger=FlyteSignalTrigger(
                    execution_id=str(execution_id),
                    signal_id=self.signal_id,
                    flyte_conn_id=self.flyte_conn_id,
                    poll_interval=self.poll_interval,
                    deadline=deadline,
                    pending_only=False,
                    outage_tolerance=self.outage_tolerance,
                ),
                method_name="execute_complete",
                timeout=None
                if self.timeout is None
                else timedelta(seconds=self.timeout) + _airflow_common.DEFER_TIMEOUT_GRACE,
            )
        self._wait_for_gate(execution_id, deadline)
        return self._send(execution_id, declared, literal, url)

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> dict[str, Any]:
        """Resume once the trigger saw the signal (then set it) or gave up (then fail, having set nothing)."""
        event = _airflow_common.validate_signal_event(event)
        execution_id = identifiers.WorkflowExecutionIdentifier.from_python_std(event["execution_id"])
        if event["status"] != "success":
            raise AirflowFailException(f"{event['message']}; signal {self.signal_id!r} was not set")
        declared, literal = self._prepare(execution_id)
        url = event["console_url"] or self.hook.console_url(execution_id)
        return self._send(execution_id, declared, literal, url)

    # ------------------------------------------------------------------ helpers

    def _wait_for_gate(self, execution_id: WorkflowExecutionIdentifier, deadline: float | None) -> None:
        """Wait on the worker until the gate's signal exists (the first look included), riding out outages.

        Raises:
            AirflowFailException: when the execution ends first or the deadline passes; nothing was set.
        """
        from airflow_provider_flyte.operators._gate_wait import ExecutionWatch

        looks: list[int] = []
        missing = f"the gate of signal {self.signal_id!r} not reached yet"
        watch = ExecutionWatch(self.hook, execution_id, self.log, missing)

        def gate_reached() -> bool | None:
            if self._signal_exists(execution_id):
                return True
            if not looks:
                self.log.info("Waiting for execution %s to reach the gate of signal %r", execution_id, self.signal_id)
            looks.append(1)
            phase = watch.final_phase()
            if phase is not None:
                raise AirflowFailException(
                    f"execution {execution_id} ended {phase} before reaching the gate of signal {self.signal_id!r}; "
                    "nothing was set"
                )
            return None

        clock = _airflow_common.task_wait_clock(
            self,
            f"the gate of signal {self.signal_id!r} in execution {execution_id}",
            interval=self.poll_interval,
            deadline=deadline,
        )
        if waiting.poll(gate_reached, clock) is None:
            raise AirflowFailException(
                f"execution {execution_id} did not reach the gate of signal {self.signal_id!r} within "
                f"{self.timeout:g}s; nothing was set"
            )

    def _prepare(self, execution_id: WorkflowExecutionIdentifier) -> tuple[DeclaredSignal, literals_pb2.Literal]:
        """The gate declaring ``signal_id`` and the literal to send; fails before sending if either is wrong."""
        from flyteidl.core import types_pb2

        from airflow_provider_flyte.literals import to_literal
        from airflow_provider_flyte.literals.python_types import RecordTypeError, literal_type_of
        from airflow_provider_flyte.remote.signals import boolean_literal, declared_signals, unknown_signal_message

        client = self.hook.get_client()
        workflow_id = client.get_execution(execution_id).closure.workflow_id
        declared_by_id = declared_signals(client.get_workflow(workflow_id))
        declared = declared_by_id.get(self.signal_id)
        if declared is None:
            raise AirflowFailException(
                f"{self.task_id}: {unknown_signal_message(self.signal_id, workflow_id.name, declared_by_id)}; "
                "nothing was set"
            )
        if self.action in ("approve", "reject"):
            if (
                declared.literal_type.simple != types_pb2.BOOLEAN
                or declared.literal_type.WhichOneof("type") != "simple"
            ):
                raise AirflowFailException(
                    f"{self.task_id}: signal {self.signal_id!r} is an {declared.kind} gate, not an approval; "
                    "use action='set' with a value; nothing was set"
                )
            return declared, boolean_literal(self.action == "approve")
        literal_type = declared.literal_type
        try:
            if self.python_type is not None:
                with contextlib.suppress(RecordTypeError):  # a record keeps the declared type; python_type guides
                    literal_type = literal_type_of(self.python_type)
            literal = to_literal(
                self.value, literal_type, python_type=self.python_type, name=f"value of signal {self.signal_id!r}"
            )
        except exceptions.FlyteInvalidInputException as error:
            raise AirflowFailException(f"{self.task_id}: {error}; nothing was set") from None
        return declared, literal

    def _first_look(self, execution_id: WorkflowExecutionIdentifier, deadline: float | None) -> bool:
        """Whether the signal exists now; one look that rides out a control-plane outage like every wait.

        Raises:
            AirflowFailException: when the timeout passes before Admin answers.
        """
        subject = f"the gate of signal {self.signal_id!r} in execution {execution_id}"
        clock = _airflow_common.task_wait_clock(self, subject, interval=self.poll_interval, deadline=deadline)
        exists = waiting.poll(lambda: self._signal_exists(execution_id), clock)
        if exists is None:
            raise AirflowFailException(f"Flyte Admin did not answer about {subject} within {self.timeout:g}s")
        return exists

    def _signal_exists(self, execution_id: WorkflowExecutionIdentifier) -> bool:
        from airflow_provider_flyte.remote.signals import list_signals

        signals = list_signals(self.hook.get_client(), execution_id, filters=f"eq(signal_id,{self.signal_id})")
        return any(signal.id.signal_id == self.signal_id for signal in signals)

    def _send(
        self,
        execution_id: WorkflowExecutionIdentifier,
        declared: DeclaredSignal,
        literal: literals_pb2.Literal,
        url: str,
    ) -> dict[str, Any]:
        from airflow_provider_flyte.remote.signals import set_signal_value, type_description

        set_signal_value(self.hook.get_client(), execution_id, self.signal_id, literal)
        self.log.info("Signal %r of execution %s: %s sent (%s)", self.signal_id, execution_id, self.action, url)
        return {
            "execution_id": str(execution_id),
            "signal_id": self.signal_id,
            "action": self.action,
            "kind": declared.kind,
            "type": type_description(declared.literal_type)["type"],
            "console_url": url,
        }
