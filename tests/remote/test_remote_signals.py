"""Signals against the sandbox's gate nodes: list (pages, filters), approve, reject, set_input typed by the signal."""

from __future__ import annotations

import typing

import pytest
from flyte_admin_sandbox import builders as b
from flyteidl.core import literals_pb2, types_pb2
from remote_helpers import RpcLog, eventually, finish, workflow_spec

from airflow_provider_flyte.exceptions import FlyteEntityNotExistException, FlyteInvalidInputException
from airflow_provider_flyte.remote import FlyteRemote, FlyteWorkflowExecution


def _gated(remote: FlyteRemote, name: str) -> FlyteWorkflowExecution:
    """Start the seeded ``demo.gated_publish`` and wait until its approval gate has created its signal."""
    plan = remote.fetch_launch_plan(name="demo.gated_publish")
    execution = remote.execute(plan, inputs={"numbers": [1, 2, 3]}, execution_name=name)
    eventually(lambda: remote.list_signals(name), f"the approval signal of {name}")
    return execution


def _signal_ids(remote: FlyteRemote, execution_name: str, **kwargs: object) -> list[str]:
    return [signal.id.signal_id for signal in remote.list_signals(execution_name, **kwargs)]  # type: ignore[arg-type]


def test_approve_then_set_input_completes_the_gated_workflow(remote: FlyteRemote, rpcs: RpcLog) -> None:
    execution = _gated(remote, "gated")
    approval = remote.list_signals("gated")
    assert [signal.id.signal_id for signal in approval] == ["approve-report"]
    assert approval[0].type.simple == types_pb2.BOOLEAN
    assert not approval[0].HasField("value")
    assert execution.sync(sync_nodes=True).node_executions["approve"].phase_name == "RUNNING"
    with pytest.raises(FlyteEntityNotExistException, match=r"no signal 'title'.*not have been reached yet"):
        remote.set_input("title", "gated", "too early")

    remote.approve("approve-report", "gated")
    eventually(lambda: "title" in _signal_ids(remote, "gated"), "the title signal")
    mark = rpcs.mark()
    assert _signal_ids(remote, "gated", limit=1) == ["approve-report", "title"]  # every page is read
    # Admin hands out a token after every full page, so the last (empty) page costs one more call.
    assert rpcs.names(mark) == ["ListSignals"] * 3
    assert _signal_ids(remote, "gated", filters=["eq(signal_id,title)"]) == ["title"]
    approved = remote.list_signals("gated", filters="eq(signal_id,approve-report)")[0]
    assert approved.value.scalar.primitive.boolean is True

    remote.set_input("title", "gated", "Weekly")  # a str, typed by the signal's declared STRING
    finish(execution)
    assert execution.outputs["o0"] == "Weekly: gated: mean 2.000 over 3 value(s)"
    assert execution.node_executions["title"].outputs["o0"] == "Weekly"


def test_reject_fails_the_gate(remote: FlyteRemote) -> None:
    execution = _gated(remote, "rejected")
    remote.reject("approve-report", "ex:flytesnacks:development:rejected")
    finish(execution)
    assert execution.phase_name == "FAILED"
    assert execution.node_executions["approve"].phase_name == "FAILED"


def test_signal_errors_are_typed_and_named(remote: FlyteRemote) -> None:
    _gated(remote, "errors")
    with pytest.raises(FlyteInvalidInputException, match="signal does not exist"):
        remote.approve("zzz", "errors")
    with pytest.raises(FlyteInvalidInputException, match=r"signal approve-report.*bool.*'yes'"):
        remote.set_input("approve-report", "errors", "yes")
    with pytest.raises(FlyteInvalidInputException, match="not castable"):
        remote.set_input("approve-report", "errors", "yes", literal_type=types_pb2.LiteralType(simple=types_pb2.STRING))
    with pytest.raises(FlyteInvalidInputException, match="limit=0"):
        remote.list_signals("errors", limit=0)
    with pytest.raises(FlyteInvalidInputException, match="project is required"):
        FlyteRemote(remote.config, client=remote.client).approve("approve-report", "errors")
    remote.terminate("ex:flytesnacks:development:errors", "test over")


def test_approve_and_reject_refuse_a_signal_that_is_not_boolean(remote: FlyteRemote, rpcs: RpcLog) -> None:
    waiting = b.workflow(
        "remote.wait_for_count",
        outputs={"count": b.INTEGER},
        nodes=[b.signal_node("count", "count", b.INTEGER)],
        output_bindings={"count": b.promise("count", "o0")},
    )
    execution = remote.execute(remote.register_workflow(workflow_spec(waiting)), execution_name="counted")
    eventually(lambda: remote.list_signals("counted"), "the count signal")
    mark = rpcs.mark()
    for answer in (remote.approve, remote.reject):
        with pytest.raises(FlyteInvalidInputException) as refused:
            answer("count", "counted")
        assert str(refused.value) == (
            "signal 'count' of execution ex:flytesnacks:development:counted has type int, not bool: it is not an "
            "approval gate; give it a value with set_input instead (nothing was sent)"
        )
    assert "SetSignal" not in rpcs.names(mark)
    remote.set_input("count", "counted", 5)
    assert finish(execution).outputs["count"] == 5


def test_set_input_converts_by_declared_type_or_given_type(remote: FlyteRemote) -> None:
    waiting = b.workflow(
        "remote.wait_for_ratio",
        outputs={"ratio": b.FLOAT, "count": b.INTEGER},
        nodes=[b.signal_node("ratio", "ratio", b.FLOAT), b.signal_node("count", "count", b.INTEGER)],
        output_bindings={"ratio": b.promise("ratio", "o0"), "count": b.promise("count", "o0")},
    )
    execution = remote.execute(remote.register_workflow(workflow_spec(waiting)), execution_name="typed")
    eventually(lambda: len(remote.list_signals("typed")) == 2, "both signals")
    remote.set_input("ratio", "typed", 3)  # an int for a FLOAT signal: the declared type guides conversion
    literal = literals_pb2.Literal()
    literal.scalar.primitive.integer = 7
    remote.set_input("count", "typed", literal)  # a ready literal is sent as is
    finish(execution)
    assert execution.outputs.to_dict() == {"ratio": 3.0, "count": 7}
    assert execution.outputs.literals["ratio"].scalar.primitive.float_value == 3.0


def test_set_input_with_python_type_skips_the_lookup(remote: FlyteRemote, rpcs: RpcLog) -> None:
    waiting = b.workflow(
        "remote.wait_for_numbers",
        outputs={"o0": b.list_of(b.INTEGER)},
        nodes=[b.signal_node("numbers", "numbers", b.list_of(b.INTEGER))],
        output_bindings={"o0": b.promise("numbers", "o0")},
    )
    execution = remote.execute(remote.register_workflow(workflow_spec(waiting)), execution_name="listed")
    eventually(lambda: remote.list_signals("listed"), "the numbers signal")
    mark = rpcs.mark()
    remote.set_signal("numbers", "listed", [1, 2], python_type=list[int])
    assert rpcs.names(mark) == ["SetSignal"]
    assert finish(execution).outputs["o0"] == [1, 2]
    with pytest.raises(FlyteInvalidInputException, match=r"python_type=set\[int\] is not supported here; use int"):
        remote.set_input("numbers", "listed", {"a": 1}, python_type=set[int])


def test_set_input_takes_the_seeds_union_typed_dict_as_flytekit_does(remote: FlyteRemote, rpcs: RpcLog) -> None:
    """The seed's own call: ``value={"key": "value", "number": 123}, python_type=Dict[str, Union[str, int]]``."""
    pytest.importorskip("flytekit")
    from flytekit.core.context_manager import FlyteContextManager
    from flytekit.core.type_engine import TypeEngine

    python_type = typing.Dict[str, typing.Union[str, int]]  # noqa: UP006, UP007 - the seed's spelling
    value = {"key": "value", "number": 123}
    declared = TypeEngine.to_literal_type(python_type).to_flyte_idl()
    waiting = b.workflow(
        "remote.wait_for_settings",
        outputs={"o0": declared},
        nodes=[b.signal_node("settings", "settings", declared)],
        output_bindings={"o0": b.promise("settings", "o0")},
    )
    execution = remote.execute(remote.register_workflow(workflow_spec(waiting)), execution_name="settings")
    eventually(lambda: remote.list_signals("settings"), "the settings signal")
    mark = rpcs.mark()
    remote.set_input("settings", "settings", value=value, python_type=python_type)
    sent = rpcs.calls("SetSignal")[-1].value
    theirs = TypeEngine.to_literal(
        FlyteContextManager.current_context(), value, python_type, TypeEngine.to_literal_type(python_type)
    )
    assert sent == theirs.to_flyte_idl()
    assert rpcs.names(mark) == ["SetSignal"]
    assert finish(execution).outputs["o0"] == value
