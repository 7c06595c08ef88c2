"""The Developers page: the organisation's API keys, the form that creates one, the secret shown once, revoke and
rotate. What a key may do and every rule about it live in services/developer/; this state only shows them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import reflex as rx

from quantum_voice.core.clock import utcnow
from quantum_voice.core.errors import DomainError
from quantum_voice.services.developer import api_keys
from quantum_voice.services.tenancy import OrgRepository
from quantum_voice.states.format import moment
from quantum_voice.states.forms import ConfirmStep, FormErrors
from quantum_voice.states.session import SessionState

MODE_CHOICES = [("live", "Live: real calls and leads"), ("test", "Test: test calls and leads only")]
EXPIRY_CHOICES = [("", "Never"), ("30", "In 30 days"), ("90", "In 90 days"), ("365", "In a year")]
OVERLAP_CHOICES = [("0", "Stop it now"), ("1", "1 hour"), ("24", "24 hours"), ("72", "3 days"), ("168", "7 days")]
STATUS_COLOURS = {"active": "green", "expired": "amber", "revoked": "red"}


@dataclass
class KeyRow:
    id: int = 0
    name: str = ""
    prefix: str = ""
    scopes: str = ""
    role: str = ""
    mode: str = ""  # live | test
    created: str = ""
    created_by: str = ""
    last_used: str = ""
    expires: str = ""
    status: str = ""
    status_colour: str = "gray"
    active: bool = False


def key_row(view: api_keys.KeyView) -> KeyRow:
    used = "Never"
    if view.last_used_at is not None:
        used = moment(view.last_used_at) + (f" from {view.last_used_ip}" if view.last_used_ip else "")
    return KeyRow(view.id, view.name, api_keys.label_of(view.prefix), ", ".join(view.scopes), view.role,
                  view.mode, moment(view.created_at), view.created_by or "", used,
                  moment(view.expires_at) if view.expires_at else "Never", view.status,
                  STATUS_COLOURS.get(view.status, "gray"), view.status == "active")


def scopes_of(form: dict) -> list[str]:
    """The ticked scope boxes (named ``scope:<resource>:<access>``) of the create form."""
    return [name.removeprefix("scope:") for name, value in form.items()
            if name.startswith("scope:") and value not in ("", None, False, "off")]


class DevelopersState(ConfirmStep, FormErrors, SessionState):
    loaded: bool = False
    may_view: bool = False
    may_manage: bool = False
    keys: list[KeyRow] = []
    create_open: bool = False
    secret: str = ""  # a new key's secret, on screen until its dialog is closed; never stored
    secret_label: str = ""
    rotate_open: bool = False
    rotate_label: str = ""
    _rotate_id: int = 0

    def _reload(self, repo: OrgRepository) -> None:
        self.may_view, self.may_manage = api_keys.may_view(self.role), api_keys.may_manage(self.role)
        self.keys = [key_row(view) for view in api_keys.list_keys(repo)] if self.may_view else []
        self.loaded = True

    def _attempt(self, action: Callable[[OrgRepository], object], success: str = ""):
        error = self._act_then_reload(action, self._reload)
        if error is not None:
            return rx.toast.error(error.message)
        return rx.toast.success(success) if success else None

    def _show_secret(self, new: api_keys.NewKey) -> None:
        self.secret, self.secret_label = new.secret, api_keys.label_of(new.key.prefix)

    @rx.event
    def load(self):
        if redirect := self._guard():
            return redirect
        self.secret = self.secret_label = ""
        return self._attempt(lambda repo: None)

    # ------------------------------------------------------------ create

    @rx.event
    def set_create_open(self, open_: bool):
        self.create_open = open_
        self._clear_error()

    @rx.event
    def create(self, form: dict):
        self._clear_error()
        days = str(form.get("expires_in_days") or "")
        expires_at = utcnow() + timedelta(days=int(days)) if days.isdigit() else None
        name, role, ip = str(form.get("name", "")), str(form.get("role") or "manager"), self._client_ip()
        mode = str(form.get("mode") or "live")
        try:
            with self._signed_in_repo() as repo:
                new = api_keys.create_key(repo, name=name, scopes=scopes_of(form), role=role, mode=mode,
                                          expires_at=expires_at, ip=ip)
        except DomainError as exc:
            self._show_error(exc, ("name", "scopes", "role", "mode", "expires_at"))
            return None
        self.create_open = False
        self._show_secret(new)
        return self._attempt(lambda repo: None, f"Key {self.secret_label} created.")

    @rx.event
    def close_secret(self, open_: bool = False):
        if not open_:
            self.secret = self.secret_label = ""

    # ------------------------------------------------------------ revoke and rotate

    @rx.event
    def ask_revoke(self, key_id: int, label: str):
        self._ask("revoke", key_id, f"Revoke {label}?",
                  "Requests with this key are refused from the very next one. This cannot be undone.")

    @rx.event
    def confirm(self):
        self.confirm_open = False
        key_id, ip = self._confirm_id, self._client_ip()
        return self._attempt(lambda repo: api_keys.revoke_key(repo, key_id, ip=ip), "Key revoked.")

    @rx.event
    def ask_rotate(self, key_id: int, label: str):
        self._rotate_id, self.rotate_label, self.rotate_open = key_id, label, True

    @rx.event
    def set_rotate_open(self, open_: bool):
        self.rotate_open = open_

    @rx.event
    def rotate(self, form: dict):
        self.rotate_open = False
        overlap = str(form.get("overlap_hours") or api_keys.DEFAULT_OVERLAP_HOURS)
        key_id, ip = self._rotate_id, self._client_ip()
        made: list[api_keys.NewKey] = []
        toast = self._attempt(lambda repo: made.append(api_keys.rotate_key(
            repo, key_id, overlap_hours=float(overlap) if overlap.isdigit() else -1, ip=ip)))
        if not made:
            return toast
        self._show_secret(made[0])
        return rx.toast.success(f"Key rotated: {self.secret_label} replaces {self.rotate_label}.")

