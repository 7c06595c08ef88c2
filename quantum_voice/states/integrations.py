"""The Integrations page: one card per provider (Slack, Asana, email recipients, Resend), its fields, Save, Send
test and Disconnect. Secrets come back from the service as "set" and at most their last 4 characters; the page
never holds a stored secret, only what the person types before saving."""

from __future__ import annotations

from dataclasses import dataclass, field

import reflex as rx

from quantum_voice.core.errors import DomainError
from quantum_voice.services import integrations
from quantum_voice.services.notifications import dispatch
from quantum_voice.services.tenancy import OrgRepository
from quantum_voice.states.forms import ConfirmStep
from quantum_voice.states.session import SessionState


@dataclass
class FieldRow:
    name: str = ""
    label: str = ""
    value: str = ""  # a setting's stored value; always "" for a secret
    secret: bool = False
    placeholder: str = ""
    hint: str = ""


@dataclass
class ProviderCard:
    provider: str = ""
    label: str = ""
    description: str = ""
    connected: bool = False
    status: str = ""  # "Connected", "Not connected", "On (the owners)"
    fields: list[FieldRow] = field(default_factory=list)
    result: str = ""  # what Send test or Save last said
    result_ok: bool = True
    can_disconnect: bool = False


DESCRIPTIONS = {
    "slack": "Hot leads are posted to a Slack channel by your Slack app's bot.",
    "asana": "Hot and warm leads become tasks in an Asana project, due today (hot) or in two days (warm).",
    "email": "Who gets lead emails and the daily digest of cold leads. Empty: the organisation's owners.",
    "resend": "Send lead emails through Resend instead of the server's SMTP.",
}
LABELS = {"channel": ("Channel", "C0123ABCD or #leads", "Invite the bot to the channel first."),
          "bot_token": ("Bot token", "xoxb-…", "Slack app → OAuth & Permissions → Bot User OAuth Token "
                                               "(scope chat:write)."),
          "project_gid": ("Project ID", "1207000000000001", "The number in the project's address."),
          "access_token": ("Personal access token", "2/…", "Asana → My settings → Apps → Developer apps."),
          "recipients": ("Recipients", "sales@yourcompany.com, boss@yourcompany.com", "Comma-separated."),
          "from_address": ("From address", "Leads <leads@yourdomain.com>", "On a domain verified in Resend."),
          "api_key": ("API key", "re_…", "Resend → API Keys (sending access is enough).")}


def card_of(view: integrations.IntegrationView) -> ProviderCard:
    spec = integrations.PROVIDERS[view.provider]
    rows = []
    for name in spec.config_fields:
        label, placeholder, hint = LABELS[name]
        value = view.config.get(name, "")
        rows.append(FieldRow(name, label, ", ".join(value) if isinstance(value, list) else str(value or ""),
                             False, placeholder, hint))
    for name in spec.secret_fields:
        label, placeholder, hint = LABELS[name]
        secret = view.secrets.get(name)
        if secret is not None and secret.set:
            placeholder = f"set (…{secret.last4}), leave blank to keep" if secret.last4 else "set, leave blank to keep"
        rows.append(FieldRow(name, label, "", True, placeholder, hint))
    if view.provider == "email":
        status = "Custom recipients" if view.config.get("recipients") else "The owners"
    else:
        status = "Connected" if view.connected else "Not connected"
    return ProviderCard(view.provider, view.label, DESCRIPTIONS[view.provider], view.connected, status, rows,
                        can_disconnect=view.connected)


def form_to_settings(provider: str, form: dict) -> tuple[dict, dict]:
    """The card's form as (config, secrets) for the service; blank secrets keep the stored ones."""
    spec = integrations.PROVIDERS[provider]
    config = {name: str(form.get(name, "")) for name in spec.config_fields}
    secrets = {name: str(form.get(name, "")).strip() for name in spec.secret_fields}
    return config, {k: v for k, v in secrets.items() if v}


class IntegrationsState(ConfirmStep, SessionState):
    loaded: bool = False
    cards: list[ProviderCard] = []
    form_key: int = 0  # bumped after a save, so the inputs re-render empty (a typed secret is not kept)
    testing: str = ""  # the provider whose test is running
    _results: dict[str, tuple[str, bool]] = {}

    def _reload(self, repo: OrgRepository) -> None:
        cards = [card_of(view) for view in integrations.list_integrations(repo)]
        for card in cards:
            card.result, card.result_ok = self._results.get(card.provider, ("", True))
        self.cards, self.loaded = cards, True

    def _run(self, provider: str, action, success: str = ""):
        error = self._act_then_reload(action, lambda repo: None)
        self._results[provider] = (error.message, False) if error else (success, True)
        with self._signed_in_repo() as repo:
            self._reload(repo)
        if error is not None:
            return rx.toast.error(error.message)
        return rx.toast.success(success) if success else None

    @rx.event
    def load(self):
        if redirect := self._guard():
            return redirect
        self._results = {}
        with self._signed_in_repo() as repo:
            self._reload(repo)
        return None

    @rx.event
    def save(self, form: dict):
        provider = str(form.get("provider", ""))
        if provider not in integrations.PROVIDERS:
            return rx.toast.error("Unknown integration.")
        config, secrets = form_to_settings(provider, form)
        ip, label = self._client_ip(), integrations.PROVIDERS[provider].label
        self.form_key += 1
        return self._run(provider, lambda repo: integrations.save_integration(repo, provider, config=config,
                                                                                secrets=secrets, ip=ip),
                         f"{label} saved.")

    @rx.event
    def send_test(self, provider: str):
        self.testing = provider
        yield
        result: tuple[str, bool]
        try:
            with self._signed_in_repo() as repo:
                result = (dispatch.send_test_message(repo, provider), True)
        except DomainError as exc:
            result = (exc.message, False)
        self._results[provider] = result
        self.testing = ""
        with self._signed_in_repo() as repo:
            self._reload(repo)
        yield rx.toast.success(result[0]) if result[1] else rx.toast.error(result[0])

    @rx.event
    def ask_disconnect(self, provider: str):
        self._confirm_provider = provider
        label = integrations.PROVIDERS.get(provider, integrations.PROVIDERS["slack"]).label
        self._ask("disconnect", 0, f"Disconnect {label}?",
                  f"Its stored settings and secrets are deleted; lead notifications to {label} stop.")

    _confirm_provider: str = ""

    @rx.event
    def confirm(self):
        self.confirm_open = False
        provider, ip = self._confirm_provider, self._client_ip()
        label = integrations.PROVIDERS[provider].label
        return self._run(provider, lambda repo: integrations.disconnect_integration(repo, provider, ip=ip),
                         f"{label} disconnected.")
