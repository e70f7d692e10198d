"""Cut OpenAI's OpenAPI description down to the endpoints the offline server's fuzz test uses.

    python tests/spec/trim_openapi.py [path/to/openapi.yaml]

Reads the full description (default: ``shared/spec/openapi.yaml`` beside the checkout) and writes
``tests/spec/openapi-images.json``: the image and file endpoints with every schema they refer to,
nothing else, so the fuzz test never depends on a file outside the repository. Re-run it when the
shared description is updated; ``test_fuzz_openapi.py`` checks that the copy is current whenever
the shared file is present.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
SHARED = REPO.parent / "shared" / "spec" / "openapi.yaml"
TRIMMED = HERE / "openapi-images.json"

#: path -> the methods kept (the ones the offline server serves)
KEEP = {
    "/images/generations": ("post",),
    "/images/edits": ("post",),
    "/images/variations": ("post",),
    "/files": ("post",),
    "/files/{file_id}": ("get", "delete"),
    "/files/{file_id}/content": ("get",),
    # issue 30: stored responses and provenance checks (POST /responses itself is left out: its body
    # schema is the whole Responses API, of which the twin serves the image tool only)
    "/responses/{response_id}": ("get", "delete"),
    "/responses/{response_id}/cancel": ("post",),
    "/responses/{response_id}/input_items": ("get",),
    "/content_provenance_checks": ("post",),
}


def _refs(node, out: set[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/"):
            out.add(ref)
        for value in node.values():
            _refs(value, out)
    elif isinstance(node, list):
        for value in node:
            _refs(value, out)


def trim(full: dict) -> dict:
    paths = {p: {m: full["paths"][p][m] for m in methods} for p, methods in KEEP.items()}
    for p, ops in paths.items():  # path-level parameters, when the description has them
        if "parameters" in full["paths"][p]:
            ops["parameters"] = full["paths"][p]["parameters"]
    seen: set[str] = set()
    todo: set[str] = set()
    _refs(paths, todo)
    components: dict[str, dict] = {}
    while todo:
        ref = todo.pop()
        if ref in seen:
            continue
        seen.add(ref)
        _, _, kind, name = ref.split("/", 3)
        node = full["components"][kind][name]
        components.setdefault(kind, {})[name] = node
        _refs(node, todo)
    components = {k: dict(sorted(v.items())) for k, v in sorted(components.items())}
    _agree_on_purposes(components)
    _errors_as_served(paths, components)
    _map_provenance_results(components)
    if "securitySchemes" in full.get("components", {}):
        components["securitySchemes"] = full["components"]["securitySchemes"]
    return {
        "openapi": full["openapi"],
        "info": {**full["info"], "description": "The image, file, stored-response and provenance endpoints of "
                 "OpenAI's OpenAPI description "
                 "(openai/openai-openapi), trimmed by tests/spec/trim_openapi.py."},
        "servers": full.get("servers", []),
        "security": full.get("security", []),
        "paths": paths,
        "components": components,
    }


def _agree_on_purposes(components: dict) -> None:
    """The description lets a file be uploaded with purpose ``evals`` (and the SDK 3.57 sends it) but
    leaves ``evals`` out of the File object it answers with: a server echoing the purpose it was
    given would "violate" it. The trimmed copy adds ``evals`` to the File object's enum too."""
    schema = components.get("schemas", {}).get("OpenAIFile", {}).get("properties", {}).get("purpose", {})
    if "enum" in schema and "evals" not in schema["enum"]:
        schema["enum"] = [*schema["enum"], "evals"]


def _errors_as_served(paths: dict, components: dict) -> None:
    """The description gives some 404s the bare ``Error`` object, but the API (and every SDK) answers
    ``{"error": {...}}`` (``ErrorResponse``, which the description has): the trimmed copy says so."""
    schemas = components.setdefault("schemas", {})
    if "ErrorResponse" not in schemas:
        schemas["ErrorResponse"] = {"type": "object", "properties": {"error": {"$ref": "#/components/schemas/Error"}},
                                    "required": ["error"]}
    for ops in paths.values():
        for op in ops.values():
            for answer in (op.get("responses") or {}).values() if isinstance(op, dict) else ():
                media = (answer.get("content") or {}).get("application/json") or {}
                if media.get("schema") == {"$ref": "#/components/schemas/Error"}:
                    media["schema"] = {"$ref": "#/components/schemas/ErrorResponse"}


def _map_provenance_results(components: dict) -> None:
    """The provenance results are told apart by ``type`` (``c2pa``, ``synthid``) but the description's
    discriminator has no mapping, so a validator looks for the schema names instead: add it."""
    resource = components.get("schemas", {}).get("ProvenanceResource", {})
    items = resource.get("properties", {}).get("results", {}).get("items", {})
    if "discriminator" in items:
        items["discriminator"]["mapping"] = {"c2pa": "#/components/schemas/C2PAProvenanceResult",
                                             "synthid": "#/components/schemas/SynthIDProvenanceResult"}


def load(path: Path) -> dict:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with open(path, "rb") as f:
        return yaml.load(f, Loader=loader)


def render(doc: dict) -> str:
    return json.dumps(doc, indent=1, sort_keys=False, default=str) + "\n"


def main(argv: list[str]) -> int:
    source = Path(argv[0]) if argv else SHARED
    TRIMMED.write_text(render(trim(load(source))), "utf-8")
    print(f"wrote {TRIMMED} from {source}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
