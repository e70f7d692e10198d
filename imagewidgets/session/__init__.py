"""The session layer: the record of work. A ``Session`` is a tree of turns kept in a SQLite store
(``store``, ``migrations``; in memory ``tree``), recorded by ``recorder`` (``turns``: its public
``begin``/``finish``/``fail`` serve the session's verbs and the sweep alike), answered from the store when a
request repeats (``replay``), run as grids (``sweep``) and looked back on (``report``: history,
lineage, exports). ``pins`` keeps the pictures every later turn sends as references, and
``storyboard`` makes one turn per panel of a strip.

May import: the ``api`` layer below it and the standard library. Never imports ``magics``,
``widgets`` or ``offline``. Views and exports (``report``, ``sweep``) import the session core,
never the reverse.

    >>> from imagewidgets.session import Session           # doctest: +SKIP
    >>> s = Session("harbour"); s.imagine("a lighthouse")   # doctest: +SKIP
"""

from __future__ import annotations

from .._lazy import lazy_exports

#: public name -> module (relative to this package) that defines it
_EXPORTS = {
    "Session": "session",
    "Turn": "turns",
    "configure": "session",
    "default_session": "session",
    "settings": "session",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
