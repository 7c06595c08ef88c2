"""/campaigns/[campaign_id]: one campaign's settings, going live or pausing, its call link and QR codes, the website
widget with a live preview, the test call and deleting it. Thin: campaigns, deployment and public_calls do the work."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import reflex as rx
from reflex_components_sonner.toast import ToastAction

from quantum_voice.core.errors import DomainError
from quantum_voice.services import campaigns, deployment
from quantum_voice.services.flows.templates import TEMPLATES
from quantum_voice.services.handoffs.expiry import wait_seconds
from quantum_voice.services.permissions import Permission, has_permission
from quantum_voice.services.public_calls.call_page import test_call_link
from quantum_voice.services.tenancy import OrgRepository
from quantum_voice.states.format import day, moment
from quantum_voice.states.forms import ConfirmStep, FormErrors
from quantum_voice.states.session import SessionState

SETTINGS_FIELDS = ("name", "description", "target_audience", "greeting", "brand_color", "logo_url",
                   "privacy_wording", "privacy_policy_version", "max_call_seconds", "handoff_wait_seconds")
TEXT_FIELDS = ("name", "description", "target_audience", "greeting", "brand_color", "logo_url", "privacy_wording",
               "privacy_policy_version")


@dataclass
class QRRow:
    id: int = 0
    label: str = ""
    scans: int = 0
    created: str = ""
    last_scanned: str = ""
    scan_url: str = ""
    png_url: str = ""
    svg_url: str = ""


def settings_changes(form: dict) -> dict:
    """The settings form → the fields update_campaign takes. The call length goes as a number when it is one, else
    as typed, so the service's own message explains what it needs."""
    changes = {name: str(form.get(name) or "") for name in TEXT_FIELDS if name in form}
    for name in ("max_call_seconds", "handoff_wait_seconds"):
        if name in form:
            raw = str(form.get(name) or "").strip()
            changes[name] = int(raw) if raw.isdigit() else raw
    return changes


def qr_row(view: deployment.QRCodeView) -> QRRow:
    qr = view.qr
    image = f"/api/campaigns/{qr.campaign_id}/qr/{qr.id}"  # the API's routes; the session cookie signs them in
    return QRRow(id=qr.id, label=qr.label, scans=qr.scan_count, created=day(qr.created_at),
                 last_scanned=moment(view.last_scanned_at), scan_url=view.scan_url, png_url=f"{image}.png",
                 svg_url=f"{image}.svg")


class CampaignDetailState(ConfirmStep, FormErrors, SessionState):
    loaded: bool = False
    missing: str = ""  # why the campaign cannot be shown (deleted, another organisation's)
    can_edit: bool = False
    campaign_id: int = 0
    name: str = ""
    description: str = ""
    target_audience: str = ""
    status: str = ""
    slug: str = ""
    template: str = ""
    published_version: int = 0
    greeting: str = ""
    brand_color: str = "#6E56CF"  # the settings form's colour, kept here so the picker and the hex text agree
    logo_url: str = ""
    privacy_wording: str = ""
    privacy_policy_version: str = ""
    max_call_seconds: int = 0
    handoff_wait_seconds: int = 45
    created: str = ""
    call_url: str = ""
    test_call_url: str = ""
    status_problem: str = ""  # why it could not go live, shown beside the header until it does
    # QR codes
    qr_codes: list[QRRow] = []
    qr_error: str = ""
    # the website widget
    widget_color: str = "#6E56CF"
    widget_color_input: str = "#6E56CF"
    widget_label: str = deployment.WIDGET_LABEL_DEFAULT
    widget_label_input: str = deployment.WIDGET_LABEL_DEFAULT
    widget_greeting: str = ""
    widget_snippet: str = ""
    widget_error: str = ""
    _widget_custom: bool = False  # the colour was changed here: keep it when the page refreshes
    settings_version: int = 0  # bumped after a save, so the form shows what was stored (trimmed, upper-cased)

    @rx.var
    def is_live(self) -> bool:
        return self.status == "live"

    @rx.var
    def designer_url(self) -> str:
        return f"/flows/designer/{self.campaign_id}"

    # ------------------------------------------------------------ loading

    @rx.event
    def load(self):
        if redirect := self._guard():
            return redirect
        self.loaded, self.missing, self.status_problem = False, "", ""
        self.qr_error = self.widget_error = ""
        self._clear_error()
        self.campaign_id = self._id_from_url()
        self.can_edit = has_permission(self.role, Permission.MANAGE_CAMPAIGNS)
        self.widget_label = self.widget_label_input = deployment.WIDGET_LABEL_DEFAULT
        self._widget_custom = False
        try:
            with self._signed_in_repo() as repo:
                self._reload(repo)
                self.test_call_url = test_call_link(repo, self.campaign_id) if self.can_edit else ""
        except DomainError as exc:
            self.missing = exc.message
            return None
        self.loaded = True
        return None

    def _reload(self, repo: OrgRepository) -> None:
        view = campaigns.get_campaign(repo, self.campaign_id)
        c = view.campaign
        template = TEMPLATES.get(view.template_key or "")
        self.name, self.description, self.target_audience = c.name, c.description or "", c.target_audience or ""
        self.status, self.slug, self.template = c.status, c.slug, template.name if template else ""
        self.published_version = view.published_version or 0
        self.greeting, self.brand_color, self.logo_url = c.greeting or "", c.brand_color, c.logo_url or ""
        self.privacy_wording, self.privacy_policy_version = c.privacy_wording or "", c.privacy_policy_version
        self.max_call_seconds, self.created = c.max_call_seconds, day(c.created_at)
        self.handoff_wait_seconds = wait_seconds(c)
        self.call_url = campaigns.call_url(c)
        self.qr_codes = [qr_row(v) for v in deployment.list_qr_codes(repo, self.campaign_id)]
        self._refresh_widget(repo, self.widget_color if self._widget_custom else None)

    def _refresh_widget(self, repo: OrgRepository, color: str | None = None, label: str | None = None) -> None:
        """The snippet and preview; ``color`` / ``label`` override the campaign's colour and the default label."""
        view = deployment.widget(repo, self.campaign_id, color=color,
                                 label=label if label is not None else self.widget_label)
        self.widget_snippet, self.widget_color, self.widget_label = view.snippet, view.color, view.label
        self.widget_greeting = view.greeting
        if color is None:
            self.widget_color_input = view.color
        self.widget_error = ""

    def _attempt(self, action: Callable[[OrgRepository], object], success: str = ""):
        """Run one service call, refresh the page, and say how it went."""
        error = self._act_then_reload(action, self._reload)
        if error is not None:
            return rx.toast.error(error.message)
        return rx.toast.success(success) if success else None

    # ------------------------------------------------------------ status

    @rx.event
    def toggle_status(self):
        target, ip, campaign_id = ("paused" if self.status == "live" else "live"), self._client_ip(), self.campaign_id
        error = self._act_then_reload(
            lambda repo: campaigns.update_campaign(repo, campaign_id, {"status": target}, ip=ip), self._reload)
        if error is None:
            self.status_problem = ""
            return rx.toast.success("The campaign is live: its call link, QR codes and widget take calls."
                                    if target == "live" else "Paused: callers are told the line isn't taking calls.")
        if error.code == "flow_not_published":
            self.status_problem = error.message
            return rx.toast.error(error.message, action=ToastAction(
                label="Open flow designer", on_click=rx.redirect(f"/flows/designer/{campaign_id}")))
        return rx.toast.error(error.message)

    # ------------------------------------------------------------ settings

    @rx.event
    def set_brand_color(self, value: str):
        self.brand_color = value

    @rx.event
    def save_settings(self, form: dict):
        self._clear_error()
        changes, ip = settings_changes(form), self._client_ip()
        try:
            with self._signed_in_repo() as repo:
                campaigns.update_campaign(repo, self.campaign_id, changes, ip=ip)
                self._reload(repo)
        except DomainError as exc:
            self._show_error(exc, SETTINGS_FIELDS)
            return None
        self.settings_version += 1
        return rx.toast.success("Saved")

    # ------------------------------------------------------------ QR codes

    @rx.event
    def add_qr_code(self, form: dict):
        self.qr_error = ""
        label, ip, campaign_id = form.get("label", ""), self._client_ip(), self.campaign_id
        try:
            with self._signed_in_repo() as repo:
                added = deployment.create_qr_code(repo, campaign_id, label=label, ip=ip).qr.label
                self._reload(repo)
        except DomainError as exc:
            self.qr_error = exc.message
            return None
        return [rx.set_value("qr-label", ""), rx.toast.success(f"QR code “{added}” added. Download it and print it.")]

    @rx.event
    def ask_delete_qr(self, qr_id: int, label: str):
        self._ask("delete_qr", qr_id, "Delete QR code?",
                  f"“{label}” stops working at once: anyone scanning a printed copy sees “not found”. Its scan "
                  "history is deleted; calls it brought in keep their record.")

    # ------------------------------------------------------------ deleting the campaign

    @rx.event
    def ask_delete_campaign(self):
        self._ask("delete_campaign", self.campaign_id, "Delete campaign?",
                  f"“{self.name}” will stop taking calls: its call link, QR codes and website button stop working. "
                  "Its calls and leads stay.")

    @rx.event
    def confirm(self):
        self.confirm_open = False
        target, ip, campaign_id = self._confirm_id, self._client_ip(), self.campaign_id
        if self._confirm_action == "delete_qr":
            return self._attempt(lambda repo: deployment.delete_qr_code(repo, campaign_id, target, ip=ip),
                                 "QR code deleted.")
        try:
            with self._signed_in_repo() as repo:
                campaigns.delete_campaign(repo, target, ip=ip)
        except DomainError as exc:
            return rx.toast.error(exc.message)
        return [rx.toast.success(f"Campaign “{self.name}” deleted."), rx.redirect("/campaigns")]

    # ------------------------------------------------------------ the website widget

    def _preview(self, color: str | None, label: str | None):
        try:
            with self._signed_in_repo() as repo:
                self._refresh_widget(repo, color, label)
        except DomainError as exc:
            self.widget_error = exc.message  # the preview keeps the last good colour and label

    @rx.event
    def set_widget_color(self, value: str):
        self.widget_color_input, self._widget_custom = value, True
        self._preview(value, self.widget_label_input)

    @rx.event
    def set_widget_label(self, value: str):
        self.widget_label_input = value
        self._preview(self.widget_color_input, value)
