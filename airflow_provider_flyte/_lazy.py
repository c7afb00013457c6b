"""PEP 562 lazy attributes, shared by the packages that export names without importing their modules."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(package: str, exports: Mapping[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """Return a module ``__getattr__`` and ``__dir__`` that import each exported name on first use.

    Args:
        package: The exporting module's ``__name__``.
        exports: Public name -> module that defines it.

    Returns:
        ``(__getattr__, __dir__)`` to assign at the exporting module's top level. A resolved name is stored in the
        module's globals, so later lookups cost nothing.
    """

    def __getattr__(name: str) -> Any:
        module_name = exports.get(name)
        if module_name is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module_name), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(exports))

    return __getattr__, __dir__
