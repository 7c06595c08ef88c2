"""The admin page: the organisation's audit log and email outbox."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import reflex as rx

from quantum_voice.core.errors import DomainError
from quantum_voice.services import admin
from quantum_voice.services.email import HIDDEN
from quantum_voice.states.format import moment
from quantum_voice.states.session import SessionState

LINK_PATTERN = re.compile(r"https?://\S+")


@dataclass
class AuditRow:
    when: str = ""
    action: str = ""
    actor: str = ""
    target: str = ""
    ip: str = ""
    details: str = ""


@dataclass
class EmailRow:
    recipient: str = ""
    subject: str = ""
    kind: str = ""
    status: str = ""
    created: str = ""
    body: str = ""
    links: list[str] = field(default_factory=list)  # links in the mail, pulled out to click (secret ones are hidden)


class AdminState(SessionState):
    loaded: bool = False
    audit: list[AuditRow] = []
    emails: list[EmailRow] = []

    @rx.event
    def load(self):
        if redirect := self._guard():
            return redirect
        if not self.can_view_admin:
            return rx.redirect("/dashboard")
        try:
            with self._signed_in_repo() as repo:
                self.audit = [audit_row(e) for e in admin.audit_log(repo)]
                self.emails = [email_row(m) for m in admin.outbox(repo)]
        except DomainError as exc:
            return rx.toast.error(exc.message)
        self.loaded = True
        return None


def audit_row(entry: admin.AuditEntry) -> AuditRow:
    actor = entry.actor or "—"
    target = f"{entry.target_type} #{entry.target_id}" if entry.target_type else ""
    details = ", ".join(f"{k}={v}" for k, v in (entry.details or {}).items())
    return AuditRow(moment(entry.created_at), entry.action, actor, target, entry.ip or "", details)


def email_row(message) -> EmailRow:
    return EmailRow(message.to_address, message.subject, message.kind, message.status, moment(message.created_at),
                    message.body_text, [link for link in LINK_PATTERN.findall(message.body_text) if HIDDEN not in link])
