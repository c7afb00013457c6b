"""The Python functions behind the sandbox's demo tasks (the engine calls them by ``module:function``)."""

from __future__ import annotations

import datetime


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
