"""HTML building blocks for the console: escaping by construction, tags, tables, links and the page layout.

Every piece of text goes through :func:`esc` unless it is already :class:`Html` (markup these helpers built), so a
value from the store can never become markup: ``tag("td", "<script>")`` renders ``<td>&lt;script&gt;</td>``.
"""

from __future__ import annotations

import datetime
import html
import json
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import quote

from google.protobuf import duration_pb2, timestamp_pb2

CONSOLE_PREFIX = "/console"
"""Where the console lives on the sandbox's HTTP side."""

STYLESHEET_PATH = f"{CONSOLE_PREFIX}/static/console.css"
"""The URL path of the console's stylesheet."""

_VOID = frozenset({"meta", "link", "br", "hr", "input"})


class Html(str):
    """A string of markup that is already safe: :func:`esc` and :func:`tag` leave it as it is."""

    __slots__ = ()


def esc(value: object) -> Html:
    """Escape ``value`` for HTML text or an attribute (``&``, ``<``, ``>``, quotes); :class:`Html` passes through."""
    if isinstance(value, Html):
        return value
    return Html(html.escape(str(value), quote=True))


def join(parts: Iterable[object], separator: str = "") -> Html:
    """Concatenate escaped ``parts`` with a (literal markup) ``separator``."""
    return Html(separator.join(esc(part) for part in parts))


def tag(name: str, *children: object, **attributes: object) -> Html:
    """An element with escaped children and attributes.

    Args:
        name: The tag name (literal markup: never pass user data here).
        *children: Its content, each escaped unless :class:`Html`; ``None`` children are skipped.
        **attributes: Attribute values (escaped); ``class_`` is ``class``, ``http_equiv`` is ``http-equiv``, and
            attributes whose value is ``None`` or ``False`` are left out.

    Returns:
        The element's markup.
    """
    rendered = []
    for key, value in attributes.items():
        if value is None or value is False:
            continue
        attribute = key.rstrip("_").replace("_", "-")
        rendered.append(f' {attribute}="{esc(value)}"')
    opening = f"<{name}{''.join(rendered)}>"
    if name in _VOID:
        return Html(opening)
    return Html(f"{opening}{join(child for child in children if child is not None)}</{name}>")


def link(href: str, text: object, **attributes: object) -> Html:
    """An ``<a>`` to ``href`` (escaped like any attribute) showing ``text``."""
    return tag("a", text, href=href, **attributes)


def table(headers: Sequence[str], rows: Iterable[Sequence[object]], empty: str = "Nothing here.") -> Html:
    """A table with a header row; ``empty`` shown instead when there are no rows."""
    body = [tag("tr", *(tag("td", cell) for cell in row)) for row in rows]
    if not body:
        return tag("p", empty, class_="empty")
    head = tag("thead", tag("tr", *(tag("th", header) for header in headers)))
    return tag("table", head, tag("tbody", *body))


def facts(items: Iterable[tuple[str, object]]) -> Html:
    """A definition list of ``(label, value)`` pairs; pairs whose value is ``None`` or empty are left out."""
    entries: list[Html] = []
    for label, value in items:
        if value is None or value == "":
            continue
        entries.extend((tag("dt", label), tag("dd", value)))
    return tag("dl", *entries, class_="facts")


def section(title: str, *content: object, anchor: str | None = None) -> Html:
    """A titled ``<section>``."""
    return tag("section", tag("h2", title), *content, id=anchor)


def path(*segments: str) -> str:
    """A console URL path from raw segments, each percent-encoded as :mod:`airflow_provider_flyte.remote.console`.

    Example: ``path("projects", "p", "domains", "d")`` -> ``/console/projects/p/domains/d``.
    """
    return CONSOLE_PREFIX + "".join("/" + quote(segment, safe="-._~=") for segment in segments)


def phase_badge(phase: str) -> Html:
    """The phase name in a coloured ``<span class="phase phase-NAME">``."""
    return tag("span", phase, class_=f"phase phase-{phase}")


def page(
    title: str, body: Html, *, heading: object = None, refresh: int | None = None, nav: Html | None = None
) -> Html:
    """A whole HTML document.

    Args:
        title: The ``<title>`` text.
        body: The page content under the heading.
        heading: The ``<h1>`` content; ``title`` when ``None``.
        refresh: Reload the page every this many seconds (a running execution); ``None`` for no reload.
        nav: Navigation links (see :func:`crumbs`) shown above the heading.

    Returns:
        The document, doctype included.
    """
    head = tag(
        "head",
        tag("meta", charset="utf-8"),
        tag("meta", http_equiv="refresh", content=str(refresh)) if refresh is not None else None,
        tag("title", f"{title} - Flyte sandbox console"),
        tag("link", rel="stylesheet", href=STYLESHEET_PATH),
    )
    header = tag("header", link(CONSOLE_PREFIX, "Flyte sandbox console", class_="brand"), tag("nav", nav or ""))
    main = tag("main", tag("h1", title if heading is None else heading), body)
    return Html(f"<!DOCTYPE html>\n{tag('html', head, tag('body', header, main), lang='en')}\n")


def crumbs(project: str | None = None, domain: str | None = None, *extra: tuple[str, str]) -> Html:
    """Breadcrumb links: projects, then the project/domain, then ``(href, text)`` pairs."""
    items = [link(CONSOLE_PREFIX, "Projects")]
    if project is not None and domain is not None:
        items.append(link(path("projects", project, "domains", domain), f"{project} / {domain}"))
    items.extend(link(href, text) for href, text in extra)
    return join(items, " &rsaquo; ")


# Values ----------------------------------------------------------------------------------------------------------


def when(stamp: timestamp_pb2.Timestamp) -> str:
    """A protobuf timestamp as ``YYYY-MM-DD HH:MM:SS.mmm UTC``; empty when unset."""
    if stamp.seconds == 0 and stamp.nanos == 0:
        return ""
    moment = datetime.datetime.fromtimestamp(stamp.seconds + stamp.nanos / 1e9, tz=datetime.timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{moment.microsecond // 1000:03d} UTC"


def seconds_text(seconds: float) -> str:
    """A length of time for people: ``0.42 s``, ``12.3 s``, ``4 min 05 s``, ``2 h 03 min``."""
    if seconds < 10:
        return f"{seconds:.2f} s"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {rest:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def duration_text(duration: duration_pb2.Duration) -> str:
    """A protobuf duration for people (see :func:`seconds_text`)."""
    return seconds_text(duration.seconds + duration.nanos / 1e9)


def value_html(value: Any) -> Html:
    """A decoded (JSON-able) value: strings as text, everything else as JSON (multi-line when long)."""
    if isinstance(value, str):
        return tag("span", value, class_="value")
    compact = json.dumps(value, ensure_ascii=False, sort_keys=True)
    if len(compact) <= 80:
        return tag("code", compact, class_="value")
    return tag("pre", json.dumps(value, ensure_ascii=False, sort_keys=True, indent=2), class_="value")
