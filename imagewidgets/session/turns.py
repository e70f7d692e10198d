"""``Turn``: one call of a session (a generation, an edit, a variation), with its provenance.

Turns form a tree through ``parent_id``. A turn's images live in the store; ``Turn.images``
lists them on first use as results that hold their path, not their bytes (``ImageResult.data``
reads the file when used), so neither reopening nor running a long session keeps its pictures
in memory.
"""

from __future__ import annotations

import html
import os
import socket
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

from ..api.redact import redact  # noqa: F401  (re-exported: the session masks its records with it)
from ..api.results import ImageResult, ImageSet
from ..api.usage import Usage

__all__ = ["Turn", "new_turn_id", "owner_gone", "redact", "this_process", "STATUSES"]

#: "running": in flight, in this process or another; "interrupted": its process ended before it
#: finished (a crash, a killed kernel) and the store found it so: its completed images are kept.
#: "background": a background Responses turn the server holds (its response id is stored): any
#: process may pick it up (``Session.pending()``), so a restart does not interrupt it.
STATUSES = ("running", "completed", "replayed", "cancelled", "failed", "interrupted", "background")



def new_turn_id() -> str:
    return "turn_" + uuid.uuid4().hex[:12]


def this_process() -> str:
    """``"host:pid"``: the owner recorded on a turn while it runs."""
    return f"{socket.gethostname()}:{os.getpid()}"


def owner_gone(owner: str | None) -> bool:
    """True when ``owner`` (``"host:pid"``) is a process of this machine that no longer runs.
    A process on another machine, or one this user may not signal, counts as alive."""
    host, _, pid = (owner or "").rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:  # PermissionError: it runs, as another user
        return False
    return False


@dataclass(eq=False)
class Turn:
    """One stored call. ``images`` are ``ImageResult``s with ``.path`` on disk (completed ones hold
    only the path; a partial frame, whose file the next frame replaces, holds its bytes)."""

    id: str
    session: str
    kind: str  # generate | edit | vary | respond
    api: str  # images | responses
    prompt: str | None = None
    parent_id: str | None = None
    model: str | None = None
    params: dict = field(default_factory=dict)
    inputs: list = field(default_factory=list)  # fingerprints of the input images (and mask)
    response_id: str | None = None
    call_id: str | None = None
    revised_prompt: str | None = None
    usage: Usage | None = None
    cost: float | None = None
    created: float = 0.0
    elapsed_s: float | None = None
    status: str = "running"
    error: str | None = None
    replay_key: str | None = None
    backend: str | None = None
    replayed_from: str | None = None
    note: str | None = None
    owner: str | None = field(default=None, repr=False)  # "host:pid" of the process running it
    group_id: str | None = None  # the variants of one call (n > 1 on the Responses API) share it
    picked: int = 0  # which of the turn's images the next edit continues from
    _images: list[ImageResult] | None = field(default=None, repr=False)
    _loader: Callable[["Turn"], list[ImageResult]] | None = field(default=None, repr=False)

    @property
    def images(self) -> list[ImageResult]:
        if self._images is None:
            self._images = self._loader(self) if self._loader else []
        return self._images

    @images.setter
    def images(self, value: list[ImageResult]) -> None:
        self._images = list(value)

    def forget_images(self) -> None:
        """Drop the images' bytes from memory; they are read from the store again when asked
        (only for a turn that can: one the store loaded, or whose images are on disk)."""
        self._images = None

    def peek_image(self) -> ImageResult | None:
        """``image`` without keeping the bytes in the turn when they were read from the store just
        now (a grid of thousands of batch cells then holds paths, not pictures)."""
        loaded = self._images is not None
        image = self.image
        if not loaded and self._loader is not None:
            self._images = None
        return image

    @property
    def image(self) -> ImageResult | None:
        """The image the next edit continues from: the picked one (``Session.pick``), else the first
        (for a cancelled stream: the newest partial frame)."""
        imgs = self.images
        if not imgs:
            return None
        return imgs[self.picked] if 0 <= (self.picked or 0) < len(imgs) else imgs[0]

    @property
    def result(self) -> ImageResult | ImageSet | None:
        imgs = self.images
        if not imgs:
            return None
        return imgs[0] if len(imgs) == 1 else ImageSet(imgs)

    @property
    def variant(self) -> int | None:
        """Which of its call's variants this turn is (0-based), or None when the call made one turn."""
        if not self.group_id:
            return None
        tag = ((self.params or {}).get("metadata") or {}).get("imagewidgets_variant")
        return int(tag) if isinstance(tag, str) and tag.isdigit() else 0

    @property
    def pins(self) -> list[str]:
        """The pinned references this turn carried, as ``"Milo (character)"`` (from its inputs)."""
        return [f"{i.get('name')} ({i.get('pin_role')})" for i in self.inputs or ()
                if isinstance(i, dict) and i.get("role") == "pin"]

    @property
    def ok(self) -> bool:
        return self.status in ("completed", "replayed", "cancelled", "interrupted") and bool(self.images)

    def to_dict(self) -> dict[str, Any]:
        """Metadata, JSON-ready (images as their stored metadata, without bytes)."""
        return {
            "id": self.id, "session": self.session, "parent_id": self.parent_id, "kind": self.kind,
            "api": self.api, "model": self.model, "prompt": self.prompt, "params": self.params,
            "inputs": self.inputs, "response_id": self.response_id, "call_id": self.call_id,
            "revised_prompt": self.revised_prompt, "usage": self.usage.to_dict() if self.usage else None,
            "cost": self.cost, "created": self.created, "elapsed_s": self.elapsed_s, "status": self.status,
            "error": self.error, "replay_key": self.replay_key, "backend": self.backend,
            "replayed_from": self.replayed_from, "note": self.note, "group_id": self.group_id,
            "picked": self.picked,
            "images": [img.to_dict() for img in self.images],
        }

    def __repr__(self) -> str:
        prompt = (self.prompt or "")[:40]
        parent = f" parent={self.parent_id}" if self.parent_id else ""
        cost = f" ${self.cost:.4f}" if self.cost else ""
        return f"<Turn {self.id} {self.kind}/{self.api} {self.status}{parent}{cost} prompt={prompt!r}>"

    def _repr_html_(self) -> str:
        img = self.image
        pic = img.html() if img is not None else ""
        return (f"<div><b>{html.escape(self.id)}</b> {html.escape(self.kind)} · {html.escape(self.status)}"
                f"<br/>{html.escape(self.prompt or '')}<br/>{pic}</div>")
