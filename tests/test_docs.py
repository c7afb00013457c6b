"""The documentation site stays whole: every page in the nav, every public module documented, README links valid.

``mkdocs build --strict`` (part of ``scripts/dev.py test``) checks the links and anchors between pages, nav entries
that point nowhere and the docstrings; these tests check what it cannot: pages it would only mention at INFO level,
modules nobody wrote a page for, example DAGs no page shows, and the README, which is not part of the site.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
API = DOCS / "api"
EXAMPLE_DAGS = ROOT / "flyte-admin-sandbox" / "flyte_admin_sandbox" / "example_dags"

# The sandbox's public API; its other modules are the emulator's internals.
SANDBOX_MODULES = {
    "flyte_admin_sandbox",
    "flyte_admin_sandbox.builders",
    "flyte_admin_sandbox.faults",
    "flyte_admin_sandbox.pytest_plugin",
    "flyte_admin_sandbox.server",
    "flyte_admin_sandbox.v2",
}


class _Loader(yaml.SafeLoader):
    """Reads mkdocs.yml, whose MkDocs-specific tags (``!relative``) do not matter here."""


_Loader.add_multi_constructor("!", lambda loader, suffix, node: None)


def _nav_files(items: Any) -> list[str]:
    files: list[str] = []
    for item in items if isinstance(items, list) else [items]:
        if isinstance(item, str):
            files.append(item)
        elif isinstance(item, dict):
            for value in item.values():
                files += _nav_files(value)
    return files


def _nav() -> list[str]:
    config = yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=_Loader)
    return _nav_files(config["nav"])


def _public_provider_modules() -> set[str]:
    """Modules of ``airflow_provider_flyte`` with no underscore in their path that define something."""
    modules = set()
    for path in (ROOT / "airflow_provider_flyte").rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        if any(part.startswith("_") for part in parts):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        if any(not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)) for node in tree.body):
            modules.add(".".join(parts))
    return modules


def test_every_page_is_in_the_nav() -> None:
    pages = {path.relative_to(DOCS).as_posix() for path in DOCS.rglob("*.md")}
    missing = sorted(pages - set(_nav()))
    assert not missing, f"pages not in mkdocs.yml's nav: {missing}"


def test_the_nav_lists_each_page_once() -> None:
    nav = _nav()
    assert len(nav) == len(set(nav)), sorted({page for page in nav if nav.count(page) > 1})


def test_every_public_module_has_an_api_page() -> None:
    pages = {path.stem for path in API.glob("*.md")}
    expected = _public_provider_modules() | SANDBOX_MODULES
    missing = expected - pages
    assert not missing, f"write docs/api/<module>.md (`::: <module>`) and add it to the nav: {missing}"
    assert not pages - expected, f"API pages of modules that are gone or private: {pages - expected}"


@pytest.mark.parametrize("page", sorted(API.glob("*.md")), ids=lambda path: path.stem)
def test_an_api_page_documents_its_module(page: Path) -> None:
    assert re.search(rf"^::: {re.escape(page.stem)}$", page.read_text(encoding="utf-8"), re.MULTILINE)


def test_every_example_dag_is_shown_in_the_docs() -> None:
    included = "\n".join(path.read_text(encoding="utf-8") for path in DOCS.glob("*.md"))
    for dag in sorted(EXAMPLE_DAGS.glob("example_*.py")):
        include = f'--8<-- "{dag.relative_to(ROOT).as_posix()}"'
        assert include in included, f"no docs page includes {dag.name} ({include})"


def _github_slug(heading: str) -> str:
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def test_every_readme_link_target_exists() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    anchors = {_github_slug(line.lstrip("#")) for line in readme.splitlines() if line.startswith("#")}
    links = re.findall(r"\[[^\]]*\]\(([^)\s]+)\)", readme)
    assert links
    for link in links:
        if re.match(r"[a-z]+:", link):
            continue  # an absolute URL
        target, _, anchor = link.partition("#")
        if not target:
            assert anchor in anchors, f"README links to #{anchor}, which is no heading of it"
            continue
        assert (ROOT / target).exists(), f"README links to {link}, which does not exist"
        if target.startswith("docs/") and target.endswith(".md"):
            assert target.removeprefix("docs/") in _nav(), f"README links to {target}, which is not in the site"
