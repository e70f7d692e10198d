"""Replay: the canonical identity of a request, so an identical one is answered from the store.

The key is a SHA-256 over canonical JSON of: the endpoint, every API parameter that shapes the
image (streaming switches left out: a streamed and an unstreamed call give the same picture),
the fingerprints of the input images, mask and markup (hashes of their bytes, or their ids),
``previous_response_id``, the mainline model of a Responses call, and the backend identity
("offline", or the base URL), so images drawn offline are never replayed as OpenAI's.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

from ..api.registry import delivery_fields

if TYPE_CHECKING:  # pragma: no cover
    from ..api.requests import ImageRequest

__all__ = ["replay_key", "request_inputs", "request_params", "backend_identity", "KEY_VERSION"]

#: bump when the key's definition changes (old keys then simply miss)
KEY_VERSION = 1

_NOT_IN_KEY = {*delivery_fields(), "completion_window"}  # how it is delivered, not what is drawn


def backend_identity(client: Any) -> str:
    """``"offline"`` for the embedded renderer, else the base URL (never the key)."""
    cfg = getattr(client, "config", None)
    if cfg is None or getattr(cfg, "offline", False):
        return "offline"
    return str(cfg.base_url)


def request_inputs(req: ImageRequest) -> list[dict[str, str]]:
    """The request's input images as ``{"role", "fingerprint"}`` (no bytes)."""
    out: list[dict[str, str]] = []
    for role in ("images", "input_images"):
        for img in getattr(req, role, ()) or ():
            out.append({"role": "image", "fingerprint": img.fingerprint()})
    for role in ("image", "mask", "markup"):
        img = getattr(req, role, None)
        if img is not None and hasattr(img, "fingerprint"):
            out.append({"role": role, "fingerprint": img.fingerprint()})
    for pin in getattr(req, "pins", ()) or ():  # which pins a turn carried: history, lineage, packs read it
        out.append({"role": "pin", "name": pin.name, "pin_role": pin.role, "fingerprint": pin.fingerprint()})
    return out


def request_params(req: ImageRequest) -> dict[str, Any]:
    """Every parameter of the request that is sent, images excepted (JSON-ready, not yet redacted)."""
    params = dict(req.params())
    params.pop("prompt", None)
    for name in ("previous_response_id", "responses_model", "action", "instructions", "tool_choice",
                 "input_fidelity"):
        value = getattr(req, name, None)
        if value is not None:
            params[name] = value
    return params


def replay_key(req: ImageRequest, backend: str, extra: dict | None = None) -> str:
    """The hex SHA-256 identifying ``req`` sent to ``backend`` (see the module docstring); ``extra``:
    what the session does with the answer that changes the stored picture (``keep_outside_mask``)."""
    params = {k: v for k, v in request_params(req).items() if k not in _NOT_IN_KEY}
    canon = {
        "v": KEY_VERSION,
        "endpoint": req.endpoint,
        "prompt": getattr(req, "prompt", "") or "",
        "params": params,
        "inputs": request_inputs(req),
        "backend": backend,
    }
    if extra:
        canon["extra"] = extra
    blob = json.dumps(canon, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()
