"""Backfills interoperate with flytekit's: the same id means byte-identical content, whichever tool registers first.

flytekit's ``FlyteRemote.launch_backfill`` on the same sandbox is the independent implementation. Both name the
backfill workflow ``backfill-<launch plan>`` with the same default version (a fingerprint of the range), so a team
that backfills a range with one tool and the same range again with the other must not be refused with "workflow with
different structure already exists".
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from typing import Any

import pytest
from flyte_admin_sandbox import FlyteSandbox
from remote_helpers import D, P

from airflow_provider_flyte.identifiers import Identifier
from airflow_provider_flyte.remote import FlyteRemote
from airflow_provider_flyte.remote.backfill import backfill_launch_plan_spec, backfill_workflow_spec

pytest.importorskip("flytekit")

START = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
END = START + dt.timedelta(days=3)


def _flytekit_remote(sandbox: FlyteSandbox) -> Any:
    from flytekit.configuration import Config, PlatformConfig
    from flytekit.remote import FlyteRemote as FlytekitRemote

    platform = PlatformConfig(endpoint=sandbox.config.endpoint, insecure=True)
    return FlytekitRemote(Config(platform=platform), default_project=P, default_domain=D)


def _flytekit_specs(flytekit_remote: Any, parallel: bool) -> tuple[Any, Any]:
    """The workflow spec and default launch plan flytekit registers for the backfill (version ``v1``)."""
    from flytekit import LaunchPlan
    from flytekit.configuration import ImageConfig, SerializationSettings
    from flytekit.core.context_manager import FlyteContextManager
    from flytekit.tools.translator import get_serializable

    workflow = flytekit_remote.launch_backfill(P, D, START, END, "demo.nightly", dry_run=True, parallel=parallel)
    settings = SerializationSettings(image_config=ImageConfig.auto(), project=P, domain=D, version="v1")
    workflow_spec = get_serializable(OrderedDict(), settings, workflow).to_flyte_idl()
    launch_plan = LaunchPlan.get_default_launch_plan(FlyteContextManager.current_context(), workflow)
    return workflow_spec, get_serializable(OrderedDict(), settings, launch_plan).to_flyte_idl().spec


@pytest.mark.parametrize("parallel", [False, True])
def test_the_backfill_workflow_and_launch_plan_are_flytekits_byte_for_byte(
    remote: FlyteRemote, flyte_sandbox: FlyteSandbox, parallel: bool
) -> None:
    their_workflow, their_launch_plan = _flytekit_specs(_flytekit_remote(flyte_sandbox), parallel)
    plan = remote.plan_backfill(P, D, START, END, "demo.nightly", parallel=parallel)
    our_workflow = backfill_workflow_spec(plan, P, D, "v1")
    assert our_workflow.SerializeToString(deterministic=True) == their_workflow.SerializeToString(deterministic=True)
    our_launch_plan = backfill_launch_plan_spec(Identifier.from_flyte_idl(our_workflow.template.id))
    assert our_launch_plan.SerializeToString(deterministic=True) == their_launch_plan.SerializeToString(
        deterministic=True
    )


@pytest.mark.parametrize("first", ["flytekit", "ours"])
def test_either_tool_may_backfill_a_range_second(remote: FlyteRemote, flyte_sandbox: FlyteSandbox, first: str) -> None:
    flytekit_remote = _flytekit_remote(flyte_sandbox)
    tools = [flytekit_remote, remote] if first == "flytekit" else [remote, flytekit_remote]
    registered = [tool.launch_backfill(P, D, START, END, "demo.nightly", execute=False) for tool in tools]
    assert registered[0].id.name == registered[1].id.name == "backfill-demo.nightly"
    assert registered[0].id.version == registered[1].id.version
    execution = remote.execute(remote.fetch_launch_plan(name="backfill-demo.nightly"), inputs={}, wait=True)
    assert execution.phase_name == "SUCCEEDED"  # the content both registered runs
