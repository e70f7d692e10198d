"""The shape of an answer, without its values, and the differences between two shapes.

    >>> shape_of({"created": 1, "data": [{"b64_json": "iVBOR..."}]})
    {'created': 'number', 'data': [{'b64_json': 'string'}]}
    >>> diff_shapes({"a": "number"}, {"a": "string", "b": "null"}, "generate")
    ["generate: a: number on the live API, string offline", "generate: b: only offline (null)"]

A shape keeps keys and JSON types only, so a report of shapes never carries an image, a prompt or
a key. Lists are described by the union of their elements' shapes.
"""

from __future__ import annotations

from typing import Any

__all__ = ["shape_of", "diff_shapes", "json_type"]


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _merge(a: Any, b: Any) -> Any:
    """One shape for two list elements: keys of both; a type seen as two types is 'x|y'."""
    if isinstance(a, dict) and isinstance(b, dict):
        return {k: _merge(a[k], b[k]) if k in a and k in b else a.get(k, b.get(k)) for k in {**a, **b}}
    if isinstance(a, list) and isinstance(b, list):
        return [_merge(a[0], b[0])] if a and b else a or b
    if a == b:
        return a
    return "|".join(sorted(set(str(a).split("|")) | set(str(b).split("|"))))


def shape_of(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): shape_of(v) for k, v in value.items()}
    if isinstance(value, list):
        shapes = [shape_of(v) for v in value]
        if not shapes:
            return []
        out = shapes[0]
        for s in shapes[1:]:
            out = _merge(out, s)
        return [out]
    return json_type(value)


def _describe(shape: Any) -> str:
    if isinstance(shape, dict):
        return "object"
    if isinstance(shape, list):
        return "array"
    return str(shape)


def diff_shapes(live: Any, twin: Any, where: str) -> list[str]:
    """Lines a developer can act on: a field only one side has, or a field of another type."""
    if isinstance(live, dict) and isinstance(twin, dict):
        out: list[str] = []
        for key in sorted(set(live) | set(twin)):
            at = f"{where}.{key}" if ":" in where else f"{where}: {key}"
            if key not in twin:
                out.append(f"{at}: only on the live API ({_describe(live[key])})")
            elif key not in live:
                out.append(f"{at}: only offline ({_describe(twin[key])})")
            else:
                out += diff_shapes(live[key], twin[key], at)
        return out
    if isinstance(live, list) and isinstance(twin, list):
        if live and twin:
            return diff_shapes(live[0], twin[0], f"{where}[]")
        return []
    if _describe(live) != _describe(twin):
        return [f"{where}: {_describe(live)} on the live API, {_describe(twin)} offline"]
    return []
