"""The OpenAPI 3.1 document, built from the pydantic models the views validate with."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import current_app, jsonify
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from werkzeug.wrappers import Response

from leadsite.api import bp
from leadsite.api.schemas import ErrorResponse, JourneyDataItem

ERROR_STATUSES = {
    400: "Malformed request (`INVALID_JSON`, `BAD_REQUEST`)",
    401: "Missing or invalid API key (`UNAUTHORIZED`)",
    404: "Not found, or not in this workspace (`NOT_FOUND`)",
    409: (
        "Conflict: a duplicate (`DUPLICATE_*`), a resource still in use, or the first request "
        "with this `Idempotency-Key` still at work (`IDEMPOTENCY_IN_PROGRESS`, see `Retry-After`)"
    ),
    413: "Body over the size limit (`PAYLOAD_TOO_LARGE`)",
    415: "Body neither JSON nor form-encoded (`UNSUPPORTED_MEDIA_TYPE`)",
    422: "Invalid values; every problem is listed in `errors` (`VALIDATION_ERROR`)",
    429: "Too many requests; see `Retry-After` (`RATE_LIMITED`)",
}


@dataclass
class Operation:
    summary: str
    tag: str
    responses: dict[int, tuple[str, type[BaseModel] | None]]
    body: type[BaseModel] | None = None
    form_body: bool = False
    query: list[dict[str, Any]] = field(default_factory=list)
    errors: tuple[int, ...] = (400, 401, 404, 413, 415, 422, 429)
    public: bool = False


OPERATIONS: dict[str, Operation] = {}


def operation(**spec: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Describe a view for the OpenAPI document; the endpoint name ties it to its URL rule."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        OPERATIONS[f"api.{view.__name__}"] = Operation(**spec)
        return view

    return decorator


def query_param(name: str, description: str, required: bool = False, **schema: Any) -> dict:
    return {
        "name": name,
        "in": "query",
        "required": required,
        "description": description,
        "schema": schema or {"type": "string"},
    }


def _models() -> list[type[BaseModel]]:
    models: set[type[BaseModel]] = {ErrorResponse, JourneyDataItem}
    for op in OPERATIONS.values():
        models.update(model for _, model in op.responses.values() if model)
        if op.body:
            models.add(op.body)
    return sorted(models, key=lambda model: model.__name__)


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _path_and_params(rule: str) -> tuple[str, list[dict[str, Any]]]:
    params = []
    path = rule
    for part in rule.split("/"):
        if part.startswith("<"):
            name = part.strip("<>").split(":")[-1]
            path = path.replace(part, "{" + name + "}")
            params.append(
                {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            )
    return path, params


def build_document() -> dict[str, Any]:
    _, schemas = models_json_schema(
        [(model, "validation") for model in _models()],
        ref_template="#/components/schemas/{model}",
    )
    paths: dict[str, dict[str, Any]] = {}
    for rule in current_app.url_map.iter_rules():
        op = OPERATIONS.get(rule.endpoint)
        if op is None:
            continue
        path, params = _path_and_params(rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            responses: dict[str, Any] = {
                str(status): {
                    "description": description,
                    **({"content": {"application/json": {"schema": _ref(model)}}} if model else {}),
                }
                for status, (description, model) in op.responses.items()
            }
            for status in sorted({400, *op.errors}):  # 400: a NUL in the URL, on any path
                responses.setdefault(
                    str(status),
                    {
                        "description": ERROR_STATUSES.get(status, "Error"),
                        "content": {"application/json": {"schema": _ref(ErrorResponse)}},
                    },
                )
            entry: dict[str, Any] = {
                "operationId": rule.endpoint.removeprefix("api."),
                "summary": op.summary,
                "tags": [op.tag],
                "parameters": params + op.query,
                "responses": responses,
            }
            if op.public:
                entry["security"] = []
            if op.body is not None:
                content = {"application/json": {"schema": _ref(op.body)}}
                if op.form_body:
                    content["application/x-www-form-urlencoded"] = {"schema": _ref(op.body)}
                entry["requestBody"] = {"required": True, "content": content}
            paths.setdefault(path, {})[method.lower()] = entry
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "leadsite API",
            "version": "1.0.0",
            "description": "Register leads into funnels and read them back. Authenticate with "
            "`Authorization: Bearer <API key>` (back-office: Settings → API keys).",
        },
        "servers": [{"url": current_app.config["BASE_URL"]}],
        "security": [{"bearerAuth": []}],
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": schemas.get("$defs", {}),
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
        },
    }


@bp.get("/openapi.json")
def openapi_document() -> Response:
    """The OpenAPI 3.1 document of this API."""
    return jsonify(build_document())
