"""Running the gateway: in the foreground (``imagewidgets gateway``) or in a background thread
(``GatewayServer``, for a notebook rehearsal and the tests), and the offline upstream for rehearsals.

    >>> from imagewidgets.gateway import GatewayServer
    >>> with GatewayServer(upstream="offline", db="class.sqlite3") as gw:        # doctest: +SKIP
    ...     [(who, token)] = gw.store.add_participants(1, budget_usd=0.5)
    ...     Client(base_url=gw.base_url, api_key=token).generate("a kite", quality="low")
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import socket
import threading
from pathlib import Path
from typing import Any, Callable

from ..api.config import Secret, data_home
from ..api.endpoints import API_PREFIX
from .queue import KeyLimits
from .rules import ClassRules
from .store import GatewayStore

__all__ = ["GatewayServer", "default_db", "start_offline_upstream", "bind", "uvicorn_server", "is_loopback"]

_START_TIMEOUT_S = 10.0


def default_db() -> Path:
    """``$IMAGEWIDGETS_HOME/gateway/class.sqlite3``."""
    return data_home() / "gateway" / "class.sqlite3"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def bind(host: str, port: int) -> socket.socket:
    """The gateway's listening socket: the offline server's set-up (``offline/server.py``), with room
    for a whole class connecting at once."""
    from ..offline.server import bind as bind_socket  # one server bootstrap for both

    return bind_socket(host, port, backlog=512)


def uvicorn_server(app: Any, on_ready: Callable[[], None], *, ssl_certfile: str | None = None,
                   ssl_keyfile: str | None = None) -> Any:
    """The gateway's uvicorn server: the offline server's set-up with its lifespan (the upstream
    client is closed at shutdown), TLS when given, and uvicorn's fastest HTTP parser."""
    from ..offline.server import uvicorn_server as make_server

    return make_server(app, on_ready, lifespan="on", ssl_certfile=ssl_certfile, ssl_keyfile=ssl_keyfile, http="auto")


def start_offline_upstream() -> tuple[Any, str, Secret]:
    """For ``--upstream offline``: the offline backend on loopback, requiring a random key that only
    the gateway knows, so a rehearsal goes through exactly the path a real class does."""
    from ..offline.config import OfflineConfig
    from ..offline.server import OfflineServer

    key = "sk-rehearsal-" + secrets.token_urlsafe(24)
    server = OfflineServer(OfflineConfig.from_env(require_api_key=key)).start()
    return server, server.base_url, Secret(key)


class GatewayServer:
    """The gateway on ``http://HOST:PORT`` in a daemon thread; ``base_url`` is what participants use."""

    def __init__(self, upstream: str = "offline", *, db: str | os.PathLike | None = None,
                 api_key: str | Secret | None = None, rules: ClassRules | None = None, host: str = "127.0.0.1",
                 port: int = 0, key_limits: "KeyLimits | None" = None) -> None:
        self.upstream = upstream
        #: the key's limits and the line's longest wait (gateway/queue.py); None: as stored, else none
        self.key_limits = key_limits
        self.db = Path(db) if db else default_db()
        self._api_key = api_key
        self.rules = rules
        self.host = host
        self.port = port
        self.store: GatewayStore | None = None
        self.app: Any = None
        self._offline: Any = None
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    @property
    def origin(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/v1``: the participants' ``OPENAI_BASE_URL``."""
        return self.origin + API_PREFIX

    @property
    def dashboard_url(self) -> str:
        return self.origin + "/dashboard"

    def start(self) -> "GatewayServer":
        if self._thread is not None:
            return self
        from .app import create_app

        self.store = GatewayStore(self.db)
        if self.rules is not None:
            self.store.set_setting("rules", self.rules.to_json())
        if self.key_limits is not None:
            self.store.set_setting("key_limits", self.key_limits.to_json())
        if self.upstream == "offline":
            self._offline, url, key = start_offline_upstream()
            label = f"offline renderer (rehearsal) at {url}"
        else:
            url, label = self.upstream, self.upstream
            given = self._api_key if self._api_key is not None else os.environ.get("OPENAI_API_KEY", "")
            key = given if isinstance(given, Secret) else Secret(given)
        self.app = create_app(self.store, url, key, upstream_label=label)
        sock = bind(self.host, self.port)
        self.port = sock.getsockname()[1]
        self._server = uvicorn_server(self.app, self._ready.set)

        def run() -> None:
            try:
                self._server.run(sockets=[sock])
            except BaseException as e:
                self._error = e
            finally:
                sock.close()
                self._ready.set()

        self._thread = threading.Thread(target=run, name=f"imagewidgets-gateway-{self.port}", daemon=True)
        self._thread.start()
        if not self._ready.wait(_START_TIMEOUT_S) or self._error is not None:
            self.stop()
            raise RuntimeError(f"the gateway did not start on {self.origin}: {type(self._error).__name__}")
        return self

    def stop(self, timeout: float = 5.0) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        self._thread = None
        if self._offline is not None:
            self._offline.stop()
            self._offline = None
        if self.store is not None:
            self.store.close()

    def __enter__(self) -> "GatewayServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def __repr__(self) -> str:  # never the key
        return f"<GatewayServer {self.base_url} upstream={'offline' if self.upstream == 'offline' else self.upstream}>"
