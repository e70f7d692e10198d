"""The ``imagewidgets`` command: ``imagewidgets demo``, ``serve`` and ``doctor``.

    $ imagewidgets demo              # a short story on the offline backend, saved to disk
    $ imagewidgets serve --port 8765 # the offline image API for other programs (openai SDK, curl)
    $ imagewidgets doctor            # what works here; --live compares the real API with the offline one
"""

from __future__ import annotations

import argparse
import sys

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="imagewidgets", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("demo", help="run the demo on the offline backend", add_help=False)
    sub.add_parser("serve", help="serve the offline image API over HTTP", add_help=False)
    sub.add_parser("doctor", help="check what works here (--live: compare the real API with the offline one)",
                   add_help=False)
    if not argv or argv[0] in ("-h", "--help"):
        parser.print_help()
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    if command == "serve":
        from .offline.cli import serve_main

        return serve_main(rest)
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
