"""What every part of :class:`~airflow_provider_flyte.remote.FlyteRemote` relies on: settings, client, defaults.

:class:`RemoteCore` is the base of the mixins :class:`FlyteRemote` is composed of (:mod:`._fetching`,
:mod:`._registering`, :mod:`._executing`, :mod:`._following`, :mod:`._signalling`, :mod:`._backfilling`,
:mod:`._data_access`, :mod:`._listing`). It declares the state :class:`FlyteRemote` sets up and offers the client,
the project/domain defaults and console URLs; the small helpers below are shared by several mixins.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any, cast

from airflow_provider_flyte.configuration import PlatformConfig
from airflow_provider_flyte.exceptions import FlyteInvalidInputException
from airflow_provider_flyte.remote import console

if TYPE_CHECKING:
    from airflow_provider_flyte.clients.friendly import SynchronousFlyteClient
    from airflow_provider_flyte.remote.fs import FlyteFS
    from airflow_provider_flyte.remote.remote import FlyteRemote

# FlyteRemote's log lines keep the logger they had when the class lived in one module (a logging setup naming it
# keeps working).
logger = logging.getLogger("airflow_provider_flyte.remote.remote")

LATEST = "latest"


class RemoteCore:
    """Settings, the lazily created client, the project/domain defaults and console URLs of a remote.

    :class:`FlyteRemote` sets the attributes in its ``__init__``.
    """

    config: PlatformConfig
    default_project: str | None
    default_domain: str | None
    data_upload_location: str
    _client: SynchronousFlyteClient | None
    _owns_client: bool
    _client_lock: threading.Lock
    _fs: FlyteFS | None
    _interactive_mode_enabled: bool

    @property
    def interactive_mode_enabled(self) -> bool:
        """Whether flytekit entities are registered as flytekit's interactive (notebook) mode registers them.

        Python-defined flytekit tasks and workflows are then pickled and uploaded when registered, and versioned from
        a hash of that code when no version is given.
        """
        return self._interactive_mode_enabled

    @property
    def client(self) -> SynchronousFlyteClient:
        """The friendly client, created on first use."""
        if self._client is None:
            with self._client_lock:
                if self._client is None:
                    from airflow_provider_flyte.clients.friendly import SynchronousFlyteClient

                    self._client = SynchronousFlyteClient(self.config)
        return self._client

    def resolve_project_domain(self, project: str | None, domain: str | None) -> tuple[str, str]:
        """``project`` and ``domain``, falling back to the remote's defaults.

        Raises:
            FlyteInvalidInputException: naming whichever is missing.
        """
        project = project or self.default_project
        domain = domain or self.default_domain
        if not project:
            raise FlyteInvalidInputException(
                "project is required: pass project= or create the remote with default_project"
            )
        if not domain:
            raise FlyteInvalidInputException(
                "domain is required: pass domain= or create the remote with default_domain"
            )
        return project, domain

    def generate_console_http_domain(self) -> str:
        """Base URL of the Flyte Console."""
        return console.console_http_domain(self.config)

    def generate_console_url(self, entity: Any) -> str:
        """Console URL of an entity, execution, node or task execution (or their identifiers)."""
        return console.generate_console_url(self.config, entity)

    def _as_remote(self) -> FlyteRemote:
        """This object as the :class:`FlyteRemote` it is part of (execution objects keep a reference to it)."""
        return cast("FlyteRemote", self)


def required_name(name: str | None) -> str:
    """``name``, checked to be a non-empty string.

    Raises:
        FlyteInvalidInputException: naming ``name`` and the value.
    """
    if not name or not isinstance(name, str):
        raise FlyteInvalidInputException(f"name={name!r} is required and must be a non-empty string")
    return name


def is_flytekit_entity(entity: Any) -> bool:
    """Whether ``entity`` is a Python-defined flytekit task, workflow or launch plan (flytekit is not imported)."""
    from airflow_provider_flyte.remote.registration import is_flytekit_entity as check

    return check(entity)
