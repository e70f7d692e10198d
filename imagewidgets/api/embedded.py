"""The embedded backend's starter: how a client with no key and no base URL gets a server to talk to.

The api layer never imports the offline twin (it sits beside api and reads api's costs and
results, so an import back would tie both layers into one circle). Instead a layer above both
registers a starter here: ``imagewidgets/__init__.py``, which Python always runs first, registers
one that imports ``imagewidgets.offline.server`` only when called, on a client's first request.

    >>> from imagewidgets.api import embedded
    >>> embedded.set_starter(lambda: "http://127.0.0.1:40123/v1")   # doctest: +SKIP
    >>> embedded.base_url()                                         # doctest: +SKIP
    'http://127.0.0.1:40123/v1'
"""

from __future__ import annotations

from typing import Callable

from .errors import APIConnectionError

__all__ = ["Starter", "set_starter", "base_url"]

#: starts the embedded backend if it is not running and returns its base URL (``http://127.0.0.1:PORT/v1``)
Starter = Callable[[], str]

_starter: Starter | None = None


def set_starter(starter: Starter | None) -> Starter | None:
    """Register what starts the embedded backend (``None``: none). Returns the one it replaces."""
    global _starter
    previous, _starter = _starter, starter
    return previous


def base_url() -> str:
    """The embedded backend's base URL, starting it on first use."""
    if _starter is None:
        raise APIConnectionError("no embedded backend is registered: set OPENAI_API_KEY or a base_url")
    return _starter()
