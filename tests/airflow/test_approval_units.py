"""FlyteApprovalOperator without a Flyte Admin or database: arguments, question shapes, and old Airflow."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType
from typing import Any

import pytest

from airflow_provider_flyte.exceptions import FlyteInvalidInputException
from airflow_provider_flyte.identifiers import WorkflowExecutionIdentifier

pytestmark = pytest.mark.airflow

HITL_MODULE = "airflow.providers.standard.operators.hitl"
EXECUTION = WorkflowExecutionIdentifier("flytesnacks", "development", "f1")


def declared(signal_id: str, kind: str, literal_type: Any) -> Any:
    from airflow_provider_flyte.remote.signals import DeclaredSignal

    return DeclaredSignal(signal_id, kind, literal_type, "n1")


def simple(name: str) -> Any:
    from flyteidl.core import types_pb2

    return types_pb2.LiteralType(simple=types_pb2.SimpleType.Value(name))


def test_the_operator_is_airflows_hitl_operator() -> None:
    from airflow.providers.standard.operators.hitl import HITLOperator

    from airflow_provider_flyte.operators.approval import HITL_UNAVAILABLE_REASON, FlyteApprovalOperator

    assert HITL_UNAVAILABLE_REASON is None
    assert issubclass(FlyteApprovalOperator, HITLOperator)


@pytest.mark.parametrize("argument", ["options", "multiple"])
def test_options_come_from_the_gate_only(argument: str) -> None:
    from airflow_provider_flyte.operators.approval import FlyteApprovalOperator

    with pytest.raises(FlyteInvalidInputException, match=f"ask: {argument}=.* is not accepted"):
        FlyteApprovalOperator(task_id="ask", execution_id="ex:p:d:n", **{argument: ["x"]})


def test_dag_params_do_not_leak_into_the_gate_form() -> None:
    # Airflow hands a DAG's params to every operator's constructor: they must not break it nor reach the form.
    from airflow.sdk import DAG

    from airflow_provider_flyte.operators.approval import FlyteApprovalOperator

    with DAG("with_params", schedule=None, params={"region": "eu"}):
        operator = FlyteApprovalOperator(task_id="ask", execution_id="ex:p:d:n")
    operator._shape_question(declared("title", "input", simple("STRING")), EXECUTION, "http://console/f1")
    assert list(operator.params) == ["title"]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"signal_id": ""}, "signal_id='' must be a non-empty string or None"),
        ({"poll_interval": 0}, "poll_interval=0 must be a positive, finite number of seconds"),
        ({"timeout": -1}, "timeout=-1 must be a positive, finite number of seconds"),
        ({"outage_tolerance": float("nan")}, "outage_tolerance=nan must be a positive, finite number of seconds"),
    ],
)
def test_bad_arguments_fail_at_parse_time(arguments: dict[str, Any], message: str) -> None:
    from airflow_provider_flyte.operators.approval import FlyteApprovalOperator

    with pytest.raises(FlyteInvalidInputException, match=message):
        FlyteApprovalOperator(task_id="ask", execution_id="ex:p:d:n", **arguments)


def test_an_approval_gate_becomes_approve_or_reject() -> None:
    from airflow_provider_flyte.operators.approval import FlyteApprovalOperator

    operator = FlyteApprovalOperator(task_id="ask", execution_id="ex:p:d:n", body="Look at the numbers.")
    operator._shape_question(declared("ok", "approval", simple("BOOLEAN")), EXECUTION, "http://console/f1")
    assert (operator.options, dict(operator.params)) == (["Approve", "Reject"], {})
    assert operator.subject == "Approve Flyte gate 'ok' of execution f1?"
    assert operator.body == (
        "Look at the numbers.\n\nFlyte execution [`ex:flytesnacks:development:f1`](http://console/f1) waits at gate "
        "node `n1` for signal `ok`, an approval: **Approve** lets the execution go on, **Reject** fails the gate node."
    )
    # Reshaping again (as on resume) does not repeat the details.
    operator._shape_question(declared("ok", "approval", simple("BOOLEAN")), EXECUTION, "http://console/f1")
    assert operator.body.count("Flyte execution") == 1


@pytest.mark.parametrize(
    ("flyte_type", "form_type"),
    [("STRING", "string"), ("INTEGER", "integer"), ("FLOAT", "number"), ("BOOLEAN", "boolean")],
)
def test_a_typed_gate_becomes_a_one_field_form(flyte_type: str, form_type: str) -> None:
    from airflow_provider_flyte.operators.approval import FlyteApprovalOperator

    operator = FlyteApprovalOperator(task_id="ask", execution_id="ex:p:d:n", subject="Mine")
    operator._shape_question(declared("n", "input", simple(flyte_type)), EXECUTION, "http://console/f1")
    assert operator.options == ["OK"]
    assert operator.subject == "Mine"
    schema = operator.params.get_param("n").schema
    assert schema["type"] == [form_type, "null"]
    operator.params["n"] = None  # "no value" passes the form; the operator refuses it before sending


def test_a_gate_of_another_type_cannot_be_asked_in_a_form() -> None:
    from airflow.providers.common.compat.sdk import AirflowFailException
    from flyteidl.core import types_pb2

    from airflow_provider_flyte.operators.approval import _simple_type_name

    listed = types_pb2.LiteralType(collection_type=simple("INTEGER"))
    with pytest.raises(AirflowFailException, match=r"ask: signal 'numbers' waits for a value of type list\[int\]"):
        _simple_type_name(declared("numbers", "input", listed), "ask")
    with pytest.raises(AirflowFailException, match="of type datetime, which an Airflow form cannot ask for"):
        _simple_type_name(declared("when", "input", simple("DATETIME")), "ask")


def test_timeout_defaults_only_fit_approval_gates() -> None:
    from airflow.providers.common.compat.sdk import AirflowFailException

    from airflow_provider_flyte.operators.approval import FlyteApprovalOperator

    operator = FlyteApprovalOperator(task_id="ask", execution_id="ex:p:d:n", defaults="Reject")
    with pytest.raises(AirflowFailException, match="defaults=\\['Reject'\\] only applies to approval gates"):
        operator._shape_question(declared("title", "input", simple("STRING")), EXECUTION, "http://console/f1")


class _RefusingFinder:
    """A meta path finder whose HITL module refuses to load, as the standard provider's does on Airflow < 3.1."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if name == HITL_MODULE:
            from airflow.providers.common.compat.sdk import AirflowOptionalProviderFeatureException

            raise AirflowOptionalProviderFeatureException("Human in the loop functionality needs Airflow 3.1+.")
        return None


def _fresh_approval_module() -> ModuleType:
    """A separate copy of the operator module, imported under the current ``sys.modules`` / ``sys.meta_path``."""
    from airflow_provider_flyte.operators import approval

    spec = importlib.util.spec_from_file_location("approval_without_hitl", approval.__file__)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("how", ["missing", "refused"])
def test_without_airflows_hitl_the_module_imports_but_a_dag_using_it_fails_to_parse(
    monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    # Both installed Airflows (3.1.8 and 3.3.2) ship the HITL operators, so the test hides them: "missing" is a
    # standard provider without the module, "refused" the module rejecting an Airflow older than 3.1.
    from airflow.sdk import DAG

    if how == "missing":
        monkeypatch.setitem(sys.modules, HITL_MODULE, None)  # type: ignore[arg-type]
    else:
        monkeypatch.delitem(sys.modules, HITL_MODULE, raising=False)
        monkeypatch.setattr(sys, "meta_path", [_RefusingFinder(), *sys.meta_path])
    module = _fresh_approval_module()
    reason = {"missing": "ModuleNotFoundError", "refused": "AirflowOptionalProviderFeatureException"}[how]
    assert module.HITL_UNAVAILABLE_REASON.startswith(reason)
    with DAG("parse_time", schedule=None), pytest.raises(module.FlyteApprovalUnavailableError) as raised:
        module.FlyteApprovalOperator(task_id="ask", execution_id="ex:p:d:n", signal_id="approve-report")
    message = str(raised.value)
    assert message.startswith("ask: FlyteApprovalOperator needs Airflow 3.1 or later with ")
    assert "apache-airflow-providers-standard 1.8.0 or later" in message
    assert reason in message
