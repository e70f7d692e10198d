"""Token usage as the API reports it: what a result carries and what its price is computed from.

Its own module because two sides read it: the results that carry it (``results``) and the prices
computed from it (``cost``), which the results' builders (``decode``) ask for.

    >>> from imagewidgets.api.usage import Usage
    >>> Usage.from_api({"input_tokens": 50, "output_tokens": 272, "total_tokens": 322}).output_image_tokens
    272
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

__all__ = ["Usage"]


@dataclass(frozen=True)
class Usage:
    """Token usage as the API reports it (``usage`` of an images response or image tool call)."""

    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0
    input_text_tokens: int = 0
    input_image_tokens: int = 0
    output_image_tokens: int = 0
    output_text_tokens: int = 0
    #: of the input tokens, those read from the cache (cheaper): ``cached_tokens_details`` of the
    #: Responses image tool (``tool_usage.image_gen``); the Image API's ``input_tokens_details.cached_tokens``
    #: counts text
    cached_text_tokens: int = 0
    cached_image_tokens: int = 0

    @classmethod
    def from_api(cls, d: dict | None) -> "Usage | None":
        if not d:
            return None
        ind = d.get("input_tokens_details") or {}
        outd = d.get("output_tokens_details") or {}
        cached = d.get("cached_tokens_details") or {}
        out = int(d.get("output_tokens") or 0)
        text_cached = cached.get("cached_text_tokens", ind.get("cached_tokens")) or 0
        return cls(
            cached_text_tokens=int(text_cached),
            cached_image_tokens=int(cached.get("cached_image_tokens") or 0),
            input_tokens=int(d.get("input_tokens") or 0),
            output_tokens=out,
            total_tokens=int(d.get("total_tokens") or 0),
            input_text_tokens=int(ind.get("text_tokens") or 0),
            input_image_tokens=int(ind.get("image_tokens") or 0),
            output_image_tokens=int(outd.get("image_tokens", out) or 0),
            output_text_tokens=int(outd.get("text_tokens") or 0),
        )

    def __add__(self, other: "Usage | None") -> "Usage":
        if other is None:
            return self
        return Usage(**{k: getattr(self, k) + getattr(other, k) for k in asdict(self)})

    def to_dict(self) -> dict[str, int]:
        return asdict(self)
