"""/api/auth: sign-up, verification, sign-in (tokens and the UI's cookie), password reset."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlparse

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, Field

from quantum_voice.api.deps import DB, check_same_origin, client_ip, request_token
from quantum_voice.api.headers import is_https
from quantum_voice.api.schema import errors
from quantum_voice.core.config import get_settings
from quantum_voice.core.errors import DomainError
from quantum_voice.services import accounts

router = APIRouter(prefix="/api/auth", tags=["auth"])


class SignupIn(BaseModel):
    email: str = Field(max_length=320)
    password: str = Field(max_length=1024)
    organization: str = Field(max_length=200, description="Name of your business")
    full_name: str | None = Field(default=None, max_length=200)


class SignupOut(BaseModel):
    message: str  # the same whether or not the address already had an account


class LoginIn(BaseModel):
    email: str = Field(max_length=320)
    password: str = Field(max_length=1024)


class TokenOut(BaseModel):
    token: str
    token_type: str = "bearer"
    expires_at: datetime


class EmailIn(BaseModel):
    email: str = Field(max_length=320)


class TokenIn(BaseModel):
    token: str = Field(max_length=200)


class ResetIn(BaseModel):
    token: str = Field(max_length=200)
    password: str = Field(max_length=1024)


class MessageOut(BaseModel):
    message: str


@router.post("/signup", status_code=201, response_model=SignupOut, responses=errors(429))
def signup(body: SignupIn, request: Request, session: DB) -> SignupOut:
    email = accounts.register(session, email=body.email, password=body.password, organization_name=body.organization,
                              full_name=body.full_name, ip=client_ip(request))
    return SignupOut(message=accounts.SIGNUP_SENT.format(email=email))


@router.post("/login", response_model=TokenOut, responses=errors(401, 403, 429))
def login(body: LoginIn, request: Request, session: DB) -> TokenOut:
    user = accounts.authenticate(session, email=body.email, password=body.password, ip=client_ip(request))
    row, token = accounts.create_api_session(session, user, ip=client_ip(request),
                                             user_agent=request.headers.get("user-agent"))
    return TokenOut(token=token, expires_at=row.expires_at)


@router.post("/logout", response_model=MessageOut)
def logout(request: Request, session: DB) -> MessageOut:
    accounts.revoke_session(session, request_token(request))
    return MessageOut(message="Signed out.")


@router.post("/verify", response_model=MessageOut)
def verify(body: TokenIn, session: DB) -> MessageOut:
    user = accounts.verify_email(session, body.token)
    return MessageOut(message=f"{user.email} is verified. You can sign in now.")


@router.post("/resend-verification", response_model=MessageOut)
def resend_verification(body: EmailIn, session: DB) -> MessageOut:
    accounts.resend_verification(session, body.email)
    return MessageOut(message="If that account exists and is not verified yet, we sent a new link.")


@router.post("/password-reset/request", response_model=MessageOut)
def password_reset_request(body: EmailIn, request: Request, session: DB) -> MessageOut:
    accounts.request_password_reset(session, body.email, ip=client_ip(request))
    return MessageOut(message="If an account exists for that email, we sent a link to reset the password.")


@router.post("/password-reset/confirm", response_model=MessageOut)
def password_reset_confirm(body: ResetIn, request: Request, session: DB) -> MessageOut:
    accounts.reset_password(session, body.token, body.password, ip=client_ip(request))
    return MessageOut(message="Password changed. Sign in with your new password.")


def _safe_next(next_path: str) -> str:
    """Only same-site paths, so the sign-in redirect cannot be used to send people elsewhere."""
    parsed = urlparse(next_path)
    if parsed.scheme or parsed.netloc or not next_path.startswith("/") or next_path.startswith("//"):
        return "/dashboard"
    return next_path


def _app_path(path: str) -> str:
    """A redirect within the app stays on the host the browser used (pages and API share one port): redirecting
    to APP_URL sent people who opened the app by another host name to an origin without their cookie."""
    return path


@router.get("/session", include_in_schema=False)
def open_web_session(ticket: str, request: Request, session: DB, next: str = "/dashboard") -> RedirectResponse:
    """Trade the UI's one-time sign-in ticket for the HTTP-only session cookie (``Secure`` whenever the request
    came over https, behind a proxy too, unless COOKIE_SECURE says otherwise)."""
    settings = get_settings()
    try:
        row, token = accounts.exchange_web_ticket(session, ticket)
    except DomainError:
        return RedirectResponse(_app_path("/login?expired=1"), status_code=303)
    response = RedirectResponse(_app_path(_safe_next(next)), status_code=303)
    secure = settings.cookie_secure if settings.cookie_secure is not None else (
        settings.effective_cookie_secure or is_https(request.scope))
    response.set_cookie(settings.session_cookie_name, token, httponly=True, secure=secure,
                        samesite="lax", path="/", max_age=settings.session_ttl_hours * 3600)
    return response


@router.post("/signout", include_in_schema=False)
def close_web_session(request: Request, session: DB) -> RedirectResponse:
    """The UI's sign-out form: a POST from the app's own pages (a link elsewhere cannot sign anyone out)."""
    settings = get_settings()
    check_same_origin(request)
    accounts.revoke_session(session, request.cookies.get(settings.session_cookie_name))
    response = RedirectResponse(_app_path("/login"), status_code=303)
    response.delete_cookie(settings.session_cookie_name, path="/")
    return response
