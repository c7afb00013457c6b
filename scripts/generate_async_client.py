#!/usr/bin/env python3
"""Generate the asyncio friendly client from the synchronous one, so the twins cannot drift.

    python scripts/generate_async_client.py          # rewrite the generated modules
    python scripts/generate_async_client.py --check  # exit 1, naming the stale modules, when they are out of date

The synchronous modules under ``airflow_provider_flyte/clients/`` are the hand-written source; their asyncio twins
are real source text (read by mypy, IDEs and the docs) rewritten from them, unasync-style:

* a method that calls one of :data:`AWAITED` becomes ``async def`` and those calls get ``await``; ``__enter__`` and
  ``__exit__`` become ``async def __aenter__`` / ``__aexit__``; ``yield from x`` in such a method becomes
  ``for item in x: yield item`` (so ``paginate`` becomes an async generator and the ``iter_*`` helpers, which only
  return ``self.paginate(...)``, stay plain methods returning async iterators);
* names are renamed token by token (:data:`NAME_RENAMES`, and ``SynchronousFlyteClient`` becomes ``AsyncFlyteClient``
  inside any name, e.g. ``RawSynchronousFlyteClient``), in code, strings and comments alike;
* what is genuinely different in the asyncio client's text (its module docstring, a few docstring words) is written
  out below in :data:`PAIRS`, each edit required to apply exactly once, so a change to the source that breaks one
  fails here instead of passing silently;
* the result is import-sorted and formatted with the project's ruff settings, and starts with a header naming its
  source and this script.

``tests/clients/test_generated_client.py`` regenerates in memory and fails while a committed module is stale.
"""

from __future__ import annotations

import argparse
import ast
import io
import re
import subprocess
import sys
import tokenize
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLIENTS = ROOT / "airflow_provider_flyte" / "clients"
COMMAND = "python scripts/generate_async_client.py"

AWAITED = frozenset({"self._run", "self.close", "self._raw.close", "list_page", "rpc"})
"""Calls that are coroutines in the asyncio client: the call runner, closing, a page read, the RPC itself."""

ASYNC_DUNDERS = {"__enter__": "__aenter__", "__exit__": "__aexit__"}

NAME_RENAMES = {
    "Iterator": "AsyncIterator",
    "ListPage": "AsyncListPage",
    **ASYNC_DUNDERS,
}
"""Whole-name renames of identifiers (module names of the pairs are added from :data:`PAIRS`)."""

_CLIENT_WORD = re.compile(r"(?<!flytekit\.clients\.friendly\.)SynchronousFlyteClient")
_V2_CLIENT_WORD = re.compile(r"(?<!Async)Flyte2Client")
"""Renames the Flyte 2 client's names: ``Flyte2Client`` -> ``AsyncFlyte2Client``, ``RawFlyte2Client`` likewise."""

AIO_MODULE_DOCSTRING = """\
The asyncio twin of the friendly client, for triggers and other code running in an event loop.

:class:`AsyncFlyteClient` has the methods of :class:`~airflow_provider_flyte.clients.friendly.SynchronousFlyteClient`
with the same arguments, defaults, results and descriptions, as coroutines; the ``iter_*`` helpers and
:meth:`~AsyncFlyteClient.paginate` return async iterators. Both build their requests and parse their responses with
the same functions (:mod:`airflow_provider_flyte.clients._calls`), and both get retries, deadlines, auth and error
mapping from the raw layer, here :class:`~airflow_provider_flyte.clients.raw.RawAsyncFlyteClient` on a grpc.aio
channel.

This module, ``_aio_base`` and ``_aio_definitions`` are generated from the synchronous client's modules
(``friendly``, ``_friendly_base``, ``_friendly_definitions``) by ``scripts/generate_async_client.py``.

grpc.aio channels belong to the event loop they were created in, so create the client inside the loop that uses it.

Example:
    >>> async with AsyncFlyteClient("localhost:30080", insecure=True) as client:  # doctest: +SKIP
    ...     async for execution in client.iter_executions("flytesnacks", "development"):
    ...         print(execution.id.name, execution.closure.phase)
"""


V2_AIO_MODULE_DOCSTRING = """\
The asyncio twin of the friendly Flyte 2 client, for triggers and other code running in an event loop.

:class:`AsyncFlyte2Client` has the methods of :class:`~airflow_provider_flyte.clients.v2.friendly.Flyte2Client` with
the same arguments, defaults, results and descriptions, as coroutines; ``watch_run_details``, ``watch_runs``,
``iter_runs`` and :meth:`~AsyncFlyte2Client.paginate` return async iterators. Both build their requests with
:mod:`airflow_provider_flyte.clients.v2._calls` and get retries, deadlines, auth, error mapping and stream
reconnects from the raw layer, here :class:`~airflow_provider_flyte.clients.v2.raw.RawAsyncFlyte2Client` on a
grpc.aio channel.

This module and ``_aio_base`` are generated from ``friendly`` and ``_friendly_base`` by
``scripts/generate_async_client.py``. Create the client inside the event loop that uses it.

Example:
    >>> async with AsyncFlyte2Client(PlatformConfig.from_api_key()) as client:  # doctest: +SKIP
    ...     async for details in client.watch_run_details("flytesnacks:development:nightly-1"):
    ...         print(RunPhase.of(details.action.status.phase).name)
"""


@dataclass(frozen=True)
class Pair:
    """One synchronous source module under ``clients/`` and the asyncio module generated from it."""

    source: str
    target: str
    module_docstring: str | None = None
    """Replaces the module docstring of the source (the text between the triple quotes)."""
    doc_edits: tuple[tuple[str, str], ...] = ()
    """``(old, new)`` texts of the renamed module, each of which must occur exactly once."""


PAIRS = (
    Pair(
        "_friendly_base.py",
        "_aio_base.py",
        doc_edits=(
            (
                "the intercepted stubs (``admin_service``...) this client calls.",
                "the intercepted grpc.aio stubs (``admin_service``...) this client awaits.",
            ),
            ("Close the channel (unless", "Close the channels (unless"),
        ),
    ),
    Pair("_friendly_definitions.py", "_aio_definitions.py"),
    Pair(
        "friendly.py",
        "aio.py",
        module_docstring=AIO_MODULE_DOCSTRING,
        doc_edits=(
            ("Pythonic access to Flyte Admin's", "Asyncio access to Flyte Admin's"),
            (
                "nor an endpoint string.\n",
                "nor an endpoint string.\n"
                "        RuntimeError: when created outside a running event loop (and no ``raw`` client is given).\n",
            ),
        ),
    ),
)

PAIRS += (
    Pair(
        "v2/_friendly_base.py",
        "v2/_aio_base.py",
        doc_edits=(
            (
                "the intercepted stubs (``run_service``...) this client calls.",
                "the intercepted grpc.aio stubs (``run_service``...) this client awaits.",
            ),
        ),
    ),
    Pair(
        "v2/friendly.py",
        "v2/aio.py",
        module_docstring=V2_AIO_MODULE_DOCSTRING,
        doc_edits=(
            ("Pythonic access to Flyte 2's", "Asyncio access to Flyte 2's"),
            (
                "nor an endpoint string.\n",
                "nor an endpoint string.\n"
                "        RuntimeError: when created outside a running event loop (and no ``raw`` client is given).\n",
            ),
        ),
    ),
)

_MODULE_RENAMES = {Path(pair.source).stem: Path(pair.target).stem for pair in PAIRS}


class GenerationError(Exception):
    """The source uses something the rewrite rules do not cover, or a docstring edit no longer applies."""


# ---------------------------------------------------------------------------------------------------- async / await


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return None if base is None else f"{base}.{node.attr}"
    return None


def _own_nodes(function: ast.FunctionDef) -> list[ast.AST]:
    """Every node of ``function``'s body, not descending into nested functions, classes or lambdas."""
    found: list[ast.AST] = []
    pending: list[ast.AST] = list(function.body)
    while pending:
        node = pending.pop()
        found.append(node)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            if any(_dotted(call.func) in AWAITED for call in ast.walk(node) if isinstance(call, ast.Call)):
                raise GenerationError(f"line {node.lineno}: an awaited call inside a nested function or lambda")
            continue
        pending.extend(ast.iter_child_nodes(node))
    return found


class _Edits:
    """Text edits at (line, column) positions of one source text, applied from the end."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines(keepends=True)
        self.edits: list[tuple[int, int, int, int, str]] = []

    def char_column(self, line: int, byte_column: int) -> int:
        """Turn ast's UTF-8 byte offset into a character offset."""
        return len(self.lines[line - 1].encode()[:byte_column].decode())

    def add(self, start: tuple[int, int], end: tuple[int, int], text: str) -> None:
        self.edits.append((*start, *end, text))

    def apply(self) -> str:
        lines = list(self.lines)
        previous: tuple[int, int] | None = None
        for line, column, end_line, end_column, text in sorted(self.edits, reverse=True):
            if previous is not None and (end_line, end_column) > previous:
                raise GenerationError(f"overlapping edits at line {line}")
            head = lines[line - 1][:column]
            tail = lines[end_line - 1][end_column:]
            lines[line - 1 : end_line] = [head + text + tail]
            previous = (line, column)
        return "".join(lines)


def _node_span(edits: _Edits, node: ast.stmt | ast.expr) -> tuple[tuple[int, int], tuple[int, int]]:
    assert node.end_lineno is not None
    assert node.end_col_offset is not None
    start = (node.lineno, edits.char_column(node.lineno, node.col_offset))
    return start, (node.end_lineno, edits.char_column(node.end_lineno, node.end_col_offset))


def make_async(source: str) -> str:
    """Turn the methods that do I/O into coroutines: ``async def``, ``await`` and no ``yield from``."""
    tree = ast.parse(source)
    edits = _Edits(source)
    for function in [node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)]:
        nodes = _own_nodes(function)
        awaited = [node for node in nodes if isinstance(node, ast.Call) and _dotted(node.func) in AWAITED]
        if not awaited and function.name not in ASYNC_DUNDERS:
            continue
        for node in nodes:
            primary = node.value if isinstance(node, (ast.Attribute, ast.Subscript)) else getattr(node, "func", None)
            if any(primary is call for call in awaited):
                raise GenerationError(f"{function.name}: use the result of an awaited call only after the call")
        start = (function.lineno, edits.char_column(function.lineno, function.col_offset))
        edits.add(start, start, "async ")
        for call in awaited:
            start, _ = _node_span(edits, call)
            edits.add(start, start, "await ")
        statements = [node for node in nodes if isinstance(node, ast.Expr) and isinstance(node.value, ast.YieldFrom)]
        if sum(isinstance(node, ast.YieldFrom) for node in nodes) != len(statements):
            raise GenerationError(f"{function.name}: only `yield from x` as a statement can be made async")
        for statement in statements:
            start, end = _node_span(edits, statement)
            assert isinstance(statement.value, ast.YieldFrom)
            iterable = ast.get_source_segment(source, statement.value.value)
            edits.add(start, end, f"for item in {iterable}:\n{' ' * start[1]}    yield item")
    return edits.apply()


# ---------------------------------------------------------------------------------------------------- renames


def _rename_text(text: str) -> str:
    text = _V2_CLIENT_WORD.sub("AsyncFlyte2Client", _CLIENT_WORD.sub("AsyncFlyteClient", text))
    for old, new in _MODULE_RENAMES.items():
        # ``clients.friendly`` always; a bare stem only when it cannot be an English word (``_friendly_base``).
        text = re.sub(rf"(?<!flytekit\.)\bclients\.(v2\.)?{old}\b", rf"clients.\g<1>{new}", text)
        if old.startswith("_"):
            text = re.sub(rf"(?<![\w.]){old}\b", new, text)
    return text


def _rename_name(name: str) -> str:
    if name in NAME_RENAMES:
        return NAME_RENAMES[name]
    if name in _MODULE_RENAMES:
        return _MODULE_RENAMES[name]
    return _V2_CLIENT_WORD.sub("AsyncFlyte2Client", name.replace("SynchronousFlyteClient", "AsyncFlyteClient"))


_TEXT_TOKENS = {tokenize.STRING, tokenize.COMMENT} | (
    {tokenize.FSTRING_MIDDLE} if hasattr(tokenize, "FSTRING_MIDDLE") else set()
)


def rename(source: str) -> str:
    """Rename the synchronous names to the asyncio ones, token by token."""
    edits = _Edits(source)
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.NAME:
            renamed = _rename_name(token.string)
        elif token.type in _TEXT_TOKENS:
            renamed = _rename_text(token.string)
        else:
            continue
        if renamed != token.string:
            edits.add(token.start, token.end, renamed)
    return edits.apply()


# ---------------------------------------------------------------------------------------------------- documentation


def _replace_module_docstring(source: str, docstring: str) -> str:
    tree = ast.parse(source)
    first = tree.body[0] if tree.body else None
    if ast.get_docstring(tree, clean=False) is None or first is None or first.end_lineno is None:
        raise GenerationError("the source module has no docstring to replace")
    lines = source.splitlines(keepends=True)
    return "".join([*lines[: first.lineno - 1], f'"""{docstring}"""\n', *lines[first.end_lineno :]])


def _apply_doc_edits(source: str, pair: Pair) -> str:
    for old, new in pair.doc_edits:
        count = source.count(old)
        if count != 1:
            raise GenerationError(
                f"{pair.target}: the docstring edit {old!r} matches {count} times in the renamed {pair.source} "
                "(it must match exactly once); update PAIRS in scripts/generate_async_client.py"
            )
        source = source.replace(old, new)
    return source


def _header(pair: Pair) -> str:
    return (
        f"# Generated from airflow_provider_flyte/clients/{pair.source} by scripts/generate_async_client.py.\n"
        f"# Do not edit: change the synchronous source, then run `{COMMAND}`.\n"
    )


# ---------------------------------------------------------------------------------------------------- driver


def _ruff(arguments: list[str], source: str, target: Path) -> str:
    completed = subprocess.run(
        [sys.executable, "-m", "ruff", *arguments, "--stdin-filename", str(target), "-"],
        input=source,
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    if completed.returncode != 0:
        raise GenerationError(f"ruff {' '.join(arguments)} failed on {target.name}:\n{completed.stderr}")
    return completed.stdout


def generate(source: str, pair: Pair) -> str:
    """The unformatted asyncio module for the synchronous module text ``source``."""
    text = rename(make_async(source))
    if pair.module_docstring is not None:
        text = _replace_module_docstring(text, pair.module_docstring)
    return _header(pair) + _apply_doc_edits(text, pair)


def render_all() -> dict[Path, str]:
    """Every generated module's path and its expected text (sorted imports, formatted)."""
    rendered: dict[Path, str] = {}
    for pair in PAIRS:
        target = CLIENTS / pair.target
        text = generate((CLIENTS / pair.source).read_text(encoding="utf-8"), pair)
        text = _ruff(["check", "--quiet", "--select", "I", "--fix", "--exit-zero"], text, target)
        rendered[target] = _ruff(["format", "--quiet"], text, target)
    return rendered


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="only report stale modules (exit 1 when any is)")
    args = parser.parse_args(argv)
    stale = []
    for target, text in render_all().items():
        current = target.read_text(encoding="utf-8") if target.exists() else None
        if current == text:
            continue
        stale.append(target.relative_to(ROOT))
        if not args.check:
            target.write_text(text, encoding="utf-8")
    verb = "stale" if args.check else "regenerated"
    for path in stale:
        print(f"{verb}: {path}")
    if args.check and stale:
        print(f"run `{COMMAND}`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
