"""/call/[slug]: the caller's page. Loads the campaign's branding, runs the email gate (consent ticket), then hands
the call ticket to the page's own script (assets/call.js), which does the microphone, WebRTC, rings, transcript,
level ring, mute and hang-up in the browser."""

from __future__ import annotations

import asyncio
import json

import reflex as rx

from quantum_voice.core.clock import utcnow
from quantum_voice.core.db import session_scope
from quantum_voice.core.errors import DomainError
from quantum_voice.services.public_calls import call_page, email_gate
from quantum_voice.states.forms import FormErrors


class CallPageState(FormErrors, rx.State):
    stage: str = "loading"  # loading | missing | unavailable | gate | call
    message: str = ""
    slug: str = ""
    name: str = ""
    organization: str = ""
    greeting: str = ""
    brand_color: str = "#6E56CF"
    logo_url: str = ""
    privacy_wording: str = ""
    policy_version: str = ""
    is_test: bool = False
    embedded: bool = False
    consent_id: str = ""
    _test_token: str = ""
    _qr: str = ""
    _channel: str = "web"
    _media: str = "embedded"  # embedded (a voice sidecar) | livekit (a LiveKit room)
    _raw_audio: bool = False  # ?audio=raw: no echo cancellation / noise suppression (a headset, a test)
    _opened_at: float = 0.0  # when the page (or the last gate from it) was opened: the gate waits a moment after

    @rx.event
    def load(self):
        params = self.router.url.query_parameters
        self.slug = self.router.url.path.rstrip("/").rsplit("/", 1)[-1]
        self._test_token, self._qr = params.get("test", ""), params.get("qr", "")
        self._channel = "qr" if self._qr else ("widget" if params.get("src") == "widget" else "web")
        self.embedded = params.get("embed") == "1"
        self._raw_audio = params.get("audio") == "raw"
        self._clear_error()
        self.consent_id, self._opened_at = "", utcnow().timestamp()
        try:
            with session_scope() as session:
                page = call_page.campaign_page(session, self.slug, test_token=self._test_token or None)
        except DomainError as exc:
            self.stage, self.message = "missing", exc.message
            return
        self.name, self.organization, self.greeting = page.name, page.organization, page.greeting
        self.brand_color, self.logo_url = page.brand_color, page.logo_url or ""
        self.privacy_wording, self.policy_version, self.is_test = page.privacy_wording, page.policy_version, page.is_test
        self._media = page.media
        self.stage = "gate" if page.accepting_calls else "unavailable"
        self.message = page.unavailable_reason or ""

    @rx.event
    async def start_call(self, form: dict):
        self._clear_error()
        # The gate takes a post only a moment after the page opened (cheap for a person, a cost for a script):
        # a person quicker than that just waits the rest of the moment.
        early = email_gate.GATE_MIN_SECONDS - (utcnow().timestamp() - self._opened_at)
        if early > 0:
            await asyncio.sleep(early)
        try:
            with session_scope() as session:
                ticket = email_gate.open_gate(
                    session, self.slug, email=form.get("email", ""), consent=bool(form.get("consent")),
                    ip=self.router.session.client_ip or None, user_agent=self.router.headers.user_agent or None,
                    test_token=self._test_token or None, qr_code=self._qr or None, channel=self._channel,
                    page_opened_at=self._opened_at)
            self._opened_at = utcnow().timestamp()  # another call from this page waits a moment again
        except DomainError as exc:
            self._show_error(exc, ("email", "consent"))
            return
        self.stage, self.consent_id = "call", ticket.consent_id
        options = {"ticket": ticket.token, "color": self.brand_color, "rootId": "qv-call-root",
                   "rawAudio": self._raw_audio, "media": self._media}
        return rx.call_script(f"window.QVCall.start({json.dumps(options)})")

    @rx.event
    def call_again(self):
        self.stage, self.consent_id = "gate", ""
