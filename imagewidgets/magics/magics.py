"""IPython magics: ``%imagine``, ``%%imagine``, ``%edit``, ``%%edit``, ``%vary``, ``%imagine_config``,
``%imagine_history``, and the extension entry points (``%load_ext imagewidgets``).

A magic parses its line (``_magic_args``), calls the ``Session`` (``docs/session-api.md``), shows
the image itself (partial frames replace each other live while streaming) and returns it, so
``img = %imagine ...`` works. A mistake is one line on stderr, never a traceback.
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, line_magic, magics_class, no_var_expand
from IPython.core.magic_arguments import argument, magic_arguments

from . import _args as A
from ._display import LiveView, OutGuard
from ._run import expand, reported
from ..api.errors import ParamError, RetryWaitWarning
from ..api.models import DEFAULT_RESPONSES_MODEL

__all__ = ["ImageMagics", "load_ipython_extension", "unload_ipython_extension", "banner"]

_MAGICS = {"line": ("imagine", "edit", "imedit", "vary", "imagine_config", "imagine_history", "imagine_doctor"),
           "cell": ("imagine", "edit", "imedit")}


@magics_class
class ImageMagics(Magics):
    """The image magics. Loaded by ``%load_ext imagewidgets``."""

    def __init__(self, shell: Any = None) -> None:
        super().__init__(shell)
        self.guard = OutGuard(shell)
        self._session: Any = None  # a Session set by %imagine_config --session VAR
        self._named: dict[str, Any] = {}

    # -- helpers ------------------------------------------------------------------------------
    @property
    def user_ns(self) -> dict[str, Any]:
        """The notebook's variables (magics are registered on a shell, so it is there)."""
        return self.shell.user_ns if self.shell is not None else {}

    def _complain(self, text: str) -> None:
        print(" ".join(text.split("\n")), file=sys.stderr)

    def session(self, ref: str | None = None, magic: str = "imagine") -> Any:
        """The session a magic uses: ``--session`` (a variable or a name), else the default. A name
        with no turns in the store starts a new session, and ``%magic: note:`` says so."""
        from ..session.session import Session, default_session

        if ref is None:
            return self._session if self._session is not None else default_session()
        value = self.user_ns.get(ref) if ref.isidentifier() else None
        if isinstance(value, Session):
            return value
        if value is not None:
            raise ParamError("session", ref, "a variable holding a Session, or a session name",
                             hint=f"{ref} holds {_a(type(value).__name__)}")
        current = self.session()
        if current.name == ref:
            return current
        if ref not in self._named:
            session = self._named[ref] = Session(ref)
            if not session.turns:
                others = [n for n in session.store.sessions() if n != ref]
                self._complain(f"%{magic}: note: no session {ref!r} in {session.store.folder}, so a new one "
                               f"starts" + (f" (it has: {', '.join(others[:8])})" if others else ""))
        return self._named[ref]

    def _prompt(self, args: Any, cell: str | None, magic: str) -> str:
        # variables expand here, in the prompt's words only, after the line was split into
        # options: a variable's text is prompt text, never an option
        words = expand(self.shell, " ".join(args.prompt or []))
        body = expand(self.shell, cell).strip() if cell else ""
        prompt = "\n".join(p for p in (words, body) if p)
        if not prompt:
            raise UsageError(f"a prompt is needed, e.g. %{magic} a lighthouse at dusk, watercolour")
        return prompt

    def _deliver(self, result: Any, args: Any, live: LiveView | None, session: Any = None) -> Any:
        """Show (once), assign ``--out``, return."""
        if result is None:  # cancelled before any frame arrived
            return None
        if args.out:
            self.user_ns[args.out] = result
        if not args.no_display:
            (live or LiveView(self.shell)).show(self._grid(result, session), preview=args.preview)
        self.guard.shown(result)  # shown above (or not wanted): no second copy as Out[n]
        return result

    def _call(self, verb: str, args: Any, **kwargs: Any) -> Any:
        if args.preview is not None:  # refused before anything is sent
            from ..api.preview import Preview

            args.preview = Preview.parse(args.preview)
        session = self.session(args.session, verb)
        options = A.request_options(args)
        live = None
        if getattr(args, "mask", None):
            kwargs["mask"] = A.resolve_image(args.mask, self.shell, session, param="mask")
        if options.get("partial_images") and not args.no_display:
            live = LiveView(self.shell, mask=kwargs.get("mask"))
            kwargs["on_event"] = live.on_event
        if getattr(args, "keep_outside_mask", False):
            kwargs["keep_outside_mask"] = True
        if getattr(args, "feather", None) is not None:
            kwargs["feather"] = args.feather
        if verb not in ("imagine", "extend"):
            images = A.resolve_images(args.images, self.shell, session)
            if not images and (session.current is None or session.current.image is None):
                raise UsageError(f"there is no image to {verb} yet in session {session.name!r}: run %imagine "
                                 "first, or pass --image (a file, a variable holding an image, or a turn id)")
            # one reference is passed as itself: a turn then continues its chain (previous_response_id)
            kwargs["image"] = images[0] if images and len(images) == 1 else images
        caught: list[Warning] = []

        def show(message: Any, category: Any, *rest: Any, **kw: Any) -> None:
            if isinstance(message, RetryWaitWarning):  # a long wait is said now, not after it
                self._complain(f"%{verb}: note: {message}")
            else:
                caught.append(message)

        with warnings.catch_warnings():
            warnings.simplefilter("always")
            warnings.showwarning = show  # restored by catch_warnings
            client = getattr(session, "client", None)
            before = getattr(client, "retry_refused", False)
            if client is not None and getattr(args, "retry_refused", False):
                client.retry_refused = True  # for this call only
            try:
                result = getattr(session, verb)(refresh=args.refresh, **kwargs, **options)
            finally:
                if client is not None:
                    client.retry_refused = before
                self._notes(verb, caught)
        return self._deliver(result, args, live, session)

    @staticmethod
    def _grid(result: Any, session: Any) -> Any:
        """Several images from one call show as a ``VariantGrid``: "continue from this" under each."""
        from ..api.results import ImageSet

        if not isinstance(result, ImageSet) or session is None:
            return result
        items = session.variants
        if [t.images[i].data for t, i in items] != [r.data for r in result]:
            return result
        from ..widgets.variants import VariantGrid

        return VariantGrid(session, items)

    def _pick(self, session: Any, number: int) -> None:
        """``--pick N``: variant N (1-based, as the grid numbers them) becomes the base of the edit."""
        found = session.variants
        if not found:
            raise ParamError("pick", number, "the number of a variant", hint="no call of this session made "
                             "several images yet; ask for some with -n 4")
        if not 1 <= number <= len(found):
            raise ParamError("pick", number, f"1 to {len(found)}", hint=f"the newest call made {len(found)} images")
        session.pick(number - 1)

    def _notes(self, verb: str, caught: list) -> None:
        """Warnings (an unknown or retired model) as one line each, once, without file and line."""
        seen: list[str] = []
        for w in caught:
            text = str(w)
            if text not in seen:
                seen.append(text)
                self._complain(f"%{verb}: note: {text}")

    # -- %imagine ------------------------------------------------------------------------------
    @line_cell_magic
    @no_var_expand
    @reported("imagine")
    @magic_arguments()
    @argument("prompt", nargs="*", help="the prompt (or the cell body, with %%%%imagine)")
    @A.options(*A.OUTPUT, *A.COMMON)
    def imagine(self, line: str = "", cell: str | None = None) -> Any:
        """Make an image from a prompt; it is shown, stored, and returned.

        Examples::

            %imagine a lighthouse at dusk, watercolour
            %imagine a lighthouse at dusk -s 1536x1024 -q low -n 2
            %imagine a {animal} in the style of $style        # variables expand in the prompt
            img = %imagine a paper boat on a pond -p 2          # 2 partial frames stream in place
            %imagine a red kite --out kite --no-display         # kite = the result, nothing shown
            %imagine a poster -m gpt-image-2.5-sunburst -f jpeg --compression 80 -b opaque
            %imagine a logo --api images                        # the Image API instead of Responses

            %%imagine -s 1024x1536 -q high
            A tall travel poster of a lighthouse at dusk.
            Bold flat colours, the word "HARBOUR" at the top.

        With ``%%imagine`` the cell body is the prompt (``{var}`` and ``$var`` expand; write
        ``{{``, ``}}`` or ``$$`` for the characters themselves). Options may come anywhere on the
        line; quote a word that starts with ``-``, or put ``--`` before the prompt. Variables
        expand only inside the prompt, after the options are read: a variable holding
        ``--model x`` is prompt text, and option values are taken as typed.

        The image becomes the session's current turn, so ``%edit`` continues from it. A request
        identical to an earlier one is replayed from the store at no cost (``--refresh`` to ask
        again). Without OPENAI_API_KEY the offline renderer draws procedural pictures (not AI).
        """
        args = A.parse(self.imagine, line)
        prompt = self._prompt(args, cell, "imagine")
        return self._call("imagine", args, prompt=prompt)

    # -- %edit -----------------------------------------------------------------------------------
    @line_cell_magic
    @no_var_expand
    @reported("edit")
    @magic_arguments()
    @argument("prompt", nargs="*", help="what to change (or the cell body, with %%%%edit)")
    @A.options("image", "mask", "keep_outside", "feather", "pick", "panel", "extend", "anchor", *A.EDIT, *A.OUTPUT,
               *A.COMMON)
    def edit(self, line: str = "", cell: str | None = None) -> Any:
        """Edit an image: by default the session's current one (the previous cell's image).

        Each ``%edit`` continues from the image before it, so cells form an edit chain (with the
        Responses API, through ``previous_response_id``). ``--image`` edits other images instead.

        Examples::

            %imagine a lighthouse at dusk, watercolour
            %edit add a red sailing boat                      # edits the lighthouse
            %edit make it winter, snow on the rocks           # edits the boat picture
            %edit put the cat in a hat --image cat.png --image hat.png -m gpt-image-2.6-sunburst
            %edit a pond with lilies --mask painter           # painter = MaskPainter(...): edit where painted
            %edit a pond --mask painter --keep-outside --feather 8   # outside the mask: the parent's pixels
            %edit as a pencil sketch --image img              # img: an ImageResult, PIL image, bytes...
            %edit brighter --image turn_1a2b3c4d5e6f          # branch from an earlier turn
            %imagine a lighthouse -n 4                        # 4 variants in a grid, numbered 1-4
            %edit add a boat --pick 3                         # continue from variant 3
            %edit more beach --extend 1536x1024 --anchor left # outpaint: the picture stays on the left
            %edit add rain --panel 2                          # panel 2 of the newest %%storyboard

        Note: IPython has its own ``%edit`` line magic (it opens a text editor). Loading
        imagewidgets replaces it with this one on purpose; IPython's stays reachable as
        ``%ipython_edit``, and ``%imedit`` is an alias of this magic that collides with nothing.
        """
        args = A.parse(self.edit, line)
        prompt = self._prompt(args, cell, "edit")
        if args.panel is not None:
            return self._edit_panel(args, prompt)
        if args.pick is not None:
            if args.images:
                raise UsageError("--pick and --image both say what to edit: give one of them")
            self._pick(self.session(args.session, "edit"), args.pick)
        if args.extend is not None:
            if args.images or args.size:
                raise UsageError("--extend WxH is the new canvas: it takes no --image and no -s/--size")
            try:
                return self._call("extend", args, prompt=prompt, size=args.extend, anchor=args.anchor)
            except ParamError as e:  # the canvas size was typed as --extend: say it in those words
                if e.param != "size":
                    raise
                raise ParamError("extend", e.value, e.allowed, model=e.model, hint=e.hint) from None
        if args.anchor is not None:
            raise UsageError("--anchor says where the picture stays with --extend WxH")
        return self._call("edit", args, prompt=prompt)

    def _edit_panel(self, args: Any, prompt: str) -> Any:
        """``%edit --panel N``: edit panel N of the newest storyboard; show the strip, return the image."""
        if args.images or args.pick is not None or args.extend is not None:
            raise UsageError("--panel says what to edit: it takes no --image, --pick or --extend")
        session = self.session(args.session, "edit")
        boards = session.storyboards()
        if not boards:
            raise UsageError(f"session {session.name!r} has no storyboard yet: make one with %%storyboard")
        board = boards[-1]
        turn = board.edit(args.panel, prompt, refresh=args.refresh, **A.request_options(args))
        if args.out:
            self.user_ns[args.out] = turn.image
        if not args.no_display:
            from .story import show_board

            show_board(self.shell, board)
        self.guard.shown(turn.image)
        return turn.image

    @line_cell_magic
    @no_var_expand
    def imedit(self, line: str = "", cell: str | None = None) -> Any:
        edit: Any = self.edit  # IPython types a decorated magic as "it or a decorator"; it is the magic
        return edit(line, cell)

    imedit.__doc__ = "Alias of %edit (a name no other magic uses).\n\n" + (edit.__doc__ or "")

    # -- %vary -----------------------------------------------------------------------------------
    @line_magic
    @no_var_expand
    @reported("vary")
    @magic_arguments()
    @A.options("image", *A.VARY, *A.COMMON)
    def vary(self, line: str = "", cell: str | None = None) -> Any:
        """Variations of an image with dall-e-2 (the current image unless ``--image``).

        Examples::

            %vary -n 3 -s 512x512
            %vary --image logo.png -n 2 --out variants

        Only dall-e-2 makes variations (a square PNG under 4 MB). It was retired on api.openai.com
        on 2026-05-12; the offline renderer and compatible servers still serve it.
        """
        args = A.parse(self.vary, line)
        if args.model is None:
            args.model = "dall-e-2"
        return self._call("vary", args)

    # -- %imagine_config -------------------------------------------------------------------------
    @line_magic
    @reported("imagine_config")
    @magic_arguments()
    @A.config_options
    @argument("--api", help="images or responses (default: chosen per model)")
    @argument("--responses-model", dest="responses_model", metavar="MODEL",
              help=f"the mainline model Responses turns are sent with (default {DEFAULT_RESPONSES_MODEL})")
    @argument("--store", metavar="FOLDER", help="the folder images and their index are stored in")
    @argument("--budget", metavar="USD", help="stop before a request would take the session past this "
              "many dollars (none: no budget)")
    @argument("--base-url", dest="base_url", metavar="URL",
              help="an OpenAI-compatible server, e.g. https://api.openai.com/v1; 'offline' for the "
              "offline renderer (the key comes from OPENAI_API_KEY unless --api-key gives one)")
    @argument("--api-key", dest="api_key", metavar="KEY",
              help="the key to send, e.g. the participant token of a class gateway (it is saved with "
              "the notebook: keep a real key in OPENAI_API_KEY instead); never shown")
    @argument("--session", metavar="SESSION", help="a variable holding a Session (used as is), or the "
              "name of the default session")
    @argument("--preview", metavar="PREVIEW", help="how outputs embed images: webp (default, longest "
              "side 768), a side (1024), a format (jpeg, png), both (webp:512), or full (the originals)")
    def imagine_config(self, line: str = "", cell: str | None = None) -> None:
        """Show or set the defaults the magics use. With no option, shows them.

        ``none`` (or ``default``) as a value removes a setting.

        Examples::

            %imagine_config
            %imagine_config -m gpt-image-2 -s 1536x1024 -q low --budget 2
            %imagine_config --store ./workshop-images --session harbour
            %imagine_config --base-url http://localhost:8000/v1   # a compatible server
            %imagine_config --base-url offline                     # back to the offline renderer
            %imagine_config --responses-model gpt-5.5              # the mainline model of Responses turns
            %imagine_config --base-url http://10.0.0.5:8080/v1 --api-key iwp_...   # a class gateway
            %imagine_config --session s                            # s = Session(..., client=...)
            %imagine_config --preview full                         # embed originals, not previews
        """
        from ..api.config import settings as shared
        from ..session.session import Session, configure

        args = A.parse(self.imagine_config, line)
        if args.preview is not None:
            from ..api.preview import set_preview

            set_preview(None if args.preview.lower() in ("none", "default") else args.preview)
            args.preview = None
        values = {k: v for k, v in vars(args).items() if v is not None}
        if "api" in values and values["api"] not in ("images", "responses", "none", "default"):
            raise ParamError("api", values["api"], "images, responses, none")
        settings: dict[str, Any] = {}
        for key, value in values.items():
            value = None if value.lower() in ("none", "default") else value
            if key == "budget":
                key, value = "budget_usd", None if value is None else _usd(value)
            if key == "session":
                held = self.user_ns.get(value) if value and value.isidentifier() else None
                if isinstance(held, Session):
                    self._session = held
                    continue
            settings[key] = value
        if settings:
            if {"store", "base_url", "session"} & set(settings):
                self._session, self._named = None, {}
            configure(**settings)
            if self._session is not None:  # a session given with --session VAR follows these settings too
                shared.apply(self._session, set(settings))
        print(self._summary())

    def _summary(self) -> str:
        s = self.session()
        parts = [f"backend: {s.client.backend}", f"store: {s.store.folder}", f"session: {s.name!r}",
                 f"model: {s.model}", f"api: {s.api or 'auto'}"]
        parts += [f"{k}: {v}" for k, v in s.defaults.items() if k != "responses_model"]
        parts.append(f"responses model: {s.responses_model}")
        if s.budget_usd is not None:
            parts.append(f"budget: ${s.budget_usd:.2f} (spent ${s.spent_usd:.4f})")
        from ..api.preview import Preview, preview_settings

        if preview_settings() != Preview():
            parts.append(f"preview: {preview_settings()}")
        return "imagewidgets · " + " · ".join(parts)

    # -- %imagine_history ------------------------------------------------------------------------
    @line_magic
    @reported("imagine_history")
    @magic_arguments()
    @argument("--lineage", action="store_true", help="show the tree of turns as thumbnails")
    @argument("--all", action="store_true", dest="all_columns",
              help="every field (ids, revised prompt, tokens, time...), not the compact columns")
    @argument("--page", type=A.whole(1, 10**9), metavar="N", default=1,
              help="page N (50 turns a page, newest first; default 1)")
    @argument("--search", metavar="TEXT", help="only the turns whose prompt contains TEXT")
    @argument("--checkout", metavar="TURN", help="make an earlier turn current: the next %%edit branches from it")
    @argument("--rerun", metavar="TURN", help="re-run this turn's branch with --to MODEL, as new turns, and show "
                                              "old and new side by side with their costs (a migration)")
    @argument("--to", metavar="MODEL", help="the model --rerun uses")
    @A.options("session")
    def imagine_history(self, line: str = "", cell: str | None = None) -> Any:
        """The session's turns, newest 50: #, kind, prompt, model, size/quality, cost, status and a
        thumbnail (``--all`` every field; ``--lineage`` the tree; ``--page``, ``--search``).

        Examples::

            %imagine_history
            %imagine_history --all
            %imagine_history --lineage
            %imagine_history --page 2 --search lighthouse
            %imagine_history --checkout turn_1a2b3c4d5e6f     # then %edit branches from it
            %imagine_history --rerun turn_1a2b3c4d5e6f --to gpt-image-2   # migrate a branch
            h = %imagine_history --session harbour            # h.rows, h.to_pandas(), h.next()
        """
        args = A.parse(self.imagine_history, line)
        session = self.session(args.session, "imagine_history")
        if args.rerun or args.to:
            if not (args.rerun and args.to):
                raise ParamError("rerun", args.rerun or args.to, "--rerun TURN --to MODEL",
                                 hint="both are needed: the turn whose branch to re-run, and the model")
            try:
                session.turn(args.rerun)
            except KeyError:
                raise ParamError("turn", args.rerun, "a turn id of this session (see %imagine_history)",
                                 hint=f"no such turn in {session.name!r}") from None
            compared = session.rerun(args.rerun, model=args.to)
            LiveView(self.shell).show(compared)
            self.guard.shown(compared)
            return compared
        if args.checkout:
            try:
                turn = session.checkout(args.checkout)
            except KeyError:
                raise ParamError("turn", args.checkout, "a turn id of this session (see %imagine_history)",
                                 hint=f"no such turn in {session.name!r}") from None
            print(f"current turn: {turn.id} ({turn.prompt or turn.kind}); the next %edit continues from it")
            return None
        if args.lineage:
            view = session.lineage(page=args.page, search=args.search)
        else:
            view = session.history(page=args.page, search=args.search,
                                   columns="all" if args.all_columns else "compact")
        LiveView(self.shell).show(view)
        self.guard.shown(view)
        return view

    # -- %imagine_provenance ---------------------------------------------------------------------
    @line_magic
    @reported("imagine_provenance")
    @magic_arguments()
    @argument("turn", nargs="?", default=None, help="a turn id (default: the current turn)")
    @argument("--index", type=A.whole(0, 99), metavar="N", default=0, help="which image of the turn (default 0)")
    @A.options("session")
    def imagine_provenance(self, line: str = "", cell: str | None = None) -> Any:
        """Ask the API whether a turn's stored original still carries its provenance: the C2PA
        manifest (found, and does it validate?) and the SynthID watermark
        (``POST /v1/content_provenance_checks``; the file is sent byte for byte).

        Examples::

            %imagine_provenance
            %imagine_provenance turn_1a2b3c4d5e6f --index 1
            check = %imagine_provenance --session harbour

        Previews, ``keep_outside_mask`` composites and exports' thumbnails are new files without a
        manifest; the store keeps each original, which this checks.
        """
        args = A.parse(self.imagine_provenance, line)
        session = self.session(args.session, "imagine_provenance")
        try:
            check = session.provenance(args.turn, args.index)
        except KeyError:
            raise ParamError("turn", args.turn, "a turn id of this session (see %imagine_history)",
                             hint=f"no such turn in {session.name!r}") from None
        LiveView(self.shell).show(check)
        self.guard.shown(check)
        return check

    # -- %imagine_doctor -------------------------------------------------------------------------
    @line_magic
    @reported("imagine_doctor")
    @magic_arguments()
    @argument("--no-offline", action="store_true", help="skip starting the offline backend")
    def imagine_doctor(self, line: str = "", cell: str | None = None) -> Any:
        """What works here, one line each (ok / warn / fail, and the fix): Python and packages,
        the backend and where it was configured, the key (never shown), the store folder, the
        widget front-end extensions, VS Code / Colab, the offline backend, model lifecycle.

        Examples::

            %imagine_doctor
            %imagine_doctor --no-offline

        ``imagewidgets doctor --live`` in a terminal also compares the real API with the offline one.
        """
        args = A.parse(self.imagine_doctor, line)
        from ..doctor.checks import DoctorReport, run_checks

        report = DoctorReport(run_checks(offline=not args.no_offline))
        LiveView(self.shell).show(report)
        self.guard.shown(report)
        return report


def _a(noun: str) -> str:
    return ("an " if noun[:1].lower() in "aeiou" else "a ") + noun


def _usd(text: str) -> float:
    try:
        value = float(text.lstrip("$"))
    except ValueError:
        raise ParamError("budget", text, "an amount in US dollars, e.g. 2.50, or none") from None
    if value < 0:
        raise ParamError("budget", value, "an amount of at least 0, or none")
    return value


# -- the extension ---------------------------------------------------------------------------------


def banner(shell: Any = None) -> str:
    """Two short lines shown on load: the backend (never the key) and store folder; the magics, with the
    ``%edit`` note."""
    from ..api.config import resolve, settings
    from ..session.store import default_folder

    folder = Path(settings.get("folder") or default_folder())
    try:  # beside the notebook: said the same way in every checkout of it
        if folder.resolve().is_relative_to(Path.cwd().resolve()):
            folder = Path(os.path.relpath(folder.resolve(), Path.cwd().resolve()))
    except OSError:
        pass
    return (f"imagewidgets: {resolve().describe()}; images in {folder}\n"
            "%imagine %edit (or %imedit) %vary %imagine_config %imagine_history · IPython's %edit: %ipython_edit")


_loaded: dict[int, tuple[ImageMagics, Any]] = {}


def load_ipython_extension(ip: Any) -> None:
    """``%load_ext imagewidgets``: register the magics and say which backend is in use."""
    if id(ip) in _loaded:
        return
    # resolved now (IPython 9 loads some magics lazily): a later lazy load must not take %edit back
    previous_edit = ip.find_line_magic("edit")
    if previous_edit is not None:
        ip.register_magic_function(previous_edit, "line", "ipython_edit")
    magics = ImageMagics(ip)
    ip.register_magics(magics)
    from .story import StoryMagics

    ip.register_magics(StoryMagics(ip, magics))
    magics.guard.install()
    _loaded[id(ip)] = (magics, previous_edit)
    print(banner(ip))


def unload_ipython_extension(ip: Any) -> None:
    """``%unload_ext imagewidgets``: remove the magics and give ``%edit`` back to IPython."""
    magics, previous_edit = _loaded.pop(id(ip), (None, None))
    if magics is None:
        return
    magics.guard.uninstall()
    table = ip.magics_manager.magics
    from .story import STORY_MAGICS

    for kind, names in [*_MAGICS.items(), *STORY_MAGICS.items()]:
        for name in names:
            table[kind].pop(name, None)
    if previous_edit is not None:
        table["line"]["edit"] = previous_edit
        table["line"].pop("ipython_edit", None)
