"""The Flyte 2 fault matrix (:mod:`fault_matrix_v2`): every fault kind once against both Flyte 2 wait paths.

Each round runs both paths concurrently: no duplicate run, no lost run, and the true outcome (phase, Flyte's message,
outputs) reported by each path.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from fault_matrix_v2 import CONNECTION, FAULT_KINDS, connection_json, matrix_sandbox_v2, run_round

pytest.importorskip("flyte_admin_sandbox.v2")
from flyte_admin_sandbox.v2 import Flyte2Sandbox

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(180)]


@pytest.fixture(scope="module")
def sandbox2() -> Iterator[Flyte2Sandbox]:
    """A Flyte 2 sandbox with ``reliability.nap``, shared by the module, and the matrix's connection to it."""
    with matrix_sandbox_v2() as running:
        variable = f"AIRFLOW_CONN_{CONNECTION.upper()}"
        os.environ[variable] = connection_json(running)
        try:
            yield running
        finally:
            del os.environ[variable]


@pytest.mark.parametrize("kind", list(FAULT_KINDS))
def test_flyte2_fault_kind_leaves_one_run_per_trial_and_the_truth(sandbox2: Flyte2Sandbox, kind: str) -> None:
    verdicts = run_round(sandbox2, FAULT_KINDS[kind], trials_per_path=1)
    assert len(verdicts) == len(FAULT_KINDS[kind].paths)
    problems = [v for v in verdicts if v.duplicates or v.lost or v.wrong]
    assert not problems, problems
