"""The asyncio friendly client is generated from the synchronous one: the committed modules must be up to date."""

from __future__ import annotations

import difflib
import importlib.util
import sys
import textwrap
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "generate_async_client.py"
REGENERATE = "run python scripts/generate_async_client.py"


@pytest.fixture(scope="module")
def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("generate_async_client", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    return module


def test_generated_async_client_is_up_to_date(generator: ModuleType) -> None:
    problems = []
    for target, expected in generator.render_all().items():
        name = target.relative_to(ROOT).as_posix()
        committed = target.read_text(encoding="utf-8") if target.exists() else ""
        if committed != expected:
            diff = difflib.unified_diff(
                committed.splitlines(), expected.splitlines(), f"{name} (committed)", f"{name} (generated)", lineterm=""
            )
            problems.append(f"{name} is stale: {REGENERATE}\n" + "\n".join(list(diff)[:40]))
    assert not problems, "\n\n".join(problems)


def test_every_generated_module_says_so(generator: ModuleType) -> None:
    for pair in generator.PAIRS:
        head = (generator.CLIENTS / pair.target).read_text(encoding="utf-8").splitlines()[:2]
        assert pair.source in head[0], pair.target
        assert "Do not edit" in head[1], pair.target
        assert "python scripts/generate_async_client.py" in head[1], pair.target


SYNC_SAMPLE = '''
"""Base of :class:`~airflow_provider_flyte.clients.friendly.SynchronousFlyteClient` (``_friendly_base``)."""

from collections.abc import Iterator

from airflow_provider_flyte.clients.raw import RawSynchronousFlyteClient


class _SynchronousFlyteClientBase:
    """The friendly client, like ``flytekit.clients.friendly.SynchronousFlyteClient``."""

    raw: RawSynchronousFlyteClient

    def close(self) -> None:
        self._raw.close()

    def __enter__(self) -> "_SynchronousFlyteClientBase":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def get_thing(self, name: str) -> int:
        return self._run(build(name))

    def paginate(self, list_page: ListPage[int]) -> Iterator[int]:
        items, _ = list_page(token="")
        yield from items

    def iter_things(self) -> Iterator[int]:
        return self.paginate(self.list_things)

    def clear(self) -> None:
        self._cache.clear()
'''

ASYNC_SAMPLE = '''
"""Base of :class:`~airflow_provider_flyte.clients.aio.AsyncFlyteClient` (``_aio_base``)."""

from collections.abc import AsyncIterator

from airflow_provider_flyte.clients.raw import RawAsyncFlyteClient


class _AsyncFlyteClientBase:
    """The friendly client, like ``flytekit.clients.friendly.SynchronousFlyteClient``."""

    raw: RawAsyncFlyteClient

    async def close(self) -> None:
        await self._raw.close()

    async def __aenter__(self) -> "_AsyncFlyteClientBase":
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def get_thing(self, name: str) -> int:
        return await self._run(build(name))

    async def paginate(self, list_page: AsyncListPage[int]) -> AsyncIterator[int]:
        items, _ = await list_page(token="")
        for item in items:
            yield item

    def iter_things(self) -> AsyncIterator[int]:
        return self.paginate(self.list_things)

    def clear(self) -> None:
        self._cache.clear()
'''


def test_rewrite_rules(generator: ModuleType) -> None:
    assert generator.rename(generator.make_async(SYNC_SAMPLE)) == ASYNC_SAMPLE


def test_unsupported_constructs_fail_loudly(generator: ModuleType) -> None:
    awaited_in_yield_from = textwrap.dedent(
        """
        class C:
            def paginate(self):
                yield from list_page()
        """
    )
    with pytest.raises(generator.GenerationError, match="overlapping"):
        generator.make_async(awaited_in_yield_from)
    awaited_in_lambda = textwrap.dedent(
        """
        class C:
            def later(self):
                return lambda: self._run(call)
        """
    )
    with pytest.raises(generator.GenerationError, match="nested function or lambda"):
        generator.make_async(awaited_in_lambda)
    awaited_then_used = textwrap.dedent(
        """
        class C:
            def name(self):
                return self._run(call).name
        """
    )
    with pytest.raises(generator.GenerationError, match="only after the call"):
        generator.make_async(awaited_then_used)
    stale_edit = generator.Pair("friendly.py", "aio.py", doc_edits=(("no such text", "x"),))
    with pytest.raises(generator.GenerationError, match="must match exactly once"):
        generator.generate('"""Doc."""\n', stale_edit)
