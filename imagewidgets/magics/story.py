"""The magics of pins and storyboards: ``%imagine_pin``, ``%imagine_unpin`` and ``%%storyboard``
(``%edit --panel N`` lives with ``%edit``). They use the same session as ``%imagine`` and, like
the other magics, turn a mistake into one line on stderr.

    %imagine a small orange fox with a blue scarf
    %imagine_pin --name Milo --role character          # the current turn, from now on in every turn
    %%storyboard
    Milo wakes up in a forest
    Milo finds a map
    Milo sets sail
    %edit --panel 2 add rain
"""

from __future__ import annotations

from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, line_magic, magics_class, no_var_expand
from IPython.core.magic_arguments import argument, magic_arguments

from . import _args as A
from ._display import LiveView
from ._run import expand, reported

__all__ = ["StoryMagics", "STORY_MAGICS"]

#: (kind, names) this module registers, for %unload_ext
STORY_MAGICS = {"line": ("imagine_pin", "imagine_unpin", "storyboard"), "cell": ("storyboard",)}


@magics_class
class StoryMagics(Magics):
    """Pins and storyboards; ``main`` is the ``ImageMagics`` whose session they share."""

    def __init__(self, shell: Any, main: Any) -> None:
        super().__init__(shell)
        self.main = main

    def _complain(self, text: str) -> None:  # what _reported calls for a mistake
        self.main._complain(text)

    @line_magic
    @no_var_expand
    @reported("imagine_pin")
    @magic_arguments()
    @argument("what", nargs="?", help="what to pin: a turn id, a variable holding an image, or a file "
                                      "(default: the current turn)")
    @argument("--name", required=True, metavar="NAME", help="the pin's name, as the instruction says it (Milo)")
    @argument("--role", default="character", choices=("character", "style", "place"),
              help="what it keeps: a character's look, a style's palette, a place's layout (default character)")
    @A.options("session")
    def imagine_pin(self, line: str = "", cell: str | None = None) -> Any:
        """Pin a picture: every later turn of the session sends it as a reference, named.

        Examples::

            %imagine_pin --name Milo                       # the current turn, as a character
            %imagine_pin turn_1a2b3c4d5e6f --name Harbour --role place
            %imagine_pin style.png --name Ink --role style
        """
        args = A.parse(self.imagine_pin, line)
        session = self.main.session(args.session, "imagine_pin")
        what = A.resolve_image(args.what, self.shell, session) if args.what else None
        pin = session.pin(what, name=args.name, role=args.role)
        print(f"pinned {pin.name!r} ({pin.role}); every turn now carries: "
              + ", ".join(p.name for p in session.pins()))
        return None

    @line_magic
    @no_var_expand
    @reported("imagine_unpin")
    @magic_arguments()
    @argument("names", nargs="*", help="the pins to remove (by name)")
    @argument("--all", action="store_true", dest="everything", help="remove every pin")
    @A.options("session")
    def imagine_unpin(self, line: str = "", cell: str | None = None) -> Any:
        """Stop sending pins: ``%imagine_unpin Milo``, or ``%imagine_unpin --all``."""
        args = A.parse(self.imagine_unpin, line)
        if not args.names and not args.everything:
            raise UsageError("name the pins to remove, or --all")
        session = self.main.session(args.session, "imagine_unpin")
        gone = session.unpin(None if args.everything else args.names)
        left = ", ".join(p.name for p in session.pins()) or "none"
        print(f"unpinned {', '.join(p.name for p in gone) or 'nothing'}; pins now: {left}")
        return None

    @line_cell_magic
    @no_var_expand
    @reported("storyboard")
    @magic_arguments()
    @argument("--pins", metavar="NAMES", help="comma-separated pin names to carry (default: every pin)")
    @argument("--no-pins", action="store_true", dest="no_pins", help="carry no pins")
    @argument("--concurrency", type=A.whole(1, 8), default=3, metavar="N", help="panels in flight at once (1-8)")
    @A.options(*A.OUTPUT, "session", "out", "no_display", "refresh")
    def storyboard(self, line: str = "", cell: str | None = None) -> Any:
        """One picture per line of the cell, each carrying the session's pins, shown as a strip.

        Examples::

            %%storyboard
            Milo wakes up in a forest
            Milo finds a map
            Milo sets sail

            %%storyboard --pins Milo -q low --out board
            ...

        Then ``%edit --panel 2 add rain`` edits panel 2, ``board.redo(2)`` draws it again and
        ``board.export("milo.html")`` (or ``.png``) writes the strip.
        """
        args = A.parse(self.storyboard, line)
        if not cell or not cell.strip():
            raise UsageError("%%storyboard takes its panels from the cell, one per line")
        if args.pins and args.no_pins:
            raise UsageError("--pins and --no-pins say opposite things: give one")
        pins: Any = False if args.no_pins else [n.strip() for n in args.pins.split(",") if n.strip()] if args.pins else None
        session = self.main.session(args.session, "storyboard")
        panels = [expand(self.shell, p) for p in cell.splitlines() if p.strip()]
        board = session.storyboard(panels, pins=pins, concurrency=args.concurrency, refresh=args.refresh,
                                   **A.request_options(args))
        if args.out:
            self.main.user_ns[args.out] = board
        if not args.no_display:
            show_board(self.shell, board)
        self.main.guard.shown(board)
        return board


def show_board(shell: Any, board: Any) -> None:
    """The strip as a widget (redo buttons, pin toggles); its static HTML where widgets do not render."""
    from ..widgets.storyboard import StoryboardStrip

    LiveView(shell).show(StoryboardStrip(board))
