"""Who is signed in, read from the HTTP-only session cookie, and the guard every signed-in page loads with."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import reflex as rx
from reflex.event import EventSpec

from quantum_voice.core.config import get_settings
from quantum_voice.core.db import session_scope
from quantum_voice.core.errors import DomainError, NotAuthenticated
from quantum_voice.services import accounts
from quantum_voice.services.onboarding import needs_onboarding
from quantum_voice.services.permissions import Permission, has_permission
from quantum_voice.services.tenancy import OrgRepository


def parse_cookie_header(raw: str, name: str) -> str | None:
    """One cookie's value. Parsed by hand: SimpleCookie gives up on the whole header at the first
    cookie it finds malformed (other apps on localhost set plenty), which would sign people out."""
    for part in raw.split(";"):
        key, sep, value = part.strip().partition("=")
        if sep and key == name:
            return value.strip().strip('"') or None
    return None


class SessionState(rx.State):
    signed_in: bool = False
    user_email: str = ""
    user_name: str = ""
    org_name: str = ""
    role: str = ""
    can_manage_team: bool = False
    can_manage_org: bool = False
    can_grant_owner: bool = False
    can_view_admin: bool = False
    onboarding_pending: bool = False

    @rx.var
    def user_display(self) -> str:
        return self.user_name or self.user_email

    @rx.var
    def user_initials(self) -> str:
        words = (self.user_name or self.user_email).replace("@", " ").split()
        return "".join(w[0] for w in words[:2]).upper() or "?"

    # ------------------------------------------------------------ request facts

    def _cookie_token(self) -> str | None:
        # The websocket handshake carries the browser's cookies, including the HTTP-only session cookie.
        raw = self.router.headers.raw_headers.get("cookie", "")
        return parse_cookie_header(raw, get_settings().session_cookie_name)

    def _id_from_url(self) -> int:
        """The id at the end of this page's path (``/campaigns/12`` → 12); 0 when there is none."""
        tail = self.router.url.path.rstrip("/").rsplit("/", 1)[-1]
        return int(tail) if tail.isdigit() else 0

    def _client_ip(self) -> str | None:
        return self.router.session.client_ip or None

    def _user_agent(self) -> str | None:
        return self.router.headers.user_agent or None

    # ------------------------------------------------------------ who is signed in

    def _remember(self, ctx: accounts.AuthContext) -> None:
        self.signed_in = True
        self.user_email = ctx.user.email
        self.user_name = ctx.user.full_name or ""
        self.org_name = ctx.organization.name
        self.role = ctx.role
        self.can_manage_team = has_permission(ctx.role, Permission.MANAGE_TEAM)
        self.can_manage_org = has_permission(ctx.role, Permission.MANAGE_ORGANIZATION)
        self.can_grant_owner = has_permission(ctx.role, Permission.GRANT_OWNER)
        self.can_view_admin = has_permission(ctx.role, Permission.VIEW_ADMIN)
        self.onboarding_pending = needs_onboarding(ctx.organization)

    def _forget(self) -> None:
        self.signed_in = False
        self.user_email = self.user_name = self.org_name = self.role = ""
        self.can_manage_team = self.can_manage_org = self.can_grant_owner = self.can_view_admin = False
        self.onboarding_pending = False

    @contextmanager
    def _signed_in_repo(self) -> Iterator[OrgRepository]:
        """A repository for the person behind the cookie, re-checked on every event so that a revoked
        session or a removed membership takes effect at once. Commits when the block succeeds."""
        with session_scope() as session:
            ctx = accounts.resolve_token(session, self._cookie_token())
            if ctx is None:
                raise NotAuthenticated("Your session has ended. Sign in again.", code="signed_out")
            self._remember(ctx)
            yield OrgRepository(session, ctx.scope)

    def _act_then_reload(self, action: Callable[[OrgRepository], object],
                         reload: Callable[[OrgRepository], None]) -> DomainError | None:
        """Run one service call, then refresh what the page shows — also after an error, so controls snap
        back to what is really stored. Returns the first error, if any."""
        error = None
        try:
            with self._signed_in_repo() as repo:
                action(repo)
        except DomainError as exc:
            error = exc
        try:
            with self._signed_in_repo() as repo:
                reload(repo)
        except DomainError as exc:
            error = error or exc
        return error

    def _guard(self) -> EventSpec | None:
        """Refresh who is signed in; the redirect to send when this page is not for them (yet)."""
        try:
            with self._signed_in_repo():
                pass
        except NotAuthenticated:
            self._forget()
            return rx.redirect("/login")
        # Only people who can finish set-up are sent to it; the others would be stuck there.
        if self.onboarding_pending and self.can_manage_org and self.router.url.path.rstrip("/") != "/onboarding":
            return rx.redirect("/onboarding")
        return None

    # ------------------------------------------------------------ events

    @rx.event
    def route_home(self):
        """"/" has no page of its own: the dashboard, or sign-in first."""
        return self._guard() or rx.redirect("/dashboard")

    def _skip_if_signed_in(self) -> EventSpec | None:
        """Sign-in and sign-up pages send people who already have a session straight in."""
        with session_scope() as session:
            if accounts.resolve_token(session, self._cookie_token()) is not None:
                return rx.redirect("/dashboard")
        return None


def client_connected(token: str) -> bool:
    """Whether the browser tab behind ``token`` still has its websocket (a closed tab fires no event)."""
    from reflex.utils.prerequisites import get_and_validate_app

    try:
        namespace = get_and_validate_app().app.event_namespace
    except Exception:  # no app in this process (tests): assume the page is open
        return True
    return namespace is None or token in namespace.token_to_sid
