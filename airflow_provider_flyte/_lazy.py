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


class LazyModule:
    """A module imported on its first attribute access, for modules that only running tasks need.

    DAG files import the operator and sensor modules, and a DAG processor parses them often; what only ``execute``
    uses is named through a ``LazyModule`` instead of imported, and costs nothing at parse time. Import it under
    ``TYPE_CHECKING`` too, so type checkers see the real module::

        if TYPE_CHECKING:
            from airflow_provider_flyte.operators import _lineage
        else:
            _lineage = LazyModule("airflow_provider_flyte.operators._lineage")

    Each access goes through ``importlib.import_module``: a ``sys.modules`` lookup once imported, and the module's
    import lock while it is being imported, so a thread never sees it half-initialized.

    Args:
        name: The module's full name.
    """

    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str) -> Any:
        return getattr(importlib.import_module(self._name), attribute)

    def __repr__(self) -> str:
        return f"<lazy module {self._name!r}>"
