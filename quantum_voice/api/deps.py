"""Request dependencies: database session, caller's IP, and who is signed in."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session

from quantum_voice.core.config import get_settings
from quantum_voice.core.db import session_scope
from quantum_voice.core.errors import NotAuthenticated, PermissionDenied
from quantum_voice.core.origins import is_trusted_origin, origin_of
from quantum_voice.services.accounts import AuthContext, resolve_token
from quantum_voice.services.developer import key_auth
from quantum_voice.services.tenancy import OrgRepository


def _db() -> Iterator[Session]:
    with session_scope() as session:
        yield session


# scope="function": commit (or roll back) as soon as the endpoint returns, before the response is sent.
DB = Annotated[Session, Depends(_db, scope="function")]


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def _sends_bearer(request: Request) -> bool:
    return request.headers.get("authorization", "").lower().startswith("bearer ")


def request_token(request: Request) -> str | None:
    """The bearer token of an API client, else the sign-in cookie of the app's pages."""
    if _sends_bearer(request):
        return request.headers["authorization"][7:].strip() or None
    return request.cookies.get(get_settings().session_cookie_name)


_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def check_same_origin(request: Request) -> None:
    """A write carried by the sign-in cookie must come from the app's own pages (or a configured origin): a page
    on another site, or another port of this host, could otherwise post with the visitor's cookie (CSRF)."""
    origin = request.headers.get("origin") or origin_of(request.headers.get("referer"))
    if not is_trusted_origin(origin, host=request.headers.get("host"), scheme=request.url.scheme,
                             forwarded_proto=request.headers.get("x-forwarded-proto")):
        raise PermissionDenied("This request came from another site, so the sign-in cookie does not count for it. "
                               "Use the app's own pages, or send 'Authorization: Bearer <token>' from an API client.",
                               code="cross_site_request")


def _route_path(request: Request) -> str:
    """The matched route's template (``/api/leads/{lead_id}``), which API key scopes are checked against."""
    route = request.scope.get("route")
    return getattr(route, "path", None) or request.url.path


def _auth(request: Request, session: DB) -> AuthContext:
    if request.method not in _SAFE_METHODS and not _sends_bearer(request) and request_token(request):
        check_same_origin(request)  # the token is the cookie
    token = request_token(request)
    if token and _sends_bearer(request) and key_auth.is_api_key(token):
        return key_auth.authenticate(session, token, method=request.method, path=_route_path(request),
                                     ip=client_ip(request))
    ctx = resolve_token(session, token)
    if ctx is None:
        raise NotAuthenticated("Sign in first: send 'Authorization: Bearer <token>' with a token from "
                               "POST /api/auth/login, or an API key (qv_live_…) from the Developers page.")
    return ctx


Auth = Annotated[AuthContext, Depends(_auth, scope="function")]


def _repo(ctx: Auth, session: DB) -> OrgRepository:
    return OrgRepository(session, ctx.scope)


Repo = Annotated[OrgRepository, Depends(_repo, scope="function")]
