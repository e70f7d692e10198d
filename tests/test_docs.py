"""Everything public is documented (as datasette's docs tests do): a public name, a request option, a
magic's option or a setting missing from ``docs/reference.md`` fails here, and so does a public
member of ``Session`` missing from ``docs/session-api.md`` (the contract the magics and widgets use).
"""

from __future__ import annotations

import contextlib
import inspect
import io
import re
from pathlib import Path

import pytest

import imagewidgets
from imagewidgets.api.config import Settings
from imagewidgets.api.registry import registry

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = (ROOT / "docs" / "reference.md").read_text("utf-8")
SESSION_API = (ROOT / "docs" / "session-api.md").read_text("utf-8")


def _section(title: str) -> str:
    """The text of the reference from heading ``title`` to the next heading of the same level or above."""
    m = re.search(rf"^(#+) {re.escape(title)}\s*$", REFERENCE, re.M)
    assert m, f"docs/reference.md has no section {title!r}"
    level = len(m.group(1))
    rest = REFERENCE[m.end():]
    end = re.search(rf"^#{{1,{level}}} ", rest, re.M)
    return rest[: end.start()] if end else rest


def test_every_public_name_is_in_the_reference():
    listed = set(re.findall(r"^\| `(\w+)` \|", _section("Public names (`import imagewidgets as iw`)"), re.M))
    assert sorted(set(imagewidgets.__all__) - listed) == []
    assert sorted(listed - set(imagewidgets.__all__)) == []  # nothing documented that is gone


def test_every_request_option_is_in_the_reference():
    listed = set(re.findall(r"^\| `(\w+)` \|", _section("Request options (`api/params.py`)"), re.M))
    assert sorted(set(registry()) - listed) == [] and sorted(listed - set(registry())) == []


def _magics():
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    ip = InteractiveShell.instance(config=Config())
    with contextlib.redirect_stdout(io.StringIO()):
        ip.extension_manager.load_extension("imagewidgets")
    out = {}
    for kind in ("line", "cell"):  # every magic the extension registers
        for name, magic in sorted(ip.magics_manager.magics[kind].items()):
            if not str(getattr(magic, "__module__", "")).startswith("imagewidgets."):
                continue
            parser = getattr(magic, "parser", None)
            if parser is not None:  # %imedit is an alias of %edit
                out[name] = [a.option_strings for a in parser._actions if a.option_strings and "-h" not in a.option_strings]
    return out


def test_every_magic_option_is_in_the_reference():
    missing = []
    for name, options in _magics().items():
        section = _section(f"`%{name}`")
        missing += [f"%{name} {', '.join(o)}" for o in options if f"| `{', '.join(o)}` |" not in section]
    assert missing == []


def test_every_setting_is_in_the_reference_and_in_configures_help():
    from imagewidgets.session.session import configure

    section = _section("Settings (`iw.configure(...)`, `%imagine_config`)")
    keys = [*Settings.BACKEND, *Settings.SESSION, *Settings.DISPLAY, "responses_model"]
    assert [k for k in keys if f"| `{k}` |" not in section] == []
    assert [k for k in keys if f"``{k}``" not in (configure.__doc__ or "")] == []


def test_every_public_member_of_a_session_is_in_the_session_api():
    from imagewidgets.session.session import Session

    public = [n for n, _ in inspect.getmembers(Session) if not n.startswith("_")]
    public += ["budget", "recorder", "tree", "store", "client", "defaults", "name"]  # set in __init__
    assert [n for n in public if not re.search(rf"\b{n}\b", SESSION_API)] == []


@pytest.mark.parametrize("text, found", [("| `Client` | x |", {"Client"}), ("no table", set())])
def test_the_reference_tables_are_read_as_written(text, found):
    assert set(re.findall(r"^\| `(\w+)` \|", text, re.M)) == found
