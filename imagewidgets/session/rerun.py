"""Migration: re-run a turn, or a whole branch, with another model, as new turns beside the old.

    >>> s = Session("harbour")                                        # doctest: +SKIP
    >>> cmp = s.rerun(s.current, model="gpt-image-2")                 # doctest: +SKIP
    >>> cmp                      # old and new images side by side, with their models and costs

A branch is re-run from its root: each edit continues from the *new* version of its parent, so
the migrated chain is what the new model makes of the same prompts. The new turns are ordinary
turns of the session (``turn.note`` says what they re-ran); nothing of the old branch changes.
Options the new model does not take (a dall-e ``style``, say) are left to its defaults, and
``Rerun.dropped`` says which. Turns that cannot be re-run from what the store keeps (a mask, an
uploaded reference image, a dall-e-2 variation) are refused before anything is sent.
"""

from __future__ import annotations

import html
import warnings
from dataclasses import dataclass, field
from typing import Any

from ..api.errors import ParamError
from ..api.models import get_model
from ..api.requests import GenerateRequest
from ..api.results import alt_text
from ..api.validation import validate
from .core import SessionCore
from .report import thumbnail_url
from .turns import Turn

__all__ = ["Rerun", "rerun"]

#: stored parameters that belong to the old call, not to what it asked for
_NOT_CARRIED = {"model", "stream", "partial_images", "previous_response_id", "responses_model", "n",
                "response_format", "tool_choice", "instructions"}


@dataclass
class Rerun:
    """Old and new turns, pair by pair, with a side-by-side HTML view."""

    model: str
    pairs: list[tuple[Turn, Turn]] = field(default_factory=list)
    dropped: dict[str, list[str]] = field(default_factory=dict)  # old turn id -> options left out

    @property
    def old_cost(self) -> float:
        return sum(o.cost or 0.0 for o, _ in self.pairs)

    @property
    def new_cost(self) -> float:
        return sum(n.cost or 0.0 for _, n in self.pairs)

    @property
    def new_turns(self) -> list[Turn]:
        return [n for _, n in self.pairs]

    def rows(self) -> list[dict[str, Any]]:
        return [{"old_turn": o.id, "new_turn": n.id, "prompt": o.prompt, "old_model": o.model,
                 "new_model": n.model, "old_cost": o.cost, "new_cost": n.cost,
                 "dropped": ", ".join(self.dropped.get(o.id, []))} for o, n in self.pairs]

    def __repr__(self) -> str:
        return (f"<Rerun {len(self.pairs)} turn(s) with {self.model}: ${self.old_cost:.4f} then, "
                f"${self.new_cost:.4f} now>")

    def _repr_html_(self) -> str:
        def cell(t: Turn) -> str:
            url = thumbnail_url(t.image, 160)
            alt = html.escape(alt_text(t.revised_prompt, t.prompt), quote=True)
            img = f"<img src='{url}' width='160' alt='{alt}' title='{html.escape(t.id)}'/>" if url else html.escape(t.status)
            cost = "—" if t.cost is None else f"${t.cost:.4f}"
            return (f"<td style='text-align:center'>{img}<br/><code>{html.escape(t.model or '?')}</code>"
                    f" · {cost}</td>")

        rows = []
        for old, new in self.pairs:
            left_out = self.dropped.get(old.id)
            note = f"<br/><small>left to defaults: {html.escape(', '.join(left_out))}</small>" if left_out else ""
            rows.append(f"<tr><td style='max-width:220px'>{html.escape(old.prompt or '')}{note}</td>"
                        f"{cell(old)}{cell(new)}</tr>")
        return ("<table class='iw-rerun'><thead><tr><th>prompt</th><th>before</th><th>after</th></tr></thead>"
                f"<tbody>{''.join(rows)}</tbody><tfoot><tr><td>total</td><td>${self.old_cost:.4f}</td>"
                f"<td>${self.new_cost:.4f}</td></tr></tfoot></table>")


def _branch(session: SessionCore, turn: Turn) -> list[Turn]:
    chain = [turn]
    while chain[-1].parent_id:
        chain.append(session.turn(chain[-1].parent_id))
    return chain[::-1]


def _carried(session: SessionCore, old: Turn, model: str) -> tuple[dict[str, Any], list[str]]:
    """The old turn's options the new model accepts; the others, named."""
    keep: dict[str, Any] = {}
    dropped: list[str] = []
    for name, value in (old.params or {}).items():
        if name in _NOT_CARRIED or value is None or name == "input_fidelity":
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                validate(GenerateRequest(old.prompt or "x", model=model, **{name: value}))
        except (ParamError, TypeError):
            dropped.append(f"{name}={value}")
            continue
        keep[name] = value
    fidelity = (old.params or {}).get("input_fidelity")
    spec = get_model(model)
    if fidelity is not None and old.kind == "edit":
        if spec is None or fidelity in spec.input_fidelities:
            keep["input_fidelity"] = fidelity
        else:
            dropped.append(f"input_fidelity={fidelity}")
    return keep, dropped


def _check(old: Turn) -> None:
    if old.kind == "vary":
        raise ParamError("turn", old.id, "a generate or edit turn", message=(
            f"turn {old.id} is a dall-e-2 variation: GPT image models make no variations; "
            "re-run it as an edit by hand"))
    if old.kind not in ("generate", "edit"):
        raise ParamError("turn", old.id, "a generate or edit turn", message=f"turn {old.id} is a {old.kind} turn")
    roles = [i.get("role") for i in old.inputs or []]
    if "mask" in roles or "markup" in roles:
        raise ParamError("turn", old.id, "a turn without a mask", message=(
            f"turn {old.id} used a mask or markup, which the store does not keep; re-run it by hand "
            "with session.edit(prompt, mask=...)"))
    if old.kind == "edit" and (roles.count("image") > 1 or (roles and not old.parent_id)):
        raise ParamError("turn", old.id, "an edit of a turn of this session", message=(
            f"turn {old.id} edited images given from outside the session, which the store does not "
            "keep; re-run it by hand with session.edit(prompt, image=...)"))


def rerun(session: SessionCore, what: Any, *, model: str, branch: bool = True, **options: Any) -> Rerun:
    """Re-run ``what`` (a turn, its id, or a list of them) with ``model``; see the module docstring.

    ``branch=True`` re-runs each turn's whole branch from its root (an edit needs its parent's new
    image); ``branch=False`` re-runs only the turn, from the same parent image as before.
    ``options`` override the carried ones for every new turn (``quality="low"``, say)."""
    items = what if isinstance(what, (list, tuple)) else [what]
    targets = [session.turn(t) for t in items]
    order: list[Turn] = []
    for t in targets:
        for step in (_branch(session, t) if branch else [t]):
            if step.id not in {o.id for o in order}:
                order.append(step)
    for old in order:  # refuse the whole migration before anything is sent
        _check(old)
    out = Rerun(model)
    new_of: dict[str, Turn] = {}
    for old in order:
        opts, dropped = _carried(session, old, model)
        spec = get_model(model)
        endpoint = "responses" if old.api == "responses" else ("generations" if old.kind == "generate" else "edits")
        if spec is None or spec.supports(endpoint):  # the same API as before, where the new model has it
            opts["api"] = old.api
        opts.update(options)
        if dropped:
            out.dropped[old.id] = dropped
        if old.kind == "generate":
            session.imagine(old.prompt or "", model=model, **opts)
        else:
            parent = new_of.get(old.parent_id or "") or session.turn(old.parent_id or "")
            session.edit(old.prompt or "", image=parent, model=model, **opts)
        new = session.current
        assert new is not None
        new.note = f"re-run of {old.id} ({old.model}) with {model}"
        session.store.save_turn(new)
        new_of[old.id] = new
        out.pairs.append((old, new))
    return out
