"""``imagewidgets serve``: the offline image API in the foreground, for the openai SDK, curl or a workshop.

    $ imagewidgets serve --port 8765 --partial-interval 0.3 --state-dir ./offline-state
    imagewidgets offline image API on http://127.0.0.1:8765/v1 - offline renderer (procedural, not AI)

Flags override the ``IMAGEWIDGETS_OFFLINE_*`` environment variables (see ``imagewidgets.offline.config``).
"""

from __future__ import annotations

import argparse
import sys

from .config import OfflineConfig, words

__all__ = ["serve_main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="imagewidgets serve",
        description="Serve OpenAI's image API offline: pictures are drawn procedurally (not AI).",
    )
    p.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8765, help="port (0: a free one; default 8765)")
    p.add_argument("--state-dir", help="keep responses and files in this folder (default: in memory)")
    p.add_argument("--memory-limit", type=float, metavar="MB",
                   help="in memory, keep at most MB of state, least recently used first out (default 512; 0: no limit)")
    p.add_argument("--state-ttl", type=float, metavar="DAYS",
                   help="with --state-dir, forget records older than DAYS at start (default 30; 0: keep all)")
    p.add_argument("--latency", type=float, metavar="SECONDS", help="wait before answering each request")
    p.add_argument("--partial-interval", type=float, metavar="SECONDS", help="time between streamed frames")
    p.add_argument("--rate-limit", type=int, metavar="N", help="at most N requests per --rate-window, then 429")
    p.add_argument("--rate-window", type=float, metavar="SECONDS",
                   help="rate-limit window of --rate-limit and --images-per-minute (default 60)")
    p.add_argument("--images-per-minute", type=int, metavar="N",
                   help="at most N images per --rate-window, then 429 with Retry-After and x-ratelimit-*-images")
    p.add_argument("--fail-rate", type=float, metavar="P", help="answer this share of requests with 500")
    p.add_argument("--fail-first", type=int, metavar="K", help="answer the first K requests with 503")
    p.add_argument("--seed", type=int, help="seed of the --fail-rate draws")
    p.add_argument("--cut-stream-after", type=int, metavar="K", help="end every stream after K events")
    p.add_argument("--no-moderation", action="store_true", help="block no prompt")
    p.add_argument("--blocked-words", metavar="W1,W2", help="words that trip moderation")
    p.add_argument("--low-allowed-words", metavar="W1,W2", help="blocked words that moderation='low' allows")
    p.add_argument("--batch-rate", type=_rate, metavar="N/s",
                   help="batches: process N requests per second in the background (default 0: as fast as they render)")
    p.add_argument("--batch-fail-rate", type=float, metavar="P",
                   help="batches: this share of requests fails, into the error file (default: --fail-rate)")
    p.add_argument("--as-of", metavar="YYYY-MM-DD",
                   help="rehearse another day: answer models shut down by then with 404 model_not_found "
                        "(default: today, IMAGEWIDGETS_TODAY or the UTC date)")
    p.add_argument("--calendar", choices=("on", "off"),
                   help="on (default): models past their shutdown date answer 404 model_not_found, as the "
                        "live API; off: serve every model in the table (old notebooks)")
    p.add_argument("--background-wait", type=float, metavar="SECONDS",
                   help="background Responses turns stay queued this long before they are drawn (default 0.5)")
    p.add_argument("--pictures", choices=("drawn", "realistic"),
                   help="drawn: flat pictures, small files (default); realistic: with grain, files the size "
                        "of the API's (a 1024x1024 PNG ~2 MB)")
    p.add_argument("--require-api-key", metavar="KEY", help="answer 401 unless 'Authorization: Bearer KEY'")
    p.add_argument("--max-body", type=float, metavar="MB",
                   help="answer 413 to a request body above MB (default 100: one 50 MB image as base64 JSON)")
    p.add_argument("--max-header", type=int, metavar="KB",
                   help="refuse a request whose request line and headers exceed KB (default 64)")
    p.add_argument("--body-timeout", type=float, metavar="SECONDS",
                   help="answer 408 when a request body has not arrived SECONDS after its headers (default 60)")
    p.add_argument("--quiet", action="store_true",
                   help="do not print a line per request (method, path, status, ms, request id)")
    return p


def _rate(text: str) -> float:
    """``"20"``, ``"20/s"`` or ``"0.5/s"`` -> requests per second."""
    value = text.strip().lower().removesuffix("/s")
    try:
        rate = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a rate such as 20/s") from None
    if rate < 0:
        raise argparse.ArgumentTypeError(f"{text!r}: a rate is not negative")
    return rate


def config_from_args(args: argparse.Namespace) -> OfflineConfig:
    return OfflineConfig.from_env(
        state_dir=args.state_dir, memory_limit_mb=args.memory_limit, state_ttl_days=args.state_ttl,
        latency_s=args.latency, partial_interval_s=args.partial_interval,
        rate_limit=args.rate_limit, rate_window_s=args.rate_window, images_per_minute=args.images_per_minute,
        fail_rate=args.fail_rate,
        fail_first=args.fail_first, seed=args.seed, cut_stream_after=args.cut_stream_after,
        moderation=False if args.no_moderation else None,
        blocked_words=words(args.blocked_words) if args.blocked_words is not None else None,
        low_allowed_words=words(args.low_allowed_words) if args.low_allowed_words is not None else None,
        require_api_key=args.require_api_key, max_body_mb=args.max_body, max_header_kb=args.max_header,
        body_timeout_s=args.body_timeout, batch_rate=args.batch_rate, batch_fail_rate=args.batch_fail_rate,
        as_of=args.as_of, calendar=None if args.calendar is None else args.calendar == "on",
        background_s=args.background_wait,
        pictures=args.pictures,
    )


def _print_requests() -> None:
    """Each answered request as one line on stdout: ``POST /v1/images/generations 200 84 ms req_...``."""
    import logging

    from .middleware import ACCESS_LOG

    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(message)s"))
    ACCESS_LOG.addHandler(handler)
    ACCESS_LOG.setLevel(logging.INFO)
    ACCESS_LOG.propagate = False


def serve_main(argv: list[str]) -> int:
    """Run the server until Ctrl-C; prints one line with the URL once it accepts requests."""
    args = build_parser().parse_args(argv)
    try:
        config = config_from_args(args)
    except ValueError as e:
        print(f"imagewidgets serve: {e}", file=sys.stderr)
        return 2
    from .app import BANNER, create_app
    from .server import bind, uvicorn_server

    try:
        sock = bind(args.host, args.port)
    except OSError as e:
        print(f"imagewidgets serve: cannot listen on {args.host}:{args.port}: {e}", file=sys.stderr)
        return 1
    port = sock.getsockname()[1]
    host = f"[{args.host}]" if ":" in args.host else args.host
    where = f" (state in {config.state_dir})" if config.state_dir else ""

    def ready() -> None:
        print(f"imagewidgets offline image API on http://{host}:{port}/v1 - {BANNER}{where}", flush=True)

    if not args.quiet:
        _print_requests()

    server = uvicorn_server(create_app(config), ready, config)
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:  # pragma: no cover - uvicorn handles SIGINT itself
        pass
    finally:
        sock.close()
    return 0
