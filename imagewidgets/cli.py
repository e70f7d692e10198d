"""The ``imagewidgets`` command: ``demo``, ``serve``, ``doctor``, ``gateway``, ``pack`` and ``unpack``.

    $ imagewidgets demo                          # a short story on the offline backend, saved to disk
    $ imagewidgets serve --port 8765             # the offline image API for other programs (openai SDK, curl)
    $ imagewidgets doctor                        # what works here; --live compares the real API with the offline one
    $ imagewidgets models                        # each model's shutdown date and status today (from the server's list)
    $ imagewidgets gateway --upstream offline    # a class gateway: one key, a token per participant
    $ imagewidgets pack harbour.ipynb -o harbour.zip     # the notebook + the images and records it uses
    $ imagewidgets unpack harbour.zip -C elsewhere/      # restore them; re-running replays from the store
"""

from __future__ import annotations

import argparse
import re
import sys

__all__ = ["main", "plain"]

_EXAMPLES = """examples:
  imagewidgets demo                 a short story on the offline backend, saved to disk
  imagewidgets serve --port 8765    the offline image API for other programs (openai SDK, curl)
  imagewidgets doctor               what works here; --live compares the real API with the offline one
  imagewidgets gateway --upstream offline   a class gateway: one key, a token and a budget per participant
  imagewidgets COMMAND --help       the switches of one command"""


def plain(docstring: str | None) -> str:
    """The first line of a docstring as terminal text: reST's ``literal`` marks dropped."""
    return (docstring or "").strip().splitlines()[0].replace("``", "") if docstring else ""


def version() -> str:
    from . import __version__

    return __version__


def _pack_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("pack", help="bundle a notebook with the store records and images its outputs use",
                       description="Bundle NOTEBOOK with exactly the turns and images its outputs and their chains "
                       "reference, so that re-running it replays every call from the store.")
    p.add_argument("notebook", metavar="NOTEBOOK.ipynb")
    p.add_argument("-o", "--output", metavar="NAME.zip", help="the pack to write (default: NOTEBOOK.zip)")
    p.add_argument("--store", metavar="FOLDER", help="where the images are stored (default: $IMAGEWIDGETS_STORE, "
                   "else imagewidgets-data beside the notebook)")
    u = sub.add_parser("unpack", help="restore a pack: the notebook and its store records and images",
                       description="Restore a pack made by 'imagewidgets pack': the notebook into a folder, its "
                       "turns and images into the store beside it. Nothing in the pack is trusted.")
    u.add_argument("pack", metavar="NAME.zip")
    u.add_argument("-C", "--dir", default=".", metavar="FOLDER", help="where to put the notebook (default: here)")
    u.add_argument("--store", metavar="FOLDER", help="the store to restore into (default: FOLDER/imagewidgets-data)")
    u.add_argument("--force", action="store_true", help="replace a notebook of the same name")


def _packs(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .session.pack import PackError, pack, unpack

    try:
        if args.command == "pack":
            out = args.output or str(Path(args.notebook).with_suffix(".zip"))
            print(f"packed {pack(args.notebook, out, store=args.store)}")
        else:
            print(f"unpacked {unpack(args.pack, args.dir, store=args.store, force=args.force)}")
    except (PackError, OSError) as e:
        print(f"imagewidgets {args.command}: {e}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(
        prog="imagewidgets", description="OpenAI's image APIs in Jupyter, and an offline twin of them.",
        epilog=_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"imagewidgets {version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("demo", help="run the demo on the offline backend", add_help=False)
    sub.add_parser("serve", help="serve the offline image API over HTTP", add_help=False)
    sub.add_parser("doctor", help="check what works here (--live: compare the real API with the offline one)",
                   add_help=False)
    sub.add_parser("models", help="model lifecycle: shutdown dates and status today", add_help=False)
    sub.add_parser("gateway", help="run the class gateway (participants' tokens and budgets)", add_help=False)
    _pack_parser(sub)
    if not argv or argv[0] in ("-h", "--help", "--version"):
        if argv and argv[0] == "--version":
            print(f"imagewidgets {version()}")
            return 0
        parser.print_help()
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    if command == "serve":
        from .offline.cli import serve_main

        return serve_main(rest)
    if command == "gateway":
        from .gateway.cli import gateway_main

        return gateway_main(rest)
    if command == "doctor":
        from .doctor.cli import doctor_main

        return doctor_main(rest)
    if command == "models":
        return models_main(rest)
    if command == "demo":
        return demo_main(rest)
    args = parser.parse_args(argv)  # pack, unpack; or prints the usage error
    return _packs(args)


def demo_main(argv: list[str] | None = None) -> int:
    """``imagewidgets demo``: its switches are read here, its help is the demo module's first line
    (as terminal text, like every command's), and ``demo.run_demo`` does the work."""
    from pathlib import Path

    from . import demo

    parser = argparse.ArgumentParser(prog="imagewidgets demo", description=plain(demo.__doc__))
    parser.add_argument("--out", default="imagewidgets-demo", help="folder for images and the report")
    parser.add_argument("--online", action="store_true",
                        help="use OPENAI_API_KEY / OPENAI_BASE_URL instead of the offline renderer")
    args = parser.parse_args(argv)
    demo.run_demo(Path(args.out).resolve(), online=args.online)
    return 0


def models_main(argv: list[str]) -> int:
    """Print every model's lifecycle as of today (or ``--as-of``): on api.openai.com from its models
    list where it says so, else from the model table (the ``source`` column tells which)."""
    from datetime import date

    from .api.client import Client
    from .api.lifecycle import lifecycle_table

    p = argparse.ArgumentParser(prog="imagewidgets models", description=models_main.__doc__)
    p.add_argument("--as-of", metavar="YYYY-MM-DD", help="the day to judge the status on (default: today, UTC)")
    p.add_argument("--all", action="store_true", help="also the mainline models' dated snapshots")
    args = p.parse_args(argv)
    try:
        day = date.fromisoformat(args.as_of) if args.as_of else None
    except ValueError:
        print(f"imagewidgets models: --as-of {args.as_of[:40]!r} is not a date like 2026-12-02", file=sys.stderr)
        return 2
    client = Client(save_dir=False)
    try:
        rows = client.models() if client.config.is_openai else lifecycle_table()
        if day is not None:
            rows = lifecycle_table(None, day) if not client.config.is_openai else [
                {**r, "status": _status(r["shutdown_date"], day)} for r in rows]
    finally:
        client.close()
    print(f"{'model':<34}{'kind':<10}{'status':<15}{'shutdown':<12}{'replacement':<24}source")
    for r in rows:
        if not args.all and r["kind"] == "mainline" and re.search(r"-\d{4}-\d{2}-\d{2}$", r["model"]):
            continue
        print(f"{r['model']:<34}{r['kind']:<10}{r['status']:<15}{r['shutdown_date'] or '—':<12}"
              f"{r['replacement'] or '':<24}{r['source']}")
    return 0


def _status(shutdown: str | None, day) -> str:
    if not shutdown:
        return "live"
    return "shut down" if day.isoformat() >= shutdown else "shutting down"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
