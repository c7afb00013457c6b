"""Progress lines of long waits: when they are due and what they say (sans-I/O, with a fake clock)."""

from __future__ import annotations

import logging
from types import SimpleNamespace
from typing import Any

import pytest

from airflow_provider_flyte.exceptions import FlyteSystemUnavailableException
from airflow_provider_flyte.progress import NodeCounts, ProgressReport, anode_counts, elapsed_text, node_counts


def node(node_id: str, phase: int) -> SimpleNamespace:
    return SimpleNamespace(id=SimpleNamespace(node_id=node_id), closure=SimpleNamespace(phase=phase))


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_node_counts_leave_out_the_compiler_nodes_and_sort_phases() -> None:
    # QUEUED, RUNNING, SUCCEEDED, FAILED, DYNAMIC_RUNNING, SKIPPED; start-node and end-node left out.
    nodes = [node("start-node", 3), node("a", 1), node("b", 2), node("c", 3), node("d", 5), node("e", 9)]
    nodes += [node("f", 7), node("end-node", 0)]
    counts = NodeCounts.of(nodes)
    assert counts == NodeCounts(done=3, running=3, total=6)
    assert str(counts) == "nodes: 3 done, 3 running, 6 total"


@pytest.mark.parametrize(
    ("seconds", "text"), [(0, "0s"), (59.9, "59s"), (60, "1m 00s"), (305, "5m 05s"), (3600, "1h 00m"), (7322, "2h 02m")]
)
def test_elapsed_text_reads_like_a_person_writes_it(seconds: float, text: str) -> None:
    assert elapsed_text(seconds) == text


def test_a_line_is_due_after_the_silence_and_a_phase_change_postpones_it() -> None:
    clock = FakeClock()
    report = ProgressReport("Flyte execution ex:p:d:n", "http://console/x", every=300, clock=clock)
    assert not report.due()
    clock.now += 299
    assert not report.due()
    report.logged()  # the wait logged a phase change
    clock.now += 200
    assert not report.due()
    assert report.seconds_until_due() == pytest.approx(100)
    clock.now += 100
    assert report.due()
    line = report.line("RUNNING", NodeCounts(2, 1, 5))
    assert line == (
        "Flyte execution ex:p:d:n is still RUNNING after 9m 59s; nodes: 2 done, 1 running, 5 total (http://console/x)"
    )
    assert not report.due()  # writing the line restarts the silence


def test_a_new_state_is_noted_once_and_postpones_the_next_line() -> None:
    clock = FakeClock()
    report = ProgressReport("Backfill ex:p:d:n", every=300, clock=clock)
    assert report.changed("0 of 3 backfill runs finished")  # the first state is news
    clock.now += 250
    assert not report.changed("0 of 3 backfill runs finished")
    assert report.changed("1 of 3 backfill runs finished")
    clock.now += 250
    assert not report.due()  # the change at 250 s restarted the silence
    clock.now += 50
    assert report.due()
    assert report.changed(None)  # None is a state like any other
    assert not report.changed(None)


def test_a_line_without_url_or_detail() -> None:
    clock = FakeClock()
    report = ProgressReport("Backfill ex:p:d:b", every=1, clock=clock)
    clock.now += 3
    assert report.line(None) == "Backfill ex:p:d:b is still not started after 3s"
    assert report.line("RUNNING", "1 of 3 backfill runs finished") == (
        "Backfill ex:p:d:b is still RUNNING after 3s; 1 of 3 backfill runs finished"
    )


def test_a_line_with_node_counts_and_what_is_still_missing() -> None:
    clock = FakeClock()
    report = ProgressReport("Flyte execution ex:p:d:n", "http://console/x", every=1, clock=clock)
    clock.now += 61
    assert report.line("RUNNING", NodeCounts(3, 1, 4), "the gate of signal 'title' not reached yet") == (
        "Flyte execution ex:p:d:n is still RUNNING after 1m 01s; nodes: 3 done, 1 running, 4 total; "
        "the gate of signal 'title' not reached yet (http://console/x)"
    )
    assert report.line("RUNNING", None, "no 'title' yet") == (
        "Flyte execution ex:p:d:n is still RUNNING after 1m 01s; no 'title' yet (http://console/x)"
    )


class Clients:
    """Node executions from a sync and an async ``iter_node_executions``, or Admin refusing to list them."""

    def __init__(self, nodes: list[SimpleNamespace] | None) -> None:
        self.nodes = nodes

    def iter_node_executions(self, execution_id: str) -> list[SimpleNamespace]:
        if self.nodes is None:
            raise FlyteSystemUnavailableException("Admin is restarting")
        return self.nodes


class AsyncClients(Clients):
    async def _aiter(self) -> Any:
        for item in Clients.iter_node_executions(self, ""):
            yield item

    def iter_node_executions(self, execution_id: str) -> Any:  # type: ignore[override]
        return self._aiter()


async def test_counting_nodes_is_a_courtesy_that_never_ends_the_wait(caplog: pytest.LogCaptureFixture) -> None:
    log = logging.getLogger("tests.progress.counts")
    nodes = [node("start-node", 3), node("a", 3), node("b", 2)]
    assert node_counts(Clients(nodes), "ex:p:d:n", log) == NodeCounts(1, 1, 2)
    assert await anode_counts(AsyncClients(nodes), "ex:p:d:n", log) == NodeCounts(1, 1, 2)
    with caplog.at_level(logging.INFO):
        assert node_counts(Clients(None), "ex:p:d:n", log) is None
        assert await anode_counts(AsyncClients(None), "ex:p:d:n", log) is None
    refused = "Could not count the nodes of ex:p:d:n: Admin is restarting"
    assert [r.getMessage() for r in caplog.records] == [refused] * 2
