"""Everything public is documented (as datasette's docs tests do): a public name, a request option, a
magic's option or a setting missing from ``docs/reference.md`` fails here, and so does a public
member of ``Session`` missing from ``docs/session-api.md`` (the contract the magics and widgets use).

The reference's tables of request options and magic options, and the public names' summaries, are
*written from the declarations* (the parameter registry, the magics' parsers, the docstrings), so
they cannot drift: when a declaration changes, the test shows the row that differs, and
``python tests/test_docs.py`` rewrites those tables (then read the diff and commit it).
"""

from __future__ import annotations

import contextlib
import inspect
import io
import re
import sys
from pathlib import Path

import pytest

import imagewidgets
from imagewidgets.api.config import Settings
from imagewidgets.api.params import registry

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = (ROOT / "docs" / "reference.md").read_text("utf-8")
SESSION_API = (ROOT / "docs" / "session-api.md").read_text("utf-8")


def _section(title: str, text: str = REFERENCE) -> str:
    """The text of the reference from heading ``title`` to the next heading of the same level or above."""
    m = re.search(rf"^(#+) {re.escape(title)}\s*$", text, re.M)
    assert m, f"docs/reference.md has no section {title!r}"
    level = len(m.group(1))
    rest = text[m.end():]
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


# -- the tables written from the declarations ---------------------------------------------------------------

#: what the reference says where a help text lists which live models take which values (that list
#: moves with the calendar; ``%imagine?`` shows it on the day)
BY_MODEL = "which models take which values: `%imagine?`"
MODEL_LIST = "the models `%imagine?` lists"


def _value(p) -> str:
    if p.choices:
        return f"one of the model's {p.choices.replace('_', ' ')}"
    if p.json is int and p.range:
        lo, hi = p.bounds()
        return f"whole number, {lo} to {'the model' + chr(39) + 's maximum' if p.max_from else hi}"
    return {str: "text", bool: "True/False", dict: "dict"}.get(p.json, p.json.__name__)


def _condition(p) -> str:
    if p.only is None:
        return "-"
    field, values = p.only
    return f"only with {field} {'/'.join(map(str, values))}"


def request_option_rows() -> list[str]:
    """The request options table, one row per parameter of the registry, in its order."""
    rows = []
    for name, p in registry().items():
        also = [*(["Responses tool"] if p.tool else []), *([p.option] if p.flags else []),
                *(["studio"] if p.control else [])]
        rows.append(f"| `{name}` | {_value(p)} | {', '.join(also) or '-'} | {_condition(p)} |")
    return rows


def _declared_help(action) -> str:
    """An option's help as the reference writes it: a request parameter's declared help with its
    calendar-dependent model lists named rather than listed; any other option's help as is."""
    text = (action.help or "").replace("%%", "%")
    p = registry().get(action.dest)
    if p is None or not p.help or tuple(action.option_strings) != p.flags:
        return text
    lo, hi = p.bounds()
    pattern = re.escape(p.help).replace(r"\{choices\}", ".*").replace(r"\{models\}", ".*")
    pattern = pattern.replace(r"\{lo\}", str(lo)).replace(r"\{hi\}", str(hi)).replace(r"\{free_size\}", ".*")
    if not re.fullmatch(pattern, text, re.S):  # a magic of its own words (``%imagine_config -m``)
        return text
    from imagewidgets.api.models import MODELS, DEFAULT_MODEL

    free = MODELS[DEFAULT_MODEL].free_size
    return p.help.format(choices=BY_MODEL, models=MODEL_LIST, lo=lo, hi=hi,
                         free_size=free.describe() if free else "any WxH")


def magic_option_rows(name: str) -> list[str]:
    """The option table of ``%name``, written from its parser, in the parser's order."""
    magic = _magic_objects()[name]
    return [f"| `{', '.join(a.option_strings)}` | {_declared_help(a)} |"
            for a in magic.parser._actions if a.option_strings and "-h" not in a.option_strings]


def _magic_objects() -> dict:
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    ip = InteractiveShell.instance(config=Config())
    with contextlib.redirect_stdout(io.StringIO()):
        ip.extension_manager.load_extension("imagewidgets")
    return {name: magic for kind in ("line", "cell") for name, magic in ip.magics_manager.magics[kind].items()
            if str(getattr(magic, "__module__", "")).startswith("imagewidgets.")
            and getattr(magic, "parser", None) is not None}


def _summary(obj) -> str | None:
    """A public name's summary: the first sentence of its own docstring (None: it has none of its
    own, such as an error class that only names a status; the reference then says it in words)."""
    own = obj.__dict__.get("__doc__") if inspect.isclass(obj) else getattr(obj, "__doc__", None)
    if not (inspect.isclass(obj) or inspect.isfunction(obj)) or not own:
        return None
    paragraph = " ".join(inspect.cleandoc(own).split("\n\n")[0].split())
    sentence = re.split(r"(?<=\.)\s(?=[A-Z`])|::", paragraph)[0].rstrip(":")
    sentence = re.sub(r":\w+:`~?(?:\w+\.)*(\w+)`", r"`\1`", sentence)  # :class:`~imagewidgets.Session`
    return sentence.replace("``", "`").replace("|", "\\|")


def _table(section: str) -> list[str]:
    return [line for line in section.splitlines() if re.match(r"^\| `", line)]


def test_the_request_options_table_is_written_from_the_registry():
    assert _table(_section("Request options (`api/params.py`)")) == request_option_rows()


def test_every_magic_options_table_is_written_from_its_parser():
    wrong = {}
    for name in sorted(_magic_objects()):
        if _table(_section(f"`%{name}`")) != (want := magic_option_rows(name)):
            wrong[name] = want
    assert wrong == {}, "run: python tests/test_docs.py"


def test_each_public_name_is_summed_up_by_its_own_docstring():
    rows = dict(re.findall(r"^\| `(\w+)` \| (.*) \|$", _section("Public names (`import imagewidgets as iw`)"), re.M))
    wrong = {n: (rows.get(n), s) for n in imagewidgets.__all__
             if (s := _summary(getattr(imagewidgets, n))) is not None and rows.get(n) != s}
    assert wrong == {}, "run: python tests/test_docs.py"


def _rewrite(text: str, title: str, rows: list[str]) -> str:
    """``text`` with the table rows under heading ``title`` replaced by ``rows``."""
    m = re.search(rf"^#+ {re.escape(title)}\s*$", text, re.M)
    assert m, title
    head, rest = text[: m.end()], text[m.end():]
    lines = rest.split("\n")
    first = next(i for i, line in enumerate(lines) if line.startswith("| `"))
    last = first
    while last < len(lines) and lines[last].startswith("| `"):
        last += 1
    return head + "\n".join(lines[:first] + rows + lines[last:])


def write_reference() -> None:
    """Rewrite the declared tables of ``docs/reference.md`` (``python tests/test_docs.py``)."""
    path = ROOT / "docs" / "reference.md"
    text = path.read_text("utf-8")
    text = _rewrite(text, "Request options (`api/params.py`)", request_option_rows())
    for name in sorted(_magic_objects()):
        text = _rewrite(text, f"`%{name}`", magic_option_rows(name))
    section = "Public names (`import imagewidgets as iw`)"
    rows = []
    for line in _table(_section(section, text)):
        n = line.split("`")[1]
        s = _summary(getattr(imagewidgets, n, None))
        rows.append(f"| `{n}` | {s} |" if s is not None else line)
    text = _rewrite(text, section, rows)
    path.write_text(text, "utf-8")


if __name__ == "__main__":  # python tests/test_docs.py: rewrite the declared tables
    import os

    os.environ.setdefault("IMAGEWIDGETS_TODAY", "2026-12-02")
    sys.exit(write_reference())
