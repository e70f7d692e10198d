"""The teacher's page, ``/dashboard``, and the small JSON API behind it (``/dashboard/api/...``).

Every API call needs the admin token (``Authorization: Bearer iwa_...``); participant tokens are
refused here, and the admin token is refused on ``/v1``. The page itself holds no data: it asks
for the token (or reads it from the URL's ``#token=`` fragment, which browsers never send to a
server), keeps it in the tab's ``sessionStorage`` and polls ``/dashboard/api/state`` every two seconds.

    GET  /dashboard/api/state                         participants (with their moderation refusals), spend,
                                                      requests, newest images, the line and the key's limits
    GET  /dashboard/api/images/{id}                   a gallery thumbnail (JPEG)
    POST /dashboard/api/participants/{id}/revoke      {"revoked": true|false}
    POST /dashboard/api/participants/{id}/budget      {"budget_usd": 3.5}
    POST /dashboard/api/pause                         {"paused": true|false}
"""

from __future__ import annotations

import json
import math
import time
from typing import Any, Callable

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from .dashboard_page import PAGE
from .rules import ClassRules
from .store import GatewayStore

__all__ = ["Dashboard"]

_NO_STORE = {"cache-control": "no-store", "x-imagewidgets-gateway": "class"}


def _error(status: int, message: str, code: str) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": "invalid_request_error", "param": None,
                                   "code": code}}, status_code=status, headers=_NO_STORE)


class Dashboard:
    """The teacher's view of the store (and the limiter, for requests in flight)."""

    def __init__(self, store: GatewayStore, in_flight: Callable[[int], int] | None = None,
                 upstream: str = "", line: Callable[[], dict] | None = None) -> None:
        self.store = store
        self.in_flight = in_flight or (lambda pid: 0)
        self.upstream = upstream
        #: the class's line (gateway/queue.py ``FairQueue.snapshot``): who waits, the limits, the waits
        self.line = line or (lambda: {})

    def routes(self) -> list[Route]:
        return [
            Route("/dashboard", self.page, methods=["GET"]),
            Route("/dashboard/api/state", self._admin(self.state), methods=["GET"]),
            Route("/dashboard/api/images/{image_id:int}", self._admin(self.image), methods=["GET"]),
            Route("/dashboard/api/participants/{pid:int}/revoke", self._admin(self.revoke), methods=["POST"]),
            Route("/dashboard/api/participants/{pid:int}/budget", self._admin(self.budget), methods=["POST"]),
            Route("/dashboard/api/pause", self._admin(self.pause), methods=["POST"]),
        ]

    def _admin(self, handler: Callable[[Request], Any]) -> Callable[[Request], Any]:
        async def guarded(request: Request) -> Response:
            auth = request.headers.get("authorization", "")
            token = auth[7:].strip() if auth[:7].lower() == "bearer " else ""
            if not self.store.is_admin(token):
                return _error(401, "The dashboard needs the teacher's admin token (it starts with iwa_; "
                              "`imagewidgets gateway admin-token` makes a new one).", "admin_token_required")
            return await handler(request)

        return guarded

    async def page(self, request: Request) -> Response:
        return HTMLResponse(PAGE, headers={**_NO_STORE, "content-security-policy":
                                           "default-src 'self'; img-src 'self' blob:; style-src 'unsafe-inline'; "
                                           "script-src 'unsafe-inline'"})

    async def state(self, request: Request) -> Response:
        rows = self.store.summary()
        refused: dict[int, list[dict]] = {}
        for m in self.store.moderations():
            refused.setdefault(m["participant_id"], []).append(
                {"stage": m["stage"], "categories": m["categories"], "endpoint": m["endpoint"], "at": m["created_at"]})
        for row in rows:
            row["in_flight"] = self.in_flight(row["id"])
            row["moderation"] = refused.get(row["id"], [])
            row["left_usd"] = max(0.0, row["budget_usd"] - row["spent_usd"] - row["reserved_usd"])
        try:
            after = int(request.query_params.get("images_after", "0"))
        except ValueError:
            after = 0
        rules = ClassRules.from_json(self.store.get_setting("rules"))
        recent = [{k: r[k] for k in ("id", "label", "endpoint", "model", "state", "reserved_usd", "charged_usd",
                                     "status", "note", "created_at")} for r in self.store.ledger(limit=30)]
        body = {
            "now": time.time(),
            "paused": bool(self.store.get_setting("paused", False)),
            "upstream": self.upstream,
            "rules": rules.to_json(),
            "participants": rows,
            "totals": {"spent_usd": sum(r["spent_usd"] for r in rows),
                       "reserved_usd": sum(r["reserved_usd"] for r in rows),
                       "budget_usd": sum(r["budget_usd"] for r in rows),
                       "requests": sum(r["requests"] for r in rows),
                       "refused": sum(r["refused"] for r in rows)},
            "recent": recent,
            "refusals": [{k: r[k] for k in ("id", "label", "code", "message", "what", "created_at")}
                         for r in self.store.refused_requests(limit=30)],
            "images": self.store.images(limit=24, after=after),
            "line": self.line(),
        }
        return JSONResponse(body, headers=_NO_STORE)

    async def image(self, request: Request) -> Response:
        found = self.store.image(request.path_params["image_id"])
        if found is None:
            return _error(404, "No such image (the gallery keeps the newest).", "not_found")
        mime, data = found
        return Response(data, media_type=mime, headers=_NO_STORE)

    async def _json(self, request: Request) -> dict:
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError:
            body = None
        return body if isinstance(body, dict) else {}

    async def revoke(self, request: Request) -> Response:
        pid = request.path_params["pid"]
        if self.store.participant(pid) is None:
            return _error(404, f"No participant {pid}.", "not_found")
        revoked = (await self._json(request)).get("revoked", True) is not False
        self.store.revoke(pid, revoked)
        return JSONResponse({"id": pid, "revoked": revoked}, headers=_NO_STORE)

    async def budget(self, request: Request) -> Response:
        pid = request.path_params["pid"]
        if self.store.participant(pid) is None:
            return _error(404, f"No participant {pid}.", "not_found")
        value = (await self._json(request)).get("budget_usd")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
            return _error(400, "budget_usd must be a number of dollars, 0 or more.", "invalid_value")
        self.store.set_budget(pid, float(value))
        return JSONResponse({"id": pid, "budget_usd": float(value)}, headers=_NO_STORE)

    async def pause(self, request: Request) -> Response:
        paused = (await self._json(request)).get("paused", True) is not False
        self.store.set_setting("paused", paused)
        return JSONResponse({"paused": paused}, headers=_NO_STORE)
