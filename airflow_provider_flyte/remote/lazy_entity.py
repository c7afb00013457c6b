"""A promise of an entity, fetched on first use (:class:`LazyEntity`)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from airflow_provider_flyte.remote.entities import FlyteEntity

EntityT = TypeVar("EntityT", bound=FlyteEntity)


class LazyEntity(Generic[EntityT]):
    """Stands for an entity that is fetched from Flyte Admin only when something of it is used.

    The name is known up front; any other attribute (``id``, ``interface``...), or calling it, triggers one fetch,
    shared by all threads, after which the entity is kept. Pass it to ``execute`` like the entity itself.

    Args:
        name: The entity's name (known without fetching).
        getter: Callable fetching the entity.
    """

    def __init__(self, name: str, getter: Callable[[], EntityT]) -> None:
        self._name = name
        self._getter = getter
        self._entity: EntityT | None = None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        """The entity's name."""
        return self._name

    @property
    def entity_fetched(self) -> bool:
        """Whether the entity has been fetched already."""
        return self._entity is not None

    @property
    def entity(self) -> EntityT:
        """The entity, fetched now if it was not yet.

        Raises:
            FlyteEntityNotExistException: when it does not exist (not cached: the next access asks again).
        """
        if self._entity is None:
            with self._lock:
                if self._entity is None:
                    self._entity = self._getter()
        return self._entity

    def __getattr__(self, item: str) -> Any:
        if item.startswith("__") or item in ("_name", "_getter", "_entity", "_lock"):
            raise AttributeError(item)
        return getattr(self.entity, item)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Fetch the entity (if not yet) and call it: a node inside a flytekit ``@workflow`` definition.

        Raises:
            FlyteAssertion: outside a flytekit workflow definition (see :meth:`FlyteEntity.__call__`).
        """
        return self.entity(*args, **kwargs)

    def __repr__(self) -> str:
        state = repr(self._entity) if self._entity is not None else "not fetched"
        return f"LazyEntity({self._name!r}, {state})"
