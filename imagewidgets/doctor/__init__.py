"""``imagewidgets doctor``: what works on this machine, and how the configured API compares with
the offline twin.

    $ imagewidgets doctor            # local checks, one line each: ok / warn / fail and the fix
    $ imagewidgets doctor --live     # a few cents against the configured API, compared with offline

    %imagine_doctor                  # the local checks, in a notebook

May import: the ``api`` layer (configuration, client, requests, cost), ``session.store`` (where
images are kept) and ``offline`` (the twin it compares with). Nothing imports it but the command
line and the magics, lazily.
"""

from __future__ import annotations

from .._lazy import lazy_exports

#: public name -> module (relative to this package) that defines it
_EXPORTS = {
    "Check": "checks",
    "LiveReport": "live",
    "run_checks": "checks",
    "run_live": "live",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
