"""The Flyte 2 sandbox's outages and restarts, and runs related to earlier ones (rerun, recover), over gRPC."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import grpc
import pytest
from flyte_admin_sandbox.v2 import Flyte2Sandbox
from flyteidl2.common import phase_pb2
from flyteidl2.common import run_pb2 as common_run_pb2
from flyteidl2.task import run_pb2
from flyteidl2.workflow import run_service_pb2

from tests.sandbox_v2.v2_helpers import Stubs, inputs, run_identifier, task_id

P = phase_pb2


@pytest.fixture
def stubs(flyte2_sandbox: Flyte2Sandbox) -> Iterator[Stubs]:
    with grpc.insecure_channel(flyte2_sandbox.grpc_endpoint) as channel:
        Stubs(channel).deploy()
        yield Stubs(channel)


def details(stubs: Stubs, name: str) -> object:
    request = run_service_pb2.GetRunDetailsRequest(run_id=run_identifier(name))
    return stubs.runs.GetRunDetails(request, timeout=10, wait_for_ready=True).details


def connect_refused(sandbox: Flyte2Sandbox) -> bool:
    try:
        urllib.request.urlopen(sandbox.console_endpoint, timeout=1)
    except urllib.error.URLError:
        return True
    return False


@pytest.mark.flyte2_sandbox(task_delay=0.1)
def test_outage_refuses_both_servers_while_runs_finish_unseen(flyte2_sandbox: Flyte2Sandbox, stubs: Stubs) -> None:
    flyte2_sandbox.behave("env.double", function=lambda x: 2 * x, duration=0.3)
    ports = (flyte2_sandbox.port, flyte2_sandbox.connect_port)
    stubs.run("unseen", x=4)
    outage = flyte2_sandbox.outage(1.0)
    with pytest.raises(grpc.RpcError) as raised:
        stubs.runs.GetRunDetails(run_service_pb2.GetRunDetailsRequest(run_id=run_identifier("unseen")), timeout=0.5)
    assert raised.value.code() == grpc.StatusCode.UNAVAILABLE
    assert connect_refused(flyte2_sandbox)
    assert not flyte2_sandbox.serving
    assert flyte2_sandbox.wait(run_identifier("unseen"), timeout=5).phase == P.ACTION_PHASE_SUCCEEDED
    outage.wait(5)
    assert (flyte2_sandbox.port, flyte2_sandbox.connect_port) == ports
    assert details(stubs, "unseen").action.status.phase == P.ACTION_PHASE_SUCCEEDED  # type: ignore[attr-defined]
    assert not connect_refused(flyte2_sandbox)


def test_restart_stops_the_engine_and_resumes_runs(flyte2_sandbox: Flyte2Sandbox, stubs: Stubs) -> None:
    flyte2_sandbox.behave("env.double", function=lambda x: 2 * x, duration=0.5)
    stubs.run("resumed", x=3)
    outage = flyte2_sandbox.outage(1.0, engine=False)
    time.sleep(0.7)  # longer than the run: with the engine stopped it cannot end
    record = flyte2_sandbox.run("flytesnacks", "development", "resumed")
    assert record is not None
    assert not record.terminal
    outage.wait(5)
    assert flyte2_sandbox.wait(run_identifier("resumed"), timeout=5).phase == P.ACTION_PHASE_SUCCEEDED
    flyte2_sandbox.restart(downtime=0.1)
    assert details(stubs, "resumed").action.status.phase == P.ACTION_PHASE_SUCCEEDED  # type: ignore[attr-defined]


def test_outage_needs_a_serving_sandbox_and_close_ends_it(flyte2_sandbox: Flyte2Sandbox) -> None:
    outage = flyte2_sandbox.outage(30.0)
    with pytest.raises(RuntimeError, match="not serving"):
        flyte2_sandbox.outage(1.0)
    flyte2_sandbox.close()
    assert outage.done
    with pytest.raises(RuntimeError, match="did not serve again"):
        outage.wait(0)


def related(name: str, source: str, *, recover: bool, force: tuple[str, ...] = (), **values: int) -> object:
    """A CreateRunRequest of ``env.double`` v1 whose spec relates it to ``source`` through ``relation``."""
    kind = common_run_pb2.RELATION_TYPE_RECOVER if recover else common_run_pb2.RELATION_TYPE_RERUN
    spec = run_pb2.RunSpec(relation=common_run_pb2.Relation(related_to=run_identifier(source), relation_type=kind))
    if force:
        spec.recover.force_rerun_actions.extend(force)
    return run_service_pb2.CreateRunRequest(
        run_id=run_identifier(name), task_id=task_id(), inputs=inputs(**values), run_spec=spec
    )


def test_recover_reruns_a_failed_root_with_its_inputs(flyte2_sandbox: Flyte2Sandbox, stubs: Stubs) -> None:
    flyte2_sandbox.behave("env.double", fail="boom")
    stubs.run("broken", x=5)
    assert flyte2_sandbox.wait(run_identifier("broken")).phase == P.ACTION_PHASE_FAILED
    flyte2_sandbox.behave("env.double", function=lambda x: 2 * x)
    spec = run_pb2.RunSpec(related_to=run_identifier("broken"), recover=run_pb2.Recover())  # the operator's form
    request = run_service_pb2.CreateRunRequest(run_id=run_identifier("mended"), task_id=task_id(), run_spec=spec)
    stubs.runs.CreateRun(request)  # no inputs: the failed run's
    record = flyte2_sandbox.wait(run_identifier("mended"))
    assert record.phase == P.ACTION_PHASE_SUCCEEDED
    assert record.outputs is not None
    assert record.outputs.literals[0].value.scalar.primitive.integer == 10
    metadata = details(stubs, "mended").action.metadata  # type: ignore[attr-defined]
    assert metadata.relation.related_to.name == "broken"
    assert metadata.relation.relation_type == common_run_pb2.RELATION_TYPE_RECOVER
    assert not metadata.HasField("recovered_from")


def test_recover_reuses_a_succeeded_root_unless_forced(flyte2_sandbox: Flyte2Sandbox, stubs: Stubs) -> None:
    flyte2_sandbox.behave("env.double", function=lambda x: 2 * x)
    stubs.run("fine", x=2)
    flyte2_sandbox.wait(run_identifier("fine"))
    flyte2_sandbox.behave("env.double", function=lambda x: 3 * x)
    created = stubs.runs.CreateRun(related("kept", "fine", recover=True)).run
    assert created.action.status.phase == P.ACTION_PHASE_RECOVERED
    kept = details(stubs, "kept").action  # type: ignore[attr-defined]
    assert kept.metadata.recovered_from.run.name == "fine"
    assert kept.metadata.recovered_from.name == "a0"
    outputs = stubs.runs.GetActionData(run_service_pb2.GetActionDataRequest(action_id=kept.id)).outputs
    assert outputs.literals[0].value.scalar.primitive.integer == 4
    stubs.runs.CreateRun(related("forced", "fine", recover=True, force=("a0",)))
    stubs.runs.CreateRun(related("again", "fine", recover=False, x=7))
    forced = flyte2_sandbox.wait(run_identifier("forced"))
    again = flyte2_sandbox.wait(run_identifier("again"))
    assert forced.outputs is not None
    assert again.outputs is not None
    assert forced.outputs.literals[0].value.scalar.primitive.integer == 6  # the source's x, run again
    assert again.outputs.literals[0].value.scalar.primitive.integer == 21  # a rerun with a changed input
    assert again.run_spec.related_to.name == "fine"


def test_relation_to_an_unknown_run_is_not_found(stubs: Stubs) -> None:
    with pytest.raises(grpc.RpcError) as raised:
        stubs.runs.CreateRun(related("orphan", "nowhere", recover=True, x=1))
    assert raised.value.code() == grpc.StatusCode.NOT_FOUND
    assert "nowhere" in (raised.value.details() or "")
