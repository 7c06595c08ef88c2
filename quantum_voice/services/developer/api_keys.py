"""API keys of an organisation: create (the secret is returned once), list, revoke and rotate.

Only the SHA-256 hash of a key and its first characters (``qv_live_ab12``, to tell keys apart) are stored. A key
is live (``qv_live_…``) or test (``qv_test_…``): a test key sees and makes test data only (key_auth.py). Keys
belong to the organisation, not to the person who made them; owners and admins manage them, managers see them. A
key acts with a role no higher than its creator's, and only people signed in manage keys (a key cannot make keys).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import col, select

from quantum_voice.core.clock import utcnow
from quantum_voice.core.errors import Conflict, PermissionDenied, ValidationFailed
from quantum_voice.core.security import hash_token, new_token
from quantum_voice.models.accounts import Role, User
from quantum_voice.models.developer import ApiKey
from quantum_voice.services import audit
from quantum_voice.services.developer.scopes import parse_scopes
from quantum_voice.services.permissions import Permission, has_permission
from quantum_voice.services.tenancy import OrgRepository

LIVE_PREFIX = "qv_live_"
TEST_PREFIX = "qv_test_"
MODES = {"live": LIVE_PREFIX, "test": TEST_PREFIX}
PREFIX_LENGTH = 12  # "qv_live_" or "qv_test_" and 4 random characters
DEFAULT_OVERLAP_HOURS = 24
MAX_OVERLAP_HOURS = 7 * 24
MAX_LIFETIME_DAYS = 5 * 365
_RANK = {Role.VIEWER.value: 1, Role.AGENT.value: 2, Role.MANAGER.value: 3, Role.ADMIN.value: 4, Role.OWNER.value: 5}
KEY_ROLES = (Role.ADMIN.value, Role.MANAGER.value, Role.AGENT.value, Role.VIEWER.value)  # never owner
VIEW_PERMISSION = Permission.MANAGE_CAMPAIGNS  # managers and up see the keys (they build the integrations)
MANAGE_PERMISSION = Permission.MANAGE_DEVELOPER  # owners and admins create, revoke and rotate them


def may_view(role: str) -> bool:
    return has_permission(role, VIEW_PERMISSION)


def may_manage(role: str) -> bool:
    return has_permission(role, MANAGE_PERMISSION)


def label_of(prefix: str) -> str:
    """How a key is named wherever people read about it (audit log, errors): its prefix, never more."""
    return f"{prefix}…"


@dataclass(frozen=True)
class KeyView:
    id: int
    name: str
    prefix: str
    scopes: list[str]
    role: str
    mode: str  # live | test
    status: str  # active | expired | revoked
    created_at: datetime
    created_by: str | None  # the creator's email, while the account exists
    last_used_at: datetime | None
    last_used_ip: str | None
    expires_at: datetime | None
    revoked_at: datetime | None
    rotated_from_id: int | None


@dataclass(frozen=True)
class NewKey:
    key: KeyView
    secret: str  # shown once; not stored anywhere


def status_of(key: ApiKey, now: datetime | None = None) -> str:
    now = now or utcnow()
    if key.revoked_at is not None:
        return "revoked"
    if key.expires_at is not None and key.expires_at <= now:
        return "expired"
    return "active"


def _view(key: ApiKey, created_by: str | None, now: datetime) -> KeyView:
    assert key.id is not None
    return KeyView(key.id, key.name, key.prefix, list(key.scopes), key.role, key.mode, status_of(key, now),
                   key.created_at, created_by, key.last_used_at, key.last_used_ip, key.expires_at, key.revoked_at,
                   key.rotated_from_id)


def _require_manager(repo: OrgRepository) -> None:
    if repo.scope.via == "api_key" or repo.scope.user_id is None:
        raise PermissionDenied("API keys are managed by people signed in to the app; a key cannot manage keys.",
                               code="route_not_for_api_keys")
    repo.scope.require(MANAGE_PERMISSION)


def _check_role(repo: OrgRepository, role: str) -> str:
    if role not in KEY_ROLES:
        raise ValidationFailed(f"A key's role is one of {', '.join(KEY_ROLES)}.", field="role")
    if _RANK[role] > _RANK.get(repo.scope.role, 0):
        raise PermissionDenied(f"A key cannot have a higher role ({role}) than yours ({repo.scope.role}).",
                               field="role")
    return role


def _check_mode(mode: str) -> str:
    if mode not in MODES:
        raise ValidationFailed("A key's mode is live or test.", field="mode")
    return mode


def _check_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise ValidationFailed("Give the key a name, e.g. the system that will use it.", field="name")
    if len(name) > 200:
        raise ValidationFailed("A key's name is at most 200 characters.", field="name")
    return name


def _check_expiry(expires_at: datetime | None, now: datetime) -> datetime | None:
    if expires_at is None:
        return None
    if expires_at.tzinfo is None:
        raise ValidationFailed("Give the expiry with a time zone, e.g. 2027-01-31T00:00:00Z.", field="expires_at")
    if expires_at <= now:
        raise ValidationFailed("The expiry must be in the future.", field="expires_at")
    if expires_at > now + timedelta(days=MAX_LIFETIME_DAYS):
        raise ValidationFailed(f"A key lives at most {MAX_LIFETIME_DAYS // 365} years; leave the expiry empty for a "
                               "key that never expires.", field="expires_at")
    return expires_at


def _issue(repo: OrgRepository, *, name: str, scopes: list[str], role: str, mode: str, expires_at: datetime | None,
           rotated_from_id: int | None = None) -> tuple[ApiKey, str]:
    secret = MODES[mode] + new_token(32)
    key = repo.add(ApiKey(organization_id=repo.scope.organization_id, name=name, prefix=secret[:PREFIX_LENGTH],
                          key_hash=hash_token(secret), role=role, scopes=scopes, mode=mode,
                          created_by_id=repo.scope.user_id, expires_at=expires_at, rotated_from_id=rotated_from_id))
    return key, secret


def _creator_email(repo: OrgRepository) -> str | None:
    user = repo.session.get(User, repo.scope.user_id) if repo.scope.user_id else None
    return user.email if user else None


def create_key(repo: OrgRepository, *, name: str, scopes: list[str] | str, role: str = Role.MANAGER.value,
               mode: str = "live", expires_at: datetime | None = None, ip: str | None = None) -> NewKey:
    """A new key; its secret is in the result and nowhere else."""
    _require_manager(repo)
    now = utcnow()
    name, scope_list, mode = _check_name(name), parse_scopes(scopes), _check_mode(mode)
    role, expires_at = _check_role(repo, role), _check_expiry(expires_at, now)
    key, secret = _issue(repo, name=name, scopes=scope_list, role=role, mode=mode, expires_at=expires_at)
    audit.record(repo.session, "api_key.created", organization_id=repo.scope.organization_id,
                 actor_user_id=repo.scope.user_id, target_type="api_key", target_id=key.id, ip=ip, name=name,
                 key=label_of(key.prefix), scopes=scope_list, role=role, mode=mode,
                 expires_at=expires_at.isoformat() if expires_at else None)
    return NewKey(_view(key, _creator_email(repo), now), secret)


def list_keys(repo: OrgRepository) -> list[KeyView]:
    """Every key of the organisation, newest first, revoked and expired ones included (they explain audit
    entries). Managers and up may look; owners and admins change them."""
    repo.scope.require(VIEW_PERMISSION)
    now = utcnow()
    stmt = (select(ApiKey, User.email).outerjoin(User, col(User.id) == col(ApiKey.created_by_id))
            .where(col(ApiKey.organization_id) == repo.scope.organization_id).order_by(col(ApiKey.id).desc()))
    return [_view(key, email, now) for key, email in repo.session.exec(stmt).all()]


def revoke_key(repo: OrgRepository, key_id: int, *, ip: str | None = None) -> KeyView:
    """Stops the key at once: its next request is refused. Revoking a revoked key changes nothing."""
    _require_manager(repo)
    key = repo.get(ApiKey, key_id)
    now = utcnow()
    if key.revoked_at is None:
        key.revoked_at = now
        repo.session.add(key)
        audit.record(repo.session, "api_key.revoked", organization_id=repo.scope.organization_id,
                     actor_user_id=repo.scope.user_id, target_type="api_key", target_id=key.id, ip=ip,
                     name=key.name, key=label_of(key.prefix))
    repo.session.flush()
    return _view(key, None, now)


def rotate_key(repo: OrgRepository, key_id: int, *, overlap_hours: float = DEFAULT_OVERLAP_HOURS,
               ip: str | None = None) -> NewKey:
    """A new key with the old one's name, scopes, role, mode and lifetime; the old one keeps working for
    ``overlap_hours`` (0 to 7 days), so the systems using it can switch without a gap."""
    _require_manager(repo)
    if not 0 <= overlap_hours <= MAX_OVERLAP_HOURS:
        raise ValidationFailed(f"The overlap is between 0 and {MAX_OVERLAP_HOURS} hours (7 days).",
                               field="overlap_hours")
    old = repo.get(ApiKey, key_id)
    now = utcnow()
    if status_of(old, now) != "active":
        raise Conflict(f"Key {label_of(old.prefix)} is {status_of(old, now)}; create a new key instead.",
                       code="api_key_not_active")
    successor = repo.session.exec(repo.select(ApiKey).where(col(ApiKey.rotated_from_id) == old.id)).first()
    if successor is not None:
        raise Conflict(f"Key {label_of(old.prefix)} was already rotated into {label_of(successor.prefix)}; rotate "
                       "that one.", code="api_key_already_rotated")
    _check_role(repo, old.role)
    lifetime = old.expires_at - old.created_at if old.expires_at else None
    key, secret = _issue(repo, name=old.name, scopes=list(old.scopes), role=old.role, mode=old.mode,
                         expires_at=now + lifetime if lifetime else None, rotated_from_id=old.id)
    overlap_end = now + timedelta(hours=overlap_hours)
    old.expires_at = min(old.expires_at, overlap_end) if old.expires_at else overlap_end
    repo.session.add(old)
    repo.session.flush()
    audit.record(repo.session, "api_key.rotated", organization_id=repo.scope.organization_id,
                 actor_user_id=repo.scope.user_id, target_type="api_key", target_id=old.id, ip=ip, name=old.name,
                 key=label_of(old.prefix), new_key=label_of(key.prefix), new_key_id=key.id,
                 old_key_expires_at=old.expires_at.isoformat())
    return NewKey(_view(key, _creator_email(repo), now), secret)
