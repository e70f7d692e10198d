"""Looking back at a session: ``export("report.html")`` (one file, or one file with its images
beside it) and ``export("session.json")`` (read back by ``importing.import_json``); the notebook views (``history()``,
``lineage()``) live in ``views.py`` and are re-exported here.

Exports stream to disk turn by turn (read from the store in chunks), so a session of 10,000
turns is written in bounded memory.
"""

from __future__ import annotations

import base64
import io
import json
import shutil
import time
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from ..api.results import ImageResult, alt_text, atomic_file
from ..api.usage import Usage
from .turns import Turn
from .views import TREE_CSS, HistoryTable, Lineage, dataframe, turn_row, when as _when
from .views import _esc

if TYPE_CHECKING:  # pragma: no cover
    from .core import SessionCore as Session

__all__ = ["HistoryTable", "Lineage", "dataframe", "export", "export_html", "export_json", "import_json",
           "thumbnail_url", "turn_row"]

IMAGES = ("embed", "link")

from .importing import JSON_FORMAT, JSON_VERSION, import_json  # noqa: E402  (read back: checked, all or nothing)

_CSS = TREE_CSS + """
body{font-family:system-ui,sans-serif;margin:24px;color:#222}
table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ddd;padding:3px 6px;vertical-align:top}
.iw-turn{border-top:1px solid #ddd;padding:12px 0}.iw-turn img.full{max-width:100%;height:auto}
.iw-muted{color:#777}.iw-status-failed{color:#c0392b}.iw-status-cancelled,.iw-status-interrupted{color:#b9770e}
"""


def thumbnail_url(img: ImageResult | None, px: int = 128) -> str:
    """A small ``data:`` URL of an in-memory ``img`` (views of stored turns use the store's cache)."""
    if img is None:
        return ""
    from .thumbs import make_thumbnail

    try:
        return make_thumbnail(img.data, img.format, px, img.width, img.height).data_url()
    except Exception:  # an image PIL cannot read: show it whole
        return img.data_url()


# -- export ----------------------------------------------------------------------------------


def export(session: "Session", path: Path, *, images: str = "embed") -> Path:
    """``*.html`` (``images="embed"``: one self-contained file; ``"link"``: images in a folder
    beside it) or ``*.json`` (the session with its images, for ``from_json``)."""
    from ..api.errors import ParamError

    if images not in IMAGES:
        raise ParamError("images", images, "embed (one self-contained file) or link (images beside the HTML)")
    suffix = path.suffix.lower()
    if suffix in (".html", ".htm"):
        return export_html(session, path, images=images)
    if suffix == ".json":
        return export_json(session, path)
    raise ValueError(f"export to .html or .json, not {path.suffix or path.name!r}")


class _Pictures:
    """Where an export's pictures go: inline data URLs, or files in ``<name>_files/`` linked
    relatively (each image once, named by its content hash)."""

    def __init__(self, session: "Session", path: Path, images: str) -> None:
        self.store = session.store
        self.link = images == "link"
        self.folder_name = f"{path.stem}_files"
        self.folder = path.parent / self.folder_name
        self._done: set[str] = set()
        self._thumbs: dict[tuple[str, int], str] = {}  # sha -> URL: a replayed image's thumbnail is read once


    def original(self, row: dict) -> str:
        src = self.store.folder / row["path"]
        if self.link:
            name = f"images/{row['sha256']}{src.suffix}"
            if name not in self._done:
                self._done.add(name)
                (self.folder / "images").mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src, self.folder / name)
            return f"{self.folder_name}/{name}"
        mime = {"jpeg": "image/jpeg", "svg": "image/svg+xml"}.get(row["format"], f"image/{row['format']}")
        return f"data:{mime};base64,{base64.b64encode(src.read_bytes()).decode()}"

    def thumb(self, row: dict | None, px: int) -> str:
        if row is None:
            return ""
        key = (row["sha256"], px)
        if key not in self._thumbs:
            if len(self._thumbs) >= 512:  # embedded thumbnails are data URLs: keep a bounded few
                self._thumbs.pop(next(iter(self._thumbs)))
            self._thumbs[key] = self._thumb(row, px)
        return self._thumbs[key]

    def _thumb(self, row: dict, px: int) -> str:
        thumb = self.store.thumbnail(row, px)
        if thumb is None:
            return ""
        if not self.link or thumb.path is None:
            return thumb.data_url()
        name = f"thumbs/{px}/{thumb.path.name}"
        if name not in self._done:
            self._done.add(name)
            (self.folder / "thumbs" / str(px)).mkdir(parents=True, exist_ok=True)
            shutil.copyfile(thumb.path, self.folder / name)
        return f"{self.folder_name}/{name}"


#: the tree's thumbnails are new pixels; the turns' images are the stored files, copied byte for byte
_PROVENANCE_NOTE = ("The tree's thumbnails are new files without C2PA manifests; each turn's images below are the "
                    "stored originals, byte for byte, with the manifests they came with.")


def _turn_count(count: int, replayed: int) -> str:
    """"5 turns", or "10 turns (5 made, 5 replayed from the store at $0)": a re-run is counted honestly."""
    text = f"{count} turn{'s' if count != 1 else ''}"
    return text + (f" ({count - replayed} made, {replayed} replayed from the store at $0)" if replayed else "")


def export_html(session: "Session", path: Path, *, images: str = "embed") -> Path:
    """The session as HTML: prompts, parameters, costs, the tree, and each turn's images (inline
    as data URLs, or linked from ``<name>_files/`` with ``images="link"``). Written turn by turn."""
    store = session.store
    pics = _Pictures(session, path, images)
    tree = Lineage(session, per_page=None, thumb_px=96)
    firsts = store.first_images([t.id for t in tree.turns])
    count, spent = store.ledger(session.name)
    with atomic_file(path, "w", private=False) as out:  # the user named it
        out.write("<!DOCTYPE html><html><head><meta charset='utf-8'>"
                  f"<title>imagewidgets session {_esc(session.name)}</title><style>{_CSS}</style></head><body>"
                  f"<h1>Session {_esc(session.name)}</h1>"
                  f"<p>{_turn_count(count, store.count_turns(session.name, status='replayed'))} · "
                  f"${spent:.4f} spent · backend {_esc(session.backend)} · "
                  f"exported {_esc(_when(time.time()))}</p><h2>Tree</h2>"
                  f"<p class='iw-provenance'>{_esc(_PROVENANCE_NOTE)}</p>")
        out.write(tree.html(px=96, link=True, thumb_src=lambda t, px: pics.thumb(firsts.get(t.id), px)))
        del firsts
        out.write("<h2>Turns</h2>")
        chunk: list[Turn] = []
        for turn in store.iter_turns(session.name):
            chunk.append(turn)
            if len(chunk) == 200:
                _write_turns(out, chunk, store, pics)
                chunk = []
        _write_turns(out, chunk, store, pics)
        out.write("</body></html>")
    return path


def _write_turns(out: IO[str], turns: list[Turn], store: Any, pics: _Pictures) -> None:
    rows = store.images_of([t.id for t in turns])
    for t in turns:
        out.write(f'<section class="iw-turn" id="{_esc(t.id)}"><h3>{_esc(t.id)}</h3>'
                  f"<p><b>Prompt:</b> {_esc(t.prompt)}</p>"
                  + (f"<p><b>Revised prompt:</b> {_esc(t.revised_prompt)}</p>" if t.revised_prompt else ""))
        for row in rows.get(t.id, []):
            out.write(f'<img class="full" src="{_esc(pics.original(row))}" alt="{_esc(alt_text(t.revised_prompt, t.prompt))}" '
                      f'width="{min(row["width"] or 512, 512)}"/>')
        params = "".join(f"<tr><th>{_esc(k)}</th><td>{_esc(json.dumps(v) if isinstance(v, (dict, list)) else v)}"
                         "</td></tr>" for k, v in sorted(t.params.items()))
        usage = t.usage.to_dict() if t.usage else {}
        replayed = t.status == "replayed"
        facts = [("status", "replayed from the store, $0" if replayed else t.status),
                 ("kind", f"{t.kind} via the {t.api} API"), ("model", t.model),
                 ("parent", t.parent_id), ("cost", "$0 (replayed)" if replayed else f"${t.cost:.4f}"
                                           if t.cost is not None else None),
                 ("tokens", f"{usage.get('input_tokens', 0)} in, {usage.get('output_tokens', 0)} out" if usage else None),
                 ("elapsed", f"{t.elapsed_s:.2f}s" if t.elapsed_s is not None else None),
                 ("response id", t.response_id), ("image call id", t.call_id), ("replayed from", t.replayed_from),
                 ("created", _when(t.created)), ("note", t.note), ("error", t.error)]
        facts_rows = "".join(f"<tr><th>{k}</th><td>{_esc(v)}</td></tr>" for k, v in facts if v)
        out.write(f"<table>{facts_rows}</table><h4>Parameters</h4><table>{params}</table></section>")


def export_json(session: "Session", path: Path) -> Path:
    """The session as JSON: every turn's metadata and its images as data URLs (``from_json`` reads
    it). Written turn by turn."""
    store = session.store
    count, spent = store.ledger(session.name)
    head = {"format": JSON_FORMAT, "version": JSON_VERSION, "name": session.name,
            "current_id": session.current.id if session.current else None, "backend": session.backend,
            "spent_usd": spent}
    with atomic_file(path, "w", private=False) as out:  # the user named it
        out.write(json.dumps(head, indent=1)[:-2] + ',\n "turns": [\n')
        first = True
        for turn in store.iter_turns(session.name):
            d = turn.to_dict()
            for meta, img in zip(d["images"], turn.images):
                meta.pop("path", None)
                meta["data_url"] = img.data_url()
            turn.images = []  # written: let the bytes go
            out.write(("" if first else ",\n") + json.dumps(d))
            first = False
        out.write("\n ]\n}\n")
    return path
