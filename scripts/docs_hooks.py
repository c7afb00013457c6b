"""MkDocs hooks of the documentation site (``hooks:`` in ``mkdocs.yml``)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

# Pages that include a file of the repository root (``--8<-- "CHANGELOG.md"``). That file links to the docs as
# ``docs/page.md``, which works on GitHub; on the site the links must be relative to the including page.
ROOT_INCLUDES = {"changelog.md"}
_INCLUDE = re.compile(r'^--8<-- "(?P<path>[^"]+)"$', re.MULTILINE)


def on_page_markdown(markdown: str, *, page: Any, config: Any, **kwargs: Any) -> str:
    """Include the root files of ``ROOT_INCLUDES`` pages here, their ``docs/`` links made page-relative.

    Done before Markdown conversion, so the strict build validates those links like any other.
    """
    if page.file.src_uri not in ROOT_INCLUDES:
        return markdown
    root = Path(config.config_file_path).parent

    def include(match: re.Match[str]) -> str:
        text = (root / match["path"]).read_text(encoding="utf-8")
        return re.sub(r"\]\(docs/", "](", text)

    return _INCLUDE.sub(include, markdown)
