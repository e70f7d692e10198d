"""Storyboards: one turn per panel, every panel carrying the session's pins, shown as a strip with
captions (table ``storyboards``, ``migrations.m007``).

    >>> s.pin(s.turns[0], name="Milo")                                        # doctest: +SKIP
    >>> board = s.storyboard(["Milo wakes up", "Milo finds a map", "Milo sets sail"])
    >>> board.redo(2)                    # panel 2 again (a new picture); board.edit(2, "add rain")
    >>> board.export("milo.html"); board.export("milo.png")

Panels are independent roots (a comic's panels are scenes, not edits of each other); what ties
them together is the pinned references each one carries. They run in parallel, at most
``concurrency`` at once, after the budget has been reserved for all of them. A panel that is
redone or edited keeps its place in the strip; the earlier turn stays in the session's tree.
"""

from __future__ import annotations

import base64
import html
import io
import json
import time
import uuid
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..api.errors import ParamError
from .variants import VARIANT_KEY

if TYPE_CHECKING:  # pragma: no cover
    from typing_extensions import Unpack  # typing.Unpack from Python 3.12

    from ..api.options import SessionOptions
    from .core import SessionCore
    from .turns import Turn

__all__ = ["Storyboard", "Panel", "make_storyboard", "list_storyboards", "MAX_PANELS"]

#: a strip longer than this is a sweep, not a storyboard
MAX_PANELS = 24
_CAPTION_MAX = 300


@dataclass
class Panel:
    prompt: str
    turn_id: str | None = None
    takes: int = 1  # how many pictures this panel has had (a redo draws the next one)


def _panels_of(panels: Any) -> list[str]:
    if isinstance(panels, str):  # the %%storyboard cell: one panel per line
        panels = panels.splitlines()
    if not isinstance(panels, (list, tuple)):
        raise ParamError("panels", type(panels).__name__, "a list of prompts, one per panel")
    out = [p.strip() for p in panels if isinstance(p, str) and p.strip()]
    if len(out) != len([p for p in panels if not (isinstance(p, str) and not p.strip())]):
        raise ParamError("panels", "<not text>", "a list of prompts (text), one per panel")
    if not 1 <= len(out) <= MAX_PANELS:
        raise ParamError("panels", len(out), f"1 to {MAX_PANELS} panels")
    return out


class Storyboard:
    """A strip of panels of one session. ``board[i]`` is panel i's turn (0-based, like a list);
    the methods that name a panel take its number as the strip shows it (1 = the first)."""

    def __init__(self, session: "SessionCore", board_id: str, panels: list[Panel], pins: list[str],
                 created: float | None = None) -> None:
        self.session, self.id, self.panels, self.pin_names = session, board_id, panels, pins
        self.created = created if created is not None else time.time()
        self.job: Any = None  # the BatchJob of a board made with batch=True

    def wait(self, **kwargs: Any) -> "Storyboard":
        """A ``batch=True`` board: wait for its job (``BatchJob.wait``'s options); the panels fill in."""
        if self.job is not None:
            self.job.wait(**kwargs)
        return self

    # -- reading -------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.panels)

    def __getitem__(self, i: int) -> "Turn | None":
        p = self.panels[i]
        return self.session.tree.get(p.turn_id) if p.turn_id else None

    @property
    def turns(self) -> list["Turn | None"]:
        return [self[i] for i in range(len(self))]

    @property
    def images(self) -> list[Any]:
        return [t.image if t is not None else None for t in self.turns]

    def panel(self, number: int) -> "Turn":
        """Panel ``number``'s turn (1 = the first, as the strip shows it)."""
        p = self._index(number)
        turn = self[p]
        if turn is None:
            raise ParamError("panel", number, "a panel that has a picture",
                             hint=f"panel {number} failed; board.redo({number}) draws it again")
        return turn

    def _index(self, number: Any) -> int:
        if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= len(self.panels):
            raise ParamError("panel", number, f"1 to {len(self.panels)}", hint="panels are numbered as the strip shows them")
        return number - 1

    # -- changing a panel ----------------------------------------------------------------------
    def redo(self, number: int, prompt: str | None = None, **options: Any) -> "Turn":
        """Draw panel ``number`` again (a new picture; a new ``prompt`` if given), with the board's
        pins; the panel shows the new turn, the old one stays in the session."""
        i = self._index(number)
        panel = self.panels[i]
        panel.prompt = prompt.strip() if prompt and prompt.strip() else panel.prompt
        take = panel.takes
        req = self.session.imagine_request(panel.prompt, pins=self._pins(), **options)
        if req.endpoint == "responses":  # a redo is another picture of the same panel: take k
            extra = dict(req.extra_body or {})
            extra["metadata"] = {**(extra.get("metadata") or {}), VARIANT_KEY: str(take)}
            req = req.replace(extra_body=extra)
        turn = self.session.run(req, parent=None, refresh=True, kind="generate")
        panel.turn_id, panel.takes = turn.id, take + 1
        self._save()
        return turn

    def edit(self, number: int, prompt: str, **options: Unpack[SessionOptions]) -> "Turn":
        """Edit panel ``number``'s picture (a branch from its turn, carrying the board's pins); the
        panel shows the edit (``%edit --panel N``)."""
        i = self._index(number)
        base = self.panel(number)
        options.setdefault("pins", self._pins_names())
        self.session.edit(prompt, image=base, **options)
        turn = self.session.current
        assert turn is not None
        self.panels[i].turn_id = turn.id
        self._save()
        return turn

    def _pins_names(self) -> Any:
        return list(self.pin_names) if self.pin_names else False

    def _pins(self) -> tuple:
        return self.session.pins_carried(self._pins_names())

    # -- the store -----------------------------------------------------------------------------
    def _save(self) -> None:
        rows = json.dumps([p.__dict__ for p in self.panels])
        with self.session.store.transaction() as db:
            db.execute("INSERT OR REPLACE INTO storyboards (id, session, created, panels, pins) VALUES (?, ?, ?, ?, ?)",
                       (self.id, self.session.name, self.created, rows, json.dumps(self.pin_names)))

    # -- showing and exporting -----------------------------------------------------------------
    def __repr__(self) -> str:
        return f"<Storyboard {self.id} panels={len(self)} pins={self.pin_names}>"

    def _repr_html_(self) -> str:
        return self.html()

    def html(self, width: int = 256) -> str:
        """The strip: each panel's picture (a small JPEG) over its number and caption."""
        cells = []
        for n, (panel, turn) in enumerate(zip(self.panels, self.turns), 1):
            img = turn.image if turn is not None else None
            pic = (f'<img src="data:image/jpeg;base64,{_small_jpeg(img.data, width)}" width="{width}" '
                   f'alt="{html.escape(panel.prompt)}"/>') if img is not None else (
                f'<div style="width:{width}px;height:{width}px;background:#eee">{"waiting" if turn is None else turn.status}</div>')
            cells.append(f'<figure class="imagewidgets-panel" data-panel="{n}" data-turn="{html.escape(turn.id if turn else "")}"'
                         f' style="display:inline-block;margin:4px;vertical-align:top;width:{width}px">{pic}'
                         f'<figcaption><b>{n}.</b> {html.escape(panel.prompt[:_CAPTION_MAX])}</figcaption></figure>')
        pins = ", ".join(html.escape(n) for n in self.pin_names)
        head = f'<div style="font-size:smaller">📌 {pins}</div>' if pins else ""
        return f'<div class="imagewidgets-storyboard" data-board="{html.escape(self.id)}">{head}{"".join(cells)}</div>'

    def export(self, path: str | Path) -> Path:
        """``*.html``: the strip as one self-contained page; ``*.png``: the strip as one picture,
        captions under the panels. Written atomically."""
        from ..api.results import atomic_write

        path = Path(path)
        suffix = path.suffix.lower()
        if suffix in (".html", ".htm"):
            page = (f"<!doctype html><meta charset='utf-8'><title>storyboard {html.escape(self.id)}</title>"
                    f"<body>{self.html(width=384)}</body>")
            return atomic_write(path, page.encode())
        if suffix == ".png":
            return atomic_write(path, _strip_png(self))
        raise ParamError("path", str(path), "a .html or .png file name")


def _small_jpeg(data: bytes, width: int) -> str:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as opened:
        im = opened.convert("RGB")
        im.thumbnail((width * 2, width * 2))
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=85)
    return base64.b64encode(buf.getvalue()).decode()


def _strip_png(board: Storyboard, height: int = 384) -> bytes:
    """The panels side by side at ``height`` px, each over a caption band (numbered)."""
    import textwrap

    from PIL import Image, ImageDraw, ImageFont

    pics = []
    for img in board.images:
        if img is None:
            pics.append(Image.new("RGB", (height, height), (238, 238, 238)))
            continue
        with Image.open(io.BytesIO(img.data)) as opened:
            im = opened.convert("RGB")
            pics.append(im.resize((max(1, round(im.width * height / im.height)), height)))
    font = ImageFont.load_default(size=18)
    band, gap = 80, 8
    total = sum(p.width for p in pics) + gap * (len(pics) + 1)
    sheet = Image.new("RGB", (total, height + band + 2 * gap), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    x = gap
    for n, (pic, panel) in enumerate(zip(pics, board.panels), 1):
        sheet.paste(pic, (x, gap))
        lines = textwrap.wrap(f"{n}. {panel.prompt}", width=max(10, pic.width // 10))[:3]
        draw.multiline_text((x + 4, height + gap + 6), "\n".join(lines), fill=(20, 20, 20), font=font, spacing=4)
        x += pic.width + gap
    buf = io.BytesIO()
    sheet.save(buf, "PNG")
    return buf.getvalue()


def make_storyboard(session: "SessionCore", panels: Any, *, pins: Any = None, concurrency: int = 3,
                    batch: bool = False, **options: Any) -> Storyboard:
    """``Session.storyboard``: build every panel's request (validated), reserve the budget for all,
    record the board, then run the panels in parallel; a failed panel is kept empty with a warning."""
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or not 1 <= concurrency <= 8:
        raise ParamError("concurrency", concurrency, "1 to 8")
    refresh = bool(options.pop("refresh", False))  # ask again even when a panel's request is stored
    prompts = _panels_of(panels)
    pinned = session.pins_carried(pins)
    names = [p.name for p in pinned]
    if batch:
        return _batched(session, prompts, names, refresh=refresh, **options)
    reqs: list[Any] = [session.imagine_request(p, pins=names or False, **options) for p in prompts]
    for r in reqs:
        r.validate()
    usds = session.recorder.reserve_all(reqs, refresh)
    board = Storyboard(session, "sb_" + uuid.uuid4().hex[:12], [Panel(p) for p in prompts], names)
    started = [False] * len(reqs)
    try:
        board._save()

        def one(k: int) -> "Turn":
            started[k] = True  # from here on, run() releases the reservation
            turn = session.run(reqs[k], parent=None, kind="generate", reserved=usds[k], make_current=False,
                               refresh=refresh)
            board.panels[k].turn_id = turn.id
            return turn

        with ThreadPoolExecutor(max_workers=min(concurrency, len(reqs)), thread_name_prefix="imagewidgets-panel") as pool:
            outcomes: list[Any] = []
            for f in [pool.submit(one, k) for k in range(len(reqs))]:
                try:
                    outcomes.append(f.result())
                except Exception as e:  # the other panels are paid for and stored: kept
                    outcomes.append(e)
    finally:
        for k, usd in enumerate(usds):
            if not started[k]:
                session.recorder.release(usd)
    board._save()
    errors = [e for e in outcomes if isinstance(e, Exception)]
    if len(errors) == len(outcomes):
        raise errors[0]
    if errors:
        warnings.warn(f"{len(errors)} of {len(outcomes)} panels failed: {type(errors[0]).__name__}: {errors[0]}; "
                      "board.redo(n) draws a panel again", RuntimeWarning, stacklevel=3)
    last = next((t for t in reversed(outcomes) if not isinstance(t, Exception) and t.images), None)
    if last is not None:
        session.tree.make_current(last)
    return board


def _batched(session: "SessionCore", prompts: list[str], names: list[str], **options: Any) -> Storyboard:
    """``batch=True``: the panels as one Batch API job (half the price, within 24 h), the pins uploaded
    once; the board knows each panel's turn id from the job's cells before any answer is back, so
    it fills in as the job is read (``board.wait()``; after a restart, ``s.storyboards()``)."""
    from .batch_store import BatchRecords
    from .batch_submit import submit_batch

    options.pop("api", None)  # the Batch API runs the Image API's endpoints
    job = submit_batch(session, prompts, pins=names or False, progress=options.pop("progress", False), **options)
    cells = BatchRecords(session.store).cells(job.id)
    board = Storyboard(session, "sb_" + uuid.uuid4().hex[:12],
                       [Panel(c.cell["prompt"], c.turn_id) for c in sorted(cells, key=lambda c: c.idx)], names)
    board.job = job
    board._save()
    return board


def list_storyboards(session: "SessionCore") -> list[Storyboard]:
    """The session's storyboards from the store, oldest first."""
    rows = session.store.query("SELECT * FROM storyboards WHERE session = ? ORDER BY created", (session.name,))
    out = []
    for r in rows:
        try:
            panels = [Panel(str(p["prompt"]), p.get("turn_id"), int(p.get("takes", 1))) for p in json.loads(r["panels"])]
            pins = [str(n) for n in json.loads(r["pins"])]
        except (ValueError, TypeError, KeyError, AttributeError):
            continue  # a damaged row is skipped, never a crash
        out.append(Storyboard(session, r["id"], panels, pins, r["created"]))
    return out
