"""``imagewidgets gateway``: run the class gateway, issue participants' tokens, make an admin token.

    $ OPENAI_API_KEY=sk-... imagewidgets gateway --upstream https://api.openai.com/v1
    $ imagewidgets gateway --upstream offline                  # a rehearsal: the offline renderer
    $ imagewidgets gateway participants add 40 --budget-usd 2 --out class.csv --url http://10.0.0.5:8080/v1
    $ imagewidgets gateway participants list
    $ imagewidgets gateway participants revoke p07
    $ imagewidgets gateway admin-token                         # a new dashboard token (the old one stops)

The key is read from the gateway's own environment (``OPENAI_API_KEY``) and is never printed, logged
or stored. Tokens and the ledger live in ``--db`` (default ``$IMAGEWIDGETS_HOME/gateway/class.sqlite3``).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from urllib.parse import urlparse

from ..api.config import OPENAI_BASE_URL, Secret
from ..api.endpoints import API_PREFIX
from .queue import KeyLimits
from .rules import DEFAULT_MAINLINE_MODELS, DEFAULT_MAX_OUTPUT_TOKENS, DEFAULT_TOOLS, ClassRules
from .server import bind, default_db, is_loopback, start_offline_upstream, uvicorn_server
from .store import GatewayStore

__all__ = ["gateway_main", "exposure_warning"]


def _words(raw: str | None) -> tuple[str, ...]:
    return tuple(w.strip() for w in (raw or "").split(",") if w.strip())


def _serve_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="imagewidgets gateway", description="Run the class gateway: participants "
                                "use their token as the API key; the teacher's key stays here.",
                                epilog="Subcommands: 'participants add|list|revoke|budget', 'admin-token'.")
    p.add_argument("--upstream", default=OPENAI_BASE_URL,
                   help="the API to forward to (default https://api.openai.com/v1), or 'offline' to rehearse")
    p.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8080, help="port (default 8080; 0: a free one)")
    p.add_argument("--db", default=None, help="the SQLite file of tokens and ledger")
    p.add_argument("--models", help="allowed image models, comma-separated (default: any)")
    p.add_argument("--sizes", help="allowed sizes, comma-separated (default: any)")
    p.add_argument("--qualities", help="allowed qualities, comma-separated (default: any)")
    p.add_argument("--mainline-models", help="Responses API mainline models, comma-separated (default gpt-5.5; "
                   "'any' allows all, priced at the assumed mainline rates)")
    p.add_argument("--tools", help="Responses tools a request may list, comma-separated (default image_generation; "
                   "others such as web_search bill per call, outside the budget's estimate)")
    p.add_argument("--max-output-tokens", type=int, default=DEFAULT_MAX_OUTPUT_TOKENS,
                   help=f"a Responses turn's mainline output at most, reasoning included (default "
                   f"{DEFAULT_MAX_OUTPUT_TOKENS}); reserved in full")
    p.add_argument("--total-cap-usd", type=float, help="the whole class may spend at most this much")
    p.add_argument("--requests-per-minute", type=int, default=10, help="per participant (default 10; 0: no limit)")
    p.add_argument("--concurrent", type=int, default=2, help="requests at once per participant (default 2; 0: no limit)")
    p.add_argument("--images-per-minute", type=int, default=0,
                   help="the key's image limit: beyond it requests wait in a fair line (default 0: learned from "
                   "the upstream's x-ratelimit-* headers and 429s)")
    p.add_argument("--key-requests-per-minute", type=int, default=0,
                   help="the key's request limit, all participants together (default 0: learned)")
    p.add_argument("--tokens-per-minute", type=int, default=0, help="the key's token limit (default 0: learned)")
    p.add_argument("--max-wait", type=float, default=120.0,
                   help="seconds a request may wait in line; beyond it a 429 says how long (default 120)")
    p.add_argument("--tls-cert", help="serve HTTPS with this certificate (PEM) ...")
    p.add_argument("--tls-key", help="... and this private key")
    return p


def _rules(args: argparse.Namespace) -> ClassRules:
    mainline = _words(args.mainline_models) or DEFAULT_MAINLINE_MODELS
    return ClassRules(models=_words(args.models), sizes=_words(args.sizes), qualities=_words(args.qualities),
                      total_cap_usd=args.total_cap_usd, requests_per_minute=args.requests_per_minute or None,
                      concurrent=args.concurrent or None, mainline_models=() if mainline == ("any",) else mainline,
                      tools=_words(args.tools) or DEFAULT_TOOLS, max_output_tokens=max(16, args.max_output_tokens))


def _key_limits(args: argparse.Namespace) -> KeyLimits:
    return KeyLimits(images_per_minute=args.images_per_minute or None,
                     requests_per_minute=args.key_requests_per_minute or None,
                     tokens_per_minute=args.tokens_per_minute or None, max_wait_s=max(0.0, args.max_wait))


def exposure_warning(host: str, *, tls: bool) -> str | None:
    """What to tell the teacher when the gateway listens beyond this machine without TLS."""
    if is_loopback(host) or tls:
        return None
    return (f"listening on {host} without TLS: participants' tokens cross the network in clear text. Put a "
            "reverse proxy with TLS in front (README: Running a class), or pass --tls-cert/--tls-key.")


def _fail(message: str, code: int = 2) -> int:
    print(f"imagewidgets gateway: {message}", file=sys.stderr)
    return code


def serve(argv: list[str]) -> int:
    args = _serve_parser().parse_args(argv)
    if bool(args.tls_cert) != bool(args.tls_key):
        return _fail("--tls-cert and --tls-key go together")
    offline = args.upstream == "offline"
    if not offline:
        up = urlparse(args.upstream)
        if up.scheme not in ("http", "https") or not up.hostname:
            return _fail("--upstream must be an http(s) URL such as https://api.openai.com/v1, or 'offline'")
        key: str | Secret = os.environ.get("OPENAI_API_KEY", "")
        if not key:
            return _fail("set OPENAI_API_KEY in the gateway's environment (participants never see it), "
                         "or use --upstream offline to rehearse")
        if up.scheme == "http" and not is_loopback(up.hostname):
            print("imagewidgets gateway: warning: the upstream is plain http; the key would cross the network "
                  "unencrypted", file=sys.stderr)
    store = GatewayStore(args.db or default_db())
    store.set_setting("rules", _rules(args).to_json())
    store.set_setting("key_limits", _key_limits(args).to_json())
    admin_line = None
    if not store.has_admin_token():
        admin_line = store.new_admin_token()
    try:
        sock = bind(args.host, args.port)
    except OSError as e:
        return _fail(f"cannot listen on {args.host}:{args.port}: {e.strerror or e}", 1)
    port = sock.getsockname()[1]
    if offline:
        offline_server, upstream_url, key = start_offline_upstream()
        label = "offline renderer (rehearsal; procedural, not AI)"
    else:
        offline_server, upstream_url, label = None, args.upstream, args.upstream
    from .app import create_app

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S", stream=sys.stderr)
    app = create_app(store, upstream_url, key, upstream_label=label,
                     organization=None if offline else os.environ.get("OPENAI_ORG_ID"),
                     project=None if offline else os.environ.get("OPENAI_PROJECT_ID"))
    scheme = "https" if args.tls_cert else "http"
    host = f"[{args.host}]" if ":" in args.host else args.host
    origin = f"{scheme}://{host}:{port}"
    warning = exposure_warning(args.host, tls=bool(args.tls_cert))
    if warning:
        print(f"imagewidgets gateway: warning: {warning}", file=sys.stderr)

    def ready() -> None:
        count = len(store.participants())
        print(f"imagewidgets class gateway on {origin}/v1 -> {label} ({count} participants)", flush=True)
        if admin_line:
            print(f"dashboard: {origin}/dashboard#token={admin_line}  (admin token shown once)", flush=True)
        else:
            print(f"dashboard: {origin}/dashboard  (`imagewidgets gateway admin-token` makes a new admin token)",
                  flush=True)

    server = uvicorn_server(app, ready, ssl_certfile=args.tls_cert, ssl_keyfile=args.tls_key)
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:  # pragma: no cover - uvicorn handles SIGINT itself
        pass
    finally:
        sock.close()
        if offline_server is not None:
            offline_server.stop()
        store.close()
    return 0


def participants(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="imagewidgets gateway participants", description="Issue and manage tokens.")
    p.add_argument("--db", default=None, help="the SQLite file of tokens and ledger")
    sub = p.add_subparsers(dest="action", required=True)
    add = sub.add_parser("add", help="issue N new tokens (CSV + printable HTML slips)")
    add.add_argument("count", type=int)
    add.add_argument("--budget-usd", type=float, required=True, help="each participant's budget in dollars")
    add.add_argument("--out", required=True, help="the CSV to write (the slips go next to it, .html)")
    add.add_argument("--url", default=f"http://127.0.0.1:8080{API_PREFIX}",
                     help="the base URL participants use (the address of this machine as they reach it)")
    add.add_argument("--names", help="a text file with one participant name a line (default p01, p02, ...)")
    add.add_argument("--db", default=None, dest="db_add", help=argparse.SUPPRESS)
    sub.add_parser("list", help="participants, budget, spent")
    rev = sub.add_parser("revoke", help="switch tokens off at once")
    rev.add_argument("labels", nargs="+")
    bud = sub.add_parser("budget", help="change a participant's budget")
    bud.add_argument("label")
    bud.add_argument("usd", type=float)
    args = p.parse_args(argv)
    store = GatewayStore(getattr(args, "db_add", None) or args.db or default_db())
    try:
        if args.action == "add":
            return _add(store, args)
        if args.action == "list":
            for row in store.summary():
                state = "revoked" if row["revoked"] else ""
                print(f"{row['label']:<12} budget ${row['budget_usd']:.2f}  spent ${row['spent_usd']:.4f}  "
                      f"requests {row['requests']:<4} {state}".rstrip())
            return 0
        labels = args.labels if args.action == "revoke" else [args.label]
        found = [store.participant(label) for label in labels]
        missing = [label for label, who in zip(labels, found) if who is None]
        if missing:
            return _fail(f"no participant {', '.join(missing)}")
        for who in found:
            assert who is not None  # the missing ones were refused above
            if args.action == "revoke":
                store.revoke(who.id)
            else:
                store.set_budget(who.id, args.usd)
        print(f"{args.action}: {', '.join(labels)}")
        return 0
    finally:
        store.close()


def _add(store: GatewayStore, args: argparse.Namespace) -> int:
    from .slips import write_slips

    if args.count < 1 or args.count > 10_000:
        return _fail("count must be between 1 and 10000")
    if args.budget_usd < 0:
        return _fail("--budget-usd must be 0 or more")
    names = None
    if args.names:
        with open(args.names, encoding="utf-8") as f:
            names = [line.strip()[:60] for line in f if line.strip()]
    made = store.add_participants(args.count, args.budget_usd, labels=names)
    csv_path, html_path = write_slips(args.out, [(who.label, token, who.budget_usd) for who, token in made],
                                      args.url)
    print(f"{len(made)} participants, ${args.budget_usd:.2f} each: {csv_path} and {html_path} (print the slips; "
          "the files hold the tokens)")
    return 0


def admin_token(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="imagewidgets gateway admin-token",
                                description="Make a new admin token for the dashboard (the old one stops working).")
    p.add_argument("--db", default=None)
    args = p.parse_args(argv)
    store = GatewayStore(args.db or default_db())
    try:
        print(store.new_admin_token())
    finally:
        store.close()
    return 0


def gateway_main(argv: list[str]) -> int:
    if argv and argv[0] == "participants":
        return participants(argv[1:])
    if argv and argv[0] == "admin-token":
        return admin_token(argv[1:])
    return serve(argv)
