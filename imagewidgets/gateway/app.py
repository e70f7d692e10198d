"""The gateway as one starlette app: the participants' ``/v1`` and the teacher's ``/dashboard``.

    >>> from imagewidgets.gateway.app import create_app
    >>> from imagewidgets.gateway.store import GatewayStore
    >>> app = create_app(GatewayStore("class.sqlite3"), "https://api.openai.com/v1", key)   # doctest: +SKIP

Serve it with uvicorn (``GatewayServer`` or ``imagewidgets gateway`` do).
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any, AsyncIterator

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from ..api.config import Secret
from ..api.endpoints import API_PREFIX
from .dashboard import Dashboard
from .proxy import Gateway
from .store import GatewayStore

__all__ = ["create_app"]

log = logging.getLogger("imagewidgets.gateway")


def _error(status: int, message: str, code: str | None, type: str = "invalid_request_error") -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": type, "param": None, "code": code}},
                        status_code=status, headers={"x-imagewidgets-gateway": "class"})


async def _http_error(request: Request, exc: Exception) -> Response:
    status = getattr(exc, "status_code", 500)
    if status == 404:
        return _error(404, f"The class gateway does not serve {request.method} {request.url.path}.", "unknown_url")
    return _error(status, f"Method {request.method} is not allowed on {request.url.path}.", None)


async def _crash(request: Request, exc: Exception) -> Response:
    # the type only: an exception's text could quote a header, and headers hold the key
    log.error("gateway error on %s %s: %s", request.method, request.url.path, type(exc).__name__)
    return _error(500, f"The class gateway failed ({type(exc).__name__}). A request that did not reach the image "
                  "service was not charged (one that did is charged at most its reservation); tell the teacher "
                  "if it happens again.",
                  "gateway_error", "server_error")


def create_app(store: GatewayStore, upstream_url: str, api_key: Secret | str, *, organization: str | None = None,
               project: str | None = None, upstream_label: str | None = None) -> Starlette:
    """The ASGI app. ``app.state.gateway`` is the proxy, ``app.state.store`` the SQLite store."""
    store.close_interrupted()
    gateway = Gateway(store, upstream_url, api_key, organization=organization, project=project)
    dashboard = Dashboard(store, gateway.limiter.active, upstream_label or upstream_url, line=gateway.queue.snapshot)

    async def about(request: Request) -> Response:
        return JSONResponse({"gateway": "imagewidgets class gateway", "api": API_PREFIX, "dashboard": "/dashboard"})

    async def dashboard_slash(request: Request) -> Response:
        return RedirectResponse("/dashboard")

    routes = [*gateway.routes(), *dashboard.routes(), Route("/dashboard/", dashboard_slash),
              Route("/", about, methods=["GET"])]
    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        yield
        await gateway.aclose()

    app = Starlette(routes=routes, exception_handlers={HTTPException: _http_error, Exception: _crash},
                    lifespan=lifespan)
    app.state.gateway = gateway
    app.state.store = store
    return app
