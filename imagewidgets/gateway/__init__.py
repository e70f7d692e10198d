"""The classroom gateway: the teacher runs it with the one real API key; each participant gets a
token with a budget, and talks to ``/v1`` on the gateway exactly as to the API (streams included).

Layer: imports ``imagewidgets.api`` (the HTTP module, the model table, cost estimates, errors'
shapes) and nothing above it; it starts ``imagewidgets.offline`` lazily, inside a function, for
``--upstream offline`` rehearsals. Nothing imports the gateway except the command line.

    >>> from imagewidgets.gateway import GatewayServer
    >>> with GatewayServer(upstream="offline") as gw:                       # doctest: +SKIP
    ...     [(who, token)] = gw.store.add_participants(1, budget_usd=2)
    ...     print(gw.base_url, token)                  # OPENAI_BASE_URL and OPENAI_API_KEY for one participant

Modules: ``proxy`` (the /v1 routes), ``bodies`` (reading requests), ``relay`` (forwarding streams),
``tap`` (watching streams), ``pricing`` (reserve, settle),
``rules`` (allow-lists, limits, refusals), ``queue`` (the fair line within the key's limits), ``line``
(the proxy's way through it; a waiting stream's place), ``moderation`` (refusals noted per participant),
``store`` (SQLite: tokens, ledger, ownership, gallery),
``dashboard`` + ``dashboard_page`` (the teacher's page), ``app``, ``server``, ``slips``, ``cli``.
"""

from __future__ import annotations

from .._lazy import lazy_exports

__all__ = ["ClassRules", "GatewayServer", "GatewayStore", "create_app"]

__getattr__, __dir__ = lazy_exports(
    __name__, {"ClassRules": "rules", "GatewayServer": "server", "GatewayStore": "store", "create_app": "app"},
    globals())
