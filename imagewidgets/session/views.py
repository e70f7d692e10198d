"""Pages of a session for notebooks: ``history()`` (a table) and ``lineage()`` (the tree as
thumbnails), newest 50 turns by default, with paging and search by prompt text.

    >>> h = s.history()                       # doctest: +SKIP
    >>> h.next(); s.history(page=3); s.history(search="lighthouse"); s.history(columns="all")

A page is read from the store with SQL (``LIMIT``/``OFFSET`` on an index) and its thumbnails come
from the store's disk cache, so it costs the same for a session of 50 turns or 50,000.
"""

from __future__ import annotations

import datetime as _dt
import html
import math
from typing import TYPE_CHECKING, Any

from ..api.config import OFFLINE_NOTE
from ..api.results import alt_text
from .turns import Turn

if TYPE_CHECKING:  # pragma: no cover
    from .core import SessionCore as Session

__all__ = ["HistoryTable", "Lineage", "PER_PAGE", "dataframe", "turn_row"]

PER_PAGE = 50
COLUMNS = ("compact", "all")

TREE_CSS = """
.iw-tree ul{list-style:none;padding-left:18px;border-left:1px dashed #bbb;margin:2px 0}
.iw-tree li{margin:4px 0}.iw-node{display:inline-flex;gap:6px;align-items:center;font-size:12px}
.iw-node img{border:1px solid #ccc;border-radius:3px}.iw-current img{border:2px solid #e67e22}
"""


def _esc(v: Any) -> str:
    return html.escape("" if v is None else str(v))


def one_line(text: str | None) -> str:
    """A prompt on one line (a %%imagine cell's prompt has several), for the text views."""
    return " ".join((text or "").split())


def when(ts: float | None) -> str:
    return _dt.datetime.fromtimestamp(ts).isoformat(timespec="seconds") if ts else ""


def without_offline_note(text: str | None) -> str | None:
    """A revised prompt without the offline backend's note (said once above the table instead)."""
    if not text:
        return text
    for cut in (f", {OFFLINE_NOTE})", f" ({OFFLINE_NOTE})"):
        if text.endswith(cut):
            return text[: -len(cut)] + (")" if cut.startswith(",") else "")
    return text


def _used(asked: Any, got: str | None, default: str | None) -> str | None:
    """What a turn asked for and what it got: "1024x1024", or for a default "auto → 1024x1024"."""
    asked = asked if asked is not None else default
    if asked is None:
        return got
    if got and str(got) != str(asked):
        return f"{asked} → {got}"
    return str(asked)


def used_size_quality(t: Turn, first: dict | None) -> tuple[str | None, str | None]:
    """The size and quality a turn used, from its request, the model's defaults and its first image's
    index row (``Store.first_images``): the picture's size and the quality the server reported."""
    from ..api.models import MODELS

    spec = MODELS.get(t.model or "")
    meta: dict = {}
    if first:
        import json

        try:
            meta = json.loads(first.get("meta") or "{}")
        except ValueError:
            meta = {}
    got_size = f"{first['width']}x{first['height']}" if first and first.get("width") and first.get("height") else None
    if first and first.get("partial"):
        got_size = None  # a draft frame's size is not the picture's
    default_size = "auto" if spec is None or spec.default_size in (None, "auto") else spec.default_size
    default_quality = None if spec is None else spec.default_quality
    served = meta.get("served_quality") if isinstance(meta.get("served_quality"), str) else None
    if spec is not None and spec.family == "dall-e":
        served = None  # dall-e's answers name no quality; a twin's figure would contradict "standard"
    size = _used(t.params.get("size"), got_size, default_size if got_size else None)
    quality = _used(t.params.get("quality"), served, default_quality if (served or spec) else None)
    return size, quality


def turn_row(t: Turn, number: int | None = None, n_images: int | None = None, *,
             first: dict | None = None, parent_number: int | None = None) -> dict[str, Any]:
    """One row of the history: what the turn was and what it cost. ``first`` (its first image's index
    row) says what a default became ("auto → 1024x1024"); ``parent_number`` is its parent's #."""
    size, quality = used_size_quality(t, first)
    return {
        "number": number, "id": t.id, "parent_id": t.parent_id, "parent": parent_number, "kind": t.kind,
        "api": t.api, "model": t.model,
        "status": t.status, "prompt": t.prompt, "revised_prompt": t.revised_prompt,
        "size": size, "quality": quality,
        "n_images": len(t.images) if n_images is None else n_images,
        "cost_usd": t.cost, "input_tokens": t.usage.input_tokens if t.usage else None,
        "output_tokens": t.usage.output_tokens if t.usage else None, "elapsed_s": t.elapsed_s,
        "response_id": t.response_id, "created": when(t.created), "error": t.error,
        "outside_mask_change": _outside(t), "pins": ", ".join(t.pins) or None,
    }


def _outside(t: Turn) -> str | None:
    """A masked edit's fidelity, in words: "3.1% (mean 1.7)", and "kept" when the outside was put back."""
    img = t.image
    change = img.outside_mask_change if img is not None else None
    if not change or img is None:
        return None
    raw = img.raw_outside_mask_change
    kept = (f"; outside kept (the API's picture: {raw['share']:.1%})" if raw
            else "; outside kept" if img is not None and img.raw_path else "")
    return f"{change['share']:.1%} (mean {change['mean_diff']:.1f}){kept}"


def dataframe(rows: list[dict]) -> Any:
    """``rows`` as a pandas DataFrame; pandas is optional, so say how to get it when it is missing."""
    try:
        import pandas as pd
    except ImportError:
        raise ImportError("to_pandas() needs pandas: pip install pandas (without it, the same rows are in .rows)") from None
    return pd.DataFrame(rows)


class _Page:
    """One page of a session's turns: the newest ``per_page`` (page 1), older ones on later pages,
    only those whose prompt contains ``search``; shown oldest first within the page."""

    what = "turns"

    def __init__(self, session: "Session", *, page: int = 1, per_page: int | None = PER_PAGE,
                 search: str | None = None, thumb_px: int = 64) -> None:
        from ..api.errors import ParamError

        if per_page is not None and (not isinstance(per_page, int) or per_page < 1):
            raise ParamError("per_page", per_page, "a whole number of turns of at least 1, or None for all")
        if not isinstance(page, int) or page < 1:
            raise ParamError("page", page, "a page number from 1")
        self._session = session
        self.session_name = session.name
        store = session.store
        self.search = search or None
        self.thumb_px = thumb_px
        self.total = store.count_turns(session.name, self.search)
        self.per_page = per_page or max(self.total, 1)
        self.pages = max(1, math.ceil(self.total / self.per_page))
        self.page = min(page, self.pages)
        offset = (self.page - 1) * self.per_page
        self.turns: list[Turn] = list(reversed(store.page_turns(session.name, self.per_page, offset, self.search)))
        self.current_id = session.current.id if session.current else None
        self.session_turns, self.spent_usd = store.ledger(session.name)
        if self.search:
            self.numbers = store.turn_numbers(session.name, [t.id for t in self.turns])
        else:  # the page's position says each turn's number
            last = self.total - offset
            self.numbers = {t.id: last - i for i, t in enumerate(reversed(self.turns))}
        self._first = store.first_images([t.id for t in self.turns])

    def _with(self, page: int):
        return type(self)(self._session, page=page, per_page=self.per_page, search=self.search,
                          **self._options())

    def _options(self) -> dict:
        return {"thumb_px": self.thumb_px}

    def next(self):
        """The next (older) page."""
        return self._with(min(self.page + 1, self.pages))

    def prev(self):
        """The previous (newer) page."""
        return self._with(max(self.page - 1, 1))

    def __len__(self) -> int:
        return len(self.turns)

    def first_image(self, turn_id: str) -> Any:
        """The store's row of the turn's first image on this page (None: it has none)."""
        return self._first.get(turn_id)

    def thumb_url(self, turn: Turn, px: int | None = None) -> str:
        row = self.first_image(turn.id)
        thumb = self._session.store.thumbnail(row, px or self.thumb_px) if row else None
        return thumb.data_url() if thumb else ""

    def _summary(self) -> str:
        shown = f"{len(self.turns)} of {self.total}" if self.total != len(self.turns) else f"{self.total}"
        found = f" matching {self.search!r}" if self.search else ""
        return f"{shown} {self.what}{found}"

    def _pager(self) -> str:
        if self.pages == 1:
            return ""
        return (f"page {self.page} of {self.pages} (newest first) · .next() / .prev(), "
                f"or %imagine_history --page {min(self.page + 1, self.pages)}")


class HistoryTable(_Page):
    """A page of the session's turns as rows; shows as an HTML table with thumbnails.

    ``columns="compact"`` (default): #, parent (the # it continued from), kind, prompt, model,
    size/quality (what a default became: "auto → 1024x1024"), cost, status, thumbnail. ``columns="all"``: every field. ``.rows`` are the page's rows; ``per_page=None``
    gives every turn on one page."""

    def __init__(self, session: "Session", *, page: int = 1, per_page: int | None = PER_PAGE,
                 search: str | None = None, columns: str = "compact", thumb_px: int = 64) -> None:
        from ..api.errors import ParamError

        if columns not in COLUMNS:
            raise ParamError("columns", columns, "compact or all")
        self.columns = columns
        super().__init__(session, page=page, per_page=per_page, search=search, thumb_px=thumb_px)
        parents = {t.parent_id for t in self.turns if t.parent_id} - set(self.numbers)
        numbers = {**session.store.turn_numbers(session.name, sorted(parents)), **self.numbers} if parents \
            else self.numbers
        self.rows = [turn_row(t, self.numbers.get(t.id), 1 if t.id in self._first else 0, first=self._first.get(t.id),
                              parent_number=numbers.get(t.parent_id) if t.parent_id else None)
                     for t in self.turns]

    def _options(self) -> dict:
        return {"thumb_px": self.thumb_px, "columns": self.columns}

    def to_pandas(self):
        """The rows as a pandas DataFrame (needs pandas)."""
        return dataframe(self.rows)

    def __repr__(self) -> str:
        lines = [f"History of {self.session_name!r}: {self._summary()}, ${self.spent_usd:.4f} spent"]
        for r in self.rows:
            cost = f"${r['cost_usd']:.4f}" if r["cost_usd"] else "-"
            outside = f"  [outside mask changed: {r['outside_mask_change']}]" if r["outside_mask_change"] else ""
            pins = f"  [pins: {r['pins']}]" if r["pins"] else ""
            parent = f"↳#{r['parent']}" if r["parent"] else ""
            lines.append(f"  #{r['number']:<4} {parent:<6} {r['kind']:<8} {r['status']:<9} {cost:>9}  "
                         f"{one_line(r['prompt'])[:50]}{outside}{pins}")
        if self._pager():
            lines.append("  " + self._pager())
        return "\n".join(lines)

    def _cells(self, r: dict) -> list[tuple[str, str]]:
        """(column, text) pairs of one row in the chosen columns."""
        cost = f"${r['cost_usd']:.4f}" if r["cost_usd"] is not None else ""
        if self.columns == "compact":
            sq = " · ".join(v for v in (r["size"], r["quality"]) if v)
            parent = f"#{r['parent']}" if r["parent"] else ""
            out = [("#", str(r["number"] or "")), ("parent", parent), ("kind", r["kind"]),
                   ("prompt", one_line(r["prompt"])),
                   ("model", r["model"] or ""), ("size / quality", sq), ("cost", cost), ("status", r["status"])]
            if any(row["outside_mask_change"] for row in self.rows):  # masked edits: did they stay inside?
                out.insert(6, ("outside_mask_change", r["outside_mask_change"] or ""))
            if any(row["pins"] for row in self.rows):  # which pinned references each turn carried
                out.insert(4, ("pins", r["pins"] or ""))
            return out
        out = []
        for c in ("number", "parent", "id", "parent_id", "kind", "api", "model", "status", "prompt", "revised_prompt",
                  "size", "quality", "pins", "outside_mask_change", "cost_usd", "output_tokens", "elapsed_s", "created",
                  "error"):
            v = r[c]
            if c == "cost_usd":
                v = cost
            elif c == "elapsed_s" and v is not None:
                v = f"{v:.1f}s"
            elif c == "revised_prompt":
                v = without_offline_note(v)
            elif c == "parent" and v is not None:
                v = f"#{v}"
            out.append(("#" if c == "number" else c, "" if v is None else str(v)))
        return out

    def _repr_html_(self) -> str:
        body = []
        head = ""
        notes = any(without_offline_note(r["revised_prompt"]) != r["revised_prompt"] for r in self.rows)
        for t, r in zip(self.turns, self.rows):
            thumb = self.thumb_url(t)
            pic = f'<img src="{thumb}" width="{self.thumb_px}" alt="{_esc(alt_text(t.revised_prompt, t.prompt))}"/>' \
                if thumb else ""
            cells = self._cells(r)
            head = head or "<tr>" + "".join(f"<th>{_esc(c)}</th>" for c, _ in cells) + "<th>image</th></tr>"
            tds = []
            for c, v in cells:
                if c == "status":
                    tds.append(f'<td class="iw-status-{_esc(v)}" style="white-space:nowrap">{_esc(v)}</td>')
                elif c == "prompt" and self.columns == "compact":
                    short = v if len(v) <= 90 else v[:89] + "…"
                    tds.append(f'<td title="{_esc(v)}" style="text-align:left">{_esc(short)}</td>')
                else:
                    tds.append(f'<td style="text-align:left">{_esc(v)}</td>')
            body.append(f"<tr>{''.join(tds)}<td>{pic}</td></tr>")
        note = (f'<div style="color:#777;font-size:11px">revised prompts: {_esc(OFFLINE_NOTE)}</div>'
                if notes and self.columns == "all" else "")
        pager = f'<div style="color:#777;font-size:11px">{_esc(self._pager())}</div>' if self._pager() else ""
        more = "" if self.columns == "all" else ' <span style="color:#777">(columns="all" or --all: every field)</span>'
        return (f"<div><b>{_esc(self.session_name)}</b>: {_esc(self._summary())}, ${self.spent_usd:.4f} spent{more}"
                f"{note}<table>{head}{''.join(body)}</table>{pager}</div>")


class Lineage(_Page):
    """A page of the tree of turns: each turn under the one it continued from (a parent on an
    older page is named, ``↳ from #k``)."""

    def __init__(self, session: "Session", *, page: int = 1, per_page: int | None = PER_PAGE,
                 search: str | None = None, thumb_px: int = 96) -> None:
        super().__init__(session, page=page, per_page=per_page, search=search, thumb_px=thumb_px)
        ids = self._ids = {t.id for t in self.turns}
        self.children: dict[str | None, list[Turn]] = {}
        for t in self.turns:
            parent = t.parent_id if t.parent_id in ids else None
            self.children.setdefault(parent, []).append(t)
        outside = [t.parent_id for t in self.turns if t.parent_id and t.parent_id not in ids]
        self.numbers.update(session.store.turn_numbers(session.name, outside) if outside else {})

    @property
    def roots(self) -> list[Turn]:
        return self.children.get(None, [])

    def _from(self, t: Turn) -> str:
        if t.parent_id and t.parent_id not in self._ids and t.parent_id in self.numbers:
            return f" ↳ from #{self.numbers[t.parent_id]}"
        return ""

    def __repr__(self) -> str:
        lines = [f"Lineage of {self.session_name!r}: {self._summary()}"]

        stack = [(r, 1) for r in reversed(self.roots)]
        while stack:
            t, depth = stack.pop()
            mark = " *" if t.id == self.current_id else ""
            sibling = f" variant #{t.variant + 1}" if t.variant is not None else ""
            pins = f" 📌 {', '.join(t.pins)}" if t.pins else ""
            lines.append(f"{'  ' * depth}- #{self.numbers.get(t.id, '?')} {t.id} {t.kind}{sibling} [{t.status}]"
                         f"{self._from(t)} {one_line(t.prompt)[:50]}{pins}{mark}")
            stack.extend((c, depth + 1) for c in reversed(self.children.get(t.id, [])))
        if self._pager():
            lines.append("  " + self._pager())
        return "\n".join(lines)

    def html(self, px: int | None = None, link: bool = False, thumb_src: Any = None) -> str:
        """The tree as nested lists; ``thumb_src(turn, px)`` gives each picture's URL (default: the
        cached thumbnail as a data URL); ``link`` makes each picture a link to ``#<turn id>``."""
        px = px or self.thumb_px
        src = thumb_src or self.thumb_url
        out: list[str] = []
        # depth-first without recursion: a chain of thousands of edits is one long branch
        stack: list[Turn | str] = list(reversed(self.roots))
        while stack:
            t = stack.pop()
            if isinstance(t, str):  # a closing tag queued after a turn's children
                out.append(t)
                continue
            url = src(t, px)
            cls = "iw-node iw-current" if t.id == self.current_id else "iw-node"
            pic = (f'<img src="{_esc(url)}" width="{px}" alt="{_esc(alt_text(t.revised_prompt, t.prompt))}"/>'
                   if url else "")
            sibling = f" · variant #{t.variant + 1}" if t.variant is not None else ""
            sibling += f" · 📌 {_esc(', '.join(t.pins))}" if t.pins else ""
            label = (f"<span><b>#{self.numbers.get(t.id, '?')} {_esc(t.kind)}</b>{sibling} <span class='iw-muted'>"
                     f"{_esc(t.id)} · {_esc(t.status)}{_esc(self._from(t))}</span><br/>{_esc((t.prompt or '')[:80])}</span>")
            inner = f'<a href="#{_esc(t.id)}">{pic}</a>' if link else pic
            out.append(f'<li><span class="{cls}">{inner}{label}</span>')
            kids = self.children.get(t.id, [])
            if kids:
                out.append("<ul>")
                stack.append("</ul></li>")
                stack.extend(reversed(kids))
            else:
                out.append("</li>")
        return f'<div class="iw-tree"><ul>{"".join(out)}</ul></div>'

    def _repr_html_(self) -> str:
        pager = f'<div style="color:#777;font-size:11px">{_esc(self._pager())}</div>' if self._pager() else ""
        return f"<style>{TREE_CSS}</style>{self.html()}{pager}"
