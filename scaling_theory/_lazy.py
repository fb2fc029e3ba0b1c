"""Lazy package attributes (PEP 562), shared by every area's ``__init__``.

``scaling-theory --help`` must not import JAX, so an area package imports a submodule only when one of
its names is first used; the value is then cached in the package's namespace.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any


def attach(
    package: str, exports: Mapping[str, str | tuple[str, str]], submodules: Iterable[str] = ()
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of a package whose names are imported on first use.

    Args:
        package: the package's ``__name__``.
        exports: public name -> submodule that defines it, or ``(submodule, attribute)`` when the
            public name differs from the attribute.
        submodules: submodules reachable as attributes (imported on first use).

    Returns:
        ``(__getattr__, __dir__)`` to assign in the package's namespace; ``__all__`` is the caller's.
    """
    subs = frozenset(submodules)

    def __getattr__(name: str) -> Any:
        if name in subs:
            return importlib.import_module(f"{package}.{name}")
        target = exports.get(name)
        if target is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module, attr = target if isinstance(target, tuple) else (target, name)
        value = getattr(importlib.import_module(f"{package}.{module}"), attr)
        vars(sys.modules[package])[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | subs | set(exports))

    return __getattr__, __dir__
