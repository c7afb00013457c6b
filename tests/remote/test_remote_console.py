"""Console URLs: same as flytekit for entities and workflow executions, working links for node/task executions."""

from __future__ import annotations

import pytest

from airflow_provider_flyte.configuration import PlatformConfig
from airflow_provider_flyte.exceptions import FlyteInvalidInputException
from airflow_provider_flyte.identifiers import (
    Identifier,
    NodeExecutionIdentifier,
    ResourceType,
    TaskExecutionIdentifier,
    WorkflowExecutionIdentifier,
)
from airflow_provider_flyte.remote.console import console_http_domain, generate_console_url

CONFIGS = [
    PlatformConfig(endpoint="flyte.example.com:443"),
    PlatformConfig(endpoint="localhost:30080", insecure=True),
    PlatformConfig(endpoint="admin.internal:81", console_endpoint="https://console.example.com"),
]
ENTITY_IDS = [
    Identifier(ResourceType.TASK, "flytesnacks", "development", "core.say_hello", "v1"),
    Identifier(ResourceType.WORKFLOW, "flytesnacks", "staging", "core.wf", "abc123"),
    Identifier(ResourceType.LAUNCH_PLAN, "p", "production", "daily", "2024-01-01"),
]
EXECUTION = WorkflowExecutionIdentifier("flytesnacks", "development", "a1b2c3")


def _flytekit_remote(config: PlatformConfig):  # type: ignore[no-untyped-def]
    from flytekit.configuration import Config
    from flytekit.configuration import PlatformConfig as FlytekitPlatformConfig
    from flytekit.remote import FlyteRemote as FlytekitRemote

    platform = FlytekitPlatformConfig(
        endpoint=config.endpoint, insecure=config.insecure, console_endpoint=config.console_endpoint
    )
    return FlytekitRemote(Config(platform=platform))


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: c.endpoint)
def test_entity_and_execution_urls_match_flytekit(config: PlatformConfig) -> None:
    pytest.importorskip("flytekit")
    from flytekit.models.core.identifier import Identifier as FkIdentifier
    from flytekit.models.core.identifier import WorkflowExecutionIdentifier as FkExecutionId

    theirs = _flytekit_remote(config)
    assert console_http_domain(config) == theirs.generate_console_http_domain()
    for ident in ENTITY_IDS:
        fk_ident = FkIdentifier(int(ident.resource_type), ident.project, ident.domain, ident.name, ident.version)
        assert generate_console_url(config, ident) == theirs.generate_console_url(fk_ident)
    fk_execution = FkExecutionId(EXECUTION.project, EXECUTION.domain, EXECUTION.name)
    assert generate_console_url(config, EXECUTION) == theirs.generate_console_url(fk_execution)


def test_node_and_task_execution_urls_work_where_flytekit_breaks() -> None:
    config = CONFIGS[0]
    node = NodeExecutionIdentifier("n0", EXECUTION)
    task = TaskExecutionIdentifier(ENTITY_IDS[0], node, retry_attempt=2)
    execution_url = "https://flyte.example.com:443/console/projects/flytesnacks/domains/development/executions/a1b2c3"
    assert generate_console_url(config, node) == execution_url
    assert generate_console_url(config, task) == f"{execution_url}/nodeId/n0/taskId/core.say_hello/attempt/2/view/logs"
    # flyteidl messages are accepted too
    assert generate_console_url(config, task.to_flyte_idl()) == generate_console_url(config, task)
    assert generate_console_url(config, node.to_flyte_idl()) == execution_url


def test_objects_with_an_id_and_special_characters() -> None:
    class Wrapper:
        def __init__(self, ident: Identifier) -> None:
            self.id = ident

    ident = Identifier(ResourceType.TASK, "p", "d", "t", "v1/with space")
    url = generate_console_url(PlatformConfig(endpoint="h:1", console_endpoint="console.example.com/"), Wrapper(ident))
    assert url == "https://console.example.com/console/projects/p/domains/d/task/t/version/v1%2Fwith%20space"


@pytest.mark.parametrize("bad", [42, "tsk:p:d:n:v", object(), Identifier(ResourceType.DATASET, "p", "d", "n", "v")])
def test_unknown_targets_are_rejected(bad: object) -> None:
    with pytest.raises(FlyteInvalidInputException):
        generate_console_url(CONFIGS[0], bad)
