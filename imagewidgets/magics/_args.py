"""How the magics read their line: the options (one table, shared by every magic), a splitter that
is kind to prompts, and the look-up of ``--image`` / ``--mask`` / ``--session`` values.

Options are declared with IPython's ``magic_arguments`` so ``%imagine?`` shows them; the values
that depend on the model (sizes, qualities, formats...) are checked by the model table when the
request is built, which names what *that* model allows.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import os
import re
from dataclasses import fields
from typing import Any, Callable

from IPython.core.error import UsageError
from IPython.core.magic_arguments import argument
from IPython.utils.text import DollarFormatter

from ..api.errors import ParamError
from ..api.lifecycle import live_model_names
from ..api.models import DEFAULT_MODEL, MODELS
from ..api.params import Param, params_of
from ..api.registry import registry
from ..api.requests import EditRequest, GenerateRequest, VariationRequest

__all__ = [
    "PromptFormatter",
    "split_line",
    "parse",
    "options",
    "request_options",
    "resolve_image",
    "resolve_images",
    "friendly_param_error",
    "friendly_api_error",
    "OPTION_FOR_PARAM",
    "OUTPUT",
    "EDIT",
    "VARY",
    "COMMON",
    "CONFIG",
    "config_options",
]


# -- expanding and splitting ---------------------------------------------------------------------------------


class PromptFormatter(DollarFormatter):
    """IPython's ``{expr}`` / ``$name`` expansion, for prompts: ``$name`` expands even after an
    apostrophe (IPython skips it inside an odd number of single quotes, and ``a child's $style``
    has one), and text spanning lines is kept whole (``%%imagine`` bodies)."""

    _dollar_pattern_ignore_single_quote = re.compile(r"(.*?)\$(\$?[\w\.]+)", re.DOTALL)


def _closing_brace(line: str, i: int) -> int:
    """Index of the ``}`` that closes the ``{`` at ``i``, or -1 when it is not closed."""
    depth = 0
    for j in range(i, len(line)):
        depth += {"{": 1, "}": -1}.get(line[j], 0)
        if depth == 0:
            return j
    return -1


def split_line(line: str) -> list[str]:
    """Split a magic's line into words, like a shell but kind to prompts.

    An apostrophe inside a word is text (``a child's drawing``); quotes group words only when
    they open a word or follow ``=`` (``--image "my photo.png"``, ``--out="x"``). IPython's own
    splitter fails on an unbalanced apostrophe, which prompts are full of. A ``{expression}``
    stays one word, spaces and all: it is expanded later, inside the prompt only.
    """
    tokens: list[str] = []
    i, n = 0, len(line)
    while i < n:
        if line[i].isspace():
            i += 1
            continue
        word = ""
        opened_here = True  # a quote may open a group at the start of a word or after "="
        while i < n and not line[i].isspace():
            ch = line[i]
            if ch == "{" and (end := _closing_brace(line, i)) != -1:
                word += line[i:end + 1]
                i = end + 1
                opened_here = False
                continue
            if ch in "'\"" and opened_here:
                end = line.find(ch, i + 1)
                if end != -1:
                    word += line[i + 1:end]
                    i = end + 1
                    opened_here = False
                    continue
            word += ch
            opened_here = ch == "="
            i += 1
        tokens.append(word)
    return tokens


def parse(magic: Callable, line: str) -> argparse.Namespace:
    """Parse ``line`` with the ``magic_arguments`` parser of ``magic``; options and prompt words
    may be mixed. A mistake raises ``UsageError`` with one line that says how to fix it."""
    parser: argparse.ArgumentParser = getattr(magic, "parser")  # set by @magic_arguments
    argv = split_line(line)
    try:
        args, extra = parser.parse_known_intermixed_args(argv)
    except TypeError:  # pragma: no cover - argparse refuses intermixing for some parser shapes
        args, extra = parser.parse_known_args(argv)
    if extra:
        raise UsageError(_unknown(parser, extra[0]))
    return args


def _unknown(parser: argparse.ArgumentParser, word: str) -> str:
    known = [s for a in parser._actions for s in a.option_strings]
    name = word.split("=", 1)[0]
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]}? " if close else ""
    every = ", ".join("/".join(a.option_strings) for a in parser._actions
                      if a.option_strings and "-h" not in a.option_strings)
    return f"unknown option {name} ({hint}options: {every})"


# -- value types (argparse calls them; their messages end up in one line) ----------------------


def whole(lo: int, hi: int) -> Callable[[str], int]:
    def whole_number(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number; allowed: {lo} to {hi}") from None
        if not lo <= value <= hi:
            raise argparse.ArgumentTypeError(f"{value} is out of range; allowed: {lo} to {hi}")
        return value

    return whole_number


def _one_of(*allowed: str) -> Callable[[str], str]:
    def choice(text: str) -> str:
        if text not in allowed:
            raise argparse.ArgumentTypeError(f"{text!r} is not allowed; allowed: {', '.join(allowed)}")
        return text

    return choice


def _identifier(text: str) -> str:
    if not text.isidentifier():
        raise argparse.ArgumentTypeError(f"{text!r} is not a valid Python variable name")
    return text


_DATED = re.compile(r"-\d{4}-\d{2}-\d{2}$")


def _names() -> list[str]:
    """Model names for help text (live today): dated snapshots left out (they take what their alias takes)."""
    return [n for n in live_model_names() if not _DATED.search(n)]


def _by_model(attr: str, flag: str = "it") -> str:
    """Help text: which models take which values, from the model table (live models only, today's),
    the default model's group first; models that take none are named too ("not accepted"), so the
    help never offers what is refused nor a model the API no longer serves."""
    from ..api.lifecycle import live_takers, nobody_takes

    groups: dict[tuple[str, ...], list[str]] = {}
    for name in _names():
        groups.setdefault(tuple(getattr(MODELS[name], attr)), []).append(name)
    if len(groups) == 1:
        (values,) = groups
        if values:
            return f"{', '.join(values)} (every current model)"
        return nobody_takes(flag, live_takers(lambda spec: bool(getattr(spec, attr)))[1])
    parts = []
    for values in sorted(groups, key=lambda v: DEFAULT_MODEL not in groups[v]):
        who = ", ".join(f"{n} (the default)" if n == DEFAULT_MODEL else n for n in groups[values])
        parts.append(f"{', '.join(values)} for {who}" if values else f"not accepted by {who} (omit it)")
    return "; ".join(parts)


def _sizes_by_model() -> str:
    """Help text for sizes: each model's sizes and its free WxH rule, if any, from the table."""
    groups: dict[tuple, list[str]] = {}
    for name in _names():
        spec = MODELS[name]
        key = (spec.sizes + (("auto",) if spec.size_auto else ()), spec.free_size.describe() if spec.free_size else "")
        groups.setdefault(key, []).append(name)
    parts = []
    for (sizes, free), names in sorted(groups.items(), key=lambda kv: DEFAULT_MODEL not in kv[1]):
        who = ", ".join(f"{n} (the default)" if n == DEFAULT_MODEL else n for n in names)
        parts.append(f"{', '.join(sizes)}{', or ' + free if free else ''} for {who}")
    return "; ".join(parts)


def _help(p: Param) -> str:
    lo, hi = p.bounds()
    free = MODELS[DEFAULT_MODEL].free_size
    flag = max(p.flags, key=len) if p.flags else p.name
    choices = (_sizes_by_model() if p.choices == "sizes" else _by_model(p.choices, flag)) if p.choices else ""
    return p.help.format(choices=choices, lo=lo, hi=hi,
                         models=", ".join(_names()), free_size=free.describe() if free else "any WxH")


def _argument(p: Param) -> tuple[tuple[str, ...], dict[str, Any]]:
    """The ``magic_arguments`` option of a request parameter: its flags, its name as dest, its help."""
    kwargs: dict[str, Any] = dict(dest=p.name, help=_help(p))
    if p.json is int:
        lo, hi = p.bounds()
        kwargs.update(type=whole(lo, hi), metavar=p.metavar or f"{lo}-{hi}")
    elif p.metavar:
        kwargs["metavar"] = p.metavar
    return p.flags, kwargs


_PARAMS = {p.name: p for p in registry().values() if p.flags}

_OPTIONS: dict[str, tuple[tuple[str, ...], dict[str, Any]]] = {
    **{name: _argument(p) for name, p in _PARAMS.items()},
    "api": (("--api",), dict(type=_one_of("images", "responses"),
                             help="images (one call per request) or responses (multi-turn, previous_response_id); "
                             "default: responses for GPT image models")),
    "image": (("--image",), dict(action="append", metavar="IMAGE", dest="images",
                                 help="input image, repeatable: a path, a variable holding bytes / PIL / numpy / "
                                 "an ImageResult, a file id (file-...), or a turn id (turn_...). "
                                 "Without it, the edit continues from the session's current image")),
    "mask": (("--mask",), dict(metavar="MASK", help="where to edit: a path, a variable holding a MaskPainter "
                               "or a PNG with alpha (transparent = edit here)")),
    "pick": (("--pick",), dict(type=whole(1, max(m.n_max for m in MODELS.values())), metavar="N",
                               help="continue from variant N (as the grid numbers them, from 1) of the newest "
                               "call that made several images")),
    "panel": (("--panel",), dict(type=whole(1, 24), metavar="N",
                                 help="edit panel N (from 1, as the strip numbers them) of the session's newest "
                                 "storyboard; the panel then shows the edit")),
    "keep_outside": (("--keep-outside",), dict(action="store_true", dest="keep_outside_mask",
                                               help="with --mask: put the parent's pixels back outside the mask "
                                               "(the API's own image is kept too, as result.raw)")),
    "feather": (("--feather",), dict(type=whole(0, 256), metavar="PX",
                                     help="with --keep-outside: a soft seam this many pixels wide, inside the mask")),
    "extend": (("--extend",), dict(metavar="WxH", help="outpaint: put the current image on a larger canvas of "
                                   "this size (one the model makes) and fill the new area")),
    "anchor": (("--anchor",), dict(choices=("center", "left", "right", "top", "bottom", "top-left", "top-right",
                                            "bottom-left", "bottom-right"), metavar="WHERE",
                                   help="with --extend: where the picture stays (center, left, right, top, bottom, "
                                   "or a corner like top-left)")),
    "session": (("--session",), dict(metavar="SESSION", help="a variable holding a Session, or a session name "
                                     "(default: the notebook's default session)")),
    "out": (("--out",), dict(type=_identifier, metavar="NAME", help="also assign the result to this variable")),
    "no_display": (("--no-display",), dict(action="store_true", dest="no_display",
                                           help="do not show the image (it is still stored and returned)")),
    "preview": (("--preview",), dict(metavar="PREVIEW", help="how the output embeds the image: a WebP "
                                     "preview, longest side 768 px (default), another side or format "
                                     "(1024, jpeg, webp:512), or full (the original); the original is "
                                     "always in the store")),
    "refresh": (("--fresh", "--refresh"), dict(action="store_true", dest="refresh",
                                               help="ask the API for a fresh picture even when this exact request "
                                               "was made before or an unpacked notebook's pack holds it (by default "
                                               "it is replayed from the store, at no cost, on any backend)")),
    "retry_refused": (("--retry-refused",), dict(action="store_true", dest="retry_refused",
                                                 help="send again a request moderation refused before (by default "
                                                 "the very same refused request is not resent: each try may be "
                                                 "paid)")),
}

#: the options of each magic, by request type: what generations take, what edits add, what variations take
OUTPUT = (*(p.name for p in params_of(GenerateRequest) if p.flags), "api")
EDIT = tuple(p.name for p in params_of(EditRequest) if p.flags and p.name not in OUTPUT)
VARY = tuple(f.name for f in fields(VariationRequest) if f.name in _PARAMS)
COMMON = ("session", "out", "no_display", "preview", "refresh", "retry_refused")

#: request parameter -> the option a user types (to say errors in the user's words)
OPTION_FOR_PARAM = {
    **{name: p.option for name, p in _PARAMS.items()},
    "image": "--image",
    "mask": "--mask",
    "pick": "--pick",
    "panel": "--panel",
    "keep_outside_mask": "--keep-outside",
    "feather": "--feather",
    "anchor": "--anchor",
    "extend": "--extend",
    "session": "--session",
    "api": "--api",
    "budget": "--budget",
    "turn": "--checkout",
    "preview": "--preview",
}


def options(*names: str) -> Callable:
    """Decorator adding the named options (in this order in ``%magic?``) to a magic."""
    def decorate(func: Callable) -> Callable:
        for name in reversed(names):  # magic_arguments builds the parser from the last decorator applied
            flags, kwargs = _OPTIONS[name]
            func = argument(*flags, **kwargs)(func)
        return func

    return decorate


#: the parameters %imagine_config keeps defaults for
CONFIG = tuple(p for p in _PARAMS.values() if p.config)


def config_options(func: Callable) -> Callable:
    """Decorator adding ``%imagine_config``'s option for each parameter it keeps a default for
    (text, so that ``none`` can remove a setting)."""
    for p in reversed(CONFIG):
        func = argument(*p.flags, dest=p.name, metavar=p.metavar, help=f"default {p.text}")(func)
    return func


#: argparse dest -> request keyword
_REQUEST_KEYS = (*_PARAMS, "api")


def request_options(args: argparse.Namespace) -> dict[str, Any]:
    """The request options the user gave (only those: the session's defaults fill the rest)."""
    return {k: getattr(args, k) for k in _REQUEST_KEYS if getattr(args, k, None) is not None}


# -- resolving names to objects ----------------------------------------------------------------


_IMAGE_KINDS = ("a path to an image file, a variable holding an image (bytes, PIL, numpy, ImageResult), "
                "a file id (file-...) or a turn id (turn_...)")


def resolve_image(ref: str, shell: Any, session: Any, param: str = "image") -> Any:
    """What ``--image ref`` names: a variable (or ``name[0]`` / ``name.attr``), a file, a file id,
    an image-generation call id, or a turn of the session."""
    ns = shell.user_ns
    if ref.isidentifier() and ref in ns:
        return _unwrap(ns[ref])
    if os.path.exists(os.path.expanduser(ref)):
        return os.path.expanduser(ref)
    if ref.startswith(("file-", "ig_", "http://", "https://", "data:")):
        return ref
    if ref.startswith("turn_"):
        turn = _find_turn(session, ref)
        if turn is not None:
            return turn
    found = _look_up(ref, ns, param)
    if found is not _MISSING:
        return _unwrap(found)
    raise ParamError(param, ref, _IMAGE_KINDS, hint="no such variable, file or turn")


_MISSING = object()


def _look_up(ref: str, ns: dict, param: str) -> Any:
    """The value ``ref`` names in ``ns`` when it is a dotted or subscripted name (``shots[0]``,
    ``result.image``, ``grid["kite"]``), else ``_MISSING``. Walked by hand, never evaluated: no
    call, no operator, no private attribute, so the text cannot run code."""
    try:
        tree = ast.parse(ref.strip(), mode="eval").body
    except (SyntaxError, ValueError):
        return _MISSING

    def walk(node: ast.AST) -> Any:
        if isinstance(node, ast.Name):
            if node.id not in ns:
                raise _NoSuchName(node.id)
            return ns[node.id]
        if isinstance(node, ast.Attribute) and not node.attr.startswith("_"):
            return getattr(walk(node.value), node.attr)
        if isinstance(node, ast.Subscript):
            return walk(node.value)[_constant(node.slice)]
        raise _NotAName(ast.unparse(node))

    try:
        return walk(tree)
    except _NotAName:
        raise ParamError(param, ref, _IMAGE_KINDS, hint="only a name, name.attribute or name[index] is looked up; "
                         "nothing is evaluated") from None
    except _NoSuchName:  # not a variable: perhaps a file that is missing; the caller says so
        return _MISSING
    except (LookupError, AttributeError, TypeError):
        raise ParamError(param, ref, _IMAGE_KINDS, hint="no such variable, item or attribute") from None


class _NotAName(Exception):
    """``--image`` text that is more than a (dotted, subscripted) name."""


class _NoSuchName(Exception):
    """The name ``--image`` text starts with is not in the user's namespace."""


def _constant(node: ast.AST) -> Any:
    """An index written as a literal: a whole number (negative too) or a string."""
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, str)) and not isinstance(node.value, bool):
        return node.value
    if (isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant)
            and type(node.operand.value) is int):
        return -node.operand.value
    raise _NotAName(ast.unparse(node))


def resolve_images(refs: list[str] | None, shell: Any, session: Any) -> list[Any] | None:
    """All ``--image`` values, flattened (a variable may hold several images)."""
    if not refs:
        return None
    out: list[Any] = []
    for ref in refs:
        value = resolve_image(ref, shell, session)
        out.extend(value if isinstance(value, list) else [value])
    return out


def _unwrap(value: Any) -> Any:
    """An ImageSet or a tuple stands for its images."""
    from ..api.results import ImageSet

    if isinstance(value, (ImageSet, tuple)):
        return list(value)
    return value


def _find_turn(session: Any, turn_id: str) -> Any:
    try:
        return session.turn(turn_id)
    except (LookupError, ValueError):
        return None


#: a parameter as a server names it: ``quality``, or the Responses tool's ``tools[0].quality``
_WIRE_PARAM = re.compile(r"^(?:tools\[\d+\]\.)?([a-z_]+)$")


def friendly_api_error(err: Any) -> str:
    """A server's error in the magic's words: "Change -q/--quality", not "Change tools[0].quality"."""
    text = f"{type(err).__name__}: {err}"
    param = getattr(err, "param", None)
    m = _WIRE_PARAM.match(param) if isinstance(param, str) else None
    option = OPTION_FOR_PARAM.get(m.group(1)) if m else None
    if option:
        text = text.replace(f"Change {param} ", f"Change {option} ").replace(f"(param: {param})", f"(option {option})")
    return text


def friendly_param_error(err: ParamError) -> str:
    """The error in the user's words: ``-f/--format 'tiff' ...`` rather than ``output_format='tiff' ...``."""
    text = str(err)
    option = OPTION_FOR_PARAM.get(err.param)
    if option and text.startswith(f"{err.param}="):
        text = f"{option} {text[len(err.param) + 1:]}"
    if err.param == "n" and "Responses" in (err.hint or ""):
        text += " (--api images makes several in one call)"
    return text
