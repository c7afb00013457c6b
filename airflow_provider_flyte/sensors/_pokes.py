"""Sensor pokes that ride out Flyte Admin outages: a poke that cannot reach Admin means "not yet", for a while."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from airflow_provider_flyte._lazy import LazyModule

if TYPE_CHECKING:
    from airflow_provider_flyte import _airflow_common
    from airflow_provider_flyte.hooks.flyte import FlyteHook
    from airflow_provider_flyte.waiting import WaitClock
else:
    _airflow_common = LazyModule("airflow_provider_flyte._airflow_common")  # poking loads it; DAG files need not

T = TypeVar("T")


class OutageTolerantPokes:
    """Mixin for sensors: pokes share one outage clock, started by the first poke that failed.

    An outage fails the sensor only once it outlasted ``outage_tolerance``. Poke mode keeps the sensor object between
    pokes; reschedule mode does not, and there only the sensor's ``timeout`` bounds an outage.
    """

    if TYPE_CHECKING:

        @property
        def hook(self) -> FlyteHook:
            """The sensor's hook."""

    outage_tolerance: float | None
    poke_interval: float
    log: Any
    _poke_clock: WaitClock | None = None

    def ride_out(self, subject: str, call: Callable[[], T]) -> T | None:
        """``call()``, or ``None`` when Admin is briefly unreachable (the outage is logged).

        Raises:
            FlyteAdminUnreachableException: when Admin has been unreachable for longer than ``outage_tolerance``.
        """
        if self._poke_clock is None:
            self._poke_clock = _airflow_common.task_wait_clock(self, subject, interval=float(self.poke_interval))
        return self._poke_clock.attempt(call)
