"""The wait clock: poll schedule, deadlines and outage budget, on a fake clock (no sleeping, no server)."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import pytest

from airflow_provider_flyte.exceptions import (
    FlyteAdminUnreachableException,
    FlyteEntityNotExistException,
    FlyteInvalidInputException,
    FlyteResourceExhaustedException,
    FlyteSystemException,
    FlyteSystemUnavailableException,
    FlyteTimeout,
)
from airflow_provider_flyte.operators._naming import execution_name_for, generation_of, latest_generation, retry_name
from airflow_provider_flyte.waiting import (
    FIRST_POLL_DELAY,
    OUTAGE_POLL_DELAY,
    WaitClock,
    apoll,
    check_seconds,
    is_transient,
    poll,
)

UNAVAILABLE = FlyteSystemUnavailableException("connection refused", code="UNAVAILABLE")


class FakeTime:
    """A monotonic clock moved only by the sleeps of the loop under test."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def clock(fake: FakeTime, **kwargs: object) -> WaitClock:
    settings: dict[str, object] = {"interval": 10.0, "outage_tolerance": 600.0, **kwargs}
    return WaitClock("execution ex:p:d:n", clock=fake, **settings)  # type: ignore[arg-type]


def test_polls_start_fast_and_slow_down_to_the_interval() -> None:
    fake = FakeTime()
    answers = iter([None] * 8 + ["done"])
    assert poll(lambda: next(answers), clock(fake), sleep=fake.sleep) == "done"
    assert fake.sleeps == [FIRST_POLL_DELAY, 0.5, 1.0, 2.0, 4.0, 8.0, 10.0, 10.0]


def test_a_short_run_is_seen_within_a_second() -> None:
    fake = FakeTime()
    finished_at = fake.now + 0.5
    assert poll(lambda: "done" if fake.now >= finished_at else None, clock(fake), sleep=fake.sleep) == "done"
    assert fake.now - 1000.0 <= 1.0


def test_deadline_ends_the_wait_with_none() -> None:
    fake = FakeTime()
    assert poll(lambda: None, clock(fake, timeout=3.0), sleep=fake.sleep) is None
    assert fake.now == pytest.approx(1003.0)


def test_transient_errors_are_ridden_out_and_logged_once_a_minute(caplog: pytest.LogCaptureFixture) -> None:
    fake = FakeTime()
    back_at = fake.now + 150.0

    def check() -> str | None:
        if fake.now < back_at:
            raise UNAVAILABLE
        return "done"

    with caplog.at_level(logging.INFO, logger="airflow_provider_flyte.waiting"):
        assert poll(check, clock(fake), sleep=fake.sleep) == "done"
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 3  # the start, then about once a minute
    assert "waiting up to 600 s" in warnings[0]
    assert warnings[1].startswith("Flyte Admin unreachable for 60 s; waiting up to 600 s")
    assert max(fake.sleeps) <= OUTAGE_POLL_DELAY  # a recovery is noticed within seconds
    infos = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert any(message.startswith("Flyte Admin answered again after 15") for message in infos)


def test_an_outage_longer_than_the_tolerance_fails_saying_how_long() -> None:
    fake = FakeTime()

    def check() -> None:
        raise UNAVAILABLE

    with pytest.raises(FlyteAdminUnreachableException) as raised:
        poll(check, clock(fake, outage_tolerance=30.0), sleep=fake.sleep)
    assert 30.0 < raised.value.unreachable_for <= 30.0 + OUTAGE_POLL_DELAY
    assert raised.value.tolerance == 30.0
    assert "unreachable for 3" in str(raised.value)
    assert "outage_tolerance=30 s" in str(raised.value)
    assert "connection refused" in str(raised.value)


def test_the_budget_is_wall_time_whatever_the_interval() -> None:
    for interval in (0.1, 1.0, 10.0, 60.0):
        fake = FakeTime()
        with pytest.raises(FlyteAdminUnreachableException):
            poll(
                lambda: (_ for _ in ()).throw(UNAVAILABLE),
                clock(fake, interval=interval, outage_tolerance=120.0),
                fake.sleep,
            )
        assert 120.0 < fake.now - 1000.0 <= 120.0 + OUTAGE_POLL_DELAY


def test_each_outage_gets_the_whole_budget_again() -> None:
    fake = FakeTime()
    pattern = iter(([UNAVAILABLE] * 20 + [None]) * 3 + ["done"])

    def check() -> str | None:
        item = next(pattern)
        if isinstance(item, Exception):
            raise item
        return item

    assert poll(check, clock(fake, interval=1.0, outage_tolerance=25.0), sleep=fake.sleep) == "done"


def test_permanent_errors_end_the_wait_at_once() -> None:
    fake = FakeTime()
    missing = FlyteEntityNotExistException("no such execution", code="NOT_FOUND")

    def check() -> None:
        raise missing

    with pytest.raises(FlyteEntityNotExistException):
        poll(check, clock(fake), sleep=fake.sleep)
    assert fake.sleeps == []


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (UNAVAILABLE, True),
        (FlyteResourceExhaustedException("quota", code="RESOURCE_EXHAUSTED"), True),
        (FlyteTimeout("slow", code="DEADLINE_EXCEEDED"), True),
        (FlyteTimeout("the wait's own timeout"), False),
        (FlyteSystemException("Cancelling all calls", code="CANCELLED"), True),  # a server stopping mid-call
        (FlyteSystemException("internal error", code="INTERNAL"), False),
        (FlyteAdminUnreachableException("gave up", unreachable_for=700, tolerance=600), False),
        (ValueError("bug"), False),
    ],
)
def test_what_counts_as_transient(error: BaseException, transient: bool) -> None:
    assert is_transient(error) is transient


def test_the_async_twin_decides_the_same() -> None:
    outcomes = iter([UNAVAILABLE, None, UNAVAILABLE, "done"])

    async def check() -> str | None:
        item = next(outcomes)
        if isinstance(item, Exception):
            raise item
        return item

    async def main() -> str | None:
        return await apoll(check, WaitClock("x", interval=0.01, first_delay=0.001))

    assert asyncio.run(main()) == "done"


def test_attempt_is_one_poll_of_a_sensor() -> None:
    fake = FakeTime()
    wait = clock(fake, outage_tolerance=10.0)

    def down() -> None:
        raise UNAVAILABLE

    assert wait.attempt(down) is None
    fake.now += 5
    assert wait.attempt(lambda: "up") == "up"
    assert wait.unreachable_for == 0.0
    assert wait.attempt(down) is None
    fake.now += 11
    with pytest.raises(FlyteAdminUnreachableException):
        wait.attempt(down)


@pytest.mark.parametrize("value", [0, -1, float("nan"), float("inf"), "10", True, timedelta(seconds=-1)])
def test_durations_are_checked(value: object) -> None:
    with pytest.raises(FlyteInvalidInputException, match="outage_tolerance="):
        check_seconds(value, "outage_tolerance")


def test_durations_accept_numbers_timedeltas_and_zero_where_allowed() -> None:
    assert check_seconds(timedelta(minutes=2), "timeout") == 120.0
    assert check_seconds(None, "timeout", allow_none=True) is None
    assert check_seconds(0, "timeout", allow_zero=True) == 0.0


# ---------------------------------------------------------------------------------------------------- naming


def test_generation_names_round_trip() -> None:
    base = execution_name_for("dag", "run", "task")
    assert generation_of(base, base) == 1
    assert generation_of(retry_name(base, 7), base) == 7
    assert generation_of("something-else-r2", base) is None
    assert generation_of(f"{base}-r1", base) is None


def test_latest_generation_probes_up_from_the_known_name() -> None:
    base = "af-task-0123"
    existing = {base, f"{base}-r2", f"{base}-r3"}
    asked: list[str] = []

    def fetch(name: str) -> str:
        asked.append(name)
        if name not in existing:
            raise FlyteEntityNotExistException(name)
        return name

    assert latest_generation(fetch, base) == (f"{base}-r3", 3)
    assert asked == [base, f"{base}-r2", f"{base}-r3", f"{base}-r4"]
    asked.clear()
    assert latest_generation(fetch, base, known=f"{base}-r3") == (f"{base}-r3", 3)
    assert asked == [f"{base}-r3", f"{base}-r4"]
    asked.clear()
    assert latest_generation(fetch, base, known="af-other-r9") == (f"{base}-r3", 3)
    assert latest_generation(lambda name: fetch(name) if name == "x" else fetch("nope"), base) is None
