"""Fonts and text layout: Pillow's bundled default font, cached per size, and greedy word wrapping."""

from __future__ import annotations

from functools import lru_cache

from PIL import ImageFont

LABEL = "imagewidgets offline renderer"


@lru_cache(maxsize=32)
def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def text_width(text: str, size: int) -> float:
    return font(size).getlength(text)


def wrap(text: str, size: int, max_width: float, max_lines: int) -> list[str]:
    """Greedy word wrap; words longer than a line are cut, and overflow ends in an ellipsis."""
    words = text.split()
    lines: list[str] = []
    line = ""
    i = 0
    while i < len(words):
        word = words[i]
        candidate = f"{line} {word}" if line else word
        if text_width(candidate, size) <= max_width:
            line, i = candidate, i + 1
            continue
        if not line:  # a single word wider than the line: cut it
            cut = _fit(word, size, max_width)
            line, words[i] = word[:cut], word[cut:]
        lines.append(line)
        line = ""
        if len(lines) == max_lines:
            break
    if line and len(lines) < max_lines:
        lines.append(line)
    overflow = i < len(words)
    if overflow and lines:
        last = lines[-1]
        while last and text_width(last + "…", size) > max_width:
            last = last[:-1].rstrip()
        lines[-1] = last + "…"
    return lines


def _fit(word: str, size: int, max_width: float) -> int:
    lo, hi = 1, len(word)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if text_width(word[:mid], size) <= max_width:
            lo = mid
        else:
            hi = mid - 1
    return lo
