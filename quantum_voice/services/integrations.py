"""An organisation's connections to Slack, Asana, Resend, and who receives lead emails.

Non-secret options live in ``IntegrationSetting.config``; tokens and API keys are encrypted
(core/secretbox.py) into ``secret_ciphertext`` and never leave this module again except to the adapter that
sends with them: views show only whether a secret is set and its last 4 characters. Owners and admins connect and
disconnect (audited); everyone in the organisation can see what is connected.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from quantum_voice.core.clock import utcnow
from quantum_voice.core.errors import DomainError, NotFound, ValidationFailed
from quantum_voice.core.secretbox import SecretUnreadable, decrypt_secrets, encrypt_secrets
from quantum_voice.models.accounts import Membership, Role, User
from quantum_voice.models.integrations import IntegrationSetting
from quantum_voice.services import audit
from quantum_voice.services.accounts import normalise_email
from quantum_voice.services.permissions import Permission
from quantum_voice.services.tenancy import OrgRepository

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProviderSpec:
    key: str
    label: str
    config_fields: tuple[str, ...]
    secret_fields: tuple[str, ...]


PROVIDERS: dict[str, ProviderSpec] = {
    "slack": ProviderSpec("slack", "Slack", ("channel",), ("bot_token",)),
    "asana": ProviderSpec("asana", "Asana", ("project_gid",), ("access_token",)),
    "email": ProviderSpec("email", "Email recipients", ("recipients",), ()),
    "resend": ProviderSpec("resend", "Resend", ("from_address",), ("api_key",)),
}


class IntegrationTestFailed(DomainError):
    """The test message did not arrive; the message says why (from the receiving service)."""

    status = 502
    code = "integration_test_failed"


@dataclass
class SecretView:
    set: bool
    last4: str = ""


@dataclass
class IntegrationView:
    provider: str
    label: str
    connected: bool
    enabled: bool
    config: dict[str, Any] = field(default_factory=dict)
    secrets: dict[str, SecretView] = field(default_factory=dict)
    updated_at: datetime | None = None


@dataclass(frozen=True)
class Connection:
    """A connected provider with its secrets decrypted: for the adapters that send, never for display."""

    provider: str
    config: dict[str, Any]
    secrets: dict[str, str]

    def __repr__(self) -> str:  # a Connection in a log or traceback shows no secret
        return f"Connection(provider={self.provider!r}, config={self.config!r}, secrets=[hidden])"


def spec_of(provider: str) -> ProviderSpec:
    spec = PROVIDERS.get(provider)
    if spec is None:
        raise NotFound(f"No integration called {provider!r}: use one of {', '.join(PROVIDERS)}.")
    return spec


def _row(session: Session, organization_id: int, provider: str) -> IntegrationSetting | None:
    return session.exec(select(IntegrationSetting).where(IntegrationSetting.organization_id == organization_id,
                                                         IntegrationSetting.provider == provider)).first()


def _hint(value: str) -> SecretView:
    # The last 4 characters only of a long secret; a short one shows nothing of itself.
    return SecretView(set=True, last4=value[-4:] if len(value) >= 12 else "")


def _view(spec: ProviderSpec, row: IntegrationSetting | None) -> IntegrationView:
    if row is None:
        return IntegrationView(spec.key, spec.label, connected=False, enabled=False,
                               secrets={name: SecretView(set=False) for name in spec.secret_fields})
    try:
        secrets = decrypt_secrets(row.secret_ciphertext)
    except SecretUnreadable:
        secrets = {}
    return IntegrationView(spec.key, spec.label, connected=True, enabled=row.enabled, config=dict(row.config),
                           secrets={name: _hint(secrets[name]) if secrets.get(name) else SecretView(set=False)
                                    for name in spec.secret_fields},
                           updated_at=row.updated_at)


def list_integrations(repo: OrgRepository) -> list[IntegrationView]:
    repo.scope.require(Permission.VIEW)
    rows = {r.provider: r for r in repo.list(IntegrationSetting, IntegrationSetting.provider.in_(list(PROVIDERS)))}
    return [_view(spec, rows.get(key)) for key, spec in PROVIDERS.items()]


def get_integration(repo: OrgRepository, provider: str) -> IntegrationView:
    repo.scope.require(Permission.VIEW)
    spec = spec_of(provider)
    return _view(spec, _row(repo.session, repo.scope.organization_id, provider))


# ---------------------------------------------------------------- validation

_GID = re.compile(r"^\d{1,30}$")
_CHANNEL = re.compile(r"^(#[\w.\-]{1,80}|[CGD][A-Z0-9]{6,20})$")
_FROM = re.compile(r"^\s*(?:(?P<name>[^<>]{1,100}?)\s*<(?P<angle>[^<>\s]+)>|(?P<bare>[^<>\s]+))\s*$")


def _text(value: Any, name: str, limit: int = 500) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationFailed(f"{name} must be text.", field=name)
    value = value.strip()
    if len(value) > limit:
        raise ValidationFailed(f"{name} is too long (at most {limit} characters).", field=name)
    return value


def _recipients(value: Any) -> list[str]:
    if isinstance(value, str):
        value = [part for part in re.split(r"[,;\s]+", value) if part]
    if value is None:
        value = []
    if not isinstance(value, list) or len(value) > 50:
        raise ValidationFailed("Recipients: up to 50 email addresses.", field="recipients")
    return list(dict.fromkeys(normalise_email(str(v), field="recipients") for v in value))


def _from_address(value: str) -> str:
    match = _FROM.match(value)
    if not match:
        raise ValidationFailed("From address: an address like leads@yourdomain.com or "
                               "'Leads <leads@yourdomain.com>' (a domain verified in Resend).", field="from_address")
    address = match.group("angle") or match.group("bare")
    normalise_email(address, field="from_address")
    return value.strip()


def _clean_config(spec: ProviderSpec, config: dict[str, Any]) -> dict[str, Any]:
    unknown = set(config) - set(spec.config_fields)
    if unknown:
        raise ValidationFailed(f"{spec.label} has no setting {sorted(unknown)[0]!r}.", field=sorted(unknown)[0])
    if spec.key == "slack":
        channel = _text(config.get("channel"), "channel", 90)
        if not _CHANNEL.match(channel):
            raise ValidationFailed("Channel: a channel ID like C0123ABCD (Slack: channel details → bottom) "
                                   "or a name like #leads.", field="channel")
        return {"channel": channel}
    if spec.key == "asana":
        gid = _text(config.get("project_gid"), "project_gid", 30)
        if not _GID.match(gid):
            raise ValidationFailed("Project: the project's number, from its address "
                                   "(app.asana.com/0/<this number>/…).", field="project_gid")
        return {"project_gid": gid}
    if spec.key == "email":
        return {"recipients": _recipients(config.get("recipients"))}
    return {"from_address": _from_address(_text(config.get("from_address"), "from_address", 200))}


def _clean_secrets(spec: ProviderSpec, given: dict[str, Any], stored: dict[str, str]) -> dict[str, str]:
    """Stored secrets with the newly given ones on top; a blank one keeps what is stored ("set")."""
    unknown = set(given) - set(spec.secret_fields)
    if unknown:
        raise ValidationFailed(f"{spec.label} has no secret {sorted(unknown)[0]!r}.", field=sorted(unknown)[0])
    merged = dict(stored)
    for name in spec.secret_fields:
        value = _text(given.get(name), name, 500)
        if value:
            if any(ch.isspace() for ch in value):
                raise ValidationFailed(f"{name} cannot contain spaces.", field=name)
            merged[name] = value
        if not merged.get(name):
            raise ValidationFailed(f"{spec.label} needs its {name.replace('_', ' ')}.", field=name)
    if spec.key == "slack" and not merged["bot_token"].startswith("xoxb-"):
        raise ValidationFailed("Bot token: the Bot User OAuth Token, starting with xoxb- (Slack app → OAuth & "
                               "Permissions).", field="bot_token")
    return merged


# ---------------------------------------------------------------- connect, disconnect

def save_integration(repo: OrgRepository, provider: str, *, config: dict[str, Any] | None = None,
                     secrets: dict[str, Any] | None = None, enabled: bool = True,
                     ip: str | None = None) -> IntegrationView:
    """Connect ``provider`` or change its settings (owners and admins). Secrets left blank keep their stored value."""
    repo.scope.require(Permission.MANAGE_ORGANIZATION)
    spec = spec_of(provider)
    clean = _clean_config(spec, config or {})
    row = _row(repo.session, repo.scope.organization_id, provider)
    try:
        stored = decrypt_secrets(row.secret_ciphertext) if row is not None else {}
    except SecretUnreadable:
        stored = {}  # made under another SECRET_KEY: the secrets must be given again
    merged = _clean_secrets(spec, secrets or {}, stored)
    first = row is None
    if row is None:
        row = repo.add(IntegrationSetting(organization_id=repo.scope.organization_id, provider=provider))
    changed = sorted(k for k in clean if row.config.get(k) != clean[k])
    changed += sorted(k for k in merged if stored.get(k) != merged[k])  # names only, never values
    row.config, row.enabled, row.updated_at = clean, enabled, utcnow()
    row.secret_ciphertext = encrypt_secrets(merged) if merged else None
    repo.session.add(row)
    repo.session.flush()
    audit.record(repo.session, "integration.connect" if first else "integration.update",
                 organization_id=repo.scope.organization_id, actor_user_id=repo.scope.user_id,
                 target_type="integration", target_id=provider, ip=ip, provider=provider, changed=changed,
                 enabled=enabled)
    log.info("integration %s %s for organisation %s", provider, "connected" if first else "updated",
             repo.scope.organization_id)
    return _view(spec, row)


def disconnect_integration(repo: OrgRepository, provider: str, *, ip: str | None = None) -> None:
    repo.scope.require(Permission.MANAGE_ORGANIZATION)
    spec = spec_of(provider)
    row = _row(repo.session, repo.scope.organization_id, provider)
    if row is None:
        raise NotFound(f"{spec.label} is not connected.")
    repo.delete(row)
    audit.record(repo.session, "integration.disconnect", organization_id=repo.scope.organization_id,
                 actor_user_id=repo.scope.user_id, target_type="integration", target_id=provider, ip=ip,
                 provider=provider)


# ---------------------------------------------------------------- for the senders

def connection(session: Session, organization_id: int, provider: str) -> Connection | None:
    """``provider``'s settings and decrypted secrets when it is connected and enabled; None otherwise."""
    row = _row(session, organization_id, provider)
    if row is None or not row.enabled:
        return None
    try:
        secrets = decrypt_secrets(row.secret_ciphertext)
    except SecretUnreadable:
        log.warning("integration %s of organisation %s: its secrets were stored under another SECRET_KEY; "
                    "connect it again", provider, organization_id)
        return None
    if any(not secrets.get(name) for name in PROVIDERS[provider].secret_fields):
        return None
    return Connection(provider, dict(row.config), secrets)


def email_enabled(session: Session, organization_id: int) -> bool:
    """Lead emails go out unless the organisation switched them off (an "email" row with enabled=false)."""
    row = _row(session, organization_id, "email")
    return row is None or row.enabled


def email_recipients(session: Session, organization_id: int) -> list[str]:
    """The configured recipients, or else the organisation's owners."""
    row = _row(session, organization_id, "email")
    configured = list((row.config or {}).get("recipients") or []) if row is not None else []
    if configured:
        return configured
    owners = session.exec(select(User.email).join(Membership, Membership.user_id == User.id).where(
        Membership.organization_id == organization_id, Membership.role == Role.OWNER.value,
        User.is_active.is_(True)).order_by(User.id)).all()  # type: ignore[attr-defined]
    return list(owners)
