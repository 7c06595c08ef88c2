"""Public account pages: sign-in, sign-up, email verification and password reset."""

from __future__ import annotations

import json
from urllib.parse import quote

import reflex as rx

from quantum_voice.core.db import session_scope
from quantum_voice.core.errors import DomainError, ValidationFailed
from quantum_voice.models.accounts import User
from quantum_voice.services import accounts
from quantum_voice.states.forms import FormErrors
from quantum_voice.states.session import SessionState

LOGIN_NOTICES = {
    "verified": "Your email is verified. Sign in to finish setting up.",
    "reset": "Your password was changed. Sign in with the new one.",
    "expired": "That sign-in took too long. Please sign in again.",
}


def open_web_session(ticket: str, next_path: str = "/dashboard"):
    """A full page load of the API, which trades the ticket for the HTTP-only cookie (a websocket
    cannot set cookies) and redirects; the next page's websocket then carries the cookie."""
    url = f"/api/auth/session?ticket={quote(ticket)}&next={quote(next_path)}"
    return rx.call_script(f"window.location.assign({json.dumps(url)})")


def ticket_for(state: SessionState, session, user: User, organization_id: int | None = None) -> str:
    return accounts.create_web_ticket(session, user, ip=state._client_ip(), user_agent=state._user_agent(),
                                      organization_id=organization_id)


class LoginState(FormErrors, SessionState):
    notice: str = ""
    unverified_email: str = ""  # set when sign-in failed only because the email is not verified yet

    @rx.event
    def load(self):
        params = self.router.url.query_parameters
        self.notice = next((text for key, text in LOGIN_NOTICES.items() if params.get(key) == "1"), "")
        self._clear_error()
        self.submitting = False
        return self._skip_if_signed_in()

    @rx.event
    def sign_in(self, form: dict):
        self._clear_error()
        self.unverified_email = ""
        self.submitting = True
        yield
        email = form.get("email", "")
        try:
            with session_scope() as session:
                user = accounts.authenticate(session, email=email, password=form.get("password", ""),
                                             ip=self._client_ip())
                ticket = ticket_for(self, session, user)
        except DomainError as exc:
            self.submitting = False
            self._show_error(exc)
            if exc.code == "email_not_verified":
                self.unverified_email = email
            return
        yield open_web_session(ticket)

    @rx.event
    def resend_verification(self):
        with session_scope() as session:
            accounts.resend_verification(session, self.unverified_email)
        return rx.toast.success(f"We sent a new verification link to {self.unverified_email}.")


class SignupState(FormErrors, SessionState):
    done_email: str = ""  # set once the account exists: the page shows "Check your inbox"

    @rx.event
    def load(self):
        self.done_email = ""
        self._clear_error()
        self.submitting = False
        return self._skip_if_signed_in()

    @rx.event
    def sign_up(self, form: dict):
        self._clear_error()
        self.submitting = True
        yield
        try:
            with session_scope() as session:
                self.done_email = accounts.register(
                    session, email=form.get("email", ""), password=form.get("password", ""),
                    organization_name=form.get("organization", ""), full_name=form.get("full_name") or None,
                    ip=self._client_ip())
        except DomainError as exc:
            self._show_error(exc, ("full_name", "email", "password", "organization"))
        self.submitting = False


class VerifyState(FormErrors, SessionState):
    status: str = "checking"  # checking | verified | failed
    verified_email: str = ""
    resent: bool = False
    _checked_token: str = ""

    @rx.event
    def load(self):
        token = self.router.url.query_parameters.get("token", "")
        if token and token == self._checked_token:
            return  # the link is single-use: a reload must not turn success into "already used"
        self._checked_token, self.resent = token, False
        try:
            with session_scope() as session:
                if not token:
                    raise ValidationFailed("This verification link is incomplete. Open the full link from the email.")
                self.verified_email = accounts.verify_email(session, token).email
            self.status = "verified"
        except DomainError as exc:
            self.status, self.error = "failed", exc.message

    @rx.event
    def resend(self, form: dict):
        with session_scope() as session:
            accounts.resend_verification(session, form.get("email", ""))
        self.resent = True


class ForgotPasswordState(SessionState):
    sent: bool = False

    @rx.event
    def load(self):
        self.sent = False

    @rx.event
    def request_reset(self, form: dict):
        # The same answer whether or not the account exists, so the form cannot be used to probe emails.
        with session_scope() as session:
            accounts.request_password_reset(session, form.get("email", ""), ip=self._client_ip())
        self.sent = True


class ResetPasswordState(FormErrors, SessionState):
    _token: str = ""

    @rx.event
    def load(self):
        self._token = self.router.url.query_parameters.get("token", "")
        self._clear_error()
        self.submitting = False

    @rx.event
    def change_password(self, form: dict):
        self._clear_error()
        password = form.get("password", "")
        if password != form.get("confirm", ""):
            self.error, self.error_field = "The two passwords do not match.", "confirm"
            return
        self.submitting = True
        yield
        try:
            with session_scope() as session:
                accounts.reset_password(session, self._token, password, ip=self._client_ip())
        except DomainError as exc:
            self.submitting = False
            self._show_error(exc, ("password",))
            return
        yield rx.redirect("/login?reset=1")
