"""Which backend a client talks to, and with what credentials.

Order: explicit arguments, then ``%imagine_config`` / ``configure()`` defaults, then the standard
environment variables (``OPENAI_API_KEY``, ``OPENAI_BASE_URL``, ``OPENAI_ORG_ID``,
``OPENAI_PROJECT_ID``), then the offline renderer on this machine. With no key and no base
URL, the offline backend is used.

    >>> from imagewidgets.config import resolve
    >>> resolve().describe()        # doctest: +SKIP
    'offline renderer (procedural, not AI) at http://127.0.0.1:40123/v1'
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Iterator, MutableMapping
from typing import Any, Callable, Protocol, TypeVar
from urllib.parse import urlparse

from .endpoints import API_PREFIX
from .errors import ParamError
from .models import DEFAULT_MODEL

__all__ = ["OFFLINE_NOTE", "Secret", "BackendConfig", "Settings", "resolve", "data_home", "OPENAI_BASE_URL", "settings", "defaults"]

OPENAI_BASE_URL = "https://api.openai.com" + API_PREFIX

#: what the offline backend appends to every ``revised_prompt`` (views say it once, not per row)
OFFLINE_NOTE = "offline procedural renderer; no language model rewrote this prompt"


class Secret:
    """An API key that never shows itself in a repr, a str(), a log line or a traceback."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self):  # never pickled along with a session or a result
        raise TypeError("an API key is not picklable")


class _Configurable(Protocol):
    model: str
    api: str | None
    budget_usd: float | None
    defaults: dict[str, Any]


_S = TypeVar("_S", bound=_Configurable)


class Settings(MutableMapping[str, Any]):
    """The session-wide settings, one object (a mapping; ``None`` is never stored): ``imagewidgets.configure()`` and ``%imagine_config``
    write it (each value checked once, as it is set); clients read the backend part (``resolve``),
    sessions, the magics and the studio the rest (``apply``). It also holds the default session
    (``default_session``: made from it on first use, told of every change, made anew when the
    store, its name or the backend changes), so no module keeps session-wide state of its own.

    Keys: the backend (``base_url``, ``api_key``, ``organization``, ``project``), the session
    (``model``, ``api``, ``folder``, ``budget_usd``, ``session``: the default session's name), the
    display (``preview``: ``set_preview``'s), and any request option (``size``, ``quality``...),
    which become the sessions' ``defaults``.

        >>> settings.update(quality="low", api="images")        # doctest: +SKIP
        {'quality', 'api'}
    """

    BACKEND = ("base_url", "api_key", "organization", "project")
    SESSION = ("model", "api", "folder", "budget_usd", "session")
    #: how this process shows things (``preview``: ``set_preview``'s ``Preview``), never a request option
    DISPLAY = ("preview",)
    #: a change of these makes a new default session (another store, name or backend)
    RESTART = frozenset({"folder", "session", *BACKEND})

    def __init__(self) -> None:
        self._values: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._default: Any = None  # the default session (a session.Session), made on first use
        # its own lock: making a session opens its store, and settings stay writable meanwhile
        self._default_lock = threading.Lock()

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.update(**{key: value})

    def __delitem__(self, key: str) -> None:
        with self._lock:
            del self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(dict(self._values))

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Settings({self.shown()!r})"

    def update(self, other: Any = (), /, **values: Any) -> set[str]:  # type: ignore[override]
        """Set (``None``: remove) settings; ``store`` is another name of ``folder``. Returns the keys changed."""
        values = {**dict(other), **values}
        checked = {("folder" if k == "store" else k): _checked("folder" if k == "store" else k, v)
                   for k, v in values.items()}
        with self._lock:
            for key, value in checked.items():
                if value is None:
                    self._values.pop(key, None)
                else:
                    self._values[key] = value
        changed = set(checked)
        with self._default_lock:  # the default session follows: made anew, or told the new values
            if changed & self.RESTART:
                self._default = None
            elif self._default is not None and changed - set(self.DISPLAY):
                self.apply(self._default)
        return changed

    def reset(self) -> None:  # (MutableMapping.clear would do it key by key)
        """Forget every setting, and the default session (the next one is made afresh)."""
        with self._lock:
            self._values.clear()
        with self._default_lock:
            self._default = None

    def default_session(self, make: Callable[[], _S]) -> _S:
        """The default session: ``make()``'s, on first use (``make`` reads these settings), then the
        same one until a setting in ``RESTART`` changes or ``reset()``.

            >>> settings.default_session(lambda: Session("default"))     # doctest: +SKIP
        """
        with self._default_lock:
            if self._default is None:
                self._default = make()
            return self._default

    def made_default_session(self) -> Any:
        """The default session if one was made (None: not yet), without making one."""
        return self._default

    def request_defaults(self) -> dict[str, Any]:
        """The request options set (``size``, ``quality``...): a session's ``defaults``."""
        return {k: v for k, v in self._values.items()
                if k not in self.SESSION and k not in self.BACKEND and k not in self.DISPLAY}

    def shown(self) -> dict[str, Any]:
        """Every setting, the API key as ``***``."""
        return {k: "***" if k == "api_key" else v for k, v in self._values.items()}

    def apply(self, session: _Configurable, keys: set[str] | None = None) -> None:
        """Put the settings named by ``keys`` (all when None) on a session: its model, api, budget and
        request defaults. The default session gets them all; ``%imagine_config --session VAR`` the
        ones it set."""
        if keys is None:
            session.defaults = {}
            keys = {"model", "api", "budget_usd", *self.request_defaults()}
        for key in keys:
            key = "folder" if key == "store" else key
            value = self._values.get(key)
            if key == "model":
                session.model = value or DEFAULT_MODEL
            elif key in ("api", "budget_usd"):
                setattr(session, key, value)
            elif key in self.SESSION or key in self.BACKEND or key in self.DISPLAY:
                continue  # these make a new default session instead
            elif value is None:
                session.defaults.pop(key, None)
            else:
                session.defaults[key] = value


def _checked(key: str, value: Any) -> Any:
    """A setting's value, or ParamError saying what it may be."""
    if value is None:
        return None
    if key == "api" and value not in ("images", "responses"):
        raise ParamError("api", value, "'images', 'responses' or None")
    if key == "budget_usd":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ParamError("budget", value, "an amount in US dollars of at least 0, or None")
        return float(value)
    if key == "api_key" and isinstance(value, str):
        return Secret(value)
    return value


#: The one settings object (``imagewidgets.configure()`` and ``%imagine_config`` write it).
settings = Settings()
#: its 0.1.0 name (a dict of the backend settings then), kept for code that reads it
defaults = settings


def data_home() -> Path:
    """Where imagewidgets keeps its data: ``$IMAGEWIDGETS_HOME`` or ``~/.imagewidgets``."""
    return Path(os.environ.get("IMAGEWIDGETS_HOME") or Path.home() / ".imagewidgets")


@dataclass(frozen=True)
class BackendConfig:
    """Resolved connection settings. ``base_url=None`` means the embedded offline backend."""

    base_url: str | None = None
    api_key: Secret | None = field(default=None, repr=False)
    organization: str | None = None
    project: str | None = None

    @property
    def offline(self) -> bool:
        return self.base_url is None

    @property
    def is_openai(self) -> bool:
        return bool(self.base_url) and urlparse(self.base_url).hostname == "api.openai.com"

    def headers(self) -> dict[str, str]:
        """Every header the API is sent: ``public_headers`` and ``credentials``."""
        return {**self.public_headers(), **self.credentials()}

    def public_headers(self) -> dict[str, str]:
        """Headers any host may see."""
        return {"User-Agent": "imagewidgets/0.1"}

    def credentials(self) -> dict[str, str]:
        """The key and the organisation/project headers: for the API's own origin only."""
        h: dict[str, str] = {}
        if self.api_key:
            h["Authorization"] = f"Bearer {self.api_key.reveal()}"
        if self.organization:
            h["OpenAI-Organization"] = self.organization
        if self.project:
            h["OpenAI-Project"] = self.project
        return h

    def describe(self, embedded_url: str | None = None) -> str:
        if self.offline:
            where = f" at {embedded_url}" if embedded_url else " (starts on first use)"
            return f"offline renderer (procedural, not AI){where}"
        if self.is_openai:
            return f"OpenAI ({self.base_url})"
        return f"OpenAI-compatible server at {self.base_url}"


def resolve(
    api_key: str | Secret | None = None,
    base_url: str | None = None,
    organization: str | None = None,
    project: str | None = None,
) -> BackendConfig:
    """Settings from arguments, then ``settings`` (``configure()``), then the environment."""
    env = os.environ

    def pick(arg, key, var):
        if arg is not None:
            return arg
        if settings.get(key) is not None:
            return settings.get(key)
        return env.get(var) or None

    key = pick(api_key, "api_key", "OPENAI_API_KEY")
    url = pick(base_url, "base_url", "OPENAI_BASE_URL")
    if url == "offline":
        url, key = None, None
    if key and not url:
        url = OPENAI_BASE_URL
    if isinstance(key, str):
        key = Secret(key)
    return BackendConfig(
        base_url=str(url).rstrip("/") if url else None,
        api_key=key if key else None,
        organization=pick(organization, "organization", "OPENAI_ORG_ID"),
        project=pick(project, "project", "OPENAI_PROJECT_ID"),
    )
