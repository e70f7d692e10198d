"""Participants' tokens on paper: a CSV for the teacher and a printable HTML page of slips to cut out.

    >>> write_slips("class.csv", [("p01", "iwp_...", 2.0)], "http://192.168.1.20:8080/v1")   # doctest: +SKIP
    (PosixPath('class.csv'), PosixPath('class.html'))

Both files hold tokens: they are written readable by their owner only.
"""

from __future__ import annotations

import csv
import html
import io
import os
from pathlib import Path

from ..api.results import atomic_write

__all__ = ["write_slips"]

_CSS = """
body{font:14px system-ui,sans-serif;margin:1cm}
.slips{display:grid;grid-template-columns:1fr 1fr;gap:.4cm}
.slip{border:1px dashed #888;padding:.35cm;page-break-inside:avoid;break-inside:avoid}
.slip h2{font-size:1.1em;margin:0 0 .2cm} code{font-size:.85em;word-break:break-all}
pre{background:#f3f3f3;padding:.15cm;white-space:pre-wrap;word-break:break-all;margin:.1cm 0}
@media print{h1,.note{display:none} body{margin:.5cm}}
"""


def _slip(label: str, token: str, budget: float, base_url: str) -> str:
    e = html.escape
    return (f'<div class="slip"><h2>{e(label)}</h2><p>Budget: <b>${budget:.2f}</b></p>'
            f"<p>In a notebook:</p><pre>%load_ext imagewidgets\n%imagine_config --base-url {e(base_url)} "
            f"--api-key {e(token)}</pre>"
            f"<p>Or in a terminal (any OpenAI client):</p><pre>export OPENAI_BASE_URL={e(base_url)}\n"
            f"export OPENAI_API_KEY={e(token)}</pre></div>")


def write_slips(out: str | os.PathLike, rows: list[tuple[str, str, float]], base_url: str) -> tuple[Path, Path]:
    """Write ``out`` (CSV: label, token, budget_usd, base_url) and ``out`` with ``.html`` (the slips)."""
    out = Path(out)
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["label", "token", "budget_usd", "base_url"])
    for label, token, budget in rows:
        writer.writerow([label, token, f"{budget:.2f}", base_url])
    csv_path = atomic_write(out, buf.getvalue().encode("utf-8"))
    page = ("<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Class tokens</title>"
            f"<style>{_CSS}</style></head><body><h1>Class tokens ({len(rows)})</h1>"
            "<p class='note'>Print this page and cut along the dashed lines: one slip per participant. "
            "A token is like a password; the teacher can switch any token off on the dashboard.</p>"
            f"<div class='slips'>{''.join(_slip(label, token, budget, base_url) for label, token, budget in rows)}"
            "</div></body></html>")
    html_path = atomic_write(out.with_suffix(".html"), page.encode("utf-8"))
    for path in (csv_path, html_path):
        os.chmod(path, 0o600)
    return csv_path, html_path
