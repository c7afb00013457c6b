"""flytekit-defined entities of ``test_remote_flytekit_paths.py`` (flytekit needs them in a real source file).

Kept apart from ``remote_flytekit_entities.py`` so nothing here changes the entities other tests register. The
``interactive_*`` ones are pickled by interactive mode, which gives their tasks flytekit's notebook resolver: only the
interactive-mode tests use them.
"""

from __future__ import annotations

from flytekit import LaunchPlan, task, workflow


@task
def double(x: int) -> int:
    return x * 2


@workflow
def double_wf(x: int = 2) -> int:
    return double(x=x)


double_lp = LaunchPlan.get_or_create(
    double_wf, name="remote_flytekit_paths_entities.double_lp", default_inputs={"x": 5}
)


@task
def interactive_triple(x: int) -> int:
    return x * 3


@workflow
def interactive_wf(x: int = 1) -> int:
    return interactive_triple(x=x)
