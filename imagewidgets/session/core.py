"""``SessionCore``: a tree of turns (generate, edit, vary) kept in a store, replayed when repeated.

The public ``Session`` (``session.py``) adds the views and exports (``report``, ``sweep``) and the
session-wide settings on top of this core; those modules import the core, never the reverse.

    >>> s = Session("harbour")                                  # doctest: +SKIP
    >>> s.imagine("a lighthouse at dusk, watercolour")          # doctest: +SKIP
    >>> s.edit("add a red sailing boat")      # continues from the current turn
    >>> s.checkout(s.turns[0]); s.edit("make it winter")        # a branch

Every call becomes a ``Turn`` saved (images first, atomically) before it is returned. A call
identical to a stored one is answered from the store unless ``refresh=True``. The contract with
the magics and widgets is ``docs/session-api.md``.
"""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping, TypeGuard

from ..api.client import AsyncClient, Client
from ..api.errors import APIError, NotFoundError, ParamError
from ..api.models import DEFAULT_MODEL, get_model
from ..api.inputs import ImageInput
from ..api.requests import EditRequest, GenerateRequest, ImageRequest, ResponsesRequest, VariationRequest
from ..api.results import CompletedEvent, ImageResult, ImageSet
from ..api.streams import ImageStream
from .background import BackgroundTurn
from .batch_store import outstanding_usd
from .budget import Budget
from .recorder import TurnRecorder
from .replay import backend_identity
from .store import Store, open_store
from .tree import TurnTree
from .turns import Turn
from .fidelity import EditCheck, composited, edit_check
from .outpaint import extend_inputs
from .pins import PinBoard
from .variants import run_variants

if TYPE_CHECKING:  # pragma: no cover
    from typing_extensions import Unpack  # typing.Unpack from Python 3.12

    from ..api.options import ImagineOptions, SessionOptions, VaryOptions

__all__ = ["SessionCore", "REQUEST_OPTIONS", "refuse_unknown"]


def _variant_number(turn: Turn) -> int:
    return turn.variant or 0


def session_name(name: Any) -> str:
    """A session's name from any text (or a number, as papermill passes ``-p run 7``): kept as given
    in the index; its image folder is made safe from it by the store."""
    if isinstance(name, int) and not isinstance(name, bool):
        name = str(name)
    if not isinstance(name, str) or not name.strip() or len(name) > 200 or "\x00" in name:
        raise ParamError("name", name, "the session's name: some text of 1 to 200 characters")
    return name


def _fields(cls: type) -> set[str]:
    return {f.name for f in dataclasses.fields(cls)}


#: what a session may hold as a default for its calls: the options of the request types (not their
#: inputs: prompts, images and masks belong to one call)
REQUEST_OPTIONS = frozenset().union(*map(_fields, (GenerateRequest, EditRequest, VariationRequest,
                                                   ResponsesRequest))) - {
    "prompt", "image", "images", "mask", "markup", "input_images", "previous_response_id", "stream", "pins"}


def refuse_unknown(names: Any, known: Any, where: str) -> None:
    """A ``ParamError`` naming the first of ``names`` that is not in ``known`` (with the closest one)."""
    import difflib

    for name in names:
        if name not in known:
            close = difflib.get_close_matches(name, sorted(known), n=1)
            raise ParamError(name, None, f"a setting of {where}: " + ", ".join(sorted(known)),
                             message=f"{where} got an unknown keyword argument {name!r}"
                             + (f" (did you mean {close[0]!r}?)" if close else "")
                             + "; nothing was set")


class SessionCore:
    """A named tree of turns in a store folder: the verbs, the ledger and the core path. Its
    arguments are explicit; ``Session`` fills the ones not given from ``configure``'s settings.

    ``tree`` holds the turns; ``recorder`` turns each request into a stored turn (and keeps the
    budget); the verbs build a request, send it, and hand the answer to the recorder."""

    def __init__(self, name: str = "default", *, folder: str | Path | None = None, client: Client | None = None,
                 api: str | None = None, model: str | None = None, budget_usd: float | None = None,
                 async_client: AsyncClient | Callable[[], AsyncClient] | None = None, replay: bool = True,
                 **defaults: Any) -> None:
        if api not in (None, "images", "responses"):
            raise ParamError("api", api, "'images', 'responses' or None (chosen per model)")
        refuse_unknown(defaults, REQUEST_OPTIONS | {"folder", "client", "api", "model", "budget_usd",
                                                    "async_client"}, "Session()")
        self.name = name = session_name(name)
        self.store: Store = open_store(folder)
        self.client = client if client is not None else Client()
        self.async_client = async_client  # an AsyncClient, or a factory of one, for sweeps
        self.api = api
        self.model = model or DEFAULT_MODEL
        self.defaults = defaults
        self.backend = backend_identity(self.client)
        self.store.ensure_session(name)
        self.store.settle_interrupted(name)  # turns a crashed process left "running"
        self.tree = TurnTree(self.store, name)
        self.budget = Budget(budget_usd, self.tree)  # the one place the limit is checked
        self.pinboard = PinBoard(self.store, name)  # pinned references, sent with every later turn
        # a batch job recorded earlier (another kernel, another day) still holds its estimate
        self.budget.reserved = outstanding_usd(self.store, name)
        self.recorder = TurnRecorder(self.store, self.tree, self.budget, name=name, backend=self.backend,
                                     secrets=self._secrets)
        self.recorder.replay = bool(replay)

    def __repr__(self) -> str:
        count, spent_usd = self.store.ledger(self.name)  # the store says: no turn is read for a repr
        spent = f" spent=${spent_usd:.4f}" + (f" of ${self.budget_usd:.2f}" if self.budget_usd else "")
        return (f"<Session {self.name!r} turns={count} api={self.api or 'auto'} model={self.model!r}"
                f"{spent} store={str(self.store.folder)!r} backend={self.backend!r}>")

    # -- the tree ------------------------------------------------------------------------------
    @property
    def turns(self) -> list[Turn]:
        """All turns, in the order they were started."""
        with self.tree.lock:
            return list(self.tree.turns)

    @property
    def current(self) -> Turn | None:
        """The turn the next ``edit`` continues from."""
        return self.tree.current

    def turn(self, turn_id: str | Turn) -> Turn:
        if isinstance(turn_id, Turn):
            turn_id = turn_id.id
        found = self.tree.get(turn_id)
        if found is None:
            raise KeyError(f"no turn {turn_id!r} in session {self.name!r}")
        return found

    def checkout(self, turn: str | Turn) -> Turn:
        """Make an earlier turn current: the next ``edit`` branches from it."""
        t = self.turn(turn)
        self.tree.make_current(t)
        return t

    def children(self, turn: str | Turn | None) -> list[Turn]:
        """The turns made from ``turn`` (None: the roots)."""
        pid = None if turn is None else self.turn(turn).id
        return [t for t in self.turns if t.parent_id == pid]

    def on_turn(self, callback: Callable[[Turn], Any]) -> None:
        """Call ``callback(turn)`` after every stored turn (completed, replayed, cancelled or failed)."""
        self.tree.callbacks.append(callback)

    def off_turn(self, callback: Callable[[Turn], Any]) -> None:
        """Stop calling ``callback`` (registered with ``on_turn``); unknown callbacks are ignored."""
        if callback in self.tree.callbacks:
            self.tree.callbacks.remove(callback)

    @property
    def _callbacks(self) -> list[Callable[[Turn], Any]]:
        return self.tree.callbacks

    # -- the ledger ----------------------------------------------------------------------------
    @property
    def spent_usd(self) -> float:
        """Dollars spent by this session's turns (replayed turns cost nothing)."""
        return self.tree.spent_usd

    @property
    def budget_usd(self) -> float | None:
        """The session's spending limit (None: none); ``budget`` keeps it."""
        return self.budget.limit_usd

    @budget_usd.setter
    def budget_usd(self, value: float | None) -> None:
        self.budget.limit_usd = value

    @property
    def replay(self) -> bool:
        """False: every call asks the API, even one the store (or an unpacked pack) could answer."""
        return self.recorder.replay

    @replay.setter
    def replay(self, value: bool) -> None:
        self.recorder.replay = bool(value)

    @property
    def remaining_usd(self) -> float | None:
        return self.budget.left

    def _secrets(self) -> tuple[str, ...]:
        """What must never be stored: the API key of the session's client (it may be replaced)."""
        key = getattr(getattr(self.client, "config", None), "api_key", None)
        return (key.reveal(),) if key else ()

    @property
    def tokens(self) -> dict[str, int]:
        """Tokens used by this session's turns (replayed turns excluded)."""
        total = {"input_tokens": 0, "output_tokens": 0, "total_tokens": 0}
        for t in self.turns:
            if t.usage is not None and t.status != "replayed":
                for k in total:
                    total[k] += getattr(t.usage, k)
        return total

    # -- building requests ---------------------------------------------------------------------
    def _api_for(self, model: str, api: str | None) -> str:
        api = api or self.api
        if api:
            return api
        spec = get_model(model)
        return "responses" if spec is not None and spec.supports("responses") else "images"

    def _options(self, cls: type, options: Mapping[str, Any]) -> dict:
        """Session defaults the request type accepts, then the call's options (which win)."""
        known = _fields(cls)
        out = {k: v for k, v in self.defaults.items() if k in known}
        if cls is EditRequest:  # a session-wide moderation applies where the API has it, not to edits
            out.pop("moderation", None)
        if "model" in known and cls is not VariationRequest:
            out.setdefault("model", self.model)
        out.update({k: v for k, v in options.items() if v is not None})
        return out

    @staticmethod
    def _streaming(opts: dict, on_event: Any) -> dict:
        """``on_event`` or ``partial_images`` imply ``stream=True`` when the model streams."""
        if "stream" not in opts and (on_event is not None or opts.get("partial_images")):
            spec = get_model(opts.get("model") or DEFAULT_MODEL)
            if spec is None or spec.streaming:
                opts["stream"] = True
        return opts

    def turn_of(self, value: Any) -> Turn | None:
        """The turn ``value`` names: a Turn, or a turn id of this session (None: neither)."""
        if isinstance(value, Turn):
            return self.tree.get(value.id) or value
        if isinstance(value, str):
            return self.tree.get(value)
        return None

    def turn_of_image(self, value: Any) -> Turn | None:
        """The turn of this session that stored ``value`` (an ImageResult it returned), if any."""
        path = getattr(value, "path", None)
        if not isinstance(value, ImageResult) or path is None:
            return None
        return self.tree.get(Path(path).name.rsplit("-", 1)[0])

    def edit_request(self, prompt: str, image: Any = None, mask: Any = None,
                     **options: Any) -> tuple[Turn | None, EditRequest]:
        """(the parent turn, the Image API edit of ``image``), not sent: ``image`` None is the
        current turn's image; session defaults filled in. A batch sweep builds its cells with it."""
        parent, images = self._source(image)
        src = images if images is not None else [self._image_of(parent, "edit")]
        return parent, EditRequest(prompt, images=src, mask=mask, **self._options(EditRequest, options))

    def _source(self, image: Any) -> tuple[Turn | None, list | None]:
        """(parent turn, explicit images): ``None`` or a turn continues from it; anything else is explicit."""
        if image is None:
            return self.current, None
        turn = self.turn_of(image)
        if turn is not None:
            return turn, None
        items = list(image) if isinstance(image, (list, tuple)) else [image]
        turns = [self.turn_of(i) for i in items]
        # an image this session returned is sent as itself, and its turn becomes the parent
        owners = [t or self.turn_of_image(i) for t, i in zip(turns, items)]
        parent = next((t for t in owners if t is not None), None)
        return parent, [t.image if t is not None else i for t, i in zip(turns, items)]

    @staticmethod
    def _image_of(turn: Turn | None, what: str) -> ImageResult:
        img = turn.image if turn is not None else None
        if img is None:
            raise ParamError("image", None, "an image, or a current turn with an image to continue from",
                             message=f"{what} needs an image: pass image=..., or imagine one first")
        return img

    # -- the public verbs ----------------------------------------------------------------------
    def imagine(self, prompt: str, *, stream: bool | None = None, partial_images: int | None = None,
                on_event: Callable | None = None, cancel: threading.Event | None = None,
                refresh: bool = False, api: str | None = None, wait: bool = True,
                **options: Unpack[ImagineOptions]) -> ImageResult | ImageSet | BackgroundTurn:
        """A new image from ``prompt`` (a new root of the tree); ``options`` are the request's
        (``api/options.py``: an editor completes ``quality=`` with its values). With
        ``completion_window`` (soonest, 2h, 8h; ``api="responses"``) a background turn: ``wait=False``
        returns its ``BackgroundTurn`` at once."""
        req = self.imagine_request(prompt, stream=stream, partial_images=partial_images,
                                    on_event=on_event, api=api, **options)
        if self._fans_out(req):
            return self._variants(req, None, "generate", refresh)
        turn = self.run(req, parent=None, on_event=on_event, cancel=cancel, refresh=refresh, kind="generate",
                        wait=wait)
        if turn.status == "background":
            return BackgroundTurn(self, turn)
        return self._returned(turn)

    def imagine_request(self, prompt: str, *, on_event: Any = None, api: str | None = None, pins: Any = None,
                        **options: Any) -> GenerateRequest | EditRequest | ResponsesRequest:
        """The request ``imagine`` would send (session defaults filled in), not sent; a sweep builds its cells with it.

        With pins (``pins=None``: the session's, ``False``: none, or a list of names), the pinned
        pictures go along: on the Image API the generation becomes an edit of them (``image[]``)."""
        model = options.get("model") or self.model
        pinned = self.pins_carried(pins)
        use = self._api_for(model, api)
        if use == "responses":
            opts = self._streaming(self._options(ResponsesRequest, options), on_event)
            return ResponsesRequest(prompt, pins=pinned, **opts) if pinned else ResponsesRequest(prompt, **opts)
        if pinned:
            return EditRequest(prompt, pins=pinned, **self._streaming(self._options(EditRequest, options), on_event))
        return GenerateRequest(prompt, **self._streaming(self._options(GenerateRequest, options), on_event))

    def pins_carried(self, pins: Any) -> tuple:
        """The pins a turn carries: ``None`` every pin of the session, ``False``/``[]`` none, else
        the named ones (names, or the records ``pins()`` returns)."""
        if pins is False or (pins is not None and not pins and not isinstance(pins, str)):
            return ()
        board = self.pinboard.list()
        if pins is None:
            return tuple(p.pin() for p in board)
        wanted = [pins] if isinstance(pins, str) else list(pins)
        names = [getattr(w, "name", w) for w in wanted]
        by_name = {p.name: p for p in board}
        unknown = [n for n in names if n not in by_name]
        if unknown:
            raise ParamError("pins", unknown[0], ", ".join(by_name) or "a pin of this session (none yet)",
                             hint="pin a picture first: session.pin(turn, name=..., role='character')")
        return tuple(by_name[n].pin() for n in dict.fromkeys(names))

    def edit(self, prompt: str, image: Any = None, mask: Any = None, markup: Any = None, *,
             on_event: Callable | None = None, cancel: threading.Event | None = None, refresh: bool = False,
             api: str | None = None, keep_outside_mask: bool = False, feather: int | None = None,
             images: Any = None, **options: Unpack[SessionOptions]) -> ImageResult | ImageSet:
        """Edit the current turn's image (or ``image``, or several: ``images=[a, b]``): a child of the
        turn it continues from. The session's pins go along (``pins=False``: not this time).

        With a ``mask``, each image gets ``outside_mask_change`` (how much changed outside it);
        ``keep_outside_mask=True`` puts the parent's pixels back outside the mask (``feather`` px
        of soft seam inside it) and keeps the API's own image as ``result.raw``."""
        if images is not None:  # the natural spelling of several references: image= takes a list too
            if image is not None:
                raise ParamError("images", "<images>", "either image= or images=, not both",
                                 hint="image= takes one image or a list; images= is the same list")
            image = list(images) if isinstance(images, (list, tuple)) else [images]
        parent, images = self._source(image)
        return self._edit(prompt, parent, images, mask, markup, on_event=on_event, cancel=cancel, refresh=refresh,
                          api=api, keep_outside_mask=keep_outside_mask, feather=feather, **options)

    def extend(self, prompt: str | None = None, *, left: int = 0, right: int = 0, top: int = 0, bottom: int = 0,
               size: str | None = None, anchor: str | None = None, mask: Any = None,
               **options: Any) -> ImageResult | ImageSet:
        """Outpaint: the current image on a larger canvas (``left=`` ... pixels, or ``size="1536x1024"``
        with ``anchor="left"``: where the old image stays), the new area as the mask, sent as an edit.

        The canvas must be a size the model makes (the model table; ``ParamError`` lists those that
        fit). ``mask=painter``: a MaskPainter whose "extend" control made the canvas (its painting
        is the mask). Other options are ``edit``'s (``keep_outside_mask``, ``model``, ``quality``...)."""
        images, mask, new_size = extend_inputs(self._image_of(self.current, "extend"), options.get("model") or self.model,
                                                left=left, right=right, top=top, bottom=bottom, size=size,
                                                anchor=anchor, mask=mask)
        options.setdefault("size", new_size)
        prompt = prompt or "continue the picture into the new area, matching its scene, light and style"
        return self._edit(prompt, self.current, images, mask, None, **options)

    def _edit(self, prompt: str, parent: Turn | None, images: list | None, mask: Any, markup: Any, *,
              on_event: Callable | None = None, cancel: threading.Event | None = None, refresh: bool = False,
              api: str | None = None, keep_outside_mask: bool = False, feather: int | None = None,
              **options: Any) -> ImageResult | ImageSet:
        model = options.get("model") or self.model
        use = self._api_for(model, api)
        pinned = self.pins_carried(options.pop("pins", None))
        if pinned:
            options["pins"] = pinned
        req: ResponsesRequest | EditRequest
        if use == "responses" and markup is None:  # markup is an Image API feature
            opts = self._streaming(self._options(ResponsesRequest, options), on_event)
            if images is not None:
                req = ResponsesRequest(prompt, input_images=images, mask=mask, **opts)
            elif parent is not None and parent.response_id and not composited(parent):
                # (a keep_outside_mask composite is not what the server holds: it is sent as an image)
                # the parent's picture is not sent, but the mask is checked against it
                req = ResponsesRequest(prompt, mask=mask, previous_response_id=parent.response_id,
                                       base_image=parent.image if mask is not None else None, **opts)
            else:  # the parent came from the Image API: send its picture
                req = ResponsesRequest(prompt, input_images=[self._image_of(parent, "edit")], mask=mask, **opts)
        else:
            opts = self._streaming(self._options(EditRequest, options), on_event)
            src = images if images is not None else [self._image_of(parent, "edit")]
            req = EditRequest(prompt, images=src, mask=mask, markup=markup, **opts)
        check = edit_check(req, keep_outside_mask, feather)
        if self._fans_out(req):
            return self._variants(req, parent, "edit", refresh, check)
        turn = self.run(req, parent=parent, on_event=on_event, cancel=cancel, refresh=refresh, kind="edit",
                        check=check)
        return self._returned(turn)

    def vary(self, image: Any = None, *, on_event: Callable | None = None, cancel: threading.Event | None = None,
             refresh: bool = False, api: str | None = None, **options: Unpack[VaryOptions]) -> ImageResult | ImageSet:
        """Variations of the current turn's image (or ``image``) with dall-e-2 (always the Image API;
        ``api`` is accepted and ignored, so callers can pass the same options to every verb)."""
        parent, images = self._source(image)
        src = images[0] if images else self._image_of(parent, "vary")
        req = VariationRequest(src, **self._options(VariationRequest, options))
        turn = self.run(req, parent=parent, on_event=on_event, cancel=cancel, refresh=refresh, kind="vary")
        return self._returned(turn)

    # -- variants ------------------------------------------------------------------------------
    @staticmethod
    def _fans_out(req: ImageRequest) -> "TypeGuard[ResponsesRequest]":
        """n > 1 through the Responses API: n calls (the tool makes one image per call)."""
        return isinstance(req, ResponsesRequest) and (req.n or 1) > 1

    def _variants(self, req: ImageRequest, parent: Turn | None, kind: str, refresh: bool,
                  check: EditCheck | None = None) -> ImageSet:
        # variants are not streamed: n pictures arriving at once show as one grid when they are done
        req = req.replace(stream=False, partial_images=None)
        turns = run_variants(self, req, int(req.n or 1), parent=parent, kind=kind, refresh=refresh, check=check)
        return ImageSet([t.image for t in turns if t.image is not None])

    @property
    def variants(self) -> list[tuple[Turn, int]]:
        """The images of the newest call that made several, as ``(turn, image index)`` in order: the
        sibling turns of n Responses calls, or the n images of one Image API turn."""
        turns = self.turns
        for t in reversed(turns):
            if t.group_id:
                group = [x for x in turns if x.group_id == t.group_id and x.images]
                return [(x, 0) for x in sorted(group, key=_variant_number)]
            if t.status in ("completed", "replayed") and self.store.image_count(t.id) > 1:
                return [(t, i) for i in range(len(t.images))]
        return []

    def pick(self, i: int) -> Turn:
        """Make variant ``i`` (0-based, as in ``result[i]``) of the newest call that made several
        images the base of the next edit; returns its turn (now current)."""
        found = self.variants
        if not found:
            raise ParamError("pick", i, "the number of a variant", hint="no call of this session made several "
                             "images yet; ask for some with n=4")
        if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < len(found):
            raise ParamError("pick", i, f"0 to {len(found) - 1}", hint=f"the newest call made {len(found)} images")
        turn, index = found[i]
        return self.continue_from(turn, index)

    def continue_from(self, turn: str | Turn, index: int = 0) -> Turn:
        """Make image ``index`` of ``turn`` the base of the next edit (what a grid's "continue from
        this" does); returns the turn, now current."""
        t = self.turn(turn)
        if not 0 <= index < max(1, len(t.images)):
            raise ParamError("index", index, f"0 to {len(t.images) - 1}", hint=f"turn {t.id} has {len(t.images)} images")
        if t.picked != index:
            t.picked = index
            self.store.save_turn(t)
        return self.checkout(t)

    @staticmethod
    def _returned(turn: Turn) -> ImageResult | ImageSet:
        result = turn.result
        if result is None:
            if turn.status == "cancelled":
                return None  # type: ignore[return-value]  # cancelled before any frame arrived
            raise RuntimeError(f"turn {turn.id} has no image ({turn.status})")
        return result

    # -- the core path -------------------------------------------------------------------------
    def run(self, request: ImageRequest, *, parent: Turn | str | None = None, on_event: Callable | None = None,
            cancel: threading.Event | None = None, refresh: bool = False, kind: str | None = None,
            group_id: str | None = None, reserved: float | None = None, make_current: bool = True,
            check: EditCheck | None = None, wait: bool = True) -> Turn:
        """Validate, replay or send, store, and record ``request`` as a turn; returns the turn.

        ``reserved``: the budget already held for it (variants reserve for all n at once);
        ``check``: a masked edit's fidelity check (and ``keep_outside_mask``), see ``fidelity.py``."""
        parent_turn = self.turn_of(parent) if parent is not None else None
        extra = {"keep_outside_mask": True, "feather": check.feather} if check is not None and check.keep else None
        turn = self.recorder.begin(request, parent_turn, kind=kind, refresh=refresh, on_event=on_event,
                                   make_current=make_current, reserved=reserved, group_id=group_id, key_extra=extra)
        if turn.status == "replayed":
            return turn
        if isinstance(request, ResponsesRequest) and request.completion_window:
            job = BackgroundTurn.submit(self, request, turn)  # stored as "background" before any wait
            if wait:
                job.wait()
            return job.turn
        try:
            out = self._send(request, turn, parent_turn)
            streamed = isinstance(out, ImageStream)
            if isinstance(out, ImageStream):
                results, status = self.recorder.consume(turn, out, on_event, cancel)
            else:
                results, status = out, "completed"
        except BaseException as e:
            self.recorder.fail(turn, e)
            raise
        turn = self.recorder.finish(turn, results, status, make_current=make_current, check=check)
        if on_event is not None and not streamed:  # one event per image, stored, as a stream would end
            for img in turn.images:
                on_event(CompletedEvent(result=img))
        return turn

    def _send(self, req: ImageRequest, turn: Turn, parent: Turn | None) -> list[ImageResult] | ImageStream:
        try:
            return self.client.run(req)
        except APIError as e:
            # OpenAI answers 400 previous_response_not_found (some servers 404) for an expired response
            if not (isinstance(e, NotFoundError) or e.code == "previous_response_not_found"):
                raise
            retry = self._without_previous(req, turn, parent)
            if retry is None:
                raise
            return self.client.run(retry)

    @staticmethod
    def _without_previous(req: ImageRequest, turn: Turn, parent: Turn | None) -> ResponsesRequest | None:
        """The server no longer knows the previous response (expired, or a fresh offline server):
        continue by sending the parent's image instead."""
        if not isinstance(req, ResponsesRequest) or not req.previous_response_id or parent is None:
            return None
        img = parent.image
        if img is None:
            return None
        turn.note = (f"previous response {req.previous_response_id} was not found on the server; "
                     "continued by sending the parent turn's image")
        return req.replace(previous_response_id=None, input_images=(ImageInput.coerce(img),) + req.input_images)
