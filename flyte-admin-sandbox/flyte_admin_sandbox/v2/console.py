"""A plain HTML console for runs, at the URLs the ``flyte`` SDK's ``Console`` builds.

``/v2/domain/{domain}/project/{project}/runs/{name}`` shows a run (phase, task, times, inputs, outputs, error; it
reloads itself every 2 seconds until the run is terminal); ``/v2/domain/{domain}/project/{project}/runs`` and ``/v2``
list runs. Read-only.
"""

from __future__ import annotations

import datetime
import html
import urllib.parse
from typing import Any

from flyteidl2.task import common_pb2

from flyte_admin_sandbox.v2 import literals
from flyte_admin_sandbox.v2.store import RunRecord, Store
from flyte_admin_sandbox.v2.views import phase_name

PREFIX = "/v2"
_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse}"
    "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}"
    ".SUCCEEDED{color:#1a7f37}.FAILED,.TIMED_OUT{color:#cf222e}.ABORTED{color:#9a6700}pre{margin:0}"
)

Page = tuple[int, str, bytes]


def run_path(project: str, domain: str, name: str) -> str:
    """The console path of a run (the SDK's ``Console.run_url`` form)."""
    quote = urllib.parse.quote
    return f"{PREFIX}/domain/{quote(domain)}/project/{quote(project)}/runs/{quote(name)}"


def _page(title: str, body: str, refresh: bool = False) -> Page:
    meta = '<meta http-equiv="refresh" content="2">' if refresh else ""
    document = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>{meta}"
        f"<style>{_STYLE}</style></head><body><p><a href='{PREFIX}'>Flyte 2 sandbox</a></p>{body}</body></html>"
    )
    return 200, "text/html; charset=utf-8", document.encode()


def _time(seconds: float | None) -> str:
    if seconds is None:
        return ""
    return datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _values(named: Any) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(item.name)}</td><td><pre>{html.escape(repr(literals.to_python(item.value)))}</pre></td></tr>"
        for item in named.literals
    )
    return f"<table>{rows}</table>" if rows else "<p>none</p>"


def _run_page(record: RunRecord) -> Page:
    phase = phase_name(record.phase)
    rows = [
        ("Run", html.escape(record.run_id.name)),
        ("Project / domain", html.escape(f"{record.run_id.project} / {record.run_id.domain}")),
        ("Phase", f"<span class='{phase}'>{phase}</span>"),
        ("Task", html.escape(f"{record.task_id.name} ({record.task_id.version or 'inline spec'})")),
        ("Trigger", html.escape(record.trigger_name)),
        ("Created", _time(record.created_at)),
        ("Started", _time(record.started_at)),
        ("Ended", _time(record.ended_at)),
    ]
    if record.error is not None and record.error.message:
        rows.append(("Error", f"<pre>{html.escape(record.error.code + ': ' + record.error.message)}</pre>"))
    if record.abort_reason:
        rows.append(("Abort reason", html.escape(record.abort_reason)))
    table = "".join(f"<tr><th>{label}</th><td>{value}</td></tr>" for label, value in rows)
    outputs = _values(record.outputs or common_pb2.Outputs())
    body = f"<h1>Run {html.escape(record.run_id.name)}</h1><table>{table}</table>"
    body += f"<h2>Inputs</h2>{_values(record.inputs)}<h2>Outputs</h2>{outputs}"
    return _page(f"Run {record.run_id.name}", body, refresh=not record.terminal)


def _list_page(store: Store, project: str = "", domain: str = "") -> Page:
    rows = "".join(
        f"<tr><td><a href='{run_path(r.run_id.project, r.run_id.domain, r.run_id.name)}'>"
        f"{html.escape(r.run_id.name)}</a></td><td>{html.escape(r.run_id.project)}</td>"
        f"<td>{html.escape(r.run_id.domain)}</td><td>{html.escape(r.task_id.name)}</td>"
        f"<td class='{phase_name(r.phase)}'>{phase_name(r.phase)}</td><td>{_time(r.created_at)}</td></tr>"
        for r in store.list_runs(project, domain)
    )
    head = "<tr><th>Run</th><th>Project</th><th>Domain</th><th>Task</th><th>Phase</th><th>Created</th></tr>"
    return _page("Runs", f"<h1>Runs</h1><table>{head}{rows}</table>")


def render(store: Store, target: str) -> Page:
    """The page for a request target (path and query) under ``/v2`` or ``/``."""
    path = urllib.parse.urlsplit(target).path.rstrip("/")
    parts = [urllib.parse.unquote(part) for part in path.split("/")[2:]]  # after "" and "v2"
    if path in ("", PREFIX):
        return _list_page(store)
    if len(parts) >= 5 and parts[0] == "domain" and parts[2] == "project" and parts[4] == "runs":
        domain, project = parts[1], parts[3]
        if len(parts) == 5:
            return _list_page(store, project, domain)
        if len(parts) == 6:
            record = store.get_run(project, domain, parts[5])
            if record is not None:
                return _run_page(record)
            return 404, "text/html; charset=utf-8", f"run {html.escape(parts[5])} not found".encode()
    return 404, "text/plain; charset=utf-8", b"not found"
