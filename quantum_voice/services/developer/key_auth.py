"""A request signed with an API key (``Authorization: Bearer qv_live_…`` or ``qv_test_…``): who it acts as,
whether it may make this request, and how often. A test key's scope is in test mode (``Scope.test_mode``): the
organisation's repository then shows and makes test calls and test leads only (services/tenancy.py).

Checked on every request, in this order: the key exists and is neither revoked nor expired (401), the key is within
its rate limit (429 with ``Retry-After``), the key's scopes allow the route (403). Nothing is cached, so a
revocation takes effect on the very next request. The secret itself is never logged or stored.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select, update

from quantum_voice.core.cache import get_cache
from quantum_voice.core.clock import utcnow
from quantum_voice.core.config import Settings, get_settings
from quantum_voice.core.db import session_scope
from quantum_voice.core.errors import NotAuthenticated, RateLimited
from quantum_voice.core.security import hash_token
from quantum_voice.models.accounts import Organization
from quantum_voice.models.developer import ApiKey
from quantum_voice.services import audit
from quantum_voice.services.accounts import AuthContext
from quantum_voice.services.developer.api_keys import LIVE_PREFIX, TEST_PREFIX, label_of
from quantum_voice.services.developer.scopes import check_request
from quantum_voice.services.ratelimit import Limit, RateLimiter

log = logging.getLogger(__name__)

LAST_USED_EVERY_SECONDS = 60


def is_api_key(token: str | None) -> bool:
    return token is not None and token.startswith((LIVE_PREFIX, TEST_PREFIX))


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _usable_key(session: Session, token: str, now: datetime) -> ApiKey:
    key = session.exec(select(ApiKey).where(ApiKey.key_hash == hash_token(token))).first()
    if key is None:
        raise NotAuthenticated("This API key is not valid. Check that it was copied whole, or create a new one on "
                               "the Developers page.", code="invalid_api_key")
    if key.revoked_at is not None:
        raise NotAuthenticated(f"API key {label_of(key.prefix)} was revoked on {_when(key.revoked_at)}.",
                               code="api_key_revoked")
    if key.expires_at is not None and key.expires_at <= now:
        raise NotAuthenticated(f"API key {label_of(key.prefix)} expired on {_when(key.expires_at)}. Create a new "
                               "one, or rotate keys before they expire.", code="api_key_expired")
    return key


def _within_rate(key: ApiKey, settings: Settings) -> None:
    per_minute = settings.api_key_requests_per_minute
    verdict = RateLimiter(get_cache(), "api-key").hit(str(key.id), Limit(per_minute, 60))
    if not verdict.allowed:
        wait = max(1, verdict.retry_after)
        raise RateLimited(f"API key {label_of(key.prefix)} made more than {per_minute} requests this minute. "
                          f"Try again in {wait} s.", retry_after=wait)


def _note_use(key_id: int, ip: str | None, now: datetime) -> None:
    """Last used time and address, at most once a minute per key, in a transaction of its own: the request's own
    transaction may run long, and holding the key's row for all of it would queue the key's other requests."""
    count, _ = get_cache().incr(f"api-key-used:{key_id}", LAST_USED_EVERY_SECONDS)
    if count != 1:
        return
    try:
        with session_scope() as session:
            session.exec(update(ApiKey).where(col(ApiKey.id) == key_id)  # type: ignore[call-overload]
                         .values(last_used_at=now, last_used_ip=(ip or None) and ip[:64]))
    except SQLAlchemyError as exc:  # a missed "last used" must not fail the request
        log.warning("could not record the use of API key #%s: %s", key_id, str(exc).splitlines()[0][:200])


def authenticate(session: Session, token: str, *, method: str, path: str, ip: str | None,
                 settings: Settings | None = None) -> AuthContext:
    """The organisation and role ``token`` acts with for ``method path`` (the route's template, e.g.
    ``/api/leads/{lead_id}``), or the ``DomainError`` that refuses it. Audit entries the request writes in
    ``session`` name the key."""
    settings = settings or get_settings()
    now = utcnow()
    key = _usable_key(session, token, now)
    _within_rate(key, settings)
    check_request(key.scopes, method, path, test_mode=key.mode == "test")
    organization = session.get(Organization, key.organization_id)
    if organization is None:  # deleted between the two reads
        raise NotAuthenticated("This API key is not valid.", code="invalid_api_key")
    _note_use(key.id, ip, now)  # type: ignore[arg-type]
    audit.attribute_to(session, api_key=label_of(key.prefix), api_key_id=key.id, api_key_name=key.name)
    return AuthContext(user=None, organization=organization, role=key.role, session_id=None, api_key=key)
