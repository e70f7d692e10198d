"""The ``imagewidgets`` command: ``imagewidgets demo``, ``serve``, ``doctor`` and ``gateway``.

    $ imagewidgets demo              # a short story on the offline backend, saved to disk
    $ imagewidgets serve --port 8765 # the offline image API for other programs (openai SDK, curl)
    $ imagewidgets doctor            # what works here; --live compares the real API with the offline one
    $ imagewidgets gateway --upstream offline   # a class gateway: one key, a token per participant
"""

from __future__ import annotations

import argparse
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
    sub.add_parser("gateway", help="run the class gateway (participants' tokens and budgets)", add_help=False)
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
    if command == "demo":
        from .demo import demo_main

        return demo_main(rest)
    parser.parse_args(argv)  # prints the usage error
    return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
