"""FlyteApprovalOperator: a person answers a Flyte gate through Airflow's human-in-the-loop (HITL) screens.

The operator watches a Flyte execution until one of its gates asks for a signal, asks the question in Airflow's
"Required actions" UI (and HITL REST API), and forwards the answer to Flyte:

* an approval gate (flytekit's ``approve``) becomes the options **Approve** / **Reject**;
* a typed gate (flytekit's ``wait_for_input``) of type ``str``, ``int``, ``float`` or ``bool`` becomes a form with one
  field, checked against the gate's declared type before anything is sent.

The question is written and awaited by Airflow's own :class:`~airflow.providers.standard.operators.hitl.HITLOperator`
(parked in ``awaiting_input`` on Airflow 3.3+, deferred to its ``HITLTrigger`` before), so it shows up exactly like
any other HITL task. That operator ships in ``apache-airflow-providers-standard`` and needs Airflow 3.1+: without it
this module still imports, but creating the operator in a DAG file fails with a message naming what to install.

Importing this module loads no grpc, protobuf or flyteidl code.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException, BaseOperator, conf

from airflow_provider_flyte._lazy import LazyModule
from airflow_provider_flyte._task_arguments import duration_argument
from airflow_provider_flyte.hooks._connection_form import DEFAULT_CONN_ID
from airflow_provider_flyte.links.flyte import FlyteConsoleLink, push_console_link

if TYPE_CHECKING:
    from airflow.providers.standard.operators.hitl import HITLOperator as _HITLBase
    from airflow.sdk import Context
    from flyteidl.admin import signal_pb2
    from flyteidl.core import literals_pb2

    from airflow_provider_flyte import _airflow_common, exceptions, identifiers, waiting
    from airflow_provider_flyte.hooks.flyte import FlyteHook
    from airflow_provider_flyte.identifiers import WorkflowExecutionIdentifier
    from airflow_provider_flyte.remote.signals import DeclaredSignal
else:
    # What only a running task needs loads when it runs: a DAG processor imports this module with every parse.
    _airflow_common = LazyModule("airflow_provider_flyte._airflow_common")
    exceptions = LazyModule("airflow_provider_flyte.exceptions")
    identifiers = LazyModule("airflow_provider_flyte.identifiers")
    waiting = LazyModule("airflow_provider_flyte.waiting")

HITL_REQUIREMENT = (
    "Airflow 3.1 or later with apache-airflow-providers-standard 1.8.0 or later "
    "(the module airflow.providers.standard.operators.hitl)"
)
"""What FlyteApprovalOperator needs from the Airflow installation."""


def _hitl_base() -> tuple[type[Any], str | None]:
    """Airflow's HITLOperator, or ``BaseOperator`` and the reason it is missing (old Airflow or standard provider)."""
    try:
        from airflow.providers.standard.operators.hitl import HITLOperator
    # Missing module (old standard provider), or the module refusing Airflow < 3.1 with
    # AirflowOptionalProviderFeatureException (an AirflowException).
    except (ImportError, AirflowException) as error:
        return BaseOperator, f"{type(error).__name__}: {error}"
    return HITLOperator, None


if not TYPE_CHECKING:
    _HITLBase, HITL_UNAVAILABLE_REASON = _hitl_base()
else:
    HITL_UNAVAILABLE_REASON: str | None = None

APPROVE = "Approve"
"""The HITL option that approves an approval gate (Flyte gets ``True`` and the gate node succeeds)."""
REJECT = "Reject"
"""The HITL option that rejects an approval gate (Flyte gets ``False`` and the gate node fails)."""
SUBMIT = "OK"
"""The single HITL option of a typed gate's form (Airflow's HITLEntryOperator uses the same word)."""
GATE_XCOM_KEY = "flyte_gate"
"""XCom key of the gate a task asked about: the answer arrives in a later process that must know which one."""

# The form field type of each simple Flyte type a person can type in (JSON Schema names; "null" marks "not given").
_FORM_TYPES = {"STRING": "string", "INTEGER": "integer", "FLOAT": "number", "BOOLEAN": "boolean"}
_RESERVED_ARGUMENTS = ("options", "multiple")


class FlyteApprovalUnavailableError(AirflowException):
    """The Airflow installation lacks the human-in-the-loop operators FlyteApprovalOperator is built on."""


class FlyteApprovalOperator(_HITLBase):
    """Ask a person in Airflow's human-in-the-loop UI to answer a gate of a Flyte execution, then tell Flyte.

    1. Waits (in the triggerer when ``deferrable``) until the execution has the signal ``signal_id`` -- Flyte creates
       it when the gate is reached -- or, without ``signal_id``, any unanswered signal. An execution that finishes
       first, or ``timeout``, fails the task having asked nothing.
    2. Reads the gate from the execution's compiled workflow and asks in Airflow: **Approve** / **Reject** for an
       approval gate, a one-field form for a typed gate (``str``, ``int``, ``float``, ``bool``; any other type fails
       naming the signal and its type). The body links to the execution in the Flyte Console.
    3. Forwards the answer: approve, reject (the gate node then fails in Flyte, but the task succeeds: the decision
       was delivered), or the typed value, converted to the gate's type first; a value that does not fit fails the
       task and sets nothing.

    A gate already answered in Flyte is not asked again: the task returns what Flyte holds (``answered_in:
    "flyte"``), which also makes a retry after a delivered answer harmless.

    Returns (XCom): ``{"execution_id", "signal_id", "kind": "approval" | "input", "type", "decision": "approve" |
    "reject" | "set", "value", "answered_by", "answered_by_id", "answered_at", "answered_in": "airflow" | "flyte",
    "timed_out", "console_url"}``. ``value`` is ``True``/``False`` for approvals and the typed value otherwise.

    Args:
        execution_id: ``ex:project:domain:name``, a bare name (with ``project``/``domain`` or the connection's
            defaults), or a FlyteOperator result dict (templated).
        signal_id: The gate's signal id (templated); ``None`` asks about the first unanswered signal.
        subject: Headline of the question (templated); derived from the gate when omitted.
        body: Markdown shown above the gate's details and Console link (templated).
        project: Project of a bare execution name.
        domain: Domain of a bare execution name.
        flyte_conn_id: The ``flyte`` connection.
        deferrable: Wait for the gate in the triggerer (default: ``[operators] default_deferrable``). Waiting for
            the person always happens outside the worker, as Airflow's HITL operators do.
        poll_interval: Seconds between checks while waiting for the gate.
        timeout: Stop waiting for the gate after this long (seconds or timedelta); ``None`` waits indefinitely.
            The person's answer time is bounded separately by ``response_timeout``.
        outage_tolerance: How long (seconds or timedelta) the wait for the gate rides out Flyte Admin being
            unreachable (default: the connection's ``outage_tolerance`` extra, else 600 s).
        **kwargs: Passed to Airflow's ``HITLOperator`` and ``BaseOperator``: ``response_timeout``, ``defaults``
            (``"Approve"`` or ``"Reject"``, taken when ``response_timeout`` passes; approval gates only),
            ``notifiers``, ``assigned_users``... ``options`` and ``multiple`` come from the gate, and so does the
            form: ``params`` (the DAG's included) are not shown to the person.

    Raises:
        FlyteApprovalUnavailableError: at DAG parse time, when Airflow has no human-in-the-loop operators.
        FlyteInvalidInputException: at DAG parse time, for a bad argument.
    """

    template_fields: Sequence[str] = (
        "execution_id",
        "signal_id",
        "subject",
        "body",
        "project",
        "domain",
        "flyte_conn_id",
    )
    operator_extra_links = (FlyteConsoleLink(),)
    ui_color = "#f2d7a7"

    def __init__(
        self,
        *,
        execution_id: Any,
        signal_id: str | None = None,
        subject: str | None = None,
        body: str | None = None,
        project: str | None = None,
        domain: str | None = None,
        flyte_conn_id: str = DEFAULT_CONN_ID,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        poll_interval: float = 5.0,
        timeout: timedelta | float | None = None,
        outage_tolerance: timedelta | float | None = None,
        **kwargs: Any,
    ) -> None:
        task_id = kwargs.get("task_id", "FlyteApprovalOperator")
        if HITL_UNAVAILABLE_REASON is not None:
            raise FlyteApprovalUnavailableError(
                f"{task_id}: FlyteApprovalOperator needs {HITL_REQUIREMENT}, which this Airflow installation lacks "
                f"({HITL_UNAVAILABLE_REASON}); upgrade Airflow / apache-airflow-providers-standard, or answer the "
                "gate with FlyteSignalOperator"
            )
        for reserved in _RESERVED_ARGUMENTS:
            if reserved in kwargs:
                raise exceptions.FlyteInvalidInputException(
                    f"{task_id}: {reserved}={kwargs[reserved]!r} is not accepted; FlyteApprovalOperator derives the "
                    "options and the form from the Flyte gate"
                )
        if signal_id is not None and (not isinstance(signal_id, str) or not signal_id):
            raise exceptions.FlyteInvalidInputException(
                f"{task_id}: signal_id={signal_id!r} must be a non-empty string or None"
            )
        durations = {
            name: duration_argument(value, name, task_id)
            for name, value in (
                ("poll_interval", poll_interval),
                ("timeout", timeout),
                ("outage_tolerance", outage_tolerance),
            )
        }
        # HITLOperator wants its options up front, but the gate's kind is only known when the task runs: start with
        # the approval shape (it also validates ``defaults``) and reshape in _shape_question().
        super().__init__(subject=subject or "", body=body, options=[APPROVE, REJECT], multiple=False, **kwargs)
        self.execution_id = execution_id
        self.signal_id = signal_id
        self.project = project
        self.domain = domain
        self.flyte_conn_id = flyte_conn_id
        self.deferrable = deferrable
        self.poll_interval = float(poll_interval)
        self.timeout = durations["timeout"]
        self.outage_tolerance = durations["outage_tolerance"]

    @cached_property
    def hook(self) -> FlyteHook:
        """The hook of ``flyte_conn_id``."""
        from airflow_provider_flyte.hooks.flyte import FlyteHook

        return FlyteHook(self.flyte_conn_id, project=self.project, domain=self.domain)

    # ------------------------------------------------------------------ phase 1: wait for the gate

    def execute(self, context: Context) -> Any:
        """Find the gate's signal (waiting for it if needed), then ask the person."""
        _airflow_common.require_flyte1(self, self.hook, "approval gates (signals)")
        execution_id = self.hook.execution_id(_airflow_common.execution_id_argument(self.execution_id, self.task_id))
        url = self.hook.console_url(execution_id)
        push_console_link(context, url)
        if self.signal_id is not None:
            # An unknown signal id or an unsupported type fails now rather than after a long wait for the gate.
            self._declared_gate(execution_id, self.signal_id)
        found = self._current_signal(execution_id)
        if found is not None:
            return self._ask_or_finish(context, execution_id, found.id.signal_id, found.HasField("value"), url)
        wanted = repr(self.signal_id) if self.signal_id else "any unanswered signal"
        deadline = None if self.timeout is None else time.time() + self.timeout
        self.log.info("Waiting for execution %s to reach a gate asking for %s", execution_id, wanted)
        if self.deferrable:
            from airflow_provider_flyte.triggers.signal import FlyteSignalTrigger

            self.defer(
                trigger=FlyteSignalTrigger(
                    execution_id=str(execution_id),
                    signal_id=self.signal_id,
                    flyte_conn_id=self.flyte_conn_id,
                    poll_interval=self.poll_interval,
                    deadline=deadline,
                    pending_only=self.signal_id is None,
                    outage_tolerance=self.outage_tolerance,
                ),
                method_name="gate_reached",
                timeout=None
                if self.timeout is None
                else timedelta(seconds=self.timeout) + _airflow_common.DEFER_TIMEOUT_GRACE,
            )

        from airflow_provider_flyte.operators._gate_wait import ExecutionWatch

        watch = ExecutionWatch(self.hook, execution_id, self.log, f"no gate asking for {wanted} yet")

        def gate_reached() -> signal_pb2.Signal | None:
            signal = self._current_signal(execution_id)
            if signal is None and (phase := watch.final_phase()) is not None:
                raise AirflowFailException(
                    f"execution {execution_id} ended {phase} before a gate asked for {wanted}; nothing was asked"
                )
            return signal

        clock = _airflow_common.task_wait_clock(
            self,
            f"a gate asking for {wanted} in execution {execution_id}",
            interval=self.poll_interval,
            deadline=deadline,
        )
        found = waiting.poll(gate_reached, clock)
        if found is None:
            raise AirflowFailException(
                f"execution {execution_id} did not reach a gate asking for {wanted} within {self.timeout:g}s; "
                "nothing was asked"
            )
        return self._ask_or_finish(context, execution_id, found.id.signal_id, found.HasField("value"), url)

    def gate_reached(self, context: Context, event: dict[str, Any] | None = None) -> Any:
        """Resume after :class:`FlyteSignalTrigger`: ask about the signal it found, or fail having asked nothing."""
        event = _airflow_common.validate_signal_event(event)
        if event["status"] != "success":
            raise AirflowFailException(f"{event['message']}; nothing was asked")
        signal = event["signal"]
        if not isinstance(signal, Mapping) or not isinstance(signal.get("signal_id"), str):
            raise AirflowException(f"FlyteSignalTrigger reported success without a signal: {event!r}")
        execution_id = identifiers.WorkflowExecutionIdentifier.from_python_std(event["execution_id"])
        url = event["console_url"] or self.hook.console_url(execution_id)
        return self._ask_or_finish(context, execution_id, signal["signal_id"], bool(signal.get("is_set")), url)

    # ------------------------------------------------------------------ phase 2: ask in Airflow

    def _ask_or_finish(
        self,
        context: Context,
        execution_id: WorkflowExecutionIdentifier,
        signal_id: str,
        is_set: bool,
        url: str,
    ) -> Any:
        declared = self._declared_gate(execution_id, signal_id)
        if is_set:
            return self._already_answered(execution_id, declared, url)
        self._shape_question(declared, execution_id, url)
        context["ti"].xcom_push(
            key=GATE_XCOM_KEY,
            value={"execution_id": str(execution_id), "signal_id": signal_id, "console_url": url},
        )
        self.log.info(
            "Asking for signal %r of execution %s in Airflow's Required actions (%s)", signal_id, execution_id, url
        )
        # Airflow's own HITLOperator writes the question and parks or defers the task; it resumes in execute_complete.
        return super().execute(context)

    def _shape_question(self, declared: DeclaredSignal, execution_id: WorkflowExecutionIdentifier, url: str) -> None:
        """Set the HITL options, form, subject and body for ``declared`` (before asking and again on resume)."""
        from airflow.sdk import Param
        from airflow.sdk.definitions.param import ParamsDict

        from airflow_provider_flyte.remote.signals import APPROVAL, type_description

        type_name = type_description(declared.literal_type)["type"]
        if declared.kind == APPROVAL:
            self.options = [APPROVE, REJECT]
            self.params = ParamsDict({})
            subject = f"Approve Flyte gate {declared.signal_id!r} of execution {execution_id.name}?"
            asks = "an approval: **Approve** lets the execution go on, **Reject** fails the gate node"
        else:
            if self.defaults is not None:
                raise AirflowFailException(
                    f"{self.task_id}: defaults={self.defaults!r} only applies to approval gates; signal "
                    f"{declared.signal_id!r} is an input gate of type {type_name}; nothing was asked"
                )
            form_type = _FORM_TYPES[_simple_type_name(declared, self.task_id)]
            self.options = [SUBMIT]
            self.params = ParamsDict(
                {
                    declared.signal_id: Param(
                        None,
                        type=[form_type, "null"],
                        title=declared.signal_id,
                        description=f"Value of Flyte signal {declared.signal_id!r} ({type_name})",
                    )
                }
            )
            subject = f"Enter {declared.signal_id!r} ({type_name}) for Flyte execution {execution_id.name}"
            asks = f"a value of type `{type_name}`"
        # ``subject`` is a template field: by now it holds the rendered text the DAG author gave, or "".
        self.subject = self.subject or subject
        details = (
            f"Flyte execution [`{execution_id}`]({url}) waits at gate node `{declared.node_id}` for signal "
            f"`{declared.signal_id}`, {asks}."
        )
        self.body = f"{self.body}\n\n{details}" if self.body and details not in self.body else (self.body or details)

    # ------------------------------------------------------------------ phase 3: forward the answer

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> dict[str, Any]:
        """Resume with the person's answer: check it against the gate's type and forward it to Flyte."""
        from airflow.providers.standard.exceptions import HITLTimeoutError, HITLTriggerEventError

        from airflow_provider_flyte.remote.signals import APPROVAL, boolean_literal

        if not isinstance(event, Mapping):
            raise AirflowException(f"the human-in-the-loop answer is missing (got {event!r}); nothing was set")
        ti = context["ti"]
        gate = ti.xcom_pull(task_ids=self.task_id, key=GATE_XCOM_KEY, map_indexes=ti.map_index)
        if not isinstance(gate, Mapping) or not isinstance(gate.get("signal_id"), str):
            raise AirflowException(f"{self.task_id}: no record of the gate this task asked about; nothing was set")
        execution_id = identifiers.WorkflowExecutionIdentifier.from_python_std(gate["execution_id"])
        signal_id: str = gate["signal_id"]
        url = str(gate.get("console_url") or self.hook.console_url(execution_id))
        declared = self._declared_gate(execution_id, signal_id)
        self._shape_question(declared, execution_id, url)
        try:
            answer = super().execute_complete(context, dict(event))
        except HITLTimeoutError:
            raise AirflowFailException(
                f"{self.task_id}: nobody answered signal {signal_id!r} of execution {execution_id} before "
                "response_timeout; nothing was set"
            ) from None
        except (HITLTriggerEventError, ValueError, AirflowException) as error:
            # The standard provider's own checks: an option or form value the question did not allow.
            raise AirflowFailException(
                f"{self.task_id}: the answer for signal {signal_id!r} was refused: {error}; nothing was set"
            ) from None
        if declared.kind == APPROVAL:
            approved = answer["chosen_options"] == [APPROVE]
            decision, value = ("approve" if approved else "reject"), approved
            literal = boolean_literal(approved)
        else:
            value = (answer.get("params_input") or {}).get(signal_id)
            decision, literal = "set", self._typed_literal(declared, value)
        self._refuse_if_answered_in_flyte(execution_id, signal_id)
        self._send(execution_id, signal_id, literal)
        responder = answer.get("responded_by_user") or {}
        responded_at = answer.get("responded_at")
        self.log.info(
            "Signal %r of execution %s: %s from %s forwarded to Flyte",
            signal_id,
            execution_id,
            decision,
            responder.get("name") or "the timeout default",
        )
        return self._result(
            execution_id,
            declared,
            url,
            decision=decision,
            value=value,
            answered_by=responder.get("name"),
            answered_by_id=responder.get("id"),
            answered_at=responded_at.isoformat() if hasattr(responded_at, "isoformat") else responded_at,
            answered_in="airflow",
            timed_out=bool(event.get("timedout")),
        )

    # ------------------------------------------------------------------ helpers

    def _declared_gate(self, execution_id: WorkflowExecutionIdentifier, signal_id: str) -> DeclaredSignal:
        """The gate of the execution's workflow that declares ``signal_id``; fails if none does or it can't be asked."""
        from airflow_provider_flyte.remote.signals import INPUT, declared_signals, unknown_signal_message

        client = self.hook.get_client()
        workflow_id = client.get_execution(execution_id).closure.workflow_id
        declared_by_id = declared_signals(client.get_workflow(workflow_id))
        declared = declared_by_id.get(signal_id)
        if declared is None:
            raise AirflowFailException(
                f"{self.task_id}: {unknown_signal_message(signal_id, workflow_id.name, declared_by_id)}; "
                "nothing was asked"
            )
        if declared.kind == INPUT:
            _simple_type_name(declared, self.task_id)
        return declared

    def _current_signal(self, execution_id: WorkflowExecutionIdentifier) -> signal_pb2.Signal | None:
        """The signal to ask about now: ``signal_id`` (answered or not), or the first unanswered one."""
        from airflow_provider_flyte.remote.signals import list_signals, pick_signal

        filters = None if self.signal_id is None else f"eq(signal_id,{self.signal_id})"
        signals = list_signals(self.hook.get_client(), execution_id, filters=filters)
        return pick_signal(signals, self.signal_id, pending_only=self.signal_id is None)

    def _typed_literal(self, declared: DeclaredSignal, value: Any) -> literals_pb2.Literal:
        """``value`` as a literal of the gate's type; a missing or ill-fitting value fails and nothing is set."""
        from airflow_provider_flyte.literals import to_literal

        if value is None:
            raise AirflowFailException(
                f"{self.task_id}: the answer gave no value for signal {declared.signal_id!r}; nothing was set"
            )
        try:
            return to_literal(value, declared.literal_type, name=f"value of signal {declared.signal_id!r}")
        except exceptions.FlyteInvalidInputException as error:
            raise AirflowFailException(f"{self.task_id}: {error}; nothing was set") from None

    def _refuse_if_answered_in_flyte(self, execution_id: WorkflowExecutionIdentifier, signal_id: str) -> None:
        """Fail rather than overwrite a signal someone answered in Flyte while the question was open.

        Flyte Admin's SetSignal overwrites silently, and the gate has already acted on the earlier value.
        """
        from airflow_provider_flyte.remote.signals import find_signal

        if find_signal(self.hook.get_client(), execution_id, signal_id).HasField("value"):
            raise AirflowFailException(
                f"{self.task_id}: signal {signal_id!r} of execution {execution_id} was answered in Flyte while "
                "the question was open; the Airflow answer was not forwarded"
            )

    def _send(self, execution_id: WorkflowExecutionIdentifier, signal_id: str, literal: literals_pb2.Literal) -> None:
        from airflow_provider_flyte.remote.signals import set_signal_value

        set_signal_value(self.hook.get_client(), execution_id, signal_id, literal)

    def _already_answered(
        self, execution_id: WorkflowExecutionIdentifier, declared: DeclaredSignal, url: str
    ) -> dict[str, Any]:
        """The result for a gate Flyte already holds an answer for (nothing is asked or sent)."""
        from airflow_provider_flyte.literals import to_json_able, to_python
        from airflow_provider_flyte.remote.signals import APPROVAL, find_signal

        signal = find_signal(self.hook.get_client(), execution_id, declared.signal_id)
        value = to_json_able(to_python(signal.value, declared.literal_type))
        decision = ("approve" if value is True else "reject") if declared.kind == APPROVAL else "set"
        self.log.info(
            "Signal %r of execution %s was already answered in Flyte (%s); nothing asked",
            declared.signal_id,
            execution_id,
            decision,
        )
        return self._result(
            execution_id,
            declared,
            url,
            decision=decision,
            value=value,
            answered_by=None,
            answered_by_id=None,
            answered_at=None,
            answered_in="flyte",
            timed_out=False,
        )

    def _result(
        self, execution_id: WorkflowExecutionIdentifier, declared: DeclaredSignal, url: str, **answer: Any
    ) -> dict[str, Any]:
        from airflow_provider_flyte.remote.signals import type_description

        return {
            "execution_id": str(execution_id),
            "signal_id": declared.signal_id,
            "kind": declared.kind,
            "type": type_description(declared.literal_type)["type"],
            **answer,
            "console_url": url,
        }


def _simple_type_name(declared: DeclaredSignal, task_id: str) -> str:
    """The simple type name (``STRING``...) of an input gate a form can ask for; fails naming any other type."""
    from flyteidl.core import types_pb2

    from airflow_provider_flyte.remote.signals import type_description

    literal_type = declared.literal_type
    if literal_type.WhichOneof("type") == "simple":
        name = types_pb2.SimpleType.Name(literal_type.simple)
        if name in _FORM_TYPES:
            return name
    raise AirflowFailException(
        f"{task_id}: signal {declared.signal_id!r} waits for a value of type "
        f"{type_description(literal_type)['type']}, which an Airflow form cannot ask for (str, int, float or bool "
        "only); answer it with FlyteSignalOperator; nothing was asked"
    )
