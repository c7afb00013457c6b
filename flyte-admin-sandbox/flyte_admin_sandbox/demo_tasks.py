"""The Python functions behind the sandbox's demo tasks (the engine calls them by ``module:function``)."""

from __future__ import annotations

import datetime

from flyteidl.core import dynamic_job_pb2


def summarize(numbers: list[int]) -> dict[str, int]:
    """The total and the count of some numbers."""
    return {"total": sum(numbers), "count": len(numbers)}


def scaled_mean(total: int, count: int, scale: float) -> float:
    """``total / count * scale`` (0.0 for no numbers)."""
    return (total / count) * scale if count else 0.0


def report(label: str, mean: float, count: int) -> str:
    """A one-line human summary."""
    return f"{label}: mean {mean:.3f} over {count} value(s)"


def describe_run(kickoff_time: datetime.datetime, region: str) -> str:
    """What a scheduled run would process."""
    return f"processing {region} data for {kickoff_time.isoformat()}"


def publish(summary: str, approved: bool, title: str) -> str:
    """Combine an approved summary with a title typed in by a person."""
    return f"{title}: {summary}" if approved else f"{title}: not approved"


def explode(reason: str) -> str:
    """Always fail, with ``reason`` in the error."""
    raise ValueError(f"demo failure: {reason}")


def square_positive(x: int) -> int:
    """``x * x``; refuses numbers below 1 (the failing child of the dynamic demo)."""
    if x < 1:
        raise ValueError(f"{x} is not positive")
    return x * x


def fan_out_squares(numbers: list[int]) -> dynamic_job_pb2.DynamicJobSpec:
    """A dynamic task: one ``square_positive`` node per number, their results collected in order."""
    from flyte_admin_sandbox import builders as b

    square = b.python_task(
        "demo.square_positive",
        f"{__name__}:square_positive",
        inputs={"x": b.INTEGER},
        outputs={"o0": b.INTEGER},
    )
    nodes = [
        b.task_node(f"n{index}", square.id, {"x": b.constant(value, b.INTEGER)}) for index, value in enumerate(numbers)
    ]
    collected = b.collection([b.promise(node.id, "o0") for node in nodes])
    return b.dynamic_job(nodes, {"o0": collected}, tasks=[square])
