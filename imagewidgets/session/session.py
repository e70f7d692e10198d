"""``Session``: the public session, a ``SessionCore`` with its views, exports and sweeps, and the
session-wide settings (``configure``) the magics and widgets share.

    >>> s = Session("harbour")                                  # doctest: +SKIP
    >>> s.imagine("a lighthouse at dusk, watercolour")          # doctest: +SKIP
    >>> s.edit("add a red sailing boat")                        # doctest: +SKIP
    >>> s.history()                                             # doctest: +SKIP

The layering is one way: ``core`` knows nothing of ``report`` or ``sweep``; they import the core
and this module puts them together. The contract with the magics and widgets is
``docs/session-api.md``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..api import config as _config
from ..api.preview import set_preview
from ..api.errors import ParamError
from ..api.models import DEFAULT_RESPONSES_MODEL
from ..api.provenance import ProvenanceCheck
from . import report as _report
from .background import BackgroundTurn
from .batch import BatchJob
from .batch_store import BatchRecords
from .batch_submit import submit_batch
from .core import REQUEST_OPTIONS, SessionCore, refuse_unknown
from .pins import PinList, PinRecord
from .pins import pin_picture, unpin_pictures
from .rerun import rerun as _rerun
from .storyboard import Storyboard, list_storyboards, make_storyboard
from .sweep import run_sweep
from .turns import Turn

__all__ = ["Session", "Turn", "configure", "default_session", "reset_settings", "settings"]

_settings = _config.settings  # the one settings object (api/config.py)


class Session(SessionCore):
    """A named tree of turns in a store folder. See ``docs/session-api.md``.

    ``folder`` (or ``store``, the spelling ``configure`` and ``%imagine_config --store`` use) is where
    its images and index live; any other keyword is a default request option (``size="1536x1024"``,
    ``quality="low"``...), and a name that is neither is refused, not dropped. ``replay=False``: every
    call asks the API for a fresh picture (by default a repeated request, or one an unpacked pack
    answers, is replayed from the store at no cost).
    """

    def __init__(self, name: str = "default", *, folder: str | Path | None = None, client: Any = None,
                 api: str | None = None, model: str | None = None, budget_usd: float | None = None,
                 async_client: Any = None, responses_model: str | None = None, store: str | Path | None = None,
                 replay: bool = True, **defaults: Any) -> None:
        folder = _one_folder(folder, store)
        refuse_unknown(defaults, REQUEST_OPTIONS | {"folder", "store", "client", "api", "model", "budget_usd",
                                                    "async_client"}, "Session()")
        if responses_model is not None:  # the mainline model of Responses turns (default: models.py)
            defaults["responses_model"] = responses_model
        super().__init__(
            name, folder=folder if folder is not None else _settings.get("folder"), client=client,
            api=api if api is not None else _settings.get("api"),
            model=model or _settings.get("model"),
            budget_usd=budget_usd if budget_usd is not None else _settings.get("budget_usd"),
            async_client=async_client, replay=replay,
            **{**_settings.request_defaults(), **defaults})

    @property
    def responses_model(self) -> str:
        """The mainline model this session's Responses turns are sent with: ``Session(responses_model=)``,
        ``configure(responses_model=)`` / ``%imagine_config --responses-model``, else
        ``DEFAULT_RESPONSES_MODEL``. A call's own ``responses_model=`` still wins."""
        return str(self.defaults.get("responses_model") or DEFAULT_RESPONSES_MODEL)

    @responses_model.setter
    def responses_model(self, value: str | None) -> None:
        if value:
            self.defaults["responses_model"] = value
        else:
            self.defaults.pop("responses_model", None)

    def rerun(self, turn_or_branch: Any, *, model: str, branch: bool = True, **options: Any):
        """Re-run a turn's branch (or only the turn, ``branch=False``) with ``model``, as new turns;
        returns a ``Rerun`` that shows old and new images and costs side by side (``session/rerun.py``)."""
        return _rerun(self, turn_or_branch, model=model, branch=branch, **options)

    def sweep(self, prompts: Any = None, *, concurrency: int = 4, progress: bool = True, batch: bool = False,
              **grid: Any):
        """Run a grid of prompts x parameters concurrently; each cell is a stored turn (see ``session/sweep.py``).

        ``batch=True``: send the grid as a Batch API job instead (half the price, answers within 24 h)
        and return a ``BatchJob`` at once (``.wait()``, ``.results()``; see ``session/batch.py``);
        with ``image=`` (and optionally ``mask=``) every cell edits that image."""
        if batch:
            return submit_batch(self, prompts, progress=progress, **grid)
        if grid.get("image") is not None or grid.get("mask") is not None:
            raise ParamError("image", "an image", "batch=True: a direct sweep generates; a sweep of edits goes as a batch")
        return run_sweep(self, prompts, concurrency=concurrency, progress=progress, **grid)

    def batches(self) -> list[BatchJob]:
        """This session's Batch API jobs, oldest first (after a restart too)."""
        return [BatchJob(self, job.id) for job in BatchRecords(self.store).jobs(self.name)]

    def batch(self, job_id: str, *, progress: bool = True) -> BatchJob:
        """A Batch API job of this session by its id (or the id of one of its remote batches)."""
        found = BatchRecords(self.store).job_of_batch(job_id) if not job_id.startswith("batchjob_") else job_id
        return BatchJob(self, found or job_id, progress=progress)

    def pending(self) -> list[BackgroundTurn]:
        """The background Responses turns the server still holds (after a kernel restart too), oldest first."""
        return [BackgroundTurn(self, t) for t in self.turns if t.status == "background"]

    def provenance(self, turn: str | Turn | None = None, index: int = 0) -> ProvenanceCheck:
        """The API's provenance check (C2PA manifest, SynthID) of a turn's stored original (default: the
        current turn's), sent byte for byte with this session's client."""
        found = self.current if turn is None else self.turn(turn)
        images = found.images if found is not None else []
        if not images:
            raise ParamError("turn", getattr(found, "id", turn), "a turn with an image",
                             hint="imagine or edit one first" if found is None else f"{found.id} has no image")
        if not 0 <= index < len(images):
            raise ParamError("index", index, f"0 to {len(images) - 1}")
        return self.client.check_provenance(images[index].raw)

    # -- pinned references -----------------------------------------------------------------------
    def pin(self, turn_or_image: Any = None, *, name: str | None = None, role: str = "character") -> PinRecord:
        """Pin a picture (a turn, a turn id, an image this session returned, or any image: a path,
        bytes, PIL...; default the current turn) under ``name`` as a ``"character"``, ``"style"`` or
        ``"place"``: every later turn sends it as a reference (``api/pins.py``) until ``unpin``.

            >>> s.pin(s.turns[0], name="Milo", role="character")    # doctest: +SKIP
        """
        return pin_picture(self, turn_or_image, name=name, role=role)

    def unpin(self, what: Any = None) -> list[PinRecord]:
        """Stop sending pins: one by name (or a list of names), those of a turn, or all (``None``);
        returns the pins removed. Turns made with them keep the record of what they carried."""
        return unpin_pictures(self, what)

    def pins(self) -> PinList:
        """This session's pins, oldest first (a row of thumbnails in a notebook)."""
        return self.pinboard.list()

    def storyboard(self, panels: Any, *, pins: Any = None, concurrency: int = 3, batch: bool = False,
                   **options: Any) -> Storyboard:
        """One turn per panel (a prompt each), every one carrying the pins (``pins=None``: the
        session's; a list of names: those), shown as a strip with captions. Panels run in parallel
        (at most ``concurrency`` at once) after the budget is reserved for all of them; ``batch=True``:
        as one Batch API job at half price (``board.wait()``; the panels fill in as it is read).
        ``board.redo(2)``, ``board.edit(2, "...")`` (``%edit --panel 2``), ``board.export("x.html"|"x.png")``."""
        return make_storyboard(self, panels, pins=pins, concurrency=concurrency, batch=batch,
                               **options)

    def storyboards(self) -> list[Storyboard]:
        """This session's storyboards, oldest first (after a restart too)."""
        return list_storyboards(self)

    # -- views and exports ---------------------------------------------------------------------
    def history(self, *, page: int = 1, per_page: int | None = 50, search: str | None = None,
                columns: str = "compact"):
        """A page of the turns as a table, newest 50 first (HTML in a notebook; ``.rows``;
        ``.to_pandas()``; ``.next()``). ``search`` keeps the turns whose prompt contains it;
        ``columns="all"`` shows every field; ``per_page=None`` every turn."""
        return _report.HistoryTable(self, page=page, per_page=per_page, search=search, columns=columns)

    def lineage(self, *, page: int = 1, per_page: int | None = 50, search: str | None = None):
        """A page of the tree of turns as thumbnails (newest 50; ``.next()``; ``search``)."""
        return _report.Lineage(self, page=page, per_page=per_page, search=search)

    def export(self, path: str | Path, *, images: str = "embed") -> Path:
        """``*.html``: the report, one self-contained file (``images="link"``: the images in a
        ``<name>_files`` folder beside it); ``*.json``: the session with its images."""
        return _report.export(self, Path(path), images=images)

    @classmethod
    def from_json(cls, path: str | Path, *, name: str | None = None, folder: str | Path | None = None,
                  **kwargs: Any) -> "Session":
        """Import a ``session.json`` export into a store folder and open it."""
        folder = _one_folder(folder, kwargs.pop("store", None))
        name, folder = _report.import_json(path, name=name, folder=folder)
        return cls(name, folder=folder, **kwargs)


def _one_folder(folder: Any, store: Any) -> Any:
    """``folder`` and ``store`` name the same thing: take either, refuse two different ones."""
    if folder is not None and store is not None and Path(folder) != Path(store):
        raise ParamError("store", str(store), f"the same folder as folder={str(folder)!r}, or only one of them",
                         hint="folder and store are two spellings of one setting")
    return folder if folder is not None else store


# -- session-wide settings -------------------------------------------------------------------

def settings() -> dict[str, Any]:
    """The settings ``configure`` holds (the API key shown as ``***``)."""
    return _settings.shown()


def configure(**settings_: Any) -> dict[str, Any]:
    """Session-wide defaults (``%imagine_config``): ``model``, ``responses_model`` (the mainline
    model of Responses turns), ``api``, ``folder`` (or ``store``),
    ``budget_usd``, ``session`` (the default session's name), ``base_url``, ``api_key``,
    ``organization``, ``project``, ``preview`` (how outputs embed images, see ``set_preview``),
    and any request option (``size``, ``quality``, ...).
    ``None`` removes a setting. Returns the settings now in force (the default session follows
    them: ``Settings.update``)."""
    if "preview" in settings_:  # a display setting of this process, not a request option
        set_preview(settings_.pop("preview"))
    refuse_unknown(settings_, REQUEST_OPTIONS | set(_settings.SESSION) | set(_settings.BACKEND) | {"store"},
                   "configure()")
    _settings.update(**settings_)
    return settings()


def reset_settings() -> None:
    """Forget every ``configure()`` setting and the default session (a fresh start; tests use it)."""
    _settings.reset()


def default_session() -> Session:
    """The session the magics use unless told otherwise (made on first use from ``configure``'s settings)."""
    return _settings.default_session(lambda: Session(str(_settings.get("session") or "default")))
