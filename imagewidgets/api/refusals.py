"""Requests refused by moderation, remembered in this process so that the very same request is not
sent again: each try may be paid, and the same words are refused the same way.

    >>> client.generate("a forbidden picture")          # doctest: +SKIP
    ModerationError: 400 ... refused at the input stage (categories: offline-test-word) ...
    >>> client.generate("a forbidden picture")          # doctest: +SKIP
    RepeatedRefusalError: this very request was refused by moderation ... nothing was sent
    >>> Client(retry_refused=True).generate("a forbidden picture")   # sends it anyway  # doctest: +SKIP

The key is a hash of the server's origin and the request's bytes (prompt, options, images): any
change makes it a new request. Nothing is written to disk.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from typing import Any

from .errors import ModerationError, RepeatedRefusalError

__all__ = ["RefusalMemory", "REFUSED", "request_key"]

_REMEMBERED = 1000


def request_key(base_url: str, call: Any) -> str:
    """A hash of where a request goes and every byte it carries."""
    h = hashlib.sha256()
    h.update(f"{base_url}\n{call.method} {call.path}\n".encode())
    if call.json is not None:
        h.update(json.dumps(call.json, sort_keys=True, default=str).encode())
    else:
        h.update(json.dumps(sorted((call.data or {}).items()), default=str).encode())
        for name, (filename, data, mime) in call.files:
            h.update(f"\n{name} {filename} {mime} {len(data)}\n".encode())
            h.update(data)
    return h.hexdigest()


class RefusalMemory:
    """The newest refused requests (their keys and errors), shared by every client of the process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._refused: OrderedDict[str, ModerationError] = OrderedDict()

    def remember(self, key: str | None, err: ModerationError) -> None:
        if not key:
            return
        with self._lock:
            self._refused[key] = err
            self._refused.move_to_end(key)
            while len(self._refused) > _REMEMBERED:
                self._refused.popitem(last=False)

    def check(self, key: str) -> None:
        """Raise ``RepeatedRefusalError`` when this very request was refused before."""
        with self._lock:
            err = self._refused.get(key)
        if err is not None:
            raise RepeatedRefusalError(err)

    def forget(self) -> None:
        with self._lock:
            self._refused.clear()


REFUSED = RefusalMemory()
