"""The configuration a friendly client connects with."""

from __future__ import annotations

from airflow_provider_flyte.clients._calls.checks import _describe
from airflow_provider_flyte.configuration import PlatformConfig
from airflow_provider_flyte.exceptions import FlyteInvalidInputException


def resolve_config(config: PlatformConfig | str | None, insecure: bool | None) -> PlatformConfig:
    """The configuration a friendly client connects with.

    Args:
        config: A PlatformConfig, an endpoint ``"host:port"``, or ``None`` for :meth:`PlatformConfig.auto`.
        insecure: Overrides ``insecure`` when not ``None`` (an endpoint string defaults to TLS).

    Raises:
        FlyteInvalidInputException: when ``config`` has another type.
    """
    if config is None:
        resolved = PlatformConfig.auto()
    elif isinstance(config, PlatformConfig):
        resolved = config
    elif isinstance(config, str):
        return PlatformConfig.for_endpoint(config, insecure=False if insecure is None else insecure)
    else:
        raise FlyteInvalidInputException(
            f"config must be a PlatformConfig or an endpoint string like 'localhost:30080', got {_describe(config)}"
        )
    if insecure is not None and insecure != resolved.insecure:
        resolved = resolved.with_overrides(insecure=insecure)
    return resolved
