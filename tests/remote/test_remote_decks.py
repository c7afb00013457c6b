"""Decks: a flytekit task with ``enable_deck=True`` run as a real container, its deck fetched offline.

The sandbox runs flytekit's ``pyflyte-execute`` (``run_containers=True``); flytekit writes ``deck.html`` under the
attempt's output prefix and the sandbox records it in the node's ``closure.deck_uri`` as propeller does. Our remote
then fetches it the ways Flyte Admin offers (``get("flyte://.../d")`` through GetData, the deck link of
CreateDownloadLink served by the sandbox's HTTP side), side by side with flytekit's FlyteRemote on the same server.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from flyte_admin_sandbox import FlyteSandbox
from flyteidl.core import execution_pb2 as core_execution_pb2
from remote_helpers import D, P

from airflow_provider_flyte.exceptions import FlyteEntityNotExistException, FlyteInvalidInputException
from airflow_provider_flyte.identifiers import NodeExecutionIdentifier, WorkflowExecutionIdentifier
from airflow_provider_flyte.remote import FlyteRemote, FlyteWorkflowExecution
from tests.support.flytekit_peer import require_flytekit
from tests.support.sandboxes import new_sandbox

WORKFLOW = "remote_deck_tasks.decked"
HANG_GUARD = 120.0  # flytekit starts in a few seconds; the limit only guards against a hang
_versions = itertools.count()


@dataclass(frozen=True)
class DeckRun:
    """One run of ``remote_deck_tasks.decked`` on a sandbox running containers, with both remotes on it."""

    sandbox: FlyteSandbox
    remote: FlyteRemote
    flytekit_remote: Any
    execution: FlyteWorkflowExecution
    marker: str

    def url(self, node: str, kind: str = "d") -> str:
        """The ``flyte://`` URL of ``kind`` (``i``, ``o``, ``d``) of a node of the run."""
        return f"flyte://v1/{P}/{D}/{self.execution.id.name}/{node}/{kind}"

    def node_id(self, node: str) -> NodeExecutionIdentifier:
        """The id of a node execution of the run."""
        execution_id = WorkflowExecutionIdentifier(P, D, self.execution.id.name)
        return NodeExecutionIdentifier(node_id=node, execution_id=execution_id)


@pytest.fixture(scope="module")
def deck_run() -> Iterator[DeckRun]:
    """Register the workflow with flytekit, run it with our remote once for the module's tests."""
    require_flytekit()
    import remote_deck_tasks
    from flytekit.configuration import Config
    from flytekit.remote import FlyteRemote as FlytekitRemote

    with new_sandbox(run_containers=True) as sandbox:
        flytekit_remote = FlytekitRemote(
            Config.for_endpoint(sandbox.endpoint, insecure=True), default_project=P, default_domain=D
        )
        version = f"decks-{next(_versions)}"
        flytekit_remote.register_workflow(remote_deck_tasks.decked, version=version)
        with FlyteRemote(sandbox.config, default_project=P, default_domain=D) as remote:
            plan = remote.fetch_launch_plan(name=WORKFLOW, version=version)
            execution = remote.execute(plan, inputs={"x": 7}).wait(timeout=HANG_GUARD, poll_interval=0.05)
            assert execution.closure.phase == core_execution_pb2.WorkflowExecution.SUCCEEDED, execution.closure.error
            yield DeckRun(sandbox, remote, flytekit_remote, execution, remote_deck_tasks.DECK_MARKER)


def _deck_file(run: DeckRun) -> bytes:
    """The deck flytekit wrote, read from the sandbox's blob folder (what every fetch must give back)."""
    path = run.sandbox.engine.containers.folder(P, D, run.execution.id.name, "n0", 0) / "outputs" / "deck.html"
    return path.read_bytes()


def test_the_node_closure_records_the_deck_flytekit_wrote(deck_run: DeckRun) -> None:
    client = deck_run.remote.client
    decked = client.get_node_execution(deck_run.node_id("n0"))
    key = deck_run.sandbox.blobs.key_of(decked.closure.deck_uri)
    assert key is not None, decked.closure.deck_uri
    assert key.endswith("/n0/0/outputs/deck.html"), key
    assert deck_run.marker.encode() in _deck_file(deck_run)
    assert client.get_node_execution_data(deck_run.node_id("n0")).flyte_urls.deck == deck_run.url("n0")
    # A task without enable_deck writes none, and Admin then offers no deck URL.
    assert client.get_node_execution(deck_run.node_id("n1")).closure.deck_uri == ""
    assert client.get_node_execution_data(deck_run.node_id("n1")).flyte_urls.deck == ""


def test_get_d_returns_the_deck_html_as_flytekit_remote_does(deck_run: DeckRun) -> None:
    ours = deck_run.remote.get(deck_run.url("n0"))
    assert ours == _deck_file(deck_run)
    assert ours.lstrip().lower().startswith(b"<!doctype html>")
    theirs = deck_run.flytekit_remote.get(deck_run.url("n0"))
    assert theirs == ours


def test_the_signed_deck_link_serves_the_html_over_the_sandbox_http_side(deck_run: DeckRun) -> None:
    name = deck_run.execution.id.name
    link = deck_run.remote.client.get_download_artifact_signed_url("n0", P, D, name)
    (url,) = link.signed_url
    assert list(link.pre_signed_urls.signed_url) == [url]
    assert url.startswith(deck_run.sandbox.http_url + "/")
    response = httpx.get(url, timeout=30)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.content == _deck_file(deck_run)
    flytekit_link = deck_run.flytekit_remote.client.get_download_artifact_signed_url("n0", P, D, name)
    assert httpx.get(flytekit_link.signed_url[0], timeout=30).content == response.content
    # The signature covers the object: the same link on another key is refused.
    forged = url.replace("/n0/0/outputs/deck.html", "/n1/0/outputs/outputs.pb")
    assert httpx.get(forged, timeout=30).status_code == 403


def test_a_node_without_a_deck_has_no_deck_to_fetch(deck_run: DeckRun) -> None:
    with pytest.raises(FlyteEntityNotExistException, match="no deckUrl found"):
        deck_run.remote.get(deck_run.url("n1"))
    with pytest.raises(FlyteEntityNotExistException, match="no deckUrl found"):
        deck_run.remote.client.get_download_artifact_signed_url("n1", P, D, deck_run.execution.id.name)
    # flytekit's get swallows Admin's NOT_FOUND and answers None; ours raises it (docs/remote.md says so).
    assert deck_run.flytekit_remote.get(deck_run.url("n1")) is None
    # A deck belongs to the node, not to one attempt (Admin's rule).
    with pytest.raises(FlyteInvalidInputException, match="deck type cannot be specified with a retry attempt"):
        deck_run.remote.get(f"flyte://v1/{P}/{D}/{deck_run.execution.id.name}/n0/0/d")
