"""The notification outbox: queued with the lead, delivered at least once by the background worker.

``queue_lead_notifications`` writes one ``NotificationDelivery`` per channel of the lead's band, in the caller's
transaction, keyed by (lead, channel, band): queuing again never adds a second one. After the commit a job asks
the worker to deliver; the worker's periodic pass picks up anything else that is due (retries, digests, work of a
worker that died).

Delivering one row:
1. claim (a short write transaction): pending and due, or sending with an expired lease → ``sending``, a lease,
   one more attempt. The claim is a compare-and-set on (status, attempts), so two workers never both take a row;
2. send (no transaction open): through the channel's route and breaker, with the row's idempotency key, the same
   on every attempt;
3. record (a short write transaction): sent; or pending again after an exponential backoff (or the receiver's
   Retry-After); or failed for good. Each final outcome is a ``notified`` activity on the lead.

A worker dying between 1 and 3 leaves the row ``sending``; after its lease it is claimed again and sent again
(at least once); the receiver can drop the repeat by its idempotency key.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from quantum_voice.core.clock import utcnow
from quantum_voice.core.config import Settings, get_settings
from quantum_voice.core.db import session_scope
from quantum_voice.core.jobs import Job, enqueue_after_commit
from quantum_voice.core.resilience import CircuitOpen
from quantum_voice.models.campaigns import Campaign
from quantum_voice.models.handoff import Handoff
from quantum_voice.models.leads import ActivityKind, Lead, LeadActivity
from quantum_voice.models.notifications import NotificationChannel as C
from quantum_voice.models.notifications import NotificationDelivery, NotificationStatus as S
from quantum_voice.services import email as email_service
from quantum_voice.services.notifications import dispatch, messages, policy
from quantum_voice.services.notifications.channels import DeliveryFailed, Notice
from quantum_voice.services.tenancy import OrgRepository

log = logging.getLogger(__name__)

DELIVER_JOB = "notifications.deliver"
MISSED_HANDOFF = "handoff"  # the ``band`` of a missed hand-off's rows: sent at once, whatever the lead's band
ERASED = "The person was erased before the notification went out."


def idempotency_key(lead_id: int, channel: str, band: str) -> str:
    return f"qv-lead-{lead_id}-{channel}-{band}"


def next_digest_at(after: datetime, hour_utc: int) -> datetime:
    """The first daily digest time (``hour_utc``:00 UTC) strictly after ``after``."""
    slot = after.replace(hour=hour_utc, minute=0, second=0, microsecond=0)
    return slot if slot > after else slot + timedelta(days=1)


# ---------------------------------------------------------------- queuing

def _activity(session: Session, row: NotificationDelivery, status: str, error: str | None) -> None:
    session.add(LeadActivity(organization_id=row.organization_id, lead_id=row.lead_id, kind=ActivityKind.NOTIFIED.value,
                             details={"channel": row.channel, "status": status, "attempt": row.attempts,
                                      "error": error, "band": row.band}))


def queue_lead_notifications(repo: OrgRepository, lead: Lead) -> list[NotificationDelivery]:
    """Queue the notifications of ``lead``'s band as its campaign (or the defaults) says, once per (lead, channel,
    band); returns them (those queued before included); none for a lead from a test call. A channel the
    organisation has not connected is stored as ``skipped`` with the reason, and logged on the lead. Runs in the
    caller's transaction; delivery starts after its commit."""
    session, settings, now = repo.session, get_settings(), utcnow()
    if lead.id is None:
        session.flush()
    if lead.erased_at is not None or lead.is_test:
        return []  # test and simulator calls alert no one, like their hand-offs; "Send test" checks a channel
    campaign = session.get(Campaign, lead.campaign_id) if lead.campaign_id else None
    queued, pending = [], False
    for channel in policy.channels_for(campaign, lead.band):
        key = idempotency_key(lead.id, channel, lead.band)
        row = session.exec(repo.select(NotificationDelivery).where(NotificationDelivery.idempotency_key == key)).first()
        if row is None:
            row = _new_delivery(repo, lead, channel, key, now, settings)
        queued.append(row)
        pending = pending or row.status == S.PENDING.value
    if pending:
        enqueue_after_commit(session, Job(DELIVER_JOB))
    return queued


def queue_missed_handoff(repo: OrgRepository, lead: Lead, handoff: Handoff) -> list[NotificationDelivery]:
    """A caller asked for a person and no one took the call: the team hears at once, by email and on Slack when
    connected, whatever the lead's band (rows of the kind ``MISSED_HANDOFF``, one per hand-off and channel)."""
    if lead.erased_at is not None or lead.is_test:
        return []
    rows = []
    for channel in (C.EMAIL.value, C.SLACK.value):
        key = f"qv-handoff-{handoff.id}-{channel}"
        row = repo.session.exec(repo.select(NotificationDelivery).where(
            NotificationDelivery.idempotency_key == key)).first()
        if row is None and (channel == C.EMAIL.value or isinstance(
                dispatch.route_for(repo.session, repo.scope.organization_id, channel), dispatch.Route)):
            row = _new_delivery(repo, lead, channel, key, utcnow(), get_settings(), kind=MISSED_HANDOFF)
        if row is not None:
            rows.append(row)
    if any(row.status == S.PENDING.value for row in rows):
        enqueue_after_commit(repo.session, Job(DELIVER_JOB))
    return rows


def _new_delivery(repo: OrgRepository, lead: Lead, channel: str, key: str, now: datetime,
                  settings: Settings, *, kind: str | None = None) -> NotificationDelivery:
    due = next_digest_at(now, settings.notify_digest_hour_utc) if channel == C.DIGEST.value else now
    row = NotificationDelivery(organization_id=repo.scope.organization_id, lead_id=lead.id, channel=channel,
                               band=kind or lead.band, idempotency_key=key, next_attempt_at=due)
    route = dispatch.route_for(repo.session, repo.scope.organization_id, channel)
    if isinstance(route, str):
        row.status, row.last_error = S.SKIPPED.value, route
    try:
        with repo.session.begin_nested():  # another process may queue the same key at the same moment
            repo.add(row)
    except IntegrityError:
        return repo.session.exec(repo.select(NotificationDelivery).where(
            NotificationDelivery.idempotency_key == key)).one()
    if row.status == S.SKIPPED.value:
        _activity(repo.session, row, S.SKIPPED.value, row.last_error)
        repo.session.flush()
    return row


# ---------------------------------------------------------------- delivering

@dataclass
class Batch:
    """What one send carries: one row, or a day's digest rows of one organisation (one email)."""

    channel: str
    organization_id: int
    key: str
    rows: list[tuple[int, int]]  # (delivery id, its attempt number)
    notice: Notice | None = None
    route: dispatch.Route | None = None
    receipt: dict[str, Any] = field(default_factory=dict)
    skip: str | None = None  # why it is not sent after all (disconnected since, person erased)


def _due_filter(now: datetime):
    pending = and_(NotificationDelivery.status == S.PENDING.value, NotificationDelivery.next_attempt_at <= now)
    abandoned = and_(NotificationDelivery.status == S.SENDING.value, NotificationDelivery.lease_until < now)
    return or_(pending, abandoned)


def _claim_rows(session: Session, now: datetime, limit: int, settings: Settings) -> list[NotificationDelivery]:
    candidates = session.exec(select(NotificationDelivery).where(_due_filter(now))
                              .order_by(NotificationDelivery.next_attempt_at, NotificationDelivery.id)
                              .limit(limit)).all()
    claimed = []
    lease = now + timedelta(seconds=settings.notify_lease_seconds)
    for row in candidates:
        result = session.execute(
            update(NotificationDelivery)
            .where(NotificationDelivery.id == row.id, NotificationDelivery.status == row.status,
                   NotificationDelivery.attempts == row.attempts)
            .values(status=S.SENDING.value, lease_until=lease, attempts=row.attempts + 1, updated_at=now)
            .execution_options(synchronize_session=False))
        if result.rowcount == 1:
            session.refresh(row)
            claimed.append(row)
    return claimed


def _digest_day(row: NotificationDelivery, settings: Settings) -> date:
    return next_digest_at(row.created_at, settings.notify_digest_hour_utc).date()


def _batches(session: Session, rows: list[NotificationDelivery], settings: Settings) -> list[Batch]:
    batches: list[Batch] = []
    digests: dict[tuple[int, date], list[NotificationDelivery]] = defaultdict(list)
    for row in rows:
        if row.channel == C.DIGEST.value:
            digests[(row.organization_id, _digest_day(row, settings))].append(row)
        else:
            batches.append(_single_batch(session, row, settings))
    for (org_id, day), group in digests.items():
        batches.append(_digest_batch(session, org_id, day, group, settings))
    return batches


def _campaign_name(session: Session, lead: Lead) -> str | None:
    campaign = session.get(Campaign, lead.campaign_id) if lead.campaign_id else None
    return campaign.name if campaign else None


def _single_batch(session: Session, row: NotificationDelivery, settings: Settings) -> Batch:
    batch = Batch(row.channel, row.organization_id, row.idempotency_key, [(row.id, row.attempts)],
                  receipt=dict(row.receipt or {}))
    lead = session.get(Lead, row.lead_id)
    route = dispatch.route_for(session, row.organization_id, row.channel)
    if lead is None or lead.erased_at is not None:
        batch.skip = ERASED
    elif isinstance(route, str):
        batch.skip = route
    elif row.band == MISSED_HANDOFF:
        batch.route = route
        batch.notice = _missed_handoff_notice(session, row, lead, settings)
    else:
        batch.route = route
        batch.notice = messages.lead_notice(lead, campaign_name=_campaign_name(session, lead),
                                            app_url=settings.app_url, today=utcnow().date())
    return batch


def _missed_handoff_notice(session: Session, row: NotificationDelivery, lead: Lead, settings: Settings) -> Notice:
    handoff_id = int(row.idempotency_key.split("-")[2])
    handoff = session.get(Handoff, handoff_id)
    asked = (handoff.reason_detail if handoff is not None and handoff.reason == "request" else None) or (
        f"a person ({handoff.reason.replace('_', ' ')})" if handoff is not None else "a person")
    outcome = (handoff.notes or "No one took the call.") if handoff is not None else "No one took the call."
    return messages.missed_handoff_notice(lead, asked=asked, outcome=outcome.replace("\n", " "),
                                          campaign_name=_campaign_name(session, lead), app_url=settings.app_url,
                                          today=utcnow().date())


def _digest_batch(session: Session, org_id: int, day: date, group: list[NotificationDelivery],
                  settings: Settings) -> Batch:
    # The first row in the key: a day's rows split over two claims make two emails, and the receiver must not
    # drop the second as a repeat of the first.
    batch = Batch(C.DIGEST.value, org_id, f"qv-digest-{org_id}-{day.isoformat()}-{min(r.id for r in group)}",
                  [(row.id, row.attempts) for row in group], receipt=dict(group[0].receipt or {}))
    leads = [lead for row in group if (lead := session.get(Lead, row.lead_id)) is not None and lead.erased_at is None]
    route = dispatch.route_for(session, org_id, C.DIGEST.value)
    if isinstance(route, str):
        batch.skip = route
    elif not leads:
        batch.skip = ERASED
    else:
        batch.route = route
        batch.notice = messages.digest_notice(leads, app_url=settings.app_url, day=day)
    return batch


def _claim(limit: int, settings: Settings) -> list[Batch]:
    with session_scope() as session:
        rows = _claim_rows(session, utcnow(), limit, settings)
        return _batches(session, rows, settings) if rows else []


def backoff_seconds(attempt: int, retry_after: float | None, settings: Settings) -> float:
    """Wait after failed try number ``attempt``: base × 2^(attempt-1), at least what the receiver asked, capped."""
    delay = settings.notify_retry_base_seconds * (2 ** max(0, attempt - 1))
    if retry_after is not None:
        delay = max(delay, retry_after)
    return min(delay, settings.notify_retry_max_seconds)


@dataclass
class Outcome:
    status: str  # sent | retry | failed | skipped | paused (breaker open: not tried, not counted)
    error: str | None = None
    receipt: dict[str, Any] = field(default_factory=dict)
    retry_after: float | None = None
    email_records: list[email_service.Transmitted] = field(default_factory=list)


def _send(batch: Batch, settings: Settings) -> Outcome:
    if batch.skip is not None:
        return Outcome(S.SKIPPED.value, batch.skip)
    kind = "lead_digest" if batch.channel == C.DIGEST.value else "lead_notification"
    try:
        sent = dispatch.send(batch.route, batch.notice, batch.key, organization_id=batch.organization_id, kind=kind,
                             receipt=batch.receipt, settings=settings)
    except CircuitOpen:
        return Outcome("paused", f"{batch.route.transport} failed repeatedly; its circuit is open")
    except DeliveryFailed as failure:
        status = "retry" if failure.retryable else S.FAILED.value
        return Outcome(status, failure.message, {**batch.receipt, **failure.receipt}, failure.retry_after,
                       failure.records)
    return Outcome(S.SENT.value, None, {**batch.receipt, **sent.receipt}, email_records=sent.email_records)


def _record(batch: Batch, outcome: Outcome, settings: Settings) -> None:
    now = utcnow()
    with session_scope() as session:
        for record in outcome.email_records:
            email_service.record(session, record)
        for delivery_id, attempt in batch.rows:
            row = session.get(NotificationDelivery, delivery_id)
            if row is None or row.status != S.SENDING.value or row.attempts != attempt:
                continue  # erased with its lead, or taken over by another worker after our lease ran out
            _apply(session, row, outcome, now, settings)


def _apply(session: Session, row: NotificationDelivery, outcome: Outcome, now: datetime, settings: Settings) -> None:
    row.lease_until, row.updated_at, row.receipt = None, now, outcome.receipt or row.receipt
    row.last_error = outcome.error
    status = outcome.status
    if status == "paused":
        row.status, row.attempts = S.PENDING.value, row.attempts - 1
        row.next_attempt_at = now + timedelta(seconds=settings.notify_breaker_reset_seconds)
    elif status == "retry" and row.attempts < settings.notify_max_attempts:
        row.status = S.PENDING.value
        row.next_attempt_at = now + timedelta(seconds=backoff_seconds(row.attempts, outcome.retry_after, settings))
        log.warning("notification %s (%s) attempt %d failed, retrying at %s: %s", row.id, row.channel,
                    row.attempts, row.next_attempt_at.isoformat(timespec="seconds"), outcome.error)
    else:
        row.status = S.FAILED.value if status == "retry" else status
        if row.status == S.SENT.value:
            row.sent_at = now
        elif row.status == S.FAILED.value:
            log.warning("notification %s (%s) failed for good after %d attempt(s): %s", row.id, row.channel,
                        row.attempts, outcome.error)
        _activity(session, row, row.status, row.last_error)
    session.add(row)


def deliver_due(*, limit: int = 20, settings: Settings | None = None) -> int:
    """Claim up to ``limit`` due notifications, send them (no transaction open meanwhile) and record how each
    went. Returns how many rows were claimed. Never raises for a receiver's failure."""
    settings = settings or get_settings()
    batches = _claim(limit, settings)
    for batch in batches:
        outcome = _send(batch, settings)
        try:
            _record(batch, outcome, settings)
        except Exception:  # the row stays "sending" and is retried after its lease: at least once
            log.exception("could not record the outcome of notification(s) %s", [r for r, _ in batch.rows])
    return sum(len(b.rows) for b in batches)


def deliver_all_due(*, max_rows: int = 200, settings: Settings | None = None) -> int:
    """``deliver_due`` until nothing is due (or ``max_rows``): the worker's periodic pass and its job."""
    total = 0
    while total < max_rows:
        claimed = deliver_due(limit=min(20, max_rows - total), settings=settings)
        if not claimed:
            break
        total += claimed
    return total


def deliver_job(_args: dict[str, Any]) -> None:
    deliver_all_due()
