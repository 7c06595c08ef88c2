"""The OpenAPI schema as the server really answers (``/api/openapi.json``; checked by
tests/integration/test_api_contract.py).

FastAPI describes each route's success and a 422 in its own validation format. The errors every route shares come
from the layers around it, so they are added here, in one place, from what each route depends on:

* every ``/api`` route: 422 (``input_checks.py`` and the validation handler), in the one error format
  ``{"error": {"code", "message", "field"?, "details"?}}`` (``errors.py``);
* a route that reads the database: 503 when it is unreachable or too slow;
* a route behind sign-in: 401, 403 (role, scope, or a route that is not for API keys), 429 (a key's rate limit);
* a path that names a row (an id, a slug): 404;
* a route that takes a body: 413 (``limits.py``);
* a signed-in POST: the ``Idempotency-Key`` header, and its 400 (malformed), 409 (still running) and 422 (reused
  with another body) from ``idempotency.py``.

What only some routes answer (409 on a conflict, 502 from a service upstream, 401 on a wrong password) is declared
on the route itself with ``errors(...)``.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field
from starlette.routing import BaseRoute

from quantum_voice.api import deps
from quantum_voice.api.idempotency import HEADER as IDEMPOTENCY_HEADER
from quantum_voice.api.idempotency import MAX_KEY_LENGTH

ERROR_TEXT = {
    400: "The request is malformed; `error.message` says how",
    401: "Not signed in: no valid API key or session token",
    403: "Not allowed: the role, a missing scope, or a route that is not for API keys",
    404: "Not found in your organisation",
    409: "In conflict with the current state; `error.message` says what to do",
    413: "The request body is too large",
    422: "A field is missing or invalid (`error.field` names it), or the body is not JSON",
    429: "Too many requests; retry after `Retry-After` seconds",
    502: "A service this call relies on refused or could not be reached",
    503: "Temporarily unavailable (the database, or a service not configured); retry after `Retry-After`",
}


class ErrorBody(BaseModel):
    code: str = Field(description="Stable and machine-readable, e.g. not_found, missing_scope")
    message: str = Field(description="What went wrong and what to do, for people")
    field: str | None = Field(None, description="The field at fault, when there is one")
    details: list[dict[str, Any]] | None = Field(None, description="Every problem, when there are several")


class ErrorOut(BaseModel):
    """Every error the API answers, whatever its status."""

    error: ErrorBody


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route's own errors, in the one error format."""
    return {status: {"model": ErrorOut, "description": ERROR_TEXT[status]} for status in statuses}


def _dependency(annotated) -> Any:
    return annotated.__metadata__[0].dependency  # Annotated[..., Depends(f)] → f


_SIGNED_IN = _dependency(deps.Auth)
_DATABASE = _dependency(deps.DB)


def _calls(route: APIRoute) -> set:
    found, todo = set(), [route.dependant]
    while todo:
        dependant = todo.pop()
        found.add(dependant.call)
        todo.extend(dependant.dependencies)
    return found


def shared_errors(route: APIRoute, method: str) -> set[int]:
    """The statuses ``route`` can answer with whatever it does, from the layers around it."""
    calls = _calls(route)
    statuses = {422}
    if _DATABASE in calls:
        statuses.add(503)
    if _SIGNED_IN in calls:
        statuses |= {401, 403, 429}
        if method == "post":
            statuses |= {400, 409}
    if route.dependant.path_params:
        statuses.add(404)
    if route.body_field is not None:
        statuses.add(413)
    return statuses


IDEMPOTENCY_PARAMETER = {
    "name": IDEMPOTENCY_HEADER, "in": "header", "required": False,
    "description": "Any string you choose (a UUID is usual): a retry with the same key and body gets the first "
                   "answer again, with `Idempotent-Replayed: true`, instead of running twice. Kept 24 hours.",
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH, "pattern": "^[\\x20-\\x7e]+$"},
}


def _error_response(status: int) -> dict[str, Any]:
    return {"description": ERROR_TEXT[status],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}}


def _document(operation: dict[str, Any], route: APIRoute, method: str) -> None:
    responses = operation.setdefault("responses", {})
    validation = responses.get("422", {}).get("content", {}).get("application/json", {}).get("schema", {})
    if validation.get("$ref", "").endswith("/HTTPValidationError"):
        del responses["422"]  # FastAPI's own format; ours is ErrorOut
    for status in shared_errors(route, method):
        responses.setdefault(str(status), _error_response(status))
    operation["responses"] = dict(sorted(responses.items()))  # read in order in /api/docs
    if method == "post" and _SIGNED_IN in _calls(route):
        parameters = operation.setdefault("parameters", [])
        if not any(p.get("name") == IDEMPOTENCY_HEADER for p in parameters):
            parameters.append(IDEMPOTENCY_PARAMETER)


def openapi_schema(api: FastAPI, included: list[BaseRoute]) -> dict[str, Any]:
    """FastAPI's schema with the shared errors and the ``Idempotency-Key`` header added; built once. ``included``:
    the routes of the routers the app includes (its own ``routes`` list holds the routers, not their routes)."""
    if api.openapi_schema:
        return api.openapi_schema
    schema = get_openapi(title=api.title, version=api.version, description=api.description, routes=api.routes)
    routes = {(route.path, method.lower()): route for route in [*api.routes, *included]
              if isinstance(route, APIRoute) for method in route.methods}
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            if (path, method) in routes:
                _document(operation, routes[(path, method)], method)
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    error = ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(error.pop("$defs", {}))
    components["ErrorOut"] = error
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    api.openapi_schema = schema
    return schema

