"""Looking back at a session: ``history()`` (a table), ``lineage()`` (the tree as thumbnails),
``export("report.html")`` (one self-contained file) and ``export("session.json")`` / ``from_json``.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import io
import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..api.results import ImageResult, Usage
from .turns import Turn

if TYPE_CHECKING:  # pragma: no cover
    from .core import SessionCore as Session

__all__ = ["HistoryTable", "Lineage", "dataframe", "export", "export_html", "export_json", "import_json", "thumbnail_url"]

JSON_FORMAT = "imagewidgets.session"
JSON_VERSION = 1

_TREE_CSS = """
.iw-tree ul{list-style:none;padding-left:18px;border-left:1px dashed #bbb;margin:2px 0}
.iw-tree li{margin:4px 0}.iw-node{display:inline-flex;gap:6px;align-items:center;font-size:12px}
.iw-node img{border:1px solid #ccc;border-radius:3px}.iw-current img{border:2px solid #e67e22}
"""
_CSS = _TREE_CSS + """
body{font-family:system-ui,sans-serif;margin:24px;color:#222}
table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ddd;padding:3px 6px;vertical-align:top}
.iw-turn{border-top:1px solid #ddd;padding:12px 0}.iw-turn img.full{max-width:100%;height:auto}
.iw-muted{color:#777}.iw-status-failed{color:#c0392b}.iw-status-cancelled,.iw-status-interrupted{color:#b9770e}
"""


def _esc(v: Any) -> str:
    return html.escape("" if v is None else str(v))


def thumbnail_url(img: ImageResult | None, px: int = 128) -> str:
    """A small ``data:`` URL of ``img`` (JPEG/PNG thumbnail; SVG as it is)."""
    if img is None:
        return ""
    if img.format == "svg":
        return img.data_url()
    try:
        from PIL import Image

        with Image.open(io.BytesIO(img.data)) as im:
            im.thumbnail((px, px))
            out = io.BytesIO()
            if im.mode in ("RGBA", "LA", "P"):
                im.convert("RGBA").save(out, format="PNG", optimize=True)
                mime = "image/png"
            else:
                im.convert("RGB").save(out, format="JPEG", quality=80)
                mime = "image/jpeg"
        return f"data:{mime};base64,{base64.b64encode(out.getvalue()).decode()}"
    except Exception:  # an image PIL cannot read: show it whole
        return img.data_url()


def _one_line(text: str | None) -> str:
    """A prompt on one line (a %%imagine cell's prompt has several), for the text views."""
    return " ".join((text or "").split())


def _when(ts: float | None) -> str:
    return _dt.datetime.fromtimestamp(ts).isoformat(timespec="seconds") if ts else ""


def turn_row(t: Turn) -> dict[str, Any]:
    """One row of the history: what the turn was and what it cost."""
    return {
        "id": t.id, "parent_id": t.parent_id, "kind": t.kind, "api": t.api, "model": t.model,
        "status": t.status, "prompt": t.prompt, "revised_prompt": t.revised_prompt,
        "size": t.params.get("size"), "quality": t.params.get("quality"), "n_images": len(t.images),
        "cost_usd": t.cost, "input_tokens": t.usage.input_tokens if t.usage else None,
        "output_tokens": t.usage.output_tokens if t.usage else None, "elapsed_s": t.elapsed_s,
        "response_id": t.response_id, "created": _when(t.created), "error": t.error,
        "outside_mask_change": _outside(t),
    }


def _outside(t: Turn) -> str | None:
    """A masked edit's fidelity, in words: "3.1% (mean 1.7)", and "kept" when the outside was put back."""
    img = t.image
    change = img.outside_mask_change if img is not None else None
    if not change:
        return None
    kept = "; outside kept" if img.raw_path else ""
    return f"{change['share']:.1%} (mean {change['mean_diff']:.1f}){kept}"


def dataframe(rows: list[dict]) -> Any:
    """``rows`` as a pandas DataFrame; pandas is optional, so say how to get it when it is missing."""
    try:
        import pandas as pd
    except ImportError:
        raise ImportError("to_pandas() needs pandas: pip install pandas (without it, the same rows are in .rows)") from None
    return pd.DataFrame(rows)


class HistoryTable:
    """The session's turns as rows; shows as an HTML table with thumbnails."""

    def __init__(self, session: "Session") -> None:
        self.session_name = session.name
        self.turns = session.turns
        self.current_id = session.current.id if session.current else None
        self.rows = [turn_row(t) for t in self.turns]

    def to_pandas(self):
        """The rows as a pandas DataFrame (needs pandas)."""
        return dataframe(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __repr__(self) -> str:
        lines = [f"History of {self.session_name!r}: {len(self.rows)} turns"]
        for r in self.rows:
            cost = f"${r['cost_usd']:.4f}" if r["cost_usd"] else "-"
            outside = f"  [outside mask changed: {r['outside_mask_change']}]" if r["outside_mask_change"] else ""
            lines.append(f"  {r['id']} {r['kind']:<8} {r['status']:<9} {cost:>9}  {_one_line(r['prompt'])[:50]}"
                         f"{outside}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        cols = ["id", "parent_id", "kind", "api", "model", "status", "prompt", "revised_prompt", "size",
                "quality", "outside_mask_change", "cost_usd", "output_tokens", "elapsed_s", "created"]
        head = "<tr><th></th>" + "".join(f"<th>{c}</th>" for c in cols) + "</tr>"
        body = []
        for t, r in zip(self.turns, self.rows):
            thumb = thumbnail_url(t.image, 64)
            pic = f'<img src="{thumb}" width="64"/>' if thumb else ""
            cells = []
            for c in cols:
                v = r[c]
                if c == "cost_usd" and v is not None:
                    v = f"${v:.4f}"
                elif c == "elapsed_s" and v is not None:
                    v = f"{v:.1f}s"
                cells.append(f'<td class="iw-status-{_esc(r["status"])}">{_esc(v)}</td>' if c == "status"
                             else f"<td>{_esc(v)}</td>")
            body.append(f"<tr><td>{pic}</td>{''.join(cells)}</tr>")
        total = sum(r["cost_usd"] or 0 for r in self.rows if r["status"] != "replayed")
        return (f"<div><b>{_esc(self.session_name)}</b>: {len(self.rows)} turns, ${total:.4f} spent"
                f"<table>{head}{''.join(body)}</table></div>")


class Lineage:
    """The tree of turns: each turn under the one it continued from."""

    def __init__(self, session: "Session") -> None:
        self.session_name = session.name
        self.turns = session.turns
        self.current_id = session.current.id if session.current else None
        ids = {t.id for t in self.turns}
        self.children: dict[str | None, list[Turn]] = {}
        for t in self.turns:
            parent = t.parent_id if t.parent_id in ids else None
            self.children.setdefault(parent, []).append(t)

    @property
    def roots(self) -> list[Turn]:
        return self.children.get(None, [])

    def __repr__(self) -> str:
        lines = [f"Lineage of {self.session_name!r}"]

        def walk(t: Turn, depth: int) -> None:
            mark = " *" if t.id == self.current_id else ""
            sibling = f" variant #{t.variant + 1}" if t.variant is not None else ""
            lines.append(f"{'  ' * depth}- {t.id} {t.kind}{sibling} [{t.status}] {_one_line(t.prompt)[:50]}{mark}")
            for c in self.children.get(t.id, []):
                walk(c, depth + 1)

        for r in self.roots:
            walk(r, 1)
        return "\n".join(lines)

    def html(self, px: int = 96, link: bool = False) -> str:
        def node(t: Turn) -> str:
            thumb = thumbnail_url(t.image, px)
            cls = "iw-node iw-current" if t.id == self.current_id else "iw-node"
            pic = f'<img src="{thumb}" width="{px}"/>' if thumb else ""
            sibling = f" · variant #{t.variant + 1}" if t.variant is not None else ""
            label = (f"<span><b>{_esc(t.kind)}</b>{sibling} <span class='iw-muted'>{_esc(t.id)} · "
                     f"{_esc(t.status)}</span><br/>{_esc((t.prompt or '')[:80])}</span>")
            inner = f'<a href="#{_esc(t.id)}">{pic}</a>' if link else pic
            kids = self.children.get(t.id, [])
            sub = f"<ul>{''.join(node(c) for c in kids)}</ul>" if kids else ""
            return f'<li><span class="{cls}">{inner}{label}</span>{sub}</li>'

        return f'<div class="iw-tree"><ul>{"".join(node(r) for r in self.roots)}</ul></div>'

    def _repr_html_(self) -> str:
        return f"<style>{_TREE_CSS}</style>{self.html()}"


# -- export ----------------------------------------------------------------------------------


def export(session: "Session", path: Path) -> Path:
    suffix = path.suffix.lower()
    if suffix in (".html", ".htm"):
        return export_html(session, path)
    if suffix == ".json":
        return export_json(session, path)
    raise ValueError(f"export to .html or .json, not {path.suffix or path.name!r}")


def _turn_count(turns: list) -> str:
    """"5 turns", or "10 turns (5 made, 5 replayed from the store at $0)": a re-run is counted honestly."""
    replayed = sum(t.status == "replayed" for t in turns)
    text = f"{len(turns)} turn{'s' if len(turns) != 1 else ''}"
    return text + (f" ({len(turns) - replayed} made, {replayed} replayed from the store at $0)" if replayed else "")


def export_html(session: "Session", path: Path) -> Path:
    """One self-contained HTML file: images as data URLs, prompts, parameters, costs, the tree."""
    from ..api.results import atomic_write

    turns = session.turns
    lineage = Lineage(session)
    spent = session.spent_usd
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        f"<title>imagewidgets session {_esc(session.name)}</title><style>{_CSS}</style></head><body>",
        f"<h1>Session {_esc(session.name)}</h1>",
        f"<p>{_turn_count(turns)} · ${spent:.4f} spent · backend {_esc(session.backend)} · "
        f"exported {_esc(_when(time.time()))}</p>",
        "<h2>Tree</h2>", lineage.html(px=96, link=True), "<h2>Turns</h2>",
    ]
    for t in turns:
        imgs = "".join(f'<img class="full" src="{img.data_url()}" alt="{_esc(t.prompt)}" '
                       f'width="{min(img.width or 512, 512)}"/>' for img in t.images)
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
        rows = "".join(f"<tr><th>{k}</th><td>{_esc(v)}</td></tr>" for k, v in facts if v)
        parts.append(
            f'<section class="iw-turn" id="{_esc(t.id)}"><h3>{_esc(t.id)}</h3>'
            f"<p><b>Prompt:</b> {_esc(t.prompt)}</p>"
            + (f"<p><b>Revised prompt:</b> {_esc(t.revised_prompt)}</p>" if t.revised_prompt else "")
            + f"{imgs}<table>{rows}</table><h4>Parameters</h4><table>{params}</table></section>"
        )
    parts.append("</body></html>")
    return atomic_write(path, "".join(parts).encode("utf-8"))


def export_json(session: "Session", path: Path) -> Path:
    """The session as JSON: every turn's metadata and its images as data URLs (``from_json`` reads it)."""
    from ..api.results import atomic_write

    turns = []
    for t in session.turns:
        d = t.to_dict()
        for meta, img in zip(d["images"], t.images):
            meta.pop("path", None)
            meta["data_url"] = img.data_url()
        turns.append(d)
    doc = {"format": JSON_FORMAT, "version": JSON_VERSION, "name": session.name,
           "current_id": session.current.id if session.current else None, "backend": session.backend,
           "spent_usd": session.spent_usd, "turns": turns}
    return atomic_write(path, json.dumps(doc, indent=1).encode("utf-8"))


def import_json(path: str | Path, *, name: str | None = None, folder: str | Path | None = None
                ) -> tuple[str, Path]:
    """Import a ``session.json`` into a store folder; returns (session name, store folder) for
    ``Session.from_json`` to open."""
    from .store import open_store

    doc = json.loads(Path(path).read_text("utf-8"))
    if doc.get("format") != JSON_FORMAT:
        raise ValueError(f"{path} is not an imagewidgets session export")
    name = name or doc["name"]
    store = open_store(folder)
    store.ensure_session(name)
    for d in doc["turns"]:
        kw = {k: d.get(k) for k in ("id", "kind", "api", "prompt", "parent_id", "model", "params", "inputs",
                                    "response_id", "call_id", "revised_prompt", "cost", "created", "elapsed_s",
                                    "status", "error", "replay_key", "backend", "replayed_from", "note")}
        turn = Turn(session=name, usage=Usage(**d["usage"]) if d.get("usage") else None,
                    group_id=d.get("group_id"), picked=int(d.get("picked") or 0), **kw)
        store.save_turn(turn)
        for meta in d.get("images") or []:
            data = base64.b64decode(meta["data_url"].split(",", 1)[1])
            usage = Usage(**meta["usage"]) if meta.get("usage") else None
            known = ("model", "prompt", "revised_prompt", "cost", "response_id", "call_id", "request_id",
                     "created", "params")
            img = ImageResult(data=data, format=meta["format"], width=meta.get("width") or 0,
                              height=meta.get("height") or 0, usage=usage,
                              **{k: meta.get(k) for k in known if meta.get(k) is not None})
            store.save_image(turn, img, meta.get("index", 0), partial=bool(meta.get("partial")))
    if doc.get("current_id"):
        store.set_current(name, doc["current_id"])
    return name, store.folder
