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
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

__all__ = ["OFFLINE_NOTE", "Secret", "BackendConfig", "resolve", "data_home", "OPENAI_BASE_URL", "defaults"]

OPENAI_BASE_URL = "https://api.openai.com/v1"

#: what the offline backend appends to every ``revised_prompt`` (views say it once, not per row)
OFFLINE_NOTE = "offline procedural renderer; no language model rewrote this prompt"

#: Session-wide defaults set by ``%imagine_config`` or ``imagewidgets.configure()``.
defaults: dict[str, object] = {}


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
        h = {"User-Agent": "imagewidgets/0.1"}
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
    """Settings from arguments, then ``defaults``, then the environment."""
    env = os.environ

    def pick(arg, key, var):
        if arg is not None:
            return arg
        if defaults.get(key) is not None:
            return defaults[key]
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
