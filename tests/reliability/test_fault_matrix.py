"""A representative part of the fault matrix (the whole matrix, many times over: ``benchmarks/bench_faults.py``).

Every fault kind runs once against every path it applies to, all paths concurrently in one round: no duplicate
execution, no lost run, and the true outcome (phase, Flyte's message, outputs) reported by each path.
"""

from __future__ import annotations

import pytest
from fault_matrix import FAULT_KINDS, reconnect_delays, run_round
from flyte_admin_sandbox import FlyteSandbox

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(180), pytest.mark.usefixtures("flyte_default")]


@pytest.mark.parametrize("kind", list(FAULT_KINDS))
def test_fault_kind_leaves_one_run_per_trial_and_the_truth(sandbox: FlyteSandbox, kind: str) -> None:
    verdicts = run_round(sandbox, FAULT_KINDS[kind], trials_per_path=1)
    assert len(verdicts) == len(FAULT_KINDS[kind].paths)
    problems = [v for v in verdicts if v.duplicates or v.lost or v.wrong]
    assert not problems, problems


def test_clients_reconnect_at_once_after_admin_restarts(sandbox: FlyteSandbox) -> None:
    # The bound is 2 s; gRPC's default backoff needs 3 s or more after this 6 s outage. The assertion leaves
    # room for a loaded CI machine (the benchmark reports the real figures).
    sync_delay, async_delay, fresh_delay = reconnect_delays(sandbox, outage_seconds=6.0)
    assert sync_delay < 2.5, sync_delay
    assert async_delay < 2.5, async_delay
    assert fresh_delay < 2.5, fresh_delay
