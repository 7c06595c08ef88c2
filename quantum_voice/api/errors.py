"""Every error leaves the API as ``{"error": {"code", "message", "field"?}}`` with the right status."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from quantum_voice.core.errors import DomainError, RateLimited

log = logging.getLogger("quantum_voice.api")


def error_response(status: int, code: str, message: str, field: str | None = None,
                   headers: dict[str, str] | None = None, details: list | None = None) -> JSONResponse:
    body: dict = {"code": code, "message": message}
    if field:
        body["field"] = field
    if details:
        body["details"] = details  # e.g. every broken node of a flow, for the designer to mark
    return JSONResponse({"error": body}, status_code=status, headers=headers)


def _field_name(loc: tuple) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "cookie")]
    return ".".join(parts) or "body"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(_: Request, exc: DomainError):
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
        return error_response(exc.status, exc.code, exc.message, exc.field, headers, getattr(exc, "details", None))

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError):
        errors = exc.errors()
        first = errors[0] if errors else {"loc": ("body",), "msg": "invalid request"}
        field = _field_name(tuple(first.get("loc", ())))
        msg = first.get("msg", "invalid value")
        if first.get("type") == "json_invalid":
            return error_response(422, "invalid_json", "The request body is not valid JSON.", "body")
        if first.get("type") == "missing":
            msg = "this field is required"
        return error_response(422, "validation_error", f"{field}: {msg}", field)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException):
        codes = {404: "not_found", 405: "method_not_allowed", 401: "not_authenticated", 403: "forbidden",
                 413: "payload_too_large"}
        message = exc.detail if isinstance(exc.detail, str) else "request failed"
        if exc.status_code == 404 and message == "Not Found":
            message = "No such API endpoint. See /api/docs for the list."
        return error_response(exc.status_code, codes.get(exc.status_code, "http_error"), message)

    @app.exception_handler(DataError)
    @app.exception_handler(OverflowError)
    async def _unstorable(_: Request, exc: Exception):
        # the edge checks (input_checks.py) catch these first; a value that still slips through is the caller's
        log.warning("a value the database cannot store: %s", str(exc).splitlines()[0][:200])
        return error_response(422, "validation_error", "A value in the request cannot be stored (a number too "
                              "large, or text with characters that are not allowed). Nothing was saved.")

    @app.exception_handler(OperationalError)
    async def _database_down(_: Request, exc: OperationalError):
        if "statement timeout" in str(exc) or "idle-in-transaction" in str(exc):
            log.error("database time budget exceeded: %s", str(exc).splitlines()[0])
            return error_response(503, "database_busy", "That took the database too long, so it was stopped. "
                                  "Nothing was saved; try again, or with less at a time.", headers={"Retry-After": "5"})
        log.error("database unavailable: %s", str(exc).splitlines()[0])
        return error_response(503, "database_unavailable",
                              "The database is not reachable right now. Nothing was saved; try again shortly.",
                              headers={"Retry-After": "5"})

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception):
        log.exception("unhandled error")
        return error_response(500, "internal_error", "Something went wrong on our side. Try again; if it keeps "
                                                     "happening, contact your administrator.")
