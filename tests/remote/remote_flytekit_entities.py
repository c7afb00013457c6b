"""flytekit-defined entities for differential tests (flytekit needs them in a real source file)."""

from __future__ import annotations

import datetime

from flytekit import task, workflow


@task
def scheduled_task(kickoff: datetime.datetime, x: int = 3) -> int:
    return x + kickoff.day


@workflow
def scheduled_wf(kickoff: datetime.datetime, x: int = 3) -> int:
    return scheduled_task(kickoff=kickoff, x=x)
