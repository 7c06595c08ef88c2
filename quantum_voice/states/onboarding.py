"""The first-run wizard: organisation name, industry and the first campaign, in one form."""

from __future__ import annotations

import reflex as rx

from quantum_voice.core.errors import DomainError
from quantum_voice.services import onboarding
from quantum_voice.states.forms import FormErrors
from quantum_voice.states.session import SessionState

FIELDS = ("organization_name", "industry", "first_campaign_name")


class OnboardingState(FormErrors, SessionState):
    loaded: bool = False

    @rx.event
    def load(self):
        self.loaded = False
        self._clear_error()
        self.submitting = False
        if redirect := self._guard():
            return redirect
        if not self.onboarding_pending:
            return rx.redirect("/dashboard")
        self.loaded = True  # the form mounts now, so its inputs start from the current organisation name
        return None

    @rx.event
    def finish(self, form: dict):
        self._clear_error()
        self.submitting = True
        yield
        try:
            with self._signed_in_repo() as repo:
                onboarding.complete_onboarding(repo, organization_name=form.get("organization_name", ""),
                                               industry=form.get("industry", ""),
                                               first_campaign_name=form.get("first_campaign_name", ""),
                                               ip=self._client_ip())
        except DomainError as exc:
            self.submitting = False
            self._show_error(exc, FIELDS)
            return
        self.onboarding_pending = False
        yield rx.redirect("/dashboard")
        yield rx.toast.success("You're all set. Your first campaign is ready as a draft.")
