"""Jupyter widgets of imagewidgets, imported on first use so ``import imagewidgets`` stays light.

    >>> from imagewidgets.widgets import MaskPainter   # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import Any

#: public name -> module (relative to this package) that defines it; adding a widget is one line
_EXPORTS = {
    "Gallery": ".gallery",
    "ImageStudio": ".studio",
    "LiveImage": ".live",
    "MaskPainter": ".mask",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value  # later look-ups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
