"""Small request helpers shared by the remote modules: sort orders, filter joining, pagination, identifier parsing."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from airflow_provider_flyte.exceptions import FlyteInvalidInputException
from airflow_provider_flyte.identifiers import WorkflowExecutionIdentifier

ItemT = TypeVar("ItemT")

PAGE_SIZE = 100


def newest_first() -> Any:
    """Sort order ``created_at`` descending, as the friendly client takes it."""
    from flyteidl.admin import common_pb2

    return common_pb2.Sort(key="created_at", direction=common_pb2.Sort.DESCENDING)


def join_filters(filters: str | Iterable[Any] | None) -> str | None:
    """Join filter expressions with ``+`` (Admin's AND). Accepts a string, or filter objects / strings.

    flytekit passes a list where Admin expects one string; joining here is what makes filters work.
    """
    if filters is None:
        return None
    if isinstance(filters, str):
        return filters or None
    parts = [str(item) for item in filters]
    return "+".join(part for part in parts if part) or None


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
