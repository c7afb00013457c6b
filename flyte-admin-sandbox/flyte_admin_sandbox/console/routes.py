"""URL -> page: the console's route table and its error pages.

Paths are flyteconsole's (``/console/projects/{p}/domains/{d}/...``), every one that
:func:`airflow_provider_flyte.remote.console.generate_console_url` builds included. Each path segment is
percent-decoded on its own, so a version holding ``/`` (sent as ``%2F``) stays one segment.
"""

from __future__ import annotations

import logging
import urllib.parse
from collections.abc import Callable
from typing import TYPE_CHECKING

import grpc
from flyteidl.core import identifier_pb2

from flyte_admin_sandbox.console import pages_entities as entities
from flyte_admin_sandbox.console import pages_executions as runs
from flyte_admin_sandbox.console.data import BadRequest, ConsoleData, NotFound
from flyte_admin_sandbox.console.html import CONSOLE_PREFIX, Html, crumbs, page, tag
from flyte_admin_sandbox.console.style import STYLESHEET
from flyte_admin_sandbox.errors import AdminError

if TYPE_CHECKING:
    from flyte_admin_sandbox.executions import Executions
    from flyte_admin_sandbox.registry import Registry

log = logging.getLogger(__name__)

HTML = "text/html; charset=utf-8"
CSS = "text/css; charset=utf-8"

Params = dict[str, str]
Handler = Callable[[ConsoleData, Params, Params], Html]
"""``(data, path parameters, query parameters) -> page``."""

Response = tuple[int, str, bytes]
"""``(HTTP status, content type, body)``."""


def _execution_id(params: Params) -> identifier_pb2.WorkflowExecutionIdentifier:
    return identifier_pb2.WorkflowExecutionIdentifier(
        project=params["project"], domain=params["domain"], name=params["name"]
    )


def _node_id(params: Params) -> identifier_pb2.NodeExecutionIdentifier:
    return identifier_pb2.NodeExecutionIdentifier(node_id=params["node"], execution_id=_execution_id(params))


def _projects(data: ConsoleData, params: Params, query: Params) -> Html:
    return entities.projects_page(data)


def _project(data: ConsoleData, params: Params, query: Params) -> Html:
    return entities.project_page(data, params["project"])


def _domain(data: ConsoleData, params: Params, query: Params) -> Html:
    return entities.domain_page(data, params["project"], params["domain"])


def _executions(data: ConsoleData, params: Params, query: Params) -> Html:
    return runs.executions_page(data, params["project"], params["domain"], query)


def _execution(data: ConsoleData, params: Params, query: Params) -> Html:
    return runs.execution_page(data, _execution_id(params))


def _node(data: ConsoleData, params: Params, query: Params) -> Html:
    return runs.node_page(data, _node_id(params))


def _attempt(data: ConsoleData, params: Params, query: Params) -> Html:
    return runs.attempt_page(data, _node_id(params), params["task"], params["attempt"])


def _entity_list(data: ConsoleData, params: Params, query: Params) -> Html:
    return entities.entity_list_page(data, params["kind"], params["project"], params["domain"])


def _entity(data: ConsoleData, params: Params, query: Params) -> Html:
    return entities.entity_page(
        data, params["kind"], params["project"], params["domain"], params["name"], params.get("version", "")
    )


_DOMAIN = ("projects", "{project}", "domains", "{domain}")
_EXECUTION = (*_DOMAIN, "executions", "{name}")
_NODE = (*_EXECUTION, "nodeId", "{node}")
_ATTEMPT = (*_NODE, "taskId", "{task}", "attempt", "{attempt}")

ROUTES: tuple[tuple[tuple[str, ...], Handler], ...] = (
    ((), _projects),
    (("projects",), _projects),
    (("projects", "{project}"), _project),
    (("projects", "{project}", "domains"), _project),
    (_DOMAIN, _domain),
    ((*_DOMAIN, "executions"), _executions),
    (_EXECUTION, _execution),
    (_NODE, _node),
    (_ATTEMPT, _attempt),
    ((*_ATTEMPT, "view", "{view}"), _attempt),
    ((*_DOMAIN, "{kind}"), _entity_list),
    ((*_DOMAIN, "{kind}", "{name}"), _entity),
    ((*_DOMAIN, "{kind}", "{name}", "version", "{version}"), _entity),
)
"""Path patterns below ``/console`` (``{x}`` captures one segment) and their pages; the first match wins."""


def match(segments: list[str]) -> tuple[Handler, Params] | None:
    """The handler of the first route matching ``segments``, with the captured parameters."""
    for pattern, handler in ROUTES:
        if len(pattern) != len(segments):
            continue
        params: Params = {}
        for expected, actual in zip(pattern, segments, strict=True):
            if expected.startswith("{"):
                params[expected[1:-1]] = actual
            elif expected != actual:
                break
        else:
            return handler, params
    return None


class Console:
    """The read-only Flyte console of one sandbox, answering ``GET /console/...`` on its HTTP side.

    Args:
        registry: The sandbox's registry (projects, tasks, workflows, launch plans).
        executions: The sandbox's executions (runs, nodes, task attempts, data, metrics, signals).
    """

    def __init__(self, registry: Registry, executions: Executions) -> None:
        self.data = ConsoleData(registry, executions)

    def handle(self, target: str) -> Response:
        """Answer one request.

        Args:
            target: The request target, ``/console/...`` with an optional query string.

        Returns:
            ``(status, content type, body)``: the page, a 404 page naming what was not found, a 400 page for a bad
            query, or a 500 page with a short message (the details go to the log, not to the browser).
        """
        parsed = urllib.parse.urlsplit(target)
        raw = parsed.path[len(CONSOLE_PREFIX) :]
        segments = [urllib.parse.unquote(segment) for segment in raw.split("/") if segment]
        if segments == ["static", "console.css"]:
            return 200, CSS, STYLESHEET.encode()
        found = match(segments)
        if found is None:
            return _error(404, "Not found", f"There is no console page at {parsed.path}.")
        handler, params = found
        query = dict(urllib.parse.parse_qsl(parsed.query))
        try:
            return 200, HTML, handler(self.data, params, query).encode()
        except NotFound as missing:
            detail = f"Flyte Admin said: {missing.detail}" if missing.detail else ""
            return _error(404, "Not found", f"{_capitalized(missing.what)} was not found.", detail)
        except BadRequest as error:
            return _error(400, "Bad request", str(error))
        except AdminError as error:
            if error.code == grpc.StatusCode.INVALID_ARGUMENT:
                return _error(400, "Bad request", error.message)
            return _failed(parsed.path, error)
        except Exception as error:
            return _failed(parsed.path, error)


def _capitalized(text: str) -> str:
    return text[:1].upper() + text[1:]


def _error(status: int, title: str, message: str, detail: str = "") -> Response:
    body = tag("section", tag("p", message), tag("p", detail, class_="muted") if detail else None)
    return status, HTML, page(title, body, nav=crumbs()).encode()


def _failed(path: str, error: BaseException) -> Response:
    """A 500 page with a short message; the traceback goes to the log at DEBUG."""
    log.info("console: rendering %s failed: %s: %s", path, type(error).__name__, error)
    log.debug("console: traceback of the failed page %s", path, exc_info=error)
    message = str(error).splitlines()[0][:200] if str(error) else ""
    short = f"{type(error).__name__}: {message}" if message else type(error).__name__
    return _error(500, "Console error", "The console could not show this page.", short)
