"""The offline app served over loopback HTTP by uvicorn, in a daemon thread: streams arrive frame by frame.

    >>> from imagewidgets.offline.server import OfflineServer, embedded_base_url
    >>> with OfflineServer() as server:                  # doctest: +SKIP
    ...     openai.OpenAI(base_url=server.base_url, api_key="none").images.generate(prompt="a kite")
    >>> embedded_base_url()                              # doctest: +SKIP
    'http://127.0.0.1:40123/v1'

``embedded_base_url()`` is the default backend when ``OPENAI_API_KEY`` is unset: one server per
process, started on first use, keeping its state in ``$IMAGEWIDGETS_HOME/offline-state``. Clients
reach it through the api layer's hook (``api/embedded.py``), which ``imagewidgets/__init__.py``
points here: the api layer never imports this module.
(httpx's ASGITransport would buffer whole bodies, so partial images would arrive all at once;
a real socket does not.)
"""

from __future__ import annotations

import socket
import threading
from pathlib import Path
from typing import Any, Callable, Literal

from ..api.endpoints import API_PREFIX
from .config import OfflineConfig, default_state_dir

__all__ = ["OfflineServer", "embedded_base_url", "embedded_server", "stop_embedded", "EMBEDDED_PARTIAL_INTERVAL_S"]

_START_TIMEOUT_S = 10.0
#: The embedded server's time between streamed frames unless IMAGEWIDGETS_OFFLINE_PARTIAL_INTERVAL_S says
#: otherwise: the renderer draws a partial frame in milliseconds, so without a pause a notebook would
#: show every frame at once and streaming would look like it does not stream.
EMBEDDED_PARTIAL_INTERVAL_S = 0.3


def bind(host: str, port: int, *, backlog: int = 128) -> socket.socket:
    """A listening TCP socket on ``host:port`` (port 0: any free one), for the offline server and
    the class gateway alike (``gateway/server.py``)."""
    # IPPROTO_TCP named explicitly: asyncio sets TCP_NODELAY only on sockets that say so, and without
    # it each answer's body waits ~40 ms for the ACK of its headers (Nagle + delayed ACK)
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
        sock.listen(backlog)
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


def uvicorn_server(app: Any, on_ready: Callable[[], None], config: OfflineConfig | None = None, *,
                   lifespan: Literal["auto", "on", "off"] = "off", ssl_certfile: str | None = None, ssl_keyfile: str | None = None,
                   http: str = "h11") -> Any:
    """A uvicorn server for ``app`` that calls ``on_ready`` once it listens (serve it a socket from
    ``bind``): the one server set-up of the offline twin and the class gateway. No access log (the
    gateway logs one line per request itself, never a header)."""
    import uvicorn

    config_ = config or OfflineConfig()

    class _Server(uvicorn.Server):
        async def startup(self, sockets: list | None = None) -> None:
            await super().startup(sockets=sockets)
            on_ready()

    # h11 (pure Python) rather than httptools for the twin: its header limit is the one --max-header sets
    return _Server(uvicorn.Config(app, lifespan=lifespan, log_level="warning", access_log=False,
                                  timeout_graceful_shutdown=2, ws="none", http=http, ssl_certfile=ssl_certfile,
                                  ssl_keyfile=ssl_keyfile,
                                  h11_max_incomplete_event_size=config_.max_header_kb * 1024 if http == "h11" else None))


class OfflineServer:
    """The offline app on ``http://HOST:PORT/v1`` (port 0: a free one, read back after ``start()``)."""

    def __init__(self, config: OfflineConfig | None = None, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.config = config or OfflineConfig()
        self.host = host
        self.port = port
        self.app: Any = None
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/v1``: give it to any OpenAI client as ``base_url``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}{API_PREFIX}"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and self._ready.is_set() and not self._error

    def start(self) -> "OfflineServer":
        """Bind, start uvicorn in a daemon thread, and return once it accepts requests."""
        if self._thread is not None:
            return self
        from .app import create_app

        self.app = create_app(self.config)
        sock = bind(self.host, self.port)
        self.port = sock.getsockname()[1]
        self._server = uvicorn_server(self.app, self._ready.set, self.config)

        def run() -> None:
            try:
                self._server.run(sockets=[sock])
            except BaseException as e:  # SystemExit from a failed startup included
                self._error = e
            finally:
                sock.close()
                self._ready.set()

        self._thread = threading.Thread(target=run, name=f"imagewidgets-offline-{self.port}", daemon=True)
        self._thread.start()
        if not self._ready.wait(_START_TIMEOUT_S) or self._error is not None or not self._thread.is_alive():
            self.stop()
            raise RuntimeError(f"the offline server did not start on {self.base_url}: {self._error!r}")
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Ask uvicorn to exit and wait for its thread (and the batch worker's)."""
        # the app may be wrapped (middleware around it): stop the batch worker when it can be found
        backend = getattr(getattr(self.app, "state", None), "backend", None)
        if backend is not None and backend.batches is not None:
            backend.batches.stop(timeout)
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        self._thread = None

    def __enter__(self) -> "OfflineServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<OfflineServer {self.base_url} {state}: offline renderer (procedural, not AI)>"


_embedded: OfflineServer | None = None
_embedded_lock = threading.Lock()


def embedded_server(state_dir: str | Path | None = None) -> OfflineServer:
    """The process-wide offline server, started on first use (thread-safe).

    Its switches come from ``IMAGEWIDGETS_OFFLINE_*``, except that streamed frames leave at least
    ``EMBEDDED_PARTIAL_INTERVAL_S`` (0.3 s) apart unless ``IMAGEWIDGETS_OFFLINE_PARTIAL_INTERVAL_S``
    is set; its state folder is ``state_dir``, else ``IMAGEWIDGETS_OFFLINE_STATE_DIR``, else
    ``$IMAGEWIDGETS_HOME/offline-state``. Later calls return the running server whatever
    ``state_dir`` they pass.
    """
    global _embedded
    with _embedded_lock:
        if _embedded is None or not _embedded.running:
            config = OfflineConfig.from_env(partial_interval_s=_embedded_interval())
            folder = state_dir or config.state_dir or default_state_dir()
            _embedded = OfflineServer(config.replace(state_dir=str(folder))).start()
        return _embedded


def _embedded_interval() -> float | None:
    """None (the environment decides) when IMAGEWIDGETS_OFFLINE_PARTIAL_INTERVAL_S is set, else the default."""
    import os

    from .config import ENV_PREFIX

    return None if os.environ.get(ENV_PREFIX + "PARTIAL_INTERVAL_S") else EMBEDDED_PARTIAL_INTERVAL_S


def embedded_base_url(state_dir: str | Path | None = None) -> str:
    """The base URL (``http://127.0.0.1:PORT/v1``) of the process-wide offline server."""
    return embedded_server(state_dir).base_url


def stop_embedded() -> None:
    """Stop the process-wide server (the next ``embedded_base_url()`` starts a new one)."""
    global _embedded
    with _embedded_lock:
        if _embedded is not None:
            _embedded.stop()
            _embedded = None
