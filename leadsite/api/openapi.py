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
from leadsite.models import Scope

ERROR_STATUSES = {
    400: "Malformed request (`INVALID_JSON`, `BAD_REQUEST`)",
    401: "Missing or invalid API key (`UNAUTHORIZED`)",
    403: "The key lacks the operation's scope (`INSUFFICIENT_SCOPE`), or is used from a web "
    "page it is not allowed on (`ORIGIN_NOT_ALLOWED`)",
    404: "Not found, or not in this workspace (`NOT_FOUND`)",
    409: (
        "Conflict: a duplicate (`DUPLICATE_*`), a resource still in use, the first request "
        "with this `Idempotency-Key` still at work (`IDEMPOTENCY_IN_PROGRESS`, see "
        "`Retry-After`), or a dialect's refused API access (`INVALID_API_ACCESS`)"
    ),
    413: "Body over the size limit (`PAYLOAD_TOO_LARGE`)",
    415: "Body neither JSON nor form-encoded (`UNSUPPORTED_MEDIA_TYPE`)",
    422: "Invalid values; every problem is listed in `errors` (`VALIDATION_ERROR`)",
    423: "The funnel is not taking registrations (`FUNNEL_CLOSED`)",
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
    # A dialect answers its errors in its own shape; it names the model here.
    error_model: type[BaseModel] = ErrorResponse
    description: str | None = None
    # Security requirements when not the bearer key (a dialect's own header scheme).
    security: list[dict[str, list[str]]] | None = None
    # What the key must hold; a publishable key only works where `publishable` says it may.
    scope: Scope = Scope.ADMIN
    publishable: bool = False


OPERATIONS: dict[str, Operation] = {}


def operation(
    *, blueprint: str = "api", endpoints: tuple[str, ...] = (), **spec: Any
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Describe a view for the OpenAPI document; the endpoint name ties it to its URL rule (a
    dialect on a blueprint of its own names that blueprint, or its `endpoints`). Its `scope` is
    also what `leadsite.api.auth` requires of the key (`admin` by default)."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        for endpoint in endpoints or (f"{blueprint}.{view.__name__}",):
            OPERATIONS[endpoint] = Operation(**spec)
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
        models.add(op.error_model)
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


FORM_NOTE = (
    "the flat fields; journey data, webhook input, metadata and consent go as JSON text "
    '(`JourneyData=[{"Name":"company","Value":"Acme"}]`), a list as the key repeated.'
)


def _scalar_branches(schema: dict[str, Any]) -> list[dict[str, Any]] | None:
    """The branches of a property's schema a form field can carry (no null: a form cannot send
    one), or None when one is structured (an object, a model, a list of those)."""
    branches = schema.get("anyOf") or [schema]
    kept = []
    for branch in branches:
        types = branch.get("type")
        if "$ref" in branch or types == "object" or branch.get("additionalProperties"):
            return None
        if types == "array" and "$ref" in branch.get("items", {}):
            return None
        if isinstance(types, list):
            types = [name for name in types if name != "null"]
            if "object" in types:
                return None
            kept.append({**branch, "type": types})
        elif types != "null":
            kept.append(branch)
    return kept


def form_schema(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any] | None:
    """A body model's schema as a form-encoded body carries it: its flat fields, none of them
    null (a form cannot send one). Structured fields are left out: a form sends those it can
    (journey data, webhook input, metadata, consent) as JSON text, which no schema describes.
    None when a field it requires is structured (a body no form sends)."""
    if "properties" not in schema:
        # One of several bodies (Kohomai's nested or flat): those a form can send.
        branches = [
            form_schema(defs[branch["$ref"].rsplit("/", 1)[-1]], defs)
            for branch in schema.get("anyOf", [])
            if "$ref" in branch
        ]
        kept = [branch for branch in branches if branch is not None]
        if not kept:
            return None
        words = {k: v for k, v in schema.items() if k not in ("anyOf", "examples")}
        return {**words, **kept[0]} if len(kept) == 1 else {**words, "anyOf": kept}
    properties = {}
    for name, prop in schema["properties"].items():
        # What stands beside the branches: title, description, format, pattern...
        words = {k: v for k, v in prop.items() if k not in ("anyOf", "type", "default")}
        branches = _scalar_branches(prop)
        if branches is None:
            continue
        properties[name] = (
            {**words, **branches[0]} if len(branches) == 1 else {**words, "anyOf": branches}
        )
    if set(schema.get("required", ())) - set(properties):
        return None
    description = "Form-encoded: " + FORM_NOTE
    # The JSON examples hold structured fields, which a form would send as something else.
    kept = {key: value for key, value in schema.items() if key not in ("examples", "example")}
    return {**kept, "properties": properties, "description": description}


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
            # 400: a NUL in the URL, on any path; 403: a key without the scope, on any
            # operation that needs a key.
            always = {400} if op.public else {400, 403}
            for status in sorted({*always, *op.errors}):
                responses.setdefault(
                    str(status),
                    {
                        "description": ERROR_STATUSES.get(status, "Error"),
                        "content": {"application/json": {"schema": _ref(op.error_model)}},
                    },
                )
            entry: dict[str, Any] = {
                "operationId": rule.endpoint.removeprefix("api.").replace(".", "_"),
                "summary": op.summary,
                "tags": [op.tag],
                "parameters": params + op.query,
                "responses": responses,
            }
            if op.description:
                entry["description"] = op.description
            if op.public:
                entry["security"] = []
            elif op.security is not None:
                entry["security"] = op.security
            else:
                entry["security"] = [{"bearerAuth": [op.scope.value]}]
                if op.publishable:
                    entry["security"].append({"publishableKey": []})
            if op.body is not None:
                content = {"application/json": {"schema": _ref(op.body)}}
                defs = schemas["$defs"]
                form = f"{op.body.__name__}Form"
                if op.form_body and form not in defs:
                    defs[form] = form_schema(defs[op.body.__name__], defs)
                if op.form_body and defs[form] is not None:
                    content["application/x-www-form-urlencoded"] = {
                        "schema": {"$ref": f"#/components/schemas/{form}"}
                    }
                # A PATCH without a body changes nothing, and answers the resource as it is.
                entry["requestBody"] = {"required": method != "PATCH", "content": content}
            paths.setdefault(path, {})[method.lower()] = entry
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "leadsite API",
            "version": "1.0.0",
            "description": "Register leads into funnels and read them back. Authenticate with "
            "`Authorization: Bearer <API key>` (back-office: Settings → API keys). A secret key "
            "(`lsk_`) holds scopes: `leads:write` (register, edit and erase leads), `leads:read` "
            "(read leads, journeys, funnels and data points) and `admin` (data points, webhooks "
            "and deliveries); each operation names the one it needs. A publishable key (`lpk_`) "
            "only registers leads, from web pages on its origins' allowed domains. No text may "
            "hold a NUL character (U+0000), in a body, a query or a path: `400 INVALID_JSON`.",
        },
        "servers": [{"url": current_app.config["BASE_URL"]}],
        "security": [{"bearerAuth": []}],
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": {k: v for k, v in schemas.get("$defs", {}).items() if v is not None},
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A secret key (`lsk_…`), for servers. Scopes: "
                    + ", ".join(f"`{scope.value}`" for scope in Scope)
                    + ". Refused from a browser `Origin` that the API origin does not list.",
                },
                "publishableKey": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A publishable key (`lpk_…`), for web pages: registers "
                    "leads through the origins it is bound to, from their allowed domains "
                    "(the `Origin` header), rate-limited per visitor's IP.",
                },
                # The dialects' other places for the key (KickoffLabs: `api_key`).
                "apiKeyQuery": {"type": "apiKey", "in": "query", "name": "api_key"},
                # vcita's clients send `Authorization: Token token="KEY"`.
                "vcitaToken": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": '`Token token="<API key>"` (or `Bearer <API key>`)',
                },
            },
        },
    }


@bp.get("/openapi.json")
def openapi_document() -> Response:
    """The OpenAPI 3.1 document of this API."""
    return jsonify(build_document())
