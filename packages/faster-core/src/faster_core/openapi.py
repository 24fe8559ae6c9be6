"""The OpenAPI schema says what the errors plugin really answers: problem+json.

Every operation gets a `default` response (any error is a problem) and its 422, when FastAPI
documents one, becomes the validation problem the core sends instead of FastAPI's own body.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from faster_core.problems import PROBLEM_CONTENT_TYPE

__all__ = ["document_problems"]

_REF = "#/components/schemas/"
_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "An error, as RFC 9457 problem details.",
    "type": "object",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "request_id": {"type": ["string", "null"]},
    },
    "required": ["type", "title", "status", "detail"],
}

VALIDATION_PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "ValidationProblem",
    "description": (
        "A request that failed validation: `errors` has one entry per field (values never "
        "echoed) when the body or parameters did not parse; a rule the handler checks (a weak "
        "password, say) is a plain problem with status 422."
    ),
    "allOf": [
        {"$ref": f"{_REF}Problem"},
        {
            "type": "object",
            "properties": {
                "errors": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "field": {"type": "string"},
                            "message": {"type": "string"},
                            "type": {"type": "string"},
                        },
                        "required": ["field", "message", "type"],
                    },
                }
            },
        },
    ],
}


def _content(schema: str) -> dict[str, Any]:
    return {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": f"{_REF}{schema}"}}}


def _document(schema: dict[str, Any]) -> None:
    for path_item in schema.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in _METHODS:
                continue
            responses = operation.setdefault("responses", {})
            error = {"description": "Error (problem details)", "content": _content("Problem")}
            responses.setdefault("default", error)
            if "422" in responses:
                responses["422"] = {
                    "description": "Validation error (problem details)",
                    "content": _content("ValidationProblem"),
                }
    schemas = schema.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    schemas["ValidationProblem"] = VALIDATION_PROBLEM_SCHEMA
    for unused in ("HTTPValidationError", "ValidationError"):
        if not _referenced(schema, f"{_REF}{unused}"):
            schemas.pop(unused, None)


def _referenced(node: Any, ref: str) -> bool:
    if isinstance(node, dict):
        return node.get("$ref") == ref or any(_referenced(v, ref) for v in node.values())
    if isinstance(node, list):
        return any(_referenced(v, ref) for v in node)
    return False


def document_problems(app: FastAPI) -> None:
    """Make `app.openapi()` document problem+json errors (built once, then cached)."""
    build_schema: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build_schema()
        _document(schema)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented extension point
