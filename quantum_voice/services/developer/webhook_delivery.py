"""Delivering webhook events: the outbox that ``webhook_events.emit`` fills, sent at least once by the worker.

One delivery at a time, as the notification outbox does (services/notifications/outbox.py):
1. claim (a short write transaction): due (pending, or retrying past its ``next_attempt_at``), or ``sending`` with
   an expired lease (its worker died) → ``sending`` with a lease and one more attempt, by compare-and-set on
   (status, attempt_count), so two workers never both take it;
2. send (no transaction open): ``POST`` the JSON payload, signed (``QV-Signature``, webhook_signature.py), with
   WEBHOOK_TIMEOUT_SECONDS, no redirects followed, behind the endpoint's breaker;
3. record (a short write transaction): one ``WebhookAttempt`` (code, first 1 KB of the answer, error, time
   taken); 2xx → succeeded; anything else → retrying after 30 s doubling up to an hour (or the receiver's
   Retry-After), until WEBHOOK_RETRY_HOURS after the first try, then failed.

An endpoint whose every attempt failed for WEBHOOK_DISABLE_AFTER_HOURS is disabled with the reason, its waiting
deliveries are failed, and the organisation's owners are emailed. Manual sends (a replay, "Send test event") are
one extra attempt each, never a new retry schedule.
"""

from __future__ import annotations

import email.utils
import json
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import and_, delete, or_, update
from sqlmodel import Session, col, select

from quantum_voice.core.clock import utcnow
from quantum_voice.core.config import Settings, get_settings
from quantum_voice.core.db import session_scope
from quantum_voice.core.errors import Conflict
from quantum_voice.core.resilience import CircuitBreaker, named_breaker
from quantum_voice.core.secretbox import SecretUnreadable, decrypt_secrets
from quantum_voice.models.accounts import Membership, Organization, Role, User
from quantum_voice.models.developer import DeliveryStatus as S
from quantum_voice.models.developer import Webhook, WebhookAttempt, WebhookDelivery
from quantum_voice.services import email as email_service
from quantum_voice.services.developer import webhook_signature, webhook_targets
from quantum_voice.services.developer.webhook_events import PING

log = logging.getLogger(__name__)

USER_AGENT = "QuantumVoice-Webhooks/1"
EXCERPT_BYTES = 1024
CLAIM_BATCH = 10  # deliveries claimed at once: each may take WEBHOOK_TIMEOUT_SECONDS, inside one lease
MAX_PER_RUN = 200  # deliveries one worker pass sends at most; the next pass takes the rest
PRUNE_BATCH = 1000
MAX_RETRY_AFTER_SECONDS = 86400.0  # a longer Retry-After is read as a day (retries stop after a day anyway)
WAITING = (S.PENDING.value, S.RETRYING.value)


@dataclass
class Claimed:
    """One claimed delivery and everything sending it needs, read in the claim's transaction."""

    delivery_id: int
    attempt: int
    webhook_id: int
    organization_id: int
    event_id: str
    event_type: str
    url: str
    body: bytes
    secret: str = ""
    manual: bool = False
    prior_status: str = S.PENDING.value
    prior_next_attempt_at: datetime | None = None
    skip: str | None = None  # why it is not sent after all (endpoint disabled, secret unreadable)


@dataclass
class Result:
    outcome: str  # succeeded | failed (an attempt that did not work) | paused (breaker open: not tried, not counted)
    status_code: int | None = None
    excerpt: str | None = None
    error: str | None = None
    duration_ms: int | None = None
    retry_after: float | None = None


@dataclass
class DisabledNotice:
    organization_id: int
    webhook_id: int
    url: str
    reason: str


# ---------------------------------------------------------------- claim

def _due_filter(now: datetime):
    due = and_(col(WebhookDelivery.status).in_(WAITING), col(WebhookDelivery.next_attempt_at) <= now)
    abandoned = and_(WebhookDelivery.status == S.SENDING.value, col(WebhookDelivery.lease_until) < now)
    return or_(due, abandoned)


def _take(session: Session, row: WebhookDelivery, now: datetime, settings: Settings) -> bool:
    """Compare-and-set ``row`` to sending with a lease and one more attempt; False when someone else took it."""
    result = session.execute(
        update(WebhookDelivery)
        .where(col(WebhookDelivery.id) == row.id, WebhookDelivery.status == row.status,
               WebhookDelivery.attempt_count == row.attempt_count)
        .values(status=S.SENDING.value, attempt_count=row.attempt_count + 1,
                lease_until=now + timedelta(seconds=settings.webhook_lease_seconds),
                first_attempt_at=row.first_attempt_at or now)
        .execution_options(synchronize_session=False))
    return result.rowcount == 1


def _prepare(session: Session, row: WebhookDelivery, prior: str, prior_next: datetime | None,
             manual: bool) -> Claimed:
    session.refresh(row)
    hook = session.get(Webhook, row.webhook_id)
    body = json.dumps(row.payload, separators=(",", ":"), ensure_ascii=False).encode()
    claimed = Claimed(row.id, row.attempt_count, row.webhook_id, row.organization_id, row.event_id,  # type: ignore
                      row.event_type, hook.url if hook else "", body, manual=manual, prior_status=prior,
                      prior_next_attempt_at=prior_next)
    if hook is None:
        claimed.skip = "The endpoint was deleted."
    elif not hook.enabled and not manual:
        claimed.skip = "Not sent: the endpoint is disabled. Enable it, then replay this delivery."
    else:
        try:
            claimed.secret = str(decrypt_secrets(hook.signing_secret).get("signing_secret") or "")
        except SecretUnreadable:
            claimed.skip = ("The signing secret cannot be read (the server's SECRET_KEY changed). Roll the "
                            "endpoint's secret.")
    return claimed


def _claim(limit: int, settings: Settings) -> list[Claimed]:
    now = utcnow()
    with session_scope() as session:
        rows = session.exec(select(WebhookDelivery).where(_due_filter(now))
                            .order_by(col(WebhookDelivery.next_attempt_at), col(WebhookDelivery.id))
                            .limit(limit)).all()
        claimed = []
        for row in rows:
            prior, prior_next = row.status, row.next_attempt_at
            if _take(session, row, now, settings):
                claimed.append(_prepare(session, row, prior, prior_next, manual=False))
        return claimed


def claim_one(delivery_id: int, settings: Settings | None = None) -> Claimed:
    """Claim one delivery for a manual attempt now, whatever its status; ``Conflict`` while a worker sends it."""
    settings, now = settings or get_settings(), utcnow()
    with session_scope() as session:
        row = session.get(WebhookDelivery, delivery_id)
        busy = row is not None and row.status == S.SENDING.value and row.lease_until and row.lease_until >= now
        if row is None or busy or not _take(session, row, now, settings):
            raise Conflict("This delivery is being sent right now. Look at its log again in a moment.",
                           code="delivery_in_progress")
        return _prepare(session, row, row.status, row.next_attempt_at, manual=True)


# ---------------------------------------------------------------- send (no transaction open)

def breaker(webhook_id: int, settings: Settings) -> CircuitBreaker:
    """One per endpoint: a receiver that is down does not cost every due delivery a timeout."""
    return named_breaker(f"webhook.{webhook_id}", failure_threshold=5, window_seconds=60.0, reset_seconds=60.0,
                         clock=lambda: utcnow().timestamp())


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "").strip()
    if not value:
        return None
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER_SECONDS)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return min(max(0.0, (when - utcnow()).total_seconds()), MAX_RETRY_AFTER_SECONDS)


def _excerpt(response: httpx.Response) -> str:
    taken = bytearray()
    for piece in response.iter_bytes():
        taken.extend(piece)
        if len(taken) >= EXCERPT_BYTES:
            break
    return bytes(taken[:EXCERPT_BYTES]).decode("utf-8", errors="replace")


def headers_for(claimed: Claimed, timestamp: int) -> dict[str, str]:
    return {"Content-Type": "application/json", "User-Agent": USER_AGENT, "QV-Event-Id": claimed.event_id,
            "QV-Event-Type": claimed.event_type,
            webhook_signature.HEADER: webhook_signature.sign(claimed.body, claimed.secret, timestamp)}


def _post(claimed: Claimed, settings: Settings) -> Result:
    headers = headers_for(claimed, int(utcnow().timestamp()))
    started = time.monotonic()
    try:
        with httpx.Client(timeout=settings.webhook_timeout_seconds, follow_redirects=False) as client:
            with client.stream("POST", claimed.url, content=claimed.body, headers=headers) as response:
                excerpt = _excerpt(response)
    except httpx.TimeoutException:
        return Result("failed", error=f"No answer within {settings.webhook_timeout_seconds:g} s.",
                      duration_ms=int((time.monotonic() - started) * 1000))
    except (httpx.HTTPError, httpx.InvalidURL, ValueError, OSError) as exc:
        return Result("failed", error=f"Could not reach {claimed.url} ({type(exc).__name__}).",
                      duration_ms=int((time.monotonic() - started) * 1000))
    duration = int((time.monotonic() - started) * 1000)
    code = response.status_code
    if 200 <= code < 300:
        return Result("succeeded", code, excerpt, None, duration)
    error = f"The endpoint answered HTTP {code}."
    if 300 <= code < 400:
        error += " Redirects are not followed: use the final address."
    retry_after = _retry_after(response) if code in (429, 503) else None
    return Result("failed", code, excerpt, error, duration, retry_after)


def send(claimed: Claimed, settings: Settings) -> Result:
    """Send one claimed delivery. Touches no database; never raises for the receiver's failure."""
    if claimed.skip is not None:
        return Result("failed", error=claimed.skip)
    refused = webhook_targets.refusal(claimed.url, settings)
    if refused is not None:
        return Result("failed", error=refused)
    gate = breaker(claimed.webhook_id, settings)
    if not claimed.manual and not gate.allow():
        return Result("paused", error="The endpoint failed repeatedly in the last minute; paused briefly.")
    result = _post(claimed, settings)
    if result.outcome == "succeeded" or (result.status_code is not None and result.status_code < 500
                                         and result.status_code != 429):
        gate.record_success()  # it answered: the endpoint is up, whatever it thought of the request
    else:
        gate.record_failure()
    return result


# ---------------------------------------------------------------- record

def backoff_seconds(attempt: int, retry_after: float | None, settings: Settings) -> float:
    """Wait after failed try number ``attempt``: base × 2^(attempt-1) capped, or longer if the receiver asked."""
    delay = min(settings.webhook_retry_base_seconds * (2 ** max(0, attempt - 1)), settings.webhook_retry_max_seconds)
    return max(delay, retry_after or 0.0)


def _next_status(row: WebhookDelivery, claimed: Claimed, result: Result, now: datetime,
                 settings: Settings) -> tuple[str, datetime | None]:
    if result.outcome == "succeeded":
        return S.SUCCEEDED.value, None
    if claimed.manual:  # one extra try: the delivery keeps the schedule it had, or its final status
        if claimed.prior_status in WAITING and claimed.event_type != PING and claimed.prior_next_attempt_at:
            return S.RETRYING.value, claimed.prior_next_attempt_at
        return (S.SUCCEEDED.value if claimed.prior_status == S.SUCCEEDED.value else S.FAILED.value), None
    deadline = (row.first_attempt_at or now) + timedelta(hours=settings.webhook_retry_hours)
    if claimed.skip is not None or now >= deadline:
        return S.FAILED.value, None
    wait = backoff_seconds(row.attempt_count, result.retry_after, settings)
    return S.RETRYING.value, min(now + timedelta(seconds=wait), deadline)


def _note_failure(session: Session, hook: Webhook, error: str | None, now: datetime,
                  settings: Settings) -> DisabledNotice | None:
    session.execute(update(Webhook).where(col(Webhook.id) == hook.id)
                    .values(consecutive_failures=Webhook.consecutive_failures + 1)
                    .execution_options(synchronize_session=False))
    session.execute(update(Webhook).where(col(Webhook.id) == hook.id, col(Webhook.failing_since).is_(None))
                    .values(failing_since=now).execution_options(synchronize_session=False))
    session.refresh(hook)
    limit = timedelta(hours=settings.webhook_disable_after_hours)
    if not hook.enabled or hook.failing_since is None or now - hook.failing_since < limit:
        return None
    hours = f"{settings.webhook_disable_after_hours:g}"
    reason = (f"Disabled automatically: every delivery failed for {hours} hours "
              f"({hook.consecutive_failures} attempts; the last: {error or 'no answer'})")[:300]
    taken = session.execute(update(Webhook).where(col(Webhook.id) == hook.id, col(Webhook.enabled).is_(True))
                            .values(enabled=False, disabled_reason=reason, disabled_at=now, updated_at=now)
                            .execution_options(synchronize_session=False))
    if taken.rowcount != 1:
        return None  # another worker disabled it a moment ago (and emails the owners)
    session.execute(update(WebhookDelivery)
                    .where(WebhookDelivery.webhook_id == hook.id, col(WebhookDelivery.status).in_(WAITING))
                    .values(status=S.FAILED.value, next_attempt_at=None,
                            last_error="Not sent: the endpoint was disabled after failing for a day.")
                    .execution_options(synchronize_session=False))
    log.warning("webhook endpoint %s disabled: %s", hook.id, reason)
    return DisabledNotice(hook.organization_id, hook.id, hook.url, reason)  # type: ignore[arg-type]


def _record(claimed: Claimed, result: Result, settings: Settings) -> DisabledNotice | None:
    now = utcnow()
    with session_scope() as session:
        row = session.get(WebhookDelivery, claimed.delivery_id)
        if row is None or row.status != S.SENDING.value or row.attempt_count != claimed.attempt:
            return None  # deleted with its endpoint, or taken over by another worker after our lease ran out
        row.lease_until = None
        if result.outcome == "paused":
            row.status = claimed.prior_status if claimed.prior_status in WAITING else S.RETRYING.value
            row.attempt_count -= 1
            if row.attempt_count == 0:
                row.first_attempt_at = None  # not tried yet: its 24 hours have not started
            row.next_attempt_at = now + timedelta(seconds=60)
            session.add(row)
            return None
        session.add(WebhookAttempt(organization_id=row.organization_id, delivery_id=row.id, number=row.attempt_count,
                                   manual=claimed.manual, attempted_at=now, status_code=result.status_code,
                                   response_excerpt=result.excerpt, error=result.error,
                                   duration_ms=result.duration_ms))
        row.last_status_code, row.last_error = result.status_code, result.error
        row.last_duration_ms = result.duration_ms
        row.status, row.next_attempt_at = _next_status(row, claimed, result, now, settings)
        if result.outcome == "succeeded":
            row.delivered_at = now
        session.add(row)
        hook = session.get(Webhook, claimed.webhook_id)
        if hook is None or claimed.skip is not None:
            return None
        if result.outcome == "succeeded":
            hook.consecutive_failures, hook.failing_since = 0, None
            session.add(hook)
            return None
        log.info("webhook delivery %s (%s to endpoint %s) attempt %d failed: %s", row.id, row.event_type, hook.id,
                 row.attempt_count, result.error)
        return _note_failure(session, hook, result.error, now, settings)


# ---------------------------------------------------------------- the owners hear of a disabled endpoint

def _owner_emails(session: Session, organization_id: int) -> list[str]:
    return list(session.exec(select(User.email).join(Membership, col(Membership.user_id) == col(User.id)).where(
        Membership.organization_id == organization_id, Membership.role == Role.OWNER.value,
        col(User.is_active).is_(True)).order_by(col(User.id))).all())


def _email_owners(notice: DisabledNotice, settings: Settings) -> None:
    with session_scope() as session:
        owners = _owner_emails(session, notice.organization_id)
        org = session.get(Organization, notice.organization_id)
    subject = "A webhook endpoint was disabled"
    text = (f"The webhook endpoint {notice.url} of {org.name if org else 'your organisation'} was disabled.\n\n"
            f"{notice.reason}.\n\nEvents are not sent to it while it is disabled. Fix the receiver, then enable "
            f"the endpoint again on the Developers page ({settings.app_url.rstrip('/')}/developers); failed "
            "deliveries can be replayed from its delivery log.\n")
    sent = [email_service.transmit(email_service.OutgoingEmail(
        to=address, subject=subject, text=text, kind="webhook_disabled", organization_id=notice.organization_id),
        settings) for address in owners]
    with session_scope() as session:
        for record in sent:
            email_service.record(session, record)


# ---------------------------------------------------------------- entry points

def _finish(claimed: Claimed, result: Result, settings: Settings) -> None:
    try:
        notice = _record(claimed, result, settings)
    except Exception:  # the delivery stays "sending" and is retried after its lease: at least once
        log.exception("could not record the outcome of webhook delivery %s", claimed.delivery_id)
        return
    if notice is not None:
        try:
            _email_owners(notice, settings)
        except Exception:
            log.exception("could not email the owners about disabled webhook endpoint %s", notice.webhook_id)


def deliver_due(*, limit: int = CLAIM_BATCH, settings: Settings | None = None) -> int:
    """Claim up to ``limit`` due deliveries, send each (no transaction open meanwhile), record how it went.
    Returns how many were claimed."""
    settings = settings or get_settings()
    claimed = _claim(limit, settings)
    for item in claimed:
        _finish(item, send(item, settings), settings)
    return len(claimed)


def deliver_all_due(*, max_rows: int = MAX_PER_RUN, settings: Settings | None = None) -> int:
    """``deliver_due`` until nothing is due (or ``max_rows``): the worker's periodic pass and its job."""
    total = 0
    while total < max_rows:
        claimed = deliver_due(limit=min(CLAIM_BATCH, max_rows - total), settings=settings)
        if not claimed:
            break
        total += claimed
    return total


def deliver_job(_args: dict[str, Any]) -> None:
    deliver_all_due()


def deliver_now(delivery_id: int, settings: Settings | None = None) -> Result:
    """One manual attempt of one delivery, now (a replay, or a test event). Call with no transaction open."""
    settings = settings or get_settings()
    claimed = claim_one(delivery_id, settings)
    result = send(claimed, settings)
    _finish(claimed, result, settings)
    return result


def prune_old_deliveries(settings: Settings | None = None) -> int:
    """Delete finished deliveries (and their attempts) older than WEBHOOK_LOG_RETENTION_DAYS, a batch at a time."""
    settings = settings or get_settings()
    cutoff = utcnow() - timedelta(days=settings.webhook_log_retention_days)
    with session_scope() as session:
        ids = list(session.exec(select(WebhookDelivery.id).where(
            col(WebhookDelivery.created_at) < cutoff,
            col(WebhookDelivery.status).in_((S.SUCCEEDED.value, S.FAILED.value))).limit(PRUNE_BATCH)).all())
        if ids:
            session.execute(delete(WebhookAttempt).where(col(WebhookAttempt.delivery_id).in_(ids)))
            session.execute(delete(WebhookDelivery).where(col(WebhookDelivery.id).in_(ids)))
    return len(ids)
