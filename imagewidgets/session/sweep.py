"""``Session.sweep``: a grid of prompts x parameters, run concurrently with the ``AsyncClient``.

    >>> grid = s.sweep(prompts=["a fox", "an owl"], size=["1024x1024", "1536x1024"],
    ...                quality=["low", "high"], concurrency=4)          # doctest: +SKIP
    >>> grid              # a labelled grid of thumbnails
    >>> grid.rows         # one dict per cell; grid.to_pandas() when pandas is installed

The async part runs on its own event loop in a worker thread, so a sweep works the same in a
script and inside a Jupyter kernel (whose loop is already running). Progress is shown from the
calling thread through ``session.progress`` (a callback: the widgets layer draws a bar in a kernel,
else a text line; this module never imports ipywidgets or IPython).
"""

from __future__ import annotations

import asyncio
import html
import itertools
import queue
import threading
from typing import TYPE_CHECKING, Any

from ..api.registry import delivery_fields
from ..api.validation import validate
from . import progress

if TYPE_CHECKING:  # pragma: no cover
    from ..api.requests import ImageRequest
    from .core import SessionCore as Session

__all__ = ["SweepResult", "run_sweep", "grid_cells"]


def _values(v: Any) -> list:
    return list(v) if isinstance(v, (list, tuple)) else [v]


def grid_cells(prompts: Any, grid: dict[str, Any]) -> tuple[list[str], list[dict[str, Any]]]:
    """(the names that vary, one options dict per cell with its ``prompt``), prompts varying slowest."""
    axes = {"prompt": _values(prompts), **{k: _values(v) for k, v in grid.items()}}
    varying = [k for k, v in axes.items() if len(v) > 1 or k == "prompt"]
    names = list(axes)
    cells = [dict(zip(names, combo)) for combo in itertools.product(*axes.values())]
    return varying, cells


class SweepResult:
    """The cells of a sweep: ``rows`` (dicts), ``turns``, ``results``; shows as a labelled grid."""

    def __init__(self, varying: list[str], cells: list[dict[str, Any]], turns: list[Any],
                 errors: list[str | None]) -> None:
        self.varying = varying
        self.cells = cells
        self.turns = turns
        self.errors = errors
        self.rows = []
        for cell, turn, err in zip(cells, turns, errors):
            row = dict(cell)
            row.update({
                "turn_id": turn.id if turn else None,
                "status": turn.status if turn else "failed",
                "cost_usd": turn.cost if turn else None,
                "elapsed_s": turn.elapsed_s if turn else None,
                "path": _image_path(turn),
                "revised_prompt": turn.revised_prompt if turn else None,
                "error": err,
            })
            self.rows.append(row)

    @property
    def results(self) -> list[Any]:
        """The image of each cell (None where the cell failed)."""
        return [t.result if t else None for t in self.turns]

    @property
    def cost_usd(self) -> float:
        return sum(r["cost_usd"] or 0 for r in self.rows if r["status"] != "replayed")

    def to_pandas(self):
        """The rows as a pandas DataFrame (needs pandas)."""
        from .report import dataframe

        return dataframe(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self):
        return iter(self.rows)

    def __getitem__(self, i: int) -> dict[str, Any]:
        return self.rows[i]

    def __repr__(self) -> str:
        done = sum(r["status"] in ("completed", "replayed") for r in self.rows)
        replayed = sum(r["status"] == "replayed" for r in self.rows)
        return (f"<SweepResult {len(self.rows)} cells over {', '.join(self.varying)}: {done} ok "
                f"({replayed} replayed), ${self.cost_usd:.4f}>")

    def _repr_html_(self) -> str:
        from .report import thumbnail_url

        # rows: prompts; columns: every combination of the other varying parameters
        col_keys = [k for k in self.varying if k != "prompt"]
        prompts = list(dict.fromkeys(c["prompt"] for c in self.cells))
        columns = list(dict.fromkeys(tuple(c[k] for k in col_keys) for c in self.cells))
        by_pos = {(c["prompt"], tuple(c[k] for k in col_keys)): i for i, c in enumerate(self.cells)}
        head = "".join(f"<th>{html.escape(', '.join(f'{k}={v}' for k, v in zip(col_keys, col)) or 'image')}</th>"
                       for col in columns)
        body = []
        for p in prompts:
            tds = []
            for col in columns:
                i = by_pos.get((p, col))
                turn = self.turns[i] if i is not None else None
                image = _peek_image(turn) if turn is not None else None
                if image is not None and turn is not None and i is not None:
                    row = self.rows[i]
                    cost = f"${row['cost_usd']:.4f}" if row["cost_usd"] else row["status"]
                    tds.append(f'<td><img src="{thumbnail_url(image, 192)}" width="192" '
                               f'title="{html.escape(turn.id)}" alt="{html.escape(image.alt_text)}"/><br/>'
                               f'<small>{html.escape(cost)}</small></td>')
                else:
                    err = self.errors[i] if i is not None else ""
                    tds.append(f'<td><small style="color:#c0392b">{html.escape(err or "-")}</small></td>')
            body.append(f"<tr><th style='max-width:200px'>{html.escape(str(p))}</th>{''.join(tds)}</tr>")
        return (f"<table style='border-collapse:collapse'><tr><th>prompt</th>{head}</tr>{''.join(body)}</table>"
                f"<div style='font-size:11px;color:#666'>{html.escape(repr(self))}</div>")


def _peek_image(turn: Any) -> Any:
    """The turn's first image without keeping its bytes (``Turn.peek_image``)."""
    return turn.peek_image()


def _image_path(turn: Any) -> str | None:
    image = _peek_image(turn) if turn is not None else None
    return str(image.path) if image is not None and image.path else None


class _Progress:
    """The sweep's report to ``session.progress`` (a widget bar in a kernel, else a text line),
    updated from the calling thread."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.total, self._last = total, -1
        self.shown = progress.start("sweep", total) if enabled else None

    def update(self, done: int, failed: int) -> None:
        if self.shown is None or done == self._last:
            return
        self._last = done
        self.shown.update(done, self.total, f"{done}/{self.total}" + (f" ({failed} failed)" if failed else ""))

    def close(self) -> None:
        if self.shown is not None:
            self.shown.close()


def _async_client(session: "Session"):
    from ..api.client import AsyncClient

    given = session.async_client
    if given is not None:  # an AsyncClient, or a factory called once per sweep (each sweep has its own loop)
        if callable(given) and not hasattr(given, "run"):
            return given(), True
        return given, False
    sync = session.client
    cfg = sync.config
    return AsyncClient(api_key=cfg.api_key, base_url=cfg.base_url or "offline", organization=cfg.organization,
                       project=cfg.project, timeout=sync.timeout, retry=sync.retry), True


def run_sweep(session: "Session", prompts: Any, *, concurrency: int = 4, progress: bool = True,
              refresh: bool = False, **grid: Any) -> SweepResult:
    """See ``Session.sweep``. Every request is validated, and the budget checked for the cells that
    are not replayed, before anything is sent."""
    if prompts is None:
        raise TypeError("sweep needs prompts=[...] (or one prompt)")
    for streamed in delivery_fields():  # cells are not streamed: the progress bar is the live view
        grid.pop(streamed, None)
    varying, cells = grid_cells(prompts, grid)
    requests = []
    for cell in cells:
        opts = {k: v for k, v in cell.items() if k != "prompt"}
        requests.append(session.imagine_request(cell["prompt"], pins=False, **opts))  # grids compare settings: no pins
    for req in requests:
        validate(req)
    if session.budget_usd is not None:
        from ..api.cost import estimate

        fresh = [r for r in requests if session.recorder.stored_answer(r, refresh=refresh) is None]
        session.budget.check(sum(estimate(r).usd for r in fresh))

    turns: list[Any] = [None] * len(cells)
    errors: list[str | None] = [None] * len(cells)
    events: queue.Queue = queue.Queue()

    async def one(i: int, req: ImageRequest, client: Any, sem: asyncio.Semaphore) -> None:
        async with sem:
            turn = None
            recorder = session.recorder
            try:
                turn = recorder.begin(req, None, kind="generate", refresh=refresh, make_current=False)
                if turn.status != "replayed":
                    try:
                        results = await client.run(req)
                    except BaseException as e:
                        recorder.fail(turn, e)
                        raise
                    turn = await asyncio.to_thread(recorder.finish, turn, results, make_current=False)
                turns[i] = turn
            except Exception as e:
                turns[i] = turn
                errors[i] = f"{type(e).__name__}: {e}"
            finally:
                events.put(i)

    async def main() -> None:
        client, owned = _async_client(session)
        sem = asyncio.Semaphore(max(1, int(concurrency)))
        try:
            await asyncio.gather(*(one(i, r, client, sem) for i, r in enumerate(requests)))
        finally:
            if owned:
                await client.aclose()

    failure: list[BaseException] = []

    def worker() -> None:
        try:
            asyncio.run(main())
        except BaseException as e:  # reported in the calling thread
            failure.append(e)

    bar = _Progress(len(cells), progress)
    thread = threading.Thread(target=worker, name="imagewidgets-sweep", daemon=True)
    thread.start()
    done = 0
    while thread.is_alive() or not events.empty():
        try:
            events.get(timeout=0.1)
            done += 1
        except queue.Empty:
            continue
        bar.update(done, sum(e is not None for e in errors))
    thread.join()
    bar.close()
    if failure:
        raise failure[0]
    return SweepResult(varying, cells, turns, errors)
