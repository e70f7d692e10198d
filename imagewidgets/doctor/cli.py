"""``imagewidgets doctor``: the local checks, and with ``--live`` the comparison with the twin.

    $ imagewidgets doctor
    $ imagewidgets doctor --live --report doctor-report.json

Exit status: 0 when nothing failed, 1 when a check failed, 2 for a usage error, 3 when ``--live``
found differences, 4 when ``--live`` was not confirmed.
"""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

__all__ = ["doctor_main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="imagewidgets doctor",
        description="Check what works here; with --live, compare the configured API with the offline backend.",
    )
    p.add_argument("--base-url", help="check this API instead of the configured one (the key still comes "
                   "from OPENAI_API_KEY: never from the command line, where other users can see it)")
    p.add_argument("--live", action="store_true",
                   help="send a short script of real requests (a few cents; asks first) and compare the "
                        "answers' shapes with the offline backend's")
    p.add_argument("--yes", action="store_true", help="with --live: do not ask (for scripts)")
    p.add_argument("--model", help="with --live: the image model to test (default: the package default)")
    p.add_argument("--report", metavar="FILE", default="imagewidgets-doctor.json",
                   help="with --live: write the redacted JSON report here (default imagewidgets-doctor.json)")
    p.add_argument("--include-prompts", action="store_true", help="with --live: put the script's prompts in the report")
    p.add_argument("--no-offline", action="store_true", help="skip starting the offline backend")
    return p


def _ask(text: str, stdin: TextIO, stdout: TextIO) -> bool:
    print(text, file=stdout)
    if not stdin.isatty():
        print("not confirmed: no terminal to ask on (pass --yes to run it anyway)", file=stdout)
        return False
    print("Continue? [y/N] ", end="", file=stdout, flush=True)
    return stdin.readline().strip().lower() in ("y", "yes")


def doctor_main(argv: list[str], stdin: TextIO | None = None, stdout: TextIO | None = None) -> int:
    stdin, stdout = stdin or sys.stdin, stdout or sys.stdout
    args = build_parser().parse_args(argv)
    from .checks import render_text, run_checks

    checks = run_checks(base_url=args.base_url, offline=not args.no_offline)
    print(render_text(checks), file=stdout, flush=True)
    failed = any(c.status == "fail" for c in checks)
    if not args.live:
        return 1 if failed else 0

    from ..api.models import DEFAULT_MODEL
    from .live import run_live

    print(file=stdout)
    confirm = (lambda text: (print(text, file=stdout), True)[1]) if args.yes else \
        (lambda text: _ask(text, stdin, stdout))
    try:
        report = run_live(base_url=args.base_url, model=args.model or DEFAULT_MODEL, confirm=confirm,
                          include_prompts=args.include_prompts)
    except Exception as e:  # one line, never a traceback (and never the key: only the class)
        from .live import redact

        print(f"imagewidgets doctor --live: stopped: {redact(f'{type(e).__name__}: {e}')}", file=stdout)
        return 1
    if report is None:
        return 4
    print(report.text(), file=stdout)
    path = report.write(args.report)
    print(f"report (no key, no images{'' if args.include_prompts else ', no prompts'}): {path}", file=stdout)
    if failed:
        return 1
    return 3 if report.differences else 0
