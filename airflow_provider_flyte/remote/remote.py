"""FlyteRemote: fetch, register and execute Flyte entities, and follow their executions.

The class is a thin layer over :class:`~airflow_provider_flyte.clients.friendly.SynchronousFlyteClient`: each method
resolves defaults, builds the request, makes as few RPCs as the task needs and wraps the answer in the objects of
:mod:`.entities` and :mod:`.executions`. It is composed of one mixin per concern, each in its own module:

==========================  ========================================================================================
:mod:`._core`               settings, the lazily created client, project/domain defaults, console URLs
:mod:`._fetching`           ``fetch_task`` / ``fetch_workflow`` / ``fetch_launch_plan`` (+ lazy), launch plan activation
:mod:`._registering`        ``register_task`` / ``register_workflow`` / ``register_launch_plan`` / ``register_package``
:mod:`._scripting`          ``register_script`` / ``fast_register_workflow`` (script mode; needs flytekit)
:mod:`._executing`          ``execute`` (inputs, uploads, exactly-once names), relaunch, recover, terminate
:mod:`._following`          ``fetch_execution``, ``sync``, ``wait``, node and task trees, execution metrics
:mod:`._signalling`         ``list_signals``, ``approve``, ``reject``, ``set_input``
:mod:`._backfilling`        ``launch_backfill``
:mod:`._data_access`        ``get``, ``download``, ``fetch_io_literals``, ``file_access``, ``upload_file``
:mod:`._listing`            ``list_executions``, ``recent_executions``, projects and domains
==========================  ========================================================================================

Planning, data transfer, signals and registration details live in their own modules (:mod:`.backfill`, :mod:`.fs`,
:mod:`.signals`, :mod:`.registration`).

Where flytekit's ``FlyteRemote`` is costly or wrong, this one differs (see ``docs/remote.md``): ``wait`` makes one
``GetExecution`` per poll unless asked for node details, ``fetch_launch_plan`` is one RPC (plus one to find the latest
version), signal and project listings follow every page, ``set_input`` uses the signal's declared type, and
``relaunch_execution`` / ``recover_execution`` exist here.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from airflow_provider_flyte.configuration import PlatformConfig
from airflow_provider_flyte.remote._backfilling import BackfillingMixin
from airflow_provider_flyte.remote._data_access import DataAccessMixin
from airflow_provider_flyte.remote._executing import ExecutingMixin
from airflow_provider_flyte.remote._fetching import FetchingMixin
from airflow_provider_flyte.remote._following import FollowingMixin
from airflow_provider_flyte.remote._listing import ListingMixin
from airflow_provider_flyte.remote._registering import RegisteringMixin
from airflow_provider_flyte.remote._scripting import ScriptingMixin
from airflow_provider_flyte.remote._signalling import SignallingMixin

if TYPE_CHECKING:
    from airflow_provider_flyte.clients.friendly import SynchronousFlyteClient


class FlyteRemote(
    BackfillingMixin,
    ExecutingMixin,
    ScriptingMixin,
    RegisteringMixin,
    FetchingMixin,
    FollowingMixin,
    SignallingMixin,
    DataAccessMixin,
    ListingMixin,
):
    """Client-side access to a Flyte deployment: entities, executions, signals, data.

    Args:
        config: How to reach Flyte Admin.
        default_project: Project used when a method's ``project`` is omitted.
        default_domain: Domain used when a method's ``domain`` is omitted.
        data_upload_location: Accepted for flytekit compatibility; uploads go through the data proxy, which decides
            the storage location.
        interactive_mode_enabled: Pickle Python-defined flytekit tasks and workflows and upload them when they are
            registered or executed, versioned from a hash of that code when no version is given, as flytekit's
            interactive (notebook) mode does; needs flytekit. ``None`` (default): on when running in IPython or
            Jupyter, as flytekit decides.
        client: A ready client to use instead of creating one from ``config`` (the remote then does not close it).

    Raises:
        FlyteInvalidInputException: ``interactive_mode_enabled=True`` without flytekit installed.
    """

    def __init__(
        self,
        config: PlatformConfig | None = None,
        default_project: str | None = None,
        default_domain: str | None = None,
        data_upload_location: str = "flyte://my-s3-bucket/",
        interactive_mode_enabled: bool | None = None,
        *,
        client: SynchronousFlyteClient | None = None,
    ) -> None:
        self.config = config if config is not None else PlatformConfig.for_sandbox()
        self.default_project = default_project
        self.default_domain = default_domain
        self.data_upload_location = data_upload_location
        self._interactive_mode_enabled = _interactive_mode(interactive_mode_enabled)
        self._client = client
        self._owns_client = client is None
        self._client_lock = threading.Lock()
        self._fs = None

    # ------------------------------------------------------------------ construction

    @classmethod
    def auto(
        cls,
        config_file: str | None = None,
        default_project: str | None = None,
        default_domain: str | None = None,
        data_upload_location: str = "flyte://my-s3-bucket/",
        interactive_mode_enabled: bool = False,
    ) -> FlyteRemote:
        """A remote configured from flytekit's environment variables and config file (see ``PlatformConfig.auto``)."""
        config = PlatformConfig.auto(config_file)
        return cls(config, default_project, default_domain, data_upload_location, interactive_mode_enabled)

    @classmethod
    def for_endpoint(
        cls,
        endpoint: str,
        insecure: bool = False,
        default_project: str | None = None,
        default_domain: str | None = None,
        data_upload_location: str = "flyte://my-s3-bucket/",
        interactive_mode_enabled: bool = False,
        **config_fields: Any,
    ) -> FlyteRemote:
        """A remote for ``endpoint`` (``host:port``); extra keyword arguments are :class:`PlatformConfig` fields."""
        config = PlatformConfig.for_endpoint(endpoint, insecure=insecure, **config_fields)
        return cls(config, default_project, default_domain, data_upload_location, interactive_mode_enabled)

    @classmethod
    def for_sandbox(
        cls,
        default_project: str | None = None,
        default_domain: str | None = None,
        endpoint: str | None = None,
        interactive_mode_enabled: bool = False,
    ) -> FlyteRemote:
        """A remote for a local sandbox: ``localhost:30080`` unless ``endpoint`` says otherwise, plain-text, no auth."""
        config = PlatformConfig.for_sandbox(endpoint) if endpoint else PlatformConfig.for_sandbox()
        return cls(config, default_project, default_domain, interactive_mode_enabled=interactive_mode_enabled)

    def close(self) -> None:
        """Close the client's channel if this remote created it."""
        if self._client is not None and self._owns_client:
            self._client.close()
            self._client = None

    def __enter__(self) -> FlyteRemote:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"FlyteRemote({self.config.endpoint!r}, project={self.default_project!r}, domain={self.default_domain!r})"
        )


def _interactive_mode(enabled: bool | None) -> bool:
    """``enabled``, or (for ``None``) whether this runs in IPython, as flytekit's ``ipython_check`` decides.

    IPython is only looked up when it is already imported, so a remote never imports it.

    Raises:
        FlyteInvalidInputException: ``enabled`` is not a bool or None, or it is True without flytekit installed.
    """
    import sys

    from airflow_provider_flyte.exceptions import FlyteInvalidInputException

    if enabled is None:
        ipython = sys.modules.get("IPython")
        get_ipython = getattr(ipython, "get_ipython", None)
        return get_ipython is not None and get_ipython() is not None
    if not isinstance(enabled, bool):
        raise FlyteInvalidInputException(f"interactive_mode_enabled={enabled!r} must be True, False or None")
    if enabled:
        from airflow_provider_flyte.remote._flytekit import require_flytekit

        require_flytekit("interactive_mode_enabled=True")
    return enabled
