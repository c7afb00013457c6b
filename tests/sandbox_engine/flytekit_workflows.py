"""flytekit workflows the flytekit proof registers with flytekit's own serialization.

flytekit turns these Python tasks into container tasks (``pyflyte-execute ...``); the sandbox runs them with its
default behaviour or with a script the test sets, never by importing this module.
"""

from __future__ import annotations

from datetime import timedelta

from flytekit import LaunchPlan, approve, conditional, dynamic, map_task, task, wait_for_input, workflow


@task(retries=1)
def double(x: int) -> int:
    return 2 * x


@task
def shout(text: str) -> str:
    return text.upper()


@workflow
def twice(x: int) -> int:
    return double(x=double(x=x))


twice_plan = LaunchPlan.get_or_create(twice, name="flytekit_workflows.twice_plan")


@workflow
def pipeline(x: int, label: str) -> tuple[int, str]:
    doubled = double(x=x)
    chosen = conditional("size").if_(doubled > 10).then(twice(x=doubled)).else_().then(double(x=doubled))
    launched = twice_plan(x=chosen)
    return launched, shout(text=label)


@workflow
def gated(x: int) -> str:
    doubled = double(x=x)
    approved = approve(doubled, "go-ahead", timeout=timedelta(hours=1))
    title = wait_for_input("title", timeout=timedelta(hours=1), expected_type=str)
    approved >> title
    return shout(text=title)


@task
def square(x: int) -> int:
    return x * x


@workflow
def squares(xs: list[int]) -> list[int]:
    return map_task(square)(x=xs)


@task
def triple_positive(x: int) -> int:
    if x < 0:
        raise ValueError(f"{x} is negative")
    return 3 * x


@dynamic
def squares_upto(n: int) -> list[int]:
    return [square(x=index) for index in range(1, n + 1)]


@workflow
def dynamic_squares(n: int) -> list[int]:
    return squares_upto(n=n)
