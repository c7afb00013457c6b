"""flytekit's request-level raw client methods on both raw clients: same names, signatures and RPCs as flytekit's
``RawSynchronousFlyteClient``, and a handful run against the sandbox (sync and asyncio, and side by side with
flytekit's own raw client)."""

from __future__ import annotations

import inspect
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from flyte_admin_sandbox import FlyteSandbox
from flyte_admin_sandbox import builders as b
from flyteidl.admin import common_pb2, execution_pb2, launch_plan_pb2, project_pb2, task_pb2
from integration_support import DOMAIN, NUMBERS, PIPELINE, PROJECT, execution_id, launch_spec, pipeline_inputs

from airflow_provider_flyte.clients._raw_requests import request_methods
from airflow_provider_flyte.clients.raw import RawAsyncFlyteClient, RawSynchronousFlyteClient
from airflow_provider_flyte.configuration import PlatformConfig
from airflow_provider_flyte.exceptions import (
    FlyteConfigurationException,
    FlyteEntityNotExistException,
    FlyteInvalidInputException,
)

flytekit_raw = pytest.importorskip("flytekit.clients.raw")
FlytekitRaw = flytekit_raw.RawSynchronousFlyteClient
OURS = (RawSynchronousFlyteClient, RawAsyncFlyteClient)
DOMAINS = ["development", "staging", "production"]
# flytekit's stub attributes -> ours.
STUBS = {"_stub": "admin_service", "_signal": "signal_service", "_dataproxy_stub": "data_proxy_service"}
STUB_CALL = re.compile(r"self\.(_stub|_signal|_dataproxy_stub)\.(\w+)\(")


def flytekit_methods() -> dict[str, Any]:
    """flytekit's public request-level methods (plain functions of the class)."""
    return {
        name: member
        for name, member in vars(FlytekitRaw).items()
        if not name.startswith("_") and inspect.isfunction(member)
    }


def shape(function: Any) -> list[tuple[str, Any, Any]]:
    """What a caller relies on in a signature: names, kinds and defaults (flytekit annotates only a few)."""
    return [(p.name, p.kind, p.default) for p in inspect.signature(function).parameters.values()]


# ---------------------------------------------------------------------------------------------------- flytekit parity


def test_the_table_has_exactly_flytekits_request_level_methods() -> None:
    assert set(request_methods()) == set(flytekit_methods())


@pytest.mark.parametrize("ours", OURS, ids=lambda cls: cls.__name__)
@pytest.mark.parametrize("name", sorted(flytekit_methods()))
def test_same_signature_as_flytekit(ours: type, name: str) -> None:
    assert shape(getattr(ours, name)) == shape(getattr(FlytekitRaw, name))
    assert getattr(ours, name).__name__ == name
    assert getattr(ours, name).__doc__


@pytest.mark.parametrize("name", sorted(flytekit_methods()))
def test_same_rpc_as_flytekit(name: str) -> None:
    [(stub, rpc)] = STUB_CALL.findall(inspect.getsource(getattr(FlytekitRaw, name)))
    method = request_methods()[name]
    assert (method.service, method.rpc) == (STUBS[stub], rpc)


@pytest.mark.parametrize("ours", OURS, ids=lambda cls: cls.__name__)
def test_url_and_with_root_certificate_as_in_flytekit(ours: type) -> None:
    assert isinstance(vars(FlytekitRaw)["url"], property)
    assert isinstance(inspect.getattr_static(ours, "url"), property)
    flytekit_constructor = inspect.signature(FlytekitRaw.with_root_certificate)
    assert list(inspect.signature(ours.with_root_certificate).parameters) == list(flytekit_constructor.parameters)


def test_every_public_name_of_flytekits_raw_client_exists_on_ours() -> None:
    public = {name for name in dir(FlytekitRaw) if not name.startswith("_")}
    for ours in OURS:
        assert public <= set(dir(ours)), public - set(dir(ours))


# ---------------------------------------------------------------------------------------------------- on the sandbox


class RawDriver:
    """Calls a raw client's method the same way on either raw client."""

    def __init__(self, raw: RawSynchronousFlyteClient | RawAsyncFlyteClient) -> None:
        self.raw = raw

    async def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        result = getattr(self.raw, method)(*args, **kwargs)
        if inspect.isawaitable(result):
            result = await result
        return result


@asynccontextmanager
async def open_raw(kind: str, config: PlatformConfig) -> AsyncIterator[RawDriver]:
    if kind == "sync":
        with RawSynchronousFlyteClient(config) as sync_raw:
            yield RawDriver(sync_raw)
    else:
        async with RawAsyncFlyteClient(config) as async_raw:
            yield RawDriver(async_raw)


def named_list(limit: int = 100) -> common_pb2.NamedEntityIdentifierListRequest:
    return common_pb2.NamedEntityIdentifierListRequest(project=PROJECT, domain=DOMAIN, limit=limit)


async def test_requests_and_responses_on_the_sandbox(sandbox: FlyteSandbox, kind: str) -> None:
    task = b.python_task("raw.requests.task", "flyte_admin_sandbox.demo_tasks:summarize", inputs=NUMBERS, version="v1")
    async with open_raw(kind, sandbox.config) as driver:
        assert driver.raw.url == sandbox.config.endpoint
        domains = await driver.call("get_domains")
        assert [domain.id for domain in domains.domains] == DOMAINS
        projects = await driver.call("list_projects")  # the argument defaults to an empty request, as in flytekit
        assert PROJECT in [project.id for project in projects.projects]
        one = await driver.call("list_projects", project_list_request=project_pb2.ProjectListRequest(limit=1))
        assert len(one.projects) == 1

        created = await driver.call(
            "create_task", task_pb2.TaskCreateRequest(id=task.id, spec=task_pb2.TaskSpec(template=task))
        )
        assert isinstance(created, task_pb2.TaskCreateResponse)
        fetched = await driver.call("get_task", common_pb2.ObjectGetRequest(id=task.id))
        assert fetched.closure.compiled_task.template.id == task.id
        names = await driver.call("list_task_ids_paginated", named_list())
        assert "raw.requests.task" in [entity.name for entity in names.entities]

        launch_plan = await driver.call("get_launch_plan", object_get_request=common_pb2.ObjectGetRequest(id=PIPELINE))
        assert launch_plan.id.name == PIPELINE.name
        active = await driver.call(
            "list_active_launch_plans_paginated",
            launch_plan_pb2.ActiveLaunchPlanListRequest(project=PROJECT, domain=DOMAIN, limit=100),
        )
        assert PIPELINE.name in [plan.id.name for plan in active.launch_plans]

        request = execution_pb2.ExecutionCreateRequest(
            project=PROJECT, domain=DOMAIN, name=f"raw-{kind}", spec=launch_spec(), inputs=pipeline_inputs([1, 2])
        )
        response = await driver.call("create_execution", request)
        assert response.id == execution_id(f"raw-{kind}")
        execution = await driver.call("get_execution", execution_pb2.WorkflowExecutionGetRequest(id=response.id))
        assert execution.id == response.id


async def test_failures_are_typed_and_wrong_requests_are_refused_before_any_rpc(
    sandbox: FlyteSandbox, kind: str
) -> None:
    missing = b.identifier(b.RT.TASK, "raw.missing", "v1")
    async with open_raw(kind, sandbox.config) as driver:
        with pytest.raises(FlyteEntityNotExistException) as not_found:
            await driver.call("get_task", common_pb2.ObjectGetRequest(id=missing))
        assert not_found.value.code == "NOT_FOUND"

        with pytest.raises(FlyteInvalidInputException) as wrong_type:
            await driver.call("get_task", execution_pb2.WorkflowExecutionGetRequest())
        assert str(wrong_type.value) == (
            "get_task(get_object_request=...) takes a flyteidl.admin.ObjectGetRequest message (or a model converting "
            "to one with to_flyte_idl()), got WorkflowExecutionGetRequest"
        )
        with pytest.raises(FlyteInvalidInputException, match=r"got str 'tsk:p:d:n:v'$"):
            await driver.call("get_task", "tsk:p:d:n:v")
        with pytest.raises(TypeError, match="missing a required argument: 'task_create_request'"):
            await driver.call("create_task")
        with pytest.raises(TypeError, match="too many positional arguments"):
            await driver.call("get_domains", project_pb2.GetDomainRequest())


async def test_with_root_certificate_trusts_the_given_ca(kind: str) -> None:
    with FlyteSandbox(port=0, tls=True, seed=False) as tls_sandbox:
        ca_file = str(tls_sandbox.ca_cert_path)
        config = PlatformConfig(endpoint=tls_sandbox.endpoint, insecure=True)  # TLS anyway, as in flytekit
        if kind == "sync":
            with RawSynchronousFlyteClient.with_root_certificate(config, ca_file) as sync_raw:
                domains = sync_raw.get_domains()
        else:
            async with RawAsyncFlyteClient.with_root_certificate(config, ca_file) as async_raw:
                domains = await async_raw.get_domains()
    assert [domain.id for domain in domains.domains] == DOMAINS


def test_with_root_certificate_names_a_file_that_is_not_pem(tmp_path: Any) -> None:
    not_pem = tmp_path / "ca.der"
    not_pem.write_bytes(b"\x30\x82\x01")
    with pytest.raises(FlyteConfigurationException, match="is not a PEM file"):
        RawSynchronousFlyteClient.with_root_certificate(PlatformConfig(), str(not_pem))


def test_same_answers_as_flytekits_raw_client(sandbox: FlyteSandbox) -> None:
    from flytekit.configuration import PlatformConfig as FlytekitPlatformConfig

    theirs = FlytekitRaw(FlytekitPlatformConfig(endpoint=sandbox.endpoint, insecure=True))
    with RawSynchronousFlyteClient(sandbox.config) as ours:
        for name, args in [
            ("get_domains", ()),
            ("list_projects", ()),
            ("list_task_ids_paginated", (named_list(),)),
            ("list_launch_plans_paginated", (common_pb2.ResourceListRequest(id=named(PIPELINE.name), limit=10),)),
            ("get_launch_plan", (common_pb2.ObjectGetRequest(id=PIPELINE),)),
        ]:
            assert getattr(ours, name)(*args) == getattr(theirs, name)(*args), name


def named(name: str) -> common_pb2.NamedEntityIdentifier:
    return common_pb2.NamedEntityIdentifier(project=PROJECT, domain=DOMAIN, name=name)
