"""``imagewidgets doctor --live``: a short script of real requests against the configured API, the
same requests against the offline twin, and every difference in the answers' shapes.

    >>> report = run_live(confirm=lambda text: True)     # doctest: +SKIP
    >>> report.differences                               # doctest: +SKIP
    ['stream-generate: events: live [partial_image, completed], offline [partial_image, completed, done]']
    >>> report.write("doctor-report.json")               # doctest: +SKIP

The script (low quality, the smallest size; a few cents): a generation, a streamed generation with
one partial image, a masked edit, a two-turn Responses chain, a file-id input, and one deliberately
invalid request whose error shape is compared too. Only shapes are compared and reported: keys,
JSON types, the order of stream events, error codes; the report holds no key, no image bytes and
no prompts (unless ``include_prompts``).
"""

from __future__ import annotations

import io
import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ..api.client import Client
from ..api.cost import estimate
from ..api.errors import APIError
from ..api.lifecycle import today
from ..api.models import DEFAULT_MODEL
from ..api.requests import EditRequest, GenerateRequest, ResponsesRequest
from ..api.results import atomic_write
from ..api.wire import encode
from .shapes import diff_shapes, shape_of

__all__ = ["LiveReport", "Observation", "run_live", "PROBES"]

#: the probes, in order; each later probe may use what an earlier one returned
PROBES = ("generate", "stream-generate", "masked-edit", "responses-turn-1", "responses-turn-2",
          "file-input", "invalid-request")

_PROMPTS = {
    "generate": "a small red kite on a plain sky",
    "stream-generate": "a small green leaf on white",
    "masked-edit": "a yellow sun in the masked corner",
    "responses-turn-1": "a blue paper boat",
    "responses-turn-2": "now make the boat orange",
    "file-input": "the same picture with a grey border",
    "invalid-request": "an invalid size",
}

#: what the invalid request sends: a size no model accepts
_INVALID_SIZE = "13x13"


@dataclass
class Observation:
    """One answer, reduced to its shape: HTTP status, body shape, stream events, error code."""

    status: int | None = None
    shape: Any = None
    events: list[str] = field(default_factory=list)
    event_shapes: dict[str, Any] = field(default_factory=dict)
    error: dict[str, Any] | None = None
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "shape": self.shape, "events": self.events,
                "event_shapes": self.event_shapes, "error": self.error, "seconds": round(self.seconds, 3)}


@dataclass
class LiveReport:
    """What ``--live`` found; ``write`` saves it as redacted JSON for an issue."""

    base_url: str
    model: str
    estimate_usd: float
    probes: list[dict[str, Any]] = field(default_factory=list)
    differences: list[str] = field(default_factory=list)
    secrets: tuple[str, ...] = field(default=(), repr=False)

    def to_dict(self) -> dict[str, Any]:
        from importlib.metadata import version

        return {"tool": "imagewidgets doctor --live", "imagewidgets": version("imagewidgets"),
                "date": today().isoformat(), "base_url": self.base_url, "model": self.model,
                "estimate_usd": round(self.estimate_usd, 4), "differences": self.differences,
                "probes": self.probes}

    def to_json(self) -> str:
        return redact(json.dumps(self.to_dict(), indent=1), self.secrets)

    def write(self, path: str | Path) -> Path:
        return atomic_write(Path(path), self.to_json().encode("utf-8"))

    def text(self) -> str:
        head = f"compared {len(self.probes)} requests to {self.base_url} with the offline twin"
        if not self.differences:
            return head + ": no differences in shape"
        return redact(head + f": {len(self.differences)} difference(s)\n"
                      + "\n".join(f"  {d}" for d in self.differences), self.secrets)


_KEY_LIKE = re.compile(r"\b(sk-[A-Za-z0-9_\-]{6,}|Bearer\s+\S+)")


def redact(text: str, secrets: tuple[str, ...] = ()) -> str:
    """The text with every known secret and anything shaped like a key replaced by ``***``: the
    secret as it is, and as a server could echo it encoded (base64 or URL-safe base64 at any of the
    three alignments, hex), so that a report never keeps a copy a reader could decode."""
    for s in secrets:
        for form in _encodings(s):
            text = text.replace(form, "***")
    return _KEY_LIKE.sub("***", text)


def _encodings(secret: str) -> list[str]:
    """The secret and the strings any base64 / hex text holding it must contain (longest first)."""
    import base64

    if len(secret) < 8:
        return [secret] if secret else []
    raw = secret.encode()
    forms = {secret, raw.hex(), raw.hex().upper()}
    for k in range(3):  # the secret after k bytes: its base64 is stable from the first whole group on
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            coded = encode(b"\0" * k + raw).decode()
            start = 4 if k else 0
            stable = (len(raw) + k) // 3 * 4      # groups made of the secret's bytes only, no padding
            forms.add(coded[start:stable])
    return sorted((f for f in forms if len(f) >= 8), key=len, reverse=True)


# -- the images the script sends (made here, so nothing of the user's leaves the machine) --------

def _png(size: tuple[int, int], colour: tuple[int, ...], mode: str = "RGB") -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new(mode, size, colour).save(out, format="PNG")
    return out.getvalue()


def _mask(size: tuple[int, int]) -> bytes:
    """Opaque except the top-left quarter (transparent: the part the edit may change)."""
    from PIL import Image

    im = Image.new("RGBA", size, (0, 0, 0, 255))
    im.paste((0, 0, 0, 0), (0, 0, size[0] // 2, size[1] // 2))
    out = io.BytesIO()
    im.save(out, format="PNG")
    return out.getvalue()


# -- one side: send the script, observe the answers -----------------------------------------------

def _observe_stream(resp) -> Observation:
    from ..api._http import sse_events

    obs = Observation(status=resp.status_code)
    try:
        for sse in sse_events(resp):
            if not sse.data or sse.data == "[DONE]":
                continue
            try:
                data = json.loads(sse.data)
            except ValueError:
                data = sse.data
            kind = sse.event or (data.get("type") if isinstance(data, dict) else None) or "message"
            if not obs.events or obs.events[-1] != kind:  # repeats (several partials) collapse
                obs.events.append(kind)
            shape = shape_of(data)
            obs.event_shapes[kind] = shape
    finally:
        resp.close()
    return obs


def _observe(client: Client, call, context: dict) -> Observation:
    t0 = time.perf_counter()
    try:
        resp = client.send(call.method, call.path, stream=call.stream, **call.request_kwargs())
    except APIError as e:
        body = e.body if isinstance(e.body, dict) else {"text": str(e.body)}
        err: dict = body["error"] if isinstance(body, dict) and isinstance(body.get("error"), dict) else {}
        obs = Observation(status=e.status, shape=shape_of(body),
                          error={"type": err.get("type"), "code": err.get("code"), "param": err.get("param")})
    else:
        if call.stream:
            obs = _observe_stream(resp)
        else:
            body = resp.json()
            obs = Observation(status=resp.status_code, shape=shape_of(body))
            context["last_body"] = body
    obs.seconds = time.perf_counter() - t0
    return obs


def _image_from(body: dict | None) -> bytes | None:
    import base64

    if not isinstance(body, dict):
        return None
    for item in body.get("data") or []:
        if isinstance(item, dict) and item.get("b64_json"):
            return base64.b64decode(item["b64_json"])
    for item in body.get("output") or []:
        if isinstance(item, dict) and item.get("type") == "image_generation_call" and item.get("result"):
            return base64.b64decode(item["result"])
    return None


def _requests(model: str, context: dict) -> dict[str, Any]:
    """The typed request of each probe (built lazily: later probes use earlier answers)."""
    low = {"model": model, "quality": "low", "size": "1024x1024"}
    image = context.get("image") or _png((1024, 1024), (90, 140, 200))
    return {
        "generate": lambda: GenerateRequest(_PROMPTS["generate"], n=1, **low),
        "stream-generate": lambda: GenerateRequest(_PROMPTS["stream-generate"], stream=True, partial_images=1,
                                                   **low),
        "masked-edit": lambda: EditRequest(_PROMPTS["masked-edit"], images=[image], mask=_mask((1024, 1024)),
                                           **low),
        "responses-turn-1": lambda: ResponsesRequest(_PROMPTS["responses-turn-1"], **low),
        "responses-turn-2": lambda: ResponsesRequest(_PROMPTS["responses-turn-2"],
                                                     previous_response_id=context.get("response_id"), **low),
        "file-input": lambda: ResponsesRequest(_PROMPTS["file-input"], input_images=[context["file_id"]], **low),
        "invalid-request": lambda: GenerateRequest(_PROMPTS["invalid-request"], **low),
    }


def _run_side(client: Client, model: str) -> dict[str, Observation]:
    context: dict[str, Any] = {}
    build = _requests(model, context)
    out: dict[str, Observation] = {}
    for name in PROBES:
        if name == "file-input":
            try:
                up = client.call("upload_file", data={"purpose": "vision"},
                                 files=[("file", ("doctor.png", _png((256, 256), (200, 200, 200)), "image/png"))])
                context["file_id"] = up.json()["id"]
            except (APIError, KeyError, ValueError) as e:
                out[name] = Observation(error={"upload": type(e).__name__})
                continue
        if name == "responses-turn-2" and not context.get("response_id"):
            out[name] = Observation(error={"skipped": "turn 1 gave no response id"})
            continue
        req = build[name]()
        call = encode(req)
        if name == "invalid-request":  # bypass our own validation: the server's refusal is compared
            call = type(call)(call.method, call.path, json={**(call.json or {}), "size": _INVALID_SIZE})
        obs = out[name] = _observe(client, call, context)
        body = context.pop("last_body", None)
        if name == "generate":
            context["image"] = _image_from(body)
        if name == "responses-turn-1" and isinstance(body, dict):
            context["response_id"] = body.get("id")
        del obs  # the observation is kept in ``out``
    return out


# -- both sides -----------------------------------------------------------------------------------

def compare(name: str, live: Observation, twin: Observation) -> list[str]:
    """The differences between two observations of one probe, as lines a developer can act on."""
    out: list[str] = []
    if live.status != twin.status:
        out.append(f"{name}: HTTP status {live.status} on the live API, {twin.status} offline")
    if live.events != twin.events:
        out.append(f"{name}: events: live [{', '.join(live.events)}], offline [{', '.join(twin.events)}]")
    for kind in sorted(set(live.event_shapes) & set(twin.event_shapes)):
        out += diff_shapes(live.event_shapes[kind], twin.event_shapes[kind], f"{name}: event {kind}")
    if live.shape is not None and twin.shape is not None:
        out += diff_shapes(live.shape, twin.shape, name)
    for key in ("type", "code", "param", "upload", "skipped"):
        a, b = (live.error or {}).get(key), (twin.error or {}).get(key)
        if a != b:
            out.append(f"{name}: error.{key}: {a!r} on the live API, {b!r} offline")
    return out


def script_estimate(model: str = DEFAULT_MODEL) -> float:
    """Dollars the script costs at most, from our own estimates (an upper bound: low quality)."""
    context: dict[str, Any] = {"response_id": "resp_x", "file_id": "file-x"}
    total = 0.0
    for name, build in _requests(model, context).items():
        if name == "invalid-request":
            continue
        try:
            total += estimate(build()).usd or 0.0
        except Exception:  # a request our table cannot price still runs; say so via the bound
            continue
    return total


def run_live(*, base_url: str | None = None, model: str = DEFAULT_MODEL,
             confirm: Callable[[str], bool], include_prompts: bool = False,
             twin_base_url: str | None = None) -> LiveReport | None:
    """Run the script against the configured API and the offline twin; ``None`` if not confirmed.

    ``confirm(text)`` is shown the price first and must return True to go on."""
    live_client = Client(base_url=base_url, save_dir=None, max_retries=1)
    cost = script_estimate(model)
    where = live_client.config.base_url or "the embedded offline backend"
    text = (f"imagewidgets doctor --live sends {len(PROBES) + 1} requests ({', '.join(PROBES)}, and a file "
            f"upload) to {where} with {model}, low quality, 1024x1024: about ${cost:.2f} in all.")
    if not confirm(text):
        live_client.close()
        return None
    secrets = tuple(s for s in [live_client.config.api_key.reveal() if live_client.config.api_key else None] if s)
    from ..offline.server import OfflineServer

    with live_client, (OfflineServer() if twin_base_url is None else _Nothing()) as twin_server:
        live = _run_side(live_client, model)
        url = twin_base_url or twin_server.base_url
        with Client(base_url=url, api_key="offline-twin", save_dir=None, max_retries=0) as twin_client:
            twin = _run_side(twin_client, model)
    report = LiveReport(base_url=where, model=model, estimate_usd=cost, secrets=secrets)
    for name in PROBES:
        a, b = live[name], twin[name]
        entry: dict[str, Any] = {"name": name, "live": a.to_dict(), "offline": b.to_dict()}
        if include_prompts:
            entry["prompt"] = _PROMPTS[name]
        report.probes.append(entry)
        report.differences += compare(name, a, b)
    return report


class _Nothing:
    """A context manager that is no server (the twin's URL was given)."""

    base_url = None

    def __enter__(self) -> "_Nothing":
        return self

    def __exit__(self, *exc: Any) -> None:
        return None
