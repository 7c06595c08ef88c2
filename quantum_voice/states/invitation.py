"""Accepting an invitation: join the organisation, then sign in the same way as the sign-in page."""

from __future__ import annotations

import reflex as rx

from quantum_voice.core.db import session_scope
from quantum_voice.core.errors import DomainError
from quantum_voice.services import team
from quantum_voice.states.auth import open_web_session, ticket_for
from quantum_voice.states.forms import FormErrors
from quantum_voice.states.session import SessionState


class AcceptInviteState(FormErrors, SessionState):
    status: str = "checking"  # checking | ready | invalid
    invite_email: str = ""
    invite_org: str = ""
    invite_role: str = ""
    account_exists: bool = False
    _token: str = ""

    @rx.event
    def load(self):
        self._token = self.router.url.query_parameters.get("token", "")
        self._clear_error()
        self.submitting = False
        try:
            with session_scope() as session:
                info = team.describe_invitation(session, self._token)
        except DomainError as exc:
            self.status, self.error = "invalid", exc.message
            return
        self.status = "ready"
        self.invite_email, self.invite_org, self.invite_role = info.email, info.organization_name, info.role
        self.account_exists = info.account_exists

    @rx.event
    def accept(self, form: dict):
        self._clear_error()
        password = form.get("password", "")
        if not self.account_exists and password != form.get("confirm", ""):
            self.error, self.error_field = "The two passwords do not match.", "confirm"
            return
        self.submitting = True
        yield
        try:
            with session_scope() as session:
                joining = team.describe_invitation(session, self._token).organization_id
                user = team.accept_invitation(session, self._token, password=password,
                                              full_name=form.get("full_name") or None, ip=self._client_ip())
                ticket = ticket_for(self, session, user, organization_id=joining)  # into the org they joined
        except DomainError as exc:
            self.submitting = False
            self._show_error(exc, ("password", "full_name"))
            return
        yield open_web_session(ticket)
