"""The offline backend: an HTTP app speaking OpenAI's image API, drawing pictures procedurally (no AI).

May import: the ``api`` layer (the model table, the endpoints, validation), starlette, uvicorn,
anyio, Pillow and numpy. The api layer never imports it: a client with no key starts the embedded
server through ``api/embedded.py``'s starter, which ``imagewidgets/__init__.py`` points at
``server.embedded_base_url``. Nothing heavy is imported here; import ``imagewidgets.offline.render`` or
the app module directly.
The names below are loaded on first use:

    >>> from imagewidgets.offline import OfflineServer, embedded_base_url   # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["OfflineConfig", "OfflineServer", "create_app", "embedded_base_url"]

_LAZY = {
    "OfflineConfig": "config",
    "OfflineServer": "server",
    "embedded_base_url": "server",
    "create_app": "app",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
