"""Small request helpers shared by the remote modules: sort orders, filter joining, pagination, identifier parsing."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

from airflow_provider_flyte.clients.filters import format_filters
from airflow_provider_flyte.exceptions import (
    FlyteEntityNotExistException,
    FlyteException,
    FlyteInvalidInputException,
)
from airflow_provider_flyte.identifiers import WorkflowExecutionIdentifier

if TYPE_CHECKING:
    from airflow_provider_flyte.clients.friendly import SynchronousFlyteClient

ItemT = TypeVar("ItemT")

PAGE_SIZE = 100


def newest_first() -> Any:
    """Sort order ``created_at`` descending, as the friendly client takes it."""
    from flyteidl.admin import common_pb2

    return common_pb2.Sort(key="created_at", direction=common_pb2.Sort.DESCENDING)


def join_filters(filters: str | Iterable[Any] | None) -> str | None:
    """Join filter expressions with ``+`` (Admin's AND). Accepts a string, a filter, or filter objects / strings.

    flytekit passes a list where Admin expects one string; joining here is what makes filters work.

    Raises:
        FlyteInvalidInputException: naming ``filters`` and the value when it is not one of these forms.
    """
    return format_filters(filters) or None


def missing_scope(
    client: SynchronousFlyteClient, project: str, domain: str, looked_for: str
) -> FlyteEntityNotExistException | None:
    """Why nothing was found in ``project``/``domain``, when the reason is that one of them does not exist.

    Flyte Admin answers a lookup in an unknown project or domain as it answers any missing entity (an empty list, or
    ``NOT_FOUND missing entity of type ...``); one ``GetProject`` tells the two cases apart.

    Args:
        client: The friendly client.
        project: The project looked in.
        domain: The domain looked in.
        looked_for: What was looked for, for the message (``"launch plan 'daily'"``).

    Returns:
        ``FlyteEntityNotExistException("project 'x' does not exist ...")`` (or the domain's), or ``None`` when both
        exist or the project cannot be read (the original error then stands).
    """
    where = f"looked for {looked_for} in {project}/{domain}"
    try:
        domains = [item.id for item in client.get_project(project).domains]
    except FlyteEntityNotExistException:
        return FlyteEntityNotExistException(f"project {project!r} does not exist ({where})")
    except FlyteException:
        return None
    if domains and domain not in domains:
        return FlyteEntityNotExistException(
            f"domain {domain!r} does not exist in project {project!r}; its domains are {', '.join(domains)} ({where})"
        )
    return None


def paginate(fetch_page: Callable[[str], tuple[list[ItemT], str]], limit: int | None = None) -> Iterator[ItemT]:
    """Yield the items of ``fetch_page(token) -> (items, next_token)`` until the token is empty or ``limit`` items."""
    token = ""
    yielded = 0
    while True:
        items, token = fetch_page(token)
        for item in items:
            if limit is not None and yielded >= limit:
                return
            yield item
            yielded += 1
        if not token or not items:
            return


def as_execution_id(
    value: Any, project: str | None = None, domain: str | None = None, argument: str = "id"
) -> WorkflowExecutionIdentifier:
    """Accept an execution object, our or flyteidl's execution id, ``"ex:p:d:name"``, or a bare name.

    Raises:
        FlyteInvalidInputException: naming ``argument`` when the value is none of these or project/domain are
            needed but missing.
    """
    if isinstance(value, WorkflowExecutionIdentifier):
        return value
    inner = getattr(value, "id", None)
    if isinstance(inner, WorkflowExecutionIdentifier):
        return inner
    descriptor = getattr(value, "DESCRIPTOR", None)
    if getattr(descriptor, "full_name", None) == "flyteidl.core.WorkflowExecutionIdentifier":
        return WorkflowExecutionIdentifier.from_flyte_idl(value)
    if isinstance(value, str) and value.startswith("ex:"):
        return WorkflowExecutionIdentifier.from_python_std(value)
    if isinstance(value, str) and value:
        if not project or not domain:
            raise FlyteInvalidInputException(
                f"{argument}={value!r} is a bare execution name; pass project and domain (or set the remote's defaults)"
            )
        return WorkflowExecutionIdentifier(project, domain, value)
    raise FlyteInvalidInputException(
        f"{argument}={value!r} is not an execution, an execution id, an 'ex:project:domain:name' string or a name"
    )
