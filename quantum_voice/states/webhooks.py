"""The Developers page's Webhooks panel: the endpoints, the form that creates one, the secret shown once, enable and
disable, delete, roll the secret, send a test event, and an endpoint's delivery log with replay. Every rule lives in
services/developer/webhooks.py; this state only shows what it returns."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import reflex as rx

from quantum_voice.core.errors import DomainError
from quantum_voice.services.developer import webhooks
from quantum_voice.services.tenancy import OrgRepository
from quantum_voice.states.format import moment
from quantum_voice.states.forms import ConfirmStep, FormErrors
from quantum_voice.states.session import SessionState

DELIVERY_COLOURS = {"succeeded": "green", "failed": "red", "retrying": "amber", "sending": "blue",
                    "pending": "gray"}


@dataclass
class HookRow:
    id: int = 0
    url: str = ""
    description: str = ""
    events: str = ""
    test_events: bool = False
    enabled: bool = True
    state: str = ""  # enabled | disabled
    state_colour: str = "gray"
    disabled_reason: str = ""
    secret_hint: str = ""
    last_delivery: str = ""
    last_colour: str = "gray"


@dataclass
class DeliveryRow:
    id: int = 0
    time: str = ""
    event: str = ""
    status: str = ""
    colour: str = "gray"
    code: str = ""
    duration: str = ""
    attempts: int = 0
    error: str = ""
    next_try: str = ""


@dataclass
class AttemptRow:
    number: int = 0
    time: str = ""
    code: str = ""
    duration: str = ""
    outcome: str = ""  # the error, or "OK"
    excerpt: str = ""
    manual: str = ""


def hook_row(view: webhooks.EndpointView) -> HookRow:
    last, colour = "No deliveries yet", "gray"
    if view.last_delivery is not None:
        code = f" ({view.last_delivery.status_code})" if view.last_delivery.status_code else ""
        last = f"{view.last_delivery.status}{code}: {view.last_delivery.event_type}, {moment(view.last_delivery.at)}"
        colour = DELIVERY_COLOURS.get(view.last_delivery.status, "gray")
    return HookRow(view.id, view.url, view.description, ", ".join(view.events), view.test_events, view.enabled,
                   "enabled" if view.enabled else "disabled", "green" if view.enabled else "red",
                   view.disabled_reason or "", view.secret_hint + "…", last, colour)


def delivery_row(view: webhooks.DeliveryView) -> DeliveryRow:
    label = view.event_type + (" (test)" if view.test else "") + ("" if view.livemode else " (test data)")
    return DeliveryRow(view.id, moment(view.created_at), label,
                       view.status, DELIVERY_COLOURS.get(view.status, "gray"),
                       str(view.last_status_code) if view.last_status_code is not None else "—",
                       f"{view.last_duration_ms} ms" if view.last_duration_ms is not None else "—", view.attempts,
                       view.last_error or "", moment(view.next_attempt_at) if view.status == "retrying" else "")


def attempt_row(view: webhooks.AttemptView) -> AttemptRow:
    return AttemptRow(view.number, moment(view.attempted_at), str(view.status_code or "—"),
                      f"{view.duration_ms} ms" if view.duration_ms is not None else "—", view.error or "OK",
                      view.response_excerpt or "", "manual" if view.manual else "")


def events_of(form: dict) -> list[str]:
    """The ticked event boxes (named ``event:<type>``) of the create form."""
    return [name.removeprefix("event:") for name, value in form.items()
            if name.startswith("event:") and value not in ("", None, False, "off")]


def outcome_toast(detail: webhooks.DeliveryDetail, what: str):
    last = detail.attempts[-1] if detail.attempts else None
    if last is not None and last.error is None:
        return rx.toast.success(f"{what}: the endpoint answered {last.status_code} in {last.duration_ms} ms.")
    return rx.toast.error(f"{what} failed: {last.error if last else 'not sent'}")


class WebhooksState(ConfirmStep, FormErrors, SessionState):
    loaded: bool = False
    may_view: bool = False
    may_manage: bool = False
    hooks: list[HookRow] = []
    create_open: bool = False
    secret: str = ""  # a new or rolled signing secret, on screen until its dialog is closed; never stored
    secret_label: str = ""
    log_open: bool = False
    log_url: str = ""
    deliveries: list[DeliveryRow] = []
    attempts: list[AttemptRow] = []
    payload: str = ""
    shown_delivery: int = 0
    _log_hook: int = 0

    def _reload(self, repo: OrgRepository) -> None:
        self.may_view, self.may_manage = webhooks.may_view(self.role), webhooks.may_manage(self.role)
        self.hooks = [hook_row(view) for view in webhooks.list_endpoints(repo)] if self.may_view else []
        if self.log_open and self._log_hook:
            self._reload_log(repo)
        self.loaded = True

    def _reload_log(self, repo: OrgRepository) -> None:
        self.deliveries = [delivery_row(v) for v in webhooks.list_deliveries(repo, self._log_hook)]
        if self.shown_delivery:
            self._show(webhooks.delivery_detail(repo, self._log_hook, self.shown_delivery))

    def _show(self, detail: webhooks.DeliveryDetail) -> None:
        self.shown_delivery = detail.delivery.id
        self.attempts = [attempt_row(a) for a in detail.attempts]
        self.payload = json.dumps(detail.payload, indent=2, ensure_ascii=False)

    def _attempt(self, action: Callable[[OrgRepository], object], success: str = ""):
        error = self._act_then_reload(action, self._reload)
        if error is not None:
            return rx.toast.error(error.message)
        return rx.toast.success(success) if success else None

    @rx.event
    def load(self):
        if redirect := self._guard():
            return redirect
        self.secret = self.secret_label = ""
        self.log_open, self._log_hook, self.shown_delivery = False, 0, 0
        return self._attempt(lambda repo: None)

    # ------------------------------------------------------------ create, and the secret shown once

    @rx.event
    def set_create_open(self, open_: bool):
        self.create_open = open_
        self._clear_error()

    @rx.event
    def create(self, form: dict):
        self._clear_error()
        url, description, ip = str(form.get("url", "")), str(form.get("description", "")), self._client_ip()
        try:
            with self._signed_in_repo() as repo:
                new = webhooks.create_endpoint(repo, url=url, events=events_of(form), description=description,
                                               test_events=form.get("test_events") not in (None, "", False, "off"),
                                               ip=ip)
        except DomainError as exc:
            self._show_error(exc, ("url", "events", "description"))
            return None
        self.create_open = False
        self.secret, self.secret_label = new.secret, new.endpoint.url
        return self._attempt(lambda repo: None, "Endpoint added.")

    @rx.event
    def close_secret(self, open_: bool = False):
        if not open_:
            self.secret = self.secret_label = ""

    # ------------------------------------------------------------ enable, delete, roll, test

    @rx.event
    def set_enabled(self, hook_id: int, enabled: bool):
        ip = self._client_ip()
        return self._attempt(lambda repo: webhooks.update_endpoint(repo, hook_id, enabled=enabled, ip=ip),
                             "Endpoint enabled." if enabled else "Endpoint disabled: nothing is sent to it.")

    @rx.event
    def ask_delete(self, hook_id: int, url: str):
        self._ask("delete", hook_id, "Delete this endpoint?",
                  f"{url} gets no more events, and its delivery log is deleted. This cannot be undone.")

    @rx.event
    def ask_roll(self, hook_id: int, url: str):
        self._ask("roll", hook_id, "Roll the signing secret?",
                  f"{url} gets a new secret, used from the next delivery on; the old one stops at once, so update "
                  "your receiver right after.")

    @rx.event
    def confirm(self):
        self.confirm_open = False
        hook_id, ip = self._confirm_id, self._client_ip()
        if self._confirm_action == "delete":
            if self._log_hook == hook_id:
                self.log_open, self._log_hook = False, 0
            return self._attempt(lambda repo: webhooks.delete_endpoint(repo, hook_id, ip=ip), "Endpoint deleted.")
        rolled: list[webhooks.NewSecret] = []
        toast = self._attempt(lambda repo: rolled.append(webhooks.roll_secret(repo, hook_id, ip=ip)))
        if not rolled:
            return toast
        self.secret, self.secret_label = rolled[0].secret, rolled[0].endpoint.url
        return rx.toast.success("Secret rolled: deliveries are signed with the new one from now on.")

    @rx.event
    def send_test(self, hook_id: int):
        ip, sent = self._client_ip(), []
        toast = self._attempt(lambda repo: sent.append(webhooks.send_test_event(repo, hook_id, ip=ip)))
        return outcome_toast(sent[0], "Test event") if sent else toast

    # ------------------------------------------------------------ the delivery log

    @rx.event
    def open_log(self, hook_id: int, url: str):
        self._log_hook, self.log_url, self.log_open, self.shown_delivery = hook_id, url, True, 0
        self.attempts, self.payload = [], ""
        return self._attempt(lambda repo: None)

    @rx.event
    def set_log_open(self, open_: bool):
        self.log_open = open_
        if not open_:
            self._log_hook, self.shown_delivery = 0, 0

    @rx.event
    def show_delivery(self, delivery_id: int):
        self.shown_delivery = delivery_id
        return self._attempt(lambda repo: None)

    @rx.event
    def replay(self, delivery_id: int):
        hook_id, ip, done = self._log_hook, self._client_ip(), []
        self.shown_delivery = delivery_id
        toast = self._attempt(lambda repo: done.append(webhooks.replay(repo, hook_id, delivery_id, ip=ip)))
        return outcome_toast(done[0], "Replay") if done else toast
